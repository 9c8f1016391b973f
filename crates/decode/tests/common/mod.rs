//! Test support shared by the corpus tests and the examples: where the shared corpus is,
//! and a small capture reader built on pcap-parser.
//!
//! The capture crate has the real reader; this one stays here so that the decoder's tests
//! depend on nothing but pcap-parser's framing, and a bug in one stage cannot hide one in
//! the other.

#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};

use pcap_parser::traits::PcapNGPacketBlock;
use pcap_parser::{Block, PcapBlockOwned, PcapError, create_reader};
use trident_decode::LinkType;

/// Read buffer for pcap-parser; records larger than this are refilled into it.
const READ_BUFFER: usize = 1 << 20;

/// The shared data directory: `$TRIDENT_SHARED`, or `../../../shared` from this crate
/// (beside the repository). Panics with a clear message when it is missing, so a test
/// run without the corpus fails loudly instead of passing vacuously.
#[must_use]
pub fn shared_dir() -> PathBuf {
    let dir = match std::env::var_os("TRIDENT_SHARED") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    };
    assert!(
        dir.join("corpus").is_dir(),
        "shared corpus not found at {} (set TRIDENT_SHARED to the directory holding corpus/)",
        dir.display()
    );
    dir
}

/// A corpus file by its path in MANIFEST.tsv; panics when absent.
#[must_use]
pub fn corpus(rel: &str) -> PathBuf {
    let path = shared_dir().join("corpus").join(rel);
    assert!(path.is_file(), "corpus file missing: {}", path.display());
    path
}

/// One frame of a capture, copied out of the reader.
#[derive(Debug, Clone)]
pub struct Frame {
    /// 1-based record number, as tshark's `frame.number`.
    pub number: usize,
    /// Link type of the frame's interface.
    pub link_type: LinkType,
    /// Captured bytes.
    pub data: Vec<u8>,
}

/// Every frame of a pcap or pcapng file (uncompressed). Panics on a read error: corpus
/// files used by these tests are undamaged.
#[must_use]
pub fn read_frames(path: &Path) -> Vec<Frame> {
    let file = File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let mut reader = match create_reader(READ_BUFFER, file) {
        Ok(r) => r,
        Err(e) => panic!("{}: not a capture: {e:?}", path.display()),
    };
    let mut frames = Vec::new();
    let mut legacy_link = LinkType(0);
    let mut interfaces: Vec<LinkType> = Vec::new();
    let mut starved = false;
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                starved = false;
                let mut push = |link_type: LinkType, data: &[u8]| {
                    frames.push(Frame {
                        number: frames.len() + 1,
                        link_type,
                        data: data.to_vec(),
                    });
                };
                match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        legacy_link = LinkType(u16::try_from(h.network.0).unwrap_or(u16::MAX));
                    }
                    PcapBlockOwned::Legacy(b) => push(legacy_link, b.data),
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => interfaces.clear(),
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        interfaces.push(LinkType(u16::try_from(idb.linktype.0).unwrap_or(u16::MAX)))
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        let lt = interfaces
                            .get(epb.if_id as usize)
                            .copied()
                            .unwrap_or(LinkType(u16::MAX));
                        push(lt, epb.packet_data());
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        let lt = interfaces.first().copied().unwrap_or(LinkType(u16::MAX));
                        push(lt, spb.packet_data());
                    }
                    PcapBlockOwned::NG(_) => {}
                }
                reader.consume(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                assert!(!starved, "{}: file ends inside a record", path.display());
                starved = true;
                if let Err(e) = reader.refill() {
                    panic!("{}: refill: {e:?}", path.display());
                }
            }
            Err(e) => panic!(
                "{}: read error after {} frames: {e:?}",
                path.display(),
                frames.len()
            ),
        }
    }
    frames
}

pub mod tshark;
