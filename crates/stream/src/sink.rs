//! Where consumed records land, idempotently: a record whose id the sink already holds is
//! ignored, so redelivered messages change nothing.

use std::collections::HashSet;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::StreamError;
use crate::antinex::flatten::{self, Row};
use crate::record::{Record, RecordKind};

/// A destination for records.
pub trait RecordSink {
    /// Takes records; returns how many were new. They may stay buffered until
    /// [`RecordSink::commit`] (or until the sink's own save interval).
    ///
    /// # Errors
    /// The sink failed.
    fn write(&mut self, records: &[Record]) -> Result<u64, StreamError>;
    /// True when everything written so far is durable (messages may be acknowledged).
    fn committed(&self) -> bool;
    /// Makes everything written durable; returns true (so the caller may acknowledge).
    ///
    /// # Errors
    /// The sink failed; nothing is acknowledged and the messages will come again.
    fn commit(&mut self) -> Result<bool, StreamError>;
}

/// The record store's file name inside the data directory.
pub const STORE_FILE: &str = "stream.sqlite";

fn open_store(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
         CREATE TABLE IF NOT EXISTS records (
             id TEXT PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL) WITHOUT ROWID;",
    )?;
    Ok(conn)
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Records in their own SQLite database in the data directory: table `records(id PRIMARY
/// KEY, kind, body)`, `INSERT OR IGNORE` in one transaction per batch.
pub struct SqliteSink {
    path: String,
    conn: Connection,
}

impl SqliteSink {
    /// Opens (creating) `dir/stream.sqlite`.
    ///
    /// # Errors
    /// The directory or database cannot be created.
    pub fn open(dir: &Path) -> Result<Self, StreamError> {
        fs::create_dir_all(dir).map_err(|e| StreamError::io(dir.display().to_string(), e))?;
        let path = dir.join(STORE_FILE);
        let p = path.display().to_string();
        // Several consumers may open one fresh store at once. SQLite answers SQLITE_BUSY
        // without calling the busy handler in some of those races (the switch to WAL, a
        // schema read that must upgrade to a write), so the whole open is retried for a
        // while before it fails.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut pause = std::time::Duration::from_millis(5);
        let conn = loop {
            match open_store(&path) {
                Ok(conn) => break conn,
                Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(std::time::Duration::from_millis(200));
                }
                Err(e) => return Err(StreamError::sqlite(&p, e)),
            }
        };
        Ok(SqliteSink { path: p, conn })
    }

    /// Records held, of one kind or all.
    ///
    /// # Errors
    /// The database failed.
    pub fn count(&self, kind: Option<RecordKind>) -> Result<u64, StreamError> {
        let n: i64 = match kind {
            Some(k) => self.conn.query_row(
                "SELECT COUNT(*) FROM records WHERE kind = ?1",
                [k.name()],
                |r| r.get(0),
            ),
            None => self
                .conn
                .query_row("SELECT COUNT(*) FROM records", [], |r| r.get(0)),
        }
        .map_err(|e| StreamError::sqlite(&self.path, e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

impl RecordSink for SqliteSink {
    fn write(&mut self, records: &[Record]) -> Result<u64, StreamError> {
        let p = self.path.clone();
        let tx = self
            .conn
            .transaction()
            .map_err(|e| StreamError::sqlite(&p, e))?;
        let mut new = 0u64;
        {
            let mut st = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO records (id, kind, body) VALUES (?1, ?2, ?3)",
                )
                .map_err(|e| StreamError::sqlite(&p, e))?;
            for r in records {
                new += st
                    .execute(params![r.id, r.kind.name(), r.body])
                    .map_err(|e| StreamError::sqlite(&p, e))? as u64;
            }
        }
        tx.commit().map_err(|e| StreamError::sqlite(&p, e))?;
        Ok(new)
    }
    fn committed(&self) -> bool {
        true
    }
    fn commit(&mut self) -> Result<bool, StreamError> {
        Ok(true)
    }
}

/// The columns and formatting of a dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatasetLayout {
    /// AntiNex's columns (`idx` and its 80 processor columns, fixed), correct values,
    /// missing cells written as `fill`; appended at each save.
    Antinex {
        /// The text of a missing cell (AntiNex's builder uses `-1.0`; its processor leaves
        /// cells empty).
        fill: String,
    },
    /// AntiNex's processor output with its defects: columns as seen, pandas formatting,
    /// the whole file rewritten at each save.
    AntinexBugs,
    /// trident records (one kind): `id` then these keys of each record, appended at each
    /// save; lists joined with `|`.
    Columns(Vec<String>),
}

/// The file format of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DatasetFormat {
    /// Comma-separated text.
    #[default]
    Csv,
    /// Apache Parquet, typed columns, one row group per save.
    Parquet,
}

