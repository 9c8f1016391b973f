//! TODO: module tunnel (being written).
