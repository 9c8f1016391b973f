//! The trained MLP, calibration and the calibrated/novelty `Unknown` on real captures: a
//! model of two IoT Sentinel devices (Aria and Withings scales) names held-out captures of
//! those devices, and calls hosts of kinds it never saw (a D-Link camera, a Hue bridge, a
//! desktop browsing the web) `Unknown`, with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use trident_capture::{CaptureReader, Input};
use trident_classify::Model;
use trident_classify::hosts::{HostOptions, HostSelector, UnknownReason, classify_hosts};
use trident_classify::model::{Activation, Network};
use trident_classify::networkml::{IpFlagsEncoding, NetworkMlOptions, read_capture};
use trident_classify::train::{Candidate, Labels, TrainOptions, collect_samples, parse_mac, train};

fn shared() -> PathBuf {
    let dir = std::env::var_os("TRIDENT_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    assert!(
        dir.join("corpus/iot-sentinel").is_dir(),
        "shared data not found at {} (set TRIDENT_SHARED)",
        dir.display()
    );
    dir
}

fn capture(dir: &str, run: &str) -> PathBuf {
    shared()
        .join("corpus/iot-sentinel/captures")
        .join(dir)
        .join(format!("Setup-{run}-STA.pcap"))
}

const ARIA_MAC: &str = "20:f8:5e:ca:91:52";
const WITHINGS_MAC: &str = "00:24:e4:24:80:2a";
const ARIA_TRAIN: [&str; 6] = ["A-1", "A-2", "A-3", "C-3", "C-4", "C-6"];
const WITHINGS_TRAIN: [&str; 6] = ["C-16", "C-18", "C-6", "A-1", "C-1", "C-2"];

fn trained() -> (trident_classify::train::TrainOutcome, Model) {
    let paths: Vec<PathBuf> = ARIA_TRAIN
        .iter()
        .map(|r| capture("Aria", r))
        .chain(WITHINGS_TRAIN.iter().map(|r| capture("Withings", r)))
        .collect();
    let labels = Labels::parse(
        &format!("{ARIA_MAC},Aria\n{WITHINGS_MAC},Withings\n"),
        Path::new("labels.csv"),
        Path::new(""),
    )
    .unwrap();
    let collected = collect_samples(&paths, Some(&labels)).unwrap();
    assert_eq!(collected.samples.len(), 12, "{:?}", collected.warnings);
    let options = TrainOptions {
        folds: 4,
        grid: vec![Candidate::Mlp {
            layers: 2,
            width: 16,
            alpha: 1e-2,
        }],
        ..TrainOptions::default()
    };
    let outcome = train(&collected.samples, &options).unwrap();
    let model = Model::from_json_str(&outcome.model.to_json()).unwrap();
    (outcome, model)
}

/// The verdict on one host of one capture, with trident's default options.
fn verdict(
    model: &Model,
    path: &Path,
    mac: &str,
    options: &HostOptions,
) -> trident_classify::hosts::HostVerdict {
    let mut reader = CaptureReader::open(&Input::File(path.to_path_buf())).unwrap();
    let table = read_capture(
        &mut reader,
        NetworkMlOptions {
            ip_flags: IpFlagsEncoding::Word16,
            strict: false,
            ipv6_ports: true,
        },
    )
    .unwrap();
    let selector = HostSelector {
        macs: vec![parse_mac(mac).unwrap()],
        ips: Vec::new(),
    };
    let mut v = classify_hosts(&table, model, options, &selector).unwrap();
    assert_eq!(v.len(), 1);
    v.remove(0)
}

#[test]
fn mlp_model_is_networkml_shaped_calibrated_and_deterministic() {
    let (outcome, model) = trained();
    // Same format as networkML's: dense layers, ReLU hidden, identity + softmax output.
    let Network::Mlp { layers, .. } = &model.file().network else {
        panic!("not an MLP: {:?}", outcome.scores);
    };
    assert_eq!(layers.len(), 3);
    assert_eq!(layers[0].weights.len(), 221);
    assert_eq!(layers[0].biases.len(), 16);
    assert_eq!(layers[1].activation, Activation::Relu);
    assert_eq!(layers[2].activation, Activation::Identity);
    assert_eq!(layers[2].biases.len(), 2);
    // Cross-validation on whole held-out captures tells the two scales apart.
    assert!(
        outcome.cv_report.accuracy >= 0.9,
        "{}",
        outcome.cv_report.to_text()
    );
    let c = model.file().calibration.as_ref().expect("calibration");
    assert_eq!(c.samples, 12);
    assert!(
        c.temperature > 0.0 && c.nll_after <= c.nll_before + 1e-12,
        "{c:?}"
    );
    let n = model.file().novelty.as_ref().expect("novelty");
    assert_eq!(n.prototypes.len(), 12);
    assert!(n.threshold > 0.0);
    // A rerun gives the same bytes.
    let (again, _) = trained();
    assert_eq!(outcome.model.to_json(), again.model.to_json());
}

/// trident's defaults without the per-feature z bound, to test the novelty rule alone.
fn no_z_bound() -> HostOptions {
    HostOptions {
        max_abs_z: f64::INFINITY,
        ..HostOptions::default()
    }
}

#[test]
fn unknown_for_kinds_absent_from_training_not_for_held_out_devices() {
    let (_, model) = trained();
    // Held-out captures of the trained devices: named, not Unknown.
    for (dir, run, mac, role) in [
        ("Aria", "C-9", ARIA_MAC, "Aria"),
        ("Aria", "A-4", ARIA_MAC, "Aria"),
        ("Withings", "C-7", WITHINGS_MAC, "Withings"),
        ("Withings", "C-10", WITHINGS_MAC, "Withings"),
    ] {
        for options in [HostOptions::default(), no_z_bound()] {
            let v = verdict(&model, &capture(dir, run), mac, &options);
            assert_eq!(v.role, role, "{dir} {run}: {:?}", v.unknown_reason);
            assert!(v.unknown_reason.is_none());
        }
    }
    // Devices of other kinds: Unknown, with a reason about the data, not a coin flip.
    let golden = shared().join("networkml/golden/pcaps/443-firefox.pcap");
    for (path, mac) in [
        (capture("D-LinkCam", "A-1"), "b0:c5:54:25:5b:0e"),
        (capture("HueBridge", "A-1"), "00:17:88:24:76:ff"),
        (golden, "28:37:37:00:6d:c8"),
    ] {
        // Without the per-feature bound, the nearest-neighbour test alone still says so.
        let v = verdict(&model, &path, mac, &no_z_bound());
        assert_eq!(v.role, "Unknown", "{}: {:?}", path.display(), v.top);
        assert!(
            matches!(v.unknown_reason, Some(UnknownReason::Novel { .. })),
            "{}: {:?}",
            path.display(),
            v.unknown_reason
        );
        let v = verdict(&model, &path, mac, &HostOptions::default());
        assert_eq!(v.role, "Unknown", "{}: {:?}", path.display(), v.top);
        let reason = v.unknown_reason.expect("a reason");
        assert!(
            matches!(
                reason,
                UnknownReason::Novel { .. } | UnknownReason::OutOfDistribution { .. }
            ),
            "{}: {reason}",
            path.display()
        );
        assert!(!reason.to_string().is_empty());
    }
}
