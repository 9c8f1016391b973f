//! `--per-host`: one pcapng capture per host, with a bounded number of open files.
//!
//! A host is keyed by its MAC address. A packet belongs to its source and its destination,
//! so it is written to both hosts' files (once when both ends are the same host);
//! broadcast, multicast and all-zero MACs are not hosts and get no file.
//!
//! **Routers.** A MAC that carries many IP addresses is a router (or a NAT, a gateway): the
//! hosts are the addresses behind it. The rule: a MAC is a router once it was seen with
//! [`ROUTER_MIN_IPS`] distinct unicast IP addresses on its side of packets (the source
//! address when it sends, the destination address when it receives). From then on, its
//! IP packets are filed under the IP address on its side ([`HostKey::Ip`]); its packets
//! without an IP header (ARP, LLDP) stay in its MAC file, and so do the packets seen before
//! it crossed the threshold. At most [`MAX_TRACKED_MACS`] MACs are tracked for the rule;
//! later MACs are never taken for routers. Frames without an Ethernet header (raw IP, SLL)
//! are keyed by their IP addresses.
//!
//! **Open files.** At most `max_open_files` files are open; opening one more closes the
//! least recently written (with its statistics block, so it is complete on disk). A host
//! whose file was closed and that is seen again continues in a **new numbered file**
//! (`PREFIX-HOST-00002.pcapng`, ...), never by appending to the closed one: every file is
//! one complete pcapng section that tshark, capinfos and trident read on their own, and a
//! host's capture is the concatenation of its files in number order (`mergecap -a`). Size
//! and time rotation (`--rotate-mb`, `--rotate-seconds`) apply to each host's file and
//! also continue in the next number; `--max-files` keeps the newest N files of each host.
//!
//! The statistics block of each file carries the capture-wide libpcap counters as they
//! were at the last clock check before it was closed (reading them is a system call, so
//! it is not done per packet); `isb_usrdeliv` is the capture-wide delivered count.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::BufWriter;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use trident_decode::{DecodeOptions, decode_with};
use trident_types::{LinkType, MacAddr, Timestamp};

use crate::LiveError;
use crate::output::RotatePolicy;
use crate::pcapng::{EndStats, InterfaceDescription, PcapngWriter};

/// Default bound on open per-host files (`--max-open-files`).
pub const DEFAULT_MAX_OPEN_FILES: usize = 64;
/// Distinct unicast IP addresses on one MAC that make it a router.
pub const ROUTER_MIN_IPS: usize = 8;
/// MACs tracked by the router rule (bounds its memory).
pub const MAX_TRACKED_MACS: usize = 65_536;
/// Write buffer per open per-host file: smaller than a single capture's, since up to
/// `max_open_files` are open at once.
pub const PER_HOST_WRITE_BUFFER: usize = 64 << 10;

/// The host a per-host file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum HostKey {
    /// A host by its MAC address.
    Mac(MacAddr),
    /// A host behind a router (or on a link without MACs), by its IP address.
    Ip(IpAddr),
}

impl HostKey {
    /// The key as it appears in file names: a MAC with `-` for `:`
    /// (`02-00-00-00-00-01`), an IPv4 address as is, an IPv6 address with `-` for `:`.
    #[must_use]
    pub fn file_label(&self) -> String {
        match self {
            HostKey::Mac(m) => m.to_string().replace(':', "-"),
            HostKey::Ip(ip) => ip.to_string().replace(':', "-"),
        }
    }
}

/// What the router rule knows of one MAC.
#[derive(Debug)]
enum MacSeen {
    /// The distinct unicast IP addresses seen on it so far (fewer than [`ROUTER_MIN_IPS`]).
    Ips(Vec<IpAddr>),
    /// It is a router.
    Router,
}

/// One open file.
#[derive(Debug)]
struct OpenFile {
    path: PathBuf,
    writer: PcapngWriter<BufWriter<File>>,
    last_used: u64,
    opened: Instant,
}

