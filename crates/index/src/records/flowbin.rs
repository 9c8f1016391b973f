//! Format 2 of `flow_records.record`: a flow's JSON value in a compact binary form, written
//! straight from the record's `Serialize` (no JSON text, no compression) and read back as
//! the same JSON value.
//!
//! Format 1 (JSON text, LZ4 against a dictionary of the keys) spent about 3 µs per flow
//! formatting numbers as text and compressing them again: an eighth of an ingest's CPU on
//! the benchmark capture. Here a number is a varint or eight bytes and a key is one byte,
//! so a record is about as small as format 1's and costs a few hundred nanoseconds.
//!
//! # Layout
//! A value is a tag byte and its body:
//!
//! | tag | value | body |
//! |---|---|---|
//! | 0 | null | none |
//! | 1, 2 | false, true | none |
//! | 3 | integer ≥ 0 | LEB128 `u64` |
//! | 4 | integer < 0 | LEB128 of `!v` (so -1 is 0) |
//! | 5 | float | 8 bytes, IEEE 754 little-endian |
//! | 6 | string | LEB128 length, UTF-8 bytes |
//! | 7 | array | values, then tag 9 |
//! | 8 | object | entries, then key byte 255 |
//!
//! An entry is a key byte and a value. Key byte `k` in `1..=KEYS_V2.len()` stands for
//! `KEYS_V2[k - 1]`; key byte 0 is followed by the key written out (LEB128 length, UTF-8).
//! The table of a format byte never changes: a key added to flows later is written out
//! until a new format byte brings a new table.
//!
//! Values map to JSON as `serde_json` maps them: `None` and unit are null, enums' unit
//! variants their name, other variants `{variant: value}`, bytes an array of numbers, and
//! non-finite floats null.

use serde::Serialize;
use serde::ser::{self, Impossible};
use serde_json::{Map, Value};

/// Format byte of this layout.
pub const FORMAT_BIN_V2: u8 = 2;

/// The keys with a one-byte code in format 2 (code = index + 1): a flow record's columns
/// and its DHCP summaries' fields as of format 2. Frozen.
const KEYS_V2: [&str; 82] = [
    "id",
    "first_ts",
    "last_ts",
    "duration_ms",
    "end_reason",
    "conn_state",
    "ip_version",
    "protocol",
    "proto",
    "orig_ip",
    "orig_port",
    "resp_ip",
    "resp_port",
    "icmp_id",
    "vlan",
    "vlan_inner",
    "tunnel",
    "orig_mac",
    "resp_mac",
    "orig_pkts",
    "resp_pkts",
    "orig_bytes",
    "resp_bytes",
    "orig_ip_bytes",
    "resp_ip_bytes",
    "orig_payload_bytes",
    "resp_payload_bytes",
    "orig_ttl",
    "resp_ttl",
    "orig_size_min_bytes",
    "orig_size_max_bytes",
    "orig_size_mean_bytes",
    "orig_size_std_bytes",
    "resp_size_min_bytes",
    "resp_size_max_bytes",
    "resp_size_mean_bytes",
    "resp_size_std_bytes",
    "orig_iat_min_ms",
    "orig_iat_max_ms",
    "orig_iat_mean_ms",
    "orig_iat_std_ms",
    "resp_iat_min_ms",
    "resp_iat_max_ms",
    "resp_iat_mean_ms",
    "resp_iat_std_ms",
    "orig_syn_pkts",
    "orig_ack_pkts",
    "orig_fin_pkts",
    "orig_rst_pkts",
    "orig_psh_pkts",
    "orig_urg_pkts",
    "orig_ece_pkts",
    "orig_cwr_pkts",
    "resp_syn_pkts",
    "resp_ack_pkts",
    "resp_fin_pkts",
    "resp_rst_pkts",
    "resp_psh_pkts",
    "resp_urg_pkts",
    "resp_ece_pkts",
    "resp_cwr_pkts",
    "tcp_synack_ms",
    "tcp_ack_ms",
    "tcp_rtt_ms",
    "orig_syn",
    "resp_synack",
    "dns_queries",
    "mdns_names",
    "tls_sni",
    "tls_ja3",
    "tls_ja4",
    "http_host",
    "http_user_agent",
    "ssdp_server",
    "ssdp_location",
    "dhcp",
    "client_mac",
    "hostname",
    "vendor_class",
    "fingerprint",
    "requested_ip",
    "assigned_ip",
];

