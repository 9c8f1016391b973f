//! [`SdnConfig`]: from trident's TOML (`[sdn]` table) or Poseidon's `poseidon.config`.
//!
//! Poseidon's INI is read as Poseidon reads it: sections are cosmetic (every key of every
//! section goes into one map, later ones win), values may be wrapped in single quotes, and
//! each key of the reference (section 1.5) is either mapped onto a field here or kept in
//! [`SdnConfig::poseidon_unused`] (Prometheus, network_tap, Volos, Pipette: things trident
//! does itself or that 0.18 never used).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::SdnError;

/// How mirrors are changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MirrorBackend {
    /// Edit `faucet.yaml` directly ([`crate::yaml::FaucetYaml`]).
    #[default]
    FaucetYaml,
    /// faucetconfrpc over gRPC with mutual TLS (module `rpc`).
    Faucetconfrpc,
}

/// Where faucetconfrpc is and which certificates to present.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RpcConfig {
    /// `host:port` (Poseidon: `faucetconfrpc_address`, default `faucetconfrpc:59999`).
    pub address: String,
    /// Client certificate name (Poseidon: `faucetconfrpc_client`); the default paths below
    /// are `<cert_dir>/<client>.crt` / `.key` and `<cert_dir>/<server host>-ca.crt`.
    pub client_name: String,
    /// Directory holding the certificates (Poseidon: `/certs`).
    pub cert_dir: PathBuf,
    /// Client certificate (PEM); overrides the name-derived path.
    pub client_cert: Option<PathBuf>,
    /// Client key (PEM); overrides the name-derived path.
    pub client_key: Option<PathBuf>,
    /// CA certificate (PEM); overrides the name-derived path.
    pub ca_cert: Option<PathBuf>,
    /// TLS server name to verify (default: the host part of `address`).
    pub server_name: Option<String>,
}

impl Default for RpcConfig {
    fn default() -> Self {
        RpcConfig {
            address: "faucetconfrpc:59999".into(),
            client_name: "faucetconfrpc".into(),
            cert_dir: "/certs".into(),
            client_cert: None,
            client_key: None,
            ca_cert: None,
            server_name: None,
        }
    }
}

impl RpcConfig {
    /// The host part of `address`.
    #[must_use]
    pub fn host(&self) -> &str {
        self.address
            .rsplit_once(':')
            .map_or(self.address.as_str(), |(h, _)| h)
    }
    /// The client certificate path.
    #[must_use]
    pub fn client_cert_path(&self) -> PathBuf {
        self.client_cert
            .clone()
            .unwrap_or_else(|| self.cert_dir.join(format!("{}.crt", self.client_name)))
    }
    /// The client key path.
    #[must_use]
    pub fn client_key_path(&self) -> PathBuf {
        self.client_key
            .clone()
            .unwrap_or_else(|| self.cert_dir.join(format!("{}.key", self.client_name)))
    }
    /// The CA certificate path.
    #[must_use]
    pub fn ca_cert_path(&self) -> PathBuf {
        self.ca_cert
            .clone()
            .unwrap_or_else(|| self.cert_dir.join(format!("{}-ca.crt", self.host())))
    }
}

/// RabbitMQ input, as Poseidon's event adapter publishes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RabbitConfig {
    /// AMQP URI, e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`.
    pub uri: String,
    /// Exchange (`FA_RABBIT_EXCHANGE`, `topic_recs`).
    pub exchange: String,
    /// Routing key (`FA_RABBIT_ROUTING_KEY`, `FAUCET.Event`); bound as `<key>.#` and `<key>`.
    pub routing_key: String,
    /// Queue name; empty = a server-named exclusive queue (Poseidon: durable `poseidon_main`).
    pub queue: String,
}

impl Default for RabbitConfig {
    fn default() -> Self {
        RabbitConfig {
            uri: "amqp://guest:guest@127.0.0.1:5672/%2f".into(),
            exchange: "topic_recs".into(),
            routing_key: "FAUCET.Event".into(),
            queue: String::new(),
        }
    }
}

