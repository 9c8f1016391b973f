//! Any bytes as a frame: the first two bytes pick the link type (little-endian), the rest
//! is the frame. The decoder must not panic on any of them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trident_types::LinkType;

fuzz_target!(|data: &[u8]| {
    let Some((link, frame)) = data.split_first_chunk::<2>() else {
        return;
    };
    let packet = trident_decode::decode(LinkType(u16::from_le_bytes(*link)), frame);
    std::hint::black_box(&packet);
});
