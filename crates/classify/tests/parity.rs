//! `trident classify --compat networkml` against networkML 0.6.19's own runs: for every
//! golden pcap, the per-frame fields equal networkML's packet CSV, the chosen MAC and all
//! 279 feature values equal `combined.csv.gz`, the top-3 roles and probabilities equal
//! `result.json`, and both output shapes equal `result.json` / `predict.json` token for token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use trident_capture::{CaptureReader, Input};
use trident_classify::Model;
use trident_classify::networkml::{
    FileResult, IpFlagsEncoding, NetworkMlOptions, PacketRow, PredictMeta, feature_names,
    host_features, predict, predict_json, ratio_names, read_capture, result_json,
};

fn pcap_path(name: &str) -> PathBuf {
    let dir = common::golden_dir().join("pcaps");
    let plain = dir.join(name);
    if plain.exists() {
        plain
    } else {
        // The one pcap over 2 MB is stored gzip'd; the capture reader decompresses it.
        dir.join(format!("{name}.gz"))
    }
}

fn options() -> NetworkMlOptions {
    NetworkMlOptions {
        ip_flags: IpFlagsEncoding::Tshark4,
        strict: true,
        ipv6_ports: false,
    }
}

#[test]
fn every_golden_pcap_matches_networkml() {
    let model = Model::networkml_0_6_19().unwrap();
    let (mut frames_compared, mut features_compared, mut features_exact) = (0usize, 0usize, 0usize);
    let (mut probs_compared, mut max_prob_diff) = (0usize, 0.0f64);
    let mut max_feature_diff = 0.0f64;
    let mut identical_documents = 0usize;
    for pcap in common::golden_pcaps() {
        let run = common::golden_dir().join("runs").join(&pcap);
        let mut reader = CaptureReader::open(&Input::File(pcap_path(&pcap))).unwrap();
        let table = read_capture(&mut reader, options()).unwrap();

        // 1. Per-frame fields, against networkML's packet CSV (tshark's values).
        let golden_rows: Vec<PacketRow> = common::read_csv_gz(&run.join(format!("{pcap}.csv.gz")))
            .iter()
            .map(|r| {
                PacketRow::from_fields(&common::fields_from_csv(r), IpFlagsEncoding::Tshark4, false)
                    .unwrap()
            })
            .collect();
        assert_eq!(table.rows.len(), golden_rows.len(), "{pcap}: frame count");
        for (i, (got, want)) in table.rows.iter().zip(&golden_rows).enumerate() {
            assert_eq!(got, want, "{pcap}: frame {}", i + 1);
            frames_compared += 1;
        }

        // 2. Host choice and the 279 feature values.
        let golden = common::golden_feature_row(&pcap);
        let mac = table.canonical_host().unwrap();
        assert_eq!(mac.to_string(), golden["host_key"], "{pcap}: chosen MAC");
        let host = host_features(&table.rows, mac);
        for (names, values) in [
            (feature_names(), &host.values),
            (ratio_names(), &host.ratios),
        ] {
            for (name, v) in names.iter().zip(values.iter()) {
                let want: f64 = golden[name.as_str()].parse().unwrap();
                let diff = (v - want).abs();
                max_feature_diff = max_feature_diff.max(diff);
                assert!(
                    diff <= 1e-9 * want.abs().max(1.0),
                    "{pcap}: {name} = {v}, golden {want}"
                );
                features_compared += 1;
                features_exact += usize::from(v.to_bits() == want.to_bits());
            }
        }
        let srcips: Vec<String> = host
            .source_ips
            .iter()
            .map(|ip| format!("'{}'", ip.python_str()))
            .collect();
        assert_eq!(
            format!("[{}]", srcips.join(", ")),
            golden["tshark_srcips"],
            "{pcap}: srcips"
        );

        // 3. Prediction and the two output shapes.
        let (prediction, _) = predict(&model, &host).unwrap();
        let files = [FileResult {
            filename: format!("{pcap}.csv.gz"),
            predictions: vec![prediction],
        }];
        let got = result_json(&files);
        let want = std::fs::read_to_string(run.join("result.json")).unwrap();
        let d = common::compare_json_text(&got, &want, 1e-6)
            .unwrap_or_else(|e| panic!("{pcap}: result.json: {e}"));
        identical_documents += usize::from(got == want);
        probs_compared += d.numbers;
        max_prob_diff = max_prob_diff.max(d.max_abs_diff);
        let meta = PredictMeta {
            id: None,
            file_path: pcap.clone(),
        };
        let got = predict_json(&meta, &files, &|c| model.display_name(c).to_owned());
        let want = std::fs::read_to_string(run.join("predict.json")).unwrap();
        let d = common::compare_json_text(&got, &want, 1e-6)
            .unwrap_or_else(|e| panic!("{pcap}: predict.json: {e}"));
        identical_documents += usize::from(got == want);
        probs_compared += d.numbers;
        max_prob_diff = max_prob_diff.max(d.max_abs_diff);
    }
    println!(
        "networkML parity over 6 golden pcaps: {frames_compared} frames' fields equal tshark's; \
         {features_compared} feature values compared ({features_exact} bit-identical, max abs diff \
         {max_feature_diff:e}); {probs_compared} output numbers compared (max abs diff {max_prob_diff:e}); \
         {identical_documents} of 12 output documents byte-identical"
    );
    assert_eq!(features_compared, 6 * 279);
}

