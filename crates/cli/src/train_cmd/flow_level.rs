//! `trident train --level flow` and `trident eval --level flow`: the attack model, trained and
//! evaluated on flows (features in `trident_classify::attack`), labelled from attack windows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use trident_capture::RawFrame;
use trident_classify::Model;
use trident_classify::attack::{
    ATTACK, ATTACK_FEATURE_SCHEMA, AttackLabels, BENIGN, Target, attack_feature_names,
    flow_features,
};
use trident_classify::eval::EvalReport;
use trident_classify::model::FeatureSchema;
use trident_classify::train::{Candidate, fit_rows};
use trident_decode::{DecodeOptions, decode_with};
use trident_flow::{FlowConfig, FlowRecord, FlowTable};

use super::{HARDEST_CONFUSIONS, ModelFamily, confusions_text};
use crate::EXIT_OK;
use crate::inputs::{FrameSink, Inputs};

/// Decodes every frame into one flow table.
struct Collect {
    options: DecodeOptions,
    table: FlowTable,
    records: Vec<FlowRecord>,
}

impl FrameSink for Collect {
    fn frame(&mut self, _name: &str, frame: &RawFrame<'_>) -> Result<()> {
        let packet = decode_with(frame.link_type, frame.data, self.options);
        self.table
            .process(frame.ts, frame.origlen, &packet, &mut self.records);
        Ok(())
    }
}

/// A labelled flow.
pub(super) struct FlowSample {
    /// Attack type or benign.
    pub kind: String,
    /// Window index in the labels file, if inside one.
    pub window: Option<usize>,
    /// Features.
    pub features: Vec<f64>,
}

/// The flows of `paths` (trident's default flow table), labelled from `labels`.
fn collect(cmd: &str, paths: &[PathBuf], labels: &Path) -> Result<(Vec<FlowSample>, AttackLabels)> {
    let labels = AttackLabels::from_file(labels)?;
    let mut inputs = Inputs::expand(paths)?;
    let mut sink = Collect {
        options: DecodeOptions::default(),
        table: FlowTable::new(FlowConfig::default()),
        records: Vec::new(),
    };
    let files = inputs.read_all(&mut sink, || {})?;
    inputs.problems.print(&mut std::io::stderr());
    if files == 0 {
        bail!("no capture could be read");
    }
    let Collect {
        mut table,
        mut records,
        ..
    } = sink;
    table.flush(&mut records);
    let mut per_window = vec![0u64; labels.windows.len()];
    let samples: Vec<FlowSample> = records
        .iter()
        .map(|f| {
            let window = labels.window_of(f);
            if let Some(c) = window.and_then(|w| per_window.get_mut(w)) {
                *c += 1;
            }
            FlowSample {
                kind: labels.label_of(f).to_owned(),
                window,
                features: flow_features(f),
            }
        })
        .collect();
    for (w, n) in labels.windows.iter().zip(&per_window) {
        if *n == 0 {
            eprintln!(
                "trident {cmd}: warning: labels line {} ({} from {}) matches no flow",
                w.line, w.label, w.src
            );
        }
    }
    Ok((samples, labels))
}

