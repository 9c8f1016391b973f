//! `trident top`, `trident series`, `trident parallel` and `trident isn`: questions answered
//! from the index that `trident ingest` built, the same from the embedded store and from
//! Redis.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use trident_index::{
    Field, IsnSample, Period, TopQuery, annotate, days_in_month, parse_day, parse_month,
};
use trident_types::MacAddr;

use crate::EXIT_OK;
use crate::EXIT_USAGE;
use crate::ingest_cmd::StoreArgs;

/// Output formats of the query commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum QueryFormat {
    /// Aligned columns for people.
    Table,
    /// One JSON array.
    Json,
    /// Comma-separated values with a header line.
    Csv,
    /// potiron's exporter CSV files (`id,value`, each row twice, potiron's file names),
    /// written into `--output-dir`.
    #[value(name = "potiron-csv")]
    PotironCsv,
}

/// The days a query covers: exactly one of `--day`, `--month`, `--year`, `--from`/`--to`.
#[derive(Args, Clone)]
pub struct PeriodArgs {
    /// One UTC day, YYYY-MM-DD.
    #[arg(long, group = "period")]
    day: Option<String>,
    /// One month, YYYY-MM.
    #[arg(long, group = "period")]
    month: Option<String>,
    /// One year, YYYY.
    #[arg(long, group = "period")]
    year: Option<String>,
    /// First day, YYYY-MM-DD (with --to; inclusive).
    #[arg(long, group = "period", requires = "to")]
    from: Option<String>,
    /// Last day, YYYY-MM-DD (inclusive).
    #[arg(long, requires = "from")]
    to: Option<String>,
}

impl PeriodArgs {
    /// The period, or `None` after printing why.
    fn period(&self) -> Option<Period> {
        let day = |what: &str, d: &str| {
            let p = parse_day(d);
            if p.is_none() {
                eprintln!("trident: --{what} wants YYYY-MM-DD, got {d:?}");
            }
            p
        };
        if let Some(d) = &self.day {
            return day("day", d).map(Period::Day);
        }
        if let Some(m) = &self.month {
            return parse_month(m).map(Period::Month).or_else(|| {
                eprintln!("trident: --month wants YYYY-MM, got {m:?}");
                None
            });
        }
        if let Some(y) = &self.year {
            return match y.parse::<u32>() {
                Ok(y) if (1970..=9999).contains(&y) => {
                    Some(Period::Range(y * 10_000 + 101, y * 10_000 + 1231))
                }
                _ => {
                    eprintln!("trident: --year wants YYYY, got {y:?}");
                    None
                }
            };
        }
        if let (Some(f), Some(t)) = (&self.from, &self.to) {
            let (f, t) = (day("from", f)?, day("to", t)?);
            if f > t {
                eprintln!("trident: --from is after --to");
                return None;
            }
            return Some(Period::Range(f, t));
        }
        eprintln!("trident: give --day, --month, --year or --from/--to");
        None
    }
}

#[derive(Args)]
#[command(after_help = "Examples:
  trident top --field dport --day 2014-08-26
  trident top --field ipsrc --sensor test-honeypot-1 --month 2014-08 --limit 5 --skip -1
  trident top --field dport --from 2014-08-01 --to 2014-08-15 --per-protocol
  trident top --field dport --day 2014-08-26 --sensor test-honeypot-1 --format potiron-csv -o out/
  trident top --field tls_sni --day 2020-02-23 --format json")]
pub struct TopArgs {
    /// Field ranked: length, protocol, ipsrc, ipdst, ipttl (ttl), iptos (tos), sport, dport,
    /// icmpcode, icmptype, dns_query, tls_sni, ja3, ja4, http_host, http_user_agent, eth_src,
    /// eth_dst, mac_vendor (vendor of the source MAC; the last nine: embedded store only), and
    /// tcpseq, tcpack with a Redis store.
    #[arg(long)]
    field: String,
    /// Only this sensor (default: all).
    #[arg(long)]
    sensor: Option<String>,
    #[command(flatten)]
    period: PeriodArgs,
    /// At most N rows (0: all).
    #[arg(long, short = 'l', default_value_t = 10)]
    limit: usize,
    /// Leave this value out (repeatable), e.g. `--skip -1` for "no port".
    #[arg(long, allow_hyphen_values = true)]
    skip: Vec<String>,
    /// Count per IP protocol (potiron's combined keys): one row per protocol and value.
    #[arg(long)]
    per_protocol: bool,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = QueryFormat::Table)]
    format: QueryFormat,
    /// Directory for `--format potiron-csv` files.
    #[arg(long, short = 'o', default_value = ".")]
    output_dir: PathBuf,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Args)]
