//! Passive OS guesses from a TCP SYN, p0f style.
//!
//! # How
//!
//! A SYN says more about the sender's TCP/IP stack than it means to: the initial TTL its
//! kernel uses, the options it offers and, above all, their order, which each stack writes
//! its own way and which nothing on the path rewrites. p0f popularised reading them. This
//! module keeps the idea, not p0f's database (GPL): [`SIGNATURES`] is a short table written
//! for trident from the stacks' documented defaults and their widely published SYN layouts:
//!
//! - the initial TTL is the received TTL rounded up to 32, 64, 128 or 255 (the common
//!   defaults: 64 for Linux, Android, the BSDs and Apple; 128 for Windows; 255 for network
//!   gear and Solaris); a TTL above 255 − 64 hops is assumed within 64 hops of its origin;
//! - Linux since 2.6/3.x sends `mss,sok,ts,nop,ws`;
//! - Windows since Vista sends `mss,nop,ws,nop,nop,sok` (no timestamps by default), with a
//!   64240 or 65535 window on 10/11 and 8192 on Vista/7/8; XP sends `mss,nop,nop,sok`;
//! - macOS and iOS send `mss,nop,ws,nop,nop,ts,sok,eol,eol` (the trailing EOLs pad to 24
//!   option bytes);
//! - FreeBSD sends `mss,nop,ws,sok,ts`; OpenBSD `mss,nop,nop,sok,nop,ws,nop,nop,ts`;
//! - a lone `mss` is what small embedded stacks (lwIP, uIP, RTOS firmware) and Cisco IOS
//!   send, told apart by the initial TTL.
//!
//! A SYN that matches no row is still classified by its initial TTL alone, and says so in
//! [`OsGuess::basis`]. Android is Linux to this test; telling them apart takes DHCP or HTTP
//! hints, which the host record carries beside the guess.

use trident_flow::TcpFingerprint;

/// What the guess rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Basis {
    /// A row of [`SIGNATURES`] matched the option layout, initial TTL (and window when the
    /// row names one).
    Signature,
    /// Only the initial TTL: the layout is not in the table.
    Ttl,
}

impl Basis {
    /// `signature` or `ttl`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Basis::Signature => "signature",
            Basis::Ttl => "ttl",
        }
    }
}

/// An OS guess for one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsGuess {
    /// OS family (`Linux`, `Windows 10/11`, `macOS/iOS`, ...).
    pub os: &'static str,
    /// What the guess rests on.
    pub basis: Basis,
    /// The initial TTL inferred (32, 64, 128 or 255).
    pub initial_ttl: u8,
    /// Hops between the host and the capture point (initial TTL − received TTL).
    pub hops: u8,
    /// The SYN it was made from, in [`TcpFingerprint`]'s text form.
    pub fingerprint: String,
}

/// One row of the signature table.
#[derive(Debug, Clone, Copy)]
pub struct Signature {
    /// The OS family named when the row matches.
    pub os: &'static str,
    /// Initial TTL the stack uses.
    pub initial_ttl: u8,
    /// Option layout, as [`TcpFingerprint::options_layout`] writes it.
    pub layout: &'static str,
    /// Windows the row accepts; empty for any.
    pub windows: &'static [u16],
}

/// The signature table, most specific rows first (the first match wins).
pub const SIGNATURES: &[Signature] = &[
    Signature {
        os: "Windows 10/11",
        initial_ttl: 128,
        layout: "mss,nop,ws,nop,nop,sok",
        windows: &[64240, 65535],
    },
    Signature {
        os: "Windows 7/8",
        initial_ttl: 128,
        layout: "mss,nop,ws,nop,nop,sok",
        windows: &[8192],
    },
    Signature {
        os: "Windows",
        initial_ttl: 128,
        layout: "mss,nop,ws,nop,nop,sok",
        windows: &[],
    },
    Signature {
        os: "Windows (timestamps on)",
        initial_ttl: 128,
        layout: "mss,nop,ws,nop,nop,ts,nop,nop,sok",
        windows: &[],
    },
    Signature {
        os: "Windows XP",
        initial_ttl: 128,
        layout: "mss,nop,nop,sok",
        windows: &[],
    },
    Signature {
        os: "Linux",
        initial_ttl: 64,
        layout: "mss,sok,ts,nop,ws",
        windows: &[],
    },
    Signature {
        os: "Linux (no timestamps)",
        initial_ttl: 64,
        layout: "mss,nop,nop,sok,nop,ws",
        windows: &[],
    },
    Signature {
        os: "macOS/iOS",
        initial_ttl: 64,
        layout: "mss,nop,ws,nop,nop,ts,sok,eol,eol",
        windows: &[],
    },
    Signature {
        os: "macOS/iOS",
        initial_ttl: 64,
        layout: "mss,nop,ws,nop,nop,ts,sok,eol",
        windows: &[],
    },
    Signature {
        os: "FreeBSD",
        initial_ttl: 64,
        layout: "mss,nop,ws,sok,ts",
        windows: &[],
    },
    Signature {
        os: "OpenBSD",
        initial_ttl: 64,
        layout: "mss,nop,nop,sok,nop,ws,nop,nop,ts",
        windows: &[],
    },
    Signature {
        os: "embedded stack",
        initial_ttl: 64,
        layout: "mss",
        windows: &[],
    },
    Signature {
        os: "embedded stack",
        initial_ttl: 32,
        layout: "mss",
        windows: &[],
    },
    Signature {
        os: "Cisco IOS / network device",
        initial_ttl: 255,
        layout: "mss",
        windows: &[],
    },
];

