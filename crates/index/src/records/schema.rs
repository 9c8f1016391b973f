//! The records' tables.
//!
//! Every per-file table carries `file_id` (the `files` row), which is what removal and
//! `--force` delete by. The wide JSON of a flow lives in `flow_records` (same rowid as its
//! `flows` row; LZ4-compressed against a fixed dictionary, a BLOB, since stores written before
//! that keep TEXT: see `flowblob`) and a host's merged record in `host_records`, so that filtering, counting and
//! sorting read only narrow rows. `hosts` is derived (merged per key from `host_files` and
//! the latest `predictions` row) and recomputed for the keys a file touches; `days` is
//! `traffic` summed per UTC day (what summaries and sensor lists read). Times are
//! nanoseconds since the epoch (`*_ns`), minutes are epoch seconds of the minute start, days
//! `YYYYMMDD`; `host_ips.ip` is [`super::ip_key`] (family byte + 128-bit big-endian address)
//! so a CIDR network is one `BETWEEN`.

/// The `flows` table's secondary indexes (name, statement), as [`RECORDS_SCHEMA`] creates
/// them: ingest drops and rebuilds them around a large batch of flows.
pub(crate) const FLOW_INDEXES: [(&str, &str); 8] = [
    (
        "flows_first",
        "CREATE INDEX IF NOT EXISTS flows_first ON flows (first_ns);",
    ),
    (
        "flows_file",
        "CREATE INDEX IF NOT EXISTS flows_file ON flows (file_id);",
    ),
    (
        "flows_orig_ip",
        "CREATE INDEX IF NOT EXISTS flows_orig_ip ON flows (orig_ip, first_ns);",
    ),
    (
        "flows_resp_ip",
        "CREATE INDEX IF NOT EXISTS flows_resp_ip ON flows (resp_ip, first_ns);",
    ),
    (
        "flows_orig_mac",
        "CREATE INDEX IF NOT EXISTS flows_orig_mac ON flows (orig_mac, first_ns);",
    ),
    (
        "flows_resp_mac",
        "CREATE INDEX IF NOT EXISTS flows_resp_mac ON flows (resp_mac, first_ns);",
    ),
    (
        "flows_orig_port",
        "CREATE INDEX IF NOT EXISTS flows_orig_port ON flows (orig_port, first_ns);",
    ),
    (
        "flows_resp_port",
        "CREATE INDEX IF NOT EXISTS flows_resp_port ON flows (resp_port, first_ns);",
    ),
];

/// A file's flows are written with the `flows` indexes dropped and rebuilt (one sort per
/// index) when they are at least 1/`FLOW_BULK_RATIO` of the flows already stored: rebuilding
/// reads every stored flow, so for a small file into a large store the per-row index
/// inserts are cheaper.
pub(crate) const FLOW_BULK_RATIO: i64 = 2;

/// Fewer flows than this are always inserted with the indexes in place.
pub(crate) const FLOW_BULK_MIN: i64 = 10_000;

