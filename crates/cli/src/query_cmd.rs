//! `trident top` and `trident series`: questions answered from the index that `trident
//! ingest` built, the same from the embedded store and from Redis.

use std::io::{self, Write};

use anyhow::Result;
use clap::{Args, ValueEnum};
use trident_index::{Field, IsnSample, Period, TopQuery, parse_day, parse_month};

use crate::EXIT_OK;
use crate::EXIT_USAGE;
use crate::ingest_cmd::StoreArgs;

/// Output formats of the query commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum QueryFormat {
    /// Aligned columns for people.
    Table,
    /// One JSON array.
    Json,
    /// Comma-separated values with a header line.
    Csv,
}

#[derive(Args)]
#[command(after_help = "Examples:
  trident top --field dport --day 2014-08-26
  trident top --field ipsrc --sensor test-honeypot-1 --month 2014-08 --limit 5 --skip -1
  trident top --field tls_sni --day 2020-02-23 --format json")]
pub struct TopArgs {
    /// Field ranked: length, protocol, ipsrc, ipdst, ipttl (ttl), iptos (tos), sport, dport,
    /// icmpcode, icmptype, dns_query, tls_sni, ja3, ja4, http_host, http_user_agent (and
    /// tcpseq, tcpack with a Redis store).
    #[arg(long)]
    field: String,
    /// Only this sensor (default: all).
    #[arg(long)]
    sensor: Option<String>,
    /// One UTC day, YYYY-MM-DD.
    #[arg(long, conflicts_with = "month", required_unless_present = "month")]
    day: Option<String>,
    /// One month, YYYY-MM.
    #[arg(long)]
    month: Option<String>,
    /// At most N rows (0: all).
    #[arg(long, short = 'l', default_value_t = 10)]
    limit: usize,
    /// Leave this value out (repeatable), e.g. `--skip -1` for "no port".
    #[arg(long, allow_hyphen_values = true)]
    skip: Vec<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = QueryFormat::Table)]
    format: QueryFormat,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Args)]
#[command(after_help = "Example:
  trident series --field dport --value 22 --month 2014-08")]
pub struct SeriesArgs {
    /// Field (as for `trident top`).
    #[arg(long)]
    field: String,
    /// The value whose daily counts are wanted.
    #[arg(long, allow_hyphen_values = true)]
    value: String,
    /// Month, YYYY-MM.
    #[arg(long)]
    month: String,
    /// Only this sensor (default: all).
    #[arg(long)]
    sensor: Option<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = QueryFormat::Table)]
    format: QueryFormat,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Args)]
#[command(after_help = "Example:
  trident isn --day 2014-08-26 --format csv > isn.csv")]
pub struct IsnArgs {
    /// UTC day, YYYY-MM-DD.
    #[arg(long)]
    day: String,
    /// Only this sensor (default: all).
    #[arg(long)]
    sensor: Option<String>,
    /// At most N samples (0: all).
    #[arg(long, short = 'l', default_value_t = 0)]
    limit: usize,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = QueryFormat::Table)]
    format: QueryFormat,
    #[command(flatten)]
    store: StoreArgs,
}

fn field(name: &str) -> Option<Field> {
    let f = Field::parse(name);
    if f.is_none() {
        let names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
        eprintln!(
            "trident: unknown field {name:?}; fields: {}",
            names.join(", ")
        );
    }
    f
}

fn period(day: Option<&str>, month: Option<&str>) -> Option<Period> {
    match (day, month) {
        (Some(d), _) => parse_day(d).map(Period::Day).or_else(|| {
            eprintln!("trident: --day wants YYYY-MM-DD, got {d:?}");
            None
        }),
        (None, Some(m)) => parse_month(m).map(Period::Month).or_else(|| {
            eprintln!("trident: --month wants YYYY-MM, got {m:?}");
            None
        }),
        (None, None) => None,
    }
}

