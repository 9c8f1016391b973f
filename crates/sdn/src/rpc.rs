//! [`ConfRpcClient`]: the faucetconfrpc gRPC back-end of [`MirrorControl`].
//!
//! faucetconfrpc owns Faucet's YAML files and edits them on request, validating each
//! change with Faucet's own parser; Faucet's stat-reload applies it. It speaks gRPC over
//! mutual TLS only: we present a client certificate and verify the server against a CA,
//! all three given by path ([`RpcConfig`]). The schema is our own
//! `proto/faucetconfserver.proto`, wire-compatible with the real service (its header says
//! where it comes from); `build.rs` compiles it with `protox`, so no `protoc` is needed.
//!
//! One thing the server does not do for us: it does not check that the ports it is asked
//! about exist. `AddPortMirror` on an unknown port fails with a bare Python `KeyError`
//! (status text `Exception calling application: 9`), and `ClearPortMirror` on an unknown
//! mirror port *creates* that interface with `mirror: []`. So every operation first asks
//! `GetDpInfo` for the DP and fails with [`MirrorError::MissingPort`] when the DP, the host
//! port or the mirror port is not in the configuration, before anything is written.

use std::path::Path;
use std::time::Duration;

use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::config::RpcConfig;
use crate::error::MirrorError;
use crate::{MirrorControl, MirrorFuture};

/// The code tonic generated from `proto/faucetconfserver.proto` (package
/// `faucetconfserver`): request/reply messages and the `FaucetConfServerClient`.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod proto {
    tonic::include_proto!("faucetconfserver");
}

use proto::faucet_conf_server_client::FaucetConfServerClient;

