//! Compression detected by magic number, and a multi-frame Zstandard reader.
use std::io::{self, Read};

use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

use crate::Compression;

/// gzip member magic (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Zstandard frame magic (RFC 8878), as stored.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// Bytes needed to recognise any supported magic number.
pub(crate) const MAGIC_LEN: usize = 4;

/// The compression a stream starting with `head` uses.
pub(crate) fn detect(head: &[u8]) -> Compression {
    if head.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else if head.starts_with(&ZSTD_MAGIC) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// A minimal, empty, single-segment Zstandard frame header: magic, descriptor `0x20`
/// (single segment, 1-byte content size), content size 0.
///
/// `ruzstd` 0.8 checks a frame's window size against its 100 MiB limit only when a decoder
/// is *re*-initialised; the very first initialisation accepts any window, and a frame can
/// declare terabytes. Priming every decoder with this frame first makes the limit apply to
/// the real frames, so a hostile header cannot make us reserve more than 100 MiB.
const PRIMING_FRAME: [u8; 6] = [0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00];

/// Decompresses a Zstandard stream of any number of frames (what `cat a.zst b.zst` and
/// `pzstd` produce), skipping skippable frames. `ruzstd`'s `StreamingDecoder` handles one
/// frame only.
///
/// Memory: `ruzstd` reserves each frame's declared window when the frame starts (as the
/// reference decoder does), up to its 100 MiB limit; the reservation is address space until
/// decoded data fills it. Frames made with `zstd --long` (128 MiB windows) are refused.
pub(crate) struct ZstdReader<R> {
    source: Peekable<R>,
    decoder: FrameDecoder,
    in_frame: bool,
}

impl<R: Read> ZstdReader<R> {
    /// Wraps a stream that starts with a Zstandard frame.
    pub(crate) fn new(source: R) -> io::Result<Self> {
        let mut decoder = FrameDecoder::new();
        decoder.init(&PRIMING_FRAME[..]).map_err(invalid)?;
        Ok(ZstdReader {
            source: Peekable {
                inner: source,
                peeked: None,
            },
            decoder,
            in_frame: false,
        })
    }

    /// Starts the next frame. `Ok(false)` at a clean end of the stream (between frames).
    fn next_frame(&mut self) -> io::Result<bool> {
        loop {
            if self.source.at_eof()? {
                return Ok(false);
            }
            match self.decoder.reset(&mut self.source) {
                Ok(()) => return Ok(true),
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    let skipped = io::copy(
                        &mut (&mut self.source).take(u64::from(length)),
                        &mut io::sink(),
                    )?;
                    if skipped < u64::from(length) {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "zstd stream ends inside a skippable frame",
                        ));
                    }
                }
                Err(e) => return Err(invalid(e)),
            }
        }
    }
}

impl<R: Read> Read for ZstdReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            if !self.in_frame {
                if !self.next_frame()? {
                    return Ok(0);
                }
                self.in_frame = true;
            }
            // Decode until enough is collectable, as ruzstd's StreamingDecoder does.
            while self.decoder.can_collect() < out.len() && !self.decoder.is_finished() {
                let wanted = out.len() - self.decoder.can_collect();
                self.decoder
                    .decode_blocks(&mut self.source, BlockDecodingStrategy::UptoBytes(wanted))
                    .map_err(invalid)?;
            }
            let n = self.decoder.read(out)?;
            if n > 0 {
                return Ok(n);
            }
            if !self.decoder.is_finished() {
                return Err(invalid("zstd decoder made no progress"));
            }
            self.in_frame = false;
        }
    }
}

/// A decompression failure as an `io::Error`, so it travels through `Read`.
fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}"))
}

/// A reader that can tell whether it is at its end without losing a byte.
struct Peekable<R> {
    inner: R,
    peeked: Option<u8>,
}

impl<R: Read> Peekable<R> {
    fn at_eof(&mut self) -> io::Result<bool> {
        if self.peeked.is_some() {
            return Ok(false);
        }
        let mut one = [0u8; 1];
        loop {
            match self.inner.read(&mut one) {
                Ok(0) => return Ok(true),
                Ok(_) => {
                    self.peeked = Some(one[0]);
                    return Ok(false);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl<R: Read> Read for Peekable<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match (self.peeked, out.split_first_mut()) {
            (Some(b), Some((first, _))) => {
                *first = b;
                self.peeked = None;
                Ok(1)
            }
            _ => self.inner.read(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_magic_only() {
        assert_eq!(detect(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(detect(&ZSTD_MAGIC), Compression::Zstd);
        assert_eq!(detect(&[0xd4, 0xc3, 0xb2, 0xa1]), Compression::None);
        assert_eq!(detect(&[0x1f]), Compression::None);
        assert_eq!(detect(&[]), Compression::None);
    }

    #[test]
    fn window_limit_applies_to_the_first_frame() {
        // Descriptor 0x00 (not single segment), window descriptor 0xf8: window log 10 + 31,
        // a 2 TiB window. Without priming, ruzstd would accept it.
        let hostile = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8, 0, 0, 0];
        let mut r = ZstdReader::new(&hostile[..]).unwrap();
        let err = r.read(&mut [0u8; 16]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let msg = err.to_string();
        assert!(msg.contains("window"), "{msg}");
    }

    #[test]
    fn empty_stream_and_skippable_frame() {
        let mut r = ZstdReader::new(&[][..]).unwrap();
        assert_eq!(r.read(&mut [0u8; 4]).unwrap(), 0);
        // A skippable frame (magic 0x184D2A50, length 3) and nothing else: no output.
        let skip = [0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9];
        let mut r = ZstdReader::new(&skip[..]).unwrap();
        assert_eq!(r.read(&mut [0u8; 4]).unwrap(), 0);
        // Cut inside the skippable frame: an error, not a clean end.
        let mut r = ZstdReader::new(&skip[..9]).unwrap();
        assert!(r.read(&mut [0u8; 4]).is_err());
    }
}
