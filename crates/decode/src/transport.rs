//! TODO: module transport (being written).