/// A CSV (or Parquet) dataset written every `save_after` records. Which record ids it holds, and how
/// long the CSV was at the last save, live in `<file>.ids.sqlite`; at open, the CSV is cut
/// back to that length, so rows written by a run that died before recording them vanish
/// and come again with their redelivered messages: each record lands exactly once.
pub struct DatasetSink {
    path: PathBuf,
    db_path: String,
    db: Connection,
    layout: DatasetLayout,
    save_after: usize,
    pending: Vec<(String, String, Row)>,
    pending_ids: HashSet<String>,
    /// AntinexBugs: every row so far (the file is rewritten from them).
    all_rows: Vec<Row>,
    next_idx: u64,
    csv_len: u64,
    /// Records of a kind the layout cannot hold, or not parseable.
    pub skipped: u64,
    /// Values in columns outside AntiNex's fixed set (left out), or (Parquet) values that
    /// do not fit their column's type (written as null).
    pub dropped_values: u64,
    /// Parquet output (row groups appended at each save) instead of CSV.
    parquet: Option<crate::dataset::parquet::ParquetAppender>,
}

fn meta_get(db: &Connection, key: &str) -> rusqlite::Result<u64> {
    let v: Option<i64> = db
        .query_row("SELECT v FROM meta WHERE k = ?1", [key], |r| r.get(0))
        .optional()?;
    Ok(v.and_then(|v| u64::try_from(v).ok()).unwrap_or(0))
}

impl DatasetSink {
    /// Opens (creating) the dataset at `path`.
    ///
    /// # Errors
    /// The file or its id database cannot be opened.
    pub fn open(
        path: &Path,
        layout: DatasetLayout,
        save_after: usize,
    ) -> Result<Self, StreamError> {
        Self::open_as(path, layout, save_after, DatasetFormat::Csv)
    }

