//! The featurizer and model on networkML's own packet CSVs.
//!
//! Each golden run kept the packet CSV networkML's parser wrote from tshark's output. Feeding
//! those rows (tshark's values, not trident's) to trident's featurizer separates featurizer
//! and model parity from packet-decoding parity: every one of the 279 feature values must
//! match `combined.csv.gz` and the probabilities `result.json`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use trident_classify::Model;
use trident_classify::networkml::{
    IpFlagsEncoding, PacketRow, canonical_mac, feature_names, host_features, predict, ratio_names,
};

#[test]
fn featurizer_and_model_reproduce_goldens_from_networkml_packet_csvs() {
    let model = Model::networkml_0_6_19().unwrap();
    let mut compared = 0usize;
    let mut exact = 0usize;
    let mut max_feature_diff = 0.0f64;
    let mut max_prob_diff = 0.0f64;
    for pcap in common::golden_pcaps() {
        let run = common::golden_dir().join("runs").join(&pcap);
        let packets = common::read_csv_gz(&run.join(format!("{pcap}.csv.gz")));
        let rows: Vec<PacketRow> = packets
            .iter()
            .map(|r| {
                PacketRow::from_fields(&common::fields_from_csv(r), IpFlagsEncoding::Tshark4, false)
                    .unwrap()
            })
            .collect();
        let golden = common::golden_feature_row(&pcap);
        let chosen = canonical_mac(&rows).unwrap();
        assert_eq!(chosen.to_string(), golden["host_key"], "{pcap}: chosen MAC");
        let host = host_features(&rows, chosen);
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
                compared += 1;
                exact += usize::from(v.to_bits() == want.to_bits());
            }
        }
        let want_epoch: f64 = golden["tshark_frame_epoch"].parse().unwrap();
        assert_eq!(host.frame_epoch, want_epoch, "{pcap}: frame epoch");
        let result: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run.join("result.json")).unwrap())
                .unwrap();
        let want = &result[format!("{pcap}.csv.gz")][0];
        let (prediction, _) = predict(&model, &host).unwrap();
        assert_eq!(
            prediction.top_role,
            want["top_role"].as_str().unwrap(),
            "{pcap}"
        );
        for (got, want) in prediction
            .role_list
            .iter()
            .zip(want["role_list"].as_array().unwrap())
        {
            assert_eq!(got.0, want[0].as_str().unwrap(), "{pcap}: role order");
            let diff = (got.1 - want[1].as_f64().unwrap()).abs();
            max_prob_diff = max_prob_diff.max(diff);
            assert!(
                diff <= 1e-6,
                "{pcap}: {} probability {} vs {}",
                got.0,
                got.1,
                want[1]
            );
        }
        assert_eq!(
            prediction.timestamp,
            want["timestamp"].as_f64().unwrap(),
            "{pcap}: timestamp"
        );
        assert_eq!(
            prediction.source_ip.as_deref(),
            want["source_ip"].as_str(),
            "{pcap}: source_ip"
        );
    }
    println!(
        "networkML packet CSVs: {compared} feature values compared ({exact} bit-identical), \
         max abs diff {max_feature_diff:e}; max probability diff {max_prob_diff:e}"
    );
    assert_eq!(compared, 6 * 279);
}
