//! Converts networkML 0.6.19's model export (`host_footprint_export.json`) into trident's
//! model file format.
//!
//! ```text
//! cargo run -p trident-classify --example convert_networkml_model -- \
//!     ../shared/networkml/model/host_footprint_export.json crates/classify/models/networkml-0.6.19.json
//! ```

use std::process::ExitCode;

use trident_classify::{Model, ModelFile};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(input), Some(output)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: convert_networkml_model EXPORT.json OUT.json");
        return ExitCode::from(2);
    };
    let result = std::fs::read_to_string(input)
        .map_err(|e| format!("{input}: {e}"))
        .and_then(|text| ModelFile::from_networkml_export(&text).map_err(|e| e.to_string()))
        .and_then(|file| {
            // Validate before writing: a file we write must load.
            let text = file.to_json();
            Model::from_json_str(&text).map_err(|e| e.to_string())?;
            std::fs::write(output, text).map_err(|e| format!("{output}: {e}"))
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("convert_networkml_model: {e}");
            ExitCode::FAILURE
        }
    }
}