const T_NULL: u8 = 0;
const T_FALSE: u8 = 1;
const T_TRUE: u8 = 2;
const T_UINT: u8 = 3;
const T_NEGINT: u8 = 4;
const T_F64: u8 = 5;
const T_STR: u8 = 6;
const T_SEQ: u8 = 7;
const T_MAP: u8 = 8;
const T_END: u8 = 9;
const K_INLINE: u8 = 0;
const K_END: u8 = 255;

/// Nesting deeper than this is refused when reading (flow records nest two levels).
const MAX_DEPTH: usize = 32;

/// Why a value could not be written in format 2 (a type JSON has no form for, such as a
/// map with non-string keys); the caller falls back to format 1, which says the same to
/// `serde_json`.
#[derive(Debug)]
pub struct Unsupported(String);

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Unsupported(msg.to_string())
    }
}

/// Writes `value` in format 2 (format byte first) into `out`, which is cleared first.
///
/// # Errors
/// The value has a part JSON cannot hold; `out` is then in an unspecified state.
pub fn encode<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<(), Unsupported> {
    out.clear();
    out.push(FORMAT_BIN_V2);
    value.serialize(&mut Enc {
        out,
        scratch: String::new(),
        cursor: 0,
    })
}

/// Reads a format-2 body (after the format byte) back into its JSON value.
///
/// # Errors
/// The bytes are not a well-formed value (truncated, an unknown tag or key code, invalid
/// UTF-8, nesting too deep, or bytes after the value); the message says which and where.
pub fn decode(body: &[u8]) -> Result<Value, String> {
    let mut d = Dec { b: body, at: 0 };
    let v = d.value(0)?;
    if d.at != body.len() {
        return Err(format!("{} bytes after the value", body.len() - d.at));
    }
    Ok(v)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// The serializer. `cursor` is where the last key was found in [`KEYS_V2`]: a struct's
/// fields arrive in table order, so the next key is almost always at or just after it.
struct Enc<'a> {
    out: &'a mut Vec<u8>,
    scratch: String,
    cursor: usize,
}

impl Enc<'_> {
    fn key(&mut self, key: &str) {
        let n = KEYS_V2.len();
        for step in 0..n {
            let i = (self.cursor + step) % n;
            if KEYS_V2.get(i).is_some_and(|k| *k == key) {
                self.cursor = i + 1;
                // i < 82: the code fits a byte.
                self.out.push(u8::try_from(i + 1).unwrap_or(K_INLINE));
                return;
            }
        }
        self.out.push(K_INLINE);
        put_str(self.out, key);
    }

    fn int(&mut self, v: i64) {
        if v >= 0 {
            self.out.push(T_UINT);
            put_varint(self.out, v.unsigned_abs());
        } else {
            self.out.push(T_NEGINT);
            put_varint(self.out, (!v).unsigned_abs());
        }
    }

    fn uint(&mut self, v: u64) {
        self.out.push(T_UINT);
        put_varint(self.out, v);
    }

    fn float(&mut self, v: f64) {
        if v.is_finite() {
            self.out.push(T_F64);
            self.out.extend_from_slice(&v.to_le_bytes());
        } else {
            self.out.push(T_NULL);
        }
    }

    fn string(&mut self, s: &str) {
        self.out.push(T_STR);
        put_str(self.out, s);
    }
}

type R = Result<(), Unsupported>;

impl<'b, 'o> ser::Serializer for &'b mut Enc<'o> {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Seq<'b, 'o>;
    type SerializeTuple = Seq<'b, 'o>;
    type SerializeTupleStruct = Seq<'b, 'o>;
    type SerializeTupleVariant = Seq<'b, 'o>;
    type SerializeMap = MapEnc<'b, 'o>;
    type SerializeStruct = MapEnc<'b, 'o>;
    type SerializeStructVariant = MapEnc<'b, 'o>;

