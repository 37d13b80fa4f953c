//! The README a newcomer reads (issue 32): Install comes first, it fits in about 250 lines, every document it
//! names exists, the version it installs is the one Cargo builds, and its tutorial runs as written: every
//! command, in order, on a real terminal that types the passwords at the prompts, printing what the README
//! shows (tests/peers/tutorial.py). What the tutorial made is then checked with openssl and Python.

mod common;

use common::*;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).expect("README")
}

#[test]
fn install_comes_first_and_the_readme_stays_short() {
    let text = readme();
    let sections: Vec<&str> = text.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(sections.first(), Some(&"## Install"), "{sections:?}");
    assert!(
        sections.iter().any(|s| s.starts_with("## Tutorial")),
        "{sections:?}"
    );
    assert_eq!(sections.last(), Some(&"## Build and test"));
    let lines = text.lines().count();
    assert!(
        lines <= 250,
        "the README has {lines} lines (at most about 250)"
    );
    // The two commands a new user needs stay in Build and test.
    assert!(
        text.contains("scripts/quickstart.sh   #") && text.contains("scripts/test.sh         #")
    );
    // Every document it points to exists.
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    for word in text.split(|c: char| c.is_whitespace() || "(),`".contains(c)) {
        if let Some(doc) = word.strip_prefix("docs/").filter(|d| d.ends_with(".md")) {
            assert!(
                std::path::Path::new(&format!("{root}/docs/{doc}")).exists(),
                "the README names docs/{doc}, which does not exist"
            );
        }
    }
    // The packages it installs are the version Cargo builds.
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        text.contains(&format!("certkit_{version}-1_amd64.deb"))
            && text.contains(&format!("certkit-{version}-x86_64-linux.tar.gz")),
        "the README's Install names another version than {version}"
    );
}

#[test]
fn the_tutorial_runs_as_written() {
    let env = Env::new();
    std::fs::copy(example_cscfg(), env.path("ServiceConfiguration.cscfg")).expect("copy");
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = env
        .command("python3")
        .arg(peer("tutorial.py"))
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .arg(env.path(""))
        .env("PATH", path)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_str(text(&out.stdout).lines().last().expect("summary line"))
            .expect("summary");
    assert!(summary["commands"].as_u64() >= Some(10), "{summary}");
    // Prompts were answered: the CA's twice when new, then the passwords of each new key and PFX.
    assert!(
        summary["prompts_answered"].as_u64() >= Some(12),
        "{summary}"
    );
    // A certificate with a PFX takes three entries at the terminal, not five: the CA's password, then one new
    // password for the key file and the PFX, twice.
    let server = summary["steps"]
        .as_array()
        .and_then(|s| {
            s.iter().find(|s| {
                s["command"]
                    .as_str()
                    .is_some_and(|c| c.contains(" server "))
            })
        })
        .expect("the server step");
    assert_eq!(
        server["prompts"].as_array().map(Vec::len),
        Some(3),
        "{server}"
    );

    // What it made, as independent tools see it.
    env.openssl_ok(&cli("verify -CAfile pki/ca.pem ssl.pem alice.pem bob.pem"));
    let cscfg = String::from_utf8(env.read("ServiceConfiguration.cscfg")).expect("utf8");
    assert!(cscfg.contains(&env.openssl_thumbprint("alice.cer")));
    assert!(cscfg.contains(&env.openssl_thumbprint("ssl.cer")));
    assert!(cscfg.contains(&env.openssl_thumbprint("ca.cer")));
    assert!(
        !cscfg.contains(&env.openssl_thumbprint("bob.cer")),
        "the revoked certificate is still allowed"
    );
    let bob_serial = env.openssl_ok(&cli("x509 -in bob.pem -noout -serial"));
    let crl = env.openssl_ok(&cli(
        "crl -in pki/ca.crl -inform DER -CAfile pki/ca.pem -noout -text",
    ));
    assert!(
        crl.contains(bob_serial.trim().trim_start_matches("serial=")),
        "{crl}"
    );
    // The PFX files open with the password typed at the prompt.
    env.openssl_ok(&cli(
        "pkcs12 -in alice.pfx -passin pass:tutorial-pfx-password -noout",
    ));
}
