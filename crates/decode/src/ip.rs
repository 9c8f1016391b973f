//! TODO: module ip (being written).
