//! Turning wire bytes into display text the way tshark does.
//!
//! Host names, user agents and SNI values come off the wire as arbitrary bytes. Hints keep them
//! as `String`s that are safe to print and log (no raw control characters) and that compare
//! equal to what `tshark -T fields` prints, so the corpus parity tests can check them byte for
//! byte. tshark's rule (`format_text` in wsutil): printable ASCII as is; other ASCII as a C
//! escape (`\n`, `\r`, `\t`, ... or three-digit octal like `\032`); valid UTF-8 as is;
//! invalid sequences as U+FFFD; non-printable non-ASCII characters as `\uXXXX`.

use std::fmt::Write as _;

/// Appends `bytes` to `out`, escaped as described in the module documentation.
pub(crate) fn push_display(out: &mut String, bytes: &[u8]) {
    // Names and header values are nearly always printable ASCII: copy that prefix in one go.
    let plain = bytes
        .iter()
        .position(|b| !(b' '..=b'~').contains(b))
        .unwrap_or(bytes.len());
    let (head, tail) = bytes.split_at(plain);
    if let Ok(head) = std::str::from_utf8(head) {
        out.push_str(head);
    }
    for chunk in tail.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_char(out, c);
        }
        if !chunk.invalid().is_empty() {
            out.push(char::REPLACEMENT_CHARACTER);
        }
    }
}

/// `bytes` as display text (see the module documentation).
#[must_use]
pub(crate) fn display(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    push_display(&mut out, bytes);
    out
}

/// `bytes` up to the first NUL, as display text: how tshark shows a NUL-terminated string field.
#[must_use]
pub(crate) fn display_stringz(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    display(bytes.get(..end).unwrap_or(bytes))
}

fn push_char(out: &mut String, c: char) {
    match c {
        ' '..='~' => out.push(c),
        '\u{07}' => out.push_str("\\a"),
        '\u{08}' => out.push_str("\\b"),
        '\u{0c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{0b}' => out.push_str("\\v"),
        '\0'..='\u{7f}' => {
            // Writing to a String cannot fail.
            let _ = write!(out, "\\{:03o}", u32::from(c));
        }
        c if c.is_control() => {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        }
        c => out.push(c),
    }
}

/// Lower-case hex of `bytes`, no separators.
#[must_use]
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            out.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)] // tests panic by design
mod tests {
    use super::*;

    #[test]
    fn printable_ascii_is_kept() {
        assert_eq!(display(b"www.example.com"), "www.example.com");
        assert_eq!(display(b"a b\\c"), "a b\\c");
    }

    #[test]
    fn controls_are_escaped_like_tshark() {
        // Values seen in tshark 4.0 output for the damaged DNS names in the corpus:
        // 0x1a -> \032, 0x12 -> \022, 0x00 -> \000, 0x0d -> \r.
        assert_eq!(display(b"in-a\x1adr"), "in-a\\032dr");
        assert_eq!(display(b"1.\x12.0"), "1.\\022.0");
        assert_eq!(display(b"%s\x00"), "%s\\000");
        assert_eq!(display(b"s\rp"), "s\\rp");
        assert_eq!(display(b"\x7f"), "\\177");
    }

    #[test]
    fn utf8_is_kept_and_invalid_bytes_replaced() {
        assert_eq!(display("小佛專機".as_bytes()), "小佛專機");
        assert_eq!(display(b"ci\xfft"), "ci\u{fffd}t");
        assert_eq!(display(b"\x80\x80"), "\u{fffd}\u{fffd}");
    }

    #[test]
    fn escapes_after_a_plain_prefix() {
        assert_eq!(display(b"abc\x01d\xe5\xb0\x8f"), "abc\\001d小");
        assert_eq!(display(b""), "");
    }

    #[test]
    fn stringz_stops_at_nul() {
        assert_eq!(display_stringz(b"host\0junk"), "host");
        assert_eq!(display_stringz(b"host"), "host");
    }

    #[test]
    fn hex_is_lower_case() {
        assert_eq!(hex(&[0x00, 0x1b, 0xAF]), "001baf");
    }
}
