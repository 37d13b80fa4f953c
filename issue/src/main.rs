//! `certkit-issue`: server, client and encryption certificates.
fn main() -> std::process::ExitCode {
    certkit_ca::cli_support::main("certkit-issue", certkit_issue::cli::run)
}
