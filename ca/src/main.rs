//! `certkit-ca`: create and keep an offline CA.
use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = certkit_ca::cli::Cli::parse();
    certkit_ca::cli_support::finish("certkit-ca", certkit_ca::cli::run(cli))
}
