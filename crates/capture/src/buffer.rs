//! The read buffer: a window over the stream that frames are borrowed from.
//!
//! # Why not `pcap-parser`'s own readers
//!
//! `LegacyPcapReader` and `PcapNGReader` own a `circular::Buffer` and the `Read`, so they
//! cannot grow the buffer by a policy of ours, they collapse every I/O error into
//! `ReadError` (losing the decompressor's message), and they report an offset only as a count
//! of consumed bytes that has to be tracked beside them. Keeping the window here costs a few
//! dozen lines and gives exact stream offsets for errors, a hard cap on what a declared length
//! can make us allocate, and the original `io::Error`. `pcap-parser`'s block parsers still do
//! the parsing.
use std::io::{self, Read};

/// First allocation. Small, so that tiny inputs (unit tests, fuzzing, a few packets on stdin)
/// do not pay for a megabyte.
pub(crate) const INITIAL_BUF_LEN: usize = 64 * 1024;

/// The size the buffer grows to once the stream has proved longer than the buffer: large
/// reads amortise system calls and decompressor calls over many frames.
pub(crate) const STREAM_BUF_LEN: usize = 1024 * 1024;

/// A sliding window `data[start..end]` over a byte stream.
///
/// Invariants: `start <= end <= data.len()`; `pos` is the stream offset of `data[start]`.
/// The buffer only grows when it is completely full of bytes that were actually read, and
/// then at most to twice that, so a declared length never makes us allocate ahead of data.
#[derive(Debug)]
pub(crate) struct StreamBuf {
    data: Vec<u8>,
    start: usize,
    end: usize,
    pos: u64,
    eof: bool,
}

impl StreamBuf {
    /// An empty buffer of [`INITIAL_BUF_LEN`] bytes.
    pub(crate) fn new() -> Self {
        StreamBuf {
            data: vec![0; INITIAL_BUF_LEN],
            start: 0,
            end: 0,
            pos: 0,
            eof: false,
        }
    }

    /// Drops the allocation once the stream is finished; `pos` is kept for statistics.
    pub(crate) fn release(&mut self) {
        self.data = Vec::new();
        self.start = 0;
        self.end = 0;
        self.eof = true;
    }

    /// The bytes read but not consumed yet.
    #[inline]
    pub(crate) fn avail(&self) -> &[u8] {
        self.data.get(self.start..self.end).unwrap_or_default()
    }

    /// Stream offset of the first available byte.
    #[inline]
    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    /// Marks `n` available bytes as used.
    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.pos += n as u64;
    }

    /// Reads until at least `need` bytes are available. `Ok(false)` means the stream ended
    /// first (what was read stays available).
    pub(crate) fn fill(&mut self, src: &mut dyn Read, need: usize) -> io::Result<bool> {
        while self.end - self.start < need {
            if self.eof {
                return Ok(false);
            }
            self.make_room(need);
            let space = self.data.get_mut(self.end..).unwrap_or_default();
            let n = read_retrying(src, space)?;
            if n == 0 {
                self.eof = true;
            } else {
                self.end += n;
            }
        }
        Ok(true)
    }

    /// Consumes `n` bytes of the stream without keeping them, reading as needed (for blocks
    /// too large to buffer that carry nothing we use). `Ok(false)` if the stream ended first.
    pub(crate) fn skip(&mut self, src: &mut dyn Read, mut n: u64) -> io::Result<bool> {
        loop {
            let here = (self.end - self.start).min(usize::try_from(n).unwrap_or(usize::MAX));
            self.consume(here);
            n -= here as u64;
            if n == 0 {
                return Ok(true);
            }
            if !self.fill(src, 1)? {
                return Ok(false);
            }
        }
    }

    /// Moves the available bytes to the front and grows the allocation if the rules allow,
    /// so that the next read has room.
    fn make_room(&mut self, need: usize) {
        if self.start > 0 {
            self.data.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let len = self.data.len();
        let mut new_len = len;
        if self.end == len {
            // Full of real bytes and still short of `need`: grow, at most doubling.
            new_len = need.min(len.saturating_mul(2)).max(len + 1);
        }
        if len < STREAM_BUF_LEN && self.pos >= len as u64 {
            // A whole buffer's worth has already gone through: this is a long stream.
            new_len = new_len.max(STREAM_BUF_LEN);
        }
        if new_len > len {
            self.data.resize(new_len, 0);
        }
    }
}

/// `read`, retried when interrupted by a signal.
fn read_retrying(src: &mut dyn Read, space: &mut [u8]) -> io::Result<usize> {
    loop {
        match src.read(space) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out at most `chunk` bytes per read, to exercise short reads.
    struct Trickle<'a> {
        data: &'a [u8],
        chunk: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.chunk.min(out.len()).min(self.data.len());
            let (head, tail) = self.data.split_at(n);
            out[..n].copy_from_slice(head);
            self.data = tail;
            Ok(n)
        }
    }

    #[test]
    fn fill_consume_and_offsets() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
        let mut src = Trickle {
            data: &bytes,
            chunk: 7,
        };
        let mut buf = StreamBuf::new();
        assert!(buf.fill(&mut src, 10).unwrap());
        assert_eq!(&buf.avail()[..10], &bytes[..10]);
        buf.consume(3);
        assert_eq!(buf.pos(), 3);
        assert_eq!(buf.avail()[0], bytes[3]);
        // Larger than the initial allocation: the buffer grows as data arrives.
        assert!(buf.fill(&mut src, 100_000).unwrap());
        assert_eq!(&buf.avail()[..100_000], &bytes[3..100_003]);
        buf.consume(100_000);
        assert!(buf.skip(&mut src, 150_000).unwrap());
        assert_eq!(buf.pos(), 250_003);
        assert!(buf.fill(&mut src, 1).unwrap());
        assert_eq!(buf.avail()[0], bytes[250_003]);
        // Asking for more than remains reports the end and keeps what there is.
        assert!(!buf.fill(&mut src, 60_000).unwrap());
        assert_eq!(buf.avail().len(), 300_000 - 250_003);
        assert!(!buf.skip(&mut src, 60_000).unwrap());
        assert!(buf.avail().is_empty());
    }

    #[test]
    fn growth_follows_data_not_requests() {
        let bytes = vec![0u8; 1000];
        let mut src = Trickle {
            data: &bytes,
            chunk: 1000,
        };
        let mut buf = StreamBuf::new();
        // A request for 100 MiB against a 1000-byte stream must not allocate 100 MiB.
        assert!(!buf.fill(&mut src, 100 << 20).unwrap());
        assert_eq!(buf.data.len(), INITIAL_BUF_LEN);
    }

    #[test]
    fn interrupted_reads_are_retried() {
        struct Flaky(u32);
        impl Read for Flaky {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                self.0 += 1;
                if self.0 % 2 == 1 {
                    Err(io::ErrorKind::Interrupted.into())
                } else if self.0 > 10 {
                    Ok(0)
                } else {
                    out[0] = 1;
                    Ok(1)
                }
            }
        }
        let mut buf = StreamBuf::new();
        assert!(!buf.fill(&mut Flaky(0), 100).unwrap());
        assert_eq!(buf.avail(), &[1, 1, 1, 1, 1]);
    }
}
