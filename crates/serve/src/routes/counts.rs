//! The count queries: `fields`, `top`, `series`, `isn`, `parallel` (the CLI's `trident top`,
//! `series`, `isn`), answered by either store through the `Store` trait.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, RawQuery, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use trident_index::{Field, Period, TopQuery};
use utoipa::{IntoParams, ToSchema};

use crate::annotate::annotate;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::params::{self, ALL_TIME};
use crate::state::AppState;

/// One field `top` ranks.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldInfo {
    /// The name to pass as `field`.
    pub name: String,
    /// What it counts.
    pub description: String,
    /// True for the fields potiron itself indexes.
    pub potiron: bool,
}

fn describe(f: Field) -> &'static str {
    match f {
        Field::Length => "IPv4 total length (potiron `length`)",
        Field::Protocol => "IP protocol number",
        Field::Ipsrc => "IPv4 source address",
        Field::Ipdst => "IPv4 destination address",
        Field::Ipttl => "IPv4 time to live",
        Field::Iptos => "IPv4 type of service, 0x..",
        Field::Sport => "TCP or UDP source port (-1 when absent)",
        Field::Dport => "TCP or UDP destination port (-1 when absent)",
        Field::Icmpcode => "ICMP code (255 when absent)",
        Field::Icmptype => "ICMP type (255 when absent)",
        Field::DnsQuery => "DNS query name",
        Field::TlsSni => "TLS server name indication",
        Field::Ja3 => "JA3 hash of a TLS ClientHello",
        Field::Ja4 => "JA4 of a TLS ClientHello",
        Field::HttpHost => "HTTP Host of a request",
        Field::HttpUserAgent => "HTTP User-Agent of a request",
        _ => "a field of the index",
    }
}

/// The fields `top`, `series` and `parallel` accept.
#[utoipa::path(get, path = "/api/v1/fields", tag = "counts",
    responses((status = 200, description = "The fields", body = [FieldInfo])))]
pub(crate) async fn fields() -> Json<Vec<FieldInfo>> {
    Json(
        params::fields()
            .map(|f| FieldInfo {
                name: f.name().to_owned(),
                description: describe(f).to_owned(),
                potiron: f.is_potiron(),
            })
            .collect(),
    )
}

/// Query of `GET /api/v1/top`. The period is `day`, else `month`, else `from`..`to`
/// (either end open), else everything.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TopParams {
    /// The field ranked.
    #[param(schema_with = params::field_schema, required = true)]
    field: String,
    /// Only this sensor.
    sensor: Option<String>,
    /// One day.
    #[param(schema_with = params::day_schema)]
    day: Option<String>,
    /// One month.
    #[param(schema_with = params::month_schema)]
    month: Option<String>,
    /// First day of a range.
    #[param(schema_with = params::day_schema)]
    from: Option<String>,
    /// Last day of a range (inclusive).
    #[param(schema_with = params::day_schema)]
    to: Option<String>,
    /// Rows (default 10).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Values left out, comma-separated.
    skip: Option<String>,
    /// Rank (protocol, value) pairs instead of values.
    per_protocol: Option<bool>,
}

/// The days a query covers.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodOut {
    /// First day, YYYY-MM-DD.
    pub from: String,
    /// Last day, YYYY-MM-DD (inclusive).
    pub to: String,
}

/// One ranked value.
#[derive(Debug, Serialize, ToSchema)]
pub struct TopRowOut {
    /// The value as potiron writes it.
    pub value: String,
    /// Packets with it in the period.
    pub count: u64,
    /// The service or protocol name, when the value is a well-known port or protocol.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotation: Option<String>,
    /// The IP protocol, with `per_protocol`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

/// Answer of `GET /api/v1/top`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TopOut {
    /// The field ranked.
    pub field: String,
    /// The days covered.
    pub period: PeriodOut,
    /// The values, most packets first, ties by value.
    pub rows: Vec<TopRowOut>,
}

/// Default rows of a top query.
const DEFAULT_TOP: u32 = 10;