/// A proxy mirror: mirror this (switch, port) instead.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProxyMirror {
    /// The switch that has the mirror port.
    pub switch: String,
    /// The port on that switch.
    pub port: u32,
}

/// Everything the SDN engine needs. `Default` is Poseidon 0.18's code defaults.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SdnConfig {
    /// Faucet's event socket (`FAUCET_EVENT_SOCK`); one of this or `rabbit` is needed.
    pub event_socket: Option<PathBuf>,
    /// RabbitMQ input instead of (or besides) the socket.
    pub rabbit: Option<RabbitConfig>,
    /// Where `sdn.sqlite` and captures live.
    pub data_dir: PathBuf,
    /// NIC wired to the mirror port (`collector_nic`).
    pub collector_nic: Option<String>,
    /// Per-switch collector NICs (`collector_nic` given as a dict).
    pub collector_nics: BTreeMap<String, String>,
    /// The mirror port per switch (`controller_mirror_ports`).
    pub mirror_ports: BTreeMap<String, u32>,
    /// Switches mirrored through another switch's port (`controller_proxy_mirror_ports`).
    pub proxy_mirror_ports: BTreeMap<String, ProxyMirror>,
    /// VLAN of Faucet tunnels for stacked remote mirroring (`tunnel_vlan`).
    pub tunnel_vlan: Option<u16>,
    /// Name of the tunnel ACL (`tunnel_name`).
    pub tunnel_name: String,
    /// Learns on these VLANs are ignored (`ignore_vlans`).
    pub ignore_vlans: Vec<u16>,
    /// One ignored port per switch (`ignore_ports`).
    pub ignore_ports: BTreeMap<String, u32>,
    /// One trunk port per switch (`trunk_ports`): keyed by IP too, never unmirrored.
    pub trunk_ports: BTreeMap<String, u32>,
    /// Track MACs whose newest IP is globally routable (`learn_public_addresses`).
    pub learn_public_addresses: bool,
    /// Apply ACLs from `rules_file` automatically (`automated_acls`; see [`crate::acl`]).
    pub automated_acls: bool,
    /// With `automated_acls`: log the `acls_in` changes the rules ask for, change nothing.
    pub acls_dry_run: bool,
    /// ACL rules (`rules_file`).
    pub rules_file: Option<PathBuf>,
    /// Seconds between reinvestigation passes; timeouts are twice this.
    pub reinvestigation_frequency: u64,
    /// At most this many endpoints mirrored at once.
    pub max_concurrent_reinvestigations: usize,
    /// Seconds between aggregate metric refreshes (`scan_frequency`).
    pub scan_frequency: u64,
    /// Capture length per endpoint in seconds (Poseidon: `reinvestigation_frequency`).
    pub capture_seconds: u64,
    /// Top-role confidence at or above which a classified endpoint becomes `known` (leaves
    /// the queue) instead of `unknown` (Poseidon 0.18 always re-queues).
    pub known_confidence: f64,
    /// A `known` endpoint is re-checked after this many seconds.
    pub recheck_seconds: u64,
    /// `controller_type` (only `faucet`).
    pub controller_type: String,
    /// Log level (`logger_level`).
    pub logger_level: String,
    /// How mirrors are changed.
    pub mirror_backend: MirrorBackend,
    /// faucet.yaml for the `faucet_yaml` back-end.
    pub faucet_config: Option<PathBuf>,
    /// `check_faucet_config` to validate edits (default: found in `PATH` if present).
    pub check_faucet_config: Option<PathBuf>,
    /// faucetconfrpc for the `faucetconfrpc` back-end.
    pub faucetconfrpc: RpcConfig,
    /// A trident model file instead of the built-in networkML model.
    pub model: Option<PathBuf>,
    /// HTTP listen address for `trident sdn run`.
    pub listen: String,
    /// Start a capture only once Faucet reports (`CONFIG_CHANGE`) that it applied the
    /// mirror change, waiting at most this many seconds (0: start at once, as Poseidon did).
    pub mirror_apply_wait: u64,
    /// Faucet's pid file: after each change trident asks for, Faucet is sent `SIGHUP` so it
    /// reloads at once instead of at its next stat poll (about every 3 s). Same host only.
    pub faucet_pid_file: Option<PathBuf>,
    /// Look up reverse DNS names of endpoint addresses (Poseidon's `ipv4_rdns`/`ipv6_rdns`).
    pub rdns: bool,
    /// Timeout of one reverse DNS lookup, in milliseconds.
    pub rdns_timeout_ms: u64,
    /// Write Poseidon's `timeout: 2F+1` and `arp_neighbor_timeout: F` into each mirror
    /// switch of faucet.yaml at start-up (Poseidon always did; trident only reads them
    /// unless this is set).
    pub write_faucet_timeouts: bool,
    /// Poseidon keys read but not used by trident (Prometheus, network_tap, Volos, ...).
    pub poseidon_unused: BTreeMap<String, String>,
}

