//! Bad input gives a clear, typed error, never a panic: corrupt or foreign model files,
//! models trained on other features, captures with no host to classify, and the captures
//! networkML itself cannot classify.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use trident_capture::{CaptureReader, Input};
use trident_classify::hosts::{HostOptions, HostSelector, UnknownReason, classify_hosts};
use trident_classify::model::NETWORKML_0_6_19_JSON;
use trident_classify::networkml::{
    IpFlagsEncoding, NetworkMlOptions, check_model, classify_capture, read_capture,
};
use trident_classify::{ClassifyError, Model, ModelFile, NetworkMlFailure};
use trident_types::MacAddr;

fn builtin_file() -> ModelFile {
    Model::networkml_0_6_19().unwrap().file().clone()
}

#[test]
fn corrupt_model_files_are_rejected() {
    // Truncated in the middle of the weights.
    let cut = &NETWORKML_0_6_19_JSON[..NETWORKML_0_6_19_JSON.len() / 2];
    let err = Model::from_json_str(cut).unwrap_err();
    assert!(matches!(err, ClassifyError::ModelCorrupt(_)), "{err}");
    assert!(
        err.to_string().starts_with("model file is corrupt: "),
        "{err}"
    );
    // Not JSON at all.
    assert!(matches!(
        Model::from_json_str("\u{1f}\u{8b}binary"),
        Err(ClassifyError::ModelCorrupt(_))
    ));
    // JSON of another kind: networkML's own export is not a trident model.
    let export = r#"{"format": "networkml-0.6.19-host_footprint-export-v1"}"#;
    let err = Model::from_json_str(export).unwrap_err();
    assert!(matches!(err, ClassifyError::ModelFormat { .. }), "{err}");
    // A newer file version.
    let newer = NETWORKML_0_6_19_JSON.replacen("\"version\": 1,", "\"version\": 2,", 1);
    let err = Model::from_json_str(&newer).unwrap_err();
    assert!(
        matches!(
            err,
            ClassifyError::ModelVersion {
                found: 2,
                supported: 1
            }
        ),
        "{err}"
    );
    // A key missing.
    let mut v: serde_json::Value = serde_json::from_str(NETWORKML_0_6_19_JSON).unwrap();
    v.as_object_mut().unwrap().remove("scaler");
    let err = Model::from_json_str(&v.to_string()).unwrap_err();
    assert!(err.to_string().contains("scaler"), "{err}");
}

#[test]
fn inconsistent_models_are_rejected() {
    let mut f = builtin_file();
    f.scaler.scale[3] = 0.0;
    assert!(
        matches!(Model::new(f), Err(ClassifyError::ModelInvalid(m)) if m.contains("feature 3"))
    );
    let mut f = builtin_file();
    let trident_classify::model::Network::Mlp { layers, .. } = &mut f.network else {
        panic!("an MLP")
    };
    layers[1].weights.pop();
    assert!(matches!(Model::new(f), Err(ClassifyError::ModelInvalid(m)) if m.contains("layer 1")));
    let mut f = builtin_file();
    f.classes.pop();
    assert!(matches!(Model::new(f), Err(ClassifyError::ModelInvalid(m)) if m.contains("classes")));
    let mut f = builtin_file();
    f.scaler.mean[0] = f64::NAN;
    assert!(matches!(Model::new(f), Err(ClassifyError::ModelInvalid(_))));
}

