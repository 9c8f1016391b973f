//! Live capture from a network interface into rotating pcapng files.
//!
//! This is a crate of its own so that `trident-capture` (the file reader) stays free of
//! libpcap and of any C dependency. Packets come from libpcap through the `pcap` crate:
//! libpcap compiles BPF filters exactly as tcpdump does (so `--filter` means what users
//! expect), and on Linux it already reads through a TPACKET_V3 memory-mapped ring, which is
//! what a hand-written AF_PACKET reader would use.
//!
//! The loop is single-threaded and allocation-free per packet: libpcap hands a borrowed
//! frame, `--headers-only` decides how much of it to keep ([`headers_only_len`]), and the
//! [`PcapngWriter`] copies it into a 1 MiB write buffer. Stopping is cooperative: the caller
//! sets an [`AtomicBool`] (from a signal handler) and the loop, which wakes at least every
//! [`READ_TIMEOUT_MS`], closes every file with its statistics block.
//!
//! With [`CaptureConfig::per_host`] the packets go to one file per host instead
//! ([`PerHostWriter`]: MAC, or IP behind a router, with a bounded number of open files).
//! [`run_with`] also hands every written packet to a [`PacketSink`]: the CLI's live
//! analysis (`--analyze`) and live publishing (`--publish`) are sinks, so this crate stays
//! free of the index and of brokers.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
pub mod output;
pub mod pcapng;
pub mod per_host;
pub mod sink;
pub mod truncate;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use error::LiveError;
pub use output::{OutputTarget, RotatePolicy, Rotator};
pub use pcapng::{EndStats, InterfaceDescription, PcapngWriter};
pub use per_host::{HostKey, PerHostWriter};
pub use sink::{CapturedPacket, NoSink, PacketSink};
pub use trident_types::{LinkType, Timestamp};
pub use truncate::headers_only_len;

/// Default snap length: libpcap's maximum, so nothing is cut.
pub const DEFAULT_SNAPLEN: u32 = 262_144;
/// Snap length used by `--headers-only` when none is given: every header stack trident
/// decodes fits, and the kernel copies less.
pub const HEADERS_ONLY_SNAPLEN: u32 = 512;
/// libpcap read timeout: the loop wakes at least this often to notice a stop request.
pub const READ_TIMEOUT_MS: i32 = 100;
/// Default kernel ring size.
pub const DEFAULT_BUFFER_BYTES: u32 = 32 << 20;
/// How often progress is reported and time-based rotation checked.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(1);
/// The clock is read once per this many packets (and on every read timeout).
pub const CLOCK_EVERY_PACKETS: u64 = 256;

/// What to capture and where to write it.
#[derive(Debug, Clone)]
pub struct CaptureConfig {
    /// Interface name, e.g. `eth0`.
    pub interface: String,
    /// BPF filter expression (tcpdump syntax), compiled by libpcap.
    pub filter: Option<String>,
    /// Snap length; `None` picks [`DEFAULT_SNAPLEN`], or [`HEADERS_ONLY_SNAPLEN`] with
    /// `headers_only`.
    pub snaplen: Option<u32>,
    /// Keep headers plus a few payload bytes only ([`truncate`]).
    pub headers_only: bool,
    /// Put the interface in promiscuous mode.
    pub promiscuous: bool,
    /// Kernel ring size in bytes.
    pub buffer_bytes: u32,
    /// Output file or directory.
    pub output: PathBuf,
    /// Rotation and retention.
    pub rotate: RotatePolicy,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Stop after this many packets.
    pub count: Option<u64>,
    /// One file per host, with at most this many open (`output` is then a directory);
    /// `None`: one capture (rotating).
    pub per_host: Option<usize>,
}

impl CaptureConfig {
    /// A configuration with the defaults: whole packets, promiscuous, one file.
    #[must_use]
    pub fn new(interface: impl Into<String>, output: impl Into<PathBuf>) -> Self {
        CaptureConfig {
            interface: interface.into(),
            filter: None,
            snaplen: None,
            headers_only: false,
            promiscuous: true,
            buffer_bytes: DEFAULT_BUFFER_BYTES,
            output: output.into(),
            rotate: RotatePolicy::default(),
            duration: None,
            count: None,
            per_host: None,
        }
    }

