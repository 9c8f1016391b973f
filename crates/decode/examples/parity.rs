//! Compares the decoder with tshark on the captures named on the command line and prints
//! every frame where they differ: `cargo run -p trident-decode --example parity -- FILE...`.

#[path = "../tests/common/mod.rs"]
mod common;

fn main() {
    for path in std::env::args_os().skip(1) {
        let path = std::path::PathBuf::from(path);
        let problems = common::tshark::compare(&path);
        println!("== {} : {} mismatches", path.display(), problems.len());
        for p in problems.iter().take(20) {
            println!("  {p}");
        }
    }
}
