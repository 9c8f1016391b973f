//! The decode entry points: pick the link-layer decoder and walk down the layers.

use crate::{LinkType, Packet};

/// What [`decode_with`] does beyond headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeOptions {
    /// Look for application hints (DNS, DHCP, TLS, HTTP, SSDP). On by default.
    pub app_hints: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions { app_hints: true }
    }
}

/// Decodes one frame of the given link type with default options. Never fails, never panics.
#[must_use]
pub fn decode(link_type: LinkType, frame: &[u8]) -> Packet<'_> {
    decode_with(link_type, frame, DecodeOptions::default())
}

/// Decodes one frame of the given link type. Never fails, never panics.
#[must_use]
pub fn decode_with(link_type: LinkType, frame: &[u8], options: DecodeOptions) -> Packet<'_> {
    let _ = options;
    Packet {
        link_type,
        payload: frame,
        ..Packet::default()
    }
}