    /// Opens (creating) the dataset at `path` in a format. Parquet holds the same rows
    /// as typed columns (see [`crate::dataset::antinex_parquet_columns`]), one row group
    /// appended per save; `AntinexBugs` is CSV only (it rewrites the file at each save).
    ///
    /// # Errors
    /// The file or its id database cannot be opened; Parquet with `AntinexBugs`.
    pub fn open_as(
        path: &Path,
        layout: DatasetLayout,
        save_after: usize,
        format: DatasetFormat,
    ) -> Result<Self, StreamError> {
        if format == DatasetFormat::Parquet && layout == DatasetLayout::AntinexBugs {
            return Err(StreamError::Format(
                "--compat antinex-bugs writes CSV only (it rewrites the whole file as AntiNex does); use --compat antinex for Parquet".into(),
            ));
        }
        let mut db_file = path.as_os_str().to_owned();
        db_file.push(".ids.sqlite");
        let db_path = PathBuf::from(db_file).display().to_string();
        let db = Connection::open(&db_path).map_err(|e| StreamError::sqlite(&db_path, e))?;
        db.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
             CREATE TABLE IF NOT EXISTS ids (
                 seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, body TEXT);
             CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS blobs (k TEXT PRIMARY KEY, v BLOB NOT NULL);",
        )
        .map_err(|e| StreamError::sqlite(&db_path, e))?;
        let next_idx = meta_get(&db, "next_idx").map_err(|e| StreamError::sqlite(&db_path, e))?;
        let csv_len = meta_get(&db, "csv_len").map_err(|e| StreamError::sqlite(&db_path, e))?;
        let mut all_rows = Vec::new();
        let mut parquet = None;
        if layout == DatasetLayout::AntinexBugs {
            let mut st = db
                .prepare("SELECT body FROM ids ORDER BY seq")
                .map_err(|e| StreamError::sqlite(&db_path, e))?;
            let bodies = st
                .query_map([], |r| r.get::<_, Option<String>>(0))
                .map_err(|e| StreamError::sqlite(&db_path, e))?;
            for b in bodies {
                let b = b.map_err(|e| StreamError::sqlite(&db_path, e))?;
                if let Some(Ok(row)) = b.map(|b| flatten::envelope_row(&b)) {
                    all_rows.push(row);
                }
            }
        } else if format == DatasetFormat::Parquet {
            let footer: Option<Vec<u8>> = db
                .query_row("SELECT v FROM blobs WHERE k = 'parquet_footer'", [], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(|e| StreamError::sqlite(&db_path, e))?;
            let columns = crate::dataset::layout_parquet_columns(&layout);
            parquet = Some(crate::dataset::parquet::ParquetAppender::open(
                path,
                &columns,
                footer.as_deref().map(|f| (csv_len, f)),
            )?);
        } else if let Ok(meta) = fs::metadata(path)
            && meta.len() > csv_len
        {
            // Rows appended by a run that died before recording them.
            let f = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| StreamError::io(path.display().to_string(), e))?;
            f.set_len(csv_len)
                .map_err(|e| StreamError::io(path.display().to_string(), e))?;
        }
        Ok(DatasetSink {
            path: path.to_owned(),
            db_path,
            db,
            layout,
            save_after: save_after.max(1),
            pending: Vec::new(),
            pending_ids: HashSet::new(),
            all_rows,
            next_idx,
            csv_len,
            skipped: 0,
            dropped_values: 0,
            parquet,
        })
    }

    /// Rows saved so far.
    #[must_use]
    pub fn rows(&self) -> u64 {
        self.next_idx.max(self.all_rows.len() as u64)
    }

    fn row_of(&self, r: &Record) -> Option<Row> {
        match &self.layout {
            DatasetLayout::Antinex { .. } | DatasetLayout::AntinexBugs => {
                if r.kind != RecordKind::Antinex {
                    return None;
                }
                flatten::envelope_row(&r.body).ok()
            }
            DatasetLayout::Columns(_) => match serde_json::from_str(&r.body) {
                Ok(Value::Object(m)) => Some(m.into_iter().collect()),
                _ => None,
            },
        }
    }

    fn known(&self, id: &str) -> Result<bool, StreamError> {
        if self.pending_ids.contains(id) {
            return Ok(true);
        }
        self.db
            .query_row("SELECT 1 FROM ids WHERE id = ?1", [id], |_| Ok(()))
            .optional()
            .map(|o| o.is_some())
            .map_err(|e| StreamError::sqlite(&self.db_path, e))
    }

    fn render(&mut self, out: &mut String) {
        let fill = match &self.layout {
            DatasetLayout::Antinex { fill } => fill.clone(),
            _ => String::new(),
        };
        for (id, _, row) in &self.pending {
            match &self.layout {
                DatasetLayout::Antinex { .. } => {
                    self.dropped_values +=
                        flatten::stable_line(self.next_idx, row, &fill, out) as u64;
                }
                DatasetLayout::Columns(cols) => {
                    push_plain(out, id);
                    for c in cols {
                        out.push(',');
                        push_plain(out, &cell(row.get(c)));
                    }
                    out.push('\n');
                }
                DatasetLayout::AntinexBugs => {}
            }
            self.next_idx += 1;
        }
    }

    fn header(&self) -> String {
        match &self.layout {
            DatasetLayout::Antinex { .. } => flatten::stable_header(),
            DatasetLayout::Columns(cols) => {
                let mut s = String::from("id");
                for c in cols {
                    s.push(',');
                    push_plain(&mut s, c);
                }
                s.push('\n');
                s
            }
            DatasetLayout::AntinexBugs => String::new(),
        }
    }
}

