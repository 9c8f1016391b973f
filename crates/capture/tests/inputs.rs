//! Paths to sources: stdin, files, directories walked in order, missing paths reported.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic by design
mod common;

use std::fs;
use std::path::PathBuf;

use common::*;
use trident_capture::{CaptureErrorKind, CaptureReader, Input, expand_inputs};

/// A scratch directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("trident-capture-{}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn expands_stdin_files_directories_and_reports_missing() {
    let dir = TempDir::new("inputs");
    let root = dir.0.join("caps");
    fs::create_dir_all(root.join("a/y")).unwrap();
    fs::create_dir_all(root.join("empty")).unwrap();
    for f in ["b.pcap", "a/z.pcap", "a/y/x.pcap", "a/B.txt"] {
        fs::write(root.join(f), b"x").unwrap();
    }
    let outside = dir.0.join("outside.pcap");
    fs::write(&outside, b"x").unwrap();
    std::os::unix::fs::symlink(&outside, root.join("link.pcap")).unwrap();
    let missing = dir.0.join("missing.pcap");

    let args = vec![
        PathBuf::from("-"),
        root.clone(),
        missing.clone(),
        outside.clone(),
    ];
    let (inputs, errors) = expand_inputs(&args);
    let expect = vec![
        Input::Stdin,
        Input::File(root.join("a/B.txt")),
        Input::File(root.join("a/y/x.pcap")),
        Input::File(root.join("a/z.pcap")),
        Input::File(root.join("b.pcap")),
        Input::File(root.join("link.pcap")),
        Input::File(outside.clone()),
    ];
    assert_eq!(inputs, expect);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].source_name, missing.display().to_string());
    assert!(
        matches!(&errors[0].kind, CaptureErrorKind::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    );
    assert_eq!(Input::Stdin.name(), "-");
    assert_eq!(
        Input::File(outside.clone()).name(),
        outside.display().to_string()
    );
}

#[test]
fn open_reads_files_and_reports_missing_ones() {
    let mut w = PcapWriter::new(false, false, 1, 65535);
    w.record(1, 2, &payload(10, 1), 10);
    let file = TempFile::new("open.pcap", &w.bytes);
    let mut r = CaptureReader::open(&Input::File(file.0.clone())).unwrap();
    assert_eq!(r.name(), file.0.display().to_string());
    let f = r.next_frame().unwrap().unwrap();
    assert_eq!(f.data, &payload(10, 1)[..]);
    assert!(r.next_frame().unwrap().is_none());

    let missing = std::env::temp_dir().join("trident-capture-definitely-missing.pcap");
    let e = CaptureReader::open(&Input::File(missing.clone())).unwrap_err();
    assert_eq!(e.source_name, missing.display().to_string());
    assert_eq!(e.offset, 0);
    assert!(matches!(e.kind, CaptureErrorKind::Io(_)));
}
