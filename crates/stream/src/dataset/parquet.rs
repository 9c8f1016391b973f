//! Parquet datasets that grow by appending row groups, never rewriting what is written.
//!
//! A Parquet file is `PAR1`, row groups, then a footer (the file metadata, its length and
//! `PAR1`) that lists every row group. [`ParquetAppender::append`] writes the new row
//! group where the previous footer began and then a footer listing all row groups: the
//! bytes of earlier row groups are never touched, only the (small) footer is replaced.
//!
//! Each batch is first encoded as a complete one-row-group Parquet file in memory by the
//! `parquet` crate's own writer; its row-group bytes are copied to the end of the data
//! and the column chunk offsets in its metadata moved by where they landed. Page indexes
//! and bloom filters are off, so a row group is one contiguous byte range.
//!
//! **Crash safety.** After each append the file is a complete Parquet file holding every
//! row appended so far (it is fsynced before `append` returns). A crash *during* an append
//! can leave the file without a valid footer; [`ParquetAppender::open`] repairs it from the
//! `(length, footer)` pair of the last append, which the caller keeps (the dataset sink
//! keeps it in its `.ids.sqlite` beside the file): the file is cut back to the end of the
//! last complete row group and that footer written again. At most the rows of the append
//! that was interrupted are lost.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::basic::{Compression, LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::metadata::{
    FileMetaData, ParquetMetaData, ParquetMetaDataWriter, RowGroupMetaData,
};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::record::Field;
use parquet::schema::types::{SchemaDescriptor, Type, TypePtr};

use crate::StreamError;

/// The Parquet magic at both ends of a file.
const MAGIC: &[u8; 4] = b"PAR1";
/// Footer tail: metadata length (u32 LE) and the magic.
const TAIL: usize = 8;

/// The type of a dataset column in Parquet (every column is optional: a missing cell is
/// null).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ColumnType {
    /// 64-bit signed integers.
    Int64,
    /// 64-bit floats.
    Double,
    /// UTF-8 text.
    Utf8,
}

impl ColumnType {
    /// The name used in metadata and errors.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            ColumnType::Int64 => "int64",
            ColumnType::Double => "double",
            ColumnType::Utf8 => "utf8",
        }
    }
}

/// One column's values for one batch (`None` is a missing cell).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ColumnValues {
    /// Values of an [`ColumnType::Int64`] column.
    Int64(Vec<Option<i64>>),
    /// Values of a [`ColumnType::Double`] column.
    Double(Vec<Option<f64>>),
    /// Values of a [`ColumnType::Utf8`] column.
    Utf8(Vec<Option<String>>),
}

impl ColumnValues {
    /// An empty column of a type.
    #[must_use]
    pub fn new(ty: ColumnType) -> Self {
        match ty {
            ColumnType::Int64 => ColumnValues::Int64(Vec::new()),
            ColumnType::Double => ColumnValues::Double(Vec::new()),
            ColumnType::Utf8 => ColumnValues::Utf8(Vec::new()),
        }
    }

    /// Rows held.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            ColumnValues::Int64(v) => v.len(),
            ColumnValues::Double(v) => v.len(),
            ColumnValues::Utf8(v) => v.len(),
        }
    }

    /// True when no rows are held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends a cell given as text: empty is null; text that does not parse as the
    /// column's type is null too and returns false (the caller counts it).
    pub fn push_text(&mut self, s: &str) -> bool {
        match self {
            ColumnValues::Int64(v) => {
                if s.is_empty() {
                    v.push(None);
                    return true;
                }
                let p = s.parse().ok();
                v.push(p);
                p.is_some()
            }
            ColumnValues::Double(v) => {
                if s.is_empty() {
                    v.push(None);
                    return true;
                }
                let p = s.parse().ok();
                v.push(p);
                p.is_some()
            }
            ColumnValues::Utf8(v) => {
                v.push((!s.is_empty()).then(|| s.to_owned()));
                true
            }
        }
    }

    fn clear(&mut self) {
        match self {
            ColumnValues::Int64(v) => v.clear(),
            ColumnValues::Double(v) => v.clear(),
            ColumnValues::Utf8(v) => v.clear(),
        }
    }
}

