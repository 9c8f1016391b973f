//! The per-endpoint capture on a real interface: a veth pair, frames from two hosts injected
//! on one end, [`trident_sdn::capture::run_job`] on the other with the endpoint's MAC filter.
//! Only that host's frames may be in the file, and the capture is classified. Needs root
//! (creating the veth pair, capturing) and `ip` (iproute2): fails loudly without them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use trident_capture::{CaptureReader, Input};
use trident_sdn::capture::{CaptureJob, run_job};

const HOST: [u8; 6] = [0x0e, 0x11, 0x22, 0x33, 0x44, 0x55];
const PEER: [u8; 6] = [0x0e, 0x11, 0x22, 0x33, 0x44, 0x66];
const OTHER: [u8; 6] = [0x0e, 0x99, 0x99, 0x99, 0x99, 0x01];
const OTHER_PEER: [u8; 6] = [0x0e, 0x99, 0x99, 0x99, 0x99, 0x02];

fn ip(args: &[&str]) {
    let st = Command::new("ip")
        .args(args)
        .status()
        .expect("`ip` (iproute2) is needed for this test");
    assert!(st.success(), "ip {args:?} failed (this test needs root)");
}

/// Ethernet + IPv4 + TCP (checksums left zero; the capture does not care).
fn frame(
    src: [u8; 6],
    dst: [u8; 6],
    sip: [u8; 4],
    dip: [u8; 4],
    sport: u16,
    dport: u16,
    flags: u8,
) -> Vec<u8> {
    let mut f = Vec::with_capacity(74);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&[0x08, 0x00]);
    let payload = b"GET / HTTP/1.1\r\n\r\n";
    let total = (20 + 20 + payload.len()) as u16;
    f.extend_from_slice(&[
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        1,
        0x40,
        0,
        64,
        6,
        0,
        0,
    ]);
    f.extend_from_slice(&sip);
    f.extend_from_slice(&dip);
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    f.extend_from_slice(payload);
    f
}

struct Veth(String);

impl Drop for Veth {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", &self.0]).status();
    }
}

#[test]
fn capture_only_the_endpoint_and_classify() {
    let n = std::process::id() % 100_000;
    let a = format!("tsd{n}a");
    let b = format!("tsd{n}b");
    ip(&["link", "add", &a, "type", "veth", "peer", "name", &b]);
    let _guard = Veth(a.clone());
    ip(&["link", "set", &a, "up"]);
    ip(&["link", "set", &b, "up"]);
    let dir = tempfile::Builder::new()
        .prefix("trident-sdn-cap-")
        .tempdir()
        .unwrap();
    let inject = a.clone();
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(700));
        let mut cap = pcap::Capture::from_device(inject.as_str())
            .unwrap()
            .open()
            .unwrap();
        for i in 0..40u16 {
            let sport = 40_000 + i;
            for f in [
                frame(HOST, PEER, [10, 0, 0, 1], [10, 0, 0, 2], sport, 80, 0x02),
                frame(PEER, HOST, [10, 0, 0, 2], [10, 0, 0, 1], 80, sport, 0x12),
                frame(HOST, PEER, [10, 0, 0, 1], [10, 0, 0, 2], sport, 80, 0x18),
                frame(
                    OTHER,
                    OTHER_PEER,
                    [10, 0, 0, 7],
                    [10, 0, 0, 8],
                    sport,
                    443,
                    0x02,
                ),
            ] {
                cap.sendpacket(f).unwrap();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    let job = CaptureJob {
        id: "endpoint-under-test".into(),
        mac: "0e:11:22:33:44:55".into(),
        nic: b.clone(),
        duration: Duration::from_secs(3),
        dir: dir.path().to_path_buf(),
    };
    let model = trident_classify::Model::networkml_0_6_19().unwrap();
    let outcome = run_job(&job, &model, &Arc::new(AtomicBool::new(false)), 0.0);
    sender.join().unwrap();
    let file = outcome.file.clone().expect("a capture file");
    let mut reader = CaptureReader::open(&Input::File(file.clone())).unwrap();
    let mut frames = 0;
    while let Some(f) = reader.next_frame().unwrap() {
        let dst = &f.data[0..6];
        let src = &f.data[6..12];
        assert!(
            src == HOST || dst == HOST,
            "a frame of another host was captured"
        );
        frames += 1;
    }
    println!(
        "{frames} frames of the endpoint in {}; result {:?}",
        file.display(),
        outcome.result
    );
    assert_eq!(frames, 120);
    let c = outcome.result.expect("a classification");
    assert_eq!(c.packets, 120);
    assert!(!c.roles.is_empty() && c.roles.len() <= 3);
}
