//! `certkit-export`: PFX, CER, thumbprints and service configuration.
fn main() -> std::process::ExitCode {
    certkit_ca::cli_support::main("certkit-export", certkit_export::cli::run)
}
