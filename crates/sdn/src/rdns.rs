//! Optional reverse DNS names for endpoints (Poseidon's `ipv4_rdns` / `ipv6_rdns`), off by
//! default (`rdns = true` or `trident sdn run --rdns`).
//!
//! Lookups go through the system resolver (`getent hosts <ip>`: glibc's NSS, so
//! `/etc/hosts`, DNS and whatever `nsswitch.conf` lists), one process per address, each
//! bounded by a timeout (killed when it expires). Answers, including "no name", are cached
//! for [`TTL`]; the cache is bounded ([`MAX_ENTRIES`], cleared when full). trident forbids
//! `unsafe`, which rules out calling `getnameinfo` directly, and a DNS-only client would
//! miss `/etc/hosts` and local naming.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an answer is kept.
pub const TTL: Duration = Duration::from_secs(3600);
/// At most this many cached addresses.
pub const MAX_ENTRIES: usize = 65_536;

/// A reverse-DNS resolver with a timeout and a cache.
#[derive(Debug)]
pub struct Rdns {
    timeout: Duration,
    cache: Mutex<HashMap<IpAddr, (Option<String>, Instant)>>,
}

/// Counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RdnsStats {
    /// Answers from the cache.
    pub cached: u64,
    /// Lookups made.
    pub looked_up: u64,
    /// Lookups that timed out.
    pub timeouts: u64,
}

impl Rdns {
    /// A resolver whose lookups give up after `timeout`.
    #[must_use]
    pub fn new(timeout: Duration) -> Rdns {
        Rdns {
            timeout,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The cached answer, if fresh: `Some(None)` = looked up, no name.
    #[must_use]
    pub fn cached(&self, ip: IpAddr) -> Option<Option<String>> {
        let c = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        c.get(&ip)
            .filter(|(_, t)| t.elapsed() < TTL)
            .map(|(n, _)| n.clone())
    }

    /// The name of `ip` (cached, or looked up within the timeout). `None`: no name, or the
    /// lookup failed or timed out (also cached, so a dead resolver costs one timeout per
    /// address per [`TTL`]).
    pub async fn lookup(&self, ip: IpAddr) -> Option<String> {
        if let Some(hit) = self.cached(ip) {
            return hit;
        }
        let name = self.resolve(ip).await;
        let mut c = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if c.len() >= MAX_ENTRIES {
            c.clear();
        }
        c.insert(ip, (name.clone(), Instant::now()));
        name
    }

    async fn resolve(&self, ip: IpAddr) -> Option<String> {
        let child = tokio::process::Command::new("getent")
            .arg("hosts")
            .arg(ip.to_string())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn();
        let child = match child {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("reverse DNS: running getent: {e}");
                return None;
            }
        };
        let out = match tokio::time::timeout(self.timeout, child.wait_with_output()).await {
            Ok(Ok(o)) if o.status.success() => o,
            Ok(_) => return None,
            Err(_) => {
                tracing::debug!(%ip, "reverse DNS lookup timed out");
                return None;
            }
        };
        parse_getent(&String::from_utf8_lossy(&out.stdout))
    }
}

/// The first name of `getent hosts` output (`<ip> <name> [aliases]`).
#[must_use]
pub fn parse_getent(out: &str) -> Option<String> {
    out.lines()
        .next()?
        .split_whitespace()
        .nth(1)
        .map(|n| n.trim_end_matches('.').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn getent_output() {
        assert_eq!(
            parse_getent("127.0.0.1       localhost\n").as_deref(),
            Some("localhost")
        );
        assert_eq!(parse_getent(""), None);
    }
}
