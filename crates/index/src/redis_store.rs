//! Redis in potiron's current key layout (standard format, no combined keys), so potiron's own
//! tools read what trident wrote. Keys (see `shared/reference/potiron.md` §5):
//!
//! * `<sensor>:<YYYYMMDD>:<field>` sorted sets, member = the value as potiron writes it,
//!   score = packets, for potiron's twelve `JSON_FIELDS`; with combined keys (potiron's
//!   `-ck`, [`RedisStore::with_combined_keys`]) `<sensor>:<protocol name>:<YYYYMMDD>:<field>`
//!   instead, and the names in the `PROTOCOLS` set;
//! * `FILES` (set of base names), `<sensor>_DAYS` (set of days: the file-name day and every
//!   packet day), `PARAMETERS` (hash), `FIELDS` and `JSON_FIELDS` (lists).
//!
//! Exactly once, as potiron does it: a file is identified by its base name in `FILES`. The
//! whole file (all its `ZINCRBY`s, the `FILES` and `_DAYS` members, and `PARAMETERS` on
//! first use) goes in one `MULTI`/`EXEC` under `WATCH FILES`, so a crash or a lost connection
//! leaves either all of a file or none of it, and two concurrent ingests of one file count it
//! once. trident's application fields (DNS, TLS, HTTP) have no place in potiron's layout and
//! are not written here.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use redis::{Commands, Connection};

use crate::agg::{Day, Field, FileAgg, NO_PROTOCOL};
use crate::error::IndexError;
use crate::potiron::{JSON_FIELDS, RAW_FIELDS, protocol_key_name};
use crate::read::FileMeta;
use crate::{IngestOutcome, Period, Store, TopQuery, TopRow, rank};

/// potiron's `PARAMETERS.cmd` for the standard format, verbatim.
const POTIRON_CMD: &str = "tshark -n -q -Tfields -e frame.time_epoch -e ip.len -e ip.proto -e ip.src -e ip.dst -e ip.ttl -e ip.dsfield -e tcp.srcport -e udp.srcport -e tcp.dstport -e udp.dstport -e tcp.seq -e tcp.ack -e icmp.code -e icmp.type -E header=n -E separator=/s -E occurrence=f -Y 'ip.dst ne 255.255.255.255' -r {} -o tcp.relative_sequence_numbers:FALSE";

/// `PARAMETERS` as potiron's standard import writes it, after `ck` (`True`/`False`).
/// `enable_json` and `rootdir` describe potiron's own `-ej -o` options: trident writes no JSON
/// while ingesting, so `False`/`None`.
const PARAMETERS: [(&str, &str); 8] = [
    ("cmd", POTIRON_CMD),
    ("enable_json", "False"),
    ("format", "standard"),
    ("ip_score", "3"),
    ("port_score", "15"),
    ("rootdir", "None"),
    ("to_call", "_parse_ips_parse_ports_parse_protocol"),
    ("tshark_filter", ""),
];

/// Keys read per `SCAN` step when listing sensors.
const SCAN_COUNT: usize = 1000;

/// A Redis server written in potiron's layout.
pub struct RedisStore {
    con: Connection,
    combined: bool,
}

impl RedisStore {
    /// Connects to `redis://host:port[/db]` or `unix:///path.sock[?db=N]`.
    ///
    /// # Errors
    /// The URL is invalid or the server unreachable.
    pub fn open(url: &str) -> Result<Self, IndexError> {
        let client = redis::Client::open(url)?;
        let mut con = client.get_connection()?;
        // Queries follow the layout already in the database; new databases get plain keys.
        let ck: Option<String> = con.hget("PARAMETERS", "ck")?;
        Ok(RedisStore {
            con,
            combined: ck.as_deref() == Some("True"),
        })
    }

    /// Writes potiron's combined keys (`-ck`: one set of keys per IP protocol) instead of
    /// the plain ones. A database holds one layout: ingest refuses to mix them (potiron
    /// silently mixes them, its quirk Q14).
    #[must_use]
    pub fn with_combined_keys(mut self, combined: bool) -> Self {
        self.combined = combined;
        self
    }

    /// The keys of one sensor, day and field: one, or one per protocol with combined keys.
    fn field_keys(
        &mut self,
        sensor: &str,
        day: Day,
        field: Field,
    ) -> Result<Vec<String>, IndexError> {
        if !self.combined {
            return Ok(vec![format!("{sensor}:{day}:{}", field.name())]);
        }
        let protos: Vec<String> = self.con.smembers("PROTOCOLS")?;
        Ok(protos
            .iter()
            .map(|p| format!("{sensor}:{p}:{day}:{}", field.name()))
            .collect())
    }

    /// The connection, for tests and tools that read the keys directly.
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.con
    }

    fn sensors(&mut self, sensor: Option<&str>) -> Result<Vec<String>, IndexError> {
        if let Some(s) = sensor {
            return Ok(vec![s.to_owned()]);
        }
        let mut out = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg("*_DAYS")
                .arg("COUNT")
                .arg(SCAN_COUNT)
                .query(&mut self.con)?;
            out.extend(
                keys.iter()
                    .filter_map(|k| k.strip_suffix("_DAYS").map(str::to_owned)),
            );
            if next == 0 {
                break;
            }
            cursor = next;
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// The (sensor, day) pairs recorded in `<sensor>_DAYS` within the period.
    fn sensor_days(
        &mut self,
        sensor: Option<&str>,
        period: Period,
    ) -> Result<Vec<(String, Day)>, IndexError> {
        let (from, to) = period.bounds();
        let mut out = Vec::new();
        for s in self.sensors(sensor)? {
            let days: Vec<String> = self.con.smembers(format!("{s}_DAYS"))?;
            let mut days: Vec<Day> = days
                .iter()
                .filter_map(|d| d.parse().ok())
                .filter(|d| (from..=to).contains(d))
                .collect();
            days.sort_unstable();
            out.extend(days.into_iter().map(|d| (s.clone(), d)));
        }
        Ok(out)
    }
}

