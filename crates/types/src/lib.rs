//! Small values shared by every trident stage.
//!
//! These types cross crate boundaries (capture hands a [`Timestamp`] and a [`LinkType`] to
//! decode, decode hands [`MacAddr`]s to flow and host), so they live here, in a crate with no
//! dependencies, and every stage can name them without depending on a stage to its right.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::fmt;

/// A packet time: nanoseconds since the Unix epoch, UTC.
///
/// Signed, because pcapng's `if_tsoffset` and hand-edited captures can put packets before
/// 1970, and an `i64` of nanoseconds reaches the year 2262, past any capture format's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Nanoseconds in one second.
    pub const NANOS_PER_SEC: i64 = 1_000_000_000;

    /// Builds a timestamp from whole seconds and a nanosecond fraction.
    #[must_use]
    pub const fn from_secs_nanos(secs: i64, nanos: u32) -> Self {
        Timestamp(
            secs.saturating_mul(Self::NANOS_PER_SEC)
                .saturating_add(nanos as i64),
        )
    }

    /// Nanoseconds since the epoch.
    #[must_use]
    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// Whole seconds since the epoch (rounded towards negative infinity).
    #[must_use]
    pub const fn secs(self) -> i64 {
        self.0.div_euclid(Self::NANOS_PER_SEC)
    }

    /// The nanosecond part, always in `0..1_000_000_000`.
    #[must_use]
    pub const fn subsec_nanos(self) -> u32 {
        self.0.rem_euclid(Self::NANOS_PER_SEC) as u32
    }

    /// Civil UTC date and time of this timestamp: `(year, month, day, hour, minute, second)`.
    ///
    /// Uses Howard Hinnant's days-to-civil algorithm, so no time-zone database is consulted:
    /// trident's output never depends on the machine's local zone.
    #[must_use]
    pub const fn utc_civil(self) -> (i64, u32, u32, u32, u32, u32) {
        let secs = self.secs();
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
        (
            y,
            m,
            d,
            (sod / 3600) as u32,
            ((sod % 3600) / 60) as u32,
            (sod % 60) as u32,
        )
    }
}

/// RFC 3339 with nanoseconds, always UTC: `2014-08-26T14:00:00.123456789Z`.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s) = self.utc_civil();
        let ns = self.subsec_nanos();
        match u32::try_from(y) {
            // Digits written straight into a buffer: flow records and JSON output format
            // two timestamps per row, and `write!` with nine width specs costs more than
            // the rest of the row.
            Ok(y) if y <= 9999 => {
                let mut b = *b"0000-00-00T00:00:00.000000000Z";
                put_digits(&mut b[0..4], y);
                put_digits(&mut b[5..7], mo);
                put_digits(&mut b[8..10], d);
                put_digits(&mut b[11..13], h);
                put_digits(&mut b[14..16], mi);
                put_digits(&mut b[17..19], s);
                put_digits(&mut b[20..29], ns);
                f.write_str(std::str::from_utf8(&b).map_err(|_| fmt::Error)?)
            }
            _ => write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ns:09}Z"),
        }
    }
}

/// Writes the low decimal digits of `v` into `out`, zero-padded to its length.
fn put_digits(out: &mut [u8], mut v: u32) {
    for c in out.iter_mut().rev() {
        // `v % 10` is below 10, so the digit is ASCII.
        *c = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// A 48-bit IEEE 802 MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// Reads a MAC from the first six bytes of `bytes`, or `None` if there are fewer.
    #[must_use]
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.first_chunk::<6>().map(|b| MacAddr(*b))
    }

    /// True for group (multicast and broadcast) addresses: the I/G bit is set.
    #[must_use]
    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }

    /// True for `ff:ff:ff:ff:ff:ff`.
    #[must_use]
    pub const fn is_broadcast(&self) -> bool {
        matches!(self.0, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
    }

    /// The organisationally unique identifier: the first three bytes.
    #[must_use]
    pub const fn oui(&self) -> [u8; 3] {
        [self.0[0], self.0[1], self.0[2]]
    }
}

