//! A throwaway SoftHSM2 token for the PKCS#11 tests, checked with OpenSC's pkcs11-tool.

use super::{Env, text};

/// The user PIN of the test token, given to certkit as `--ca-pass env:TOKEN_PIN` or `--pin env:TOKEN_PIN`.
pub const TOKEN_PIN: &str = "token pin 0123";
const SO_PIN: &str = "so pin 01234567";
/// The test token's label.
pub const TOKEN: &str = "certkit-test";

/// SoftHSM2's module, where Debian installs it.
pub fn module() -> String {
    let known = [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    ];
    known
        .iter()
        .find(|m| std::path::Path::new(m).is_file())
        .unwrap_or_else(|| {
            panic!("SoftHSM2 is required for these tests (scripts/test.sh installs softhsm2)")
        })
        .to_string()
}

/// Points the test's commands at the SoftHSM tokens in `env`'s folder (`softhsm/tokens`).
pub fn use_tokens_in(env: &Env) {
    let root = env.path("softhsm");
    std::fs::create_dir_all(root.join("tokens")).expect("token folder");
    let conf = root.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            root.join("tokens").display()
        ),
    )
    .expect("softhsm2.conf");
    env.set_var("SOFTHSM2_CONF", &conf.display().to_string());
    env.set_var("TOKEN_PIN", TOKEN_PIN);
}

/// A new, empty token labelled [`TOKEN`] in `env`'s own SoftHSM folder.
pub fn softhsm(env: &Env) {
    use_tokens_in(env);
    let out = env.tool(
        "softhsm2-util",
        &[
            "--init-token",
            "--free",
            "--label",
            TOKEN,
            "--pin",
            TOKEN_PIN,
            "--so-pin",
            SO_PIN,
        ],
    );
    assert!(out.status.success(), "softhsm2-util: {}", text(&out.stderr));
}

/// What pkcs11-tool lists on the test token (logged in, so private objects show).
pub fn list_objects(env: &Env) -> String {
    let out = env.tool(
        "pkcs11-tool",
        &[
            "--module",
            &module(),
            "--token-label",
            TOKEN,
            "--login",
            "--pin",
            TOKEN_PIN,
            "--list-objects",
        ],
    );
    assert!(
        out.status.success(),
        "pkcs11-tool is required for these tests (scripts/test.sh installs opensc): {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The `Access:` line of the private key labelled `label`, as pkcs11-tool shows it, split at the commas.
pub fn private_key_access(env: &Env, label: &str) -> Vec<String> {
    let listing = list_objects(env);
    let mut lines = listing.lines();
    while let Some(line) = lines.next() {
        if !line.starts_with("Private Key Object") {
            continue;
        }
        let block: Vec<&str> = lines
            .clone()
            .take_while(|l| l.starts_with(' ') || l.starts_with('\t'))
            .collect();
        if block
            .iter()
            .any(|l| l.trim() == format!("label:      {label}"))
        {
            let access = block
                .iter()
                .find_map(|l| l.trim().strip_prefix("Access:"))
                .unwrap_or_else(|| panic!("no Access line for {label} in:\n{listing}"));
            return access.split(',').map(|a| a.trim().to_string()).collect();
        }
    }
    panic!("no private key labelled {label} on the token:\n{listing}");
}

/// Writes the private key in the DER file `der` onto the test token under `label` and `id` (hex), with
/// pkcs11-tool: a key that was made elsewhere, as a CA brought in with its key on a token has.
pub fn write_private_key(env: &Env, der: &str, label: &str, id: &str) {
    let out = env.tool(
        "pkcs11-tool",
        &[
            "--module",
            &module(),
            "--token-label",
            TOKEN,
            "--login",
            "--pin",
            TOKEN_PIN,
            "--write-object",
            der,
            "--type",
            "privkey",
            "--label",
            label,
            "--id",
            id,
        ],
    );
    assert!(out.status.success(), "pkcs11-tool: {}", text(&out.stderr));
}
