//! The dataset builder: several CSV/Parquet datasets in, one labelled "full" set, one
//! "cleaned" set and a metadata JSON out, as AntiNex's `prepare_dataset.py` /
//! antinex-utils builder does (reference/antinex.md §5), with labels from rules instead
//! of AntiNex's random draw.
//!
//! * **Full**: every row of every input, in input order, with the columns of the first
//!   input (the others must hold the same set of columns, in any order), then
//!   `label_name`, `label_value` and, when a rule names one, `attack_type` (existing
//!   label columns are overwritten). Empty cells become `fill` (AntiNex's `mark_empty`,
//!   `-1.0` in its v1 datasets).
//! * **Cleaned** (AntiNex's meaning): the full set without AntiNex's v1 drop list
//!   ([`DROP_COLUMNS`]: addresses, payloads, `src_file`, `raw_id`), without columns that are
//!   empty in every row, and (trident's addition, a no-op on AntiNex's own columns)
//!   without other columns holding text, so only numeric features and the labels remain.
//!   `label_name` is kept, as in AntiNex's published cleaned files. With
//!   `drop_incomplete_rows` (network-pipeline 1.2.10 without `keep_nans`), rows with an
//!   empty cell are dropped too.
//!
//! Rows are streamed (two passes over the inputs: one to check columns and type them,
//! one to write), so memory does not grow with the dataset.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::parquet::{Cells, ColumnType, ColumnValues, ParquetAppender, read_text_rows};
use super::rules::{Matcher, Rules};
use crate::StreamError;
use crate::sink::DatasetFormat;

/// Columns AntiNex's v1 builder drops from the cleaned set (its `drop_columns`).
pub const DROP_COLUMNS: [&str; 16] = [
    "src_file",
    "raw_id",
    "raw_load",
    "raw_hex_load",
    "raw_hex_field_load",
    "pad_load",
    "eth_dst",
    "eth_src",
    "ip_dst",
    "ip_src",
    "ipv6_dst",
    "ipv6_src",
    "arp_pdst",
    "arp_psrc",
    "arp_hwsrc",
    "arp_hwdst",
];

/// Rows per Parquet row group written by the builder.
const ROW_GROUP: usize = 65_536;

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Input datasets (`.parquet` read as Parquet, anything else as CSV with a header).
    pub inputs: Vec<PathBuf>,
    /// The rules file (TOML, or YAML by extension).
    pub rules: PathBuf,
    /// The label of rows no rule matches.
    pub default_label: String,
    /// The value of the default label.
    pub default_value: i64,
    /// Text written for empty cells (AntiNex: `-1.0`; empty keeps them empty).
    pub fill: String,
    /// Output folder.
    pub out_dir: PathBuf,
    /// Output name: `<name>_full.<ext>`, `<name>_cleaned.<ext>`, `<name>_metadata.json`.
    pub name: String,
    /// Output format.
    pub format: DatasetFormat,
    /// Drop cleaned rows holding an empty cell.
    pub drop_incomplete_rows: bool,
}

/// What was built.
#[derive(Debug, Clone)]
pub struct BuildReport {
    /// The full set.
    pub full: PathBuf,
    /// The cleaned set.
    pub cleaned: PathBuf,
    /// The metadata JSON.
    pub metadata: PathBuf,
    /// Rows in the full set.
    pub rows: u64,
    /// Rows in the cleaned set.
    pub cleaned_rows: u64,
    /// Rows no rule matched (given the default label).
    pub unmatched: u64,
    /// Rows per label.
    pub labels: BTreeMap<String, u64>,
    /// The metadata as written.
    pub meta: Value,
}

