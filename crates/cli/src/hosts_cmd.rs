//! `trident hosts`: captures in, one record per host out (a table, json or csv).

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use trident_capture::RawFrame;

use crate::inputs::{FrameSink, Inputs};
use crate::output::json_cell as cell;
use trident_decode::decode;
use trident_flow::{FlowConfig, FlowRecord, FlowTable};
use trident_host::{COLUMNS, HostInventory, HostRecord};

use crate::{EXIT_DAMAGED, EXIT_OK};

/// Output formats of `trident hosts`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for reading: address, vendor, name, OS, services, traffic.
    Table,
    /// One JSON array of host objects; absent fields are omitted.
    Json,
    /// Comma-separated values with a header line, every column; lists joined with `|`.
    Csv,
}

#[derive(Args)]
#[command(
    after_help = "One row per MAC address, with every IP address it used. A MAC that \
forwards traffic from many foreign addresses is marked as a router, and each foreign address \
behind it gets a row of its own (behind_router). Names, services and fingerprints come from the \
traffic itself: DHCP, DHCPv6, mDNS, SSDP, DNS, TLS and HTTP hints, SYN/ACKs, the TCP SYN's layout. \
A MAC seen only in ARP (or DHCP/DHCPv6) is a host too, with the addresses it claimed (link_only).

Examples:
  trident hosts capture.pcap
  trident hosts --format json dir/ > hosts.json"
)]
pub struct HostsArgs {
    /// Capture files (pcap/pcapng, optionally .gz/.zst), directories (walked recursively, in
    /// sorted order), or `-` for stdin. All inputs make one inventory.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// No summary on stderr.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(args: &HostsArgs) -> Result<u8> {
    let mut inputs = Inputs::expand(&args.paths)?;
    let started = Instant::now();
    let mut fold = HostFold {
        table: FlowTable::new(FlowConfig::default()),
        inventory: HostInventory::new(),
        ended: Vec::new(),
    };
    let files = inputs.read_all(&mut fold, || {})?;
    let HostFold {
        mut table,
        mut inventory,
        mut ended,
    } = fold;
    table.flush(&mut ended);
    for f in ended.drain(..) {
        inventory.add(&f);
    }
    let flows = inventory.stats().flows;
    let hosts = inventory.finish();
    let mut out = BufWriter::new(io::stdout().lock());
    match args.format {
        Format::Table => write_table(&mut out, &hosts)?,
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &hosts)?;
            out.write_all(b"\n")?;
        }
        Format::Csv => write_csv(&mut out, &hosts)?,
    }
    out.flush().context("writing hosts")?;
    if !args.quiet {
        let st = table.stats();
        let mut err = io::stderr().lock();
        let _ = writeln!(
            err,
            "trident hosts: {files} files, {} packets, {flows} flows, {} hosts in {:.3} s",
            st.packets,
            hosts.len(),
            started.elapsed().as_secs_f64()
        );
        inputs.problems.print(&mut err);
    }
    Ok(if inputs.problems.is_clean() {
        EXIT_OK
    } else {
        EXIT_DAMAGED
    })
}

/// Folds every frame into flows, and every finished flow into the host inventory.
struct HostFold {
    table: FlowTable,
    inventory: HostInventory,
    ended: Vec<FlowRecord>,
}

impl FrameSink for HostFold {
    fn frame(&mut self, _name: &str, frame: &RawFrame<'_>) -> Result<()> {
        let packet = decode(frame.link_type, frame.data);
        self.table
            .process(frame.ts, frame.origlen, &packet, &mut self.ended);
        self.inventory.add_packet(frame.ts, &packet);
        for f in self.ended.drain(..) {
            self.inventory.add(&f);
        }
        Ok(())
    }
}

fn write_csv(out: &mut impl Write, hosts: &[HostRecord]) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(COLUMNS)?;
    for h in hosts {
        let serde_json::Value::Object(map) = serde_json::to_value(h)? else {
            bail!("a host record did not serialize to an object");
        };
        for col in COLUMNS {
            w.write_field(cell(map.get(*col)))?;
        }
        w.write_record(None::<&[u8]>)?;
    }
    w.flush()?;
    Ok(())
}

/// Widest a table cell gets before it is cut with `…`.
const MAX_CELL: usize = 34;
/// Services listed in the table before `+N`.
const TABLE_SERVICES: usize = 4;

/// Cuts a cell to [`MAX_CELL`] characters.
fn fit(s: &str) -> String {
    if s.chars().count() <= MAX_CELL {
        return s.to_owned();
    }
    let mut t: String = s.chars().take(MAX_CELL - 1).collect();
    t.push('…');
    t
}

/// Bytes as a short human figure (B, kB, MB, GB; powers of 1000).
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut unit = "B";
    for u in UNITS {
        if v < 1000.0 {
            break;
        }
        v /= 1000.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

fn write_table(out: &mut impl Write, hosts: &[HostRecord]) -> Result<()> {
    let header = [
        "MAC",
        "IP",
        "VENDOR",
        "NAME",
        "OS",
        "OFFERS",
        "PKTS OUT/IN",
        "BYTES OUT/IN",
    ];
    let rows: Vec<[String; 8]> = hosts
        .iter()
        .map(|h| {
            let mac = match (h.mac, h.behind_router) {
                (Some(m), _) if h.router => format!("{m} (router)"),
                (Some(m), _) => m.to_string(),
                (None, Some(r)) => format!("via {r}"),
                (None, None) => "-".to_owned(),
            };
            let ip = match (h.ip, h.ipv4.len() + h.ipv6.len()) {
                (Some(ip), n) if n > 1 => format!("{ip} +{}", n - 1),
                (Some(ip), _) => ip.to_string(),
                (None, _) => "-".to_owned(),
            };
            let vendor = match (&h.vendor, h.mac_local) {
                (Some(v), _) => v.clone(),
                (None, true) => "(random MAC)".to_owned(),
                (None, false) => String::new(),
            };
            let name = h
                .dhcp_hostname
                .clone()
                .or_else(|| h.dhcpv6_fqdn.clone())
                .or_else(|| h.mdns_names.first().cloned())
                .or_else(|| h.ssdp_servers.first().cloned())
                .unwrap_or_default();
            let os = h.os.unwrap_or("").to_owned();
            let mut offers: Vec<String> = h
                .services_offered
                .iter()
                .take(TABLE_SERVICES)
                .map(ToString::to_string)
                .collect();
            if h.services_offered.len() > TABLE_SERVICES {
                offers.push(format!("+{}", h.services_offered.len() - TABLE_SERVICES));
            }
            [
                mac,
                ip,
                fit(&vendor),
                fit(&name),
                fit(&os),
                offers.join(" "),
                format!("{}/{}", h.pkts_out, h.pkts_in),
                format!("{}/{}", human_bytes(h.bytes_out), human_bytes(h.bytes_in)),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: &[String]| -> io::Result<()> {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            s.push_str(c);
            if i + 1 < cells.len() {
                s.extend(std::iter::repeat_n(
                    ' ',
                    w.saturating_sub(c.chars().count()),
                ));
            }
        }
        writeln!(out, "{}", s.trim_end())
    };
    line(out, &header.map(str::to_owned))?;
    for r in &rows {
        line(out, r)?;
    }
    Ok(())
}
