//! `certkit-ca export-index`: a certkit CA's history written as an `openssl ca` keeps it, so that `openssl ca`
//! can carry on (`-revoke`, `-gencrl`) and `openssl ocsp -index` can serve it: `index.txt` in log order,
//! `index.txt.attr`, `serial`, `crlnumber`, `newcerts/SERIAL.pem`, the CA certificate and an `openssl.cnf`
//! naming them (and the CA folder's own encrypted `ca.key`, which never leaves it). Made under a temporary
//! name beside the output folder and moved into place whole.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::check::oneline;
use super::index_txt::{self, IndexLine, LineRevocation, LineStatus};
use crate::error::{Error, Result};
use crate::files::{self, PUBLIC};
use crate::serial::Serial;
use crate::store::inventory::Event;
use crate::store::{self, CaStore, StoreLock};

/// What was written.
#[derive(Debug)]
pub struct Exported {
    /// Lines of `index.txt`.
    pub lines: usize,
    /// Of them revoked.
    pub revoked: usize,
    /// Of them expired.
    pub expired: usize,
    /// Certificates written into `newcerts/`.
    pub certificates: usize,
    /// The next serial `serial` holds (hex).
    pub next_serial: String,
    /// The next CRL number `crlnumber` holds.
    pub next_crl_number: u64,
    /// The output folder.
    pub out: PathBuf,
}

/// Writes the export of `store` (locked, so reconciled and checked against its checkpoint) into the new
/// folder `out`.
pub fn export(
    store: &CaStore,
    _lock: &StoreLock,
    out: &Path,
    now: OffsetDateTime,
) -> Result<Exported> {
    if out.symlink_metadata().is_ok() {
        return Err(Error::Exists { path: out.into() });
    }
    store::guard::check_output_dir(out)?;
    let log = store::inventory::read(&store.path(store::INVENTORY), true)?;
    let mut crl_last = 0u64;
    for crl in log.crls() {
        crl_last = crl_last.max(crl.number);
    }
    if let Ok(text) = std::fs::read_to_string(store.path(store::CRL_NUMBER))
        && let Ok(n) = text.trim().parse::<u64>()
    {
        crl_last = crl_last.max(n);
    }
    let mut rows: Vec<(IndexLine, Option<Vec<u8>>)> = Vec::new();
    let mut at: std::collections::HashMap<Serial, usize> = std::collections::HashMap::new();
    // A valid line, as `openssl ca` writes one for a certificate it signs.
    let mut add = |serial: Serial, not_after, subject: String, der: Option<Vec<u8>>| {
        at.insert(serial.clone(), rows.len());
        let line = IndexLine {
            number: rows.len() + 1,
            status: LineStatus::Valid,
            not_after,
            revocation: None,
            serial,
            file: "unknown".into(),
            subject,
        };
        rows.push((line, der));
    };
    let mut revocations = Vec::new();
    for line in log.lines {
        match line.event {
            Event::Issued(record) | Event::Imported(record) => {
                let der = record.cert_der();
                let subject = der
                    .as_deref()
                    .and_then(|d| {
                        X509Certificate::from_der(d)
                            .ok()
                            .map(|(_, c)| oneline(c.subject()))
                    })
                    .unwrap_or_else(|| format!("/CN={}", record.cn));
                add(record.serial, record.not_after, subject, der);
            }
            Event::Missing(record) => add(record.serial, record.not_after, record.subject, None),
            Event::Revoked(r) => revocations.push(r),
            _ => {}
        }
    }
    for r in revocations {
        if let Some(&i) = at.get(&r.serial) {
            rows[i].0.status = LineStatus::Revoked;
            rows[i].0.revocation = Some(LineRevocation {
                at: r.revoked_at,
                reason: r.reason,
            });
        }
    }
    let mut index = String::new();
    let (mut revoked, mut expired, mut certificates) = (0, 0, 0);
    for (row, _) in &mut rows {
        if row.status == LineStatus::Valid && row.not_after < now {
            row.status = LineStatus::Expired;
        }
        match row.status {
            LineStatus::Revoked => revoked += 1,
            LineStatus::Expired => expired += 1,
            LineStatus::Valid => {}
        }
        index.push_str(&index_txt::format_line(row));
        index.push('\n');
    }
    let next_serial = rows
        .iter()
        .map(|(r, _)| r.serial.bytes())
        .max_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)))
        .map(plus_one)
        .unwrap_or_else(|| vec![1]);
    let next_serial = index_txt::serial_hex(&Serial::from_der_integer(&next_serial));
    let next_crl_number = crl_last + 1;
    let parent = files::folder_of(out);
    let staging = tempfile::Builder::new()
        .prefix(".certkit-export-")
        .tempdir_in(parent)
        .map_err(|e| Error::io("create a folder in", parent, e))?;
    let work = staging.path();
    let newcerts = work.join("newcerts");
    std::fs::create_dir(&newcerts).map_err(|e| Error::io("create folder", &newcerts, e))?;
    for (row, der) in &rows {
        if let Some(der) = der {
            let name = format!("{}.pem", index_txt::serial_hex(&row.serial));
            std::fs::write(
                newcerts.join(&name),
                crate::certinfo::pem_encode("CERTIFICATE", der),
            )
            .map_err(|e| Error::io("write", &newcerts.join(&name), e))?;
            certificates += 1;
        }
    }
    let ca = store.cert()?;
    let absolute_out = std::path::absolute(out).map_err(|e| Error::io("find", out, e))?;
    let ca_key = std::path::absolute(store.path(store::CA_KEY))
        .map_err(|e| Error::io("find", &store.path(store::CA_KEY), e))?;
    let written = [
        ("index.txt", index),
        ("index.txt.attr", "unique_subject = no\n".to_string()),
        ("serial", format!("{next_serial}\n")),
        (
            "crlnumber",
            format!("{}\n", crl_number_hex(next_crl_number)),
        ),
        ("ca.pem", ca.pem()),
        ("openssl.cnf", config_text(&absolute_out, &ca_key)),
    ];
    for (name, text) in &written {
        std::fs::write(work.join(name), text)
            .map_err(|e| Error::io("write", &work.join(name), e))?;
    }
    for entry in std::fs::read_dir(work).map_err(|e| Error::io("read", work, e))? {
        let path = entry.map_err(|e| Error::io("read", work, e))?.path();
        if path.is_file() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(PUBLIC))
                .map_err(|e| Error::io("write", &path, e))?;
        }
    }
    let folder = std::fs::File::open(work).map_err(|e| Error::io("open", work, e))?;
    nix::unistd::syncfs(&folder).map_err(|e| Error::io("flush to disk", work, e.into()))?;
    crate::store::place_new_folder(work, out)?;
    let _placed = staging.keep();
    Ok(Exported {
        lines: rows.len(),
        revoked,
        expired,
        certificates,
        next_serial,
        next_crl_number,
        out: out.to_path_buf(),
    })
}

