//! Turning command-line paths into an ordered list of capture sources.
use std::io;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::{CaptureError, CaptureErrorKind};

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
///
/// Symbolic links below a directory are followed (a link loop is reported, not walked
/// forever). A path given explicitly that is not a directory is taken as a file whatever it
/// is, so FIFOs and `/dev/fd/N` from process substitution work.
#[must_use]
pub fn expand_inputs(paths: &[impl AsRef<Path>]) -> (Vec<Input>, Vec<CaptureError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let path = path.as_ref();
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        match path.metadata() {
            Err(e) => errors.push(path_error(path, e)),
            Ok(meta) if meta.is_dir() => {
                let mut found = Vec::new();
                for entry in WalkDir::new(path).follow_links(true) {
                    match entry {
                        Ok(entry) if entry.file_type().is_file() => {
                            found.push(entry.into_path());
                        }
                        Ok(_) => {}
                        Err(e) => {
                            let at = e.path().unwrap_or(path).to_path_buf();
                            let io = e
                                .into_io_error()
                                .unwrap_or_else(|| io::Error::other("symbolic link loop"));
                            errors.push(path_error(&at, io));
                        }
                    }
                }
                found.sort();
                inputs.extend(found.into_iter().map(Input::File));
            }
            Ok(_) => inputs.push(Input::File(path.to_path_buf())),
        }
    }
    (inputs, errors)
}

/// An error about a path, before any byte of it was read.
fn path_error(path: &Path, e: io::Error) -> CaptureError {
    CaptureError {
        source_name: path.display().to_string(),
        offset: 0,
        kind: CaptureErrorKind::Io(e),
    }
}
