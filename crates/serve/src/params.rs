//! Validation of query parameters, and the schemas that tell the OpenAPI document exactly
//! what is accepted (so a client generated from it, or schemathesis, sends what passes).

use trident_index::{Day, Field, Period};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};

use crate::error::{ApiError, ApiResult};

/// A day: `YYYY-MM-DD`.
pub(crate) const DAY_PATTERN: &str = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";
/// A month: `YYYY-MM`.
pub(crate) const MONTH_PATTERN: &str = "^[0-9]{4}-(0[1-9]|1[0-2])$";
/// A year: `YYYY`.
pub(crate) const YEAR_PATTERN: &str = "^[0-9]{4}$";
/// A time of day: `HH:MM`.
pub(crate) const HHMM_PATTERN: &str = "^([01][0-9]|2[0-3]):[0-5][0-9]$";
/// An IP protocol: a name or a number 0..255.
pub(crate) const PROTOCOL_PATTERN: &str =
    "^(tcp|udp|icmp|icmpv6|sctp|[0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5])$";

/// The whole index when no period is given.
pub(crate) const ALL_TIME: Period = Period::Range(101, 99_991_231);

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Parses a `YYYY-MM-DD` parameter.
pub(crate) fn day(name: &str, s: &str) -> ApiResult<Day> {
    let b = s.as_bytes();
    let shaped = b.len() == 10 && b.get(4) == Some(&b'-') && b.get(7) == Some(&b'-');
    let ok = shaped
        && s.get(..4).is_some_and(digits)
        && s.get(5..7).is_some_and(digits)
        && s.get(8..).is_some_and(digits);
    ok.then(|| trident_index::parse_day(s))
        .flatten()
        .ok_or_else(|| ApiError::param(name, format!("{s:?} is not a day YYYY-MM-DD")))
}

/// Parses a `YYYY-MM` parameter into `YYYYMM`.
pub(crate) fn month(name: &str, s: &str) -> ApiResult<u32> {
    let b = s.as_bytes();
    let ok = b.len() == 7
        && b.get(4) == Some(&b'-')
        && s.get(..4).is_some_and(digits)
        && s.get(5..).is_some_and(digits);
    ok.then(|| trident_index::parse_month(s))
        .flatten()
        .ok_or_else(|| ApiError::param(name, format!("{s:?} is not a month YYYY-MM")))
}

/// Parses a `YYYY` parameter.
pub(crate) fn year(name: &str, s: &str) -> ApiResult<u32> {
    (s.len() == 4 && digits(s))
        .then(|| s.parse().ok())
        .flatten()
        .ok_or_else(|| ApiError::param(name, format!("{s:?} is not a year YYYY")))
}

/// Parses an `HH:MM` parameter into minutes after midnight.
pub(crate) fn hhmm(name: &str, s: &str) -> ApiResult<u32> {
    let bad = || ApiError::param(name, format!("{s:?} is not a time of day HH:MM"));
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 || !digits(h) || !digits(m) {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// Parses a field name (exact names only, as the schema lists them).
pub(crate) fn field(name: &str, s: &str) -> ApiResult<Field> {
    Field::ALL
        .into_iter()
        .find(|f| f.name() == s)
        .filter(|f| !f.is_per_packet())
        .ok_or_else(|| {
            ApiError::param(
                name,
                format!("unknown field {s:?}; GET /api/v1/fields lists the fields"),
            )
        })
}

/// The fields the API ranks (TCP sequence numbers excepted: one value per packet).
pub(crate) fn fields() -> impl Iterator<Item = Field> {
    Field::ALL.into_iter().filter(|f| !f.is_per_packet())
}

/// Parses a protocol parameter (`tcp`, `udp`, `icmp`, `icmpv6`, `sctp` or 0..255).
pub(crate) fn protocol(name: &str, s: &str) -> ApiResult<u8> {
    let named = matches!(s, "tcp" | "udp" | "icmp" | "icmpv6" | "sctp");
    let numeric = digits(s) && s.len() <= 3 && !(s.len() > 1 && s.starts_with('0'));
    (named || numeric)
        .then(|| trident_index::records::parse_protocol(s))
        .flatten()
        .ok_or_else(|| {
            ApiError::param(
                name,
                format!("{s:?} is not a protocol (tcp, udp, icmp, icmpv6, sctp or 0..255)"),
            )
        })
}

/// Parses an RFC 3339 time parameter.
pub(crate) fn time(name: &str, s: &str) -> ApiResult<trident_types::Timestamp> {
    // RFC 3339 date-time only: a date, `T`, a time and an offset (no bare date, no spaces).
    let shaped = s.len() > 19
        && matches!(s.as_bytes().get(10), Some(b'T' | b't'))
        && s.trim() == s
        && s.ends_with(|c: char| c == 'Z' || c == 'z' || c.is_ascii_digit())
        && (s.ends_with(['Z', 'z'])
            || s.get(s.len().saturating_sub(6)..)
                .is_some_and(|o| o.starts_with(['+', '-'])));
    shaped
        .then(|| trident_index::records::parse_rfc3339(s))
        .flatten()
        .ok_or_else(|| {
            ApiError::param(
                name,
                format!("{s:?} is not an RFC 3339 time (2014-08-01T12:00:00Z)"),
            )
        })
}

/// Checks a number against inclusive bounds.
pub(crate) fn bounded(name: &str, v: u64, lo: u64, hi: u64) -> ApiResult<u64> {
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(ApiError::param(name, format!("{v} is not in {lo}..={hi}")))
    }
}

/// Formats a `YYYYMMDD` day as `YYYY-MM-DD`.
pub(crate) fn day_string(d: Day) -> String {
    format!("{:04}-{:02}-{:02}", d / 10_000, (d / 100) % 100, d % 100)
}

/// The schema of a field name: the list of fields.
pub(crate) fn field_schema() -> impl Into<RefOr<Schema>> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(fields().map(Field::name)))
        .description(Some("A field of the index (GET /api/v1/fields)"))
}