/// Writes (label, count) rows in the chosen format.
fn write_rows(format: QueryFormat, head: (&str, &str), rows: &[(String, u64)]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match format {
        QueryFormat::Table => {
            let w = rows
                .iter()
                .map(|(v, _)| v.chars().count())
                .chain([head.0.len()])
                .max()
                .unwrap_or(0);
            writeln!(out, "{:<w$}  {:>12}", head.0, head.1)?;
            for (v, n) in rows {
                writeln!(out, "{v:<w$}  {n:>12}")?;
            }
        }
        QueryFormat::Csv => {
            let mut c = csv::Writer::from_writer(out);
            c.write_record([head.0, head.1])?;
            for (v, n) in rows {
                c.write_record([v.as_str(), &n.to_string()])?;
            }
            c.flush()?;
        }
        QueryFormat::Json => {
            let arr: Vec<serde_json::Value> = rows
                .iter()
                .map(|(v, n)| serde_json::json!({ head.0: v, head.1: n }))
                .collect();
            serde_json::to_writer(&mut out, &arr)?;
            writeln!(out)?;
        }
    }
    Ok(())
}

pub fn run_top(args: &TopArgs) -> Result<u8> {
    let (Some(field), Some(period)) = (
        field(&args.field),
        period(args.day.as_deref(), args.month.as_deref()),
    ) else {
        return Ok(EXIT_USAGE);
    };
    let mut store = args.store.open()?;
    let rows = store.top(&TopQuery {
        field,
        sensor: args.sensor.as_deref(),
        period,
        limit: args.limit,
        skip: &args.skip,
    })?;
    let rows: Vec<(String, u64)> = rows.into_iter().map(|r| (r.value, r.count)).collect();
    write_rows(args.format, ("value", "count"), &rows)?;
    Ok(EXIT_OK)
}

pub fn run_series(args: &SeriesArgs) -> Result<u8> {
    let (Some(field), Some(period)) = (field(&args.field), period(None, Some(&args.month))) else {
        return Ok(EXIT_USAGE);
    };
    let mut store = args.store.open()?;
    let days = store.series(field, &args.value, args.sensor.as_deref(), period)?;
    let rows: Vec<(String, u64)> = days
        .into_iter()
        .map(|(d, n)| {
            (
                format!("{:04}-{:02}-{:02}", d / 10_000, (d / 100) % 100, d % 100),
                n,
            )
        })
        .collect();
    write_rows(args.format, ("day", "count"), &rows)?;
    Ok(EXIT_OK)
}

/// Microseconds per second.
const MICROS_PER_SEC: i64 = 1_000_000;

/// `YYYY-MM-DD HH:MM:SS.ffffff` (UTC), potiron's ISN time format.
fn isn_time(ts_us: i64) -> String {
    let (y, mo, d, h, mi, s) =
        trident_types::Timestamp::from_secs_nanos(ts_us.div_euclid(MICROS_PER_SEC), 0).utc_civil();
    format!(
        "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{:06}",
        ts_us.rem_euclid(MICROS_PER_SEC)
    )
}

fn write_isn(format: QueryFormat, rows: &[IsnSample]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    let opt = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_default();
    match format {
        QueryFormat::Table | QueryFormat::Csv => {
            let sep = if format == QueryFormat::Csv {
                ","
            } else {
                "  "
            };
            writeln!(out, "time{sep}sport{sep}dport{sep}seq{sep}ack")?;
            for r in rows {
                writeln!(
                    out,
                    "{}{sep}{}{sep}{}{sep}{}{sep}{}",
                    isn_time(r.ts_us),
                    opt(r.sport.map(u32::from)),
                    opt(r.dport.map(u32::from)),
                    opt(r.seq),
                    opt(r.ack)
                )?;
            }
        }
        QueryFormat::Json => {
            let arr: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "time": isn_time(r.ts_us),
                        "sport": r.sport,
                        "dport": r.dport,
                        "seq": r.seq,
                        "ack": r.ack,
                    })
                })
                .collect();
            serde_json::to_writer(&mut out, &arr)?;
            writeln!(out)?;
        }
    }
    Ok(())
}

pub fn run_isn(args: &IsnArgs) -> Result<u8> {
    let Some(Period::Day(day)) = period(Some(&args.day), None) else {
        return Ok(EXIT_USAGE);
    };
    let mut store = args.store.open()?;
    let rows = store.isn(args.sensor.as_deref(), day, args.limit)?;
    write_isn(args.format, &rows)?;
    Ok(EXIT_OK)
}
