//! Any bytes as a stored flow record (`flow_records.record`, formats 1 and 2): reading a
//! damaged store must give an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let record = trident_index::records::decode_flow_record(data);
    std::hint::black_box(&record);
});
