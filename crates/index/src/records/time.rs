//! RFC 3339 times: written UTC with milliseconds, read with any offset.

use trident_types::Timestamp;

/// Nanoseconds per millisecond.
const NANOS_PER_MILLI: u32 = 1_000_000;
/// Seconds per day.
const SECS_PER_DAY: i64 = 86_400;

/// `2014-08-01T12:00:00.123Z`: UTC, milliseconds (truncated, as `trident_types`' own
/// nanosecond format would print the same instant).
#[must_use]
pub fn format_rfc3339_ms(t: Timestamp) -> String {
    let (y, mo, d, h, mi, s) = t.utc_civil();
    format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z",
        t.subsec_nanos() / NANOS_PER_MILLI
    )
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's days-from-civil).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` of a time (UTC).
pub(crate) fn day_string(t: Timestamp) -> String {
    let (y, mo, d, ..) = t.utc_civil();
    format!("{y:04}-{mo:02}-{d:02}")
}

/// Start of the UTC day `YYYYMMDD`.
#[must_use]
pub(crate) fn day_start(day: u32) -> Timestamp {
    let (y, m, d) = (i64::from(day / 10_000), (day / 100) % 100, day % 100);
    Timestamp::from_secs_nanos(days_from_civil(y, m, d) * SECS_PER_DAY, 0)
}

fn num(s: &str) -> Option<u32> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Reads an RFC 3339 time (`2014-08-01T12:00:00Z`, `2014-08-01T14:00:00.5+02:00`, `t` or a
/// space for `T`, up to nanoseconds) or a bare date `2014-08-01` (its midnight UTC).
#[must_use]
pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    let date = s.get(..10)?;
    let y = num(date.get(0..4)?)?;
    let mo = num(date.get(5..7)?)?;
    let d = num(date.get(8..10)?)?;
    if date.get(4..5)? != "-" || date.get(7..8)? != "-" {
        return None;
    }
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(i64::from(y), mo, d);
    let rest = s.get(10..)?;
    if rest.is_empty() {
        return Some(Timestamp::from_secs_nanos(days * SECS_PER_DAY, 0));
    }
    let mut chars = rest.chars();
    if !matches!(chars.next(), Some('T' | 't' | ' ')) {
        return None;
    }
    let rest = chars.as_str();
    let h = num(rest.get(0..2)?)?;
    let mi = num(rest.get(3..5)?)?;
    let sec = num(rest.get(6..8)?)?;
    if rest.get(2..3)? != ":" || rest.get(5..6)? != ":" || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = rest.get(8..)?;
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let digits = frac.get(..n)?;
        let mut scaled = 0u32;
        for (i, b) in digits.bytes().enumerate().take(9) {
            let _ = i;
            scaled = scaled * 10 + u32::from(b - b'0');
        }
        for _ in n.min(9)..9 {
            scaled *= 10;
        }
        nanos = scaled;
        rest = frac.get(n..)?;
    }
    let offset_secs: i64 = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.get(0..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let oh = num(rest.get(1..3)?)?;
            let om = num(rest.get(4..6)?)?;
            if rest.get(3..4)? != ":" || rest.len() != 6 || oh > 23 || om > 59 {
                return None;
            }
            sign * i64::from(oh * 3600 + om * 60)
        }
    };
    let secs = days * SECS_PER_DAY + i64::from(h * 3600 + mi * 60 + sec) - offset_secs;
    Some(Timestamp::from_secs_nanos(secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let t = parse_rfc3339("2014-08-01T12:00:00.123Z").unwrap();
        assert_eq!(format_rfc3339_ms(t), "2014-08-01T12:00:00.123Z");
        let u = parse_rfc3339("2014-08-01T14:00:00.123456+02:00").unwrap();
        assert_eq!(format_rfc3339_ms(u), "2014-08-01T12:00:00.123Z");
        assert_eq!(parse_rfc3339("2014-08-01").unwrap(), day_start(20_140_801));
        assert_eq!(
            format_rfc3339_ms(Timestamp::from_secs_nanos(0, 999_999_999)),
            "1970-01-01T00:00:00.999Z"
        );
        assert_eq!(day_string(t), "2014-08-01");
        for bad in [
            "",
            "2014",
            "2014-13-01",
            "2014-08-01T25:00:00Z",
            "2014-08-01T12:00:00",
            "2014-08-01T12:00:00.Z",
            "2014-08-01T12:00:00+2",
        ] {
            assert!(parse_rfc3339(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn agrees_with_trident_types() {
        for secs in [0i64, 951_782_400, 1_406_894_400, 4_102_444_800, -86_400] {
            let t = Timestamp::from_secs_nanos(secs, 5_000_000);
            assert_eq!(parse_rfc3339(&t.to_string()), Some(t));
        }
    }
}