/// Initial TTLs, ascending.
const INITIAL_TTLS: [u8; 4] = [32, 64, 128, 255];

/// The initial TTL a received TTL most likely started from: the smallest common default
/// not below it.
#[must_use]
pub fn initial_ttl(ttl: u8) -> u8 {
    INITIAL_TTLS.into_iter().find(|t| *t >= ttl).unwrap_or(255)
}

/// The OS guess for a SYN (`None` for an IPv6 hop limit of 0 or other nonsense cannot
/// happen: every TTL maps to an initial TTL, so a guess always comes back).
#[must_use]
pub fn guess(syn: &TcpFingerprint) -> OsGuess {
    let ittl = initial_ttl(syn.ttl);
    let layout = syn.options_layout();
    let row = SIGNATURES.iter().find(|s| {
        s.initial_ttl == ittl
            && s.layout == layout
            && (s.windows.is_empty() || s.windows.contains(&syn.window))
    });
    let (os, basis) = match row {
        Some(s) => (s.os, Basis::Signature),
        None => (
            match ittl {
                128 => "Windows (by TTL)",
                255 => "network device or Solaris (by TTL)",
                _ => "Unix-like (by TTL)",
            },
            Basis::Ttl,
        ),
    };
    OsGuess {
        os,
        basis,
        initial_ttl: ittl,
        hops: ittl.saturating_sub(syn.ttl),
        fingerprint: syn.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trident_decode::TcpOptionKinds;

    fn syn(ttl: u8, window: u16, kinds: &[u8]) -> TcpFingerprint {
        let mut options = TcpOptionKinds::default();
        for k in kinds {
            options.push(*k);
        }
        TcpFingerprint {
            ip_version: 4,
            ttl,
            dont_fragment: true,
            window,
            mss: Some(1460),
            window_scale: Some(8),
            options,
            ip_len: 52,
        }
    }

    #[test]
    fn ttl_rounds_up_to_common_defaults() {
        assert_eq!(initial_ttl(64), 64);
        assert_eq!(initial_ttl(57), 64);
        assert_eq!(initial_ttl(65), 128);
        assert_eq!(initial_ttl(113), 128);
        assert_eq!(initial_ttl(200), 255);
        assert_eq!(initial_ttl(1), 32);
    }

    #[test]
    fn common_stacks() {
        // Layouts as RFC 793/7323 kinds: 2 mss, 1 nop, 3 ws, 4 sok, 8 ts, 0 eol.
        let win10 = guess(&syn(128, 64240, &[2, 1, 3, 1, 1, 4]));
        assert_eq!((win10.os, win10.basis), ("Windows 10/11", Basis::Signature));
        assert_eq!(
            guess(&syn(127, 8192, &[2, 1, 3, 1, 1, 4])).os,
            "Windows 7/8"
        );
        let linux = guess(&syn(61, 64240, &[2, 4, 8, 1, 3]));
        assert_eq!((linux.os, linux.hops), ("Linux", 3));
        assert_eq!(
            guess(&syn(64, 65535, &[2, 1, 3, 1, 1, 8, 4, 0, 0])).os,
            "macOS/iOS"
        );
        assert_eq!(
            guess(&syn(255, 4128, &[2])).os,
            "Cisco IOS / network device"
        );
        let odd = guess(&syn(50, 1024, &[2, 2, 2]));
        assert_eq!((odd.os, odd.basis), ("Unix-like (by TTL)", Basis::Ttl));
    }
}