fn period_of(p: &TopParams) -> ApiResult<Period> {
    // Every parameter given is validated, even one a more specific one overrides.
    let month = p
        .month
        .as_deref()
        .map(|m| params::month("month", m))
        .transpose()?;
    let from = p
        .from
        .as_deref()
        .map(|s| params::day("from", s))
        .transpose()?;
    let to = p.to.as_deref().map(|s| params::day("to", s)).transpose()?;
    if let Some(d) = &p.day {
        return Ok(Period::Day(params::day("day", d)?));
    }
    if let Some(m) = month {
        return Ok(Period::Month(m));
    }
    let (lo, hi) = ALL_TIME.bounds();
    Ok(Period::Range(from.unwrap_or(lo), to.unwrap_or(hi)))
}

fn period_out(p: Period) -> PeriodOut {
    let (a, b) = p.bounds();
    PeriodOut {
        from: params::day_string(a),
        to: params::day_string(b),
    }
}

/// Top values of a field.
#[utoipa::path(get, path = "/api/v1/top", tag = "counts", params(TopParams),
    responses(
        (status = 200, description = "Ranked values", body = TopOut),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 501, description = "The store cannot answer (Redis without combined keys for per_protocol)", body = ErrorBody),
    ))]
pub(crate) async fn top(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    q: Result<Query<TopParams>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(p) = q?;
    let field = params::field("field", &p.field)?;
    let period = period_of(&p)?;
    let limit = params::bounded("limit", p.limit.unwrap_or(DEFAULT_TOP).into(), 1, 1000)?;
    let skip: Vec<String> = p
        .skip
        .as_deref()
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let per_protocol = p.per_protocol.unwrap_or(false);
    let sensor = p.sensor.clone();
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let key = format!("top?{}", raw.unwrap_or_default());
    let st = state.clone();
    state
        .cached(key, move || async move {
            let rows = st
                .read(move |c| {
                    let q = TopQuery {
                        field,
                        sensor: sensor.as_deref(),
                        period,
                        limit,
                        skip: &skip,
                    };
                    if per_protocol {
                        Ok(c.store()
                            .top_per_protocol(&q)?
                            .into_iter()
                            .map(|r| TopRowOut {
                                annotation: annotate(field, &r.value).map(str::to_owned),
                                value: r.value,
                                count: r.count,
                                protocol: Some(r.protocol),
                            })
                            .collect::<Vec<_>>())
                    } else {
                        Ok(c.store()
                            .top(&q)?
                            .into_iter()
                            .map(|r| TopRowOut {
                                annotation: annotate(field, &r.value).map(str::to_owned),
                                value: r.value,
                                count: r.count,
                                protocol: None,
                            })
                            .collect())
                    }
                })
                .await?;
            let out = TopOut {
                field: field.name().to_owned(),
                period: period_out(period),
                rows,
            };
            serde_json::to_vec(&out)
                .map(Bytes::from)
                .map_err(ApiError::internal)
        })
        .await
}

/// Query of `GET /api/v1/series`. The period is `month`, else `year`, else the days from
/// the value's first to its last day in the index (at most a year, ending on the last).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SeriesParams {
    /// The field.
    #[param(schema_with = params::field_schema, required = true)]
    field: String,
    /// The value, as `top` writes it.
    value: String,
    /// Only this sensor.
    sensor: Option<String>,
    /// One month.
    #[param(schema_with = params::month_schema)]
    month: Option<String>,
    /// One year.
    #[param(schema_with = params::year_schema)]
    year: Option<String>,
}

/// A day's count.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayCount {
    /// The day, YYYY-MM-DD.
    pub day: String,
    /// Packets with the value that day.
    pub count: u64,
}

/// Answer of `GET /api/v1/series`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesOut {
    /// The field.
    pub field: String,
    /// The value.
    pub value: String,
    /// Every day of the period in order, zeros included.
    pub points: Vec<DayCount>,
}

/// Most days an open series spans.
const MAX_OPEN_SERIES_DAYS: usize = 366;

/// The calendar days from `from` to `to` (`YYYYMMDD`, inclusive), at most `cap`, the
/// latest kept.
fn calendar(from: u32, to: u32, cap: usize) -> Vec<u32> {
    let mut days = Vec::new();
    let (mut y, mut m) = (from / 10_000, (from / 100) % 100);
    let (ty, tm) = (to / 10_000, (to / 100) % 100);
    while (y, m) <= (ty, tm) {
        for d in 1..=trident_index::days_in_month(y * 100 + m) {
            let day = y * 10_000 + m * 100 + d;
            if day >= from && day <= to {
                days.push(day);
            }
        }
        m += 1;
        if m > 12 {
            m = 1;
            y += 1;
        }
    }
    if days.len() > cap {
        days.drain(..days.len() - cap);
    }
    days
}

