//! `certkit-ca`: create and keep an offline CA.
fn main() -> std::process::ExitCode {
    certkit_ca::term::main(
        "certkit-ca",
        &certkit_ca::cli::guide::GUIDE,
        certkit_ca::cli::run,
    )
}
