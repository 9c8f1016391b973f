//! Device role classification: what kind of device is each host in a capture?
//!
//! # Layout and why
//!
//! trident's first classifier is networkML 0.6.19's, reproduced exactly, because users of
//! networkML (and Poseidon) depend on its numbers: [`networkml`] computes its 221 per-host
//! features the way networkML does (tshark's view of each frame, its choice of host, its
//! statistics and quirks) and applies its shipped model. The model itself is not code but
//! data, so it lives in a versioned file format of trident's own ([`model`]): the file names
//! the feature schema it was trained on, and a model is never applied to features it was not
//! trained on. The networkML model, converted, is built in as the default
//! ([`model::NETWORKML_0_6_19_JSON`]; origin and licence in `models/NOTICE`).
//!
//! Exactness is the point of the parity mode, so two small modules reproduce the numerics
//! networkML's output passes through: numpy's pairwise summation and percentile rule, and
//! Python's float formatting and pandas' float parser.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod attack;
pub mod calibration;
pub mod error;
pub mod eval;
pub mod hosts;
pub mod mlp;
pub mod model;
pub mod networkml;
mod numpy;
mod pyfmt;
pub mod train;

pub use error::{ClassifyError, NetworkMlFailure};
pub use model::{MODEL_FORMAT, MODEL_VERSION, Model, ModelFile};

/// Python's `repr()` of a float (`1e-05`, `230.0`), as networkML prints numbers.
#[must_use]
pub fn python_float_repr(v: f64) -> String {
    pyfmt::repr(v)
}

/// Parses a number the way pandas 1.4's default CSV parser does (not always correctly
/// rounded); networkML's model reads its features through it.
#[must_use]
pub fn pandas_parse_float(text: &str) -> Option<f64> {
    pyfmt::pandas_xstrtod(text)
}