impl Default for SdnConfig {
    fn default() -> Self {
        SdnConfig {
            event_socket: None,
            rabbit: None,
            data_dir: "trident-sdn".into(),
            collector_nic: None,
            collector_nics: BTreeMap::new(),
            mirror_ports: BTreeMap::new(),
            proxy_mirror_ports: BTreeMap::new(),
            tunnel_vlan: None,
            tunnel_name: "poseidon_tunnel".into(),
            ignore_vlans: Vec::new(),
            ignore_ports: BTreeMap::new(),
            trunk_ports: BTreeMap::new(),
            learn_public_addresses: false,
            automated_acls: false,
            acls_dry_run: false,
            rules_file: None,
            reinvestigation_frequency: 900,
            max_concurrent_reinvestigations: 2,
            scan_frequency: 5,
            capture_seconds: 900,
            known_confidence: 0.5,
            recheck_seconds: 86_400,
            controller_type: "faucet".into(),
            logger_level: "INFO".into(),
            mirror_backend: MirrorBackend::FaucetYaml,
            faucet_config: None,
            check_faucet_config: None,
            faucetconfrpc: RpcConfig::default(),
            model: None,
            listen: "127.0.0.1:5000".into(),
            mirror_apply_wait: 10,
            faucet_pid_file: None,
            rdns: false,
            rdns_timeout_ms: 500,
            write_faucet_timeouts: false,
            poseidon_unused: BTreeMap::new(),
        }
    }
}

/// Poseidon keys trident reads but does not act on.
const POSEIDON_IGNORED: &[&str] = &[
    "prometheus_ip",
    "prometheus_port",
    "network_tap_ip",
    "network_tap_port",
    "enable_volos",
    "volos_cfg_file",
    "acl_dir",
    "coprocessor_port",
    "ignore_copro_ports",
    "coprocessing_frequency",
    "max_concurrent_coprocessing",
    "pipette_repo",
    "pipette_dir",
    "coprocessor_nic",
    "fake_interface",
    "fake_mac",
    "fake_ips",
    "coprocessor_vlans",
    "bridge",
    "pipette_port",
    "pcap_location",
    "pcap_size",
    "fa_rabbit_exchange_type",
];