    /// The snap length actually used.
    #[must_use]
    pub fn effective_snaplen(&self) -> u32 {
        self.snaplen.unwrap_or(if self.headers_only {
            HEADERS_ONLY_SNAPLEN
        } else {
            DEFAULT_SNAPLEN
        })
    }
}

/// Counters reported while capturing and at the end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Packets written.
    pub packets: u64,
    /// Bytes written to files (pcapng blocks included).
    pub bytes: u64,
    /// libpcap `ps_recv`.
    pub received: u64,
    /// libpcap `ps_drop`: dropped by the kernel.
    pub dropped_kernel: u64,
    /// libpcap `ps_ifdrop`: dropped by the interface.
    pub dropped_interface: u64,
    /// Files created.
    pub files: u64,
    /// Time since the capture started.
    pub elapsed: Duration,
    /// With `per_host`: hosts seen.
    pub hosts: u64,
    /// With `per_host`: files open now.
    pub open_files: u64,
    /// With `per_host`: files closed to keep the bound on open files.
    pub evictions: u64,
    /// With `per_host`: packets that belonged to no host (broadcast to broadcast).
    pub unfiled: u64,
}

/// The outcome of a capture.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Final counters.
    pub progress: Progress,
    /// Files of this run still on disk, oldest first.
    pub files: Vec<PathBuf>,
    /// Why the capture ended.
    pub ended_by: EndReason,
}

/// Why a capture ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndReason {
    /// The stop flag was set (a signal).
    Stopped,
    /// `duration` elapsed.
    Duration,
    /// `count` packets were written.
    Count,
}

/// The wall clock as a [`Timestamp`] (for the statistics block only; packets carry their
/// own kernel timestamps).
fn now_ts() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_secs_nanos(
        i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        d.subsec_nanos(),
    )
}

/// Maps a libpcap open/activate error, naming CAP_NET_RAW when it is about privileges.
fn open_error(interface: &str, err: pcap::Error) -> LiveError {
    let message = err.to_string();
    let lower = message.to_ascii_lowercase();
    if lower.contains("permission") || lower.contains("not permitted") {
        LiveError::Permission {
            interface: interface.to_owned(),
            message,
        }
    } else {
        LiveError::Open {
            interface: interface.to_owned(),
            message,
        }
    }
}

/// A description of the capture for the IDB's `if_description`.
fn describe(config: &CaptureConfig) -> String {
    let mut d = format!("trident capture on {}", config.interface);
    if let Some(f) = &config.filter {
        d.push_str(&format!("; filter: {f}"));
    }
    if config.headers_only {
        d.push_str(&format!(
            "; headers only (+{} payload bytes, {} for DNS)",
            truncate::APP_PAYLOAD_KEEP,
            truncate::DNS_PAYLOAD_KEEP
        ));
    }
    d
}

