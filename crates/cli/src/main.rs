//! `trident`: network-traffic analysis in one binary. This crate only wires the library
//! stages to a command line; everything it calls is documented in the `trident-*` crates.

mod capture_cmd;
mod classify_cmd;
mod consume_cmd;
mod dataset_cmd;
mod decode_cmd;
mod flows_cmd;
mod hosts_cmd;
mod ingest_cmd;
mod inputs;
mod output;
mod query_cmd;
mod sdn_cmd;
mod serve_cmd;
mod train_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// jemalloc, for Rust and (unprefixed) for SQLite's C allocations alike, with transparent
/// huge pages. Ingest fills hundreds of MB of fresh memory (classification rows, SQLite's
/// page cache, flow tables); with 4 KiB pages, page faults were about 9% of its CPU profile.
/// Paired runs on the benchmark capture: 0.94x the CPU of glibc malloc, and 0.98x that of
/// glibc with its own huge-page tunable (see BENCHMARKS.md). The options are compiled in
/// (`JEMALLOC_SYS_WITH_MALLOC_CONF` in `.cargo/config.toml`); `MALLOC_CONF` in the
/// environment overrides them.
#[cfg(all(target_os = "linux", not(target_env = "musl")))]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Exit status when every input was read to its end.
pub const EXIT_OK: u8 = 0;
/// Exit status when some input could not be read or was damaged (the summary says which).
pub const EXIT_DAMAGED: u8 = 1;
/// Exit status for a usage error (bad flag, unknown field); clap uses it too.
pub const EXIT_USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "trident",
    version,
    about = "Network-traffic analysis: decode captures, build flows and host inventories, classify devices.",
    long_about = "trident reads packet captures (pcap, pcapng, gzip- or zstd-compressed, files, \
directories or stdin), decodes every packet down to its application hints, and writes records \
for people (tables) and machines (ndjson, csv).\n\n\
Exit status: 0 every input read to its end; 1 some input was missing or damaged (everything \
before the damage was still processed, and the summary names the file and byte offset); \
2 usage error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode captures into one record per packet (ndjson, csv or potiron JSON).
    Decode(decode_cmd::DecodeArgs),
    /// Build bidirectional flows from captures (ndjson or csv, one record per flow).
    Flows(flows_cmd::FlowsArgs),
    /// Inventory the hosts in captures: addresses, vendor, names, OS guess, services, traffic.
    Hosts(hosts_cmd::HostsArgs),
    /// Classify devices by role (networkML 0.6.19's model; --compat networkml for its exact output).
    Classify(classify_cmd::ClassifyArgs),
    /// Capture live from an interface into rotating pcapng files (libpcap; needs CAP_NET_RAW).
    Capture(capture_cmd::CaptureArgs),
    /// Train a role model on labelled captures (cross-validated grid search).
    Train(train_cmd::TrainArgs),
    /// Score a model on labelled captures: accuracy, F1, per class, confusion matrix.
    Eval(train_cmd::EvalArgs),
    /// Read records from a broker (Redis Streams, RabbitMQ, AntiNex) into the record store or a dataset.
    Consume(consume_cmd::ConsumeArgs),
    /// Write an AntiNex-compatible CSV dataset from captures or AntiNex JSON archives.
    Dataset(dataset_cmd::DatasetArgs),
    /// Index captures: per sensor/day/field value counts, embedded (SQLite) or Redis (potiron layout).
    Ingest(ingest_cmd::IngestArgs),
    /// Top values of a field for a day or month, from the index.
    Top(query_cmd::TopArgs),
    /// Daily counts of one value of a field over a month, from the index.
    Series(query_cmd::SeriesArgs),
    /// TCP ISN samples of a day (time, ports, seq, ack), from the index (ingest --isn).
    Isn(query_cmd::IsnArgs),
    /// potiron's parallel-coordinates table: each day's top values of a month, counted per day.
    Parallel(query_cmd::ParallelArgs),
    /// Serve the REST API, the dashboard and Prometheus metrics over the index (--ingest captures first).
    Serve(serve_cmd::ServeArgs),
    /// Poseidon on Faucet: learn endpoints from Faucet events, mirror, capture, classify (run, show, ignore, ...).
    Sdn(sdn_cmd::SdnArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Decode(args) => decode_cmd::run(&args),
        Command::Flows(args) => flows_cmd::run(&args),
        Command::Hosts(args) => hosts_cmd::run(&args),
        Command::Classify(args) => classify_cmd::run(&args),
        Command::Capture(args) => capture_cmd::run(&args),
        Command::Train(args) => train_cmd::run_train(&args),
        Command::Eval(args) => train_cmd::run_eval(&args),
        Command::Consume(args) => consume_cmd::run(&args),
        Command::Dataset(args) => dataset_cmd::run(&args),
        Command::Ingest(args) => ingest_cmd::run(&args),
        Command::Top(args) => query_cmd::run_top(&args),
        Command::Series(args) => query_cmd::run_series(&args),
        Command::Isn(args) => query_cmd::run_isn(&args),
        Command::Parallel(args) => query_cmd::run_parallel(&args),
        Command::Serve(args) => serve_cmd::run(&args),
        Command::Sdn(args) => sdn_cmd::run(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // A closed pipe (`trident decode x | head`) is the reader's choice, not an error.
            if err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::from(EXIT_OK);
            }
            eprintln!("trident: error: {err:#}");
            ExitCode::from(EXIT_DAMAGED)
        }
    }
}
