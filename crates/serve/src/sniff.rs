//! Recognizing a capture from its first bytes, before anything is kept.

/// Bytes needed to recognize every accepted format.
pub(crate) const SNIFF_LEN: usize = 4;

/// An accepted upload format, and the extension its file is stored under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sniffed {
    /// Classic pcap, either byte order, microsecond or nanosecond.
    Pcap,
    /// pcapng.
    Pcapng,
    /// gzip (a compressed capture; the reader checks what is inside).
    Gzip,
    /// zstd (likewise).
    Zstd,
}

impl Sniffed {
    /// The stored file's extension; the reader recognizes content by magic anyway.
    pub(crate) const fn ext(self) -> &'static str {
        match self {
            Sniffed::Pcap => "pcap",
            Sniffed::Pcapng => "pcapng",
            Sniffed::Gzip => "gz",
            Sniffed::Zstd => "zst",
        }
    }
}

/// Recognizes the format from the first bytes; `Err` says, for a person, what was found.
pub(crate) fn sniff(head: &[u8]) -> Result<Sniffed, String> {
    let Some(magic) = head.get(..SNIFF_LEN) else {
        return Err(format!(
            "the upload is {} bytes long, too short to be a capture",
            head.len()
        ));
    };
    match magic {
        [0xa1, 0xb2, 0xc3, 0xd4]
        | [0xd4, 0xc3, 0xb2, 0xa1]
        | [0xa1, 0xb2, 0x3c, 0x4d]
        | [0x4d, 0x3c, 0xb2, 0xa1] => Ok(Sniffed::Pcap),
        [0x0a, 0x0d, 0x0d, 0x0a] => Ok(Sniffed::Pcapng),
        [0x1f, 0x8b, ..] => Ok(Sniffed::Gzip),
        [0x28, 0xb5, 0x2f, 0xfd] => Ok(Sniffed::Zstd),
        _ => {
            let looks_text = head
                .iter()
                .take(64)
                .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace());
            Err(format!(
                "not a capture: the first bytes {} are not those of pcap, pcapng, gzip or zstd{}",
                hex(magic),
                if looks_text {
                    " (this looks like text)"
                } else {
                    ""
                }
            ))
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_every_format() {
        assert_eq!(sniff(&[0xd4, 0xc3, 0xb2, 0xa1, 2]), Ok(Sniffed::Pcap));
        assert_eq!(sniff(&[0xa1, 0xb2, 0xc3, 0xd4]), Ok(Sniffed::Pcap));
        assert_eq!(sniff(&[0x4d, 0x3c, 0xb2, 0xa1]), Ok(Sniffed::Pcap));
        assert_eq!(sniff(&[0xa1, 0xb2, 0x3c, 0x4d]), Ok(Sniffed::Pcap));
        assert_eq!(sniff(&[0x0a, 0x0d, 0x0d, 0x0a]), Ok(Sniffed::Pcapng));
        assert_eq!(sniff(&[0x1f, 0x8b, 8, 0]), Ok(Sniffed::Gzip));
        assert_eq!(sniff(&[0x28, 0xb5, 0x2f, 0xfd]), Ok(Sniffed::Zstd));
        assert!(sniff(b"hello world").is_err_and(|e| e.contains("text")));
        assert!(sniff(b"ab").is_err_and(|e| e.contains("too short")));
    }
}
