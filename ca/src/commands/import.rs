//! `certkit-ca import` (a CA kept by easy-rsa, `openssl ca` or XCA becomes a certkit CA with its whole
//! history) and `certkit-ca export-index` (a certkit CA's history written back as `openssl ca` keeps it).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;

use crate::certinfo::CertInfo;
use crate::error::{Error, Result};
use crate::openssl_ca::check::{self, ImportPlan};
use crate::openssl_ca::export;
use crate::openssl_ca::index_txt::{self, LineStatus};
use crate::openssl_ca::source::{self, Layout, Source};
use crate::secret::{self, SecretSource, SecretUse};
use crate::store::inventory::{Event, IssuedRecord, MissingRecord, RevokedRecord};
use crate::store::{self, CaStore, ImportedKey, KeyLocation, TokenRecord};
use crate::term::secrets::Passwords;
use crate::term::{self, Format, Report, output::path_text};
use crate::thumbprint::Thumbprint;
use crate::token::ModuleSearch;

/// What `certkit-ca import` was asked to do.
#[derive(Debug)]
pub struct ImportRequest {
    /// The CA to bring in.
    pub source: Source,
    /// The new CA folder (None only with `--dry-run`).
    pub ca: Option<PathBuf>,
    /// Where the source key's password comes from.
    pub source_pass: Option<SecretSource>,
    /// Where the new folder's key password (or, with `token`, the token's PIN) comes from.
    pub ca_pass: Option<SecretSource>,
    /// The token the source key is on (`--pkcs11`): it stays there.
    pub token: Option<crate::commands::init::TokenChoice>,
    /// Report only.
    pub dry_run: bool,
    /// Record lines without their certificate as missing.
    pub accept_missing: bool,
    /// How to print the result.
    pub format: Format,
}

