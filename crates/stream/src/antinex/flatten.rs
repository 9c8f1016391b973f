//! AntiNex's packet processor CSV: each layer flattened under a column prefix, `idx`
//! first, the other columns in ASCII order, pandas' number formatting.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// A flattened packet: column name to value.
pub type Row = BTreeMap<String, Value>;

/// Layer name to column prefix.
const PREFIXES: [(&str, &str); 10] = [
    ("ether", "eth"),
    ("ip", "ip"),
    ("ipv6", "ipv6"),
    ("tcp", "tcp"),
    ("udp", "udp"),
    ("dns", "dns"),
    ("icmp", "icmp"),
    ("arp", "arp"),
    ("raw", "raw"),
    ("padding", "pad"),
];

/// The ten placeholder id columns every AntiNex CSV has, always empty.
pub const PLACEHOLDERS: [&str; 10] = [
    "eth_id",
    "ip_id",
    "ipvsix_id",
    "icmp_id",
    "arp_id",
    "tcp_id",
    "udp_id",
    "dns_id",
    "raw_id",
    "pad_id",
];

/// The processor columns of AntiNex's published datasets (its 84-column universe without
/// `idx` and the builder's `label_name`, `label_value`, `src_file`), in ASCII order.
pub const STABLE_COLUMNS: [&str; 80] = [
    "arp_hwdst",
    "arp_hwlen",
    "arp_hwsrc",
    "arp_hwtype",
    "arp_id",
    "arp_op",
    "arp_pdst",
    "arp_plen",
    "arp_psrc",
    "arp_ptype",
    "dns_default_aa",
    "dns_default_ad",
    "dns_default_an",
    "dns_default_ancount",
    "dns_default_ar",
    "dns_default_arcount",
    "dns_default_cd",
    "dns_default_id",
    "dns_default_length",
    "dns_default_ns",
    "dns_default_nscount",
    "dns_default_opcode",
    "dns_default_qd",
    "dns_default_qdcount",
    "dns_default_qr",
    "dns_default_ra",
    "dns_default_rcode",
    "dns_default_rd",
    "dns_default_tc",
    "dns_default_z",
    "dns_id",
    "eth_dst",
    "eth_id",
    "eth_src",
    "eth_type",
    "icmp_addr_mask",
    "icmp_code",
    "icmp_gw",
    "icmp_id",
    "icmp_ptr",
    "icmp_seq",
    "icmp_ts_ori",
    "icmp_ts_rx",
    "icmp_ts_tx",
    "icmp_type",
    "icmp_unused",
    "ip_dst",
    "ip_id",
    "ip_ihl",
    "ip_len",
    "ip_src",
    "ip_tos",
    "ip_version",
    "ipv6_dst",
    "ipv6_fl",
    "ipv6_hlim",
    "ipv6_nh",
    "ipv6_plen",
    "ipv6_src",
    "ipv6_tc",
    "ipv6_version",
    "ipvsix_id",
    "pad_id",
    "pad_load",
    "raw_hex_field_load",
    "raw_id",
    "raw_load",
    "tcp_dport",
    "tcp_fields_options.MSS",
    "tcp_fields_options.NOP",
    "tcp_fields_options.SAckOK",
    "tcp_fields_options.Timestamp",
    "tcp_fields_options.WScale",
    "tcp_id",
    "tcp_seq",
    "tcp_sport",
    "udp_dport",
    "udp_id",
    "udp_len",
    "udp_sport",
];

/// Flattens an envelope's `data` (json_normalize per layer: nested objects become dotted
/// names, empty objects vanish, lists stay one cell); unsupported layers are skipped.
#[must_use]
pub fn flatten_data(data: &Map<String, Value>) -> Row {
    let mut row = Row::new();
    for (layer, fields) in data {
        let Some((_, prefix)) = PREFIXES.iter().find(|(l, _)| l == layer) else {
            continue;
        };
        if let Value::Object(fields) = fields {
            flatten_into(&mut row, prefix, fields);
        }
    }
    row
}

fn flatten_into(row: &mut Row, prefix: &str, fields: &Map<String, Value>) {
    for (k, v) in fields {
        let name = if prefix.contains('.') || prefix.ends_with('.') {
            format!("{prefix}{k}")
        } else {
            format!("{prefix}_{k}")
        };
        match v {
            Value::Object(inner) => flatten_into(row, &format!("{name}."), inner),
            other => {
                row.insert(name, other.clone());
            }
        }
    }
}

/// The flattened row of an envelope's JSON text.
///
/// # Errors
/// The text is not an envelope with a `data` object.
pub fn envelope_row(envelope: &str) -> Result<Row, String> {
    let v: Value = serde_json::from_str(envelope).map_err(|e| format!("not JSON: {e}"))?;
    match v.get("data") {
        Some(Value::Object(d)) => Ok(flatten_data(d)),
        _ => Err("envelope has no \"data\" object".into()),
    }
}

/// A float as Python's `repr` writes it (pandas writes float cells this way).
#[must_use]
pub fn py_float(f: f64) -> String {
    if f.is_nan() {
        return String::new();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let a = f.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        // Rust: 1e16, 1.5e-5; Python: 1e+16, 1.5e-05.
        let s = format!("{f:e}");
        let Some((m, e)) = s.split_once('e') else {
            return s;
        };
        let (sign, digits) = match e.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', e),
        };
        return format!("{m}e{sign}{digits:0>2}");
    }
    let s = format!("{f}");
    if s.contains('.') { s } else { format!("{s}.0") }
}