#[command(after_help = "Examples:
  trident series --field dport --value 22 --month 2014-08
  trident series --field dport --value 53 --year 2014 --per-protocol")]
pub struct SeriesArgs {
    /// Field (as for `trident top`).
    #[arg(long)]
    field: String,
    /// The value whose daily counts are wanted.
    #[arg(long, allow_hyphen_values = true)]
    value: String,
    #[command(flatten)]
    period: PeriodArgs,
    /// Only this sensor (default: all).
    #[arg(long)]
    sensor: Option<String>,
    /// Count per IP protocol (potiron's combined keys).
    #[arg(long)]
    per_protocol: bool,
    /// Output format (potiron-csv: not available, use table/json/csv).
    #[arg(long, short, value_enum, default_value_t = QueryFormat::Table)]
    format: QueryFormat,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Args)]
#[command(after_help = "Examples:
  trident parallel --field dport --month 2014-08 --limit 5
  trident parallel --field dport --month 2014-08 --sensor test-honeypot-1 --format potiron-csv -o out/")]
pub struct ParallelArgs {
    /// Field (as for `trident top`).
    #[arg(long)]
    field: String,
    /// Month, YYYY-MM.
    #[arg(long)]
    month: String,
    /// The top N of each day are taken (0: all values).
    #[arg(long, short = 'l', default_value_t = 10)]
    limit: usize,
    /// Leave this value out (repeatable).
    #[arg(long, allow_hyphen_values = true)]
    skip: Vec<String>,
    /// Only this sensor (default: all).
    #[arg(long)]
    sensor: Option<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = QueryFormat::Table)]
    format: QueryFormat,
    /// Directory for `--format potiron-csv` files.
    #[arg(long, short = 'o', default_value = ".")]
    output_dir: PathBuf,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Args)]
#[command(after_help = "Example:
  trident isn --day 2014-08-26 --format csv > isn.csv")]
pub struct IsnArgs {
    /// UTC day, YYYY-MM-DD.
    #[arg(long)]
    day: String,
    /// Only this sensor (default: all).
    #[arg(long)]
    sensor: Option<String>,
    /// At most N samples (0: all).
    #[arg(long, short = 'l', default_value_t = 0)]
    limit: usize,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = QueryFormat::Table)]
    format: QueryFormat,
    #[command(flatten)]
    store: StoreArgs,
}

fn field(name: &str) -> Option<Field> {
    let f = Field::parse(name);
    if f.is_none() {
        let names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
        eprintln!(
            "trident: unknown field {name:?}; fields: {}",
            names.join(", ")
        );
    }
    f
}

/// The annotation of a value: service or protocol name, or the MAC vendor of a MAC address.
fn annotation(field: Field, value: &str, protocol: Option<&str>) -> Option<String> {
    if let Some(a) = annotate::annotation(field, value, protocol) {
        return Some(a.to_owned());
    }
    trident_host::oui::vendor(&parse_mac(value)?).map(str::to_owned)
}

