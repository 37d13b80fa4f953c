//! `certkit-export`: PFX, CER, thumbprints and service configuration.
fn main() -> std::process::ExitCode {
    certkit_ca::term::main(
        "certkit-export",
        &certkit_export::cli::guide::GUIDE,
        certkit_export::cli::run,
    )
}