/// Every host's file numbering and kept files.
#[derive(Debug, Default)]
struct HostFiles {
    seq: u64,
    kept: VecDeque<PathBuf>,
}

/// Writes each packet into the file of each host it belongs to; see the module docs.
#[derive(Debug)]
pub struct PerHostWriter {
    dir: PathBuf,
    prefix: String,
    policy: RotatePolicy,
    iface: InterfaceDescription,
    max_open: usize,
    open: HashMap<HostKey, OpenFile>,
    hosts: HashMap<HostKey, HostFiles>,
    macs: HashMap<MacAddr, MacSeen>,
    tick: u64,
    stats: EndStats,
    files_written: u64,
    bytes_total: u64,
    evictions: u64,
    unfiled: u64,
}

impl PerHostWriter {
    /// A writer into directory `dir` (created if missing), naming files
    /// `PREFIX-HOST-NNNNN.pcapng`, with at most `max_open_files` (at least 1) open.
    ///
    /// # Errors
    /// `dir` exists and is not a directory, or cannot be created.
    pub fn new(
        dir: &Path,
        prefix: String,
        policy: RotatePolicy,
        iface: InterfaceDescription,
        max_open_files: usize,
    ) -> Result<Self, LiveError> {
        if dir.exists() && !dir.is_dir() {
            return Err(LiveError::Config(format!(
                "--per-host writes one file per host: {} must be a directory",
                dir.display()
            )));
        }
        std::fs::create_dir_all(dir).map_err(|source| LiveError::Output {
            path: dir.to_path_buf(),
            source,
        })?;
        Ok(PerHostWriter {
            dir: dir.to_path_buf(),
            prefix,
            policy,
            iface,
            max_open: max_open_files.max(1),
            open: HashMap::new(),
            hosts: HashMap::new(),
            macs: HashMap::new(),
            tick: 0,
            stats: EndStats::default(),
            files_written: 0,
            bytes_total: 0,
            evictions: 0,
            unfiled: 0,
        })
    }

    /// The counters written into the statistics block of files closed from now on.
    pub fn set_stats(&mut self, stats: EndStats) {
        self.stats = stats;
    }

    /// The hosts a frame belongs to (at most two, distinct), updating the router rule.
    pub fn keys_of(&mut self, link_type: LinkType, data: &[u8]) -> [Option<HostKey>; 2] {
        let pkt = decode_with(link_type, data, DecodeOptions::headers_only());
        let ips = pkt.ip.map(|ip| (ip.src, ip.dst));
        let mut keys = [None, None];
        match pkt.eth {
            Some(eth) if eth.src != MacAddr([0; 6]) || eth.dst != MacAddr([0; 6]) => {
                let sides = [(eth.src, ips.map(|i| i.0)), (eth.dst, ips.map(|i| i.1))];
                for (slot, (mac, ip)) in keys.iter_mut().zip(sides) {
                    *slot = self.key_for(mac, ip);
                }
            }
            _ => {
                if let Some((src, dst)) = ips {
                    for (slot, ip) in keys.iter_mut().zip([src, dst]) {
                        *slot = is_unicast_ip(ip).then_some(HostKey::Ip(ip));
                    }
                }
            }
        }
        if keys[0] == keys[1] {
            keys[1] = None;
        }
        keys
    }

    /// The key of one side of a frame: its MAC, or the IP behind it for a router.
    fn key_for(&mut self, mac: MacAddr, ip: Option<IpAddr>) -> Option<HostKey> {
        if mac.is_multicast() || mac == MacAddr([0; 6]) {
            return None;
        }
        let ip = ip.filter(|ip| is_unicast_ip(*ip));
        let router = match ip {
            Some(ip) => self.observe(mac, ip),
            None => matches!(self.macs.get(&mac), Some(MacSeen::Router)),
        };
        Some(match (router, ip) {
            (true, Some(ip)) => HostKey::Ip(ip),
            _ => HostKey::Mac(mac),
        })
    }

