//! `trident train` and `trident eval` end to end on a few IoT Sentinel captures.

use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus() -> PathBuf {
    std::env::var_os("TRIDENT_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
        .join("corpus/iot-sentinel/captures")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trident-train-{}-{name}", std::process::id()));
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

#[test]
fn train_then_eval() {
    let dir = scratch("e2e");
    let c = corpus();
    let labels = dir.join("labels.csv");
    std::fs::write(
        &labels,
        "mac,role\n20:f8:5e:ca:91:52,Aria\n00:24:e4:24:80:2a,Withings\n02:00:00:00:00:09,Nobody\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut paths = Vec::new();
    for r in ["A-1", "A-2", "A-3", "C-3"] {
        paths.push(c.join(format!("Aria/Setup-{r}-STA.pcap")));
    }
    for r in ["C-16", "C-18", "C-6", "A-1"] {
        paths.push(c.join(format!("Withings/Setup-{r}-STA.pcap")));
    }
    let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let model = dir.join("model.json");
    let cv = dir.join("cv.json");
    let mut args = vec![
        "train",
        "--labels",
        labels.to_str().unwrap_or_default(),
        "--folds",
        "4",
        "-o",
        model.to_str().unwrap_or_default(),
        "--cv-report",
        cv.to_str().unwrap_or_default(),
    ];
    args.extend(paths.iter().map(String::as_str));
    let (ok, stdout, stderr) = trident(&args);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("02:00:00:00:00:09"), "no warning: {stderr}");
    assert!(stdout.contains("weighted F1"), "{stdout}");
    let cv_doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cv).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cv_doc["report"]["samples"], 8);
    assert_eq!(cv_doc["predictions"].as_array().map(Vec::len), Some(8));

    let report = dir.join("eval.json");
    let mut args = vec![
        "eval",
        "--model",
        model.to_str().unwrap_or_default(),
        "--labels",
        labels.to_str().unwrap_or_default(),
        "--json",
        report.to_str().unwrap_or_default(),
    ];
    args.extend(paths.iter().map(String::as_str));
    let (ok, stdout, stderr) = trident(&args);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("confusion matrix"), "{stdout}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
    // Its own training data: every host right, 4 of each class.
    assert_eq!(doc["accuracy"], 1.0);
    assert_eq!(doc["confusion"], serde_json::json!([[4, 0], [0, 4]]));

    // A model of another feature schema is refused with a clear message.
    let text = std::fs::read_to_string(&model).unwrap_or_default();
    let other = dir.join("other.json");
    std::fs::write(
        &other,
        text.replacen("networkml-0.6.19-host", "someone-else-v2", 1),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    args[2] = other.to_str().unwrap_or_default();
    let (ok, _, stderr) = trident(&args);
    assert!(!ok);
    assert!(stderr.contains("someone-else-v2"), "{stderr}");
    assert!(stderr.contains("does not match"), "{stderr}");

    // A labels file with a bad line is a clear error naming the line.
    std::fs::write(&labels, "mac,role\nnot-a-mac,Aria\n").unwrap_or_else(|e| panic!("{e}"));
    let (ok, _, stderr) = trident(&[
        "train",
        "--labels",
        labels.to_str().unwrap_or_default(),
        "-o",
        model.to_str().unwrap_or_default(),
        paths[0].as_str(),
    ]);
    assert!(!ok);
    assert!(stderr.contains("labels.csv:2"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