/// A cell's text as the stable layout writes it (Python's `str`; None is empty).
#[must_use]
pub fn cell_text(v: &Value) -> String {
    let mut s = String::new();
    py_str(v, &mut s);
    s
}

/// Python's `str` of a JSON value, as pandas writes an object cell (None is empty).
fn py_str(v: &Value, out: &mut String) {
    match v {
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
        Value::Number(n) => match n
            .as_i64()
            .map(|i| i.to_string())
            .or_else(|| n.as_u64().map(|u| u.to_string()))
        {
            Some(s) => out.push_str(&s),
            None => out.push_str(&py_float(n.as_f64().unwrap_or(f64::NAN))),
        },
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                match item {
                    Value::String(s) => {
                        out.push('\'');
                        out.push_str(s);
                        out.push('\'');
                    }
                    Value::Null => out.push_str("None"),
                    other => py_str(other, out),
                }
            }
            out.push(']');
        }
        Value::Object(_) => out.push_str(&v.to_string()),
    }
}

/// Appends a CSV cell, quoted when it must be (pandas' QUOTE_MINIMAL).
fn push_cell(out: &mut String, cell: &str) {
    if cell.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&cell.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(cell);
    }
}

/// The header line of the stable layout: `idx` and [`STABLE_COLUMNS`].
#[must_use]
pub fn stable_header() -> String {
    let mut s = String::from("idx");
    for c in STABLE_COLUMNS {
        s.push(',');
        s.push_str(c);
    }
    s.push('\n');
    s
}

/// One line of the stable layout: values as they are (integers stay integers), missing
/// and null cells as `fill`. Returns how many of the row's columns fall outside the layout
/// (they are left out).
pub fn stable_line(idx: u64, row: &Row, fill: &str, out: &mut String) -> usize {
    out.push_str(&idx.to_string());
    let mut cell = String::new();
    for c in STABLE_COLUMNS {
        out.push(',');
        cell.clear();
        match row.get(c) {
            None | Some(Value::Null) => cell.push_str(fill),
            Some(Value::String(s)) if s.is_empty() => cell.push_str(fill),
            Some(v) => py_str(v, &mut cell),
        }
        push_cell(out, &cell);
    }
    out.push('\n');
    row.keys()
        .filter(|k| STABLE_COLUMNS.binary_search(&k.as_str()).is_err())
        .count()
}

/// How pandas types a column.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dtype {
    Int,
    Float,
    Object,
}

/// The whole CSV as AntiNex's processor writes it with pandas: `idx` (0-based position),
/// the placeholders plus every column seen, ASCII-sorted; a numeric column with an empty
/// cell written as floats.
#[must_use]
pub fn pandas_csv(rows: &[Row]) -> String {
    let mut cols: BTreeMap<&str, Dtype> = PLACEHOLDERS.iter().map(|p| (*p, Dtype::Int)).collect();
    for r in rows {
        for k in r.keys() {
            cols.entry(k.as_str()).or_insert(Dtype::Int);
        }
    }
    for (name, dtype) in &mut cols {
        let mut missing = false;
        let mut numeric = true;
        let mut float = false;
        let mut any = false;
        for r in rows {
            match r.get(*name) {
                None | Some(Value::Null) => missing = true,
                Some(Value::Number(n)) => {
                    any = true;
                    if !(n.is_i64() || n.is_u64()) {
                        float = true;
                    }
                }
                Some(_) => {
                    any = true;
                    numeric = false;
                }
            }
        }
        *dtype = if !numeric || !any {
            Dtype::Object
        } else if missing || float {
            Dtype::Float
        } else {
            Dtype::Int
        };
    }
    let mut out = String::with_capacity(rows.len() * 256);
    out.push_str("idx");
    for c in cols.keys() {
        out.push(',');
        push_cell(&mut out, c);
    }
    out.push('\n');
    let mut cell = String::new();
    for (i, r) in rows.iter().enumerate() {
        out.push_str(&i.to_string());
        for (c, dtype) in &cols {
            out.push(',');
            cell.clear();
            match (r.get(*c), dtype) {
                (None | Some(Value::Null), _) => {}
                (Some(Value::Number(n)), Dtype::Float) => {
                    cell.push_str(&py_float(n.as_f64().unwrap_or(f64::NAN)));
                }
                (Some(v), _) => py_str(v, &mut cell),
            }
            push_cell(&mut out, &cell);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_print_like_python() {
        assert_eq!(py_float(3_269_735_087.0), "3269735087.0");
        assert_eq!(py_float(0.5), "0.5");
        assert_eq!(py_float(1e16), "1e+16");
        assert_eq!(py_float(1.5e-5), "1.5e-05");
        assert_eq!(py_float(0.0), "0.0");
    }

    #[test]
    fn stable_columns_are_sorted() {
        let mut s = STABLE_COLUMNS.to_vec();
        s.sort_unstable();
        assert_eq!(s, STABLE_COLUMNS.to_vec());
    }

    #[test]
    fn pandas_float_flip() {
        let a = flatten_data(
            json!({"tcp": {"seq": 1, "fields_options": {"MSS": 1460}}})
                .as_object()
                .unwrap(),
        );
        let b = flatten_data(
            json!({"tcp": {"seq": 2, "fields_options": {}}, "x": {}})
                .as_object()
                .unwrap(),
        );
        let csv = pandas_csv(&[a, b]);
        let lines: Vec<&str> = csv.lines().collect();
        assert!(lines[0].starts_with("idx,arp_id,"));
        assert!(lines[0].contains("tcp_fields_options.MSS"));
        assert!(lines[1].contains(",1460.0,"));
        assert!(lines[2].starts_with("1,"));
    }
}