    fn serialize_bool(self, v: bool) -> R {
        self.out.push(if v { T_TRUE } else { T_FALSE });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> R {
        self.int(i64::from(v));
        Ok(())
    }
    fn serialize_i16(self, v: i16) -> R {
        self.int(i64::from(v));
        Ok(())
    }
    fn serialize_i32(self, v: i32) -> R {
        self.int(i64::from(v));
        Ok(())
    }
    fn serialize_i64(self, v: i64) -> R {
        self.int(v);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> R {
        self.uint(u64::from(v));
        Ok(())
    }
    fn serialize_u16(self, v: u16) -> R {
        self.uint(u64::from(v));
        Ok(())
    }
    fn serialize_u32(self, v: u32) -> R {
        self.uint(u64::from(v));
        Ok(())
    }
    fn serialize_u64(self, v: u64) -> R {
        self.uint(v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> R {
        // As JSON text would carry it: the shortest decimal of the f32, read as an f64.
        let wide = if v.is_finite() {
            v.to_string().parse::<f64>().unwrap_or(f64::from(v))
        } else {
            f64::NAN
        };
        self.float(wide);
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> R {
        self.float(v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> R {
        self.string(v.encode_utf8(&mut [0u8; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> R {
        self.string(v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> R {
        self.out.push(T_SEQ);
        for b in v {
            self.uint(u64::from(*b));
        }
        self.out.push(T_END);
        Ok(())
    }
    fn serialize_none(self) -> R {
        self.out.push(T_NULL);
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> R {
        value.serialize(self)
    }
    fn serialize_unit(self) -> R {
        self.out.push(T_NULL);
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> R {
        self.out.push(T_NULL);
        Ok(())
    }
    fn serialize_unit_variant(self, _n: &'static str, _i: u32, variant: &'static str) -> R {
        self.string(variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _n: &'static str, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _n: &'static str,
        _i: u32,
        variant: &'static str,
        value: &T,
    ) -> R {
        self.out.push(T_MAP);
        self.key(variant);
        value.serialize(&mut *self)?;
        self.out.push(K_END);
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Seq<'b, 'o>, Unsupported> {
        self.out.push(T_SEQ);
        Ok(Seq {
            enc: self,
            variant: false,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'b, 'o>, Unsupported> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _n: &'static str,
        len: usize,
    ) -> Result<Seq<'b, 'o>, Unsupported> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _n: &'static str,
        _i: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Seq<'b, 'o>, Unsupported> {
        self.out.push(T_MAP);
        self.key(variant);
        self.out.push(T_SEQ);
        Ok(Seq {
            enc: self,
            variant: true,
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<MapEnc<'b, 'o>, Unsupported> {
        self.out.push(T_MAP);
        Ok(MapEnc {
            enc: self,
            variant: false,
        })
    }
    fn serialize_struct(
        self,
        _n: &'static str,
        _len: usize,
    ) -> Result<MapEnc<'b, 'o>, Unsupported> {
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        _n: &'static str,
        _i: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<MapEnc<'b, 'o>, Unsupported> {
        self.out.push(T_MAP);
        self.key(variant);
        self.out.push(T_MAP);
        Ok(MapEnc {
            enc: self,
            variant: true,
        })
    }
    fn collect_str<T: std::fmt::Display + ?Sized>(self, value: &T) -> R {
        use std::fmt::Write as _;
        let mut s = std::mem::take(&mut self.scratch);
        s.clear();
        write!(s, "{value}").map_err(|e| Unsupported(e.to_string()))?;
        self.string(&s);
        self.scratch = s;
        Ok(())
    }
}

/// An array (or a tuple variant's array inside its one-key object).
struct Seq<'b, 'o> {
    enc: &'b mut Enc<'o>,
    variant: bool,
}

impl Seq<'_, '_> {
    fn elem<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        v.serialize(&mut *self.enc)
    }
    fn close(self) -> R {
        self.enc.out.push(T_END);
        if self.variant {
            self.enc.out.push(K_END);
        }
        Ok(())
    }
}

impl ser::SerializeSeq for Seq<'_, '_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        self.elem(v)
    }
    fn end(self) -> R {
        self.close()
    }
}

impl ser::SerializeTuple for Seq<'_, '_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        self.elem(v)
    }
    fn end(self) -> R {
        self.close()
    }
}

impl ser::SerializeTupleStruct for Seq<'_, '_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        self.elem(v)
    }
    fn end(self) -> R {
        self.close()
    }
}

impl ser::SerializeTupleVariant for Seq<'_, '_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        self.elem(v)
    }
    fn end(self) -> R {
        self.close()
    }
}

/// An object (or a struct variant's object inside its one-key object).
struct MapEnc<'b, 'o> {
    enc: &'b mut Enc<'o>,
    variant: bool,
}

impl MapEnc<'_, '_> {
    fn close(self) -> R {
        self.enc.out.push(K_END);
        if self.variant {
            self.enc.out.push(K_END);
        }
        Ok(())
    }
}

impl ser::SerializeMap for MapEnc<'_, '_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> R {
        key.serialize(KeyEnc(&mut *self.enc))
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        v.serialize(&mut *self.enc)
    }
    fn end(self) -> R {
        self.close()
    }
}

impl ser::SerializeStruct for MapEnc<'_, '_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> R {
        self.enc.key(key);
        v.serialize(&mut *self.enc)
    }
    fn end(self) -> R {
        self.close()
    }
}

impl ser::SerializeStructVariant for MapEnc<'_, '_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> R {
        self.enc.key(key);
        v.serialize(&mut *self.enc)
    }
    fn end(self) -> R {
        self.close()
    }
}

/// A map key: a string, or what `serde_json` turns into one (integers, chars, bools);
/// anything else is [`Unsupported`].
struct KeyEnc<'a, 'b>(&'a mut Enc<'b>);

impl KeyEnc<'_, '_> {
    fn text(self, s: &str) -> R {
        self.0.key(s);
        Ok(())
    }
}

fn no_key() -> Unsupported {
    Unsupported("a map key that is not a string".to_owned())
}

impl ser::Serializer for KeyEnc<'_, '_> {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Impossible<(), Unsupported>;
    type SerializeTuple = Impossible<(), Unsupported>;
    type SerializeTupleStruct = Impossible<(), Unsupported>;
    type SerializeTupleVariant = Impossible<(), Unsupported>;
    type SerializeMap = Impossible<(), Unsupported>;
    type SerializeStruct = Impossible<(), Unsupported>;
    type SerializeStructVariant = Impossible<(), Unsupported>;

    fn serialize_str(self, v: &str) -> R {
        self.text(v)
    }
    fn serialize_char(self, v: char) -> R {
        self.text(v.encode_utf8(&mut [0u8; 4]))
    }
    fn serialize_bool(self, v: bool) -> R {
        self.text(if v { "true" } else { "false" })
    }
    fn serialize_i8(self, v: i8) -> R {
        self.text(&v.to_string())
    }
    fn serialize_i16(self, v: i16) -> R {
        self.text(&v.to_string())
    }
    fn serialize_i32(self, v: i32) -> R {
        self.text(&v.to_string())
    }
    fn serialize_i64(self, v: i64) -> R {
        self.text(&v.to_string())
    }
    fn serialize_u8(self, v: u8) -> R {
        self.text(&v.to_string())
    }
    fn serialize_u16(self, v: u16) -> R {
        self.text(&v.to_string())
    }
    fn serialize_u32(self, v: u32) -> R {
        self.text(&v.to_string())
    }
    fn serialize_u64(self, v: u64) -> R {
        self.text(&v.to_string())
    }
    fn serialize_f32(self, _v: f32) -> R {
        Err(no_key())
    }
    fn serialize_f64(self, _v: f64) -> R {
        Err(no_key())
    }
    fn serialize_bytes(self, _v: &[u8]) -> R {
        Err(no_key())
    }
    fn serialize_none(self) -> R {
        Err(no_key())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _v: &T) -> R {
        Err(no_key())
    }
    fn serialize_unit(self) -> R {
        Err(no_key())
    }
    fn serialize_unit_struct(self, _n: &'static str) -> R {
        Err(no_key())
    }
    fn serialize_unit_variant(self, _n: &'static str, _i: u32, variant: &'static str) -> R {
        self.text(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _n: &'static str, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _n: &'static str,
        _i: u32,
        _variant: &'static str,
        _v: &T,
    ) -> R {
        Err(no_key())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Unsupported> {
        Err(no_key())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Unsupported> {
        Err(no_key())
    }
    fn serialize_tuple_struct(
        self,
        _n: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Unsupported> {
        Err(no_key())
    }
    fn serialize_tuple_variant(
        self,
        _n: &'static str,
        _i: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Unsupported> {
        Err(no_key())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Unsupported> {
        Err(no_key())
    }
    fn serialize_struct(
        self,
        _n: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Unsupported> {
        Err(no_key())
    }
    fn serialize_struct_variant(
        self,
        _n: &'static str,
        _i: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Unsupported> {
        Err(no_key())
    }
}

/// The reader: `b[at..]` is what is left.
struct Dec<'a> {
    b: &'a [u8],
    at: usize,
}

impl Dec<'_> {
    fn byte(&mut self) -> Result<u8, String> {
        let v = self
            .b
            .get(self.at)
            .copied()
            .ok_or_else(|| format!("truncated at byte {}", self.at))?;
        self.at += 1;
        Ok(v)
    }

    fn varint(&mut self) -> Result<u64, String> {
        let start = self.at;
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                // The tenth byte may carry only the top bit.
                if shift == 63 && b > 1 {
                    break;
                }
                return Ok(v);
            }
        }
        Err(format!("integer at byte {start} is too long"))
    }

    fn take(&mut self, n: u64) -> Result<&[u8], String> {
        let start = self.at;
        let end = usize::try_from(n)
            .ok()
            .and_then(|n| start.checked_add(n))
            .filter(|&e| e <= self.b.len())
            .ok_or_else(|| format!("length {n} at byte {start} runs past the end"))?;
        self.at = end;
        self.b
            .get(start..end)
            .ok_or_else(|| format!("truncated at byte {start}"))
    }

    fn string(&mut self) -> Result<String, String> {
        let start = self.at;
        let n = self.varint()?;
        let bytes = self.take(n)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|e| format!("string at byte {start}: {e}"))
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        let at = self.at;
        let tag = self.byte()?;
        Ok(match tag {
            T_NULL => Value::Null,
            T_FALSE => Value::Bool(false),
            T_TRUE => Value::Bool(true),
            T_UINT => Value::from(self.varint()?),
            T_NEGINT => {
                let v = self.varint()?;
                let v = i64::try_from(v).map_err(|_| format!("integer at byte {at} overflows"))?;
                Value::from(!v)
            }
            T_F64 => {
                let bytes: [u8; 8] = self
                    .take(8)?
                    .try_into()
                    .map_err(|_| format!("truncated float at byte {at}"))?;
                let f = f64::from_le_bytes(bytes);
                serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
            }
            T_STR => Value::String(self.string()?),
            T_SEQ | T_MAP if depth >= MAX_DEPTH => {
                return Err(format!("nesting deeper than {MAX_DEPTH} at byte {at}"));
            }
            T_SEQ => {
                let mut items = Vec::new();
                while self.b.get(self.at) != Some(&T_END) {
                    items.push(self.value(depth + 1)?);
                }
                self.at += 1;
                Value::Array(items)
            }
            T_MAP => {
                let mut map = Map::new();
                loop {
                    let kat = self.at;
                    let key = match self.byte()? {
                        K_END => break,
                        K_INLINE => self.string()?,
                        k => KEYS_V2
                            .get(usize::from(k) - 1)
                            .map(|s| (*s).to_owned())
                            .ok_or_else(|| format!("unknown key code {k} at byte {kat}"))?,
                    };
                    let v = self.value(depth + 1)?;
                    map.insert(key, v);
                }
                Value::Object(map)
            }
            other => return Err(format!("unknown tag {other} at byte {at}")),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed expectation is a failed test

    use super::*;
    use serde_json::json;

    fn round(v: &Value) -> Value {
        let mut out = Vec::new();
        encode(v, &mut out).unwrap();
        assert_eq!(out[0], FORMAT_BIN_V2);
        decode(&out[1..]).unwrap()
    }

    #[test]
    fn every_kind_of_value_round_trips() {
        let v = json!({
            "id": "46ad382d0128b81e",
            "orig_pkts": 12,
            "big": u64::MAX,
            "neg": -1,
            "most_neg": i64::MIN,
            "duration_ms": 0.0,
            "mean": 110.86325000000001,
            "tiny": -2.5e-300,
            "flag": true,
            "off": false,
            "nothing": null,
            "dns_queries": ["example.com", "ünïcode.example"],
            "dhcp": [{"client_mac": "00:11:22:33:44:55", "hostname": "printer"}],
            "a key not in the table": {"nested": [[1, 2], [], {}]},
            "": ""
        });
        assert_eq!(round(&v), v);
    }

    #[derive(Serialize)]
    enum E {
        Unit,
        New(u8),
        Tuple(u8, i8),
        Struct { a: Option<u8>, b: Option<u8> },
    }

    #[derive(Serialize)]
    struct S<'a> {
        e: Vec<E>,
        bytes: &'a serde_bytes_like::Bytes,
        c: char,
        f: f32,
        nan: f64,
        unit: (),
        m: std::collections::BTreeMap<u16, &'a str>,
    }

    mod serde_bytes_like {
        /// Serializes through `serialize_bytes`.
        pub struct Bytes(pub Vec<u8>);
        impl serde::Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(&self.0)
            }
        }
    }

    /// Each serde shape reads back as `serde_json` writes it as text.
    #[test]
    fn serde_shapes_match_json_text() {
        let s = S {
            e: vec![
                E::Unit,
                E::New(7),
                E::Tuple(1, -2),
                E::Struct {
                    a: Some(1),
                    b: None,
                },
            ],
            bytes: &serde_bytes_like::Bytes(vec![0, 255]),
            c: 'é',
            f: 0.1,
            nan: f64::NAN,
            unit: (),
            m: [(443, "https"), (22, "ssh")].into_iter().collect(),
        };
        let text: Value = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        let mut out = Vec::new();
        encode(&s, &mut out).unwrap();
        assert_eq!(decode(&out[1..]).unwrap(), text);
    }

    #[test]
    fn non_string_keys_are_refused() {
        let m: std::collections::BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into_iter().collect();
        assert!(encode(&m, &mut Vec::new()).is_err());
    }

    /// Every cut of a record, and every byte changed, is an error or a value: never a
    /// panic; cuts are always errors.
    #[test]
    fn damaged_bodies_are_errors() {
        let v = json!({"id": "x", "orig_pkts": 300, "mean": 1.5, "dns_queries": ["a"],
                       "unlisted": {"k": [true, null, -7]}});
        let mut out = Vec::new();
        encode(&v, &mut out).unwrap();
        let body = &out[1..];
        for n in 0..body.len() {
            assert!(decode(&body[..n]).is_err(), "cut at {n}");
        }
        for i in 0..body.len() {
            for x in [0u8, 1, 9, 0x7f, 0x80, 0xff] {
                let mut b = body.to_vec();
                b[i] = x;
                let _ = decode(&b);
            }
        }
        let mut extra = body.to_vec();
        extra.push(0);
        assert!(decode(&extra).unwrap_err().contains("after the value"));
        assert!(
            decode(&[
                T_UINT, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f
            ])
            .is_err()
        );
        assert!(
            decode(&[T_MAP, 200, T_NULL, K_END])
                .unwrap_err()
                .contains("key code 200")
        );
        let deep: Vec<u8> = std::iter::repeat_n(T_SEQ, 40).collect();
        assert!(decode(&deep).unwrap_err().contains("nesting"));
    }
}