fn pattern_schema(pattern: &str, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .description(Some(description))
}

/// Schema of a day parameter.
pub(crate) fn day_schema() -> impl Into<RefOr<Schema>> {
    pattern_schema(DAY_PATTERN, "A UTC day, YYYY-MM-DD")
}

/// Schema of a month parameter.
pub(crate) fn month_schema() -> impl Into<RefOr<Schema>> {
    pattern_schema(MONTH_PATTERN, "A month, YYYY-MM")
}

/// Schema of a year parameter.
pub(crate) fn year_schema() -> impl Into<RefOr<Schema>> {
    pattern_schema(YEAR_PATTERN, "A year, YYYY")
}

/// Schema of an HH:MM parameter.
pub(crate) fn hhmm_schema() -> impl Into<RefOr<Schema>> {
    pattern_schema(HHMM_PATTERN, "A UTC time of day, HH:MM")
}

/// Schema of a protocol parameter.
pub(crate) fn protocol_schema() -> impl Into<RefOr<Schema>> {
    pattern_schema(
        PROTOCOL_PATTERN,
        "An IP protocol: tcp, udp, icmp, icmpv6, sctp or its number",
    )
}

/// Free text: anything but control characters.
pub(crate) const TEXT_PATTERN: &str = "^[^\\x00-\\x1f\\x7f-\\x9f]+$";

/// Schema of a free-text parameter of 1 to `max` characters.
pub(crate) fn text_schema(max: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(TEXT_PATTERN))
}

/// Schema of an upload's name.
pub(crate) fn name_schema() -> impl Into<RefOr<Schema>> {
    text_schema(255).description(Some("A file name, kept as metadata only"))
}

/// Schema of an upload's sensor.
pub(crate) fn sensor_schema() -> impl Into<RefOr<Schema>> {
    text_schema(128).description(Some("A sensor name"))
}

/// Schema of an RFC 3339 time parameter.
pub(crate) fn time_schema() -> impl Into<RefOr<Schema>> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::DateTime,
        )))
        .description(Some("An RFC 3339 time, e.g. 2014-08-01T12:00:00Z"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validators_follow_the_patterns() {
        assert_eq!(day("day", "2014-08-26").ok(), Some(20_140_826));
        assert!(day("day", "20140826").is_err());
        assert!(day("day", "2014-13-01").is_err());
        assert_eq!(month("m", "2017-07").ok(), Some(201_707));
        assert!(month("m", "201707").is_err());
        assert_eq!(hhmm("from", "23:59").ok(), Some(1439));
        assert!(hhmm("from", "24:00").is_err());
        assert_eq!(protocol("p", "tcp").ok(), Some(6));
        assert_eq!(protocol("p", "255").ok(), Some(255));
        assert!(protocol("p", "256").is_err());
        assert!(protocol("p", "TCP").is_err());
        assert!(protocol("p", "06").is_err());
        assert!(field("field", "tcpseq").is_err());
        assert!(field("field", "dport").is_ok());
        assert_eq!(day_string(20_140_826), "2014-08-26");
        assert!(time("t", "2014-08-01T00:00:00Z").is_ok());
        assert!(time("t", "2014-08-01t00:00:00.5+02:00").is_ok());
        assert!(time("t", "2014-08-01").is_err());
        assert!(time("t", "2014-08-01 00:00:00Z").is_err());
        assert!(time("t", " 2014-08-01T00:00:00Z").is_err());
    }
}