/// Captures until `stop` is set, `duration` elapses or `count` packets were written,
/// calling `progress` about once a second. Every file is closed with its statistics block,
/// whatever ends the capture (except an error, where the current file is still closed on a
/// best-effort basis).
pub fn run(
    config: &CaptureConfig,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Summary, LiveError> {
    run_with(config, stop, progress, &mut NoSink)
}

/// [`run`], handing every written packet to `sink` as well (and calling its
/// [`PacketSink::tick`] on every clock check). A sink error stops the capture; the files
/// are closed first.
pub fn run_with(
    config: &CaptureConfig,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(&Progress),
    sink: &mut dyn PacketSink,
) -> Result<Summary, LiveError> {
    let snaplen = config.effective_snaplen();
    let iface = &config.interface;
    let snaplen_i32 = i32::try_from(snaplen)
        .map_err(|_| LiveError::Config(format!("snap length {snaplen} is too large")))?;
    let buffer_i32 = i32::try_from(config.buffer_bytes).unwrap_or(i32::MAX);
    let mut cap = pcap::Capture::from_device(iface.as_str())
        .map_err(|e| open_error(iface, e))?
        .promisc(config.promiscuous)
        .snaplen(snaplen_i32)
        .timeout(READ_TIMEOUT_MS)
        .buffer_size(buffer_i32)
        .precision(pcap::Precision::Nano)
        .open()
        .map_err(|e| open_error(iface, e))?;
    if let Some(expr) = &config.filter {
        cap.filter(expr, true).map_err(|e| LiveError::Filter {
            expression: expr.clone(),
            message: e.to_string(),
        })?;
    }
    let link_type = LinkType(u16::try_from(cap.get_datalink().0).unwrap_or(0));
    let description = InterfaceDescription {
        link_type,
        snaplen,
        name: iface.clone(),
        description: describe(config),
    };
    let start_wall = now_ts();
    let (y, mo, d, h, mi, s) = start_wall.utc_civil();
    let prefix = format!("trident-{iface}-{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z");
    let mut rotator = match config.per_host {
        Some(max_open) => Output::PerHost(PerHostWriter::new(
            &config.output,
            prefix,
            config.rotate,
            description,
            max_open,
        )?),
        None => {
            let target = OutputTarget::new(&config.output, config.rotate.rotates(), prefix);
            let mut r = Rotator::new(target, config.rotate, description);
            r.open_first()?;
            Output::Single(r)
        }
    };

    // libpcap's read timeout does not fire on Linux's TPACKET_V3 ring while no packet
    // arrives at all (the kernel never retires an empty block), so an idle interface would
    // block the loop forever and a stop request would go unseen. A ticker thread calls
    // `pcap_breakloop` every READ_TIMEOUT_MS: since libpcap 1.10 that wakes a blocked read
    // through an eventfd, the read returns "break", and the loop checks its clock and flags.
    // At line rate it costs one extra return per tick.
    let breaker = cap.breakloop_handle();
    let done = AtomicBool::new(false);
    let tick = Duration::from_millis(READ_TIMEOUT_MS.unsigned_abs().into());
    let result = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                breaker.breakloop();
            }
        });
        let r = capture_loop(
            config,
            stop,
            progress,
            &mut cap,
            &mut rotator,
            link_type,
            start_wall,
            sink,
        );
        done.store(true, Ordering::Relaxed);
        r
    });
    let (ended, mut state) = result;
    let started_elapsed = state.elapsed;
    let stats = end_stats(&mut cap, start_wall, state.packets);
    let closed = rotator.close(&stats);
    let ended_by = ended?;
    closed?;
    fill_counters(&mut state, &mut cap, &rotator);
    state.elapsed = started_elapsed;
    Ok(Summary {
        progress: state,
        files: rotator.kept_files(),
        ended_by,
    })
}

/// The read loop proper; returns why it ended and the counters so far.
#[allow(clippy::too_many_arguments)]
fn capture_loop(
    config: &CaptureConfig,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(&Progress),
    cap: &mut pcap::Capture<pcap::Active>,
    rotator: &mut Output,
    link_type: LinkType,
    start_wall: Timestamp,
    sink: &mut dyn PacketSink,
) -> (Result<EndReason, LiveError>, Progress) {
    let iface = &config.interface;
    let started = Instant::now();
    let mut state = Progress::default();
    let mut last_report = started;
    let mut since_clock = 0u64;
    let result = (|| -> Result<EndReason, LiveError> {
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(EndReason::Stopped);
            }
            if config.count.is_some_and(|c| state.packets >= c) {
                return Ok(EndReason::Count);
            }
            let mut check_clock = false;
            match cap.next_packet() {
                Ok(p) => {
                    let h = p.header;
                    #[allow(clippy::useless_conversion)]
                    let secs = i64::from(h.ts.tv_sec);
                    #[allow(clippy::useless_conversion)]
                    let nanos = u32::try_from(i64::from(h.ts.tv_usec)).unwrap_or(0);
                    let ts = Timestamp::from_secs_nanos(secs, nanos);
                    let keep = if config.headers_only {
                        headers_only_len(link_type, p.data)
                    } else {
                        p.data.len()
                    };
                    let data = p.data.get(..keep).unwrap_or(p.data);
                    rotator.write(link_type, ts, data, h.len)?;
                    state.packets += 1;
                    sink.packet(&CapturedPacket {
                        number: state.packets,
                        ts,
                        link_type,
                        data,
                        origlen: h.len,
                    })?;
                    since_clock += 1;
                    if since_clock >= CLOCK_EVERY_PACKETS {
                        since_clock = 0;
                        check_clock = true;
                    }
                    // Size rotation is checked per packet (it is a comparison).
                    if let Output::Single(r) = rotator
                        && config.rotate.max_bytes.is_some()
                        && r.due(Instant::now())
                    {
                        let stats = end_stats(cap, start_wall, state.packets);
                        r.rotate(&stats)?;
                    }
                }
                // A timeout, or the ticker's break: time to look at the clock.
                Err(pcap::Error::TimeoutExpired | pcap::Error::NoMorePackets) => {
                    check_clock = true;
                }
                Err(e) => {
                    return Err(LiveError::Read {
                        interface: iface.clone(),
                        message: e.to_string(),
                    });
                }
            }
            if check_clock {
                let now = Instant::now();
                if config
                    .duration
                    .is_some_and(|d| now.saturating_duration_since(started) >= d)
                {
                    return Ok(EndReason::Duration);
                }
                match rotator {
                    Output::Single(r) => {
                        if r.due(now) {
                            let stats = end_stats(cap, start_wall, state.packets);
                            r.rotate(&stats)?;
                        }
                    }
                    Output::PerHost(p) => {
                        p.set_stats(end_stats(cap, start_wall, state.packets));
                        p.rotate_due(now)?;
                    }
                }
                sink.tick(now)?;
                if now.saturating_duration_since(last_report) >= PROGRESS_EVERY {
                    last_report = now;
                    fill(&mut state, cap, rotator, started);
                    progress(&state);
                }
            }
        }
    })();
    fill(&mut state, cap, rotator, started);
    (result, state)
}