/// The Parquet schema of named, typed, optional columns.
///
/// # Errors
/// A column name Parquet rejects.
pub fn schema(columns: &[(String, ColumnType)]) -> Result<TypePtr, StreamError> {
    let bad =
        |e: parquet::errors::ParquetError| StreamError::Format(format!("parquet schema: {e}"));
    let mut fields = Vec::with_capacity(columns.len());
    for (name, ty) in columns {
        let b = match ty {
            ColumnType::Int64 => Type::primitive_type_builder(name, PhysicalType::INT64),
            ColumnType::Double => Type::primitive_type_builder(name, PhysicalType::DOUBLE),
            ColumnType::Utf8 => Type::primitive_type_builder(name, PhysicalType::BYTE_ARRAY)
                .with_logical_type(Some(LogicalType::String)),
        };
        fields.push(Arc::new(
            b.with_repetition(Repetition::OPTIONAL)
                .build()
                .map_err(bad)?,
        ));
    }
    Ok(Arc::new(
        Type::group_type_builder("schema")
            .with_fields(fields)
            .build()
            .map_err(bad)?,
    ))
}

/// The columns of a Parquet file's schema, with their types (`None`: a type this module
/// does not write, such as nested or boolean columns).
#[must_use]
pub fn schema_columns(descr: &SchemaDescriptor) -> Vec<(String, Option<ColumnType>)> {
    descr
        .root_schema()
        .get_fields()
        .iter()
        .map(|f| {
            let ty = if f.is_primitive() {
                match f.get_physical_type() {
                    PhysicalType::INT64 => Some(ColumnType::Int64),
                    PhysicalType::DOUBLE => Some(ColumnType::Double),
                    PhysicalType::BYTE_ARRAY => Some(ColumnType::Utf8),
                    _ => None,
                }
            } else {
                None
            };
            (f.name().to_owned(), ty)
        })
        .collect()
}

fn props() -> Arc<WriterProperties> {
    Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_offset_index_disabled(true)
            .set_max_row_group_row_count(None)
            .set_created_by(format!("trident {}", env!("CARGO_PKG_VERSION")))
            .build(),
    )
}

/// A Parquet file open for appending row groups.
pub struct ParquetAppender {
    path: PathBuf,
    file: File,
    schema: TypePtr,
    descr: Arc<SchemaDescriptor>,
    columns: Vec<(String, ColumnType)>,
    row_groups: Vec<RowGroupMetaData>,
    /// Where the next row group goes (the start of the current footer).
    data_end: u64,
    footer: Vec<u8>,
    rows: u64,
}

