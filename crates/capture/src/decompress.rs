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

/// Largest Zstandard window accepted: the reference `zstd` tool's default decompression
/// memory limit (`--memory=128MB`), which `zstd --long` files (window log 27) fit.
pub(crate) const MAX_ZSTD_WINDOW: u64 = 128 << 20;
/// Longest frame header: magic 4, descriptor 1, window 1, dictionary id 4, content size 8.
const MAX_FRAME_HEADER_LEN: usize = 18;
/// Skippable frames carry a magic of `0x184D2A5?`.
const SKIPPABLE_MAGIC_MASK: u32 = 0xffff_fff0;
/// Skippable frame magic with its low nibble cleared.
const SKIPPABLE_MAGIC: u32 = 0x184d_2a50;
/// Smallest window (RFC 8878 3.1.1.1.2: window log 10 and up).
const MIN_WINDOW_LOG: u32 = 10;

/// The window a Zstandard frame header declares, from as many of its first bytes as the
/// stream has (RFC 8878 3.1.1.1). `None` if the bytes are not a complete data frame header:
/// `ruzstd` then reports what is wrong.
fn declared_window(h: &[u8]) -> Option<u64> {
    let &[m0, m1, m2, m3, descriptor, ..] = h else {
        return None;
    };
    if [m0, m1, m2, m3] != ZSTD_MAGIC {
        return None;
    }
    let single_segment = descriptor & 0x20 != 0;
    let dict_id_len = [0usize, 1, 2, 4][usize::from(descriptor & 0x03)];
    let content_size_len = match descriptor >> 6 {
        0 if single_segment => 1,
        0 => 0,
        1 => 2,
        2 => 4,
        _ => 8,
    };
    if !single_segment {
        let wd = *h.get(5)?;
        let log = MIN_WINDOW_LOG + u32::from(wd >> 3);
        let base = 1u64.checked_shl(log)?;
        return Some(base + (base / 8) * u64::from(wd & 0x07));
    }
    let at = 5 + dict_id_len;
    let field = h.get(at..at + content_size_len)?;
    let mut le = [0u8; 8];
    le.get_mut(..field.len())?.copy_from_slice(field);
    let size = u64::from_le_bytes(le);
    // A 2-byte content size is stored minus 256.
    Some(if content_size_len == 2 {
        size + 256
    } else {
        size
    })
}

/// Decompresses a Zstandard stream of any number of frames (what `cat a.zst b.zst` and
/// `pzstd` produce), skipping skippable frames. `ruzstd`'s `StreamingDecoder` handles one
/// frame only.
///
/// Memory: a frame's window is allocated when the frame starts (as every decoder does), so
/// the window each frame declares is checked first against [`MAX_ZSTD_WINDOW`]. (`ruzstd`
/// 0.8 applies its own 100 MiB limit only when a decoder is reused, and none on a fresh
/// one, so each frame gets a fresh decoder after our check; that also admits
/// `zstd --long` files, whose 128 MiB window is above `ruzstd`'s limit.)
pub(crate) struct ZstdReader<R> {
    source: Peekable<R>,
    decoder: FrameDecoder,
    in_frame: bool,
}

impl<R: Read> ZstdReader<R> {
    /// Wraps a stream that starts with a Zstandard frame.
    pub(crate) fn new(source: R) -> Self {
        ZstdReader {
            source: Peekable {
                inner: source,
                buf: [0; MAX_FRAME_HEADER_LEN],
                start: 0,
                end: 0,
            },
            decoder: FrameDecoder::new(),
            in_frame: false,
        }
    }