/// Reads libpcap's counters into an ISB's statistics.
fn end_stats(cap: &mut pcap::Capture<pcap::Active>, start: Timestamp, delivered: u64) -> EndStats {
    let s = cap.stats().unwrap_or(pcap::Stat {
        received: 0,
        dropped: 0,
        if_dropped: 0,
    });
    EndStats {
        start,
        end: now_ts(),
        received: u64::from(s.received),
        dropped_kernel: u64::from(s.dropped),
        dropped_interface: u64::from(s.if_dropped),
        delivered,
    }
}

/// Refreshes the progress counters and the elapsed time.
fn fill(
    state: &mut Progress,
    cap: &mut pcap::Capture<pcap::Active>,
    rotator: &Output,
    started: Instant,
) {
    fill_counters(state, cap, rotator);
    state.elapsed = started.elapsed();
}

/// Refreshes the progress counters from libpcap and the files.
fn fill_counters(state: &mut Progress, cap: &mut pcap::Capture<pcap::Active>, rotator: &Output) {
    if let Ok(s) = cap.stats() {
        state.received = u64::from(s.received);
        state.dropped_kernel = u64::from(s.dropped);
        state.dropped_interface = u64::from(s.if_dropped);
    }
    state.bytes = rotator.bytes_written();
    state.files = rotator.files_written();
    if let Output::PerHost(p) = rotator {
        state.hosts = p.hosts() as u64;
        state.open_files = p.open_files() as u64;
        state.evictions = p.evictions();
        state.unfiled = p.unfiled();
    }
}

/// The files being written: one rotating capture, or one per host.
#[derive(Debug)]
enum Output {
    Single(Rotator),
    PerHost(PerHostWriter),
}

impl Output {
    fn write(
        &mut self,
        link_type: LinkType,
        ts: Timestamp,
        data: &[u8],
        origlen: u32,
    ) -> Result<(), LiveError> {
        match self {
            Output::Single(r) => r.write(ts, data, origlen),
            Output::PerHost(p) => p.write(link_type, ts, data, origlen).map(|_| ()),
        }
    }

    fn close(&mut self, stats: &EndStats) -> Result<(), LiveError> {
        match self {
            Output::Single(r) => r.close(stats),
            Output::PerHost(p) => p.close(stats),
        }
    }

    fn bytes_written(&self) -> u64 {
        match self {
            Output::Single(r) => r.bytes_written(),
            Output::PerHost(p) => p.bytes_written(),
        }
    }

    fn files_written(&self) -> u64 {
        match self {
            Output::Single(r) => r.files_written(),
            Output::PerHost(p) => p.files_written(),
        }
    }

    fn kept_files(&self) -> Vec<PathBuf> {
        match self {
            Output::Single(r) => r.kept_files(),
            Output::PerHost(p) => p.kept_files(),
        }
    }
}