impl ParquetAppender {
    /// Opens `path` for appending, creating it when absent or empty. `last` is the
    /// `(file length, footer)` of the last append the caller recorded: when the file does
    /// not end with that footer (a crash in a later append), it is cut back to where that
    /// footer began and the footer written again. A file holding other columns is an error
    /// naming the first that differs.
    ///
    /// # Errors
    /// I/O, a file that is not Parquet, or a different schema.
    pub fn open(
        path: &Path,
        columns: &[(String, ColumnType)],
        last: Option<(u64, &[u8])>,
    ) -> Result<Self, StreamError> {
        let p = path.display().to_string();
        let io = |e| StreamError::io(&p, e);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io)?;
        let schema = schema(columns)?;
        let descr = Arc::new(SchemaDescriptor::new(schema.clone()));
        let len = file.metadata().map_err(io)?.len();
        let mut me = ParquetAppender {
            path: path.to_owned(),
            file,
            schema,
            descr,
            columns: columns.to_vec(),
            row_groups: Vec::new(),
            data_end: MAGIC.len() as u64,
            footer: Vec::new(),
            rows: 0,
        };
        let recorded = last.filter(|(l, f)| *l > 0 && !f.is_empty());
        if len == 0 || (recorded.is_none() && len <= MAGIC.len() as u64) {
            // A new file (or one cut before its first append completed).
            me.file.set_len(0).map_err(io)?;
            me.file.write_all(MAGIC).map_err(io)?;
            me.write_footer()?;
            return Ok(me);
        }
        if let Some((rec_len, footer)) = recorded {
            let intact = len == rec_len && tail_equals(&mut me.file, len, footer).map_err(io)?;
            if !intact {
                let start = rec_len.saturating_sub(footer.len() as u64);
                if len < start {
                    return Err(StreamError::Format(format!(
                        "{p}: {len} bytes, shorter than the {start} bytes of row groups recorded at the last save"
                    )));
                }
                me.file.set_len(start).map_err(io)?;
                me.file.seek(SeekFrom::Start(start)).map_err(io)?;
                me.file.write_all(footer).map_err(io)?;
                me.file.sync_all().map_err(io)?;
                tracing::warn!(path = %p, "parquet dataset repaired: cut back to the last save");
            }
        }
        let reader_file = me.file.try_clone().map_err(io)?;
        let reader = SerializedFileReader::new(reader_file)
            .map_err(|e| StreamError::Format(format!("{p}: not a Parquet file: {e}")))?;
        let meta = reader.metadata();
        let have = schema_columns(meta.file_metadata().schema_descr());
        for (i, (name, ty)) in columns.iter().enumerate() {
            match have.get(i) {
                Some((n, t)) if n == name && *t == Some(*ty) => {}
                Some((n, t)) => {
                    return Err(StreamError::Format(format!(
                        "{p}: column {} is {n} ({}), this dataset writes {name} ({})",
                        i + 1,
                        t.map_or("unsupported type", ColumnType::name),
                        ty.name()
                    )));
                }
                None => {
                    return Err(StreamError::Format(format!(
                        "{p}: has {} columns, this dataset writes {} (first missing: {name})",
                        have.len(),
                        columns.len()
                    )));
                }
            }
        }
        if have.len() != columns.len() {
            return Err(StreamError::Format(format!(
                "{p}: has {} columns, this dataset writes {}",
                have.len(),
                columns.len()
            )));
        }
        me.row_groups = meta.row_groups().to_vec();
        me.rows = me.row_groups.iter().map(|r| r.num_rows() as u64).sum();
        let flen = me.file.metadata().map_err(io)?.len();
        let footer_len = footer_len_at(&mut me.file, flen).map_err(io)?;
        me.data_end = flen.saturating_sub(footer_len);
        me.file.seek(SeekFrom::Start(me.data_end)).map_err(io)?;
        let mut footer = vec![0; usize::try_from(footer_len).unwrap_or(0)];
        std::io::Read::read_exact(&mut me.file, &mut footer).map_err(io)?;
        me.footer = footer;
        Ok(me)
    }

    /// Rows in the file.
    #[must_use]
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Row groups in the file.
    #[must_use]
    pub fn row_groups(&self) -> usize {
        self.row_groups.len()
    }

    /// The file's length and footer after the last append (what [`ParquetAppender::open`]
    /// takes to repair the file).
    #[must_use]
    pub fn last_save(&self) -> (u64, &[u8]) {
        (self.data_end + self.footer.len() as u64, &self.footer)
    }

    /// An empty batch of this file's columns.
    #[must_use]
    pub fn batch(&self) -> Vec<ColumnValues> {
        self.columns
            .iter()
            .map(|(_, t)| ColumnValues::new(*t))
            .collect()
    }

    /// Appends one row group holding `batch` (one entry per column, in order, all of the
    /// same length), rewrites the footer and fsyncs. The batch is emptied.
    ///
    /// # Errors
    /// A batch that does not match the columns, encoding or I/O failure.
    pub fn append(&mut self, batch: &mut [ColumnValues]) -> Result<(), StreamError> {
        let p = self.path.display().to_string();
        let rows = batch.first().map_or(0, ColumnValues::len);
        if rows == 0 {
            return Ok(());
        }
        if batch.len() != self.columns.len() || batch.iter().any(|c| c.len() != rows) {
            return Err(StreamError::Format(format!(
                "{p}: a batch of {} columns of unequal length for {} columns",
                batch.len(),
                self.columns.len()
            )));
        }
        let pq = |e: parquet::errors::ParquetError| StreamError::Format(format!("{p}: {e}"));
        // The batch as a complete Parquet file in memory.
        let mut buf: Vec<u8> = Vec::new();
        let mut w =
            SerializedFileWriter::new(&mut buf, self.schema.clone(), props()).map_err(pq)?;
        {
            let mut rg = w.next_row_group().map_err(pq)?;
            for values in batch.iter() {
                let Some(mut col) = rg.next_column().map_err(pq)? else {
                    break;
                };
                write_column(&mut col, values).map_err(pq)?;
                col.close().map_err(pq)?;
            }
            rg.close().map_err(pq)?;
        }
        let meta = w.close().map_err(pq)?;
        let footer_start = buf
            .len()
            .checked_sub(TAIL)
            .and_then(|t| {
                let n = u32::from_le_bytes(buf.get(t..t + 4)?.try_into().ok()?) as usize;
                t.checked_sub(n)
            })
            .filter(|&s| s >= MAGIC.len())
            .ok_or_else(|| StreamError::Format(format!("{p}: encoder wrote no footer")))?;
        let data = buf.get(MAGIC.len()..footer_start).unwrap_or_default();
        // Byte offsets in memory → byte offsets in the file.
        let shift = i64::try_from(self.data_end).unwrap_or(i64::MAX) - MAGIC.len() as i64;
        let mut row_groups = self.row_groups.clone();
        for rg in meta.row_groups() {
            let ordinal = i32::try_from(row_groups.len()).unwrap_or(i32::MAX);
            let mut cols = Vec::with_capacity(rg.columns().len());
            for c in rg.columns() {
                let b = c.clone().into_builder();
                let b = b
                    .set_data_page_offset(c.data_page_offset() + shift)
                    .set_dictionary_page_offset(c.dictionary_page_offset().map(|o| o + shift));
                cols.push(b.build().map_err(pq)?);
            }
            let mut b = rg
                .clone()
                .into_builder()
                .set_column_metadata(cols)
                .set_ordinal(ordinal);
            if let Some(o) = rg.file_offset() {
                b = b.set_file_offset(o + shift);
            }
            row_groups.push(b.build().map_err(pq)?);
        }
        let new_rows: u64 = meta.row_groups().iter().map(|r| r.num_rows() as u64).sum();
        let total = self.rows + new_rows;
        let footer = self.encode_footer(&row_groups, total)?;
        let io = |e| StreamError::io(&p, e);
        self.file.seek(SeekFrom::Start(self.data_end)).map_err(io)?;
        self.file.write_all(data).map_err(io)?;
        self.file.write_all(&footer).map_err(io)?;
        let end = self.data_end + data.len() as u64 + footer.len() as u64;
        self.file.set_len(end).map_err(io)?;
        self.file.sync_data().map_err(io)?;
        self.data_end += data.len() as u64;
        self.footer = footer;
        self.row_groups = row_groups;
        self.rows = total;
        for c in batch.iter_mut() {
            c.clear();
        }
        Ok(())
    }

    fn encode_footer(
        &self,
        row_groups: &[RowGroupMetaData],
        rows: u64,
    ) -> Result<Vec<u8>, StreamError> {
        let fm = FileMetaData::new(
            1,
            i64::try_from(rows).unwrap_or(i64::MAX),
            Some(format!("trident {}", env!("CARGO_PKG_VERSION"))),
            None,
            self.descr.clone(),
            None,
        );
        let md = ParquetMetaData::new(fm, row_groups.to_vec());
        let mut out = Vec::new();
        ParquetMetaDataWriter::new(&mut out, &md)
            .finish()
            .map_err(|e| StreamError::Format(format!("{}: footer: {e}", self.path.display())))?;
        Ok(out)
    }

    fn write_footer(&mut self) -> Result<(), StreamError> {
        let p = self.path.display().to_string();
        let footer = self.encode_footer(&[], 0)?;
        let io = |e| StreamError::io(&p, e);
        self.file.seek(SeekFrom::Start(self.data_end)).map_err(io)?;
        self.file.write_all(&footer).map_err(io)?;
        self.file
            .set_len(self.data_end + footer.len() as u64)
            .map_err(io)?;
        self.file.sync_all().map_err(io)?;
        self.footer = footer;
        Ok(())
    }
}

