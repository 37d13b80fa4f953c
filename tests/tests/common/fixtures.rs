//! The set-ups tests share: a CA of each kind, made by the built binaries as a user makes it, once per test
//! run (per build of the binaries and per day), and copied into each test's folder, where the test may change
//! its copy freely. Every CA is P-256.
//!
//! - [`Fixture::FileCa`]: "Test CA" in `pki/`, its key in `pki/ca.key` under CA_PW, and a client certificate
//!   for `alice` (`alice.cer`, `alice.pem`, `alice.key` under KEY_PW).
//! - [`Fixture::TokenCa`]: "Token CA" in `pki/`, its key `CA-1` on the SoftHSM token in `softhsm/` (PIN
//!   TOKEN_PIN; the copy's commands use the copy's token), and the client `alice`.
//! - [`Fixture::RootAndIssuing`]: "Test CA" in `root/` and "Issuing CA 1" in `issuing/`, made by
//!   `init --parent root`, both under CA_PW; nothing issued.
//! - [`Fixture::Rekeyed`]: the file CA with `alice`, then re-keyed: `first.pem` is its first certificate.
//!
//! Where they are kept: `target/debug/test-fixtures/KIND-STAMP/`, STAMP naming the build of certkit-ca and
//! certkit-issue and the day. Many tests (nextest runs each in its own process) may ask at once: each makes
//! its own copy in a temporary folder beside it and renames it into place; the first rename wins, the others
//! use it.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use super::{Env, bin, bin_dir, cli, text, token};

#[derive(Clone, Copy, Debug)]
pub enum Fixture {
    FileCa,
    TokenCa,
    RootAndIssuing,
    Rekeyed,
}

impl Fixture {
    fn name(self) -> &'static str {
        match self {
            Fixture::FileCa => "file-ca",
            Fixture::TokenCa => "token-ca",
            Fixture::RootAndIssuing => "root-and-issuing",
            Fixture::Rekeyed => "rekeyed",
        }
    }

    /// Makes the fixture in `env`'s folder, as a user would.
    fn make(self, env: &Env) {
        match self {
            Fixture::FileCa => {
                env.ok(
                    "certkit-ca",
                    &cli("init --ca pki --cn 'Test CA' --key p256 --ca-pass env:CA_PW"),
                );
                env.issue(&cli("client --ca pki --cn alice --out alice --key p256"));
            }
            Fixture::TokenCa => {
                token::softhsm(env);
                env.ok(
                    "certkit-ca",
                    &cli("init --ca pki --cn 'Token CA' --key p256 --pkcs11 \
                        pkcs11:token=certkit-test;object=CA-1 --ca-pass env:TOKEN_PIN"),
                );
                env.issue(&cli(
                    "client --ca pki --cn alice --out alice --key p256 --ca-pass env:TOKEN_PIN",
                ));
            }
            Fixture::RootAndIssuing => {
                env.root_and_issuing("root", "issuing", &[], &[]);
            }
            Fixture::Rekeyed => {
                Fixture::FileCa.make(env);
                std::fs::copy(env.path("pki/ca.pem"), env.path("first.pem")).expect("copy");
                env.ok("certkit-ca", &cli("rekey --ca pki --ca-pass env:CA_PW"));
            }
        }
    }

    /// The fixture's folder, made first when this build has none for today.
    fn folder(self) -> PathBuf {
        let root = bin_dir().join("test-fixtures");
        std::fs::create_dir_all(&root).expect("target/debug/test-fixtures");
        let mut stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs()
            / 86_400;
        for binary in ["certkit-ca", "certkit-issue"] {
            let meta = std::fs::metadata(bin(binary)).expect("binary");
            stamp = stamp
                .wrapping_mul(1_000_003)
                .wrapping_add(meta.size() ^ meta.mtime_nsec() as u64 ^ meta.mtime() as u64);
        }
        let folder = root.join(format!("{}-{stamp:016x}", self.name()));
        if folder.is_dir() {
            return folder;
        }
        let making = tempfile::Builder::new()
            .prefix(&format!(".{}-", self.name()))
            .tempdir_in(&root)
            .expect("a folder to make the fixture in");
        let env = Env::in_folder(making);
        self.make(&env);
        // Another test may have made it meanwhile: its copy is as good as this one.
        if std::fs::rename(env.dir.path(), &folder).is_err() && !folder.is_dir() {
            panic!("could not keep the fixture in {}", folder.display());
        }
        folder
    }
}

impl Env {
    /// A new test folder holding a copy of `fixture` (see the module's documentation).
    pub fn with_fixture(fixture: Fixture) -> Env {
        let env = Env::new();
        env.copy_fixture(fixture);
        env
    }

    /// Copies `fixture` into this test's folder (see the module's documentation).
    pub fn copy_fixture(&self, fixture: Fixture) {
        let from = fixture.folder();
        let copied = self.tool("cp", &["-a", &format!("{}/.", from.display()), "."]);
        assert!(copied.status.success(), "cp: {}", text(&copied.stderr));
        if self.path("softhsm").is_dir() {
            token::use_tokens_in(self);
        }
    }
}