/// Created with the counts' tables when a store is opened.
pub(crate) const RECORDS_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS flows (
    rowid INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL,
    sensor TEXT NOT NULL,
    id TEXT NOT NULL,
    first_ns INTEGER NOT NULL,
    last_ns INTEGER NOT NULL,
    protocol INTEGER NOT NULL,
    orig_ip TEXT NOT NULL,
    resp_ip TEXT NOT NULL,
    orig_port INTEGER,
    resp_port INTEGER,
    orig_mac TEXT,
    resp_mac TEXT,
    packets INTEGER NOT NULL,
    bytes INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS flow_records (
    rowid INTEGER PRIMARY KEY,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS flows_first ON flows (first_ns);
CREATE INDEX IF NOT EXISTS flows_file ON flows (file_id);
CREATE INDEX IF NOT EXISTS flows_orig_ip ON flows (orig_ip, first_ns);
CREATE INDEX IF NOT EXISTS flows_resp_ip ON flows (resp_ip, first_ns);
CREATE INDEX IF NOT EXISTS flows_orig_mac ON flows (orig_mac, first_ns);
CREATE INDEX IF NOT EXISTS flows_resp_mac ON flows (resp_mac, first_ns);
CREATE INDEX IF NOT EXISTS flows_orig_port ON flows (orig_port, first_ns);
CREATE INDEX IF NOT EXISTS flows_resp_port ON flows (resp_port, first_ns);
CREATE TABLE IF NOT EXISTS host_files (
    file_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    sensor TEXT NOT NULL,
    first_ns INTEGER NOT NULL,
    last_ns INTEGER NOT NULL,
    packets INTEGER NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (key, file_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS host_files_file ON host_files (file_id);
CREATE INDEX IF NOT EXISTS host_files_sensor ON host_files (sensor, key);
CREATE INDEX IF NOT EXISTS host_files_time ON host_files (first_ns, last_ns, sensor, key);
CREATE TABLE IF NOT EXISTS host_ips (
    ip BLOB NOT NULL,
    key TEXT NOT NULL,
    file_id INTEGER NOT NULL,
    PRIMARY KEY (ip, key, file_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS host_ips_file ON host_ips (file_id);
CREATE TABLE IF NOT EXISTS hosts (
    key TEXT PRIMARY KEY,
    mac TEXT,
    ip TEXT,
    ip_key BLOB,
    ips TEXT NOT NULL,
    vendor TEXT,
    os TEXT,
    names TEXT NOT NULL,
    first_ns INTEGER NOT NULL,
    last_ns INTEGER NOT NULL,
    packets INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    sensors TEXT NOT NULL,
    router INTEGER NOT NULL,
    role TEXT,
    confidence REAL,
    search TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS host_records (
    key TEXT PRIMARY KEY,
    record TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS hosts_last ON hosts (last_ns, key);
CREATE INDEX IF NOT EXISTS hosts_first ON hosts (first_ns, key);
CREATE INDEX IF NOT EXISTS hosts_packets ON hosts (packets, key);
CREATE INDEX IF NOT EXISTS hosts_bytes ON hosts (bytes, key);
CREATE INDEX IF NOT EXISTS hosts_role ON hosts (role, last_ns);
CREATE INDEX IF NOT EXISTS hosts_confidence ON hosts (confidence);
CREATE INDEX IF NOT EXISTS hosts_vendor ON hosts (vendor);
CREATE INDEX IF NOT EXISTS hosts_os ON hosts (os);
CREATE INDEX IF NOT EXISTS hosts_mac ON hosts (mac);
CREATE INDEX IF NOT EXISTS hosts_ip ON hosts (ip_key);
-- The hosts table's sorts on columns that can be NULL (NULLs last either way) read these
-- in order instead of sorting every host: the expressions match `hosts()`'s ORDER BY.
CREATE INDEX IF NOT EXISTS hosts_role_asc ON hosts (role IS NULL, role, key);
CREATE INDEX IF NOT EXISTS hosts_role_desc ON hosts (role IS NULL, role DESC, key DESC);
CREATE INDEX IF NOT EXISTS hosts_confidence_asc ON hosts (confidence IS NULL, confidence, key);
CREATE INDEX IF NOT EXISTS hosts_confidence_desc ON hosts (confidence IS NULL, confidence DESC, key DESC);
CREATE INDEX IF NOT EXISTS hosts_vendor_asc ON hosts (vendor IS NULL, vendor, key);
CREATE INDEX IF NOT EXISTS hosts_vendor_desc ON hosts (vendor IS NULL, vendor DESC, key DESC);
CREATE INDEX IF NOT EXISTS hosts_os_asc ON hosts (os IS NULL, os, key);
CREATE INDEX IF NOT EXISTS hosts_os_desc ON hosts (os IS NULL, os DESC, key DESC);
CREATE INDEX IF NOT EXISTS hosts_mac_asc ON hosts (mac IS NULL, mac, key);
CREATE INDEX IF NOT EXISTS hosts_mac_desc ON hosts (mac IS NULL, mac DESC, key DESC);
CREATE INDEX IF NOT EXISTS hosts_ip_key_asc ON hosts (ip_key IS NULL, ip_key, key);
CREATE INDEX IF NOT EXISTS hosts_ip_key_desc ON hosts (ip_key IS NULL, ip_key DESC, key DESC);
CREATE TABLE IF NOT EXISTS traffic (
    sensor TEXT NOT NULL,
    minute INTEGER NOT NULL,
    file_id INTEGER NOT NULL,
    day INTEGER NOT NULL,
    packets INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    first_ns INTEGER NOT NULL,
    last_ns INTEGER NOT NULL,
    PRIMARY KEY (sensor, minute, file_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS traffic_file ON traffic (file_id);
CREATE INDEX IF NOT EXISTS traffic_minute ON traffic (minute, sensor, packets, bytes);
CREATE TABLE IF NOT EXISTS days (
    sensor TEXT NOT NULL,
    day INTEGER NOT NULL,
    file_id INTEGER NOT NULL,
    packets INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    first_ns INTEGER NOT NULL,
    last_ns INTEGER NOT NULL,
    PRIMARY KEY (sensor, day, file_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS days_file ON days (file_id);
CREATE TABLE IF NOT EXISTS file_records (
    file_id INTEGER PRIMARY KEY,
    flows INTEGER NOT NULL,
    hosts INTEGER NOT NULL,
    predictions INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS predictions (
    id INTEGER PRIMARY KEY,
    file_id INTEGER,
    key TEXT NOT NULL,
    ts_ns INTEGER NOT NULL,
    model TEXT NOT NULL,
    role TEXT NOT NULL,
    confidence REAL NOT NULL,
    top TEXT NOT NULL,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS predictions_key ON predictions (key, ts_ns);
CREATE INDEX IF NOT EXISTS predictions_file ON predictions (file_id);
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_indexes_are_the_schemas() {
        for (name, sql) in FLOW_INDEXES {
            assert!(RECORDS_SCHEMA.contains(sql), "{sql} not in RECORDS_SCHEMA");
            assert!(
                sql.contains(&format!(" {name} ON flows ")),
                "{name} vs {sql}"
            );
        }
        assert_eq!(
            RECORDS_SCHEMA.matches(" ON flows ").count(),
            FLOW_INDEXES.len()
        );
    }
}
