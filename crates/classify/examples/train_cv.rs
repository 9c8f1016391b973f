//! `trident train`'s cross-validation without the CLI, for measuring model families on a
//! labelled corpus:
//!
//! ```text
//! cargo run --release -p trident-classify --example train_cv -- \
//!     LABELS FAMILY FOLDS REPEATS SEED OUT.json CAPTURES...
//! ```
//!
//! FAMILY is `all`, `forest`, `softmax` or `mlp`. Writes the CV report (as
//! `trident train --cv-report`) plus the model's calibration and novelty figures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use trident_classify::train::{
    Candidate, Family, Labels, TrainOptions, collect_samples, family_grid, train,
};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [labels, family, folds, repeats, seed, out, captures @ ..] = args.as_slice() else {
        eprintln!("usage: train_cv LABELS FAMILY FOLDS REPEATS SEED OUT.json CAPTURES...");
        std::process::exit(2);
    };
    let family = match family.as_str() {
        "all" => None,
        "forest" => Some(Family::Forest),
        "softmax" => Some(Family::Softmax),
        "mlp" => Some(Family::Mlp),
        other => {
            eprintln!("unknown family {other}");
            std::process::exit(2);
        }
    };
    let labels = Labels::from_file(Path::new(labels)).unwrap();
    let paths: Vec<PathBuf> = captures.iter().map(PathBuf::from).collect();
    let started = Instant::now();
    let collected = collect_samples(&paths, Some(&labels)).unwrap();
    for w in &collected.warnings {
        eprintln!("warning: {w}");
    }
    eprintln!(
        "{} samples from {} captures in {:.1} s",
        collected.samples.len(),
        collected.captures,
        started.elapsed().as_secs_f64()
    );
    let options = TrainOptions {
        folds: folds.parse().unwrap(),
        repeats: repeats.parse().unwrap(),
        seed: seed.parse().unwrap(),
        grid: match std::env::var("TRAIN_CV_GRID") {
            // `layers:width:alpha` (MLP), `forest:trees`, `softmax:alpha`, comma-separated:
            // candidates to try instead of the family's grid.
            Ok(spec) => spec
                .split(',')
                .map(|c| {
                    let p: Vec<&str> = c.split(':').collect();
                    match p[0] {
                        "forest" => Candidate::Forest {
                            trees: p[1].parse().unwrap(),
                            max_depth: None,
                        },
                        "softmax" => Candidate::Softmax {
                            alpha: p[1].parse().unwrap(),
                        },
                        _ => Candidate::Mlp {
                            layers: p[0].parse().unwrap(),
                            width: p[1].parse().unwrap(),
                            alpha: p[2].parse().unwrap(),
                        },
                    }
                })
                .collect(),
            Err(_) => family_grid(family),
        },
        ..TrainOptions::default()
    };
    let outcome = train(&collected.samples, &options).unwrap();
    let secs = started.elapsed().as_secs_f64();
    for s in &outcome.scores {
        eprintln!(
            "{:<36} weighted F1 {:.4} accuracy {:.4} ECE {:.4}",
            s.description, s.weighted_f1, s.accuracy, s.ece
        );
    }
    print!("{}", outcome.cv_report.to_text());
    let doc = serde_json::json!({
        "report": outcome.cv_report,
        "hardest_confusions": outcome.cv_report.hardest_confusions(10),
        "grid": outcome.scores,
        "chosen": outcome.chosen,
        "calibration": outcome.model.calibration,
        "novelty": outcome.novelty,
        "seconds": secs,
    });
    std::fs::write(out, format!("{doc:#}\n")).unwrap();
    eprintln!("calibration: {:?}", outcome.model.calibration);
    eprintln!("novelty: {:?}", outcome.novelty);
    eprintln!("total {secs:.1} s");
}
