//! `certkit-ca`: create and keep an offline CA.
fn main() -> std::process::ExitCode {
    certkit_ca::cli_support::main("certkit-ca", certkit_ca::cli::run)
}