/// What was (or would be) imported.
#[derive(Debug, Serialize)]
pub struct ImportReport {
    /// `easy-rsa`, `openssl ca` or `index`.
    pub source: &'static str,
    /// The source's index.txt.
    pub index: String,
    /// The new CA folder (absent in a dry run without --ca).
    pub ca: Option<String>,
    /// True when nothing was written.
    pub dry_run: bool,
    /// The CA's subject.
    pub subject: String,
    /// The CA certificate's SHA-1 thumbprint.
    pub thumbprint: Thumbprint,
    /// Whether the CA key was checked against the certificate (a dry run of an encrypted key without
    /// --source-pass does not open it).
    pub key_checked: bool,
    /// Certificates brought in (index lines with their certificate).
    pub certificates: usize,
    /// Their count by status: valid, revoked, expired.
    pub by_status: BTreeMap<&'static str, usize>,
    /// Their count by the profile their EKUs fit.
    pub by_profile: BTreeMap<&'static str, usize>,
    /// Lines recorded as missing (--accept-missing).
    pub missing: usize,
    /// Certificate files of this CA that no line lists (not brought in).
    pub unlisted: usize,
    /// The first CRL number certkit will use (above every one the source used).
    pub next_crl_number: u64,
    /// What stops the import, each naming its line; empty when it can go ahead.
    pub problems: Vec<String>,
    /// Worth knowing.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// The most problems an error line names (a dry run's report lists them all).
const PROBLEMS_IN_ERROR: usize = 3;

/// Imports, or reports what an import would do.
pub fn run(req: ImportRequest) -> Result<()> {
    let layout = req.source.layout()?;
    if let Some(dir) = &req.ca {
        store::check_can_init(dir)?;
        if dir.is_dir()
            && std::fs::read_dir(dir)
                .map(|mut d| d.next().is_some())
                .unwrap_or(true)
        {
            return Err(Error::BadInput(format!(
                "{} is a folder that is not empty: import makes a new CA folder; name one that does not exist",
                dir.display()
            )));
        }
    }
    let index_bytes = crate::files::read(&layout.index)?;
    let lines = index_txt::parse(&index_bytes)
        .map_err(|e| Error::malformed(&layout.index, format!("{e}; nothing was written")))?;
    let ca = source::ca_certificate(&layout)?;
    if !ca.is_signed_by(&ca)? {
        return Err(Error::BadInput(format!(
            "{} ({}) is not self-signed: certkit imports a root CA; an issuing CA below another is not supported yet",
            layout.ca_cert.display(),
            ca.subject
        )));
    }
    crate::keys::KeyType::of_spki_der(&ca.spki_der)?;
    // Passwords first, from their sources in the one reading order; a new one is asked for last.
    let ca_kind = if req.token.is_some() {
        secret::CA_PIN
    } else {
        secret::CA_PASS
    };
    let mut passwords = Passwords::read(&[
        (secret::SOURCE_PASS, req.source_pass.as_ref()),
        (ca_kind, req.ca_pass.as_ref()),
    ])?;
    let source_key = open_source_key(&req, &layout, &ca, &mut passwords)?;
    let found = source::certificates(&layout)?;
    let plan = check::plan(&lines, &found, &ca, req.accept_missing)?;
    // The plan holds what it needs; the files read are let go before the records are made.
    drop(found);
    drop(lines);
    let next_crl_number = last_crl_number(&layout)?.unwrap_or(0) + 1;
    let mut report = report_of(
        &req,
        &layout,
        &ca,
        &plan,
        next_crl_number,
        source_key.is_some(),
    );
    if req.dry_run {
        term::render(&report, req.format)?;
        if !plan.problems.is_empty() {
            return Err(problems_error(&layout, &plan.problems));
        }
        return Ok(());
    }
    if !plan.problems.is_empty() {
        return Err(problems_error(&layout, &plan.problems));
    }
    let dir = req.ca.clone().ok_or(Error::Bug("import without --ca"))?;
    let password;
    let key = match source_key.ok_or(Error::Bug("import without the source key"))? {
        SourceKey::File(der) => {
            password = passwords.take(secret::CA_PASS, SecretUse::New)?;
            ImportedKey::File {
                key: rcgen::KeyPair::try_from(der.as_slice())
                    .map_err(|e| Error::crypto("reading the source CA key", e))?,
                password: &password,
            }
        }
        SourceKey::Token(key) => *key,
    };
    let events = events_of(&plan);
    drop(plan);
    store::import(
        &dir,
        &ca,
        key,
        &events,
        Some(next_crl_number - 1).filter(|n| *n > 0),
        &mut term::waiting_for_lock,
    )?;
    report.ca = Some(path_text(&dir));
    term::render(&report, req.format)
}

/// The source's CA key, opened and checked to be the CA certificate's.
enum SourceKey {
    /// From its file, as PKCS#8 DER.
    File(zeroize::Zeroizing<Vec<u8>>),
    /// On its token, where it stays.
    Token(Box<ImportedKey<'static>>),
}

/// Opens the source's CA key: from its file (asking its password when it is encrypted), or on the token
/// `--pkcs11` names (logged in with `--ca-pass`). A dry run opens it only when it needs no question: a key file
/// that is not encrypted, or a password source given.
fn open_source_key(
    req: &ImportRequest,
    layout: &Layout,
    ca: &CertInfo,
    passwords: &mut Passwords,
) -> Result<Option<SourceKey>> {
    if let Some(choice) = &req.token {
        if req.dry_run && !passwords.has(secret::CA_PIN) {
            return Ok(None);
        }
        let pin = passwords.take(secret::CA_PIN, SecretUse::Existing)?;
        let search = ModuleSearch::new(choice.module.as_deref(), None);
        let token = crate::token::open(&search, &choice.uri)?;
        let (key, uri) = token.login(&pin)?.existing(&choice.uri, ca)?;
        let record = TokenRecord {
            uri: uri.to_string(),
            module: Some(token.module.clone()),
            origin: None,
        };
        let location = KeyLocation::token(&record, &token);
        return Ok(Some(SourceKey::Token(Box::new(ImportedKey::Token {
            key,
            record,
            location,
        }))));
    }
    let path = layout.ca_key.as_ref().ok_or_else(|| {
        Error::BadInput(
            "--from-index needs the CA key: --ca-key FILE, or --pkcs11 URI for a key on a token"
                .into(),
        )
    })?;
    let pem = zeroize::Zeroizing::new(
        String::from_utf8(crate::files::read(path)?)
            .map_err(|_| Error::malformed(path, "not a PEM text file"))?,
    );
    let encrypted = source::key_is_encrypted(&pem);
    if encrypted && req.dry_run && !passwords.has(secret::SOURCE_PASS) {
        return Ok(None);
    }
    let password = if encrypted {
        Some(passwords.take(secret::SOURCE_PASS, SecretUse::Existing)?)
    } else {
        None
    };
    Ok(Some(SourceKey::File(source::ca_key(
        path,
        &pem,
        password.as_ref(),
        ca,
    )?)))
}

/// The last CRL number the source used, from its `crlnumber` file and its current CRL.
fn last_crl_number(layout: &Layout) -> Result<Option<u64>> {
    let next_in_file = match &layout.crlnumber {
        Some(path) => source::hex_number_file(path)?,
        None => None,
    };
    let in_crl = match &layout.crl {
        Some(path) if path.is_file() => crate::crl_file::CrlFile::read(path)?.number,
        _ => None,
    };
    Ok(check::last_crl_number(next_in_file.as_deref(), in_crl))
}

/// One error line: how many problems, the first few, and how to see them all.
fn problems_error(layout: &Layout, problems: &[String]) -> Error {
    let shown: Vec<&str> = problems
        .iter()
        .take(PROBLEMS_IN_ERROR)
        .map(String::as_str)
        .collect();
    let more = problems.len().saturating_sub(PROBLEMS_IN_ERROR);
    Error::BadInput(format!(
        "{} of {} cannot be imported as it is ({} problem{}); nothing was written: {}{}",
        layout.index.display(),
        layout.kind,
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        shown.join("; "),
        if more > 0 {
            format!("; and {more} more (import --dry-run --json lists them all)")
        } else {
            String::new()
        }
    ))
}

fn report_of(
    req: &ImportRequest,
    layout: &Layout,
    ca: &CertInfo,
    plan: &ImportPlan,
    next_crl_number: u64,
    key_checked: bool,
) -> ImportReport {
    let now = time::OffsetDateTime::now_utc();
    let mut by_status = BTreeMap::new();
    let mut by_profile = BTreeMap::new();
    let mut holds = 0;
    for imported in &plan.certificates {
        let status = match (imported.line.status, imported.line.revocation) {
            (LineStatus::Revoked, Some(r)) => {
                if r.reason == store::inventory::RevocationReason::CertificateHold {
                    holds += 1;
                }
                "revoked"
            }
            _ if imported.cert.not_after < now => "expired",
            _ => "valid",
        };
        *by_status.entry(status).or_insert(0) += 1;
        *by_profile.entry(imported.profile.name()).or_insert(0) += 1;
    }
    let mut warnings = Vec::new();
    if holds > 0 {
        warnings.push(format!(
            "{holds} certificate(s) are on hold (certificateHold): certkit keeps them revoked and never releases a hold"
        ));
    }
    if let Some(line) = plan.ca_line {
        warnings.push(format!(
            "line {line} of {} is the CA certificate itself (XCA lists it): left out, the CA did not issue it",
            layout.index.display()
        ));
    }
    if plan.unlisted > 0 {
        warnings.push(format!(
            "{} certificate file(s) signed by this CA are in no line of {} and were not imported",
            plan.unlisted,
            layout.index.display()
        ));
    }
    let pinned = plan
        .certificates
        .iter()
        .filter(|c| c.names_ca_serial && c.cert.not_after > now)
        .count();
    if pinned > 0 {
        warnings.push(format!(
            "{pinned} unexpired certificate(s) name the CA certificate's serial in their authority key identifier (easy-rsa's issuer:always): they chain only to this very CA certificate, so keep handing it out (it stays in history/ after certkit-ca renew or rekey)"
        ));
    }
    if let Some(unknown) = by_profile.get("unknown") {
        warnings.push(format!(
            "{unknown} certificate(s) have extended key usages that fit no certkit profile (profile unknown): they can be listed and revoked, not renewed"
        ));
    }
    ImportReport {
        source: layout.kind,
        index: path_text(&layout.index),
        ca: if req.dry_run {
            None
        } else {
            req.ca.as_deref().map(path_text)
        },
        dry_run: req.dry_run,
        subject: ca.subject.clone(),
        thumbprint: ca.thumbprint,
        key_checked,
        certificates: plan.certificates.len(),
        by_status,
        by_profile,
        missing: plan.missing.len(),
        unlisted: plan.unlisted,
        next_crl_number,
        problems: plan.problems.clone(),
        warnings,
    }
}

/// The history to record: every certificate in index order (a missing one as such), then the revocations in
/// the order they happened.
fn events_of(plan: &ImportPlan) -> Vec<Event> {
    let mut events = Vec::with_capacity(plan.certificates.len() + plan.missing.len());
    let mut revocations = Vec::new();
    let mut missing = plan.missing.iter().peekable();
    for imported in &plan.certificates {
        while let Some(m) = missing.next_if(|m| m.line.number < imported.line.number) {
            events.push(missing_event(m));
        }
        let cert = &imported.cert;
        let cn = cert.cn.clone().unwrap_or_else(|| cert.subject.clone());
        events.push(Event::Imported(IssuedRecord::new(
            cert,
            &cn,
            imported.profile,
            imported.extra_ekus.clone(),
            imported.key,
            None,
            None,
        )));
        if let Some(r) = imported.line.revocation {
            revocations.push(RevokedRecord {
                serial: cert.serial.clone(),
                revoked_at: r.at,
                reason: r.reason,
            });
        }
    }
    events.extend(missing.map(missing_event));
    revocations.sort_by_key(|r| r.revoked_at);
    events.extend(revocations.into_iter().map(Event::Revoked));
    events
}

fn missing_event(m: &check::MissingCert) -> Event {
    Event::Missing(MissingRecord {
        serial: m.line.serial.clone(),
        subject: m.line.subject.clone(),
        not_after: m.line.not_after,
        index_line: m.line.number,
    })
}

impl Report for ImportReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        match (&self.ca, self.dry_run) {
            (_, true) => writeln!(
                out,
                "Dry run: nothing was written. The {} CA {} ({}) would come in with:",
                self.source, self.subject, self.thumbprint
            )?,
            (Some(ca), false) => writeln!(
                out,
                "Imported the {} CA {} ({}) into {}:",
                self.source, self.subject, self.thumbprint, ca
            )?,
            (None, false) => writeln!(out, "Imported the {} CA {}:", self.source, self.subject)?,
        }
        let counts = |map: &BTreeMap<&'static str, usize>| {
            map.iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(
            out,
            "  certificates  {} ({})",
            self.certificates,
            counts(&self.by_status)
        )?;
        writeln!(out, "  profiles      {}", counts(&self.by_profile))?;
        if self.missing > 0 {
            writeln!(
                out,
                "  missing       {} (recorded without a certificate)",
                self.missing
            )?;
        }
        writeln!(out, "  next CRL      number {}", self.next_crl_number)?;
        if !self.key_checked {
            writeln!(
                out,
                "  CA key        not opened: give --source-pass (for a key on a token, --ca-pass) to check it too"
            )?;
        }
        for problem in &self.problems {
            writeln!(out, "  problem: {problem}")?;
        }
        if let (Some(ca), false) = (&self.ca, self.dry_run) {
            writeln!(
                out,
                "Next: certkit-ca audit --ca {ca}, then certkit-ca crl --ca {ca} to sign the CA's first certkit CRL"
            )?;
        }
        Ok(())
    }

    fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

/// What `certkit-ca export-index` was asked to do.
#[derive(Debug)]
pub struct ExportIndexRequest {
    /// The CA folder.
    pub ca: PathBuf,
    /// The new output folder.
    pub out: PathBuf,
    /// How to print the result.
    pub format: Format,
}

/// What export-index wrote.
#[derive(Debug, Serialize)]
pub struct ExportIndexReport {
    /// The CA folder.
    pub ca: String,
    /// The output folder.
    pub out: String,
    /// Lines of index.txt.
    pub lines: usize,
    /// Of them revoked.
    pub revoked: usize,
    /// Of them expired.
    pub expired: usize,
    /// Certificates in newcerts/.
    pub certificates: usize,
    /// The next serial, as `serial` holds it (hex).
    pub next_serial: String,
    /// The next CRL number `crlnumber` holds.
    pub next_crl_number: u64,
    /// Worth knowing.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// Writes the export under the CA lock (so what it reads was reconciled and checked against the checkpoint).
pub fn export_index(req: ExportIndexRequest) -> Result<()> {
    let store = CaStore::open(&req.ca)?;
    let lock = term::lock(&store)?;
    let done = export::export(&store, &lock, &req.out, time::OffsetDateTime::now_utc())?;
    drop(lock);
    let mut warnings = Vec::new();
    if !store.path(store::CA_KEY).exists() {
        warnings.push(format!(
            "the key of the CA in {} is not in a file (a token, or re-keyed away): openssl.cnf names {}, which openssl ca cannot open; point its private_key at the key (OpenSSL's pkcs11 provider for a token)",
            path_text(&req.ca),
            store.path(store::CA_KEY).display()
        ));
    }
    term::render(
        &ExportIndexReport {
            ca: path_text(&req.ca),
            out: path_text(&done.out),
            lines: done.lines,
            revoked: done.revoked,
            expired: done.expired,
            certificates: done.certificates,
            next_serial: done.next_serial,
            next_crl_number: done.next_crl_number,
            warnings,
        },
        req.format,
    )
}

impl Report for ExportIndexReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "Wrote the history of the CA in {} as openssl ca keeps it, in {}:",
            self.ca, self.out
        )?;
        writeln!(
            out,
            "  index.txt     {} lines ({} revoked, {} expired)",
            self.lines, self.revoked, self.expired
        )?;
        writeln!(out, "  newcerts/     {} certificates", self.certificates)?;
        writeln!(out, "  serial        {}", self.next_serial)?;
        writeln!(
            out,
            "  crlnumber     {} (the next CRL's)",
            self.next_crl_number
        )?;
        writeln!(
            out,
            "Next: openssl ca -config {}/openssl.cnf -gencrl -out crl.pem (it asks for the CA key's password)",
            self.out
        )
    }

    fn warnings(&self) -> &[String] {
        &self.warnings
    }
}
