//! The number and string formats networkML's output passes through, reproduced exactly.
//!
//! networkML writes features to a CSV with Python's `str()` (the shortest round-trip
//! `repr`), reads them back with pandas' C float parser (which is not correctly rounded),
//! and prints its results with `json.dumps`. Parity to the last bit means doing the same
//! three things: [`write_repr`], [`pandas_xstrtod`] (so [`csv_round_trip`]) and
//! [`write_json_str`].

use std::fmt::Write as _;
use std::sync::OnceLock;

/// Python prints a float in positional notation when its decimal point position (the
/// exponent of `0.d1d2... × 10^decpt`) is in `(REPR_MIN_DECPT, REPR_MAX_DECPT]`, otherwise
/// in scientific notation (CPython `format_float_short`, mode `'r'`).
const REPR_MIN_DECPT: i32 = -4;
/// See [`REPR_MIN_DECPT`].
const REPR_MAX_DECPT: i32 = 16;
/// pandas' `precise_xstrtod` accumulates at most this many significant digits.
const XSTRTOD_MAX_DIGITS: u32 = 17;
/// The largest power of ten in pandas' table (`1e308`).
const XSTRTOD_MAX_EXP: i32 = 308;
/// Below this exponent pandas returns 0 instead of indexing past its table.
const XSTRTOD_MIN_EXP: i32 = -616;
/// Doubles below this magnitude are integers represented exactly, so their text form is
/// parsed exactly by pandas and the CSV round trip leaves them unchanged.
const EXACT_INT_LIMIT: f64 = 9_007_199_254_740_992.0;