    /// Records that `mac` carried `ip`; true when `mac` is (now) a router.
    fn observe(&mut self, mac: MacAddr, ip: IpAddr) -> bool {
        let tracked = self.macs.len();
        let seen = match self.macs.get_mut(&mac) {
            Some(s) => s,
            None if tracked < MAX_TRACKED_MACS => {
                self.macs.entry(mac).or_insert(MacSeen::Ips(Vec::new()))
            }
            None => return false,
        };
        match seen {
            MacSeen::Router => true,
            MacSeen::Ips(ips) => {
                if !ips.contains(&ip) {
                    ips.push(ip);
                }
                if ips.len() >= ROUTER_MIN_IPS {
                    *seen = MacSeen::Router;
                    true
                } else {
                    false
                }
            }
        }
    }

    /// Writes one packet to the file of each host it belongs to. Returns how many files
    /// it was written to (0: no host, counted in [`PerHostWriter::unfiled`]).
    ///
    /// # Errors
    /// A file could not be created, written or closed.
    pub fn write(
        &mut self,
        link_type: LinkType,
        ts: Timestamp,
        data: &[u8],
        origlen: u32,
    ) -> Result<usize, LiveError> {
        let keys = self.keys_of(link_type, data);
        let mut written = 0;
        for key in keys.into_iter().flatten() {
            self.write_to(key, ts, data, origlen)?;
            written += 1;
        }
        if written == 0 {
            self.unfiled += 1;
        }
        Ok(written)
    }

    fn write_to(
        &mut self,
        key: HostKey,
        ts: Timestamp,
        data: &[u8],
        origlen: u32,
    ) -> Result<(), LiveError> {
        self.tick += 1;
        if !self.open.contains_key(&key) {
            self.open_file(key)?;
        }
        let mut rotate = false;
        if let Some(f) = self.open.get_mut(&key) {
            let before = f.writer.bytes_written();
            f.writer
                .write_packet(ts, data, origlen)
                .map_err(|source| LiveError::Output {
                    path: f.path.clone(),
                    source,
                })?;
            self.bytes_total += f.writer.bytes_written() - before;
            f.last_used = self.tick;
            rotate = self
                .policy
                .max_bytes
                .is_some_and(|max| f.writer.bytes_written() >= max);
        }
        if rotate {
            // The host's next packet opens its next numbered file.
            self.close_one(&key, false)?;
        }
        Ok(())
    }

    /// Opens the next numbered file of `key`, closing the least recently used file first
    /// when the bound is reached, and deleting the host's oldest file beyond `max_files`.
    fn open_file(&mut self, key: HostKey) -> Result<(), LiveError> {
        while self.open.len() >= self.max_open {
            let lru = self
                .open
                .iter()
                .min_by_key(|(_, f)| f.last_used)
                .map(|(k, _)| *k);
            let Some(lru) = lru else { break };
            self.close_one(&lru, false)?;
            self.evictions += 1;
        }
        let host = self.hosts.entry(key).or_default();
        host.seq += 1;
        let path = self.dir.join(format!(
            "{}-{}-{:05}.pcapng",
            self.prefix,
            key.file_label(),
            host.seq
        ));
        let file = File::create(&path).map_err(|source| LiveError::Output {
            path: path.clone(),
            source,
        })?;
        let writer = PcapngWriter::new(
            BufWriter::with_capacity(PER_HOST_WRITE_BUFFER, file),
            &self.iface,
        )
        .map_err(|source| LiveError::Output {
            path: path.clone(),
            source,
        })?;
        self.bytes_total += writer.bytes_written();
        host.kept.push_back(path.clone());
        if let Some(max) = self.policy.max_files {
            while host.kept.len() > max.max(1) {
                if let Some(old) = host.kept.pop_front() {
                    std::fs::remove_file(&old)
                        .map_err(|source| LiveError::Output { path: old, source })?;
                }
            }
        }
        self.files_written += 1;
        self.open.insert(
            key,
            OpenFile {
                path,
                writer,
                last_used: self.tick,
                opened: Instant::now(),
            },
        );
        Ok(())
    }

