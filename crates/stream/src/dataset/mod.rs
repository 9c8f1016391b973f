//! Datasets beyond CSV: Parquet output ([`parquet`]) and the dataset builder ([`build`]),
//! which combines CSV/Parquet datasets, labels rows from a rules file ([`rules`]) and writes
//! the full and cleaned sets with a metadata JSON, as AntiNex's builder does, without its
//! random labels.

pub mod build;
pub mod parquet;
pub mod rules;

use serde_json::Value;

use self::parquet::{ColumnType, ColumnValues};
use crate::antinex::flatten::{self, Row, STABLE_COLUMNS};
use crate::sink::DatasetLayout;

/// Columns of the stable AntiNex layout that hold text (addresses, hex payloads, the
/// SAckOK marker); every other column holds integers.
pub const ANTINEX_TEXT_COLUMNS: [&str; 20] = [
    "arp_hwdst",
    "arp_hwsrc",
    "arp_pdst",
    "arp_psrc",
    "dns_default_an",
    "dns_default_ar",
    "dns_default_ns",
    "dns_default_qd",
    "eth_dst",
    "eth_src",
    "icmp_addr_mask",
    "icmp_gw",
    "ip_dst",
    "ip_src",
    "ipv6_dst",
    "ipv6_src",
    "pad_load",
    "raw_hex_field_load",
    "raw_load",
    "tcp_fields_options.SAckOK",
];

/// The Parquet columns of the stable AntiNex layout: `idx` and [`STABLE_COLUMNS`], text
/// columns ([`ANTINEX_TEXT_COLUMNS`]) as UTF-8, the rest as 64-bit integers; a missing
/// cell is null (CSV writes `--fill` there).
#[must_use]
pub fn antinex_parquet_columns() -> Vec<(String, ColumnType)> {
    let mut cols = vec![("idx".to_owned(), ColumnType::Int64)];
    for c in STABLE_COLUMNS {
        let ty = if ANTINEX_TEXT_COLUMNS.contains(&c) {
            ColumnType::Utf8
        } else {
            ColumnType::Int64
        };
        cols.push((c.to_owned(), ty));
    }
    cols
}

/// The Parquet columns of a dataset layout (trident record layouts: `id` and every column
/// as text).
#[must_use]
pub fn layout_parquet_columns(layout: &DatasetLayout) -> Vec<(String, ColumnType)> {
    match layout {
        DatasetLayout::Columns(cols) => std::iter::once("id")
            .chain(cols.iter().map(String::as_str))
            .map(|c| (c.to_owned(), ColumnType::Utf8))
            .collect(),
        _ => antinex_parquet_columns(),
    }
}

/// Appends one flattened row to a Parquet batch of the layout's columns; returns how many
/// values were left out (outside the layout's columns, or not fitting an integer column).
pub fn push_parquet_row(
    layout: &DatasetLayout,
    batch: &mut [ColumnValues],
    idx: u64,
    id: &str,
    row: &Row,
) -> u64 {
    let mut dropped = 0;
    match layout {
        DatasetLayout::Columns(cols) => {
            let mut it = batch.iter_mut();
            if let Some(c) = it.next() {
                c.push_text(id);
            }
            for (name, c) in cols.iter().zip(it) {
                let text = json_cell(row.get(name));
                c.push_text(&text);
            }
        }
        _ => {
            let mut it = batch.iter_mut();
            if let Some(ColumnValues::Int64(v)) = it.next() {
                v.push(i64::try_from(idx).ok());
            }
            for (name, c) in STABLE_COLUMNS.iter().zip(it) {
                let ok = match (row.get(*name), c) {
                    (None | Some(Value::Null), c) => c.push_text(""),
                    (Some(Value::Number(n)), ColumnValues::Int64(v)) => {
                        let x = n.as_i64();
                        v.push(x);
                        x.is_some()
                    }
                    (Some(Value::Bool(b)), ColumnValues::Int64(v)) => {
                        v.push(Some(i64::from(*b)));
                        true
                    }
                    (Some(other), c) => c.push_text(&flatten::cell_text(other)),
                };
                if !ok {
                    dropped += 1;
                }
            }
            dropped += row
                .keys()
                .filter(|k| STABLE_COLUMNS.binary_search(&k.as_str()).is_err())
                .count() as u64;
        }
    }
    dropped
}

/// A CSV cell from a serialized record field: scalars as text, lists joined with `|` (as
/// the packet columns join them), objects as compact JSON. The dataset writers and the
/// CLI's record writers (flows, hosts) share it.
#[must_use]
pub fn json_cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("|"),
        Some(other) => other.to_string(),
    }
}
