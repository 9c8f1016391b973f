//! The built-in model is networkML 0.6.19's, unchanged: converting the shared export again
//! gives the committed file, number for number, and it takes networkML's features in order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use trident_classify::networkml::{FEATURE_SCHEMA, check_model, feature_names};
use trident_classify::{Model, ModelFile};

#[test]
fn builtin_model_is_the_converted_networkml_export() {
    let export = std::fs::read_to_string(
        common::shared_dir().join("networkml/model/host_footprint_export.json"),
    )
    .unwrap();
    let converted = ModelFile::from_networkml_export(&export).unwrap();
    let builtin = Model::networkml_0_6_19().unwrap();
    // PartialEq on f64 is exact: every weight, bias, mean and scale must be the same double.
    assert_eq!(builtin.file(), &converted);
    // The committed text is what the converter writes (so regenerating changes nothing).
    assert_eq!(
        trident_classify::model::NETWORKML_0_6_19_JSON,
        converted.to_json()
    );
    // Cross-check against the export's own JSON, independently of the converter.
    let raw: serde_json::Value = serde_json::from_str(&export).unwrap();
    assert_eq!(
        raw["classes"].as_array().unwrap().len(),
        builtin.classes().len()
    );
    for (i, name) in raw["feature_names"].as_array().unwrap().iter().enumerate() {
        assert_eq!(
            name.as_str(),
            builtin.feature_names().get(i).map(String::as_str)
        );
    }
    assert_eq!(builtin.display_name("GithubRepo"), "GitHub server");
    assert_eq!(builtin.display_name("Unknown"), "Unknown");
}

#[test]
fn builtin_model_takes_networkmls_features_in_order() {
    let model = Model::networkml_0_6_19().unwrap();
    check_model(&model).unwrap();
    assert_eq!(model.file().feature_schema.name, FEATURE_SCHEMA);
    assert_eq!(model.feature_names(), feature_names());
    // Python's sorted(): byte order.
    let mut sorted = feature_names().to_vec();
    sorted.sort();
    assert_eq!(sorted, feature_names());
}

#[test]
fn model_json_round_trips_exactly() {
    let model = Model::networkml_0_6_19().unwrap();
    let again = Model::from_json_str(&model.file().to_json()).unwrap();
    assert_eq!(again.file(), model.file());
    let x: Vec<f64> = (0..221).map(|i| f64::from(i) * 0.37 - 20.0).collect();
    let (a, b) = (
        model.predict_proba(&x).unwrap(),
        again.predict_proba(&x).unwrap(),
    );
    assert_eq!(a, b);
    assert!((a.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert_eq!(model.predict_proba(&x[..220]), None);
}