/// The back-end name in logs and errors.
const BACKEND: &str = "faucetconfrpc";
/// How long to wait for the TCP + TLS connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one call may take: the server validates the whole config with Faucet's parser
/// under one global lock (about 0.1 s for a one-switch config here; more for big ones, and
/// calls queue behind each other).
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A faucetconfrpc client (cheap to clone: clones share one HTTP/2 connection, which tonic
/// re-establishes by itself after the server restarts).
#[derive(Debug, Clone)]
pub struct ConfRpcClient {
    client: FaucetConfServerClient<Channel>,
    address: String,
}

impl ConfRpcClient {
    /// Reads the certificates named by `config` and connects now, so a wrong address, a
    /// server that is down or a TLS mismatch is reported here, naming the address.
    ///
    /// # Errors
    /// [`MirrorError::Unreachable`] when a certificate file cannot be read, the address is
    /// invalid, or the connection or TLS handshake fails.
    pub async fn connect(config: &RpcConfig) -> Result<Self, MirrorError> {
        let endpoint = endpoint(config)?;
        let channel = endpoint
            .connect()
            .await
            .map_err(|e| unreachable(format!("{}: {}", config.address, chain(&e))))?;
        Ok(Self::from_channel(channel, config))
    }

    /// Like [`ConfRpcClient::connect`] but connects on first use (certificates are still
    /// read now). For an engine that should start while faucetconfrpc is down.
    ///
    /// # Errors
    /// [`MirrorError::Unreachable`] when a certificate file cannot be read or the address is
    /// invalid.
    pub fn connect_lazy(config: &RpcConfig) -> Result<Self, MirrorError> {
        let channel = endpoint(config)?.connect_lazy();
        Ok(Self::from_channel(channel, config))
    }

    fn from_channel(channel: Channel, config: &RpcConfig) -> Self {
        ConfRpcClient {
            client: FaucetConfServerClient::new(channel),
            address: config.address.clone(),
        }
    }

    /// The server's `host:port`.
    #[must_use]
    pub fn address(&self) -> &str {
        &self.address
    }

    /// `GetConfigFile`: the text of one of the server's files (`""` = its default file,
    /// normally `faucet.yaml`), as the server re-serialised it.
    ///
    /// # Errors
    /// [`MirrorError::Unreachable`] or [`MirrorError::Refused`] with the server's message.
    pub async fn get_config_file(&self, config_filename: &str) -> Result<String, MirrorError> {
        let request = proto::GetConfigFileRequest {
            config_filename: config_filename.to_owned(),
        };
        let reply = self
            .client
            .clone()
            .get_config_file(request)
            .await
            .map_err(|s| self.status_error("GetConfigFile", "", 0, &s))?;
        Ok(reply.into_inner().config_yaml)
    }

    /// `GetDpInfo` for one DP (`""` = all): names, ids and interfaces.
    ///
    /// # Errors
    /// [`MirrorError::Unreachable`] or [`MirrorError::Refused`] with the server's message.
    pub async fn dp_info(&self, dp_name: &str) -> Result<Vec<proto::DpInfo>, MirrorError> {
        let request = proto::GetDpInfoRequest {
            dp_name: dp_name.to_owned(),
            config_filename: String::new(),
        };
        let reply = self
            .client
            .clone()
            .get_dp_info(request)
            .await
            .map_err(|s| self.status_error("GetDpInfo", dp_name, 0, &s))?;
        Ok(reply.into_inner().dps)
    }

    /// Fails with [`MirrorError::MissingPort`] unless DP `dp_name` has every port in
    /// `ports` (see the module docs for why the server's own answer is not enough).
    async fn require_ports(&self, dp_name: &str, ports: &[u32]) -> Result<(), MirrorError> {
        // An unknown DP gives an empty list (not an error).
        let dps = self.dp_info(dp_name).await?;
        let dp = dps.iter().find(|dp| dp.name == dp_name);
        for &port_no in ports {
            let present = dp.is_some_and(|dp| dp.interfaces.iter().any(|i| i.port_no == port_no));
            if !present {
                return Err(MirrorError::MissingPort {
                    backend: BACKEND,
                    dp_name: dp_name.to_owned(),
                    port_no,
                });
            }
        }
        Ok(())
    }

    /// Maps a gRPC status to a [`MirrorError`]. A status tonic made itself from a failed
    /// connection or a broken stream carries the transport error as its source (whatever
    /// its code: a server killed mid-call gives `UNKNOWN`) and is `Unreachable`, as are
    /// `UNAVAILABLE` and timeouts; a status the server sent (it uses `UNKNOWN` with its
    /// log line as the message) is `Refused`.
    fn status_error(
        &self,
        op: &'static str,
        dp_name: &str,
        port_no: u32,
        status: &tonic::Status,
    ) -> MirrorError {
        let local = std::error::Error::source(status).is_some();
        match status.code() {
            _ if local => self.transport_error(op, status),
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
                self.transport_error(op, status)
            }
            code => MirrorError::Refused {
                backend: BACKEND,
                op,
                dp_name: dp_name.to_owned(),
                port_no,
                detail: format!("{code:?}: {}", status.message()),
            },
        }
    }

    fn transport_error(&self, op: &'static str, status: &tonic::Status) -> MirrorError {
        let cause = match std::error::Error::source(status) {
            // tonic's message repeats the top of the chain ("transport error").
            Some(source) => chain(source),
            None => status.message().to_owned(),
        };
        unreachable(format!("{}: {op}: {cause}", self.address))
    }

    async fn add(
        &self,
        dp_name: &str,
        port_no: u32,
        mirror_port_no: u32,
    ) -> Result<(), MirrorError> {
        self.require_ports(dp_name, &[port_no, mirror_port_no])
            .await?;
        let request = proto::AddPortMirrorRequest {
            dp_name: dp_name.to_owned(),
            port_no,
            mirror_port_no,
        };
        self.client
            .clone()
            .add_port_mirror(request)
            .await
            .map_err(|s| self.status_error("AddPortMirror", dp_name, port_no, &s))?;
        Ok(())
    }

    async fn remove(
        &self,
        dp_name: &str,
        port_no: u32,
        mirror_port_no: u32,
    ) -> Result<(), MirrorError> {
        self.require_ports(dp_name, &[port_no, mirror_port_no])
            .await?;
        let request = proto::RemovePortMirrorRequest {
            dp_name: dp_name.to_owned(),
            port_no,
            mirror_port_no,
        };
        self.client
            .clone()
            .remove_port_mirror(request)
            .await
            .map_err(|s| self.status_error("RemovePortMirror", dp_name, port_no, &s))?;
        Ok(())
    }

    async fn clear(&self, dp_name: &str, mirror_port_no: u32) -> Result<(), MirrorError> {
        self.require_ports(dp_name, &[mirror_port_no]).await?;
        let request = proto::ClearPortMirrorRequest {
            dp_name: dp_name.to_owned(),
            mirror_port_no,
        };
        self.client
            .clone()
            .clear_port_mirror(request)
            .await
            .map_err(|s| self.status_error("ClearPortMirror", dp_name, mirror_port_no, &s))?;
        Ok(())
    }
}