#[test]
fn a_model_with_another_feature_schema_is_refused() {
    // Same size, two features swapped: silently applying it would feed each weight the
    // wrong input.
    let mut f = builtin_file();
    f.feature_schema.features.swap(10, 11);
    let model = Model::new(f).unwrap();
    let err = check_model(&model).unwrap_err();
    match &err {
        ClassifyError::SchemaMismatch {
            first_difference: Some((10, want, got)),
            ..
        } => {
            assert_eq!(want, "tshark_average_time_delta_in");
            assert_eq!(got, "tshark_average_time_delta_out");
        }
        other => panic!("unexpected {other}"),
    }
    assert!(err.to_string().contains("feature 10"), "{err}");
    // Another schema name with fewer features.
    let mut f = builtin_file();
    f.feature_schema.name = "trident-flows-v1".into();
    f.feature_schema.features.truncate(200);
    f.scaler.mean.truncate(200);
    f.scaler.scale.truncate(200);
    f.scaler.var.truncate(200);
    let trident_classify::model::Network::Mlp { layers, .. } = &mut f.network else {
        panic!("an MLP")
    };
    layers[0].weights.truncate(200);
    let model = Model::new(f).unwrap();
    let err = check_model(&model).unwrap_err();
    assert!(
        matches!(
            &err,
            ClassifyError::SchemaMismatch {
                found_len: 200,
                expected_len: 221,
                ..
            }
        ),
        "{err}"
    );
    // And classification refuses it before reading anything.
    let mut reader =
        CaptureReader::open(&Input::File(write_pcap("schema", 1, &[unicast_frame()]))).unwrap();
    assert!(matches!(
        classify_capture(&mut reader, &model, strict()),
        Err(ClassifyError::SchemaMismatch { .. })
    ));
}

#[test]
fn a_model_file_on_disk_round_trips_and_missing_files_are_reported() {
    let dir = temp_dir("model");
    let path = dir.join("m.json");
    std::fs::write(&path, builtin_file().to_json()).unwrap();
    let loaded = Model::from_file(&path).unwrap();
    assert_eq!(loaded.file(), Model::networkml_0_6_19().unwrap().file());
    let err = Model::from_file(&dir.join("absent.json")).unwrap_err();
    assert!(matches!(err, ClassifyError::ModelIo { .. }), "{err}");
}

