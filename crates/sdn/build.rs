//! Generates the faucetconfrpc gRPC client from `proto/faucetconfserver.proto`.
//!
//! The .proto is compiled by `protox` (a protobuf compiler written in Rust), so building
//! trident needs no `protoc`; tonic-prost-build turns the descriptors into the client.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    const PROTO: &str = "proto/faucetconfserver.proto";
    println!("cargo:rerun-if-changed={PROTO}");
    let descriptors = protox::compile([PROTO], ["proto"])?;
    tonic_prost_build::configure()
        .build_server(false)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