impl MirrorControl for ConfRpcClient {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn add_port_mirror<'a>(
        &'a self,
        dp_name: &'a str,
        port_no: u32,
        mirror_port_no: u32,
    ) -> MirrorFuture<'a> {
        Box::pin(self.add(dp_name, port_no, mirror_port_no))
    }

    fn remove_port_mirror<'a>(
        &'a self,
        dp_name: &'a str,
        port_no: u32,
        mirror_port_no: u32,
    ) -> MirrorFuture<'a> {
        Box::pin(self.remove(dp_name, port_no, mirror_port_no))
    }

    fn clear_port_mirror<'a>(&'a self, dp_name: &'a str, mirror_port_no: u32) -> MirrorFuture<'a> {
        Box::pin(self.clear(dp_name, mirror_port_no))
    }

    fn get_config(&self) -> crate::ConfigFuture<'_> {
        Box::pin(self.get_config_file(""))
    }

    fn set_port_acls<'a>(
        &'a self,
        dp_name: &'a str,
        port_no: u32,
        acls: &'a [String],
    ) -> MirrorFuture<'a> {
        Box::pin(async move {
            self.require_ports(dp_name, &[port_no]).await?;
            let request = proto::SetPortAclRequest {
                dp_name: dp_name.to_owned(),
                port_no,
                acls: acls.join(","),
            };
            self.client
                .clone()
                .set_port_acl(request)
                .await
                .map_err(|s| self.status_error("SetPortAcl", dp_name, port_no, &s))?;
            Ok(())
        })
    }

    fn set_config_file<'a>(&'a self, name: &'a str, yaml: &'a str) -> MirrorFuture<'a> {
        Box::pin(async move {
            let request = proto::SetConfigFileRequest {
                // Empty: the server's `--default_config`.
                config_filename: name.to_owned(),
                config_yaml: yaml.to_owned(),
                merge: false,
                del_config_yaml_keys: String::new(),
            };
            self.client
                .clone()
                .set_config_file(request)
                .await
                .map_err(|s| self.status_error("SetConfigFile", name, 0, &s))?;
            Ok(())
        })
    }
}

/// The endpoint for `config`: `https://<address>` with mutual TLS from the three PEM files.
fn endpoint(config: &RpcConfig) -> Result<Endpoint, MirrorError> {
    let ca = read_pem("CA certificate", &config.ca_cert_path())?;
    let cert = read_pem("client certificate", &config.client_cert_path())?;
    let key = read_pem("client key", &config.client_key_path())?;
    let server_name = config
        .server_name
        .clone()
        .unwrap_or_else(|| config.host().trim_matches(['[', ']']).to_owned());
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca))
        .identity(Identity::from_pem(cert, key))
        .domain_name(server_name);
    Endpoint::from_shared(format!("https://{}", config.address))
        .map_err(|e| unreachable(format!("address {:?}: {}", config.address, chain(&e))))?
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(CALL_TIMEOUT)
        .tls_config(tls)
        .map_err(|e| unreachable(format!("{}: TLS set-up: {}", config.address, chain(&e))))
}

/// Reads a PEM file, naming it (and what it is for) on failure; empty files are an error
/// here rather than an obscure TLS failure later.
fn read_pem(what: &str, path: &Path) -> Result<Vec<u8>, MirrorError> {
    match std::fs::read(path) {
        Ok(bytes) if bytes.is_empty() => Err(unreachable(format!(
            "{what} {}: empty file",
            path.display()
        ))),
        Ok(bytes) => Ok(bytes),
        Err(e) => Err(unreachable(format!("{what} {}: {e}", path.display()))),
    }
}

fn unreachable(detail: String) -> MirrorError {
    MirrorError::Unreachable {
        backend: BACKEND,
        detail,
    }
}

/// An error and its sources, `: `-joined (tonic's top-level messages are terse, e.g.
/// "transport error", and the cause is further down).
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let next = e.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_certificate_names_the_file() {
        let config = RpcConfig {
            address: "127.0.0.1:1".into(),
            cert_dir: "/nonexistent-trident-certs".into(),
            client_name: "poseidon".into(),
            ..RpcConfig::default()
        };
        let Err(err) = endpoint(&config) else {
            panic!("an endpoint without certificates");
        };
        let err = err.to_string();
        assert!(err.contains("faucetconfrpc"), "{err}");
        assert!(
            err.contains("/nonexistent-trident-certs/127.0.0.1-ca.crt"),
            "{err}"
        );
    }

    #[test]
    fn chain_joins_sources_once() {
        let inner = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let outer = std::io::Error::other(inner);
        assert_eq!(chain(&outer), "refused");
    }
}
