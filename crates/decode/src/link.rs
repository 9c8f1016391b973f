//! TODO: module link (being written).
