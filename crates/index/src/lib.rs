//! The traffic index: "what happened on my network on that day", answered from counts.
//!
//! A capture is read once into a [`FileAgg`] (per UTC day, IP protocol, field and value, the
//! number of packets), then handed to a [`Store`] that applies the whole contribution at
//! once: one SQLite transaction ([`SqliteStore`]) or one Redis `MULTI`/`EXEC` written in
//! potiron's current key layout ([`RedisStore`]), together with the record that the file was
//! ingested. That is why a file counts exactly once: the record and the counts land together
//! or not at all, and a file already recorded is skipped.
//!
//! Counting in memory first is also what makes ingest fast: a store receives one row per
//! distinct value of a file, never one per packet.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod agg;
pub mod annotate;
mod error;
pub mod potiron;
mod read;
pub mod records;
mod redis_store;
mod sqlite;

use std::collections::{BTreeSet, HashMap};

pub use agg::{
    AggOptions, AggRow, Day, Field, FileAgg, IsnSample, MAC_LOCAL, MAC_UNKNOWN, NO_PROTOCOL,
};
pub use error::IndexError;
pub use read::{
    FileMeta, KnownFiles, file_meta_unhashed, hash_file, read_capture, read_capture_unhashed,
};
pub use redis_store::{RedisLayout, RedisStore};
pub use sqlite::{DB_FILE, SqliteStore};

/// The period a query covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// One UTC day, `YYYYMMDD`.
    Day(Day),
    /// One month, `YYYYMM`.
    Month(u32),
    /// The days from the first to the second (`YYYYMMDD`, inclusive).
    Range(Day, Day),
}

impl Period {
    /// The first and last day (`YYYYMMDD`, inclusive) of the period.
    #[must_use]
    pub const fn bounds(self) -> (Day, Day) {
        match self {
            Period::Day(d) => (d, d),
            Period::Month(m) => (m * 100 + 1, m * 100 + 31),
            Period::Range(a, b) => (a, b),
        }
    }
}

/// A top-N query.
#[derive(Debug, Clone)]
pub struct TopQuery<'a> {
    /// The field ranked.
    pub field: Field,
    /// Only this sensor; every sensor when `None`.
    pub sensor: Option<&'a str>,
    /// The days covered.
    pub period: Period,
    /// At most this many rows (0: all).
    pub limit: usize,
    /// Values left out of the ranking (potiron's `--skip`).
    pub skip: &'a [String],
}

/// One ranked value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopRow {
    /// The value as potiron writes it.
    pub value: String,
    /// Packets with that value in the period.
    pub count: u64,
}

/// One ranked value of one IP protocol (potiron's combined keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolTopRow {
    /// The IP protocol as potiron names it in combined keys (`tcp`, `udp`, `icmp`, `#` for
    /// 99, the number for protocols potiron does not name, `none` for application fields).
    pub protocol: String,
    /// The value as potiron writes it.
    pub value: String,
    /// Packets with that value and protocol in the period.
    pub count: u64,
}

/// potiron's parallel-coordinates table: the union of each day's top values of a month,
/// with every value's count on every day of the month.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParallelTable {
    /// Every day of the month, `YYYYMMDD`, in order.
    pub days: Vec<Day>,
    /// (value, count per day, aligned with `days`), by month total descending then value.
    pub rows: Vec<(String, Vec<u64>)>,
}

/// What [`Store::ingest`] did with a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestOutcome {
    /// The file's counts were written.
    Ingested {
        /// Distinct counts written.
        rows: usize,
    },
    /// The file's earlier contribution was removed and the new one written (`--force`).
    Replaced {
        /// Distinct counts written.
        rows: usize,
    },
    /// The file was already ingested; nothing was written.
    Skipped,
}

/// A place counts are kept. Each call to [`Store::ingest`] applies one file's contribution
/// atomically: after a crash the file is either fully counted and recorded, or neither.
pub trait Store {
    /// True when the file (by the store's identity: content hash, or potiron's base name for
    /// Redis) is already recorded.
    ///
    /// # Errors
    /// The store failed.
    fn is_ingested(&mut self, meta: &FileMeta) -> Result<bool, IndexError>;