/// `aa:bb:cc:dd:ee:ff` (or with `-`) as a MAC address.
fn parse_mac(s: &str) -> Option<MacAddr> {
    let mut b = [0u8; 6];
    let mut parts = s.split([':', '-']);
    for x in &mut b {
        let p = parts.next()?;
        if p.len() != 2 {
            return None;
        }
        *x = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(MacAddr(b))
}

/// A table: column names, then rows of cells.
struct Table {
    head: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    /// Columns holding numbers (right-aligned, JSON numbers).
    numeric: Vec<bool>,
}

fn write_table(format: QueryFormat, t: &Table) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match format {
        QueryFormat::Table | QueryFormat::PotironCsv => {
            let widths: Vec<usize> = (0..t.head.len())
                .map(|i| {
                    t.rows
                        .iter()
                        .map(|r| r[i].chars().count())
                        .chain([t.head[i].len()])
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            let line = |cells: &[String]| {
                let mut s = String::new();
                for (i, c) in cells.iter().enumerate() {
                    if i > 0 {
                        s.push_str("  ");
                    }
                    let w = widths[i];
                    let last = i + 1 == cells.len();
                    let _ = if t.numeric[i] {
                        write!(s, "{c:>w$}")
                    } else if last {
                        write!(s, "{c}")
                    } else {
                        write!(s, "{c:<w$}")
                    };
                }
                s
            };
            let head: Vec<String> = t.head.iter().map(|h| (*h).to_owned()).collect();
            writeln!(out, "{}", line(&head))?;
            for r in &t.rows {
                writeln!(out, "{}", line(r))?;
            }
        }
        QueryFormat::Csv => {
            let mut c = csv::Writer::from_writer(out);
            c.write_record(&t.head)?;
            for r in &t.rows {
                c.write_record(r)?;
            }
            c.flush()?;
        }
        QueryFormat::Json => {
            let arr: Vec<serde_json::Value> = t
                .rows
                .iter()
                .map(|r| {
                    let obj: serde_json::Map<String, serde_json::Value> = t
                        .head
                        .iter()
                        .zip(r)
                        .zip(&t.numeric)
                        .map(|((h, v), num)| {
                            let val = if *num {
                                v.parse::<u64>()
                                    .map_or_else(|_| v.clone().into(), serde_json::Value::from)
                            } else if v.is_empty() && *h == "annotation" {
                                serde_json::Value::Null
                            } else {
                                v.clone().into()
                            };
                            ((*h).to_owned(), val)
                        })
                        .collect();
                    serde_json::Value::Object(obj)
                })
                .collect();
            serde_json::to_writer(&mut out, &arr)?;
            writeln!(out)?;
        }
    }
    Ok(())
}

fn day_text(d: u32) -> String {
    format!("{:04}-{:02}-{:02}", d / 10_000, (d / 100) % 100, d % 100)
}

/// potiron's field description in file names (`doc/fields`, spaces as `-`).
fn potiron_field_str(f: Field) -> &'static str {
    match f {
        Field::Ipsrc => "ip-source",
        Field::Ipdst => "ip-destination",
        Field::Ipttl => "ip-time-to-live",
        Field::Iptos => "type-of-service",
        Field::Sport => "source-port",
        Field::Dport => "destination-port",
        Field::Tcpseq => "sequence-number",
        Field::Tcpack => "acknowledgement-number",
        Field::Icmpcode => "icmp-code",
        Field::Icmptype => "icmp-type",
        other => other.name(),
    }
}

/// potiron's CSV label: the value and its annotation (` - https`, ` - unknown destination
/// port`, ` - unknown protocol`; the text `None` for fields without annotations).
fn potiron_label(field: Field, value: &str, protocol: Option<&str>) -> String {
    let ann = annotation(field, value, protocol);
    match (field, ann) {
        (Field::Sport | Field::Dport | Field::Protocol, Some(a)) => format!("{value} - {a}"),
        (Field::Sport, None) => format!("{value} - unknown source port"),
        (Field::Dport, None) => format!("{value} - unknown destination port"),
        (Field::Protocol, None) => format!("{value} - unknown protocol"),
        _ => format!("{value}None"),
    }
}

/// Writes one potiron exporter CSV: `id,value`, then each row twice (empty score, then the
/// score; potiron's quirk Q22), scores as floats when `float`.
fn write_potiron_csv(
    path: &Path,
    field: Field,
    protocol: Option<&str>,
    rows: &[(String, u64)],
    float: bool,
) -> Result<()> {
    let mut s = String::from("id,value\n");
    for (v, n) in rows {
        let label = potiron_label(field, v, protocol);
        let _ = writeln!(s, "{label},");
        if float {
            let _ = writeln!(s, "{label},{n}.0");
        } else {
            let _ = writeln!(s, "{label},{n}");
        }
    }
    std::fs::write(path, s).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("trident: wrote {}", path.display());
    Ok(())
}

pub fn run_top(args: &TopArgs) -> Result<u8> {
    let (Some(field), Some(period)) = (field(&args.field), args.period.period()) else {
        return Ok(EXIT_USAGE);
    };
    let mut store = args.store.open()?;
    let q = TopQuery {
        field,
        sensor: args.sensor.as_deref(),
        period,
        limit: args.limit,
        skip: &args.skip,
    };
    if args.format == QueryFormat::PotironCsv {
        return potiron_top_csv(args, field, period, &mut *store, &q);
    }
    let table = if args.per_protocol {
        let rows = store.top_per_protocol(&q)?;
        Table {
            head: vec!["protocol", "value", "count", "annotation"],
            numeric: vec![false, false, true, false],
            rows: rows
                .into_iter()
                .map(|r| {
                    let a = annotation(field, &r.value, Some(&r.protocol)).unwrap_or_default();
                    vec![r.protocol, r.value, r.count.to_string(), a]
                })
                .collect(),
        }
    } else {
        let rows = store.top(&q)?;
        Table {
            head: vec!["value", "count", "annotation"],
            numeric: vec![false, true, false],
            rows: rows
                .into_iter()
                .map(|r| {
                    let a = annotation(field, &r.value, None).unwrap_or_default();
                    vec![r.value, r.count.to_string(), a]
                })
                .collect(),
        }
    };
    write_table(args.format, &table)?;
    Ok(EXIT_OK)
}

/// `--format potiron-csv` for `top`: potiron's `export_csv_day.py` / `export_csv_month.py`
/// files (`-p` naming without `--per-protocol`; per-protocol files plus the sum with it).
fn potiron_top_csv(
    args: &TopArgs,
    field: Field,
    period: Period,
    store: &mut dyn trident_index::Store,
    q: &TopQuery<'_>,
) -> Result<u8> {
    let (date, per_key_float) = match period {
        Period::Day(d) => (day_text(d), true),
        Period::Month(m) => (format!("{:04}-{:02}", m / 100, m % 100), false),
        Period::Range(..) => {
            eprintln!("trident: --format potiron-csv needs --day or --month (potiron's exporters)");
            return Ok(EXIT_USAGE);
        }
    };
    let sensor = args.sensor.as_deref().unwrap_or("potiron");
    let fstr = potiron_field_str(field);
    std::fs::create_dir_all(&args.output_dir)
        .with_context(|| format!("creating {}", args.output_dir.display()))?;
    let sum: Vec<(String, u64)> = store
        .top(q)?
        .into_iter()
        .map(|r| (r.value, r.count))
        .collect();
    if args.per_protocol {
        let all = store.top_per_protocol(&TopQuery {
            limit: 0,
            ..q.clone()
        })?;
        let mut protos: Vec<&str> = all.iter().map(|r| r.protocol.as_str()).collect();
        protos.sort_unstable();
        protos.dedup();
        for p in protos {
            let rows: Vec<(String, u64)> = all
                .iter()
                .filter(|r| r.protocol == p)
                .take(if args.limit == 0 {
                    usize::MAX
                } else {
                    args.limit
                })
                .map(|r| (r.value.clone(), r.count))
                .collect();
            let path = args
                .output_dir
                .join(format!("{sensor}_{fstr}_with-protocols_{date}_{p}.csv"));
            write_potiron_csv(&path, field, Some(p), &rows, per_key_float)?;
        }
        let path = args
            .output_dir
            .join(format!("{sensor}_{fstr}_with-protocols_{date}.csv"));
        write_potiron_csv(&path, field, None, &sum, false)?;
    } else {
        let path = args.output_dir.join(format!("{sensor}_{fstr}_{date}.csv"));
        write_potiron_csv(&path, field, None, &sum, false)?;
    }
    Ok(EXIT_OK)
}

pub fn run_series(args: &SeriesArgs) -> Result<u8> {
    let (Some(field), Some(period)) = (field(&args.field), args.period.period()) else {
        return Ok(EXIT_USAGE);
    };
    if args.format == QueryFormat::PotironCsv {
        eprintln!("trident series: --format potiron-csv is for top and parallel");
        return Ok(EXIT_USAGE);
    }
    let mut store = args.store.open()?;
    let table = if args.per_protocol {
        let rows = store.series_per_protocol(field, &args.value, args.sensor.as_deref(), period)?;
        Table {
            head: vec!["day", "protocol", "count"],
            numeric: vec![false, false, true],
            rows: rows
                .into_iter()
                .map(|(d, p, n)| vec![day_text(d), p, n.to_string()])
                .collect(),
        }
    } else {
        let rows = store.series(field, &args.value, args.sensor.as_deref(), period)?;
        Table {
            head: vec!["day", "count"],
            numeric: vec![false, true],
            rows: rows
                .into_iter()
                .map(|(d, n)| vec![day_text(d), n.to_string()])
                .collect(),
        }
    };
    write_table(args.format, &table)?;
    Ok(EXIT_OK)
}

pub fn run_parallel(args: &ParallelArgs) -> Result<u8> {
    let Some(field) = field(&args.field) else {
        return Ok(EXIT_USAGE);
    };
    let Some(month) = parse_month(&args.month) else {
        eprintln!("trident: --month wants YYYY-MM, got {:?}", args.month);
        return Ok(EXIT_USAGE);
    };
    let mut store = args.store.open()?;
    let t = store.parallel(field, args.sensor.as_deref(), month, args.limit, &args.skip)?;
    if args.format == QueryFormat::PotironCsv {
        // potiron's parallel-coordinate.py: header `<FIELDSTR>,<MM>-01,...`, float scores,
        // `0` when absent.
        let fstr = potiron_field_str(field);
        let sensor = args.sensor.as_deref().unwrap_or("potiron");
        let mut s = String::from(fstr);
        for d in 1..=days_in_month(month) {
            let _ = write!(s, ",{:02}-{d:02}", month % 100);
        }
        s.push('\n');
        for (v, counts) in &t.rows {
            s.push_str(v);
            for n in counts {
                if *n == 0 {
                    s.push_str(",0");
                } else {
                    let _ = write!(s, ",{n}.0");
                }
            }
            s.push('\n');
        }
        std::fs::create_dir_all(&args.output_dir)
            .with_context(|| format!("creating {}", args.output_dir.display()))?;
        let path = args.output_dir.join(format!(
            "parallel-coordinate_{sensor}_{fstr}_{:04}-{:02}.csv",
            month / 100,
            month % 100
        ));
        std::fs::write(&path, s).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("trident: wrote {}", path.display());
        return Ok(EXIT_OK);
    }
    if args.format == QueryFormat::Json {
        let days: Vec<String> = t.days.iter().map(|d| day_text(*d)).collect();
        let rows: Vec<serde_json::Value> = t
            .rows
            .iter()
            .map(|(v, c)| serde_json::json!({ "value": v, "counts": c }))
            .collect();
        let mut out = io::stdout().lock();
        serde_json::to_writer(&mut out, &serde_json::json!({ "days": days, "rows": rows }))?;
        writeln!(out)?;
        return Ok(EXIT_OK);
    }
    // Table and csv: one column per day (`MM-DD`).
    let day_heads: Vec<&'static str> = t
        .days
        .iter()
        .map(|d| &*Box::leak(format!("{:02}-{:02}", (d / 100) % 100, d % 100).into_boxed_str()))
        .collect();
    let mut head = vec!["value"];
    head.extend(day_heads);
    let mut numeric = vec![false];
    numeric.extend(t.days.iter().map(|_| true));
    let rows = t
        .rows
        .iter()
        .map(|(v, c)| {
            let mut r = vec![v.clone()];
            r.extend(c.iter().map(ToString::to_string));
            r
        })
        .collect();
    write_table(
        args.format,
        &Table {
            head,
            rows,
            numeric,
        },
    )?;
    Ok(EXIT_OK)
}

/// Microseconds per second.
const MICROS_PER_SEC: i64 = 1_000_000;

/// `YYYY-MM-DD HH:MM:SS.ffffff` (UTC), potiron's ISN time format.
fn isn_time(ts_us: i64) -> String {
    let (y, mo, d, h, mi, s) =
        trident_types::Timestamp::from_secs_nanos(ts_us.div_euclid(MICROS_PER_SEC), 0).utc_civil();
    format!(
        "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{:06}",
        ts_us.rem_euclid(MICROS_PER_SEC)
    )
}

fn write_isn(format: QueryFormat, rows: &[IsnSample]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    let opt = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_default();
    match format {
        QueryFormat::Table | QueryFormat::Csv | QueryFormat::PotironCsv => {
            let sep = if format == QueryFormat::Csv {
                ","
            } else {
                "  "
            };
            writeln!(out, "time{sep}sport{sep}dport{sep}seq{sep}ack")?;
            for r in rows {
                writeln!(
                    out,
                    "{}{sep}{}{sep}{}{sep}{}{sep}{}",
                    isn_time(r.ts_us),
                    opt(r.sport.map(u32::from)),
                    opt(r.dport.map(u32::from)),
                    opt(r.seq),
                    opt(r.ack)
                )?;
            }
        }
        QueryFormat::Json => {
            let arr: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "time": isn_time(r.ts_us),
                        "sport": r.sport,
                        "dport": r.dport,
                        "seq": r.seq,
                        "ack": r.ack,
                    })
                })
                .collect();
            serde_json::to_writer(&mut out, &arr)?;
            writeln!(out)?;
        }
    }
    Ok(())
}

pub fn run_isn(args: &IsnArgs) -> Result<u8> {
    let Some(day) = parse_day(&args.day) else {
        eprintln!("trident: --day wants YYYY-MM-DD, got {:?}", args.day);
        return Ok(EXIT_USAGE);
    };
    let mut store = args.store.open()?;
    let rows = store.isn(args.sensor.as_deref(), day, args.limit)?;
    write_isn(args.format, &rows)?;
    Ok(EXIT_OK)
}
