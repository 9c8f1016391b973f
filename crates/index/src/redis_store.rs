//! Redis in potiron's key layouts, so potiron's own tools read what trident wrote. See
//! `shared/reference/potiron.md` §5 (current) and §6.3 (legacy).
//!
//! * **current** ([`RedisLayout::Current`], potiron's `parse_pcap_files.py`):
//!   `<sensor>:<YYYYMMDD>:<field>` sorted sets (member = the value as potiron writes it,
//!   score = packets) for potiron's twelve `JSON_FIELDS`; with combined keys (`-ck`,
//!   [`RedisStore::with_combined_keys`]) `<sensor>:<protocol name>:<YYYYMMDD>:<field>` and the
//!   names in `PROTOCOLS`; bookkeeping in `FILES` (base names), `<sensor>_DAYS` (file-name day
//!   and packet days), `PARAMETERS` (hash), `FIELDS` and `JSON_FIELDS` (lists).
//! * **legacy** ([`RedisLayout::Legacy`], potiron ≤ 2018-11 `potiron-json-tshark.py -dj`,
//!   the layout potiron's exporters, bokeh and parallel-coordinate scripts read): the same
//!   sorted sets, with `iptos` always `0` (its quirk Q11); bookkeeping in `BPF`, `CK`
//!   (`YES`/`NO`), `FILES`, a global `DAYS` and a `FIELDS` *set*.
//! * **Redis Cluster** (`redis+cluster://host:port[,host:port...]`): potiron never ran on a
//!   cluster, so there the sorted sets carry a hash tag per sensor and day,
//!   `{<sensor>:<YYYYMMDD>}:<field>` (combined: `{<sensor>:<YYYYMMDD>}:<protocol>:<field>`), so
//!   that one day of one sensor lives on one slot and is written by one atomic script; the
//!   sensors are listed in a `SENSORS` set.
//!
//! Exactly once: a file is identified by its base name in `FILES`, as potiron does. On a
//! single server the whole file (its counts, the `FILES` and day members, `PARAMETERS` on
//! first use, and the record of its contribution) goes in one `MULTI`/`EXEC` under `WATCH
//! FILES`: a crash, a lost connection or a Redis restart leaves all of a file or none of it,
//! and two concurrent ingests of one file count it once. On a cluster each sensor/day slot is
//! written by one Lua script that also records the file in that slot's `{…}:FILES` set, so a
//! retried file skips the slots already done. Connection failures are retried with
//! exponential backoff (reconnecting) for [`RedisStore::with_retry_budget`], then reported
//! with the URL, the attempts and the last error.
//!
//! `--force`: every file's contribution (each key, member and count) is recorded, gzip
//! compressed, in `trident:contrib:<file name>` (the one key trident adds to potiron's
//! layout); a forced re-ingest subtracts it, drops members left at zero and adds the new
//! counts, in the same transaction.
//!
//! Speed: most of potiron's members are the per-packet `tcpseq`/`tcpack` values, one
//! distinct member per packet. A key receiving many members is written as one bulk `ZADD`
//! into a staging key followed by `ZUNIONSTORE key 2 key staging` (inside the transaction,
//! so the staging key is never visible), instead of one `ZINCRBY` per member; that is
//! several times less work for the server. When the key does not exist yet (checked by a
//! small script at `EXEC` time, [`MERGE_SCRIPT`]) the staging key is renamed into place
//! instead, which is O(1), so a fresh day's keys are built once, not twice. Keys much larger
//! than the file's part keep `ZINCRBY`, so a day fed by many small files is not rewritten
//! for each of them. The transaction is written straight to the socket in pieces
//! ([`tx::Tx`]), never built whole in memory. A store that goes by file names needs no
//! content hash ([`Store::identifies_by_name`]): `trident ingest` neither hashes nor reads a
//! file whose name `FILES` already holds.
//!
//! trident's application fields (DNS, TLS, HTTP) have no place in potiron's layouts and are
//! not written here.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read as _;
use std::time::{Duration, Instant};

use redis::{ConnectionLike, RedisError, RedisResult};

mod tx;
use tx::{NONE, Tx};

use crate::agg::{Day, Field, FileAgg, NO_PROTOCOL};
use crate::error::IndexError;
use crate::potiron::{JSON_FIELDS, RAW_FIELDS, protocol_key_name};
use crate::read::FileMeta;
use crate::{
    IngestOutcome, Period, ProtocolTopRow, Store, TopQuery, TopRow, rank, rank_per_protocol,
};

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

/// The legacy layout's `BPF` member: potiron's default display filter.
const LEGACY_BPF: &str = "ip.dst ne 255.255.255.255";

/// Prefix of the per-file contribution records (the only key trident adds).
const CONTRIB_PREFIX: &str = "trident:contrib:";

/// Keys read per `SCAN` step when listing sensors.
const SCAN_COUNT: usize = 1000;

/// A key receiving at least this many members from one file is a bulk-write candidate
/// (three commands, `DEL`, `ZADD`, `EVAL`, instead of one `ZINCRBY` per member).
const BULK_MIN: usize = 8;