/// Lower-case, colon-separated: `00:1b:21:3a:4f:5c` (the form tshark and Faucet print).
impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = *b"00:00:00:00:00:00";
        for (i, byte) in self.0.into_iter().enumerate() {
            out[i * 3] = HEX[usize::from(byte >> 4)];
            out[i * 3 + 1] = HEX[usize::from(byte & 0xf)];
        }
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

/// A capture link-layer header type, as numbered by tcpdump.org's LINKTYPE_ registry
/// (the number stored in pcap file headers and pcapng interface blocks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct LinkType(pub u16);

impl LinkType {
    /// BSD loopback: a 4-byte address family in the host's byte order.
    pub const NULL: LinkType = LinkType(0);
    /// Ethernet II and 802.3.
    pub const ETHERNET: LinkType = LinkType(1);
    /// PPP in HDLC-like framing (RFC 1662) or bare PPP protocol field.
    pub const PPP: LinkType = LinkType(9);
    /// Raw IP as numbered by some old BSDs (DLT_RAW 12/14 map here too).
    pub const RAW_LEGACY: LinkType = LinkType(12);
    /// PPPoE session frames without Ethernet (LINKTYPE_PPP_ETHER).
    pub const PPP_ETHER: LinkType = LinkType(51);
    /// Raw IPv4 or IPv6, version from the first nibble.
    pub const RAW: LinkType = LinkType(101);
    /// IEEE 802.11 without a radio header.
    pub const IEEE802_11: LinkType = LinkType(105);
    /// OpenBSD loopback: a 4-byte address family in network byte order.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux "cooked" capture, version 1.
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// IEEE 802.11 preceded by a radiotap header.
    pub const IEEE802_11_RADIOTAP: LinkType = LinkType(127);
    /// Raw IPv4 only.
    pub const IPV4: LinkType = LinkType(228);
    /// Raw IPv6 only.
    pub const IPV6: LinkType = LinkType(229);
    /// Linux "cooked" capture, version 2.
    pub const LINUX_SLL2: LinkType = LinkType(276);

    /// A short lower-case name, as tshark and capinfos spell it where they agree.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self.0 {
            0 => "null",
            1 => "ether",
            9 => "ppp",
            12 | 14 => "rawip",
            51 => "pppoe",
            101 => "rawip",
            105 => "ieee-802-11",
            108 => "loop",
            113 => "linux-sll",
            127 => "ieee-802-11-radiotap",
            228 => "rawip4",
            229 => "rawip6",
            276 => "linux-sll2",
            _ => "other",
        }
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            "other" => write!(f, "linktype-{}", self.0),
            n => f.write_str(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            Timestamp::from_secs_nanos(1_409_061_600, 5).to_string(),
            "2014-08-26T14:00:00.000000005Z"
        );
        assert_eq!(
            Timestamp::from_secs_nanos(951_782_400, 0).utc_civil(),
            (2000, 2, 29, 0, 0, 0)
        );
        assert_eq!(Timestamp(-1).utc_civil(), (1969, 12, 31, 23, 59, 59));
        assert_eq!(Timestamp(-1).subsec_nanos(), 999_999_999);
        assert_eq!(
            Timestamp::from_secs_nanos(4_294_967_295, 0).utc_civil(),
            (2106, 2, 7, 6, 28, 15)
        );
        // The ends of the range (nanoseconds in an i64).
        assert_eq!(
            Timestamp(i64::MIN).to_string(),
            "1677-09-21T00:12:43.145224192Z"
        );
        assert_eq!(
            Timestamp(i64::MAX).to_string(),
            "2262-04-11T23:47:16.854775807Z"
        );
    }

    #[test]
    fn mac_display_and_bits() {
        let m = MacAddr([0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb]);
        assert_eq!(m.to_string(), "01:00:5e:00:00:fb");
        assert_eq!(
            MacAddr([0xff, 0xa0, 0x0a, 0x9f, 0xf9, 0x10]).to_string(),
            "ff:a0:0a:9f:f9:10"
        );
        assert!(m.is_multicast());
        assert!(!m.is_broadcast());
        assert!(MacAddr([0xff; 6]).is_broadcast());
        assert_eq!(MacAddr::from_slice(&[1, 2, 3]), None);
    }
}
