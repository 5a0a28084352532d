//! The `ota` command; everything is in the library (lib.rs).

use clap::Parser;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    ota_cli::run(ota_cli::args::Cli::parse()).await
}