/// Merges a staging sorted set (`KEYS[2]`) into its key (`KEYS[1]`) and deletes it: renamed
/// into place when the key does not exist (O(1)), else added with `ZUNIONSTORE` (weight 1).
/// Used for additions only; a subtraction (`--force`) always goes through `ZUNIONSTORE`
/// with weight -1.
const MERGE_SCRIPT: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return redis.call('RENAME', KEYS[2], KEYS[1]) end
redis.call('ZUNIONSTORE', KEYS[1], 2, KEYS[1], KEYS[2])
return redis.call('DEL', KEYS[2])
";

/// Members per bulk `ZADD` command.
const BULK_CHUNK: usize = 8192;

/// Bulk-write a key when the file brings at least 1/`BULK_RATIO` of its current size.
const BULK_RATIO: u64 = 4;

/// First wait before retrying after a connection failure; doubled up to [`MAX_WAIT`].
const FIRST_WAIT: Duration = Duration::from_millis(50);

/// Longest wait between two retries.
const MAX_WAIT: Duration = Duration::from_secs(2);

/// How long connection failures are retried by default.
const DEFAULT_RETRY_BUDGET: Duration = Duration::from_secs(30);

/// The cluster write of one sensor/day slot: skip when the slot already has the file
/// (`KEYS[1]` = the slot's `FILES`, `ARGV[1]` = the file name), else apply the triples
/// (key index, increment, member) of `ARGV[2..]` and record the file.
const CLUSTER_SCRIPT: &str = r"
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 0 end
for i = 2, #ARGV, 3 do
  redis.call('ZINCRBY', KEYS[tonumber(ARGV[i])], ARGV[i + 1], ARGV[i + 2])
end
redis.call('SADD', KEYS[1], ARGV[1])
return 1
";

/// Which of potiron's Redis layouts a store writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RedisLayout {
    /// potiron's current importer (`parse_pcap_files.py`, 2019): `PARAMETERS`, `FILES`,
    /// `<sensor>_DAYS`, `FIELDS`/`JSON_FIELDS` lists.
    #[default]
    Current,
    /// potiron's legacy direct importer (`potiron-json-tshark.py -dj`, ≤ 2018-11), read by
    /// its CSV exporters, bokeh and parallel-coordinate scripts: `BPF`, `CK`, `FILES`,
    /// global `DAYS`, `FIELDS` set; `iptos` always `0`.
    Legacy,
}

/// One key's increments: (member, count).
type Members = Vec<(String, u64)>;

/// One file's sorted-set increments: key → (member, count).
type Zsets = BTreeMap<String, Members>;

enum Client {
    Single(redis::Client),
    Cluster(redis::cluster::ClusterClient),
}

enum Conn {
    Single(redis::Connection),
    Cluster(Box<redis::cluster::ClusterConnection>),
}

impl Client {
    fn connect(&self) -> RedisResult<Conn> {
        Ok(match self {
            Client::Single(c) => Conn::Single(c.get_connection()?),
            Client::Cluster(c) => Conn::Cluster(Box::new(c.get_connection()?)),
        })
    }
}

impl Conn {
    fn like(&mut self) -> &mut dyn ConnectionLike {
        match self {
            Conn::Single(c) => c,
            Conn::Cluster(c) => &mut **c,
        }
    }
}

/// A Redis server (or Redis Cluster) written in potiron's layout.
pub struct RedisStore {
    url: String,
    client: Client,
    con: Conn,
    layout: RedisLayout,
    combined: bool,
    retry_budget: Duration,
}

/// True for failures worth reconnecting and retrying: the server went away, is restarting
/// or loading its data, or a cluster is re-sharding.
fn transient(e: &RedisError) -> bool {
    use redis::{ErrorKind, ServerErrorKind};
    e.is_io_error()
        || e.is_connection_refusal()
        || e.is_connection_dropped()
        || e.is_timeout()
        || matches!(
            e.kind(),
            ErrorKind::ClusterConnectionNotFound
                | ErrorKind::Server(
                    ServerErrorKind::BusyLoading
                        | ServerErrorKind::TryAgain
                        | ServerErrorKind::ClusterDown
                        | ServerErrorKind::MasterDown
                )
        )
}