    /// True when the store identifies a file by its base name alone (Redis, as potiron
    /// does), so a file need not be hashed ([`read_capture_unhashed`]).
    fn identifies_by_name(&self) -> bool {
        false
    }

    /// Applies one file's counts, skipping it when already recorded unless `force`, which
    /// first removes the earlier contribution.
    ///
    /// # Errors
    /// The store failed; nothing of this file was written.
    fn ingest(
        &mut self,
        meta: &FileMeta,
        agg: &FileAgg,
        force: bool,
    ) -> Result<IngestOutcome, IndexError>;

    /// Values of a field ranked by count (descending), ties by value (ascending).
    ///
    /// # Errors
    /// The store failed.
    fn top(&mut self, q: &TopQuery<'_>) -> Result<Vec<TopRow>, IndexError>;

    /// Daily counts of one value of a field over a period, days without it left out.
    ///
    /// # Errors
    /// The store failed.
    fn series(
        &mut self,
        field: Field,
        value: &str,
        sensor: Option<&str>,
        period: Period,
    ) -> Result<Vec<(Day, u64)>, IndexError>;

    /// Like [`Store::top`], counted per IP protocol: one row per (protocol, value), ranked
    /// by count descending, then value, then protocol.
    ///
    /// # Errors
    /// The store failed, or keeps no per-protocol counts (Redis written without combined
    /// keys).
    fn top_per_protocol(&mut self, q: &TopQuery<'_>) -> Result<Vec<ProtocolTopRow>, IndexError>;

    /// Like [`Store::series`], per IP protocol: (day, protocol, count), by day then protocol.
    ///
    /// # Errors
    /// As [`Store::top_per_protocol`].
    fn series_per_protocol(
        &mut self,
        field: Field,
        value: &str,
        sensor: Option<&str>,
        period: Period,
    ) -> Result<Vec<(Day, String, u64)>, IndexError>;

    /// The parallel-coordinates table of a month (`YYYYMM`): the union of each day's top
    /// `limit` values (skipped values left out), each with its whole-day count on every day
    /// of the month (potiron's `parallel-coordinate.py`, without its quirk Q33 of summing
    /// only the protocols in whose top N a value appears).
    ///
    /// # Errors
    /// The store failed.
    fn parallel(
        &mut self,
        field: Field,
        sensor: Option<&str>,
        month: u32,
        limit: usize,
        skip: &[String],
    ) -> Result<ParallelTable, IndexError> {
        let days: Vec<Day> = (1..=days_in_month(month))
            .map(|d| month * 100 + d)
            .collect();
        let mut per_day: Vec<HashMap<String, u64>> = Vec::with_capacity(days.len());
        let mut chosen: BTreeSet<String> = BTreeSet::new();
        for &d in &days {
            let all = self.top(&TopQuery {
                field,
                sensor,
                period: Period::Day(d),
                limit: 0,
                skip,
            })?;
            let cut = if limit == 0 { all.len() } else { limit };
            chosen.extend(all.iter().take(cut).map(|r| r.value.clone()));
            per_day.push(all.into_iter().map(|r| (r.value, r.count)).collect());
        }
        let mut rows: Vec<(String, Vec<u64>)> = chosen
            .into_iter()
            .map(|v| {
                let counts = per_day
                    .iter()
                    .map(|m| m.get(&v).copied().unwrap_or(0))
                    .collect();
                (v, counts)
            })
            .collect();
        rows.sort_by(|a, b| {
            let (ta, tb): (u64, u64) = (a.1.iter().sum(), b.1.iter().sum());
            tb.cmp(&ta).then_with(|| a.0.cmp(&b.0))
        });
        Ok(ParallelTable { days, rows })
    }

    /// TCP ISN samples of one day (files ingested with ISN samples), in time order, at most
    /// `limit` (0: all).
    ///
    /// # Errors
    /// The store failed or keeps no ISN samples.
    fn isn(
        &mut self,
        sensor: Option<&str>,
        day: Day,
        limit: usize,
    ) -> Result<Vec<IsnSample>, IndexError> {
        let _ = (sensor, day, limit);
        Err(IndexError::Unsupported(
            "this store keeps no ISN samples (potiron keeps them in a separate --isn database)"
                .to_owned(),
        ))
    }
}

/// Sorts summed counts by count descending then value ascending, drops skipped values and
/// cuts to `limit` (0: no limit). Both stores rank through this, so they agree on ties.
#[must_use]
pub fn rank(sums: HashMap<String, u64>, skip: &[String], limit: usize) -> Vec<TopRow> {
    let mut rows: Vec<TopRow> = sums
        .into_iter()
        .filter(|(v, n)| *n > 0 && !skip.iter().any(|s| s == v))
        .map(|(value, count)| TopRow { value, count })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    if limit > 0 {
        rows.truncate(limit);
    }
    rows
}

/// Like [`rank`] for per-protocol sums keyed by (protocol, value): count descending, then
/// value, then protocol.
#[must_use]
pub fn rank_per_protocol(
    sums: HashMap<(String, String), u64>,
    skip: &[String],
    limit: usize,
) -> Vec<ProtocolTopRow> {
    let mut rows: Vec<ProtocolTopRow> = sums
        .into_iter()
        .filter(|((_, v), n)| *n > 0 && !skip.iter().any(|s| s == v))
        .map(|((protocol, value), count)| ProtocolTopRow {
            protocol,
            value,
            count,
        })
        .collect();
    rows.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.value.cmp(&b.value))
            .then_with(|| a.protocol.cmp(&b.protocol))
    });
    if limit > 0 {
        rows.truncate(limit);
    }
    rows
}

