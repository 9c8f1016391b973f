//! Writing a file's records inside its ingest transaction, removing them, and every query
//! `trident serve` makes.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde_json::Value;
use trident_types::{MacAddr, Timestamp};

use super::build::{Records, host_key};
use super::merge::{ips_of, merge_records, names_of, service_key, str_of, strs_of, u64_of};
use super::schema::{FLOW_BULK_MIN, FLOW_BULK_RATIO, FLOW_INDEXES};
use super::time::{day_start, day_string};
use super::{
    BUCKET_SECONDS, Capture, FlowFilter, FlowRow, HostDetail, HostFilter, HostSort, HostSummary,
    Page, Prediction, RoleCount, RoleProb, SensorDays, ServiceEntry, SortOrder, Summary, Traffic,
    TrafficPoint, TrafficQuery, ip_key, page_limit,
};
use crate::agg::Day;
use crate::error::IndexError;
use crate::sqlite::SqliteStore;

/// Nanoseconds per second.
const NANOS_PER_SEC: i64 = 1_000_000_000;
/// Seconds per day.
const SECS_PER_DAY: i64 = 86_400;
/// Most buckets a traffic answer has; a longer period gets wider buckets.
pub const MAX_TRAFFIC_POINTS: i64 = 1500;

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn json_err(e: serde_json::Error) -> IndexError {
    IndexError::Incompatible(format!("stored JSON does not parse: {e}"))
}

/// A host key or address as the store spells it: a MAC in lower-case colon form, an IP
/// address in its canonical form, anything else as given.
#[must_use]
pub fn normalize_key(s: &str) -> String {
    let s = s.trim();
    if let Some(mac) = parse_mac(s) {
        return mac.to_string();
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return ip.to_string();
    }
    s.to_owned()
}

/// Parses `00:11:22:33:44:55` or `00-11-22-33-44-55` (either case).
#[must_use]
pub fn parse_mac(s: &str) -> Option<MacAddr> {
    let parts: Vec<&str> = s.split([':', '-']).collect();
    if parts.len() != 6 || parts.iter().any(|p| p.len() != 2) {
        return None;
    }
    let bytes: Vec<u8> = parts
        .iter()
        .map(|p| u8::from_str_radix(p, 16).ok())
        .collect::<Option<_>>()?;
    MacAddr::from_slice(&bytes)
}

/// Deletes every row `file_id` contributed besides its counts and returns the host keys
/// whose merged rows must be recomputed.
pub(crate) fn delete_file_records(
    tx: &Connection,
    file_id: i64,
) -> Result<BTreeSet<String>, IndexError> {
    let mut keys = BTreeSet::new();
    {
        let mut st = tx.prepare_cached(
            "SELECT key FROM host_files WHERE file_id = ?1
             UNION SELECT key FROM predictions WHERE file_id = ?1",
        )?;
        let mut rows = st.query([file_id])?;
        while let Some(r) = rows.next()? {
            keys.insert(r.get(0)?);
        }
    }
    for sql in [
        "DELETE FROM flow_records WHERE rowid IN (SELECT rowid FROM flows WHERE file_id = ?1)",
        "DELETE FROM flows WHERE file_id = ?1",
        "DELETE FROM host_files WHERE file_id = ?1",
        "DELETE FROM host_ips WHERE file_id = ?1",
        "DELETE FROM traffic WHERE file_id = ?1",
        "DELETE FROM days WHERE file_id = ?1",
        "DELETE FROM predictions WHERE file_id = ?1",
        "DELETE FROM file_records WHERE file_id = ?1",
    ] {
        tx.prepare_cached(sql)?.execute([file_id])?;
    }
    Ok(keys)
}

/// Writes one file's records (inside the caller's transaction) and returns the host keys
/// whose merged rows must be recomputed.
pub(crate) fn write_records(
    tx: &Connection,
    file_id: i64,
    sensor: &str,
    rec: &Records,
) -> Result<BTreeSet<String>, IndexError> {
    {
        let mut ins = tx.prepare_cached(
            "INSERT INTO traffic (sensor, minute, file_id, day, packets, bytes, first_ns, last_ns)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        let mut days: BTreeMap<i64, (u64, u64, i64, i64)> = BTreeMap::new();
        for m in &rec.traffic {
            let t = Timestamp::from_secs_nanos(m.minute, 0);
            let (y, mo, d, ..) = t.utc_civil();
            let day = y * 10_000 + i64::from(mo * 100 + d);
            let e = days
                .entry(day)
                .or_insert((0, 0, m.first.as_nanos(), m.last.as_nanos()));
            e.0 += m.packets;
            e.1 += m.bytes;
            e.2 = e.2.min(m.first.as_nanos());
            e.3 = e.3.max(m.last.as_nanos());
            ins.execute(params![
                sensor,
                m.minute,
                file_id,
                day,
                to_i64(m.packets),
                to_i64(m.bytes),
                m.first.as_nanos(),
                m.last.as_nanos()
            ])?;
        }
        let mut ins_day = tx.prepare_cached(
            "INSERT INTO days (sensor, day, file_id, packets, bytes, first_ns, last_ns)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for (day, (p, b, first, last)) in days {
            ins_day.execute(params![
                sensor,
                day,
                file_id,
                to_i64(p),
                to_i64(b),
                first,
                last
            ])?;
        }
    }
    write_flows(tx, file_id, sensor, &rec.flows)?;
    // A key could in principle name two inventory rows of one file; they are merged.
    let mut by_key: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for h in &rec.hosts {
        let Some(key) = host_key(h) else { continue };
        by_key
            .entry(key)
            .or_default()
            .push(serde_json::to_value(h).map_err(json_err)?);
    }
    let mut keys = BTreeSet::new();
    {
        let mut ins_host = tx.prepare_cached(
            "INSERT INTO host_files (file_id, key, sensor, first_ns, last_ns, packets, record)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        let mut ins_ip = tx.prepare_cached(
            "INSERT OR IGNORE INTO host_ips (ip, key, file_id) VALUES (?1, ?2, ?3)",
        )?;
        for (key, mut recs) in by_key {
            recs.sort_by_key(|r| std::cmp::Reverse(u64_of(r, "pkts_out") + u64_of(r, "pkts_in")));
            let r = if recs.len() == 1 {
                recs.swap_remove(0)
            } else {
                merge_records(&recs)
            };
            let first = str_of(&r, "first_ts").and_then(super::parse_rfc3339);
            let last = str_of(&r, "last_ts").and_then(super::parse_rfc3339);
            ins_host.execute(params![
                file_id,
                key,
                sensor,
                first.map_or(0, Timestamp::as_nanos),
                last.map_or(0, Timestamp::as_nanos),
                to_i64(u64_of(&r, "pkts_out") + u64_of(&r, "pkts_in")),
                r.to_string()
            ])?;
            for ip in ips_of(&r) {
                if let Ok(ip) = ip.parse::<IpAddr>() {
                    ins_ip.execute(params![&ip_key(ip)[..], key, file_id])?;
                }
            }
            keys.insert(key);
        }
    }
    {
        let mut ins = tx.prepare_cached(
            "INSERT INTO predictions (file_id, key, ts_ns, model, role, confidence, top, reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for p in &rec.predictions {
            let key = normalize_key(&p.host);
            ins.execute(params![
                file_id,
                key,
                p.ts.as_nanos(),
                p.model,
                p.role,
                p.confidence,
                serde_json::to_string(&p.top).map_err(json_err)?,
                p.reason
            ])?;
            keys.insert(key);
        }
    }
    tx.prepare_cached(
        "INSERT INTO file_records (file_id, flows, hosts, predictions) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        file_id,
        rec.flows.len(),
        rec.hosts.len(),
        rec.predictions.len()
    ])?;
    Ok(keys)
}