impl SdnConfig {
    /// Reads trident's TOML: the `[sdn]` table if there is one, else the whole file.
    pub fn from_toml_file(path: &Path) -> Result<SdnConfig, SdnError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SdnError::io(format!("reading {}", path.display()), e))?;
        Self::from_toml_str(&text).map_err(|detail| SdnError::Config {
            path: path.to_path_buf(),
            detail,
        })
    }

    /// Parses trident's TOML text (see [`SdnConfig::from_toml_file`]).
    pub fn from_toml_str(text: &str) -> Result<SdnConfig, String> {
        let value: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        let table = match value.get("sdn") {
            Some(toml::Value::Table(t)) => t.clone(),
            Some(_) => return Err("`sdn` must be a table".into()),
            None => value,
        };
        let mut cfg: SdnConfig = table
            .try_into()
            .map_err(|e: toml::de::Error| e.to_string())?;
        if !text.contains("capture_seconds") {
            cfg.capture_seconds = cfg.reinvestigation_frequency;
        }
        Ok(cfg)
    }

    /// Reads Poseidon's `poseidon.config` as-is.
    pub fn from_poseidon_file(path: &Path) -> Result<SdnConfig, SdnError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SdnError::io(format!("reading {}", path.display()), e))?;
        Self::from_poseidon_str(&text).map_err(|detail| SdnError::Config {
            path: path.to_path_buf(),
            detail,
        })
    }

    /// Parses Poseidon's INI text.
    pub fn from_poseidon_str(text: &str) -> Result<SdnConfig, String> {
        let map = parse_ini(text)?;
        let mut c = SdnConfig::default();
        let mut rabbit = RabbitConfig::default();
        let mut rabbit_host: Option<String> = None;
        let mut rabbit_port: u16 = 5672;
        let mut any_rabbit = false;
        for (key, (line, value)) in &map {
            let at = |e: String| format!("line {line}: {key}: {e}");
            match key.as_str() {
                "controller_type" => c.controller_type = value.clone(),
                "collector_nic" => {
                    if value.trim_start().starts_with('{') {
                        c.collector_nics = parse_py_dict(value).map_err(at)?;
                    } else {
                        c.collector_nic = Some(value.clone());
                    }
                }
                "controller_mirror_ports" => {
                    c.mirror_ports = serde_json::from_str(value).map_err(|e| at(e.to_string()))?;
                }
                "controller_proxy_mirror_ports" => {
                    let raw: BTreeMap<String, (String, u32)> =
                        serde_json::from_str(value).map_err(|e| at(e.to_string()))?;
                    c.proxy_mirror_ports = raw
                        .into_iter()
                        .map(|(k, (switch, port))| (k, ProxyMirror { switch, port }))
                        .collect();
                }
                "tunnel_vlan" => c.tunnel_vlan = Some(parse_num(value).map_err(at)?),
                "tunnel_name" => c.tunnel_name = value.clone(),
                "ignore_vlans" => {
                    c.ignore_vlans = serde_json::from_str(value).map_err(|e| at(e.to_string()))?;
                }
                "ignore_ports" => {
                    c.ignore_ports = serde_json::from_str(value).map_err(|e| at(e.to_string()))?;
                }
                "trunk_ports" => {
                    let raw: BTreeMap<String, serde_json::Value> =
                        serde_json::from_str(value).map_err(|e| at(e.to_string()))?;
                    for (sw, v) in raw {
                        let port = match &v {
                            serde_json::Value::Number(n) => n.as_u64(),
                            // Poseidon's code: "<mac>,<port>"; its example: a bare port.
                            serde_json::Value::String(s) => {
                                s.rsplit(',').next().and_then(|p| p.trim().parse().ok())
                            }
                            _ => None,
                        };
                        let port = port
                            .and_then(|p| u32::try_from(p).ok())
                            .ok_or_else(|| at(format!("switch {sw}: bad trunk port {v}")))?;
                        c.trunk_ports.insert(sw, port);
                    }
                }
                "learn_public_addresses" => {
                    c.learn_public_addresses = strtobool(value).map_err(at)?;
                }
                "automated_acls" => c.automated_acls = strtobool(value).map_err(at)?,
                "rules_file" => c.rules_file = Some(value.into()),
                "reinvestigation_frequency" => {
                    c.reinvestigation_frequency = parse_num(value).map_err(at)?;
                }
                "max_concurrent_reinvestigations" => {
                    c.max_concurrent_reinvestigations = parse_num(value).map_err(at)?;
                }
                "scan_frequency" => c.scan_frequency = parse_num(value).map_err(at)?,
                "logger_level" => c.logger_level = value.clone(),
                "faucetconfrpc_address" => c.faucetconfrpc.address = value.clone(),
                "faucetconfrpc_client" => c.faucetconfrpc.client_name = value.clone(),
                "fa_rabbit_host" => {
                    rabbit_host = Some(value.clone());
                    any_rabbit = true;
                }
                "fa_rabbit_port" => rabbit_port = parse_num(value).map_err(at)?,
                "fa_rabbit_exchange" => rabbit.exchange = value.clone(),
                "fa_rabbit_routing_key" => rabbit.routing_key = value.clone(),
                k if POSEIDON_IGNORED.contains(&k) => {
                    c.poseidon_unused.insert(k.to_string(), value.clone());
                }
                other => return Err(format!("line {line}: unknown key {other:?}")),
            }
        }
        if any_rabbit {
            let host = rabbit_host.unwrap_or_else(|| "127.0.0.1".into());
            rabbit.uri = format!("amqp://guest:guest@{host}:{rabbit_port}/%2f");
            c.rabbit = Some(rabbit);
        }
        // Poseidon captures for reinvestigation_frequency seconds and uses faucetconfrpc.
        c.capture_seconds = c.reinvestigation_frequency;
        c.mirror_backend = MirrorBackend::Faucetconfrpc;
        Ok(c)
    }

    /// The collector NIC for a switch.
    #[must_use]
    pub fn collector_nic_for(&self, switch: &str) -> Option<&str> {
        self.collector_nics
            .get(switch)
            .map(String::as_str)
            .or(self.collector_nic.as_deref())
    }
}

