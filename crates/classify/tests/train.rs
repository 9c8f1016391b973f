//! `trident train` / `trident eval` on a few real captures of the IoT Sentinel corpus
//! (Aria scale and Withings scale setups, labelled by MAC in the corpus's CAPTURES.tsv).

use std::path::{Path, PathBuf};

use trident_classify::eval::{EvalReport, predict_samples};
use trident_classify::model::Network;
use trident_classify::networkml::{FEATURE_SCHEMA, feature_names};
use trident_classify::train::{
    Candidate, Labels, TrainError, TrainOptions, collect_samples, train,
};
use trident_classify::{ClassifyError, Model};

fn corpus() -> PathBuf {
    std::env::var_os("TRIDENT_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
        .join("corpus/iot-sentinel")
}

const ARIA_MAC: &str = "20:f8:5e:ca:91:52";
const WITHINGS_MAC: &str = "00:24:e4:24:80:2a";
const ARIA: [&str; 4] = ["A-1", "A-2", "A-3", "C-3"];
const WITHINGS: [&str; 4] = ["C-16", "C-18", "C-6", "A-1"];

fn captures() -> Vec<PathBuf> {
    let c = corpus().join("captures");
    ARIA.iter()
        .map(|r| c.join(format!("Aria/Setup-{r}-STA.pcap")))
        .chain(
            WITHINGS
                .iter()
                .map(|r| c.join(format!("Withings/Setup-{r}-STA.pcap"))),
        )
        .collect()
}

fn labels(extra: &str) -> Labels {
    let text = format!("mac,role\n{ARIA_MAC},Aria\n{WITHINGS_MAC},Withings\n{extra}");
    match Labels::parse(&text, Path::new("labels.csv"), Path::new("")) {
        Ok(l) => l,
        Err(e) => panic!("labels: {e}"),
    }
}

fn small_options() -> TrainOptions {
    TrainOptions {
        folds: 4,
        grid: vec![
            Candidate::Forest {
                trees: 15,
                max_depth: None,
            },
            Candidate::Softmax { alpha: 1.0 },
        ],
        ..TrainOptions::default()
    }
}

#[test]
fn same_seed_same_model_bytes_and_sensible_scores() {
    let collected =
        collect_samples(&captures(), Some(&labels(""))).unwrap_or_else(|e| panic!("{e}"));
    assert!(collected.warnings.is_empty(), "{:?}", collected.warnings);
    // One labelled host per capture (the other hosts are unlabelled and skipped).
    assert_eq!(collected.samples.len(), 8);
    assert_eq!(
        collected
            .samples
            .iter()
            .filter(|s| s.role == "Aria")
            .count(),
        4
    );
    let a = train(&collected.samples, &small_options()).unwrap_or_else(|e| panic!("{e}"));
    let b = train(&collected.samples, &small_options()).unwrap_or_else(|e| panic!("{e}"));
    let bytes = a.model.to_json();
    assert_eq!(
        bytes,
        b.model.to_json(),
        "a rerun with the same seed differs"
    );
    // Another seed gives another forest (if a forest is chosen) or the same softmax model.
    let other = train(
        &collected.samples,
        &TrainOptions {
            seed: 7,
            ..small_options()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    if matches!(a.model.network, Network::Forest { .. }) {
        assert_ne!(bytes, other.model.to_json());
    }
    // Two scales of different vendors with different cloud services: cross-validation,
    // with whole captures held out, must tell them apart.
    assert_eq!(a.cv_report.samples, 8);
    assert!(a.cv_report.accuracy >= 0.75, "{}", a.cv_report.to_text());
    assert_eq!(a.scores.len(), 2);
    // The file loads, matches the networkML schema, and records classes and training.
    let model = Model::from_json_str(&bytes).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = feature_names().iter().map(String::as_str).collect();
    assert!(model.check_schema(FEATURE_SCHEMA, &names).is_ok());
    assert_eq!(model.classes(), ["Aria".to_owned(), "Withings".to_owned()]);
    assert_eq!(model.file().provenance.training["samples"], 8);
    // Applied to its own training captures the model is right on all of them.
    let predicted = predict_samples(&model, &collected.samples);
    let truth: Vec<String> = collected.samples.iter().map(|s| s.role.clone()).collect();
    assert_eq!(EvalReport::new(&truth, &predicted).accuracy, 1.0);
}

#[test]
fn forest_round_trips_and_is_validated() {
    let collected =
        collect_samples(&captures(), Some(&labels(""))).unwrap_or_else(|e| panic!("{e}"));
    let options = TrainOptions {
        grid: vec![Candidate::Forest {
            trees: 5,
            max_depth: Some(3),
        }],
        ..small_options()
    };
    let out = train(&collected.samples, &options).unwrap_or_else(|e| panic!("{e}"));
    let text = out.model.to_json();
    let model = Model::from_json_str(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(model.file(), &out.model);
    for s in &collected.samples {
        let p = model.predict_proba(&s.features).unwrap_or_default();
        assert_eq!(p.len(), 2);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
    // A split on a feature the schema does not have is refused.
    let mut bad = out.model.clone();
    if let Network::Forest { trees } = &mut bad.network {
        if let Some(split) = trees
            .first_mut()
            .and_then(|t| t.nodes.first_mut())
            .and_then(|n| n.split.as_mut())
        {
            split.feature = 221;
        }
    }
    assert!(matches!(
        Model::new(bad),
        Err(ClassifyError::ModelInvalid(m)) if m.contains("feature 221")
    ));
}

#[test]
fn other_schema_is_a_clear_error() {
    let collected =
        collect_samples(&captures(), Some(&labels(""))).unwrap_or_else(|e| panic!("{e}"));
    let mut file = train(&collected.samples, &small_options())
        .unwrap_or_else(|e| panic!("{e}"))
        .model;
    file.feature_schema.name = "host-inventory-v1".into();
    if let Some(f) = file.feature_schema.features.get_mut(3) {
        *f = "dhcp_fingerprint".into();
    }
    let model = Model::new(file).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = feature_names().iter().map(String::as_str).collect();
    let err = model
        .check_schema(FEATURE_SCHEMA, &names)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("host-inventory-v1"), "{err}");
    assert!(err.contains("feature 3"), "{err}");
}

#[test]
fn unknown_macs_in_labels_give_a_warning_naming_them() {
    let l = labels("02:00:00:00:00:01,Ghost\n10.9.9.9,Ghost\n");
    let collected = collect_samples(&captures(), Some(&l)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(collected.samples.len(), 8);
    let w = collected.warnings.join("\n");
    assert!(w.contains("02:00:00:00:00:01"), "{w}");
    assert!(w.contains("10.9.9.9"), "{w}");
    assert!(!w.contains(ARIA_MAC), "{w}");
}

#[test]
fn per_capture_labels_override_and_ip_labels_work() {
    let c = corpus().join("captures");
    // The Aria's IP in that capture, as tshark shows it:
    // tshark -r Aria/Setup-A-1-STA.pcap -Y 'eth.src==20:f8:5e:ca:91:52 && ip' -T fields -e ip.src
    let ip = std::process::Command::new("tshark")
        .arg("-r")
        .arg(c.join("Aria/Setup-A-1-STA.pcap"))
        .args([
            "-Y",
            "eth.src==20:f8:5e:ca:91:52 && ip && !(ip.src==0.0.0.0)",
        ])
        .args(["-T", "fields", "-e", "ip.src"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(|l| l.trim().to_owned()))
        .filter(|s| !s.is_empty());
    let ip = ip.expect("tshark is needed for this test (apt install tshark)");
    let capture = c.join("Aria/Setup-A-2-STA.pcap");
    // The third line is for a capture not given: not an unknown address, no warning.
    let text = format!(
        "{},{ARIA_MAC},SpecialScale\n{ip},Scale\n{},02:00:00:00:00:07,Other\n",
        capture.display(),
        c.join("Withings/Setup-C-6-STA.pcap").display()
    );
    let l =
        Labels::parse(&text, Path::new("l.csv"), Path::new("")).unwrap_or_else(|e| panic!("{e}"));
    let paths = vec![c.join("Aria/Setup-A-1-STA.pcap"), capture];
    let collected = collect_samples(&paths, Some(&l)).unwrap_or_else(|e| panic!("{e}"));
    let roles: Vec<&str> = collected.samples.iter().map(|s| s.role.as_str()).collect();
    assert_eq!(roles, ["Scale", "SpecialScale"], "{:?}", collected.warnings);
    assert!(collected.warnings.is_empty(), "{:?}", collected.warnings);
}

#[test]
fn bad_labels_files_are_clear_errors() {
    for (text, line, what) in [
        ("mac,role\nnot-a-mac,Aria\n", 2, "neither a MAC"),
        ("20:f8:5e:ca:91:52\n", 1, "expected 2 fields"),
        ("# c\n20:f8:5e:ca:91:52,\n", 2, "empty role"),
        ("a,b,c,d\n", 1, "found 4"),
    ] {
        match Labels::parse(text, Path::new("l.csv"), Path::new("")) {
            Err(TrainError::Labels {
                line: l, message, ..
            }) => {
                assert_eq!(l, line, "{text:?}");
                assert!(message.contains(what), "{message}");
            }
            other => panic!("{text:?}: {other:?}"),
        }
    }
    let missing = Labels::from_file(Path::new("/nonexistent/labels.csv"));
    assert!(matches!(missing, Err(TrainError::LabelsIo { .. })));
}

#[test]
fn file_name_labels_and_too_few_classes() {
    // Corpus names are Setup-...: the file-name convention reads the role "Setup" for all,
    // one class only, which training refuses with a clear error.
    let collected = collect_samples(&captures(), None).unwrap_or_else(|e| panic!("{e}"));
    assert!(collected.samples.iter().all(|s| s.role == "Setup"));
    assert!(matches!(
        train(&collected.samples, &small_options()),
        Err(TrainError::TooFewClasses { found: 1 })
    ));
}