fn to_u64(score: f64) -> u64 {
    if score.is_finite() && score > 0.0 {
        // Scores are integral counts written by ZINCRBY.
        score.round() as u64
    } else {
        0
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// First bytes of a contribution record in LZ4 (records written before it are gzip, which
/// starts `1f 8b`).
const CONTRIB_LZ4: &[u8; 4] = b"TRZ4";

/// Serializes a contribution: per key a line `K<key>`, then `<member>\t<count>` lines;
/// [`CONTRIB_LZ4`], then LZ4's block format with the length prepended (a file's per-packet
/// fields make this tens of MB of text: LZ4 compresses it several times faster than gzip).
fn encode_contrib(z: &Zsets) -> Result<Vec<u8>, IndexError> {
    let mut text = Vec::with_capacity(z.values().map(Vec::len).sum::<usize>() * 16);
    let mut num = itoa::Buffer::new();
    for (key, members) in z {
        text.push(b'K');
        text.extend_from_slice(key.as_bytes());
        text.push(b'\n');
        for (m, n) in members {
            text.extend_from_slice(m.as_bytes());
            text.push(b'\t');
            text.extend_from_slice(num.format(*n).as_bytes());
            text.push(b'\n');
        }
    }
    let mut out = CONTRIB_LZ4.to_vec();
    out.extend_from_slice(&lz4_flex::compress_prepend_size(&text));
    Ok(out)
}

/// Parses what [`encode_contrib`] wrote.
fn decode_contrib(name: &str, blob: &[u8]) -> Result<Zsets, IndexError> {
    let bad = |why: String| {
        IndexError::Incompatible(format!("contribution record {CONTRIB_PREFIX}{name}: {why}"))
    };
    let text = if let Some(lz4) = blob.strip_prefix(CONTRIB_LZ4) {
        let raw = lz4_flex::decompress_size_prepended(lz4).map_err(|e| bad(e.to_string()))?;
        String::from_utf8(raw).map_err(|e| bad(e.to_string()))?
    } else {
        let mut text = String::new();
        flate2::read::GzDecoder::new(blob)
            .read_to_string(&mut text)
            .map_err(|e| bad(e.to_string()))?;
        text
    };
    let mut out = Zsets::new();
    let mut current: Option<&mut Vec<(String, u64)>> = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(key) = line.strip_prefix('K') {
            current = Some(out.entry(key.to_owned()).or_default());
            continue;
        }
        let parsed = line
            .rsplit_once('\t')
            .and_then(|(m, n)| Some((m, n.parse::<u64>().ok()?)));
        match (parsed, current.as_mut()) {
            (Some((m, n)), Some(v)) => v.push((m.to_owned(), n)),
            _ => return Err(bad(format!("line {}: {line:?}", i + 1))),
        }
    }
    Ok(out)
}

impl RedisStore {
    /// Connects to `redis://host:port[/db]`, `unix:///path.sock[?db=N]`, or a Redis Cluster
    /// with `redis+cluster://host:port[,host:port...]` (any of its nodes). The layout of an
    /// existing database is detected (legacy when it has `BPF` and no `PARAMETERS`); a new one
    /// gets the current layout, plain keys.
    ///
    /// # Errors
    /// The URL is invalid or the server unreachable.
    pub fn open(url: &str) -> Result<Self, IndexError> {
        let client = if let Some(nodes) = url.strip_prefix("redis+cluster://") {
            let nodes: Vec<String> = nodes
                .split(',')
                .filter(|n| !n.is_empty())
                .map(|n| format!("redis://{n}"))
                .collect();
            Client::Cluster(redis::cluster::ClusterClient::new(nodes)?)
        } else {
            Client::Single(redis::Client::open(url)?)
        };
        let con = client.connect()?;
        let mut store = RedisStore {
            url: url.to_owned(),
            client,
            con,
            layout: RedisLayout::Current,
            combined: false,
            retry_budget: DEFAULT_RETRY_BUDGET,
        };
        let (params, bpf): (bool, bool) = (
            redis::cmd("EXISTS")
                .arg("PARAMETERS")
                .query(store.con.like())?,
            redis::cmd("EXISTS").arg("BPF").query(store.con.like())?,
        );
        if bpf && !params {
            store.layout = RedisLayout::Legacy;
            store.combined = redis::cmd("SISMEMBER")
                .arg("CK")
                .arg("YES")
                .query(store.con.like())?;
        } else {
            let ck: Option<String> = redis::cmd("HGET")
                .arg("PARAMETERS")
                .arg("ck")
                .query(store.con.like())?;
            store.combined = ck.as_deref() == Some("True");
        }
        Ok(store)
    }

    /// Writes potiron's combined keys (`-ck`: one set of keys per IP protocol) instead of
    /// the plain ones. A database holds one layout: ingest refuses to mix them (potiron
    /// silently mixes them, its quirk Q14).
    #[must_use]
    pub fn with_combined_keys(mut self, combined: bool) -> Self {
        self.combined = combined;
        self
    }

    /// Writes potiron's `layout`; ingest refuses a database holding the other one.
    #[must_use]
    pub fn with_layout(mut self, layout: RedisLayout) -> Self {
        self.layout = layout;
        self
    }

    /// Retries connection failures (server down, restarting, loading) for this long, with
    /// exponential backoff, before giving up (default 30 s; zero: no retry).
    #[must_use]
    pub fn with_retry_budget(mut self, budget: Duration) -> Self {
        self.retry_budget = budget;
        self
    }

    /// The layout this store writes and reads.
    #[must_use]
    pub fn layout(&self) -> RedisLayout {
        self.layout
    }

    /// The connection, for tests and tools that read the keys directly.
    pub fn connection(&mut self) -> &mut dyn ConnectionLike {
        self.con.like()
    }

    fn is_cluster(&self) -> bool {
        matches!(self.con, Conn::Cluster(_))
    }

    /// Runs `f`, reconnecting and retrying with backoff while it fails for a transient
    /// reason, within the retry budget.
    fn retry<T>(
        &mut self,
        mut f: impl FnMut(&mut dyn ConnectionLike) -> RedisResult<T>,
    ) -> Result<T, IndexError> {
        self.retry_conn(|c| f(c.like()))
    }

    /// [`RedisStore::retry`], handing `f` the connection itself.
    fn retry_conn<T>(
        &mut self,
        mut f: impl FnMut(&mut Conn) -> RedisResult<T>,
    ) -> Result<T, IndexError> {
        let start = Instant::now();
        let mut wait = FIRST_WAIT;
        let mut attempts = 1u32;
        loop {
            match f(&mut self.con) {
                Ok(v) => return Ok(v),
                Err(e) if transient(&e) => {
                    if start.elapsed() + wait > self.retry_budget {
                        return Err(IndexError::Unreachable {
                            url: self.url.clone(),
                            attempts,
                            secs: start.elapsed().as_secs_f64(),
                            source: e,
                        });
                    }
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(MAX_WAIT);
                    attempts += 1;
                    if let Ok(c) = self.client.connect() {
                        self.con = c;
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// A sorted-set key: potiron's shape on a single server, hash-tagged per sensor and day
    /// on a cluster.
    fn zkey(&self, sensor: &str, proto: Option<&str>, day: Day, field: &str) -> String {
        match (self.is_cluster(), proto) {
            (false, None) => format!("{sensor}:{day}:{field}"),
            (false, Some(p)) => format!("{sensor}:{p}:{day}:{field}"),
            (true, None) => format!("{{{sensor}:{day}}}:{field}"),
            (true, Some(p)) => format!("{{{sensor}:{day}}}:{p}:{field}"),
        }
    }

    /// The keys of one sensor, day and field: one, or one per protocol with combined keys.
    fn field_keys(
        &mut self,
        sensor: &str,
        day: Day,
        field: Field,
    ) -> Result<Vec<String>, IndexError> {
        if !self.combined {
            return Ok(vec![self.zkey(sensor, None, day, field.name())]);
        }
        Ok(self
            .protocol_keys(sensor, day, field)?
            .into_iter()
            .map(|(_, k)| k)
            .collect())
    }

    /// The keys of one sensor, day and field per protocol (combined keys only), with the
    /// protocol's name.
    fn protocol_keys(
        &mut self,
        sensor: &str,
        day: Day,
        field: Field,
    ) -> Result<Vec<(String, String)>, IndexError> {
        let mut protos: Vec<String> = redis::cmd("SMEMBERS")
            .arg("PROTOCOLS")
            .query(self.con.like())?;
        protos.sort();
        Ok(protos
            .into_iter()
            .map(|p| {
                let key = self.zkey(sensor, Some(&p), day, field.name());
                (p, key)
            })
            .collect())
    }

    fn need_combined(&self) -> Result<(), IndexError> {
        if self.combined {
            Ok(())
        } else {
            Err(IndexError::Unsupported(
                "per-protocol counts need potiron's combined keys: this Redis database was written without them (ingest with --combined-keys)".to_owned(),
            ))
        }
    }

    fn scan(&mut self, pattern: &str) -> Result<Vec<String>, IndexError> {
        let mut out = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(SCAN_COUNT)
                .query(self.con.like())?;
            out.extend(keys);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        Ok(out)
    }

    fn sensors(&mut self, sensor: Option<&str>) -> Result<Vec<String>, IndexError> {
        if let Some(s) = sensor {
            return Ok(vec![s.to_owned()]);
        }
        let mut out: Vec<String> = if self.is_cluster() {
            redis::cmd("SMEMBERS")
                .arg("SENSORS")
                .query(self.con.like())?
        } else if self.layout == RedisLayout::Legacy {
            // No sensor list in the legacy layout: every counted packet has a protocol.
            let parts = if self.combined { 4 } else { 3 };
            self.scan("*:protocol")?
                .iter()
                .filter_map(|k| k.rsplitn(parts, ':').nth(parts - 1).map(str::to_owned))
                .collect()
        } else {
            self.scan("*_DAYS")?
                .iter()
                .filter_map(|k| k.strip_suffix("_DAYS").map(str::to_owned))
                .collect()
        };
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// The (sensor, day) pairs recorded within the period.
    fn sensor_days(
        &mut self,
        sensor: Option<&str>,
        period: Period,
    ) -> Result<Vec<(String, Day)>, IndexError> {
        let (from, to) = period.bounds();
        let mut out = Vec::new();
        for s in self.sensors(sensor)? {
            let key = match self.layout {
                RedisLayout::Legacy => "DAYS".to_owned(),
                RedisLayout::Current => format!("{s}_DAYS"),
            };
            let days: Vec<String> = redis::cmd("SMEMBERS").arg(key).query(self.con.like())?;
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

    /// Checks that the database holds this store's layout; true when it is new (its
    /// bookkeeping must be written).
    fn check_layout(&mut self) -> Result<bool, IndexError> {
        let combined = self.combined;
        let layout = self.layout;
        let (format, ck, bpf, ck_set): (Option<String>, Option<String>, Vec<String>, Vec<String>) =
            // One command at a time: a cluster connection takes no multi-key pipelines.
            self.retry(|con| {
                Ok((
                    redis::cmd("HGET").arg("PARAMETERS").arg("format").query(con)?,
                    redis::cmd("HGET").arg("PARAMETERS").arg("ck").query(con)?,
                    redis::cmd("SMEMBERS").arg("BPF").query(con)?,
                    redis::cmd("SMEMBERS").arg("CK").query(con)?,
                ))
            })?;
        match layout {
            RedisLayout::Current => {
                if !bpf.is_empty() && format.is_none() {
                    return Err(IndexError::Incompatible(
                        "the database holds potiron's legacy layout (BPF, CK): ingest with --redis-layout legacy".to_owned(),
                    ));
                }
                if let Some(f) = &format
                    && f != "standard"
                {
                    return Err(IndexError::Incompatible(format!(
                        "PARAMETERS.format is {f:?}, trident writes \"standard\""
                    )));
                }
                let ck_text = if combined { "True" } else { "False" };
                if let Some(c) = &ck
                    && c != ck_text
                {
                    return Err(IndexError::Incompatible(format!(
                        "PARAMETERS.ck is {c:?}: the database holds {} keys; ingest {} combined keys",
                        if c == "True" { "combined" } else { "plain" },
                        if c == "True" { "with" } else { "without" },
                    )));
                }
                Ok(format.is_none())
            }
            RedisLayout::Legacy => {
                if format.is_some() {
                    return Err(IndexError::Incompatible(
                        "the database holds potiron's current layout (PARAMETERS): ingest without --redis-layout legacy".to_owned(),
                    ));
                }
                if bpf.iter().any(|b| b != LEGACY_BPF) {
                    return Err(IndexError::Incompatible(format!(
                        "BPF holds {bpf:?}, trident writes {LEGACY_BPF:?}"
                    )));
                }
                let want = if combined { "YES" } else { "NO" };
                if ck_set.iter().any(|c| c != want) {
                    return Err(IndexError::Incompatible(format!(
                        "CK holds {ck_set:?}: ingest {} combined keys",
                        if combined { "without" } else { "with" }
                    )));
                }
                Ok(bpf.is_empty())
            }
        }
    }

    /// One file's sorted-set increments in this store's layout, and the protocol names.
    fn zsets(&self, meta: &FileMeta, agg: &FileAgg) -> (Zsets, BTreeSet<String>) {
        let combined = self.combined;
        let legacy = self.layout == RedisLayout::Legacy;
        // potiron's plain keys sum over protocols; combined keys keep them apart. Members are
        // gathered per key, then sorted and equal members summed (cheaper than a map of
        // strings: per-packet fields bring one member per packet).
        let mut merged: HashMap<(Day, i16, Field), Vec<(String, u64)>> = HashMap::new();
        agg.for_each(|day, proto, field, value, count| {
            if !field.is_potiron() {
                return;
            }
            let proto = if combined { proto } else { NO_PROTOCOL };
            let value = if legacy && field == Field::Iptos {
                "0"
            } else {
                value
            };
            merged
                .entry((day, proto, field))
                .or_default()
                .push((value.to_owned(), count));
        });
        let mut protocols = BTreeSet::new();
        let mut out = Zsets::new();
        for ((day, proto, field), mut members) in merged {
            let key = if combined {
                let name = protocol_key_name(u8::try_from(proto).unwrap_or(u8::MAX));
                let key = self.zkey(&meta.sensor, Some(&name), day, field.name());
                protocols.insert(name.into_owned());
                key
            } else {
                self.zkey(&meta.sensor, None, day, field.name())
            };
            members.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            members.dedup_by(|later, kept| {
                let same = later.0 == kept.0;
                if same {
                    kept.1 += later.1;
                }
                same
            });
            out.entry(key).or_default().extend(members);
        }
        (out, protocols)
    }

    /// Current sizes of the keys a bulk write could apply to.
    fn cards(&mut self, z: &Zsets) -> Result<HashMap<String, u64>, IndexError> {
        let keys: Vec<&String> = z
            .iter()
            .filter(|(_, m)| m.len() >= BULK_MIN)
            .map(|(k, _)| k)
            .collect();
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let sizes: Vec<u64> = self.retry(|con| {
            let mut p = redis::pipe();
            for k in &keys {
                p.cmd("ZCARD").arg(*k);
            }
            p.query(con)
        })?;
        Ok(keys.into_iter().cloned().zip(sizes).collect())
    }

    fn contrib(&mut self, name: &str) -> Result<Option<Zsets>, IndexError> {
        let key = format!("{CONTRIB_PREFIX}{name}");
        let blob: Option<Vec<u8>> = self.retry(|con| redis::cmd("GET").arg(&key).query(con))?;
        blob.map(|b| decode_contrib(name, &b)).transpose()
    }

    fn ingest_single(
        &mut self,
        meta: &FileMeta,
        agg: &FileAgg,
        force: bool,
    ) -> Result<IngestOutcome, IndexError> {
        let fresh = self.check_layout()?;
        let (zsets, protocols) = self.zsets(meta, agg);
        let rows: usize = zsets.values().map(Vec::len).sum();
        let blob = encode_contrib(&zsets)?;
        let old = if force {
            self.contrib(&meta.name)?
        } else {
            None
        };
        let mut cards = self.cards(&zsets)?;
        if let Some(o) = &old {
            cards.extend(self.cards(o)?);
        }
        let contrib_key = format!("{CONTRIB_PREFIX}{}", meta.name);
        let mut days: Vec<Day> = agg.potiron_days().into_iter().collect();
        let (legacy, combined) = (self.layout == RedisLayout::Legacy, self.combined);
        if !legacy {
            days.extend(meta.file_day);
        }
        let days_key = if legacy {
            "DAYS".to_owned()
        } else {
            format!("{}_DAYS", meta.sensor)
        };
        // Set once a transaction may have reached the server, so that a retry after a lost
        // reply recognises its own earlier success instead of counting again.
        let mut sent = false;
        loop {
            let outcome = self.retry_conn(|conn| {
                let Conn::Single(con) = conn else {
                    return Err(RedisError::from((
                        redis::ErrorKind::Client,
                        "a single-server transaction on a cluster connection",
                    )));
                };
                redis::cmd("WATCH")
                    .arg("FILES")
                    .arg(&contrib_key)
                    .query::<()>(con)?;
                let seen: bool = redis::cmd("SISMEMBER")
                    .arg("FILES")
                    .arg(&meta.name)
                    .query(con)?;
                if seen && sent {
                    let cur: Option<Vec<u8>> = redis::cmd("GET").arg(&contrib_key).query(con)?;
                    if !force || cur.as_deref() == Some(&blob[..]) {
                        redis::cmd("UNWATCH").query::<()>(con)?;
                        return Ok(Some(Ok(if force {
                            IngestOutcome::Replaced { rows }
                        } else {
                            IngestOutcome::Ingested { rows }
                        })));
                    }
                }
                if seen && !force {
                    redis::cmd("UNWATCH").query::<()>(con)?;
                    return Ok(Some(Ok(IngestOutcome::Skipped)));
                }
                if seen && old.is_none() {
                    redis::cmd("UNWATCH").query::<()>(con)?;
                    return Ok(Some(Err(IndexError::Unsupported(format!(
                        "--force: {} was ingested without a contribution record ({CONTRIB_PREFIX}…: by potiron, or by an older trident), so its counts cannot be removed",
                        meta.name
                    )))));
                }
                let mut tx = Tx::begin(con);
                if legacy {
                    tx.cmd(&[b"SADD", b"BPF", LEGACY_BPF.as_bytes()], &NONE)?;
                    let ck: &[u8] = if combined { b"YES" } else { b"NO" };
                    tx.cmd(&[b"SADD", b"CK", ck], &NONE)?;
                    tx.cmd(&[b"SADD", b"FIELDS"], &JSON_FIELDS[..])?;
                } else if fresh {
                    tx.cmd(&[b"DEL", b"PARAMETERS"], &NONE)?;
                    let ck: &[u8] = if combined { b"True" } else { b"False" };
                    tx.cmd(&[b"HSET", b"PARAMETERS", b"ck", ck], &NONE)?;
                    let pairs: Vec<&str> = PARAMETERS.iter().flat_map(|(k, v)| [*k, *v]).collect();
                    tx.cmd(&[b"HSET", b"PARAMETERS"], &pairs)?;
                    tx.cmd(&[b"DEL", b"FIELDS"], &NONE)?;
                    tx.cmd(&[b"RPUSH", b"FIELDS"], &RAW_FIELDS[..])?;
                    tx.cmd(&[b"DEL", b"JSON_FIELDS"], &NONE)?;
                    tx.cmd(&[b"RPUSH", b"JSON_FIELDS"], &JSON_FIELDS[..])?;
                }
                if seen && let Some(o) = &old {
                    push_zsets(&mut tx, o, -1, &cards)?;
                }
                push_zsets(&mut tx, &zsets, 1, &cards)?;
                tx.cmd(&[b"SADD", b"FILES", meta.name.as_bytes()], &NONE)?;
                if !days.is_empty() {
                    let days: Vec<String> = days.iter().map(ToString::to_string).collect();
                    tx.cmd(&[b"SADD", days_key.as_bytes()], &days)?;
                }
                if !protocols.is_empty() {
                    let protocols: Vec<&String> = protocols.iter().collect();
                    tx.cmd(&[b"SADD", b"PROTOCOLS"], &protocols)?;
                }
                tx.cmd(&[b"SET", contrib_key.as_bytes(), &blob[..]], &NONE)?;
                sent = true;
                let r = tx.exec()?;
                Ok(r.map(|_| {
                    Ok(if seen {
                        IngestOutcome::Replaced { rows }
                    } else {
                        IngestOutcome::Ingested { rows }
                    })
                }))
            })?;
            // `None`: FILES changed between WATCH and EXEC (another ingest); try again.
            if let Some(o) = outcome {
                return o;
            }
        }
    }

    fn ingest_cluster(
        &mut self,
        meta: &FileMeta,
        agg: &FileAgg,
        force: bool,
    ) -> Result<IngestOutcome, IndexError> {
        if self.layout == RedisLayout::Legacy {
            return Err(IndexError::Unsupported(
                "potiron's legacy layout on a Redis Cluster (potiron never ran on one)".to_owned(),
            ));
        }
        let name = meta.name.clone();
        let seen: bool =
            self.retry(|con| redis::cmd("SISMEMBER").arg("FILES").arg(&name).query(con))?;
        if seen {
            if force {
                return Err(IndexError::Unsupported(
                    "--force with a Redis Cluster: remove the file's keys' contribution on a single server, or re-ingest into a fresh cluster".to_owned(),
                ));
            }
            return Ok(IngestOutcome::Skipped);
        }
        let fresh = self.check_layout()?;
        let (zsets, protocols) = self.zsets(meta, agg);
        let rows: usize = zsets.values().map(Vec::len).sum();
        let blob = encode_contrib(&zsets)?;
        // One script per hash-tag group (sensor and day).
        let mut groups: BTreeMap<&str, Vec<(&String, &Members)>> = BTreeMap::new();
        for (k, m) in &zsets {
            let tag = k.find('}').map_or(k.as_str(), |i| &k[..=i]);
            groups.entry(tag).or_default().push((k, m));
        }
        for (tag, keys) in &groups {
            self.retry(|con| {
                let mut c = redis::cmd("EVAL");
                c.arg(CLUSTER_SCRIPT)
                    .arg(keys.len() + 1)
                    .arg(format!("{tag}:FILES"));
                for (k, _) in keys {
                    c.arg(*k);
                }
                c.arg(&name);
                for (i, (_, members)) in keys.iter().enumerate() {
                    for (m, n) in *members {
                        c.arg(i + 2).arg(*n).arg(m);
                    }
                }
                c.query::<i64>(con)
            })?;
        }
        let mut days: Vec<Day> = agg.potiron_days().into_iter().collect();
        days.extend(meta.file_day);
        let combined = self.combined;
        let sensor = meta.sensor.clone();
        self.retry(|con| {
            if fresh {
                let mut h = redis::cmd("HSET");
                h.arg("PARAMETERS")
                    .arg("ck")
                    .arg(if combined { "True" } else { "False" });
                for (k, v) in PARAMETERS {
                    h.arg(k).arg(v);
                }
                h.query::<()>(con)?;
            }
            redis::cmd("SADD")
                .arg("SENSORS")
                .arg(&sensor)
                .query::<()>(con)?;
            if !days.is_empty() {
                redis::cmd("SADD")
                    .arg(format!("{sensor}_DAYS"))
                    .arg(&days)
                    .query::<()>(con)?;
            }
            if !protocols.is_empty() {
                redis::cmd("SADD")
                    .arg("PROTOCOLS")
                    .arg(&protocols)
                    .query::<()>(con)?;
            }
            redis::cmd("SET")
                .arg(format!("{CONTRIB_PREFIX}{name}"))
                .arg(&blob[..])
                .query::<()>(con)?;
            redis::cmd("SADD").arg("FILES").arg(&name).query::<()>(con)
        })?;
        Ok(IngestOutcome::Ingested { rows })
    }
}

/// Adds `sign` × each count to its sorted set: bulk (`ZADD` into a staging key, then
/// `ZUNIONSTORE`) for keys receiving many members relative to their size, `ZINCRBY`
/// otherwise; after a subtraction, members left at zero are removed.
fn push_zsets(
    tx: &mut Tx<'_>,
    z: &Zsets,
    sign: i64,
    cards: &HashMap<String, u64>,
) -> RedisResult<()> {
    for (key, members) in z {
        let card = cards.get(key).copied().unwrap_or(0);
        let bulk = members.len() >= BULK_MIN && (members.len() as u64) * BULK_RATIO >= card;
        if bulk {
            let stage = format!("{key}:trident-stage");
            tx.cmd(&[b"DEL", stage.as_bytes()], &NONE)?;
            for chunk in members.chunks(BULK_CHUNK) {
                tx.zadd(&stage, chunk)?;
            }
            if sign > 0 {
                tx.cmd(
                    &[
                        b"EVAL",
                        MERGE_SCRIPT.as_bytes(),
                        b"2",
                        key.as_bytes(),
                        stage.as_bytes(),
                    ],
                    &NONE,
                )?;
            } else {
                let weight = sign.to_string();
                tx.cmd(
                    &[
                        b"ZUNIONSTORE",
                        key.as_bytes(),
                        b"2",
                        key.as_bytes(),
                        stage.as_bytes(),
                        b"WEIGHTS",
                        b"1",
                        weight.as_bytes(),
                    ],
                    &NONE,
                )?;
                tx.cmd(&[b"DEL", stage.as_bytes()], &NONE)?;
            }
        } else {
            for (m, n) in members {
                tx.zincrby(key, sign * to_i64(*n), m)?;
            }
        }
        if sign < 0 {
            tx.cmd(&[b"ZREMRANGEBYSCORE", key.as_bytes(), b"-inf", b"0"], &NONE)?;
        }
    }
    Ok(())
}

impl Store for RedisStore {
    fn is_ingested(&mut self, meta: &FileMeta) -> Result<bool, IndexError> {
        let name = meta.name.clone();
        self.retry(|con| redis::cmd("SISMEMBER").arg("FILES").arg(&name).query(con))
    }

    fn identifies_by_name(&self) -> bool {
        true
    }

    fn ingest(
        &mut self,
        meta: &FileMeta,
        agg: &FileAgg,
        force: bool,
    ) -> Result<IngestOutcome, IndexError> {
        if self.is_cluster() {
            self.ingest_cluster(meta, agg, force)
        } else {
            self.ingest_single(meta, agg, force)
        }
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
                let members: Vec<(String, f64)> = redis::cmd("ZRANGE")
                    .arg(key)
                    .arg(0)
                    .arg(-1)
                    .arg("WITHSCORES")
                    .query(self.con.like())?;
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
                let score: Option<f64> = redis::cmd("ZSCORE")
                    .arg(key)
                    .arg(value)
                    .query(self.con.like())?;
                if let Some(sc) = score {
                    *per_day.entry(d).or_insert(0) += to_u64(sc);
                }
            }
        }
        Ok(per_day.into_iter().filter(|(_, n)| *n > 0).collect())
    }

    fn top_per_protocol(&mut self, q: &TopQuery<'_>) -> Result<Vec<ProtocolTopRow>, IndexError> {
        self.need_combined()?;
        let mut sums: HashMap<(String, String), u64> = HashMap::new();
        for (s, d) in self.sensor_days(q.sensor, q.period)? {
            for (proto, key) in self.protocol_keys(&s, d, q.field)? {
                let members: Vec<(String, f64)> = redis::cmd("ZRANGE")
                    .arg(key)
                    .arg(0)
                    .arg(-1)
                    .arg("WITHSCORES")
                    .query(self.con.like())?;
                for (m, score) in members {
                    *sums.entry((proto.clone(), m)).or_insert(0) += to_u64(score);
                }
            }
        }
        Ok(rank_per_protocol(sums, q.skip, q.limit))
    }

    fn series_per_protocol(
        &mut self,
        field: Field,
        value: &str,
        sensor: Option<&str>,
        period: Period,
    ) -> Result<Vec<(Day, String, u64)>, IndexError> {
        self.need_combined()?;
        let mut per: BTreeMap<(Day, String), u64> = BTreeMap::new();
        for (s, d) in self.sensor_days(sensor, period)? {
            for (proto, key) in self.protocol_keys(&s, d, field)? {
                let score: Option<f64> = redis::cmd("ZSCORE")
                    .arg(key)
                    .arg(value)
                    .query(self.con.like())?;
                if let Some(sc) = score {
                    *per.entry((d, proto)).or_insert(0) += to_u64(sc);
                }
            }
        }
        Ok(per
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|((d, p), n)| (d, p, n))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contributions_round_trip() {
        let mut z = Zsets::new();
        z.insert(
            "s:20200223:dport".to_owned(),
            vec![("443".to_owned(), 232), ("-1".to_owned(), 3)],
        );
        z.insert("s:20200223:ipsrc".to_owned(), vec![("a\tb".to_owned(), 1)]);
        let blob = encode_contrib(&z).unwrap();
        assert_eq!(decode_contrib("x", &blob).unwrap(), z);
        assert!(blob.starts_with(CONTRIB_LZ4));
        assert!(decode_contrib("x", b"not gzip").is_err());
        assert!(decode_contrib("x", b"TRZ4\x05\0\0\0ab").is_err());
    }

    /// Records written before LZ4 (gzip of the same text) still read, so `--force` works on
    /// files ingested by an older trident.
    #[test]
    fn gzip_contributions_still_read() {
        use std::io::Write as _;
        let text = "Ks:20200223:dport\n443\t232\n-1\t3\n";
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text.as_bytes()).unwrap();
        let blob = enc.finish().unwrap();
        let z = decode_contrib("x", &blob).unwrap();
        assert_eq!(
            z["s:20200223:dport"],
            vec![("443".to_owned(), 232), ("-1".to_owned(), 3)]
        );
    }
}
