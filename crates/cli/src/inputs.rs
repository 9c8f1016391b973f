//! The input loop every capture-reading command shares: expand paths, open each source,
//! hand every frame to a callback, and keep what could not be read for the summary.
//!
//! One place decides the rules a user relies on across commands: a file met while walking
//! a directory that is not a capture is skipped and listed, a file named on the command
//! line must be a capture, damage ends that file (everything before it was delivered) and
//! the next file is still read, and stdin may be given once.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Result, bail};
use trident_capture::{CaptureErrorKind, CaptureReader, Input, RawFrame, expand_inputs};

/// What could not be read, for the summary and the exit status.
#[derive(Debug, Default)]
pub struct InputProblems {
    /// Inputs missing or damaged, each naming the file and byte offset.
    pub damaged: Vec<String>,
    /// Files met in directory walks that are not captures.
    pub not_captures: Vec<String>,
}

impl InputProblems {
    /// True when every input was read to its end.
    pub fn is_clean(&self) -> bool {
        self.damaged.is_empty()
    }

    /// Writes the summary lines for the problems (nothing when there are none).
    pub fn print(&self, err: &mut impl Write) {
        if !self.not_captures.is_empty() {
            let _ = writeln!(
                err,
                "  skipped {} file(s) in directories that are not captures: {}",
                self.not_captures.len(),
                self.not_captures.join(", ")
            );
        }
        if !self.damaged.is_empty() {
            let _ = writeln!(err, "  inputs missing or damaged ({}):", self.damaged.len());
            for d in &self.damaged {
                let _ = writeln!(err, "    {d}");
            }
        }
    }
}

/// What a command does with the frames of its inputs.
pub trait FrameSink {
    /// Called when a source has been opened, before its first frame.
    fn begin_file(&mut self, _name: &str) -> Result<()> {
        Ok(())
    }
    /// Called for every frame.
    fn frame(&mut self, name: &str, frame: &RawFrame<'_>) -> Result<()>;
    /// Called after a source's last frame (or its damage).
    fn end_file(&mut self, _name: &str) -> Result<()> {
        Ok(())
    }
}

/// The expanded inputs of one command.
pub struct Inputs {
    sources: Vec<Input>,
    given: Vec<PathBuf>,
    /// What could not be read so far.
    pub problems: InputProblems,
}

impl Inputs {
    /// Expands command-line paths (`-`, files, directories walked in sorted order).
    pub fn expand(paths: &[PathBuf]) -> Result<Self> {
        let (sources, errors) = expand_inputs(paths);
        if sources.iter().filter(|i| **i == Input::Stdin).count() > 1 {
            bail!("`-` (stdin) given more than once");
        }
        let problems = InputProblems {
            damaged: errors.iter().map(ToString::to_string).collect(),
            not_captures: Vec::new(),
        };
        Ok(Inputs {
            sources,
            given: paths.to_vec(),
            problems,
        })
    }

    /// How many sources there are.
    pub fn len(&self) -> usize {
        self.sources.len()
    }

    /// Reads every source in order, giving each frame to `sink`. Returns how many sources
    /// were opened as captures. Errors from the sink (e.g. a closed output pipe) stop the
    /// loop; damaged inputs do not.
    pub fn read_all(
        &mut self,
        sink: &mut impl FrameSink,
        mut after_file: impl FnMut(),
    ) -> Result<u64> {
        let mut opened = 0;
        for input in &self.sources {
            let name = input.name();
            // A file met while walking a directory may be anything; one named on the
            // command line must be a capture.
            let explicit = match input {
                Input::File(p) => self.given.contains(p),
                Input::Stdin => true,
            };
            let mut reader = match CaptureReader::open(input) {
                Ok(r) => r,
                Err(e) if !explicit && matches!(e.kind, CaptureErrorKind::UnknownFormat { .. }) => {
                    self.problems.not_captures.push(name);
                    after_file();
                    continue;
                }
                Err(e) => {
                    self.problems.damaged.push(e.to_string());
                    after_file();
                    continue;
                }
            };
            opened += 1;
            sink.begin_file(&name)?;
            loop {
                match reader.next_frame() {
                    Ok(Some(frame)) => sink.frame(&name, &frame)?,
                    Ok(None) => break,
                    Err(e) => {
                        self.problems.damaged.push(e.to_string());
                        break;
                    }
                }
            }
            sink.end_file(&name)?;
            after_file();
        }
        Ok(opened)
    }
}
