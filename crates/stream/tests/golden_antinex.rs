//! AntiNex parity: the golden archive's 1,100 packets through the dataset sink with
//! `--compat antinex-bugs` reproduce the CSV AntiNex's processor wrote, byte for byte.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use trident_stream::sink::{DatasetLayout, DatasetSink, RecordSink, archive_records};

fn golden() -> PathBuf {
    let d = std::env::var_os("TRIDENT_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
        .join("antinex/golden-flatten-django-1100");
    assert!(
        d.is_dir(),
        "golden AntiNex data not found at {}",
        d.display()
    );
    d
}

#[test]
fn golden_archive_reproduces_processor_csv() {
    let dir = golden();
    let records = archive_records(&dir.join("packets-netdata-2018-01-28-23-06-05.json")).unwrap();
    let expected = std::fs::read(dir.join("netdata-2018-01-28-23-06-05.csv")).unwrap();
    let out = common::tempdir("golden").join("netdata.csv");
    // Saving every 100 rows rewrites the file eleven times, as AntiNex does.
    let mut sink = DatasetSink::open(&out, DatasetLayout::AntinexBugs, 100).unwrap();
    for chunk in records.chunks(37) {
        sink.write(chunk).unwrap();
    }
    sink.commit().unwrap();
    let got = std::fs::read(&out).unwrap();
    println!(
        "compared {} packets, {} bytes against the golden CSV",
        records.len(),
        expected.len()
    );
    assert_eq!(records.len(), 1100);
    if got != expected {
        let g = String::from_utf8_lossy(&got);
        let e = String::from_utf8_lossy(&expected);
        for (i, (a, b)) in g.lines().zip(e.lines()).enumerate() {
            assert_eq!(a, b, "line {} differs", i + 1);
        }
        panic!("lengths differ: {} vs {}", got.len(), expected.len());
    }
    // Reopening and writing the same records again adds nothing (ids are recorded).
    let mut sink = DatasetSink::open(&out, DatasetLayout::AntinexBugs, 100).unwrap();
    assert_eq!(sink.write(&records).unwrap(), 0);
    sink.commit().unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), expected);
}

#[test]
fn stable_layout_appends_and_resumes() {
    let dir = golden();
    let records = archive_records(&dir.join("packets-netdata-2018-01-28-23-06-05.json")).unwrap();
    let out = common::tempdir("stable").join("netdata.csv");
    let layout = DatasetLayout::Antinex {
        fill: "-1.0".into(),
    };
    let mut sink = DatasetSink::open(&out, layout.clone(), 250).unwrap();
    sink.write(&records[..600]).unwrap();
    // 500 saved, 100 pending: a "crash" now loses only unsaved rows, which come again.
    drop(sink);
    let mut sink = DatasetSink::open(&out, layout, 250).unwrap();
    assert_eq!(sink.write(&records).unwrap(), 600);
    sink.commit().unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    println!("compared {} rows of the stable layout", lines.len() - 1);
    assert_eq!(lines.len(), 1101);
    assert!(lines[0].starts_with("idx,arp_hwdst,"));
    assert_eq!(lines[0].split(',').count(), 81);
    assert!(lines[1].starts_with("0,"));
    assert!(lines[1100].starts_with("1099,"));
    // Integers stay integers; missing cells are the fill value.
    assert!(lines[1].contains(",3269735087,"));
    assert!(lines[1].contains(",-1.0,"));
}
