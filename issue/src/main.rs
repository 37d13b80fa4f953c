//! `certkit-issue`: server, client and encryption certificates.
fn main() -> std::process::ExitCode {
    certkit_ca::term::main(
        "certkit-issue",
        &certkit_issue::cli::guide::GUIDE,
        certkit_issue::cli::run,
    )
}