/// The name of an IP protocol number in per-protocol answers: potiron's combined-key name
/// (`tcp`, `#` for 99, the number when potiron has none), `none` for [`NO_PROTOCOL`].
#[must_use]
pub fn protocol_label(protocol: i16) -> String {
    u8::try_from(protocol).map_or_else(
        |_| "none".to_owned(),
        |p| potiron::protocol_key_name(p).into_owned(),
    )
}

/// Number of days of a month `YYYYMM` (Gregorian).
#[must_use]
pub const fn days_in_month(month: u32) -> u32 {
    let (y, m) = (month / 100, month % 100);
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses `YYYY-MM-DD` or `YYYYMMDD` into a [`Day`].
#[must_use]
pub fn parse_day(s: &str) -> Option<Day> {
    let digits: String = s.chars().filter(|c| *c != '-').collect();
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let d: Day = digits.parse().ok()?;
    let (m, dd) = ((d / 100) % 100, d % 100);
    ((1..=12).contains(&m) && (1..=31).contains(&dd)).then_some(d)
}

/// Parses `YYYY-MM` or `YYYYMM` into a month `YYYYMM`.
#[must_use]
pub fn parse_month(s: &str) -> Option<u32> {
    let digits: String = s.chars().filter(|c| *c != '-').collect();
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let m: u32 = digits.parse().ok()?;
    (1..=12).contains(&(m % 100)).then_some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_breaks_ties_by_value() {
        let sums: HashMap<String, u64> = [("80", 5), ("443", 5), ("53", 9), ("22", 1)]
            .into_iter()
            .map(|(v, n)| (v.to_owned(), n))
            .collect();
        let r = rank(sums.clone(), &[], 0);
        let order: Vec<&str> = r.iter().map(|t| t.value.as_str()).collect();
        assert_eq!(order, ["53", "443", "80", "22"]);
        let r = rank(sums, &["53".to_owned()], 2);
        let order: Vec<&str> = r.iter().map(|t| t.value.as_str()).collect();
        assert_eq!(order, ["443", "80"]);
    }

    #[test]
    fn dates_parse() {
        assert_eq!(parse_day("2014-08-26"), Some(20_140_826));
        assert_eq!(parse_day("20140826"), Some(20_140_826));
        assert_eq!(parse_day("2014-13-26"), None);
        assert_eq!(parse_month("2017-07"), Some(201_707));
        assert_eq!(parse_month("2017-00"), None);
        assert_eq!(Period::Month(201_707).bounds(), (20_170_701, 20_170_731));
        assert_eq!(days_in_month(202_402), 29);
        assert_eq!(days_in_month(190_002), 28);
        assert_eq!(days_in_month(201_404), 30);
        assert_eq!(protocol_label(6), "tcp");
        assert_eq!(protocol_label(NO_PROTOCOL), "none");
    }
}
