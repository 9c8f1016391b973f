//! The unit that travels: a record with a stable id.

use std::collections::HashMap;

/// What a record describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RecordKind {
    /// One packet, as `trident decode --format ndjson` writes it.
    Packet,
    /// One flow, as `trident flows --format ndjson` writes it.
    Flow,
    /// One host update, as `trident hosts --format ndjson` writes it.
    Host,
    /// An AntiNex packet envelope (`{data, created, source}`).
    Antinex,
}

impl RecordKind {
    /// The name used on the wire and in the store.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            RecordKind::Packet => "packet",
            RecordKind::Flow => "flow",
            RecordKind::Host => "host",
            RecordKind::Antinex => "antinex",
        }
    }

    /// The kind named `s`.
    #[must_use]
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "packet" => RecordKind::Packet,
            "flow" => RecordKind::Flow,
            "host" => RecordKind::Host,
            "antinex" => RecordKind::Antinex,
            _ => return None,
        })
    }
}

/// A record: a stable id, its kind and its JSON object (as text, written once by the
/// producer and stored as is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Stable id: the same thing published twice has the same id (see the `*_id` functions).
    pub id: String,
    /// What the record describes.
    pub kind: RecordKind,
    /// The record as a JSON object.
    pub body: String,
}

/// The id of a packet record: its source (file name or capture name) and 1-based frame
/// number within that source.
#[must_use]
pub fn packet_id(source: &str, frame: u64) -> String {
    format!("p:{source}#{frame}")
}

/// Sequence numbers for ids that may repeat within one run (a flow key that starts twice in
/// the same nanosecond, a host updated several times).
#[derive(Debug, Default)]
pub struct Sequencer {
    seen: HashMap<String, u64>,
}

impl Sequencer {
    /// A new sequencer.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of a flow record: `key_id` is the flow's own id (a digest of its key and
    /// first timestamp); the sequence tells apart flows with the same key and first time.
    pub fn flow_id(&mut self, key_id: &str) -> String {
        let n = self.next(key_id);
        format!("f:{key_id}:{n}")
    }

    /// The id of a host update: the host's key (its address) and the update's sequence.
    pub fn host_id(&mut self, host: &str) -> String {
        let n = self.next(host);
        format!("h:{host}:{n}")
    }

    fn next(&mut self, key: &str) -> u64 {
        let slot = self.seen.entry(key.to_owned()).or_insert(0);
        let n = *slot;
        *slot += 1;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_sequenced() {
        assert_eq!(packet_id("a.pcap", 7), "p:a.pcap#7");
        let mut s = Sequencer::new();
        assert_eq!(s.flow_id("abc"), "f:abc:0");
        assert_eq!(s.flow_id("abc"), "f:abc:1");
        assert_eq!(s.host_id("10.0.0.1"), "h:10.0.0.1:0");
        for k in [
            RecordKind::Packet,
            RecordKind::Flow,
            RecordKind::Host,
            RecordKind::Antinex,
        ] {
            assert_eq!(RecordKind::from_name(k.name()), Some(k));
        }
    }
}