    /// Starts the next frame. `Ok(false)` at a clean end of the stream (between frames).
    fn next_frame(&mut self) -> io::Result<bool> {
        loop {
            let head = self.source.peek(MAX_FRAME_HEADER_LEN)?;
            if head.is_empty() {
                return Ok(false);
            }
            let magic = head.first_chunk::<4>().map(|m| u32::from_le_bytes(*m));
            let skippable = magic.is_some_and(|m| m & SKIPPABLE_MAGIC_MASK == SKIPPABLE_MAGIC);
            if let Some(window) = declared_window(head) {
                if window > MAX_ZSTD_WINDOW {
                    return Err(invalid(format!(
                        "frame window of {window} bytes is above the {MAX_ZSTD_WINDOW}-byte limit"
                    )));
                }
            }
            if !skippable {
                self.decoder = FrameDecoder::new();
            }
            match self.decoder.init(&mut self.source) {
                Ok(()) if !skippable => return Ok(true),
                Ok(()) => return Err(invalid("skippable frame not recognised")),
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

/// A reader that can show its next bytes without consuming them.
struct Peekable<R> {
    inner: R,
    buf: [u8; MAX_FRAME_HEADER_LEN],
    start: usize,
    end: usize,
}

impl<R: Read> Peekable<R> {
    /// Up to `n` (at most [`MAX_FRAME_HEADER_LEN`]) next bytes; fewer only at the end.
    fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        let n = n.min(MAX_FRAME_HEADER_LEN);
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        while self.end < n {
            let space = self.buf.get_mut(self.end..n).unwrap_or_default();
            match self.inner.read(space) {
                Ok(0) => break,
                Ok(got) => self.end += got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.buf.get(..self.end).unwrap_or_default())
    }
}

impl<R: Read> Read for Peekable<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let held = self.buf.get(self.start..self.end).unwrap_or_default();
        if held.is_empty() {
            return self.inner.read(out);
        }
        let n = held.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), held.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.start += n;
        Ok(n)
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
    fn window_limit_applies_to_every_frame() {
        // Descriptor 0x00 (not single segment), window descriptor 0xf8: window log 10 + 31,
        // a 2 TiB window.
        let hostile = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8, 0, 0, 0];
        assert_eq!(declared_window(&hostile), Some(1 << 41));
        let err = ZstdReader::new(&hostile[..])
            .read(&mut [0u8; 16])
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("window"), "{err}");
        // Window log 27 (what `zstd --long` writes) is allowed, 27 + 1/8 is not.
        assert_eq!(
            declared_window(&[0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x88]),
            Some(128 << 20)
        );
        assert_eq!(
            declared_window(&[0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x89]),
            Some(144 << 20)
        );
        let err = ZstdReader::new(&[0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x89, 0, 0, 0][..])
            .read(&mut [0u8; 16])
            .unwrap_err();
        assert!(err.to_string().contains("window"), "{err}");
    }

    #[test]
    fn single_segment_window_is_the_content_size() {
        // Descriptor 0xe0: single segment, 8-byte content size (1 GiB).
        let mut h = vec![0x28, 0xb5, 0x2f, 0xfd, 0xe0];
        h.extend_from_slice(&(1u64 << 30).to_le_bytes());
        assert_eq!(declared_window(&h), Some(1 << 30));
        assert!(ZstdReader::new(&h[..]).read(&mut [0u8; 4]).is_err());
        // Descriptor 0x61 (2-byte content size + 256, 1-byte dictionary id).
        assert_eq!(
            declared_window(&[0x28, 0xb5, 0x2f, 0xfd, 0x61, 7, 0x10, 0x00]),
            Some(0x10 + 256)
        );
        // Descriptor 0x20: 1-byte content size.
        assert_eq!(declared_window(&[0x28, 0xb5, 0x2f, 0xfd, 0x20, 9]), Some(9));
        // Not a data frame, or cut short: left to ruzstd.
        assert_eq!(declared_window(&[0x50, 0x2a, 0x4d, 0x18, 0, 0]), None);
        assert_eq!(declared_window(&[0x28, 0xb5, 0x2f, 0xfd, 0xe0, 1]), None);
    }

    #[test]
    fn empty_stream_and_skippable_frame() {
        let mut r = ZstdReader::new(&[][..]);
        assert_eq!(r.read(&mut [0u8; 4]).unwrap(), 0);
        // A skippable frame (magic 0x184D2A50, length 3) and nothing else: no output.
        let skip = [0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9];
        let mut r = ZstdReader::new(&skip[..]);
        assert_eq!(r.read(&mut [0u8; 4]).unwrap(), 0);
        // Cut inside the skippable frame: an error, not a clean end.
        let mut r = ZstdReader::new(&skip[..9]);
        assert!(r.read(&mut [0u8; 4]).is_err());
    }
}
