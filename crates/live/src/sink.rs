//! Where captured packets go besides the files: live analysis, live publishing.
//!
//! The capture loop hands every packet it wrote to a [`PacketSink`] (the bytes as kept,
//! so after `--headers-only` truncation: a sink sees exactly what a replay of the written
//! files would see), and calls [`PacketSink::tick`] at least every
//! [`crate::READ_TIMEOUT_MS`] so a sink can flush on its own clock while the interface is
//! idle. A sink runs on the capture thread: it must not block for long (a slow sink fills
//! the kernel ring and the kernel drops packets, which the statistics then show).

use std::time::Instant;

use trident_types::{LinkType, Timestamp};

use crate::LiveError;

/// One captured packet as written.
#[derive(Debug, Clone, Copy)]
pub struct CapturedPacket<'a> {
    /// 1-based number of the packet in this capture run.
    pub number: u64,
    /// Kernel timestamp.
    pub ts: Timestamp,
    /// Link type of the interface.
    pub link_type: LinkType,
    /// The bytes kept (after `--snaplen` and `--headers-only`).
    pub data: &'a [u8],
    /// The packet's length on the wire.
    pub origlen: u32,
}

/// Receives every captured packet; see the module docs.
pub trait PacketSink {
    /// One packet, in capture order.
    ///
    /// # Errors
    /// The sink failed; the capture stops (closing its files).
    fn packet(&mut self, packet: &CapturedPacket<'_>) -> Result<(), LiveError>;

    /// Called at least every [`crate::READ_TIMEOUT_MS`] and every
    /// [`crate::CLOCK_EVERY_PACKETS`] packets, with the monotonic clock.
    ///
    /// # Errors
    /// The sink failed; the capture stops (closing its files).
    fn tick(&mut self, _now: Instant) -> Result<(), LiveError> {
        Ok(())
    }
}

/// A sink that does nothing (plain `trident capture`).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSink;

impl PacketSink for NoSink {
    fn packet(&mut self, _packet: &CapturedPacket<'_>) -> Result<(), LiveError> {
        Ok(())
    }
}

/// A borrowed sink is a sink.
impl<T: PacketSink + ?Sized> PacketSink for &mut T {
    fn packet(&mut self, packet: &CapturedPacket<'_>) -> Result<(), LiveError> {
        (**self).packet(packet)
    }

    fn tick(&mut self, now: Instant) -> Result<(), LiveError> {
        (**self).tick(now)
    }
}

/// Several sinks, each called in order.
impl PacketSink for Vec<Box<dyn PacketSink + '_>> {
    fn packet(&mut self, packet: &CapturedPacket<'_>) -> Result<(), LiveError> {
        for s in self.iter_mut() {
            s.packet(packet)?;
        }
        Ok(())
    }

    fn tick(&mut self, now: Instant) -> Result<(), LiveError> {
        for s in self.iter_mut() {
            s.tick(now)?;
        }
        Ok(())
    }
}