fn to_u64(score: f64) -> u64 {
    if score.is_finite() && score > 0.0 {
        // Scores are integral counts written by ZINCRBY.
        score.round() as u64
    } else {
        0
    }
}

impl Store for RedisStore {
    fn is_ingested(&mut self, meta: &FileMeta) -> Result<bool, IndexError> {
        Ok(self.con.sismember("FILES", &meta.name)?)
    }

    fn ingest(
        &mut self,
        meta: &FileMeta,
        agg: &FileAgg,
        force: bool,
    ) -> Result<IngestOutcome, IndexError> {
        if force {
            return Err(IndexError::Unsupported(
                "--force with a Redis store: potiron's layout records no per-file contribution to remove".to_owned(),
            ));
        }
        let (format, ck): (Option<String>, Option<String>) = redis::cmd("HMGET")
            .arg("PARAMETERS")
            .arg("format")
            .arg("ck")
            .query(&mut self.con)?;
        if let Some(f) = &format
            && f != "standard"
        {
            return Err(IndexError::Incompatible(format!(
                "PARAMETERS.format is {f:?}, trident writes \"standard\""
            )));
        }
        let ck_text = if self.combined { "True" } else { "False" };
        if let Some(c) = &ck
            && c != ck_text
        {
            return Err(IndexError::Incompatible(format!(
                "PARAMETERS.ck is {c:?}: the database holds {} keys; ingest {} combined keys",
                if c == "True" { "combined" } else { "plain" },
                if c == "True" { "with" } else { "without" },
            )));
        }
        let combined = self.combined;
        let mut days: Vec<Day> = agg.days.iter().copied().collect();
        days.extend(meta.file_day);
        let mut rows = 0usize;
        let done: bool = redis::transaction(&mut self.con, &["FILES"], |con, pipe| {
            pipe.clear();
            rows = 0;
            let seen: bool = con.sismember("FILES", &meta.name)?;
            if seen {
                return Ok(Some(false));
            }
            if format.is_none() {
                pipe.del("PARAMETERS").ignore();
                pipe.hset("PARAMETERS", "ck", ck_text).ignore();
                pipe.hset_multiple("PARAMETERS", &PARAMETERS).ignore();
                pipe.del("FIELDS").ignore();
                pipe.rpush("FIELDS", &RAW_FIELDS[..]).ignore();
                pipe.del("JSON_FIELDS").ignore();
                pipe.rpush("JSON_FIELDS", &JSON_FIELDS[..]).ignore();
            }
            pipe.sadd("FILES", &meta.name).ignore();
            pipe.sadd(format!("{}_DAYS", meta.sensor), &days).ignore();
            // potiron's plain keys sum over protocols; combined keys keep them apart.
            let mut merged: HashMap<(Day, i16, Field, String), u64> = HashMap::new();
            agg.for_each(|day, proto, field, value, count| {
                if field.is_potiron() {
                    let proto = if combined { proto } else { NO_PROTOCOL };
                    *merged
                        .entry((day, proto, field, value.to_owned()))
                        .or_insert(0) += count;
                }
            });
            let mut protocols = BTreeSet::new();
            for ((day, proto, field, value), count) in &merged {
                let key = if combined {
                    let name = protocol_key_name(u8::try_from(*proto).unwrap_or(u8::MAX));
                    let key = format!("{}:{name}:{day}:{}", meta.sensor, field.name());
                    protocols.insert(name);
                    key
                } else {
                    format!("{}:{day}:{}", meta.sensor, field.name())
                };
                pipe.zincr(key, value, *count).ignore();
            }
            if !protocols.is_empty() {
                let names: Vec<&str> = protocols.iter().map(AsRef::as_ref).collect();
                pipe.sadd("PROTOCOLS", names).ignore();
            }
            rows = merged.len();
            let r: Option<()> = pipe.query(con)?;
            Ok(r.map(|()| true))
        })?;
        Ok(if done {
            IngestOutcome::Ingested { rows }
        } else {
            IngestOutcome::Skipped
        })
    }

    fn top(&mut self, q: &TopQuery<'_>) -> Result<Vec<TopRow>, IndexError> {
        if !q.field.is_potiron() {
            return Err(IndexError::Unsupported(format!(
                "field {} is not in potiron's Redis layout",
                q.field
            )));
        }
        let mut sums: HashMap<String, u64> = HashMap::new();
        for (s, d) in self.sensor_days(q.sensor, q.period)? {
            for key in self.field_keys(&s, d, q.field)? {
                let members: Vec<(String, f64)> = self.con.zrange_withscores(key, 0, -1)?;
                for (m, score) in members {
                    *sums.entry(m).or_insert(0) += to_u64(score);
                }
            }
        }
        Ok(rank(sums, q.skip, q.limit))
    }

    fn series(
        &mut self,
        field: Field,
        value: &str,
        sensor: Option<&str>,
        period: Period,
    ) -> Result<Vec<(Day, u64)>, IndexError> {
        let mut per_day: BTreeMap<Day, u64> = BTreeMap::new();
        for (s, d) in self.sensor_days(sensor, period)? {
            for key in self.field_keys(&s, d, field)? {
                let score: Option<f64> = self.con.zscore(key, value)?;
                if let Some(sc) = score {
                    *per_day.entry(d).or_insert(0) += to_u64(sc);
                }
            }
        }
        Ok(per_day.into_iter().filter(|(_, n)| *n > 0).collect())
    }
}