/// `bytes` (a big-endian number) plus one.
fn plus_one(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for b in out.iter_mut().rev() {
        if *b == 0xFF {
            *b = 0;
        } else {
            *b += 1;
            return out;
        }
    }
    out.insert(0, 1);
    out
}

/// A CRL number as `openssl ca` keeps it: hex, an even number of digits.
fn crl_number_hex(n: u64) -> String {
    let mut s = format!("{n:X}");
    if s.len() % 2 == 1 {
        s.insert(0, '0');
    }
    s
}

/// The `openssl.cnf` that lets `openssl ca` carry on in `out` with the CA folder's key.
fn config_text(out: &Path, ca_key: &Path) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# Written by certkit-ca export-index: openssl ca -config {}/openssl.cnf ...",
        out.display()
    );
    let _ = writeln!(
        text,
        "# The key is the certkit CA folder's own, encrypted; openssl ca asks for its password (or -passin)."
    );
    let _ = write!(
        text,
        "[ ca ]\ndefault_ca = certkit_export\n\n[ certkit_export ]\ndir = {}\ndatabase = $dir/index.txt\nnew_certs_dir = $dir/newcerts\ncertificate = $dir/ca.pem\nprivate_key = {}\nserial = $dir/serial\ncrlnumber = $dir/crlnumber\ndefault_md = sha256\ndefault_crl_days = 30\ndefault_days = 365\npolicy = policy_anything\nunique_subject = no\ncopy_extensions = none\n\n[ policy_anything ]\ncommonName = supplied\n",
        out.display(),
        ca_key.display()
    );
    text
}