    /// Closes one host's open file with the current statistics.
    fn close_one(&mut self, key: &HostKey, sync: bool) -> Result<(), LiveError> {
        if let Some(f) = self.open.remove(key) {
            finish(f, &self.stats, sync)?;
        }
        Ok(())
    }

    /// Closes the files opened at least `--rotate-seconds` ago (their hosts continue in
    /// new files on their next packet).
    ///
    /// # Errors
    /// A file could not be closed.
    pub fn rotate_due(&mut self, now: Instant) -> Result<(), LiveError> {
        let Some(every) = self.policy.every else {
            return Ok(());
        };
        let due: Vec<HostKey> = self
            .open
            .iter()
            .filter(|(_, f)| now.saturating_duration_since(f.opened) >= every)
            .map(|(k, _)| *k)
            .collect();
        for k in due {
            self.close_one(&k, false)?;
        }
        Ok(())
    }

    /// Closes every open file with `stats`. Every file is attempted; the first error is
    /// returned.
    ///
    /// # Errors
    /// A file could not be flushed or closed.
    pub fn close(&mut self, stats: &EndStats) -> Result<(), LiveError> {
        self.stats = *stats;
        let mut first = Ok(());
        let mut keys: Vec<HostKey> = self.open.keys().copied().collect();
        keys.sort();
        for k in keys {
            let r = self.close_one(&k, true);
            if first.is_ok() {
                first = r;
            }
        }
        first
    }

    /// Files open now (never more than `max_open_files`).
    #[must_use]
    pub fn open_files(&self) -> usize {
        self.open.len()
    }

    /// Hosts seen so far.
    #[must_use]
    pub fn hosts(&self) -> usize {
        self.hosts.len()
    }

    /// Files closed to respect the bound on open files.
    #[must_use]
    pub fn evictions(&self) -> u64 {
        self.evictions
    }

    /// Packets that belonged to no host (both ends broadcast/multicast or unknown).
    #[must_use]
    pub fn unfiled(&self) -> u64 {
        self.unfiled
    }

    /// Files created.
    #[must_use]
    pub fn files_written(&self) -> u64 {
        self.files_written
    }

    /// Bytes written across all files (statistics blocks not counted).
    #[must_use]
    pub fn bytes_written(&self) -> u64 {
        self.bytes_total
    }

    /// Every host's files still on disk, sorted by name (host, then number).
    #[must_use]
    pub fn kept_files(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self.hosts.values().flat_map(|h| h.kept.clone()).collect();
        v.sort();
        v
    }
}

/// Writes the statistics block and flushes one file; with `sync`, also waits for the disk
/// (at the end of the capture; an eviction only hands the bytes to the kernel, since an
/// fsync per eviction would stall the capture loop when many hosts take turns).
fn finish(f: OpenFile, stats: &EndStats, sync: bool) -> Result<(), LiveError> {
    let OpenFile { path, writer, .. } = f;
    let buf = writer.finish(stats).map_err(|source| LiveError::Output {
        path: path.clone(),
        source,
    })?;
    let file = buf.into_inner().map_err(|e| LiveError::Output {
        path: path.clone(),
        source: e.into_error(),
    })?;
    if sync {
        file.sync_data()
            .map_err(|source| LiveError::Output { path, source })?;
    }
    Ok(())
}