/// Daily counts of one value of a field.
#[utoipa::path(get, path = "/api/v1/series", tag = "counts", params(SeriesParams),
    responses(
        (status = 200, description = "Daily counts", body = SeriesOut),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
    ))]
pub(crate) async fn series(
    State(state): State<AppState>,
    q: Result<Query<SeriesParams>, QueryRejection>,
) -> ApiResult<Json<SeriesOut>> {
    let Query(p) = q?;
    let field = params::field("field", &p.field)?;
    let year = p
        .year
        .as_deref()
        .map(|y| params::year("year", y))
        .transpose()?;
    let period = if let Some(m) = &p.month {
        Some(Period::Month(params::month("month", m)?))
    } else {
        year.map(|y| Period::Range(y * 10_000 + 101, y * 10_000 + 1231))
    };
    let (value, sensor) = (p.value.clone(), p.sensor.clone());
    let rows = state
        .read(move |c| {
            Ok(c.store()
                .series(field, &value, sensor.as_deref(), period.unwrap_or(ALL_TIME))?)
        })
        .await?;
    let days = match period {
        Some(Period::Month(m)) => calendar(m * 100 + 1, m * 100 + 31, usize::MAX),
        Some(per) => {
            let (a, b) = per.bounds();
            calendar(a, b, usize::MAX)
        }
        None => match (rows.first(), rows.last()) {
            (Some(a), Some(b)) => calendar(a.0, b.0, MAX_OPEN_SERIES_DAYS),
            _ => Vec::new(),
        },
    };
    let counts: std::collections::HashMap<u32, u64> = rows.into_iter().collect();
    Ok(Json(SeriesOut {
        field: field.name().to_owned(),
        value: p.value,
        points: days
            .into_iter()
            .map(|d| DayCount {
                day: params::day_string(d),
                count: counts.get(&d).copied().unwrap_or(0),
            })
            .collect(),
    }))
}

/// Query of `GET /api/v1/isn`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct IsnParams {
    /// The day.
    #[param(schema_with = params::day_schema, required = true)]
    day: String,
    /// Only this sensor.
    sensor: Option<String>,
    /// From this UTC time of day on.
    #[param(schema_with = params::hhmm_schema)]
    from: Option<String>,
    /// For this many minutes after `from` (default: to the end of the day).
    #[param(minimum = 1, maximum = 1440)]
    minutes: Option<u32>,
    /// At most this many points (default 5000).
    #[param(minimum = 1, maximum = 100000)]
    limit: Option<u32>,
}

/// One TCP packet's sequence numbers.
#[derive(Debug, Serialize, ToSchema)]
pub struct IsnPoint {
    /// Packet time, RFC 3339 UTC with milliseconds.
    pub ts: String,
    /// TCP source port.
    pub sport: Option<u16>,
    /// TCP destination port.
    pub dport: Option<u16>,
    /// Sequence number.
    pub seq: Option<u32>,
    /// Acknowledgement number.
    pub ack: Option<u32>,
}

/// Answer of `GET /api/v1/isn`.
#[derive(Debug, Serialize, ToSchema)]
pub struct IsnOut {
    /// The day.
    pub day: String,
    /// The samples in time order.
    pub points: Vec<IsnPoint>,
}

/// Microseconds in a minute.
const MICROS_PER_MINUTE: i64 = 60_000_000;

/// TCP ISN samples of a day (files ingested with ISN samples).
#[utoipa::path(get, path = "/api/v1/isn", tag = "counts", params(IsnParams),
    responses(
        (status = 200, description = "Samples", body = IsnOut),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 501, description = "The store keeps no ISN samples (Redis)", body = ErrorBody),
    ))]