/// Writes one file's flows. When the file brings many flows compared with those stored
/// (the first file, or a store still small), the `flows` table's secondary indexes are
/// dropped and rebuilt after the inserts, inside the same transaction: one sort per index
/// instead of eight random B-tree inserts per flow (see [`FLOW_BULK_RATIO`]). The rows get
/// explicit rowids (`flows` and `flow_records` share them), so `flow_records` is written in
/// key order without asking SQLite for the last rowid.
fn write_flows(
    tx: &Connection,
    file_id: i64,
    sensor: &str,
    flows: &[trident_flow::FlowRecord],
) -> Result<(), IndexError> {
    if flows.is_empty() {
        return Ok(());
    }
    // `MAX(rowid)` is a B-tree descent; after deletions it over-counts, which only makes
    // the bulk path rarer.
    let stored: i64 = tx
        .prepare_cached("SELECT COALESCE(MAX(rowid), 0) FROM flows")?
        .query_row([], |r| r.get(0))?;
    let new = i64::try_from(flows.len()).unwrap_or(i64::MAX);
    let bulk = new >= FLOW_BULK_MIN && new.saturating_mul(FLOW_BULK_RATIO) >= stored;
    if bulk {
        for (name, _) in FLOW_INDEXES {
            tx.execute_batch(&format!("DROP INDEX IF EXISTS {name}"))?;
        }
    }
    {
        let mut ins = tx.prepare_cached(
            "INSERT INTO flows (rowid, file_id, sensor, id, first_ns, last_ns, protocol, orig_ip,
                resp_ip, orig_port, resp_port, orig_mac, resp_mac, packets, bytes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )?;
        let mut ins_rec =
            tx.prepare_cached("INSERT INTO flow_records (rowid, record) VALUES (?1, ?2)")?;
        // Buffers reused across flows: no allocation per flow for its record and addresses.
        let mut json: Vec<u8> = Vec::new();
        let mut blob: Vec<u8> = Vec::with_capacity(1024);
        let (mut oip, mut rip, mut omac, mut rmac) =
            (String::new(), String::new(), String::new(), String::new());
        let mut rowid = stored;
        for f in flows {
            use std::fmt::Write as _;
            rowid += 1;
            oip.clear();
            let _ = write!(oip, "{}", f.orig_ip);
            rip.clear();
            let _ = write!(rip, "{}", f.resp_ip);
            let orig_mac = match f.orig_mac {
                Some(m) => {
                    omac.clear();
                    let _ = write!(omac, "{m}");
                    Some(omac.as_str())
                }
                None => None,
            };
            let resp_mac = match f.resp_mac {
                Some(m) => {
                    rmac.clear();
                    let _ = write!(rmac, "{m}");
                    Some(rmac.as_str())
                }
                None => None,
            };
            ins.execute(params![
                rowid,
                file_id,
                sensor,
                f.id,
                f.first_ts.as_nanos(),
                f.last_ts.as_nanos(),
                f.protocol,
                oip,
                rip,
                f.orig_port,
                f.resp_port,
                orig_mac,
                resp_mac,
                to_i64(f.orig_pkts.saturating_add(f.resp_pkts)),
                to_i64(f.orig_bytes.saturating_add(f.resp_bytes)),
            ])?;
            let record =
                super::flowblob::encode_record(f, &mut blob, &mut json).map_err(json_err)?;
            ins_rec.execute(params![rowid, record])?;
        }
    }
    if bulk {
        for (_, sql) in FLOW_INDEXES {
            tx.execute_batch(sql)?;
        }
    }
    Ok(())
}