/// A csv cell of a record field: scalars as text, lists joined with `|`, objects as JSON.
fn cell(v: Option<&Value>) -> String {
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

fn push_plain(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

impl RecordSink for DatasetSink {
    fn write(&mut self, records: &[Record]) -> Result<u64, StreamError> {
        let mut new = 0;
        for r in records {
            if self.known(&r.id)? {
                continue;
            }
            let Some(row) = self.row_of(r) else {
                self.skipped += 1;
                continue;
            };
            self.pending_ids.insert(r.id.clone());
            self.pending.push((r.id.clone(), r.body.clone(), row));
            new += 1;
            if self.pending.len() >= self.save_after {
                self.commit()?;
            }
        }
        Ok(new)
    }

    fn committed(&self) -> bool {
        self.pending.is_empty()
    }

    fn commit(&mut self) -> Result<bool, StreamError> {
        if self.pending.is_empty() {
            return Ok(true);
        }
        let path_s = self.path.display().to_string();
        let bugs = self.layout == DatasetLayout::AntinexBugs;
        if let Some(pq) = &mut self.parquet {
            let mut batch = pq.batch();
            for (id, _, row) in &self.pending {
                self.dropped_values += crate::dataset::push_parquet_row(
                    &self.layout,
                    &mut batch,
                    self.next_idx,
                    id,
                    row,
                );
                self.next_idx += 1;
            }
            pq.append(&mut batch)?;
            self.csv_len = pq.last_save().0;
        } else if !bugs {
            let mut text = String::new();
            if self.csv_len == 0 {
                text.push_str(&self.header());
            }
            self.render(&mut text);
            let mut f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|e| StreamError::io(&path_s, e))?;
            f.write_all(text.as_bytes())
                .and_then(|()| f.sync_data())
                .map_err(|e| StreamError::io(&path_s, e))?;
            self.csv_len += text.len() as u64;
        }
        let db_path = self.db_path.clone();
        let sql = |e| StreamError::sqlite(&db_path, e);
        let tx = self.db.transaction().map_err(sql)?;
        {
            let mut st = tx
                .prepare_cached("INSERT OR IGNORE INTO ids (id, body) VALUES (?1, ?2)")
                .map_err(sql)?;
            for (id, body, _) in &self.pending {
                st.execute(params![id, if bugs { Some(body.as_str()) } else { None }])
                    .map_err(sql)?;
            }
            let mut meta = tx
                .prepare_cached("INSERT OR REPLACE INTO meta (k, v) VALUES (?1, ?2)")
                .map_err(sql)?;
            meta.execute(params!["csv_len", self.csv_len as i64])
                .map_err(sql)?;
            meta.execute(params!["next_idx", self.next_idx as i64])
                .map_err(sql)?;
            if let Some(pq) = &self.parquet {
                tx.execute(
                    "INSERT OR REPLACE INTO blobs (k, v) VALUES ('parquet_footer', ?1)",
                    [pq.last_save().1],
                )
                .map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)?;
        if bugs {
            self.all_rows
                .extend(self.pending.drain(..).map(|(_, _, row)| row));
            let text = flatten::pandas_csv(&self.all_rows);
            let mut tmp = self.path.as_os_str().to_owned();
            tmp.push(".tmp");
            let tmp = PathBuf::from(tmp);
            fs::write(&tmp, text.as_bytes())
                .and_then(|()| fs::rename(&tmp, &self.path))
                .map_err(|e| StreamError::io(&path_s, e))?;
        }
        self.pending.clear();
        self.pending_ids.clear();
        Ok(true)
    }
}

/// Writes AntiNex envelopes (or trident records) to a dataset without a broker: the rows of
/// an AntiNex JSON archive (`{"packets": [...]}`), in order.
///
/// # Errors
/// The archive cannot be read or is not an AntiNex archive.
pub fn archive_records(path: &Path) -> Result<Vec<Record>, StreamError> {
    let text =
        fs::read_to_string(path).map_err(|e| StreamError::io(path.display().to_string(), e))?;
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| StreamError::Format(format!("{}: not JSON: {e}", path.display())))?;
    let Some(packets) = v.get("packets").and_then(Value::as_array) else {
        return Err(StreamError::Format(format!(
            "{}: not an AntiNex archive (no \"packets\" list)",
            path.display()
        )));
    };
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut out = Vec::with_capacity(packets.len());
    for (i, p) in packets.iter().enumerate() {
        if !p.get("data").is_some_and(Value::is_object) {
            return Err(StreamError::Format(format!(
                "{}: packet {i} has no \"data\" object",
                path.display()
            )));
        }
        out.push(Record {
            id: format!("a:{name}#{i}"),
            kind: RecordKind::Antinex,
            body: p.to_string(),
        });
    }
    Ok(out)
}