pub(crate) async fn isn(
    State(state): State<AppState>,
    q: Result<Query<IsnParams>, QueryRejection>,
) -> ApiResult<Json<IsnOut>> {
    let Query(p) = q?;
    let day = params::day("day", &p.day)?;
    let from = p
        .from
        .as_deref()
        .map(|s| params::hhmm("from", s))
        .transpose()?;
    let minutes = p
        .minutes
        .map(|m| params::bounded("minutes", m.into(), 1, 1440))
        .transpose()?;
    let limit = params::bounded("limit", p.limit.unwrap_or(5000).into(), 1, 100_000)?;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let sensor = p.sensor.clone();
    // Whole-day samples are filtered by time of day here; the store reads the day's rows
    // in time order.
    let day_start_us = {
        let (y, m, d) = (i64::from(day / 10_000), (day / 100) % 100, day % 100);
        days_from_civil(y, m, d) * 86_400 * 1_000_000
    };
    let lo = day_start_us + i64::from(from.unwrap_or(0)) * MICROS_PER_MINUTE;
    let hi = minutes.map_or(i64::MAX, |m| {
        lo + i64::try_from(m).unwrap_or(1440) * MICROS_PER_MINUTE
    });
    let filtered = from.is_some() || minutes.is_some();
    let points = state
        .read(move |c| {
            let rows = c
                .store()
                .isn(sensor.as_deref(), day, if filtered { 0 } else { limit })?;
            Ok(rows
                .into_iter()
                .filter(|r| r.ts_us >= lo && r.ts_us < hi)
                .take(limit)
                .map(|r| IsnPoint {
                    ts: trident_index::records::format_rfc3339_ms(
                        trident_types::Timestamp::from_secs_nanos(
                            r.ts_us.div_euclid(1_000_000),
                            u32::try_from(r.ts_us.rem_euclid(1_000_000) * 1000).unwrap_or(0),
                        ),
                    ),
                    sport: r.sport,
                    dport: r.dport,
                    seq: r.seq,
                    ack: r.ack,
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(Json(IsnOut {
        day: params::day_string(day),
        points,
    }))
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Query of `GET /api/v1/parallel`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ParallelParams {
    /// The field.
    #[param(schema_with = params::field_schema, required = true)]
    field: String,
    /// The month.
    #[param(schema_with = params::month_schema, required = true)]
    month: String,
    /// Only this sensor.
    sensor: Option<String>,
    /// Top values taken from each day (default 10).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// One value's counts over the month.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParallelRow {
    /// The value.
    pub value: String,
    /// Its count on each day of `days`.
    pub counts: Vec<u64>,
}

/// Answer of `GET /api/v1/parallel`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParallelOut {
    /// The field.
    pub field: String,
    /// Every day of the month.
    pub days: Vec<String>,
    /// The union of each day's top values, month total descending.
    pub rows: Vec<ParallelRow>,
}

/// Parallel coordinates of the daily top values of a month.
#[utoipa::path(get, path = "/api/v1/parallel", tag = "counts", params(ParallelParams),
    responses(
        (status = 200, description = "The table", body = ParallelOut),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
    ))]
pub(crate) async fn parallel(
    State(state): State<AppState>,
    q: Result<Query<ParallelParams>, QueryRejection>,
) -> ApiResult<Json<ParallelOut>> {
    let Query(p) = q?;
    let field = params::field("field", &p.field)?;
    let month = params::month("month", &p.month)?;
    let limit = params::bounded("limit", p.limit.unwrap_or(10).into(), 1, 100)?;
    let limit = usize::try_from(limit).unwrap_or(10);
    let sensor = p.sensor.clone();
    let table = state
        .read(move |c| {
            Ok(c.store()
                .parallel(field, sensor.as_deref(), month, limit, &[])?)
        })
        .await?;
    Ok(Json(ParallelOut {
        field: field.name().to_owned(),
        days: table.days.into_iter().map(params::day_string).collect(),
        rows: table
            .rows
            .into_iter()
            .map(|(value, counts)| ParallelRow { value, counts })
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendars_and_epoch_days() {
        assert_eq!(calendar(20_140_227, 20_140_302, usize::MAX).len(), 4);
        assert_eq!(calendar(20_160_201, 20_160_231, usize::MAX).len(), 29);
        assert_eq!(calendar(20_140_101, 20_151_231, 366).len(), 366);
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2014, 8, 26), 16_308);
    }
}
