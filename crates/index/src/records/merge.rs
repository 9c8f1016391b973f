//! Merging one host's per-file records into one: what `hosts` (the merged table) and
//! [`super::HostDetail::record`] hold.

use std::cmp::Ordering;
use std::net::IpAddr;

use serde_json::{Map, Value};

/// Counters of a host record, summed over files.
const SUMMED: [&str; 5] = ["flows", "pkts_out", "pkts_in", "bytes_out", "bytes_in"];
/// Flags that hold if they held in any file.
const ANY: [&str; 2] = ["router", "mac_local"];

/// Orders list members: addresses numerically, services by protocol then port, other text
/// as text.
fn member_order(a: &Value, b: &Value) -> Ordering {
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => {
            if let (Ok(p), Ok(q)) = (x.parse::<IpAddr>(), y.parse::<IpAddr>()) {
                return p.cmp(&q);
            }
            if let (Some(p), Some(q)) = (service_key(x), service_key(y)) {
                return p.cmp(&q);
            }
            x.cmp(y)
        }
        _ => a.to_string().cmp(&b.to_string()),
    }
}

/// `tcp/80` as (protocol, port) for ordering.
pub(crate) fn service_key(s: &str) -> Option<(u8, u16)> {
    let (proto, port) = s.split_once('/')?;
    let proto = match proto {
        "tcp" => 6,
        "udp" => 17,
        p => p.strip_prefix('p')?.parse().ok()?,
    };
    Some((proto, port.parse().ok()?))
}

/// Merges host records (as `trident hosts --format json` objects) of the same host from
/// several files. `records` must be ordered by the file's packets for the host, most first:
/// single values come from the first record that has them.
#[must_use]
pub(crate) fn merge_records(records: &[Value]) -> Value {
    let mut out = Map::new();
    for r in records {
        let Some(obj) = r.as_object() else { continue };
        for (k, v) in obj {
            let Some(cur) = out.get_mut(k) else {
                out.insert(k.clone(), v.clone());
                continue;
            };
            match k.as_str() {
                k if SUMMED.contains(&k) => {
                    let sum = cur
                        .as_u64()
                        .unwrap_or(0)
                        .saturating_add(v.as_u64().unwrap_or(0));
                    *cur = Value::from(sum);
                }
                k if ANY.contains(&k) => {
                    *cur =
                        Value::Bool(cur.as_bool().unwrap_or(false) || v.as_bool().unwrap_or(false));
                }
                "first_ts" => {
                    if v.as_str() < cur.as_str() {
                        *cur = v.clone();
                    }
                }
                "last_ts" => {
                    if v.as_str() > cur.as_str() {
                        *cur = v.clone();
                    }
                }
                _ => {
                    if let (Some(list), Some(more)) = (cur.as_array_mut(), v.as_array()) {
                        for m in more {
                            if !list.contains(m) {
                                list.push(m.clone());
                            }
                        }
                    }
                }
            }
        }
    }
    for v in out.values_mut() {
        if let Some(list) = v.as_array_mut() {
            list.sort_by(member_order);
        }
    }
    Value::Object(out)
}

/// A string member of a record.
pub(crate) fn str_of<'a>(r: &'a Value, k: &str) -> Option<&'a str> {
    r.get(k).and_then(Value::as_str)
}

/// A list of strings of a record.
pub(crate) fn strs_of(r: &Value, k: &str) -> Vec<String> {
    r.get(k)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A counter of a record.
pub(crate) fn u64_of(r: &Value, k: &str) -> u64 {
    r.get(k).and_then(Value::as_u64).unwrap_or(0)
}

/// The host's addresses, its main one first.
pub(crate) fn ips_of(r: &Value) -> Vec<String> {
    let main = str_of(r, "ip").map(str::to_owned);
    let mut ips: Vec<String> = main.iter().cloned().collect();
    for ip in strs_of(r, "ipv4").into_iter().chain(strs_of(r, "ipv6")) {
        if Some(&ip) != main.as_ref() {
            ips.push(ip);
        }
    }
    ips
}

/// Names it announced or was given: DHCP host name, then mDNS names.
pub(crate) fn names_of(r: &Value) -> Vec<String> {
    let mut names: Vec<String> = str_of(r, "dhcp_hostname")
        .map(str::to_owned)
        .into_iter()
        .collect();
    for n in strs_of(r, "mdns_names") {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_lists_counters_and_times() {
        let a = json!({"mac": "00:11:22:33:44:55", "ip": "10.0.0.2", "ipv4": ["10.0.0.2", "10.0.0.10"],
            "first_ts": "2014-08-01T12:00:00.000000000Z", "last_ts": "2014-08-01T13:00:00.000000000Z",
            "router": false, "flows": 3, "pkts_out": 10, "services_offered": ["tcp/80", "udp/53"], "os": "Linux"});
        let b = json!({"mac": "00:11:22:33:44:55", "ip": "10.0.0.9", "ipv4": ["10.0.0.9"],
            "first_ts": "2014-07-01T12:00:00.000000000Z", "last_ts": "2014-07-01T13:00:00.000000000Z",
            "router": true, "flows": 1, "pkts_out": 2, "services_offered": ["tcp/22"], "os": "Windows"});
        let m = merge_records(&[a, b]);
        assert_eq!(m["ip"], "10.0.0.2");
        assert_eq!(m["os"], "Linux");
        assert_eq!(m["ipv4"], json!(["10.0.0.2", "10.0.0.9", "10.0.0.10"]));
        assert_eq!(m["services_offered"], json!(["tcp/22", "tcp/80", "udp/53"]));
        assert_eq!(m["flows"], 4);
        assert_eq!(m["pkts_out"], 12);
        assert_eq!(m["router"], true);
        assert_eq!(m["first_ts"], "2014-07-01T12:00:00.000000000Z");
        assert_eq!(m["last_ts"], "2014-08-01T13:00:00.000000000Z");
        assert_eq!(ips_of(&m), ["10.0.0.2", "10.0.0.9", "10.0.0.10"]);
    }
}
