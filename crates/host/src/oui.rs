//! MAC vendors from the IEEE registry, bundled (see `data/README.md`).
//!
//! The table is compiled into the binary and inflated once, on first lookup, into three
//! hash maps (36-, 28- and 24-bit prefixes); a lookup tries the longest first, because the
//! IEEE sells 28- and 36-bit blocks out of 24-bit ones that it lists under the seller.

use std::collections::HashMap;
use std::io::Read;
use std::sync::OnceLock;

use trident_types::MacAddr;

/// The bundled registry: `prefix\torganization` lines, gzip.
static OUI_GZ: &[u8] = include_bytes!("../data/oui.tsv.gz");
/// Upper bound on the inflated table, so a corrupt bundle cannot exhaust memory.
const MAX_TABLE_BYTES: u64 = 16 << 20;
/// Prefix lengths in hex digits, longest first.
const PREFIX_DIGITS: [usize; 3] = [9, 7, 6];

/// Prefix (as an integer of its hex digits) → organization, per prefix length.
struct Table {
    by_len: [HashMap<u64, Box<str>>; 3],
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut text = String::new();
        let inflated = flate2::read::GzDecoder::new(OUI_GZ)
            .take(MAX_TABLE_BYTES)
            .read_to_string(&mut text);
        let mut by_len: [HashMap<u64, Box<str>>; 3] = Default::default();
        if inflated.is_err() {
            return Table { by_len };
        }
        for line in text.lines() {
            let Some((prefix, org)) = line.split_once('\t') else {
                continue;
            };
            let Some(slot) = PREFIX_DIGITS.iter().position(|d| *d == prefix.len()) else {
                continue;
            };
            if let (Ok(p), Some(map)) = (u64::from_str_radix(prefix, 16), by_len.get_mut(slot)) {
                map.insert(p, org.into());
            }
        }
        Table { by_len }
    })
}

/// The organization the IEEE registered `mac`'s block to, or `None` for unregistered and
/// locally administered addresses (randomised phone MACs, VMs, ...).
#[must_use]
pub fn vendor(mac: &MacAddr) -> Option<&'static str> {
    if is_locally_administered(mac) {
        return None;
    }
    let bits = mac.0.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b));
    let t = table();
    for (digits, map) in PREFIX_DIGITS.iter().zip(&t.by_len) {
        let prefix = bits >> (48 - 4 * digits);
        if let Some(org) = map.get(&prefix) {
            return Some(org);
        }
    }
    None
}

/// True for locally administered addresses (the U/L bit set): not assigned by the IEEE,
/// typically randomised by the device for privacy.
#[must_use]
pub const fn is_locally_administered(mac: &MacAddr) -> bool {
    mac.0[0] & 0x02 != 0
}

/// Number of assignments in the bundled table.
#[must_use]
pub fn table_len() -> usize {
    table().by_len.iter().map(HashMap::len).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_table_loads() {
        // 46,521 assignments in ieee-data 20220827.1 (see data/README.md).
        assert_eq!(table_len(), 46_521);
    }

    #[test]
    fn longest_prefix_wins() {
        // 00:00:0c is Cisco's original OUI (MA-L).
        assert_eq!(
            vendor(&MacAddr([0x00, 0x00, 0x0c, 1, 2, 3])),
            Some("Cisco Systems, Inc")
        );
        // 70:B3:D5 is the IEEE's own MA-L from which 36-bit blocks are sold; 70:B3:D5:00:0
        // belongs to one buyer, not to the IEEE.
        let ieee = vendor(&MacAddr([0x70, 0xb3, 0xd5, 0xff, 0xff, 0xff]));
        let small = vendor(&MacAddr([0x70, 0xb3, 0xd5, 0x00, 0x00, 0x01]));
        assert_ne!(small, ieee);
        assert!(small.is_some());
    }

    #[test]
    fn local_and_unknown() {
        assert_eq!(vendor(&MacAddr([0x02, 0, 0, 0, 0, 1])), None);
        assert!(is_locally_administered(&MacAddr([
            0xda, 0xa1, 0x19, 0, 0, 1
        ])));
    }
}