/// Parses INI into one flat map (key lower-cased, as Python's configparser does), value with
/// surrounding single quotes stripped, remembering each key's line.
fn parse_ini(text: &str) -> Result<BTreeMap<String, (usize, String)>, String> {
    let mut out = BTreeMap::new();
    let mut last_key: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if trimmed.starts_with('[') {
            if !trimmed.ends_with(']') {
                return Err(format!("line {line_no}: unterminated section header"));
            }
            last_key = None;
            continue;
        }
        // configparser continuation lines: indented text after a key.
        if raw.starts_with([' ', '\t'])
            && let Some(k) = &last_key
            && let Some((_, v)) = out.get_mut(k)
        {
            let v: &mut String = v;
            v.push('\n');
            v.push_str(trimmed);
            continue;
        }
        let Some(pos) = trimmed.find(['=', ':']) else {
            return Err(format!("line {line_no}: expected `key = value`"));
        };
        let key = trimmed[..pos].trim().to_ascii_lowercase();
        let value = trimmed[pos + 1..].trim().to_string();
        last_key = Some(key.clone());
        out.insert(key, (line_no, value));
    }
    for (_, v) in out.values_mut() {
        let t = v.trim();
        let t = t
            .strip_prefix('\'')
            .and_then(|s| s.strip_suffix('\''))
            .unwrap_or(t);
        *v = t.to_string();
    }
    Ok(out)
}

fn parse_num<T: std::str::FromStr>(v: &str) -> Result<T, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("{v:?} is not a number"))
}

/// Python's `strtobool`.
fn strtobool(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" | "t" | "true" | "on" | "1" => Ok(true),
        "n" | "no" | "f" | "false" | "off" | "0" => Ok(false),
        _ => Err(format!("{v:?} is not a boolean")),
    }
}

