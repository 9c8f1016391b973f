//! The command line's promises: exit codes, errors that name file and offset, quiet broken
//! pipes, stable csv columns. Uses only the bundled `samples/`, so a fresh clone passes.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed expectation is a failed test

mod common;

use std::io::Read;
use std::process::{Command, Stdio};

fn sample(name: &str) -> String {
    common::repo()
        .join("samples")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn samples_decode_with_exit_zero_and_every_packet() {
    let o = common::trident(&[
        "decode",
        "--format",
        "csv",
        "--fields",
        "file,frame",
        &sample(""),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let rows = String::from_utf8(o.stdout).expect("utf-8").lines().count() - 1;
    // samples/LICENSES.md lists the packet counts: 136 + 42 + 12 + 89 + 30, and the two
    // gzipped attack-model sessions 2,113 + 2,181.
    assert_eq!(rows, 4603);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("7 files, 4603 packets"), "summary: {err}");
    assert!(
        err.contains("not captures") && err.contains("LICENSES.md"),
        "the non-capture file met in the directory is reported, not fatal: {err}"
    );
}

#[test]
fn unknown_field_is_a_usage_error() {
    let o = common::trident(&[
        "decode",
        "--fields",
        "ip_src,nonsense",
        &sample("wikipedia.pcap"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown field 'nonsense'"));
}

#[test]
fn truncated_file_keeps_earlier_packets_names_offset_and_goes_on() {
    let dir = std::env::temp_dir().join(format!("trident-trunc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bytes = std::fs::read(sample("wikipedia.pcap")).expect("sample");
    // Cut in the middle of a record: the header, some whole records, then half of one.
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let o = common::trident(&[
        "decode",
        "--format",
        "csv",
        "--fields",
        "file,frame",
        cut.to_str().expect("path"),
        &sample("chrome-34-google.pcap"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8(o.stdout).expect("utf-8");
    let from_cut = out.lines().filter(|l| l.contains("cut.pcap")).count();
    let from_next = out
        .lines()
        .filter(|l| l.contains("chrome-34-google"))
        .count();
    assert!(
        from_cut > 10,
        "packets before the damage are kept ({from_cut})"
    );
    assert_eq!(from_next, 42, "the next file is still read");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cut.pcap: at byte "),
        "error names file and offset: {err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn closed_pipe_exits_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trident"))
        .args(["decode", &sample(""), &sample(""), &sample(""), &sample("")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = [0u8; 10];
    child
        .stdout
        .take()
        .expect("stdout")
        .read_exact(&mut first)
        .expect("read");
    // Dropping stdout closes the pipe.
    let status = child.wait().expect("wait");
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.to_lowercase().contains("broken pipe"), "{err}");
}

#[test]
fn schema_doc_lists_every_column() {
    let o = common::trident(&["decode", "--list-fields"]);
    assert!(o.status.success());
    let doc =
        std::fs::read_to_string(common::repo().join("docs/SCHEMA.md")).expect("docs/SCHEMA.md");
    let listed = String::from_utf8(o.stdout).expect("utf-8");
    let mut n = 0;
    for line in listed.lines() {
        let name = line.split_whitespace().next().expect("column name");
        assert!(
            doc.contains(&format!("| `{name}` |")),
            "docs/SCHEMA.md lacks column {name}"
        );
        n += 1;
    }
    assert!(n > 50, "only {n} columns listed");
}

#[test]
fn stdin_reads_a_capture_stream() {
    let bytes = std::fs::read(sample("chrome-34-google.pcap")).expect("sample");
    let mut child = Command::new(env!("CARGO_BIN_EXE_trident"))
        .args([
            "decode",
            "--format",
            "csv",
            "--fields",
            "file,frame,tls_sni",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        stdin.write_all(&bytes).expect("write stdin");
    });
    let o = child.wait_with_output().expect("wait");
    writer.join().expect("writer");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8(o.stdout).expect("utf-8");
    assert_eq!(out.lines().count(), 43, "header + 42 packets");
    assert!(
        out.contains("-,4,google.de"),
        "frame 4 carries the SNI: {out}"
    );
}