/// Appends Python's `repr(v)` of a float: `1.0`, `0.0`, `230.0`, `2.7e-05`,
/// `6.51260618334528e-06`, `1e+16`, `nan`, `inf`.
pub fn write_repr(v: f64, out: &mut String) {
    if v.is_nan() {
        out.push_str("nan");
        return;
    }
    if v.is_infinite() {
        out.push_str(if v > 0.0 { "inf" } else { "-inf" });
        return;
    }
    if v == 0.0 {
        out.push_str(if v.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    // Rust's `{:e}` gives the shortest round-trip digits, as Python's repr does; only the
    // layout differs.
    let mut sci = String::new();
    let _ = write!(sci, "{:e}", v.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let decpt = exp + 1;
    if v < 0.0 {
        out.push('-');
    }
    let n = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    if decpt > REPR_MIN_DECPT && decpt <= REPR_MAX_DECPT {
        if decpt <= 0 {
            out.push_str("0.");
            for _ in 0..-decpt {
                out.push('0');
            }
            out.push_str(&digits);
        } else if decpt >= n {
            out.push_str(&digits);
            for _ in 0..decpt - n {
                out.push('0');
            }
            out.push_str(".0");
        } else {
            let (int_part, frac) = digits.split_at(usize::try_from(decpt).unwrap_or(0));
            out.push_str(int_part);
            out.push('.');
            out.push_str(frac);
        }
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let e = decpt - 1;
        let _ = write!(
            out,
            "e{}{:02}",
            if e < 0 { '-' } else { '+' },
            e.unsigned_abs()
        );
    }
}

/// Python's `repr(v)` as a new string.
#[must_use]
pub fn repr(v: f64) -> String {
    let mut s = String::new();
    write_repr(v, &mut s);
    s
}

/// The doubles nearest to `10^0 ..= 10^308`, as a C compiler rounds the literals of
/// pandas' table (exact only up to `1e22`).
fn powers_of_ten() -> &'static [f64] {
    static TABLE: OnceLock<Vec<f64>> = OnceLock::new();
    TABLE.get_or_init(|| {
        (0..=XSTRTOD_MAX_EXP)
            .map(|n| format!("1e{n}").parse::<f64>().unwrap_or(f64::INFINITY))
            .collect()
    })
}

/// The table entry `1e<n>` for `0 <= n <= 308`.
fn pow10(n: i32) -> f64 {
    usize::try_from(n)
        .ok()
        .and_then(|i| powers_of_ten().get(i).copied())
        .unwrap_or(f64::INFINITY)
}

/// Parses a decimal the way pandas 1.4's default C parser (`precise_xstrtod`) does, which
/// is what networkML's algorithm stage reads its feature CSV with. `None` when the text has
/// no digits or overflows.
///
/// Digits are accumulated into a double (`number * 10 + digit`, at most 17 of them,
/// leading zeros included), then scaled once by a power of ten from a table, so the result
/// can be off by an ulp or more from the correctly rounded value for long mantissas.
#[must_use]
pub fn pandas_xstrtod(text: &str) -> Option<f64> {
    let mut bytes = text.trim_start().bytes().peekable();
    let mut negative = false;
    match bytes.peek() {
        Some(b'-') => {
            negative = true;
            bytes.next();
        }
        Some(b'+') => {
            bytes.next();
        }
        _ => {}
    }
    let mut number = 0.0f64;
    let mut exponent: i32 = 0;
    let mut num_digits: u32 = 0;
    while let Some(&b) = bytes.peek() {
        if !b.is_ascii_digit() {
            break;
        }
        if num_digits < XSTRTOD_MAX_DIGITS {
            number = number * 10.0 + f64::from(b - b'0');
            num_digits += 1;
        } else {
            exponent = exponent.saturating_add(1);
        }
        bytes.next();
    }
    if bytes.peek() == Some(&b'.') {
        bytes.next();
        let mut num_decimals: i32 = 0;
        while let Some(&b) = bytes.peek() {
            if num_digits >= XSTRTOD_MAX_DIGITS || !b.is_ascii_digit() {
                break;
            }
            number = number * 10.0 + f64::from(b - b'0');
            num_digits += 1;
            num_decimals += 1;
            bytes.next();
        }
        while bytes.peek().is_some_and(u8::is_ascii_digit) {
            bytes.next();
        }
        exponent -= num_decimals;
    }
    if num_digits == 0 {
        return None;
    }
    if negative {
        number = -number;
    }
    if matches!(bytes.peek(), Some(b'e' | b'E')) {
        bytes.next();
        let mut exp_negative = false;
        match bytes.peek() {
            Some(b'-') => {
                exp_negative = true;
                bytes.next();
            }
            Some(b'+') => {
                bytes.next();
            }
            _ => {}
        }
        let mut n: i32 = 0;
        let mut exp_digits = 0;
        while let Some(&b) = bytes.peek() {
            if exp_digits >= XSTRTOD_MAX_DIGITS || !b.is_ascii_digit() {
                break;
            }
            n = n.saturating_mul(10).saturating_add(i32::from(b - b'0'));
            exp_digits += 1;
            bytes.next();
        }
        exponent = if exp_negative {
            exponent.saturating_sub(n)
        } else {
            exponent.saturating_add(n)
        };
    }
    if exponent > XSTRTOD_MAX_EXP {
        return None;
    }
    if exponent > 0 {
        number *= pow10(exponent);
    } else if exponent < -XSTRTOD_MAX_EXP {
        if exponent < XSTRTOD_MIN_EXP {
            number = 0.0;
        } else {
            number /= pow10(-XSTRTOD_MAX_EXP - exponent);
            number /= pow10(XSTRTOD_MAX_EXP);
        }
    } else {
        number /= pow10(-exponent);
    }
    if number.is_infinite() {
        return None;
    }
    Some(number)
}

/// The value networkML's model sees for a feature the featurizer computed as `v`: written
/// with Python `str()`, read back by pandas. Integral values (counts, flags, lengths) come
/// back unchanged; long fractions may move by an ulp.
#[must_use]
pub fn csv_round_trip(v: f64) -> f64 {
    if !v.is_finite() || (v.fract() == 0.0 && v.abs() < EXACT_INT_LIMIT) {
        return v;
    }
    pandas_xstrtod(&repr(v)).unwrap_or(v)
}

/// Appends `s` as a JSON string the way Python's `json.dumps` writes it (`ensure_ascii`:
/// every non-ASCII character as `\uXXXX`, astral ones as a surrogate pair).
pub fn write_json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// Appends a float as `json.dumps` writes it: `repr`, except non-finite values, which
/// Python spells `NaN`, `Infinity`, `-Infinity`.
pub fn write_json_f64(v: f64, out: &mut String) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "Infinity" } else { "-Infinity" });
    } else {
        write_repr(v, out);
    }
}