/// Unicast: not multicast, not broadcast, not unspecified.
fn is_unicast_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !(v4.is_multicast() || v4.is_broadcast() || v4.is_unspecified()),
        IpAddr::V6(v6) => !(v6.is_multicast() || v6.is_unspecified()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn iface() -> InterfaceDescription {
        InterfaceDescription {
            link_type: LinkType::ETHERNET,
            snaplen: 65535,
            name: "x".into(),
            description: String::new(),
        }
    }

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("trident-perhost-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    /// An Ethernet + IPv4 + UDP frame from (mac `s`, ip `si`) to (mac `d`, ip `di`).
    fn frame(s: u8, d: u8, si: [u8; 4], di: [u8; 4]) -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, d, 2, 0, 0, 0, 0, s, 0x08, 0x00];
        let mut ip = vec![
            0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, si[0], si[1], si[2], si[3], di[0], di[1],
            di[2], di[3],
        ];
        f.append(&mut ip);
        f.extend_from_slice(&[0x30, 0x39, 0x00, 0x35, 0, 8, 0, 0]);
        f
    }

    fn read_count(p: &Path) -> usize {
        let mut r =
            trident_capture::CaptureReader::open(&trident_capture::Input::File(p.into())).unwrap();
        let mut n = 0;
        while r.next_frame().unwrap().is_some() {
            n += 1;
        }
        n
    }

    /// Ten hosts talking to one, two files open at most: every file reads, each packet is
    /// in both of its hosts' files, and hosts continue in numbered files.
    #[test]
    fn bound_holds_and_every_file_reads() {
        let dir = tmpdir("bound");
        let mut w =
            PerHostWriter::new(&dir, "t".into(), RotatePolicy::default(), iface(), 2).unwrap();
        let mut sent = 0;
        for round in 0..3u8 {
            for h in 1..=10u8 {
                let f = frame(h, 100, [10, 0, 0, h], [10, 0, 0, 100]);
                assert_eq!(
                    w.write(LinkType::ETHERNET, Timestamp(i64::from(round)), &f, 42)
                        .unwrap(),
                    2
                );
                sent += 1;
                assert!(w.open_files() <= 2);
            }
        }
        w.close(&EndStats::default()).unwrap();
        assert_eq!(w.hosts(), 11);
        assert!(w.evictions() > 0);
        let files = w.kept_files();
        let total: usize = files.iter().map(|p| read_count(p)).sum();
        assert_eq!(total, 2 * sent);
        let server: usize = files
            .iter()
            .filter(|p| p.to_string_lossy().contains("02-00-00-00-00-64"))
            .map(|p| read_count(p))
            .sum();
        assert_eq!(server, sent);
        assert!(files.iter().any(|p| {
            p.to_string_lossy()
                .ends_with("02-00-00-00-00-01-00003.pcapng")
        }));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A MAC carrying many source addresses becomes a router: later packets are filed by IP.
    #[test]
    fn router_rule() {
        let dir = tmpdir("router");
        let mut w =
            PerHostWriter::new(&dir, "t".into(), RotatePolicy::default(), iface(), 8).unwrap();
        let mut keys = Vec::new();
        for i in 0..(ROUTER_MIN_IPS as u8 + 2) {
            let f = frame(1, 2, [192, 0, 2, i + 1], [10, 0, 0, 2]);
            keys.push(w.keys_of(LinkType::ETHERNET, &f));
        }
        let gw = HostKey::Mac(MacAddr([2, 0, 0, 0, 0, 1]));
        assert_eq!(keys[0][0], Some(gw));
        let last = ROUTER_MIN_IPS + 1;
        assert_eq!(
            keys[last][0],
            Some(HostKey::Ip(IpAddr::V4(Ipv4Addr::new(
                192,
                0,
                2,
                last as u8 + 1
            ))))
        );
        assert_eq!(
            keys[last][1],
            Some(HostKey::Mac(MacAddr([2, 0, 0, 0, 0, 2])))
        );
        assert_eq!(
            HostKey::Mac(MacAddr([2, 0, 0, 0, 0, 1])).file_label(),
            "02-00-00-00-00-01"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