/// Recomputes the merged `hosts` rows of `keys` from their per-file rows and latest
/// predictions.
pub(crate) fn refresh_hosts(tx: &Connection, keys: &BTreeSet<String>) -> Result<(), IndexError> {
    let mut files = tx.prepare_cached(
        "SELECT sensor, record FROM host_files WHERE key = ?1 ORDER BY packets DESC, file_id",
    )?;
    let mut latest = tx.prepare_cached(
        "SELECT role, confidence FROM predictions WHERE key = ?1
         ORDER BY ts_ns DESC, id DESC LIMIT 1",
    )?;
    let mut del = tx.prepare_cached("DELETE FROM hosts WHERE key = ?1")?;
    let mut del_rec = tx.prepare_cached("DELETE FROM host_records WHERE key = ?1")?;
    let mut ins = tx.prepare_cached(
        "INSERT OR REPLACE INTO hosts (key, mac, ip, ip_key, ips, vendor, os, names, first_ns,
            last_ns, packets, bytes, sensors, router, role, confidence, search)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?;
    let mut ins_rec =
        tx.prepare_cached("INSERT OR REPLACE INTO host_records (key, record) VALUES (?1, ?2)")?;
    for key in keys {
        let mut sensors = BTreeSet::new();
        let mut recs = Vec::new();
        {
            let mut rows = files.query([key])?;
            while let Some(r) = rows.next()? {
                sensors.insert(r.get::<_, String>(0)?);
                let text: String = r.get(1)?;
                recs.push(serde_json::from_str::<Value>(&text).map_err(json_err)?);
            }
        }
        if recs.is_empty() {
            del.execute([key])?;
            del_rec.execute([key])?;
            continue;
        }
        let r = if recs.len() == 1 {
            recs.swap_remove(0)
        } else {
            merge_records(&recs)
        };
        let role: Option<(String, f64)> = latest
            .query_row([key], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        let ips = ips_of(&r);
        let names = names_of(&r);
        let mac = str_of(&r, "mac").map(str::to_owned);
        let vendor = str_of(&r, "vendor").map(str::to_owned);
        let os = str_of(&r, "os").map(str::to_owned);
        let main_ip = ips.first().cloned();
        let ip_k = main_ip
            .as_deref()
            .and_then(|s| s.parse::<IpAddr>().ok())
            .map(|ip| ip_key(ip).to_vec());
        let mut search: Vec<&str> = vec![key.as_str()];
        search.extend(ips.iter().map(String::as_str));
        search.extend(names.iter().map(String::as_str));
        search.extend(vendor.as_deref());
        let search = search.join(" ").to_lowercase();
        let first = str_of(&r, "first_ts").and_then(super::parse_rfc3339);
        let last = str_of(&r, "last_ts").and_then(super::parse_rfc3339);
        let sensors: Vec<String> = sensors.into_iter().collect();
        ins.execute(params![
            key,
            mac,
            main_ip,
            ip_k,
            serde_json::to_string(&ips).map_err(json_err)?,
            vendor,
            os,
            serde_json::to_string(&names).map_err(json_err)?,
            first.map_or(0, Timestamp::as_nanos),
            last.map_or(0, Timestamp::as_nanos),
            to_i64(u64_of(&r, "pkts_out") + u64_of(&r, "pkts_in")),
            to_i64(u64_of(&r, "bytes_out") + u64_of(&r, "bytes_in")),
            serde_json::to_string(&sensors).map_err(json_err)?,
            r.get("router").and_then(Value::as_bool).unwrap_or(false),
            role.as_ref().map(|x| x.0.clone()),
            role.as_ref().map(|x| x.1),
            search,
        ])?;
        ins_rec.execute(params![key, r.to_string()])?;
    }
    Ok(())
}

/// Columns of `hosts` read into a [`HostSummary`], in [`host_summary`]'s order.
const HOST_COLUMNS: &str = "key, mac, ips, vendor, os, role, confidence, names, first_ns, \
                            last_ns, packets, bytes, sensors, router";

fn host_summary(r: &rusqlite::Row<'_>) -> rusqlite::Result<HostSummary> {
    let list = |i: usize| -> rusqlite::Result<Vec<String>> {
        let text: String = r.get(i)?;
        Ok(serde_json::from_str(&text).unwrap_or_default())
    };
    Ok(HostSummary {
        key: r.get(0)?,
        mac: r.get(1)?,
        ips: list(2)?,
        vendor: r.get(3)?,
        os: r.get(4)?,
        role: r.get(5)?,
        confidence: r.get(6)?,
        names: list(7)?,
        first_seen: ts_of(r.get(8)?),
        last_seen: ts_of(r.get(9)?),
        packets: to_u64(r.get(10)?),
        bytes: to_u64(r.get(11)?),
        sensors: list(12)?,
        router: r.get(13)?,
        state: None,
    })
}

fn ts_of(ns: i64) -> Timestamp {
    Timestamp::from_secs_nanos(
        ns.div_euclid(NANOS_PER_SEC),
        u32::try_from(ns.rem_euclid(NANOS_PER_SEC)).unwrap_or(0),
    )
}

/// `LIKE` pattern for text anywhere in a column (`%` and `_` taken literally).
fn contains_pattern(s: &str) -> String {
    let mut p = String::with_capacity(s.len() + 2);
    p.push('%');
    for c in s.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The SQL condition and parameters selecting the flows of one host (a MAC or an IP).
fn host_flow_condition(host: &str, args: &mut Vec<Sql>) -> String {
    let key = normalize_key(host);
    let n = args.len();
    args.push(Sql::Text(key.clone()));
    if key.parse::<IpAddr>().is_ok() {
        format!("(orig_ip = ?{0} OR resp_ip = ?{0})", n + 1)
    } else {
        format!("(orig_mac = ?{0} OR resp_mac = ?{0})", n + 1)
    }
}

fn next_param(args: &mut Vec<Sql>, v: Sql) -> String {
    args.push(v);
    format!("?{}", args.len())
}

impl SqliteStore {
    /// Removes one ingested file: its counts, ISN samples, flows, hosts, traffic and the
    /// predictions made at its ingest (predictions made later on demand stay), and its
    /// `files` row, in one transaction. Hosts seen in other files keep their merged rows,
    /// recomputed without this file. Returns false when no file has that id.
    ///
    /// # Errors
    /// The store failed; nothing was removed.
    pub fn remove_file(&mut self, id: i64) -> Result<bool, IndexError> {
        let tx = self.conn.transaction()?;
        let found = remove_file_in(&tx, id)?;
        tx.commit()?;
        Ok(found)
    }

    /// Totals for one sensor and/or one UTC day (`YYYYMMDD`), or for everything.
    ///
    /// # Errors
    /// The store failed.
    pub fn summary(&self, sensor: Option<&str>, day: Option<Day>) -> Result<Summary, IndexError> {
        let c = &self.conn;
        let day = day.map(i64::from);
        let (from_ns, to_ns) = match day {
            Some(d) => {
                let start = day_start(u32::try_from(d).unwrap_or(0)).as_nanos();
                (start, start.saturating_add(SECS_PER_DAY * NANOS_PER_SEC))
            }
            None => (i64::MIN, i64::MAX),
        };
        let (packets, bytes, files, first, last): (i64, i64, i64, Option<i64>, Option<i64>) = c
            .prepare_cached(
                "SELECT COALESCE(SUM(packets), 0), COALESCE(SUM(bytes), 0),
                        COUNT(DISTINCT file_id), MIN(first_ns), MAX(last_ns)
                 FROM days WHERE (?1 IS NULL OR sensor = ?1) AND (?2 IS NULL OR day = ?2)",
            )?
            .query_row(params![sensor, day], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?;
        let hosts: i64 = match (sensor, day) {
            (None, None) => c
                .prepare_cached("SELECT COUNT(*) FROM hosts")?
                .query_row([], |r| r.get(0))?,
            (Some(s), None) => c
                .prepare_cached("SELECT COUNT(DISTINCT key) FROM host_files WHERE sensor = ?1")?
                .query_row([s], |r| r.get(0))?,
            _ => c
                .prepare_cached(
                    "SELECT COUNT(DISTINCT key) FROM host_files
                     WHERE first_ns < ?3 AND last_ns >= ?2 AND (?1 IS NULL OR sensor = ?1)",
                )?
                .query_row(params![sensor, from_ns, to_ns], |r| r.get(0))?,
        };
        let flows: i64 = if day.is_some() {
            c.prepare_cached(
                "SELECT COUNT(*) FROM flows
                 WHERE first_ns >= ?2 AND first_ns < ?3 AND (?1 IS NULL OR sensor = ?1)",
            )?
            .query_row(params![sensor, from_ns, to_ns], |r| r.get(0))?
        } else {
            c.prepare_cached(
                "SELECT COALESCE(SUM(r.flows), 0) FROM file_records r JOIN files f ON f.id = r.file_id
                 WHERE (?1 IS NULL OR f.sensor = ?1)",
            )?
            .query_row(params![sensor], |r| r.get(0))?
        };
        let roles = {
            let mut st = c.prepare_cached(
                "SELECT role, COUNT(*) FROM hosts
                 WHERE role IS NOT NULL AND last_ns >= ?2 AND first_ns < ?3
                   AND (?1 IS NULL OR key IN (SELECT key FROM host_files WHERE sensor = ?1))
                 GROUP BY role ORDER BY 2 DESC, 1",
            )?;
            st.query_map(params![sensor, from_ns, to_ns], |r| {
                Ok(RoleCount {
                    role: r.get(0)?,
                    count: to_u64(r.get(1)?),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?
        };
        let mut sensors = Vec::new();
        let mut days = Vec::new();
        {
            let mut st = c.prepare_cached(
                "SELECT DISTINCT sensor, day FROM days
                 WHERE (?1 IS NULL OR sensor = ?1) AND (?2 IS NULL OR day = ?2)",
            )?;
            let mut rows = st.query(params![sensor, day])?;
            let (mut s_set, mut d_set) = (BTreeSet::new(), BTreeSet::new());
            while let Some(r) = rows.next()? {
                s_set.insert(r.get::<_, String>(0)?);
                d_set.insert(r.get::<_, i64>(1)?);
            }
            sensors.extend(s_set);
            days.extend(d_set.into_iter().map(day_text));
        }
        Ok(Summary {
            packets: to_u64(packets),
            bytes: to_u64(bytes),
            files: to_u64(files),
            hosts: to_u64(hosts),
            flows: to_u64(flows),
            first_seen: first.map(ts_of),
            last_seen: last.map(ts_of),
            roles,
            sensors,
            days,
        })
    }

    /// Every sensor with its days and packets, by sensor name.
    ///
    /// # Errors
    /// The store failed.
    pub fn sensors(&self) -> Result<Vec<SensorDays>, IndexError> {
        let mut st = self.conn.prepare_cached(
            "SELECT sensor, day, SUM(packets) FROM days GROUP BY sensor, day ORDER BY sensor, day",
        )?;
        let mut out: Vec<SensorDays> = Vec::new();
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let sensor: String = r.get(0)?;
            let day = day_text(r.get(1)?);
            let packets = to_u64(r.get(2)?);
            match out.last_mut() {
                Some(s) if s.sensor == sensor => {
                    s.days.push(day);
                    s.packets += packets;
                }
                _ => out.push(SensorDays {
                    sensor,
                    days: vec![day],
                    packets,
                }),
            }
        }
        Ok(out)
    }

    /// Packets and bytes over time: from the per-minute histogram, or, with a host, from
    /// the host's flows (each flow's packets and bytes spread evenly over the minutes it
    /// spans, so a long flow does not show as one spike at its start).
    ///
    /// # Errors
    /// The store failed.
    pub fn traffic(&self, q: &TrafficQuery) -> Result<Traffic, IndexError> {
        let asked =
            i64::from(BUCKET_SECONDS.max(q.bucket_seconds / BUCKET_SECONDS * BUCKET_SECONDS));
        let from_s = q.from.map_or(i64::MIN, Timestamp::secs);
        // A bucket starting before `to` is in.
        let to_s =
            q.to.map_or(i64::MAX, |t| t.secs() + i64::from(t.subsec_nanos() > 0));
        let Some(host) = &q.host else {
            return self.sensor_traffic(q.sensor.as_deref(), asked, from_s, to_s);
        };
        let mut args = Vec::new();
        let cond = host_flow_condition(host, &mut args);
        let sensor_p = next_param(&mut args, q.sensor.clone().map_or(Sql::Null, Sql::Text));
        let from_p = next_param(
            &mut args,
            Sql::Integer(from_s.saturating_mul(NANOS_PER_SEC)),
        );
        let to_p = next_param(&mut args, Sql::Integer(to_s.saturating_mul(NANOS_PER_SEC)));
        let sql = format!(
            "SELECT first_ns, last_ns, packets, bytes FROM flows
             WHERE {cond} AND ({sensor_p} IS NULL OR sensor = {sensor_p})
               AND last_ns >= {from_p} AND first_ns < {to_p}"
        );
        let flows: Vec<(i64, i64, u64, u64)> = self
            .conn
            .prepare_cached(&sql)?
            .query_map(params_from_iter(args), |r| {
                Ok((
                    r.get::<_, i64>(0)?.div_euclid(NANOS_PER_SEC),
                    r.get::<_, i64>(1)?.div_euclid(NANOS_PER_SEC),
                    to_u64(r.get(2)?),
                    to_u64(r.get(3)?),
                ))
            })?
            .collect::<Result<_, _>>()?;
        let (Some(lo), Some(hi)) = (
            flows.iter().map(|f| f.0).min().map(|x| x.max(from_s)),
            flows
                .iter()
                .map(|f| f.1)
                .max()
                .map(|x| x.min(to_s.saturating_sub(1))),
        ) else {
            return Ok(Traffic {
                bucket_seconds: u32::try_from(asked).unwrap_or(BUCKET_SECONDS),
                points: Vec::new(),
            });
        };
        let width = fit_width(asked, lo, hi);
        let base = lo.div_euclid(width);
        let n = hi.div_euclid(width) - base + 1;
        let mut spreader = Spreader::new(usize::try_from(n).unwrap_or(0));
        for (first, last, p, b) in flows {
            spreader.add(
                first.div_euclid(width) - base,
                last.div_euclid(width) - base,
                p,
                b,
            );
        }
        let points = spreader
            .finish()
            .into_iter()
            .map(|(i, p, b)| TrafficPoint {
                ts: Timestamp::from_secs_nanos((base + i) * width, 0),
                packets: p,
                bytes: b,
            })
            .collect();
        Ok(Traffic {
            bucket_seconds: u32::try_from(width).unwrap_or(BUCKET_SECONDS),
            points,
        })
    }

    /// [`SqliteStore::traffic`] of the per-sensor histogram: per minute, or from the per-day
    /// sums when the buckets are whole days.
    fn sensor_traffic(
        &self,
        sensor: Option<&str>,
        asked: i64,
        from_s: i64,
        to_s: i64,
    ) -> Result<Traffic, IndexError> {
        // Two ordered look-ups (an index edge each), not one MIN/MAX scan.
        let sensor_cond = if sensor.is_some() {
            "sensor = ?1"
        } else {
            "?1 IS NULL"
        };
        let edge = |dir: &str| -> Result<Option<i64>, IndexError> {
            Ok(self
                .conn
                .prepare_cached(&format!(
                    "SELECT minute FROM traffic WHERE {sensor_cond} AND minute >= ?2 AND minute < ?3
                     ORDER BY minute {dir} LIMIT 1"
                ))?
                .query_row(params![sensor, from_s, to_s], |r| r.get(0))
                .optional()?)
        };
        let (Some(lo), Some(hi)) = (edge("ASC")?, edge("DESC")?) else {
            return Ok(Traffic {
                bucket_seconds: u32::try_from(asked).unwrap_or(BUCKET_SECONDS),
                points: Vec::new(),
            });
        };
        let width = fit_width(asked, lo, hi);
        let base = lo.div_euclid(width) * width;
        let whole_days = width % SECS_PER_DAY == 0
            && from_s.rem_euclid(SECS_PER_DAY) == 0
            && (to_s == i64::MAX || to_s.rem_euclid(SECS_PER_DAY) == 0);
        let sql = if whole_days {
            // Day d (YYYYMMDD) starts at unixepoch(date) seconds.
            format!(
                "SELECT (unixepoch(printf('%04d-%02d-%02d', day / 10000, day / 100 % 100, day % 100))
                         - ?4) / ?5 AS b, SUM(packets), SUM(bytes)
                 FROM days WHERE {sensor_cond}
                   AND (day >= ?6 AND day <= ?7)
                 GROUP BY b ORDER BY b"
            )
        } else {
            format!(
                "SELECT (minute - ?4) / ?5 AS b, SUM(packets), SUM(bytes) FROM traffic
                 WHERE {sensor_cond} AND minute >= ?2 AND minute < ?3
                 GROUP BY b ORDER BY b"
            )
        };
        let day_of = |secs: i64| {
            let (y, m, d, ..) = Timestamp::from_secs_nanos(secs, 0).utc_civil();
            y * 10_000 + i64::from(m * 100 + d)
        };
        let mut args: Vec<Sql> = vec![
            sensor.map_or(Sql::Null, |s| Sql::Text(s.to_owned())),
            Sql::Integer(from_s),
            Sql::Integer(to_s),
            Sql::Integer(base),
            Sql::Integer(width),
        ];
        if whole_days {
            args.extend([Sql::Integer(day_of(lo)), Sql::Integer(day_of(hi))]);
        }
        let points = self
            .conn
            .prepare_cached(&sql)?
            .query_map(params_from_iter(args), |r| {
                Ok(TrafficPoint {
                    ts: Timestamp::from_secs_nanos(base + r.get::<_, i64>(0)? * width, 0),
                    packets: to_u64(r.get(1)?),
                    bytes: to_u64(r.get(2)?),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Traffic {
            bucket_seconds: u32::try_from(width).unwrap_or(BUCKET_SECONDS),
            points,
        })
    }

    /// A page of hosts (the merged rows: one per key over every file).
    ///
    /// # Errors
    /// The store failed.
    pub fn hosts(&self, f: &HostFilter) -> Result<Page<HostSummary>, IndexError> {
        let mut args: Vec<Sql> = Vec::new();
        let mut conds: Vec<String> = Vec::new();
        if let Some(role) = &f.role {
            let p = next_param(&mut args, Sql::Text(role.clone()));
            conds.push(format!("role = {p}"));
        }
        if let Some(v) = &f.vendor {
            let p = next_param(&mut args, Sql::Text(contains_pattern(v)));
            conds.push(format!("vendor LIKE {p} ESCAPE '\\'"));
        }
        if let Some(v) = &f.os {
            let p = next_param(&mut args, Sql::Text(contains_pattern(v)));
            conds.push(format!("os LIKE {p} ESCAPE '\\'"));
        }
        if let Some(v) = &f.q {
            let p = next_param(&mut args, Sql::Text(contains_pattern(v)));
            conds.push(format!("search LIKE {p} ESCAPE '\\'"));
        }
        if let Some(net) = &f.subnet {
            let (lo, hi) = net.range();
            let lo = next_param(&mut args, Sql::Blob(lo.to_vec()));
            let hi = next_param(&mut args, Sql::Blob(hi.to_vec()));
            conds.push(format!(
                "key IN (SELECT key FROM host_ips WHERE ip BETWEEN {lo} AND {hi})"
            ));
        }
        if let Some(s) = &f.sensor {
            let p = next_param(&mut args, Sql::Text(s.clone()));
            conds.push(format!(
                "key IN (SELECT key FROM host_files WHERE sensor = {p})"
            ));
        }
        let filter = if conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conds.join(" AND "))
        };
        let total: i64 = self
            .conn
            .prepare_cached(&format!("SELECT COUNT(*) FROM hosts {filter}"))?
            .query_row(params_from_iter(args.iter()), |r| r.get(0))?;
        // (column, default order, column can be NULL)
        let (col, default_order, nullable) = match f.sort {
            HostSort::LastSeen => ("last_ns", SortOrder::Desc, false),
            HostSort::FirstSeen => ("first_ns", SortOrder::Desc, false),
            HostSort::Packets => ("packets", SortOrder::Desc, false),
            HostSort::Bytes => ("bytes", SortOrder::Desc, false),
            HostSort::Role => ("role", SortOrder::Asc, true),
            HostSort::Confidence => ("confidence", SortOrder::Desc, true),
            HostSort::Vendor => ("vendor", SortOrder::Asc, true),
            HostSort::Os => ("os", SortOrder::Asc, true),
            HostSort::Mac => ("mac", SortOrder::Asc, true),
            HostSort::Ip => ("ip_key", SortOrder::Asc, true),
        };
        let dir = match f.order.unwrap_or(default_order) {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
        };
        // Hosts without the value go last either way; a NOT NULL column orders straight
        // from its index (no sort), the key breaking ties in the same direction.
        let order = if nullable {
            format!("{col} IS NULL, {col} {dir}, key {dir}")
        } else {
            format!("{col} {dir}, key {dir}")
        };
        let limit = page_limit(f.limit);
        let lim = next_param(&mut args, Sql::Integer(i64::from(limit)));
        let off = next_param(&mut args, Sql::Integer(to_i64(f.offset)));
        let sql = format!(
            "SELECT {HOST_COLUMNS} FROM hosts {filter}
             ORDER BY {order} LIMIT {lim} OFFSET {off}"
        );
        let items = self
            .conn
            .prepare_cached(&sql)?
            .query_map(params_from_iter(args.iter()), host_summary)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            total: to_u64(total),
            offset: f.offset,
            limit,
            items,
        })
    }

    /// One host by key (its MAC, or its IP for a host without one; an IP that is not a
    /// key finds the host that used it), merged over every file it appears in.
    ///
    /// # Errors
    /// The store failed.
    pub fn host(&self, key: &str) -> Result<Option<HostDetail>, IndexError> {
        let Some(key) = self.resolve_host(key)? else {
            return Ok(None);
        };
        let row = self
            .conn
            .prepare_cached(&format!(
                "SELECT {HOST_COLUMNS}, (SELECT record FROM host_records r WHERE r.key = h.key)
                 FROM hosts h WHERE key = ?1"
            ))?
            .query_row([&key], |r| Ok((host_summary(r)?, r.get::<_, String>(14)?)))
            .optional()?;
        let Some((summary, record)) = row else {
            return Ok(None);
        };
        let record: Value = serde_json::from_str(&record).map_err(json_err)?;
        let services = |k: &str| -> Vec<ServiceEntry> {
            strs_of(&record, k)
                .iter()
                .filter_map(|s| service_key(s))
                .map(|(proto, port)| ServiceEntry {
                    protocol: match proto {
                        6 => "tcp".to_owned(),
                        17 => "udp".to_owned(),
                        p => format!("p{p}"),
                    },
                    port,
                    name: service_name(proto, port).map(str::to_owned),
                })
                .collect()
        };
        let services_offered = services("services_offered");
        let services_used = services("services_used");
        let predictions = self.predictions(&key)?;
        let traffic = self.traffic(&TrafficQuery {
            host: Some(key.clone()),
            ..TrafficQuery::default()
        })?;
        Ok(Some(HostDetail {
            summary,
            record,
            services_offered,
            services_used,
            predictions,
            traffic,
        }))
    }

    /// The key of the host `s` names: a key as is, else the host whose addresses include
    /// the IP `s` (the one seen with the most packets).
    fn resolve_host(&self, s: &str) -> Result<Option<String>, IndexError> {
        let key = normalize_key(s);
        let found: Option<String> = self
            .conn
            .prepare_cached("SELECT key FROM hosts WHERE key = ?1")?
            .query_row([&key], |r| r.get(0))
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
        let Ok(ip) = key.parse::<IpAddr>() else {
            return Ok(None);
        };
        Ok(self
            .conn
            .prepare_cached(
                "SELECT h.key FROM host_ips i JOIN hosts h ON h.key = i.key
                 WHERE i.ip = ?1 ORDER BY h.packets DESC, h.key LIMIT 1",
            )?
            .query_row([&ip_key(ip)[..]], |r| r.get(0))
            .optional()?)
    }

    /// A page of flows, newest first (by first packet).
    ///
    /// # Errors
    /// The store failed.
    pub fn flows(&self, f: &FlowFilter) -> Result<Page<FlowRow>, IndexError> {
        let mut args: Vec<Sql> = Vec::new();
        let mut conds: Vec<String> = Vec::new();
        if let Some(h) = &f.host {
            conds.push(host_flow_condition(h, &mut args));
        }
        if let Some(port) = f.port {
            let p = next_param(&mut args, Sql::Integer(i64::from(port)));
            conds.push(format!("(orig_port = {p} OR resp_port = {p})"));
        }
        if let Some(proto) = f.protocol {
            let p = next_param(&mut args, Sql::Integer(i64::from(proto)));
            conds.push(format!("protocol = {p}"));
        }
        if let Some(from) = f.from {
            let p = next_param(&mut args, Sql::Integer(from.as_nanos()));
            conds.push(format!("last_ns >= {p}"));
        }
        if let Some(to) = f.to {
            let p = next_param(&mut args, Sql::Integer(to.as_nanos()));
            conds.push(format!("first_ns < {p}"));
        }
        if let Some(s) = &f.sensor {
            let p = next_param(&mut args, Sql::Text(s.clone()));
            conds.push(format!("sensor = {p}"));
        }
        let filter = if conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conds.join(" AND "))
        };
        let total: i64 = self
            .conn
            .prepare_cached(&format!("SELECT COUNT(*) FROM flows {filter}"))?
            .query_row(params_from_iter(args.iter()), |r| r.get(0))?;
        let limit = page_limit(f.limit);
        let lim = next_param(&mut args, Sql::Integer(i64::from(limit)));
        let off = next_param(&mut args, Sql::Integer(to_i64(f.offset)));
        // The page's rows first, from the narrow table; then each one's record.
        let sql = format!(
            "SELECT rowid, id, sensor, file_id FROM flows {filter}
             ORDER BY first_ns DESC, rowid DESC LIMIT {lim} OFFSET {off}"
        );
        let page: Vec<(i64, String, String, i64)> = self
            .conn
            .prepare_cached(&sql)?
            .query_map(params_from_iter(args.iter()), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<Result<_, _>>()?;
        let mut rec = self
            .conn
            .prepare_cached("SELECT record FROM flow_records WHERE rowid = ?1")?;
        let mut items = Vec::with_capacity(page.len());
        for (rowid, id, sensor, capture) in page {
            let mut record = rec.query_row([rowid], |r| {
                Ok(super::flowblob::decode(r.get_ref(0)?, rowid))
            })??;
            record.remove("id");
            items.push(FlowRow {
                id,
                sensor,
                capture,
                record,
            });
        }
        Ok(Page {
            total: to_u64(total),
            offset: f.offset,
            limit,
            items,
        })
    }

    /// A host's predictions, newest first (those made at ingest and those added later).
    ///
    /// # Errors
    /// The store failed.
    pub fn predictions(&self, key: &str) -> Result<Vec<Prediction>, IndexError> {
        let key = normalize_key(key);
        let mut st = self.conn.prepare_cached(
            "SELECT ts_ns, model, key, role, confidence, top, reason, file_id FROM predictions
             WHERE key = ?1 ORDER BY ts_ns DESC, id DESC",
        )?;
        let mut rows = st.query([&key])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let top: String = r.get(5)?;
            let top: Vec<RoleProb> = serde_json::from_str(&top).map_err(json_err)?;
            out.push(Prediction {
                ts: ts_of(r.get(0)?),
                model: r.get(1)?,
                host: r.get(2)?,
                role: r.get(3)?,
                confidence: r.get(4)?,
                top,
                reason: r.get(6)?,
                capture: r.get(7)?,
            });
        }
        Ok(out)
    }

    /// Stores a prediction made on demand (kept as history: no capture, never removed with
    /// a file) and makes it the host's current role if it is the newest. Returns its id.
    ///
    /// # Errors
    /// The store failed.
    pub fn add_prediction(&mut self, p: &Prediction) -> Result<i64, IndexError> {
        let tx = self.conn.transaction()?;
        let key = normalize_key(&p.host);
        tx.execute(
            "INSERT INTO predictions (file_id, key, ts_ns, model, role, confidence, top, reason)
             VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                key,
                p.ts.as_nanos(),
                p.model,
                p.role,
                p.confidence,
                serde_json::to_string(&p.top).map_err(json_err)?,
                p.reason
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "UPDATE hosts SET (role, confidence) = (SELECT role, confidence FROM predictions
                 WHERE key = ?1 ORDER BY ts_ns DESC, id DESC LIMIT 1)
             WHERE key = ?1",
            [&key],
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// The ingested captures, in ingest order.
    ///
    /// # Errors
    /// The store failed.
    pub fn captures(&self) -> Result<Vec<Capture>, IndexError> {
        self.captures_where(None)
    }

    /// One ingested capture.
    ///
    /// # Errors
    /// The store failed.
    pub fn capture(&self, id: i64) -> Result<Option<Capture>, IndexError> {
        Ok(self.captures_where(Some(id))?.pop())
    }

    /// The path a capture was ingested from (absolute when it could be resolved), if
    /// recorded: not for standard input, nor in stores written before paths were kept.
    ///
    /// # Errors
    /// The store failed.
    pub fn capture_path(&self, id: i64) -> Result<Option<std::path::PathBuf>, IndexError> {
        let st = match self
            .conn
            .prepare_cached("SELECT path FROM file_paths WHERE file_id = ?1")
        {
            Ok(st) => st,
            // A store from before paths were kept, opened read-only (no migration).
            Err(e) if e.to_string().contains("no such table") => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let mut st = st;
        Ok(st
            .query_row([id], |r| r.get::<_, String>(0))
            .optional()?
            .map(std::path::PathBuf::from))
    }

    /// The id of the capture with this content hash.
    ///
    /// # Errors
    /// The store failed.
    pub fn capture_id(&self, sha256: &str) -> Result<Option<i64>, IndexError> {
        Ok(self
            .conn
            .prepare_cached("SELECT id FROM files WHERE sha256 = ?1")?
            .query_row([sha256], |r| r.get(0))
            .optional()?)
    }

    fn captures_where(&self, id: Option<i64>) -> Result<Vec<Capture>, IndexError> {
        let mut st = self.conn.prepare_cached(
            "SELECT f.id, f.name, f.sha256, f.sensor, f.size, f.packets, f.ingested_at,
                    COALESCE(r.flows, 0), COALESCE(r.hosts, 0)
             FROM files f LEFT JOIN file_records r ON r.file_id = f.id
             WHERE ?1 IS NULL OR f.id = ?1 ORDER BY f.id",
        )?;
        let rows = st
            .query_map([id], |r| {
                Ok(Capture {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    sha256: r.get(2)?,
                    sensor: r.get(3)?,
                    size: to_u64(r.get(4)?),
                    packets: to_u64(r.get(5)?),
                    ingested_at: r.get(6)?,
                    flows: to_u64(r.get(7)?),
                    hosts: to_u64(r.get(8)?),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

/// Removes a file inside a transaction (see [`SqliteStore::remove_file`]).
pub(crate) fn remove_file_in(tx: &Connection, id: i64) -> Result<bool, IndexError> {
    let keys = delete_file_records(tx, id)?;
    crate::sqlite::delete_file_counts(tx, id)?;
    tx.prepare_cached("DELETE FROM isn WHERE file_id = ?1")?
        .execute([id])?;
    tx.prepare_cached("DELETE FROM file_paths WHERE file_id = ?1")?
        .execute([id])?;
    let n = tx
        .prepare_cached("DELETE FROM files WHERE id = ?1")?
        .execute([id])?;
    refresh_hosts(tx, &keys)?;
    Ok(n > 0)
}

/// `YYYY-MM-DD` of a `YYYYMMDD` day.
fn day_text(day: i64) -> String {
    day_string(day_start(u32::try_from(day).unwrap_or(0)))
}

/// The bucket width for `[lo, hi]` (seconds): the asked width, widened to a round width
/// (5, 10, 15, 30 minutes, 1, 2, 3, 6, 12 hours, then whole days) when the asked one would
/// give more than [`MAX_TRAFFIC_POINTS`] buckets.
fn fit_width(asked: i64, lo: i64, hi: i64) -> i64 {
    const LADDER: [i64; 11] = [
        60, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
    ];
    let need = (hi.saturating_sub(lo)) / MAX_TRAFFIC_POINTS + 1;
    let w = asked.max(need);
    LADDER
        .into_iter()
        .find(|l| *l >= w)
        .unwrap_or_else(|| (w + SECS_PER_DAY - 1) / SECS_PER_DAY * SECS_PER_DAY)
}

/// Spreads flows' packets and bytes evenly over the buckets each spans (remainders to its
/// first buckets), with difference arrays: linear in flows plus buckets, however long the
/// flows.
struct Spreader {
    packets: Vec<i128>,
    bytes: Vec<i128>,
}

impl Spreader {
    fn new(n: usize) -> Self {
        Spreader {
            packets: vec![0; n + 1],
            bytes: vec![0; n + 1],
        }
    }

    /// Adds `v` to buckets `l..=r` (clipped to the range kept).
    fn range(d: &mut [i128], l: i64, r: i64, v: i128) {
        let n = i64::try_from(d.len()).unwrap_or(i64::MAX) - 1;
        let (l, r) = (l.max(0), r.min(n - 1));
        if l > r || v == 0 {
            return;
        }
        if let (Ok(l), Ok(r1)) = (usize::try_from(l), usize::try_from(r + 1)) {
            if let Some(x) = d.get_mut(l) {
                *x += v;
            }
            if let Some(x) = d.get_mut(r1) {
                *x -= v;
            }
        }
    }

    /// One flow spanning buckets `first..=last` (relative; may lie partly outside).
    fn add(&mut self, first: i64, last: i64, packets: u64, bytes: u64) {
        let last = last.max(first);
        let k = i128::from(last - first + 1);
        for (d, total) in [(&mut self.packets, packets), (&mut self.bytes, bytes)] {
            let total = i128::from(total);
            let (q, rem) = (total / k, total % k);
            Self::range(d, first, last, q);
            // rem < k, so it fits the span.
            let rem = i64::try_from(rem).unwrap_or(0);
            Self::range(d, first, first + rem - 1, 1);
        }
    }

    /// (bucket, packets, bytes) of every non-empty bucket, in order.
    fn finish(self) -> Vec<(i64, u64, u64)> {
        let (mut p, mut b) = (0i128, 0i128);
        let mut out = Vec::new();
        for (i, (dp, db)) in self.packets.iter().zip(&self.bytes).enumerate() {
            p += dp;
            b += db;
            if (p != 0 || b != 0) && i + 1 < self.packets.len() {
                out.push((
                    i64::try_from(i).unwrap_or(i64::MAX),
                    u64::try_from(p).unwrap_or(0),
                    u64::try_from(b).unwrap_or(0),
                ));
            }
        }
        out
    }
}

/// A well-known name for a port, for the host page.
#[must_use]
pub fn service_name(protocol: u8, port: u16) -> Option<&'static str> {
    Some(match (protocol, port) {
        (6, 21) => "ftp",
        (6, 22) => "ssh",
        (6, 23) => "telnet",
        (6, 25) => "smtp",
        (6 | 17, 53) => "dns",
        (17, 67 | 68) => "dhcp",
        (17, 69) => "tftp",
        (6, 80) => "http",
        (17, 123) => "ntp",
        (17, 137) => "netbios-ns",
        (6, 139) => "netbios-ssn",
        (6, 143) => "imap",
        (17, 161) => "snmp",
        (6, 389) => "ldap",
        (6, 443) => "https",
        (17, 443) => "quic",
        (6, 445) => "smb",
        (17, 514) => "syslog",
        (6, 515) => "printer",
        (6, 631) => "ipp",
        (17, 1900) => "ssdp",
        (6, 3389) => "rdp",
        (17, 5353) => "mdns",
        (17, 5355) => "llmnr",
        (6, 8080) => "http-alt",
        (6, 9100) => "jetdirect",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_flows_over_buckets() {
        let mut sp = Spreader::new(4);
        sp.add(0, 2, 10, 1000);
        sp.add(3, 3, 1, 1);
        sp.add(-5, 1, 7, 7);
        assert_eq!(
            sp.finish(),
            [
                (0, 4 + 1, 334 + 1),
                (1, 3 + 1, 333 + 1),
                (2, 3, 333),
                (3, 1, 1)
            ]
        );
        assert_eq!(fit_width(60, 0, 3600), 60);
        assert_eq!(fit_width(60, 0, 86_400 * 365), 21_600);
        assert_eq!(fit_width(60, 0, 86_400 * 365 * 100), 86_400 * 25);
        assert_eq!(fit_width(60, 0, 86_400), 60);
        assert_eq!(fit_width(60, 0, 86_400 * 2), 300);
        assert_eq!(fit_width(3600, 0, 60), 3600);
    }

    #[test]
    fn keys_normalize() {
        assert_eq!(normalize_key("00:1A:2B:3C:4D:5E"), "00:1a:2b:3c:4d:5e");
        assert_eq!(normalize_key("00-1a-2b-3c-4d-5e"), "00:1a:2b:3c:4d:5e");
        assert_eq!(normalize_key("2001:DB8::1"), "2001:db8::1");
        assert_eq!(normalize_key("10.0.0.1"), "10.0.0.1");
        assert_eq!(contains_pattern("A_b%"), "%a\\_b\\%%");
    }
}