fn class_counts(labels: &[String]) -> String {
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for l in labels {
        *counts.entry(l).or_default() += 1;
    }
    counts
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `trident train --level flow`.
pub(super) fn run_train(
    paths: &[PathBuf],
    labels: Option<&Path>,
    target: Target,
    family: ModelFamily,
    seed: u64,
    name: &str,
    out: &Path,
) -> Result<u8> {
    let Some(labels) = labels else {
        bail!("--level flow needs --labels FILE (lines start,end,src,dst,label)");
    };
    let (samples, _) = collect("train", paths, labels)?;
    let rows: Vec<Vec<f64>> = samples.iter().map(|s| s.features.clone()).collect();
    let truth: Vec<String> = samples.iter().map(|s| target.label(&s.kind)).collect();
    eprintln!(
        "trident train: {} flows ({})",
        samples.len(),
        class_counts(&truth)
    );
    // One candidate, the family's first: held-out sessions are the evaluation, not CV.
    let candidate = match family {
        ModelFamily::All | ModelFamily::Forest => Candidate::Forest {
            trees: 100,
            max_depth: None,
        },
        ModelFamily::Softmax => Candidate::Softmax { alpha: 0.1 },
        ModelFamily::Mlp => Candidate::Mlp {
            layers: 1,
            width: 100,
            alpha: 1e-3,
        },
    };
    let training = serde_json::json!({
        "trainer": format!("trident {}", env!("CARGO_PKG_VERSION")),
        "level": "flow",
        "target": match target { Target::Binary => "binary", Target::Type => "type" },
        "candidate": candidate,
        "seed": seed,
        "flows": samples.len(),
        "class_counts": class_counts(&truth),
        "labels": labels.display().to_string(),
    });
    let schema = FeatureSchema {
        name: ATTACK_FEATURE_SCHEMA.to_owned(),
        features: attack_feature_names(),
    };
    let model = fit_rows(&rows, &truth, schema, candidate, seed, name, training)?;
    std::fs::write(out, model.file().to_json())
        .with_context(|| format!("cannot write {}", out.display()))?;
    eprintln!(
        "trident train: {candidate} on {} flows written to {}",
        rows.len(),
        out.display()
    );
    Ok(EXIT_OK)
}

fn predict(model: &Model, features: &[f64]) -> String {
    model
        .predict_proba(features)
        .and_then(|p| {
            p.iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1).then_with(|| b.0.cmp(&a.0)))
                .and_then(|(i, _)| model.classes().get(i).cloned())
        })
        .unwrap_or_else(|| "Unknown".to_owned())
}

/// `trident eval --level flow`.
pub(super) fn run_eval(
    paths: &[PathBuf],
    model_path: &Path,
    labels: Option<&Path>,
    json: Option<&Path>,
) -> Result<u8> {
    let Some(labels_path) = labels else {
        bail!("--level flow needs --labels FILE (lines start,end,src,dst,label)");
    };
    let model = Model::from_file(model_path)?;
    let names = attack_feature_names();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    model.check_schema(ATTACK_FEATURE_SCHEMA, &names)?;
    let binary_model = model.classes().iter().any(|c| c == ATTACK);
    let target = if binary_model {
        Target::Binary
    } else {
        Target::Type
    };
    let (samples, labels) = collect("eval", paths, labels_path)?;
    if samples.is_empty() {
        bail!("no flow in the captures");
    }
    let predicted: Vec<String> = samples
        .iter()
        .map(|s| predict(&model, &s.features))
        .collect();
    let truth: Vec<String> = samples.iter().map(|s| target.label(&s.kind)).collect();
    println!("flows: {} ({})", samples.len(), class_counts(&truth));
    let report = EvalReport::new(&truth, &predicted);
    print!("{}", report.to_text());
    print!("{}", confusions_text(&report));
    // Attack vs benign, from the type model's predictions.
    let binary = (!binary_model).then(|| {
        let t: Vec<String> = truth.iter().map(|l| Target::Binary.label(l)).collect();
        let p: Vec<String> = predicted.iter().map(|l| Target::Binary.label(l)).collect();
        EvalReport::new(&t, &p)
    });
    if let Some(b) = &binary {
        println!("attack vs benign (type predictions collapsed):");
        print!("{}", b.to_text());
    }
    // Each attack window: how many of its flows were flagged as some attack.
    let mut windows = Vec::new();
    println!("attack windows (flows flagged as an attack / flows in the window):");
    for (w, win) in labels.windows.iter().enumerate() {
        let (mut n, mut flagged) = (0u64, 0u64);
        for (s, p) in samples.iter().zip(&predicted) {
            if s.window == Some(w) {
                n += 1;
                flagged += u64::from(p != BENIGN);
            }
        }
        println!(
            "  line {:>3} {:<14} {flagged:>6} / {n:<6}",
            win.line, win.label
        );
        windows.push(serde_json::json!({
            "line": win.line, "label": win.label, "flows": n, "flagged": flagged,
        }));
    }
    if let Some(path) = json {
        let doc = serde_json::json!({
            "level": "flow",
            "report": report,
            "hardest_confusions": report.hardest_confusions(HARDEST_CONFUSIONS),
            "binary": binary,
            "windows": windows,
        });
        std::fs::write(path, format!("{doc:#}\n"))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(EXIT_OK)
}
