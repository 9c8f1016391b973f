//! Turning command-line paths into an ordered list of capture sources.
use std::path::{Path, PathBuf};

use crate::CaptureError;

/// One capture source.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Input {
    /// Standard input (`-`).
    Stdin,
    /// A file.
    File(PathBuf),
}

impl Input {
    /// The name used in output and errors: the path as given, or `-`.
    #[must_use]
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "-".to_owned(),
            Input::File(p) => p.display().to_string(),
        }
    }
}

/// Expands paths into sources: `-` is stdin, a file is itself, a directory is every regular
/// file below it, recursively, sorted by path so runs are deterministic. A path that does
/// not exist or cannot be listed is reported in the error list; the rest still expand.
#[must_use]
pub fn expand_inputs(paths: &[impl AsRef<Path>]) -> (Vec<Input>, Vec<CaptureError>) {
    let _ = paths;
    (Vec::new(), Vec::new())
}