/// Checks a host's 279 features against a feature-CSV row; returns values compared.
fn assert_features(
    label: &str,
    host: &trident_classify::networkml::HostFeatures,
    golden: &std::collections::BTreeMap<String, String>,
) -> usize {
    let mut n = 0;
    for (names, values) in [
        (feature_names(), &host.values),
        (ratio_names(), &host.ratios),
    ] {
        for (name, v) in names.iter().zip(values.iter()) {
            let want: f64 = golden[name.as_str()].parse().unwrap();
            assert_eq!(
                v.to_bits(),
                want.to_bits(),
                "{label}: {name} = {v}, golden {want}"
            );
            n += 1;
        }
    }
    n
}

/// `quirks/ipflags16`: the same captures with `ip.flags` as the 16-bit word the model was
/// trained on (trident's `--ip-flags-encoding word16`).
#[test]
fn ipflags16_quirk_matches_networkml() {
    let model = Model::networkml_0_6_19().unwrap();
    let quirks = common::golden_dir().join("quirks/ipflags16");
    let mut compared = 0;
    for pcap in common::golden_pcaps() {
        let mut reader = CaptureReader::open(&Input::File(pcap_path(&pcap))).unwrap();
        let options = NetworkMlOptions {
            ip_flags: IpFlagsEncoding::Word16,
            strict: true,
            ipv6_ports: false,
        };
        let table = read_capture(&mut reader, options).unwrap();
        let golden = common::read_csv_gz(&quirks.join(format!("{pcap}.combined.csv.gz"))).remove(0);
        let mac = table.canonical_host().unwrap();
        assert_eq!(mac.to_string(), golden["host_key"]);
        let host = host_features(&table.rows, mac);
        compared += assert_features(&pcap, &host, &golden);
        let (prediction, _) = predict(&model, &host).unwrap();
        let stem = pcap.trim_end_matches(".pcap");
        let files = [FileResult {
            filename: format!("{stem}-ipflags16.csv.gz"),
            predictions: vec![prediction],
        }];
        let want = std::fs::read_to_string(quirks.join(format!("{pcap}.result.json"))).unwrap();
        common::compare_json_text(&result_json(&files), &want, 1e-6)
            .unwrap_or_else(|e| panic!("{pcap}: {e}"));
    }
    println!("ipflags16 quirk: {compared} feature values bit-identical");
}

/// `quirks/no-srcmacid`: networkML run on every unicast MAC of one capture.
#[test]
fn every_unicast_host_matches_networkml_no_srcmacid() {
    let model = Model::networkml_0_6_19().unwrap();
    let quirk = common::golden_dir().join("quirks/no-srcmacid");
    let pcap = "trace_d0b0c5_2016-02-19_18_41_11.pcap";
    let mut reader = CaptureReader::open(&Input::File(pcap_path(pcap))).unwrap();
    let table = read_capture(&mut reader, options()).unwrap();
    let rows = common::read_csv_gz(&quirk.join("combined.csv.gz"));
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(quirk.join("result.json")).unwrap()).unwrap();
    let predictions = result[format!("{pcap}.csv.gz")].as_array().unwrap();
    // The one-pass grouping trident's own mode uses, against networkML's per-MAC filter.
    let hosts = trident_classify::networkml::rows_by_host(&table.rows);
    assert_eq!(hosts.len(), rows.len(), "one row per unicast MAC");
    let mut compared = 0;
    for (mac, mine) in hosts {
        let golden = rows
            .iter()
            .find(|r| r["host_key"] == mac.to_string())
            .unwrap();
        let host = trident_classify::networkml::host_features_of(mac, &mine);
        assert_eq!(host, host_features(&table.rows, mac));
        compared += assert_features(&mac.to_string(), &host, golden);
        let (got, _) = predict(&model, &host).unwrap();
        let want = predictions
            .iter()
            .find(|p| p["source_mac"] == mac.to_string())
            .unwrap();
        assert_eq!(got.top_role, want["top_role"].as_str().unwrap(), "{mac}");
        for (g, w) in got
            .role_list
            .iter()
            .zip(want["role_list"].as_array().unwrap())
        {
            assert_eq!(g.0, w[0].as_str().unwrap());
            assert!((g.1 - w[1].as_f64().unwrap()).abs() <= 1e-6);
        }
    }
    println!("no-srcmacid quirk: 5 hosts, {compared} feature values bit-identical");
}