fn write_column(
    col: &mut parquet::file::writer::SerializedColumnWriter<'_>,
    values: &ColumnValues,
) -> parquet::errors::Result<()> {
    fn split<T: Clone>(v: &[Option<T>]) -> (Vec<T>, Vec<i16>) {
        let defs = v.iter().map(|x| i16::from(x.is_some())).collect();
        (v.iter().flatten().cloned().collect(), defs)
    }
    match values {
        ColumnValues::Int64(v) => {
            let (vals, defs) = split(v);
            col.typed::<Int64Type>()
                .write_batch(&vals, Some(&defs), None)?;
        }
        ColumnValues::Double(v) => {
            let (vals, defs) = split(v);
            col.typed::<DoubleType>()
                .write_batch(&vals, Some(&defs), None)?;
        }
        ColumnValues::Utf8(v) => {
            let defs: Vec<i16> = v.iter().map(|x| i16::from(x.is_some())).collect();
            let vals: Vec<ByteArray> = v
                .iter()
                .flatten()
                .map(|s| ByteArray::from(s.as_bytes().to_vec()))
                .collect();
            col.typed::<ByteArrayType>()
                .write_batch(&vals, Some(&defs), None)?;
        }
    }
    Ok(())
}

fn tail_equals(file: &mut File, len: u64, footer: &[u8]) -> std::io::Result<bool> {
    let n = footer.len() as u64;
    if len < n {
        return Ok(false);
    }
    file.seek(SeekFrom::Start(len - n))?;
    let mut got = vec![0; footer.len()];
    std::io::Read::read_exact(file, &mut got)?;
    Ok(got == footer)
}