/// tshark's `frame.time_epoch` for a timestamp in nanoseconds, as networkML reads it:
/// `float("<secs>.<9 digits>")`, correctly rounded (not `secs + ns / 1e9` in doubles).
#[must_use]
pub fn epoch_seconds(nanos: i64) -> f64 {
    const NANOS_PER_SEC: u64 = 1_000_000_000;
    let abs = nanos.unsigned_abs();
    let text = format!(
        "{}{}.{:09}",
        if nanos < 0 { "-" } else { "" },
        abs / NANOS_PER_SEC,
        abs % NANOS_PER_SEC
    );
    text.parse().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_matches_python() {
        // Expected strings are what CPython 3.8+ prints for these literals.
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (230.0, "230.0"),
            (2.7e-05, "2.7e-05"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (6.51260618334528e-06, "6.51260618334528e-06"),
            (7.438066929272664e-112, "7.438066929272664e-112"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (205911145.33210835, "205911145.33210835"),
            (1581109496.480905, "1581109496.480905"),
            (0.9999934688778187, "0.9999934688778187"),
            (-1.5, "-1.5"),
            (0.1, "0.1"),
            (f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
        ];
        for &(v, want) in cases {
            assert_eq!(repr(v), want, "repr of {v:e}");
        }
    }

    #[test]
    fn xstrtod_exact_cases_agree_with_correct_rounding() {
        // Up to 15 significant digits and small exponents the accumulator is exact, so the
        // result must equal the correctly rounded parse.
        for s in [
            "1581109496.480905",
            "0.000027",
            "230.0",
            "2.7e-05",
            "-12.5",
            "1e22",
        ] {
            let want: f64 = s.parse().unwrap_or(f64::NAN);
            assert_eq!(pandas_xstrtod(s), Some(want), "{s}");
        }
    }

    #[test]
    fn xstrtod_is_not_correctly_rounded_for_long_mantissas() {
        // 17 digits then one division by 1e8: the accumulated 17-digit integer is above
        // 2^53 and was already rounded once, so double rounding moves the result.
        let mut differing = 0;
        for i in 0..2000u64 {
            let s = format!("1234567890.{:08}1", i * 4_999 + 17);
            let pandas = pandas_xstrtod(&s).unwrap_or(f64::NAN);
            let exact: f64 = s.parse().unwrap_or(f64::NAN);
            assert!((pandas - exact).abs() <= 4.0 * exact.abs() * f64::EPSILON);
            if pandas != exact {
                differing += 1;
            }
        }
        assert!(differing > 0, "expected some double-rounded results");
    }

    #[test]
    fn xstrtod_rejects_empty_and_handles_exponents() {
        assert_eq!(pandas_xstrtod(""), None);
        assert_eq!(pandas_xstrtod("-"), None);
        assert_eq!(pandas_xstrtod("1e309"), None);
        assert_eq!(pandas_xstrtod("1e-700"), Some(0.0));
        assert_eq!(pandas_xstrtod("5e-324").map(f64::to_bits), Some(1));
    }

    #[test]
    fn json_strings_escape_like_python() {
        let mut s = String::new();
        write_json_str("a\"b\\c\nd\u{1}é😀", &mut s);
        assert_eq!(s, r#""a\"b\\c\nd\u0001\u00e9\ud83d\ude00""#);
    }

    #[test]
    fn epoch_is_parsed_from_nine_decimals() {
        assert_eq!(epoch_seconds(1_581_109_496_480_905_000), 1581109496.480905);
        assert_eq!(epoch_seconds(-1_500_000_000), -1.5);
        assert_eq!(epoch_seconds(0), 0.0);
    }
}
