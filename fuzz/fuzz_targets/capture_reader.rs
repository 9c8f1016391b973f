//! Any bytes as a capture: open, drain every frame, check the reader's contract.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use trident_capture::{CaptureReader, Compression, MAX_RECORD_LEN};

/// Frames drained per input at most: a decompression bomb should not stall the fuzzer.
const MAX_FRAMES: u64 = 100_000;

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = CaptureReader::from_reader("fuzz", Box::new(Cursor::new(data.to_vec())))
    else {
        return;
    };
    let plain = reader.compression() == Compression::None;
    let len = data.len() as u64;
    let mut frames = 0u64;
    loop {
        match reader.next_frame() {
            Ok(Some(f)) => {
                frames += 1;
                assert_eq!(f.number, frames);
                assert_eq!(f.caplen as usize, f.data.len());
                assert!(f.caplen <= MAX_RECORD_LEN);
                if plain {
                    assert!(f.offset + u64::from(f.caplen) <= len);
                }
                if frames >= MAX_FRAMES {
                    return;
                }
            }
            Ok(None) => break,
            Err(e) => {
                assert_eq!(e.source_name, "fuzz");
                if plain {
                    assert!(e.offset <= len, "error offset {} past the input", e.offset);
                }
                let _ = e.to_string();
                break;
            }
        }
    }
    assert!(matches!(reader.next_frame(), Ok(None)));
    let stats = reader.stats();
    assert_eq!(stats.frames, frames);
    if plain {
        assert!(stats.bytes <= len);
    }
    let _ = (
        reader.interfaces().len(),
        reader.format_label(),
        reader.container(),
    );
});
