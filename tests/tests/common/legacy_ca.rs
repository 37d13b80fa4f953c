//! CAs made by the programs certkit imports from, for real: an `openssl ca` folder made with the openssl CLI
//! and its own openssl.cnf, and an easy-rsa 3 PKI made by Debian's `easyrsa`; and a hash of a whole folder tree,
//! to show an import never touches its source.

use std::path::Path;

use super::{Env, text};

/// The password of the source CAs' keys (`--source-pass env:SRC_PW`).
pub const SRC_PW: &str = "source password 0123";

/// easy-rsa's script, installed by scripts/lib/deps.sh (Debian package easy-rsa).
pub const EASYRSA: &str = "/usr/share/easy-rsa/easyrsa";

/// The openssl.cnf of the `openssl ca` folder: a policy section, `unique_subject = no`, relative paths (from
/// `dir = .`), three extension sections (no EKU, client, server).
pub const OPENSSL_CNF: &str = "\
[ ca ]
default_ca = CA_default

[ CA_default ]
dir = .
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/cacert.pem
private_key = $dir/private/cakey.pem
serial = $dir/serial
crlnumber = $dir/crlnumber
crl = $dir/crl.pem
default_md = sha256
default_days = 365
default_crl_days = 30
policy = policy_match
unique_subject = no
copy_extensions = none
x509_extensions = usr_cert

[ policy_match ]
organizationName = match
commonName = supplied

[ usr_cert ]
basicConstraints = CA:FALSE
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ client_cert ]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ server_cert ]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = DNS:web.example.com
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash

[ req ]
distinguished_name = dn

[ dn ]
";

/// Runs a command in `dir` (under the test folder) with SRC_PW set; it must succeed. Returns stdout.
pub fn run_in(env: &Env, dir: &str, program: &str, args: &[&str]) -> String {
    let mut cmd = env.command(program);
    cmd.current_dir(env.path(dir))
        .env("SRC_PW", SRC_PW)
        .args(args);
    succeeded(cmd, program, args)
}

/// Runs `cmd` (the peer `program` with `args`); it must succeed. Returns its stdout.
fn succeeded(mut cmd: std::process::Command, program: &str, args: &[&str]) -> String {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("{program} is required for these tests (scripts/test.sh installs it): {e}")
    });
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// What [`openssl_ca_folder`] made: each leaf's serial (hex, as index.txt writes it).
pub struct OpensslCa {
    /// alice: clientAuth, valid.
    pub alice: String,
    /// bob: clientAuth, revoked with keyCompromise.
    pub bob: String,
    /// web: serverAuth, valid.
    pub web: String,
    /// plain: no EKU (profile unknown), valid.
    pub plain: String,
    /// old: clientAuth, expired in 2021 (an E line after -updatedb).
    pub old: String,
}