fn strict() -> NetworkMlOptions {
    NetworkMlOptions {
        ip_flags: IpFlagsEncoding::Tshark4,
        strict: true,
        ipv6_ports: false,
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trident-classify-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes a pcap with the given link type and frames; returns its path.
fn write_pcap(tag: &str, link_type: u32, frames: &[Vec<u8>]) -> PathBuf {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0u8; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&link_type.to_le_bytes());
    for (i, f) in frames.iter().enumerate() {
        out.extend_from_slice(&(1_000 + u32::try_from(i).unwrap()).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        let n = u32::try_from(f.len()).unwrap().to_le_bytes();
        out.extend_from_slice(&n);
        out.extend_from_slice(&n);
        out.extend_from_slice(f);
    }
    let path = temp_dir(tag).join("c.pcap");
    std::fs::write(&path, out).unwrap();
    path
}

fn frame(dst: [u8; 6], src: [u8; 6], kind: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = dst.to_vec();
    f.extend_from_slice(&src);
    f.extend_from_slice(&kind.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn unicast_frame() -> Vec<u8> {
    frame(
        [0, 1, 2, 3, 4, 5],
        [0, 1, 2, 3, 4, 6],
        0x0806,
        &[0, 1, 8, 0, 6, 4, 0, 1],
    )
}

fn open(path: &Path) -> CaptureReader {
    CaptureReader::open(&Input::File(path.to_path_buf())).unwrap()
}

#[test]
fn captures_without_a_unicast_host_are_reported() {
    let model = Model::networkml_0_6_19().unwrap();
    // Only multicast senders talking to broadcast (e.g. a capture of LLDP/STP only).
    let group = frame([0xff; 6], [0x01, 0x80, 0xc2, 0, 0, 0x0e], 0x88cc, &[0; 46]);
    let path = write_pcap("nounicast", 1, &[group.clone(), group]);
    let err = classify_capture(&mut open(&path), &model, strict()).unwrap_err();
    assert!(matches!(err, ClassifyError::NoUnicastHost { .. }), "{err}");
    assert!(err.to_string().contains("no unicast host"), "{err}");
    let table = read_capture(&mut open(&path), NetworkMlOptions::default()).unwrap();
    let err = classify_hosts(
        &table,
        &model,
        &HostOptions::default(),
        &HostSelector::default(),
    )
    .unwrap_err();
    assert!(matches!(err, ClassifyError::NoUnicastHost { .. }), "{err}");
    // A multicast sender to a unicast receiver: networkML's canonical MAC would be the
    // multicast source, and it asserts.
    let odd = frame(
        [0, 1, 2, 3, 4, 5],
        [0x01, 0, 0x5e, 0, 0, 1],
        0x0800,
        &[0x45; 20],
    );
    let path = write_pcap("multicastsrc", 1, &[odd]);
    let err = classify_capture(&mut open(&path), &model, strict()).unwrap_err();
    assert!(
        matches!(
            &err,
            ClassifyError::NetworkMlFails {
                reason: NetworkMlFailure::CanonicalMacNotUnicast { .. },
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn empty_and_foreign_captures_are_reported() {
    let model = Model::networkml_0_6_19().unwrap();
    let path = write_pcap("empty", 1, &[]);
    let err = classify_capture(&mut open(&path), &model, strict()).unwrap_err();
    assert!(matches!(err, ClassifyError::EmptyCapture { .. }), "{err}");
    // Linux cooked capture (113): networkML has no eth.src to work with.
    let path = write_pcap("sll", 113, &[vec![0u8; 40]]);
    let err = classify_capture(&mut open(&path), &model, strict()).unwrap_err();
    assert!(
        matches!(
            &err,
            ClassifyError::NetworkMlFails {
                reason: NetworkMlFailure::NotEthernet {
                    frame: 1,
                    link_type: 113
                },
                ..
            }
        ),
        "{err}"
    );
    // A GRE packet (PPTP, 0x880b) makes networkML's 8-bit gre.proto column overflow.
    let mut ip = vec![
        0x45, 0, 0, 28, 0, 0, 0, 0, 64, 47, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    ip.extend_from_slice(&[0x30, 0x01, 0x88, 0x0b, 0, 0, 0, 0]);
    let gre = frame([0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 6], 0x0800, &ip);
    let path = write_pcap("gre", 1, &[unicast_frame(), gre.clone()]);
    let err = classify_capture(&mut open(&path), &model, strict()).unwrap_err();
    assert!(
        matches!(
            &err,
            ClassifyError::NetworkMlFails {
                reason: NetworkMlFailure::GreProtocol {
                    frame: 2,
                    proto: 0x880b
                },
                ..
            }
        ),
        "{err}"
    );
    // trident's own mode classifies it anyway.
    let table = read_capture(&mut open(&path), NetworkMlOptions::default()).unwrap();
    let hosts = classify_hosts(
        &table,
        &model,
        &HostOptions::default(),
        &HostSelector::default(),
    )
    .unwrap();
    assert_eq!(hosts.len(), 2);
    // A truncated frame without a complete source MAC.
    let path = write_pcap("short", 1, &[unicast_frame(), vec![0u8; 10]]);
    let err = classify_capture(&mut open(&path), &model, strict()).unwrap_err();
    assert!(
        matches!(
            &err,
            ClassifyError::NetworkMlFails {
                reason: NetworkMlFailure::MissingMac { frame: 2 },
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn trident_mode_selects_hosts_and_says_why_unknown() {
    let model = Model::networkml_0_6_19().unwrap();
    let path = write_pcap("select", 1, &[unicast_frame(), unicast_frame()]);
    let table = read_capture(&mut open(&path), NetworkMlOptions::default()).unwrap();
    let only = HostSelector {
        macs: vec![MacAddr([0, 1, 2, 3, 4, 6])],
        ips: Vec::new(),
    };
    let hosts = classify_hosts(&table, &model, &HostOptions::default(), &only).unwrap();
    assert_eq!(hosts.len(), 1);
    assert_eq!(hosts[0].role, "Unknown");
    assert!(matches!(
        hosts[0].unknown_reason,
        Some(UnknownReason::TooFewPackets { packets: 2, .. })
    ));
    let absent = HostSelector {
        macs: vec![MacAddr([9; 6])],
        ips: Vec::new(),
    };
    let err = classify_hosts(&table, &model, &HostOptions::default(), &absent).unwrap_err();
    assert!(matches!(err, ClassifyError::NoSuchHost { .. }), "{err}");
}