/// The SHA-256 of a file, lower-case hex.
///
/// # Errors
/// The file cannot be read.
pub fn sha256_file(path: &Path) -> Result<String, StreamError> {
    let p = path.display().to_string();
    let mut f = File::open(path).map_err(|e| StreamError::io(&p, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| StreamError::io(&p, e))?;
        if n == 0 {
            break;
        }
        h.update(buf.get(..n).unwrap_or_default());
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

fn is_parquet(p: &Path) -> bool {
    p.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// Reads a CSV or Parquet dataset as text rows: the header once, then each row.
///
/// # Errors
/// Unreadable input, a CSV row with a different number of cells (naming its line).
pub fn read_rows(
    path: &Path,
    mut f: impl FnMut(Cells<'_>) -> Result<(), StreamError>,
) -> Result<(), StreamError> {
    if is_parquet(path) {
        return read_text_rows(path, f);
    }
    let p = path.display().to_string();
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .map_err(|e| StreamError::Format(format!("{p}: {e}")))?;
    let names: Vec<String> = r
        .headers()
        .map_err(|e| StreamError::Format(format!("{p}: header: {e}")))?
        .iter()
        .map(str::to_owned)
        .collect();
    f(Cells::Header(&names))?;
    let mut cells: Vec<String> = Vec::with_capacity(names.len());
    let mut rec = csv::StringRecord::new();
    loop {
        match r.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(StreamError::Format(format!("{p}: {e}"))),
        }
        cells.clear();
        cells.extend(rec.iter().map(str::to_owned));
        f(Cells::Row(&cells))?;
    }
    Ok(())
}

/// What pass one learns of a column (after the fill).
#[derive(Debug, Clone, Copy)]
struct ColStats {
    any: bool,
    all_int: bool,
    all_num: bool,
}

impl ColStats {
    const fn new() -> Self {
        ColStats {
            any: false,
            all_int: true,
            all_num: true,
        }
    }
    fn see(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        self.any = true;
        if self.all_int && s.parse::<i64>().is_err() {
            self.all_int = false;
        }
        if self.all_num && s.parse::<f64>().is_err() {
            self.all_num = false;
        }
    }
    fn ty(self) -> ColumnType {
        if !self.any {
            ColumnType::Utf8
        } else if self.all_int {
            ColumnType::Int64
        } else if self.all_num {
            ColumnType::Double
        } else {
            ColumnType::Utf8
        }
    }
}

/// A CSV or Parquet output being written.
enum Out {
    Csv(Box<csv::Writer<BufWriter<File>>>),
    Parquet(ParquetAppender, Vec<ColumnValues>),
}

impl Out {
    fn create(
        path: &Path,
        format: DatasetFormat,
        cols: &[(String, ColumnType)],
    ) -> Result<Self, StreamError> {
        let p = path.display().to_string();
        match fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StreamError::io(&p, e)),
        }
        if format == DatasetFormat::Parquet {
            let a = ParquetAppender::open(path, cols, None)?;
            let b = a.batch();
            return Ok(Out::Parquet(a, b));
        }
        let f = File::create(path).map_err(|e| StreamError::io(&p, e))?;
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(BufWriter::new(f));
        w.write_record(cols.iter().map(|(n, _)| n.as_str()))
            .map_err(|e| StreamError::Format(format!("{p}: {e}")))?;
        Ok(Out::Csv(Box::new(w)))
    }

    fn row<'a>(
        &mut self,
        path: &Path,
        cells: impl Iterator<Item = &'a str>,
    ) -> Result<(), StreamError> {
        match self {
            Out::Csv(w) => w
                .write_record(cells)
                .map_err(|e| StreamError::Format(format!("{}: {e}", path.display()))),
            Out::Parquet(a, batch) => {
                for (c, s) in batch.iter_mut().zip(cells) {
                    c.push_text(s);
                }
                if batch.first().map_or(0, ColumnValues::len) >= ROW_GROUP {
                    a.append(batch)?;
                }
                Ok(())
            }
        }
    }

    fn finish(self, path: &Path) -> Result<(), StreamError> {
        let p = path.display().to_string();
        match self {
            Out::Csv(mut w) => {
                w.flush().map_err(|e| StreamError::io(&p, e))?;
                let f = (*w)
                    .into_inner()
                    .map_err(|e| StreamError::Format(format!("{p}: {e}")))?;
                f.into_inner()
                    .map_err(|e| StreamError::io(&p, e.into_error()))?
                    .sync_all()
                    .map_err(|e| StreamError::io(&p, e))
            }
            Out::Parquet(mut a, mut batch) => a.append(&mut batch),
        }
    }
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Builds the full and cleaned sets and the metadata JSON.
///
/// # Errors
/// Unreadable inputs or rules, inputs with different columns (naming the column and
/// file), bad rules (naming the line and field), write failures.
#[allow(clippy::too_many_lines)]
pub fn build(o: &BuildOptions) -> Result<BuildReport, StreamError> {
    if o.inputs.is_empty() {
        return Err(StreamError::Format("no input datasets".into()));
    }
    let rules_name = o.rules.display().to_string();
    let rules_text = fs::read_to_string(&o.rules).map_err(|e| StreamError::io(&rules_name, e))?;
    let rules = Rules::parse(&rules_name, &rules_text)?;
    let values = rules.label_values(&rules_name, &o.default_label, o.default_value)?;
    let with_type = rules.rules.iter().any(|r| r.attack_type.is_some());

    // Pass one: columns, row counts, hashes, column types.
    let mut in_cols: Vec<String> = Vec::new();
    let first_name = o
        .inputs
        .first()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let mut perms: Vec<Vec<usize>> = Vec::new();
    let mut stats: Vec<ColStats> = Vec::new();
    let mut sources = Vec::new();
    let mut first_row = 0u64;
    for (k, path) in o.inputs.iter().enumerate() {
        let name = path.display().to_string();
        let mut perm = Vec::new();
        let mut rows = 0u64;
        read_rows(path, |cells| match cells {
            Cells::Header(h) => {
                if k == 0 {
                    in_cols = h.to_vec();
                    stats = vec![ColStats::new(); h.len()];
                    for (i, c) in h.iter().enumerate() {
                        if h.get(..i).is_some_and(|b| b.contains(c)) {
                            return Err(StreamError::Format(format!(
                                "{name}: column {c:?} appears twice"
                            )));
                        }
                    }
                }
                if let Some(c) = h.iter().find(|c| !in_cols.contains(c)) {
                    return Err(StreamError::Format(format!(
                        "{name}: column {c:?} is not in {first_name} (inputs must hold the same columns)"
                    )));
                }
                if let Some(c) = in_cols.iter().find(|c| !h.contains(c)) {
                    return Err(StreamError::Format(format!(
                        "{name}: column {c:?} of {first_name} is missing (inputs must hold the same columns)"
                    )));
                }
                if h.len() != in_cols.len() {
                    return Err(StreamError::Format(format!(
                        "{name}: {} columns with repeats, {first_name} has {}",
                        h.len(),
                        in_cols.len()
                    )));
                }
                perm = in_cols
                    .iter()
                    .map(|c| h.iter().position(|x| x == c).unwrap_or(0))
                    .collect();
                Ok(())
            }
            Cells::Row(r) => {
                rows += 1;
                for (st, &j) in stats.iter_mut().zip(&perm) {
                    let s = r.get(j).map_or("", String::as_str);
                    st.see(if s.is_empty() { &o.fill } else { s });
                }
                Ok(())
            }
        })?;
        perms.push(perm);
        sources.push(json!({
            "path": name,
            "format": if is_parquet(path) { "parquet" } else { "csv" },
            "bytes": fs::metadata(path).map(|m| m.len()).unwrap_or(0),
            "sha256": sha256_file(path)?,
            "rows": rows,
            "first_row": first_row,
        }));
        first_row += rows;
    }

    // The full set's columns: the inputs' then the labels (existing ones overwritten).
    let mut out_cols: Vec<(String, ColumnType)> = in_cols
        .iter()
        .zip(&stats)
        .map(|(c, s)| (c.clone(), s.ty()))
        .collect();
    let label_at = |name: &str, ty: ColumnType, cols: &mut Vec<(String, ColumnType)>| match cols
        .iter()
        .position(|(c, _)| c == name)
    {
        Some(i) => {
            if let Some(c) = cols.get_mut(i) {
                c.1 = ty;
            }
            i
        }
        None => {
            cols.push((name.to_owned(), ty));
            cols.len() - 1
        }
    };
    let name_at = label_at("label_name", ColumnType::Utf8, &mut out_cols);
    let value_at = label_at("label_value", ColumnType::Int64, &mut out_cols);
    let type_at = if with_type || in_cols.iter().any(|c| c == "attack_type") {
        Some(label_at("attack_type", ColumnType::Utf8, &mut out_cols))
    } else {
        None
    };
    let header: Vec<String> = out_cols.iter().map(|(c, _)| c.clone()).collect();
    let mut matcher = Matcher::new(&rules, &rules_name, &header)?;

    // The cleaned set's columns.
    let is_label = |i: usize| i == name_at || i == value_at || Some(i) == type_at;
    let mut dropped_cols = Vec::new();
    let mut clean_idx = Vec::new();
    for (i, (c, _)) in out_cols.iter().enumerate() {
        let st = stats.get(i).copied();
        let keep = is_label(i)
            || (!DROP_COLUMNS.contains(&c.as_str()) && st.is_some_and(|s| s.any && s.all_num));
        if keep {
            clean_idx.push(i);
        } else {
            dropped_cols.push(c.clone());
        }
    }
    let clean_cols: Vec<(String, ColumnType)> = clean_idx
        .iter()
        .filter_map(|&i| out_cols.get(i).cloned())
        .collect();

    fs::create_dir_all(&o.out_dir)
        .map_err(|e| StreamError::io(o.out_dir.display().to_string(), e))?;
    let ext = if o.format == DatasetFormat::Parquet {
        "parquet"
    } else {
        "csv"
    };
    let full_path = o.out_dir.join(format!("{}_full.{ext}", o.name));
    let clean_path = o.out_dir.join(format!("{}_cleaned.{ext}", o.name));
    let meta_path = o.out_dir.join(format!("{}_metadata.json", o.name));
    for input in &o.inputs {
        for out in [&full_path, &clean_path, &meta_path] {
            if fs::canonicalize(input).ok() == fs::canonicalize(out).ok() && out.exists() {
                return Err(StreamError::Format(format!(
                    "{}: an input is also an output; choose another --name or folder",
                    out.display()
                )));
            }
        }
    }
    let mut full = Out::create(&full_path, o.format, &out_cols)?;
    let mut clean = Out::create(&clean_path, o.format, &clean_cols)?;

    // Pass two: label and write.
    let mut labels: BTreeMap<String, u64> = values.keys().map(|k| (k.clone(), 0)).collect();
    let mut types: BTreeMap<String, u64> = BTreeMap::new();
    let mut rows = 0u64;
    let mut cleaned_rows = 0u64;
    let mut out_row: Vec<String> = vec![String::new(); out_cols.len()];
    for (path, perm) in o.inputs.iter().zip(&perms) {
        let fname = file_name(path);
        read_rows(path, |cells| {
            let Cells::Row(r) = cells else {
                return Ok(());
            };
            for (slot, &j) in out_row.iter_mut().zip(perm) {
                let s = r.get(j).map_or("", String::as_str);
                slot.clear();
                slot.push_str(if s.is_empty() { &o.fill } else { s });
            }
            let hit = matcher.label(&fname, &out_row);
            let rule = hit.and_then(|k| matcher.rule(k));
            let label = rule.map_or(o.default_label.as_str(), |r| r.label.as_str());
            let value = values.get(label).copied().unwrap_or(o.default_value);
            let atype = rule.and_then(|r| r.attack_type.clone()).unwrap_or_default();
            if let Some(s) = out_row.get_mut(name_at) {
                label.clone_into(s);
            }
            if let Some(s) = out_row.get_mut(value_at) {
                *s = value.to_string();
            }
            if let Some(s) = type_at.and_then(|i| out_row.get_mut(i)) {
                s.clone_from(&atype);
            }
            *labels.entry(label.to_owned()).or_insert(0) += 1;
            if !atype.is_empty() {
                *types.entry(atype).or_insert(0) += 1;
            }
            rows += 1;
            full.row(&full_path, out_row.iter().map(String::as_str))?;
            let cells = clean_idx
                .iter()
                .map(|&i| out_row.get(i).map_or("", String::as_str));
            if o.drop_incomplete_rows && cells.clone().any(str::is_empty) {
                return Ok(());
            }
            cleaned_rows += 1;
            clean.row(&clean_path, cells)
        })?;
    }
    full.finish(&full_path)?;
    clean.finish(&clean_path)?;

    let created = {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        trident_time(i64::try_from(now).unwrap_or(0))
    };
    let cols_json = |cols: &[(String, ColumnType)]| -> Value {
        Value::Array(
            cols.iter()
                .map(|(c, t)| json!({"name": c, "type": t.name()}))
                .collect(),
        )
    };
    let features: Vec<&str> = clean_cols
        .iter()
        .map(|(c, _)| c.as_str())
        .filter(|c| !matches!(*c, "label_name" | "label_value" | "attack_type"))
        .collect();
    let meta = json!({
        "tool": "trident",
        "version": env!("CARGO_PKG_VERSION"),
        "created": created,
        "sources": sources,
        "rules": {
            "path": rules_name,
            "sha256": sha256_file(&o.rules)?,
            "rules": rules.rules.len(),
            "matched_rows": matcher.matched,
        },
        "default_label": {"label_name": o.default_label, "label_value": o.default_value},
        "unmatched_rows": matcher.unmatched,
        "unparsed_times": matcher.bad_times,
        "fill": o.fill,
        "label_values": values,
        "label_counts": labels,
        "attack_type_counts": types,
        "full": {
            "path": full_path.display().to_string(),
            "format": ext,
            "sha256": sha256_file(&full_path)?,
            "rows": rows,
            "columns": cols_json(&out_cols),
        },
        "cleaned": {
            "path": clean_path.display().to_string(),
            "format": ext,
            "sha256": sha256_file(&clean_path)?,
            "rows": cleaned_rows,
            "columns": cols_json(&clean_cols),
            "dropped_columns": dropped_cols,
            "dropped_rows": rows - cleaned_rows,
            "drop_incomplete_rows": o.drop_incomplete_rows,
        },
        "features_to_process": features,
        "feature_to_predict": "label_value",
        "ignore_features": ["label_name", "attack_type"],
    });
    let text = serde_json::to_string_pretty(&meta)
        .map_err(|e| StreamError::Format(format!("metadata: {e}")))?;
    fs::write(&meta_path, text + "\n")
        .map_err(|e| StreamError::io(meta_path.display().to_string(), e))?;
    Ok(BuildReport {
        full: full_path,
        cleaned: clean_path,
        metadata: meta_path,
        rows,
        cleaned_rows,
        unmatched: matcher.unmatched,
        labels,
        meta,
    })
}

/// RFC 3339 UTC text of nanoseconds since the epoch (seconds resolution).
fn trident_time(ns: i64) -> String {
    let (y, mo, d, h, mi, s) = trident_civil(ns.div_euclid(1_000_000_000));
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

fn trident_civil(secs: i64) -> (i64, i64, i64, i64, i64, i64) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}