/// An `openssl ca` folder in `dir` (its key PKCS#1, AES-256 under SRC_PW), leaves' keys and requests in
/// `leaves/`; five certificates, one revoked (keyCompromise), one expired, and a CRL (number 1).
pub fn openssl_ca_folder(env: &Env, dir: &str) -> OpensslCa {
    for sub in ["newcerts", "private"] {
        std::fs::create_dir_all(env.path(&format!("{dir}/{sub}"))).expect("folders");
    }
    std::fs::create_dir_all(env.path("leaves")).expect("leaves");
    std::fs::write(env.path(&format!("{dir}/openssl.cnf")), OPENSSL_CNF).expect("cnf");
    std::fs::write(env.path(&format!("{dir}/index.txt")), "").expect("index");
    std::fs::write(env.path(&format!("{dir}/serial")), "1000\n").expect("serial");
    std::fs::write(env.path(&format!("{dir}/crlnumber")), "01\n").expect("crlnumber");
    let o = |args: &[&str]| run_in(env, dir, "openssl", args);
    o(&[
        "genrsa",
        "-traditional",
        "-aes256",
        "-passout",
        "env:SRC_PW",
        "-out",
        "private/cakey.pem",
        "2048",
    ]);
    o(&[
        "req",
        "-config",
        "openssl.cnf",
        "-x509",
        "-new",
        "-key",
        "private/cakey.pem",
        "-passin",
        "env:SRC_PW",
        "-subj",
        "/O=Example/CN=Legacy CA",
        "-days",
        "3650",
        "-extensions",
        "v3_ca",
        "-out",
        "cacert.pem",
    ]);
    let mut serials = Vec::new();
    for (name, section, dates) in [
        ("alice", "client_cert", None),
        ("bob", "client_cert", None),
        ("web", "server_cert", None),
        ("plain", "usr_cert", None),
        (
            "old",
            "client_cert",
            Some(("20200101000000Z", "20210101000000Z")),
        ),
    ] {
        let key = format!("../leaves/{name}.key");
        let csr = format!("../leaves/{name}.csr");
        let pem = format!("../leaves/{name}.pem");
        o(&[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &key,
            "-subj",
            &format!("/O=Example/CN={name}"),
            "-out",
            &csr,
        ]);
        let mut args = vec![
            "ca",
            "-config",
            "openssl.cnf",
            "-batch",
            "-notext",
            "-passin",
            "env:SRC_PW",
            "-extensions",
            section,
            "-in",
            &csr,
            "-out",
            &pem,
        ];
        if let Some((start, end)) = dates {
            args.extend(["-startdate", start, "-enddate", end]);
        }
        o(&args);
        let serial = o(&["x509", "-in", &pem, "-noout", "-serial"]);
        serials.push(serial.trim().trim_start_matches("serial=").to_string());
    }
    o(&[
        "ca",
        "-config",
        "openssl.cnf",
        "-passin",
        "env:SRC_PW",
        "-revoke",
        "../leaves/bob.pem",
        "-crl_reason",
        "keyCompromise",
    ]);
    o(&[
        "ca",
        "-config",
        "openssl.cnf",
        "-passin",
        "env:SRC_PW",
        "-updatedb",
    ]);
    o(&[
        "ca",
        "-config",
        "openssl.cnf",
        "-passin",
        "env:SRC_PW",
        "-gencrl",
        "-out",
        "crl.pem",
    ]);
    let mut s = serials.into_iter();
    let mut next = || s.next().expect("serial");
    OpensslCa {
        alice: next(),
        bob: next(),
        web: next(),
        plain: next(),
        old: next(),
    }
}

/// Runs easy-rsa on the PKI `pki` (under the test folder) in batch mode, with SRC_PW as its CA passphrase
/// (`build-ca` names the CA "Easy CA").
pub fn easyrsa(env: &Env, pki: &str, args: &[&str], extra_env: &[(&str, &str)]) -> String {
    let mut cmd = env.command(EASYRSA);
    cmd.env("EASYRSA_BATCH", "1")
        .env("EASYRSA_PKI", env.path(pki))
        .env("EASYRSA_PASSIN", format!("pass:{SRC_PW}"))
        .env("EASYRSA_PASSOUT", format!("pass:{SRC_PW}"))
        .envs(extra_env.iter().copied())
        .envs(
            args.first()
                .filter(|a| **a == "build-ca")
                .map(|_| ("EASYRSA_REQ_CN", "Easy CA")),
        )
        .args(args);
    succeeded(cmd, "easyrsa", args)
}

/// A SHA-256 over every path, link target, mode and file content under `dir`, in order: any change shows.
pub fn tree_hash(dir: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let mut all = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(folder) = todo.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&folder)
            .expect("read source folder")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let meta = path.symlink_metadata().expect("metadata");
            let rel = path
                .strip_prefix(dir)
                .expect("inside")
                .display()
                .to_string();
            all.extend(rel.as_bytes());
            all.extend(meta.permissions().mode().to_be_bytes());
            if meta.file_type().is_symlink() {
                all.extend(
                    std::fs::read_link(&path)
                        .expect("link")
                        .display()
                        .to_string()
                        .as_bytes(),
                );
            } else if meta.is_dir() {
                todo.push(path);
            } else {
                all.extend(super::sha256_hex(&std::fs::read(&path).expect("read")).as_bytes());
            }
        }
    }
    super::sha256_hex(&all)
}

/// The serials a CRL lists (openssl crl -text), upper-case hex, sorted.
pub fn crl_serials(env: &Env, crl: &str, inform: &str) -> Vec<String> {
    let text = env.openssl_ok(&["crl", "-in", crl, "-inform", inform, "-noout", "-text"]);
    let mut serials: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Serial Number: "))
        .map(|s| s.trim().to_uppercase())
        .collect();
    serials.sort();
    serials
}

/// The CRL number of a CRL, if it has one.
pub fn crl_number(env: &Env, crl: &str, inform: &str) -> Option<u64> {
    let text = env.openssl_ok(&["crl", "-in", crl, "-inform", inform, "-noout", "-crlnumber"]);
    let hex = text.trim().strip_prefix("crlNumber=")?;
    u64::from_str_radix(hex.trim_start_matches("0x"), 16).ok()
}
