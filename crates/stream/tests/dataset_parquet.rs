//! Parquet datasets: the golden AntiNex archive written as CSV and as Parquet (row groups
//! appended every N rows), read back with the parquet crate's reader and compared cell by
//! cell with the CSV; a torn append is repaired on reopen and earlier bytes never change.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use parquet::file::reader::{FileReader, SerializedFileReader};
use trident_stream::dataset::parquet::{Cells, read_text_rows};
use trident_stream::sink::{
    DatasetFormat, DatasetLayout, DatasetSink, RecordSink, archive_records,
};

fn golden_archive() -> PathBuf {
    let d = std::env::var_os("TRIDENT_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
        .join("antinex/golden-flatten-django-1100/packets-netdata-2018-01-28-23-06-05.json");
    assert!(
        d.is_file(),
        "golden AntiNex archive not found at {}",
        d.display()
    );
    d
}

fn read_csv(p: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(p).unwrap();
    let h = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (h, rows)
}

fn read_parquet(p: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut h = Vec::new();
    let mut rows = Vec::new();
    read_text_rows(p, |c| {
        match c {
            Cells::Header(x) => h = x.to_vec(),
            Cells::Row(x) => rows.push(x.to_vec()),
        }
        Ok(())
    })
    .unwrap();
    (h, rows)
}

#[test]
fn parquet_matches_csv_and_appends_row_groups() {
    let records = archive_records(&golden_archive()).unwrap();
    assert_eq!(records.len(), 1100);
    let dir = common::tempdir("pq");
    let layout = DatasetLayout::Antinex {
        fill: String::new(),
    };
    let csv_path = dir.join("netdata.csv");
    let mut csv = DatasetSink::open(&csv_path, layout.clone(), 250).unwrap();
    csv.write(&records).unwrap();
    csv.commit().unwrap();

    let pq_path = dir.join("netdata.parquet");
    let mut pq =
        DatasetSink::open_as(&pq_path, layout.clone(), 250, DatasetFormat::Parquet).unwrap();
    pq.write(&records[..300]).unwrap(); // one save of 250, 50 pending
    let after_first = std::fs::read(&pq_path).unwrap();
    let rg0 = SerializedFileReader::new(std::fs::File::open(&pq_path).unwrap()).unwrap();
    assert_eq!(rg0.metadata().file_metadata().num_rows(), 250);
    let data_end = rg0
        .metadata()
        .row_group(0)
        .columns()
        .iter()
        .map(|c| {
            let (s, l) = c.byte_range();
            s + l
        })
        .max()
        .unwrap();
    drop(rg0);
    // A crash now: the 50 pending rows are lost, the file stays a valid Parquet file.
    drop(pq);
    // Tear the file as a crash inside the next append would: half a row group written
    // over the footer.
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&pq_path)
            .unwrap();
        f.set_len(data_end).unwrap();
        std::io::Seek::seek(&mut f, std::io::SeekFrom::End(0)).unwrap();
        f.write_all(&[0x55; 700]).unwrap();
    }
    assert!(SerializedFileReader::new(std::fs::File::open(&pq_path).unwrap()).is_err());
    let mut pq = DatasetSink::open_as(&pq_path, layout, 250, DatasetFormat::Parquet).unwrap();
    assert_eq!(pq.write(&records).unwrap(), 850, "saved ids are skipped");
    pq.commit().unwrap();
    let after = std::fs::read(&pq_path).unwrap();
    // Appending never rewrote the first row group's bytes.
    let keep = usize::try_from(data_end).unwrap();
    assert_eq!(after[..keep], after_first[..keep]);

    let reader = SerializedFileReader::new(std::fs::File::open(&pq_path).unwrap()).unwrap();
    let md = reader.metadata();
    assert_eq!(md.num_row_groups(), 5, "250+250+250+250+100 rows");
    assert_eq!(md.file_metadata().num_rows(), 1100);

    let (ch, crows) = read_csv(&csv_path);
    let (ph, prows) = read_parquet(&pq_path);
    assert_eq!(ch, ph, "column names");
    assert_eq!(ph.len(), 81);
    assert_eq!(crows.len(), prows.len(), "row count");
    let mut cells = 0;
    for (i, (c, p)) in crows.iter().zip(&prows).enumerate() {
        assert_eq!(c, p, "row {i}");
        cells += c.len();
    }
    println!(
        "compared {} rows, {} columns, {cells} cells of Parquet ({} bytes) with CSV ({} bytes)",
        prows.len(),
        ph.len(),
        after.len(),
        std::fs::metadata(&csv_path).unwrap().len()
    );
    // Typed: ports are integers, addresses text.
    let schema = md.file_metadata().schema_descr();
    let ty = |n: &str| {
        (0..schema.num_columns())
            .find(|&i| schema.column(i).name() == n)
            .map(|i| schema.column(i).physical_type())
            .unwrap()
    };
    assert_eq!(ty("tcp_sport"), parquet::basic::Type::INT64);
    assert_eq!(ty("ip_src"), parquet::basic::Type::BYTE_ARRAY);
}

#[test]
fn antinex_bugs_layout_refuses_parquet() {
    let dir = common::tempdir("pqbugs");
    let e = DatasetSink::open_as(
        &dir.join("x.parquet"),
        DatasetLayout::AntinexBugs,
        10,
        DatasetFormat::Parquet,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("CSV only"), "{e}");
}