fn footer_len_at(file: &mut File, len: u64) -> std::io::Result<u64> {
    if len < (MAGIC.len() + TAIL) as u64 {
        return Ok(0);
    }
    file.seek(SeekFrom::Start(len - TAIL as u64))?;
    let mut t = [0u8; 4];
    std::io::Read::read_exact(file, &mut t)?;
    Ok(u64::from(u32::from_le_bytes(t)) + TAIL as u64)
}

/// A Parquet cell as the text a CSV dataset holds: integers as digits, floats as Python
/// writes them (`3269991832.0`), text as is, null as empty.
#[must_use]
pub fn field_text(f: &Field) -> String {
    match f {
        Field::Null => String::new(),
        Field::Bool(b) => if *b { "True" } else { "False" }.to_owned(),
        Field::Byte(v) => v.to_string(),
        Field::Short(v) => v.to_string(),
        Field::Int(v) => v.to_string(),
        Field::Long(v) => v.to_string(),
        Field::UByte(v) => v.to_string(),
        Field::UShort(v) => v.to_string(),
        Field::UInt(v) => v.to_string(),
        Field::ULong(v) => v.to_string(),
        Field::Float(v) => crate::antinex::flatten::py_float(f64::from(*v)),
        Field::Double(v) => crate::antinex::flatten::py_float(*v),
        Field::Str(s) => s.clone(),
        Field::Bytes(b) => match b.as_utf8() {
            Ok(s) => s.to_owned(),
            Err(_) => b.data().iter().map(|x| format!("{x:02x}")).collect(),
        },
        other => other.to_string(),
    }
}

/// What a dataset reader hands over: the column names once, then each row.
#[derive(Debug, Clone, Copy)]
pub enum Cells<'a> {
    /// The column names.
    Header(&'a [String]),
    /// One row's cells, in column order.
    Row(&'a [String]),
}

/// Reads a Parquet file row by row as text cells (see [`field_text`]): calls `f` once
/// with the column names, then for each row.
///
/// # Errors
/// The file is not Parquet or a row cannot be decoded (the error names the row).
pub fn read_text_rows(
    path: &Path,
    mut f: impl FnMut(Cells<'_>) -> Result<(), StreamError>,
) -> Result<(), StreamError> {
    let p = path.display().to_string();
    let file = File::open(path).map_err(|e| StreamError::io(&p, e))?;
    let reader = SerializedFileReader::new(file)
        .map_err(|e| StreamError::Format(format!("{p}: not a Parquet file: {e}")))?;
    let names: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .root_schema()
        .get_fields()
        .iter()
        .map(|f| f.name().to_owned())
        .collect();
    f(Cells::Header(&names))?;
    let iter = reader
        .get_row_iter(None)
        .map_err(|e| StreamError::Format(format!("{p}: {e}")))?;
    let mut cells = Vec::with_capacity(names.len());
    for (i, r) in iter.enumerate() {
        let r = r.map_err(|e| StreamError::Format(format!("{p}: row {}: {e}", i + 1)))?;
        cells.clear();
        cells.extend(r.get_column_iter().map(|(_, f)| field_text(f)));
        f(Cells::Row(&cells))?;
    }
    Ok(())
}