/// A Python dict literal of strings (`{'sw1': 'eth1'}`), read as JSON after quote swap.
fn parse_py_dict(v: &str) -> Result<BTreeMap<String, String>, String> {
    serde_json::from_str(&v.replace('\'', "\"")).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Poseidon's shipped `config/poseidon.config`, every key (values as shipped).
    const SHIPPED: &str = r#"[Poseidon]
logger_level = INFO
reinvestigation_frequency = 900
max_concurrent_reinvestigations = 2
scan_frequency = 5
learn_public_addresses = True
controller_type = faucet
collector_nic = lo
controller_mirror_ports = '{"switch1": 3}'
controller_proxy_mirror_ports = '{"switchX": ["switch1", 99]}'
tunnel_vlan = 999
tunnel_name = poseidon_tunnel
ignore_vlans = '[]'
ignore_ports = '{}'
trunk_ports = '{}'
automated_acls = False
rules_file = /opt/poseidon/config/rules.yaml
faucetconfrpc_address = faucetconfrpc:59999
faucetconfrpc_client = poseidon
prometheus_ip = prometheus
prometheus_port = 9090
network_tap_ip = network_tap
network_tap_port = 8080
FA_RABBIT_HOST = RABBIT_SERVER
FA_RABBIT_PORT = 5672
FA_RABBIT_EXCHANGE = topic_recs
FA_RABBIT_EXCHANGE_TYPE = topic
FA_RABBIT_ROUTING_KEY = FAUCET.Event

[VOLOS]
enable_volos = False
volos_cfg_file = /volos/volos_config.yaml
acl_dir = /volos/acls
coprocessor_port = 23
ignore_copro_ports = '{}'
coprocessing_frequency = 900
max_concurrent_coprocessing = 2

[PIPETTE]
pipette_repo = https://example.invalid/pipette.git
pipette_dir = /pipette
coprocessor_nic = enx0
fake_interface = fake0
fake_mac = 0e:00:00:00:00:67
fake_ips = ['10.10.0.1/16']
coprocessor_vlans = [2]
bridge = br0
pipette_port = 6699
pcap_location = /pcaps
pcap_size = 15
"#;

    #[test]
    fn poseidon_shipped_config_reads() {
        let c = SdnConfig::from_poseidon_str(SHIPPED).unwrap();
        assert_eq!(c.collector_nic.as_deref(), Some("lo"));
        assert_eq!(c.mirror_ports.get("switch1"), Some(&3));
        assert_eq!(
            c.proxy_mirror_ports.get("switchX"),
            Some(&ProxyMirror {
                switch: "switch1".into(),
                port: 99
            })
        );
        assert_eq!(c.tunnel_vlan, Some(999));
        assert!(c.learn_public_addresses);
        assert_eq!(c.reinvestigation_frequency, 900);
        assert_eq!(c.capture_seconds, 900);
        assert_eq!(c.max_concurrent_reinvestigations, 2);
        assert_eq!(c.faucetconfrpc.client_name, "poseidon");
        assert_eq!(
            c.faucetconfrpc.ca_cert_path(),
            PathBuf::from("/certs/faucetconfrpc-ca.crt")
        );
        let r = c.rabbit.unwrap();
        assert_eq!(r.uri, "amqp://guest:guest@RABBIT_SERVER:5672/%2f");
        assert_eq!(r.exchange, "topic_recs");
        assert_eq!(r.routing_key, "FAUCET.Event");
        assert_eq!(c.poseidon_unused.get("prometheus_port").unwrap(), "9090");
        assert_eq!(c.mirror_backend, MirrorBackend::Faucetconfrpc);
    }

    #[test]
    fn poseidon_config_errors_name_line_and_key() {
        let err =
            SdnConfig::from_poseidon_str("[a]\nmax_concurrent_reinvestigations = x\n").unwrap_err();
        assert!(
            err.contains("line 2") && err.contains("max_concurrent"),
            "{err}"
        );
        let err = SdnConfig::from_poseidon_str("bogus_key = 1\n").unwrap_err();
        assert!(err.contains("bogus_key"), "{err}");
    }

    #[test]
    fn trunk_ports_both_forms_and_dict_nic() {
        let c = SdnConfig::from_poseidon_str(
            "trunk_ports = '{\"sw1\": \"00:11:22:33:44:55,7\", \"sw2\": 4}'\ncollector_nic = {'sw1': 'eth1'}\n",
        )
        .unwrap();
        assert_eq!(c.trunk_ports.get("sw1"), Some(&7));
        assert_eq!(c.trunk_ports.get("sw2"), Some(&4));
        assert_eq!(c.collector_nic_for("sw1"), Some("eth1"));
    }

    #[test]
    fn toml_sdn_table() {
        let c = SdnConfig::from_toml_str(
            "[sdn]\nevent_socket = \"/run/faucet.sock\"\nmax_concurrent_reinvestigations = 1\nreinvestigation_frequency = 60\n[sdn.mirror_ports]\nsw1 = 3\n",
        )
        .unwrap();
        assert_eq!(c.mirror_ports.get("sw1"), Some(&3));
        assert_eq!(c.capture_seconds, 60);
        assert!(SdnConfig::from_toml_str("[sdn]\nnope = 1\n").is_err());
    }
}
