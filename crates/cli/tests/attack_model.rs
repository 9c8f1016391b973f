//! The flow-level attack model end to end on the bundled labelled sessions
//! (`samples/attack-{train,test}.pcap.gz`, made by `bench/attack-traffic.sh --small` with
//! seeds 7 and 8): labels are joined to the right flows, and a model trained on one session
//! finds the other session's scans and flood.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn sample(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../samples")
        .join(name)
        .display()
        .to_string()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trident-attack-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

fn trident(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_trident"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn train(dir: &Path, target: &str) -> String {
    let model = dir.join(format!("{target}.json")).display().to_string();
    let (ok, out, err) = trident(&[
        "train",
        "--level",
        "flow",
        "--target",
        target,
        "--labels",
        &sample("attack-train.labels.csv"),
        &sample("attack-train.pcap.gz"),
        "-o",
        &model,
    ]);
    assert!(ok, "train failed:\n{out}\n{err}");
    model
}

fn eval(dir: &Path, model: &str) -> (Value, String) {
    let json = dir.join("report.json").display().to_string();
    let (ok, out, err) = trident(&[
        "eval",
        "--level",
        "flow",
        "--model",
        model,
        "--labels",
        &sample("attack-test.labels.csv"),
        &sample("attack-test.pcap.gz"),
        "--json",
        &json,
    ]);
    assert!(ok, "eval failed:\n{out}\n{err}");
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| panic!("{e}"));
    (
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}")),
        out,
    )
}

fn recall(report: &Value, class: &str) -> f64 {
    report["per_class"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["class"] == class))
        .and_then(|c| c["recall"].as_f64())
        .unwrap_or_else(|| panic!("no class {class} in {report}"))
}

fn support(report: &Value, class: &str) -> u64 {
    report["per_class"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["class"] == class))
        .and_then(|c| c["support"].as_u64())
        .unwrap_or(0)
}

#[test]
fn attack_types_on_a_held_out_session() {
    let dir = scratch("type");
    let model = train(&dir, "type");
    let (doc, out) = eval(&dir, &model);
    println!("{out}");
    let report = &doc["report"];
    // The labels file's windows matched the flows the generator made: the test session
    // scanned 100-200 TCP ports twice and 40-80 UDP ports, and sent 200-300 flood SYNs
    // (each from its own source port, so each its own flow).
    let windows = doc["windows"].as_array().unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(windows.len(), 5);
    for w in windows {
        let (label, flows) = (w["label"].as_str().unwrap_or(""), w["flows"].as_u64());
        let floor = match label {
            "syn-scan" | "xmas-scan" => 100,
            "udp-scan" => 40,
            "syn-flood" => 200,
            "brute-force" => 10,
            other => panic!("unexpected window {other}"),
        };
        assert!(
            flows >= Some(floor),
            "{label}: {flows:?} flows, expected >= {floor}"
        );
        assert_eq!(support(report, label), flows.unwrap_or(0), "{label}");
    }
    assert!(support(report, "benign") >= 20, "{report}");
    // Scans and the flood are found on the other session.
    for class in ["syn-scan", "xmas-scan", "udp-scan", "syn-flood"] {
        let r = recall(report, class);
        assert!(r >= 0.9, "{class}: recall {r} on the held-out session");
    }
    // Attack vs benign from the type predictions.
    let binary = &doc["binary"];
    assert!(recall(binary, "attack") >= 0.9, "{binary}");
    assert!(recall(binary, "benign") >= 0.8, "{binary}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn binary_target_and_bad_labels() {
    let dir = scratch("binary");
    let model = train(&dir, "binary");
    let (doc, _) = eval(&dir, &model);
    let report = &doc["report"];
    assert_eq!(
        report["classes"],
        serde_json::json!(["attack", "benign"]),
        "{report}"
    );
    assert!(doc["binary"].is_null());
    assert!(recall(report, "attack") >= 0.9, "{report}");
    assert!(
        report["accuracy"].as_f64().unwrap_or(0.0) >= 0.9,
        "{report}"
    );

    // A bad labels line is an error naming the file, line and field.
    let labels = dir.join("bad.csv");
    std::fs::write(
        &labels,
        "start,end,src,dst,label\n1,2,10.0.0.1,,syn-scan\n3,x,10.0.0.1,,syn-scan\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (ok, _, err) = trident(&[
        "train",
        "--level",
        "flow",
        "--labels",
        labels.to_str().unwrap_or_default(),
        &sample("attack-train.pcap.gz"),
        "-o",
        dir.join("m.json").to_str().unwrap_or_default(),
    ]);
    assert!(!ok);
    assert!(err.contains("bad.csv:3") && err.contains("end"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
