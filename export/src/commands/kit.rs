//! `certkit-export kit`: a consumer's files made from the CA, checked against its rules, then written whole;
//! `kit --refresh DIR` brings a kit up to date after a renewal or a revocation.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use certkit_ca::cscfg::Cscfg;
use certkit_ca::secret::{self, SecretUse};
use certkit_ca::store::CaStore;
use certkit_ca::store::inventory::Status;
use certkit_ca::term::output::path_text;
use certkit_ca::term::secrets::Passwords;
use certkit_ca::term::{self, Format, Report};
use certkit_ca::{Error, Result, Secret, SecretSource, Thumbprint, files};
use serde::Serialize;
use time::OffsetDateTime;

use crate::inspect::{Finding, Level};
use crate::kit::{
    self, CaMaterial, Demands, Identities, Identity, KeyFormat, KitFile, KitRecord, Outcome,
    Policy, RuleVerdict, ServerMaterial,
};
use crate::targets::Target;

/// What a new kit is made of.
#[derive(Debug)]
pub struct NewKit {
    /// The consumer.
    pub target: Target,
    /// The CA folder.
    pub ca: PathBuf,
    /// The kit folder.
    pub out_dir: PathBuf,
    /// The server certificate's file prefix.
    pub server: Option<PathBuf>,
    /// The API Management policy to keep the identities of.
    pub policy: Option<PathBuf>,
    /// The service configuration to keep the thumbprints of (cses).
    pub cscfg: Option<PathBuf>,
    /// Key Vault's format.
    pub key_format: KeyFormat,
    /// Refuse a client CA without OCSP (Application Gateway).
    pub require_revocation: bool,
    /// How identities are written into the policy.
    pub identities: Identities,
    /// CRLs of the CAs above.
    pub crls: Vec<PathBuf>,
}

/// What `certkit-export kit` was asked to do.
#[derive(Debug)]
pub struct KitRequest {
    /// A new kit, or the folder of one to refresh.
    pub job: KitJob,
    /// The server key's password source.
    pub key_pass: Option<SecretSource>,
    /// The new PFX password's source.
    pub pfx_pass: Option<SecretSource>,
    /// Check and show, write nothing.
    pub dry_run: bool,
    /// How to print.
    pub format: Format,
}

/// A new kit or a refresh.
#[derive(Debug)]
pub enum KitJob {
    /// `kit --target ... --out-dir DIR`.
    New(Box<NewKit>),
    /// `kit --refresh DIR`.
    Refresh(PathBuf),
}

/// One file of the kit in the report.
#[derive(Debug, Serialize)]
pub struct FileLine {
    /// Its name.
    pub name: String,
    /// Its path.
    pub path: String,
    /// What it is for.
    pub what: String,
    /// Whether it holds a private key (0600).
    pub private: bool,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// What happened to it.
    pub outcome: Outcome,
}

/// The server certificate in the kit.
#[derive(Debug, Serialize)]
pub struct ServerLine {
    /// Its subject.
    pub subject: String,
    /// Its thumbprint.
    pub thumbprint: Thumbprint,
    /// Its end of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Whether the refresh put it in (a renewal).
    pub renewed: bool,
}

/// The policy edit.
#[derive(Debug, Serialize)]
pub struct PolicyLine {
    /// The policy file.
    pub file: String,
    /// Identities added.
    pub added: usize,
    /// Identities removed.
    pub removed: usize,
    /// The previous file, when it was written.
    pub backup: Option<String>,
    /// The unified diff (with --dry-run).
    pub diff: Option<String>,
}

/// The service configuration edit (cses).
#[derive(Debug, Serialize)]
pub struct CscfgLine {
    /// The .cscfg file.
    pub file: String,
    /// Each value changed: role, what, old and new.
    pub changes: Vec<certkit_ca::cscfg::Change>,
    /// The previous file, when it was written.
    pub backup: Option<String>,
    /// The unified diff (with --dry-run).
    pub diff: Option<String>,
}

/// What `kit` did.
#[derive(Debug, Serialize)]
pub struct KitReport {
    /// The kit folder.
    pub kit: String,
    /// The consumer.
    pub target: Target,
    /// The CA folder.
    pub ca: String,
    /// Whether this was a refresh.
    pub refresh: bool,
    /// Whether nothing was written (--dry-run, or a broken rule).
    pub dry_run: bool,
    /// Whether the files were written.
    pub written: bool,
    /// The server certificate, when the kit holds one.
    pub server: Option<ServerLine>,
    /// The valid client certificates the kit admits.
    pub clients: usize,
    /// Every file.
    pub files: Vec<FileLine>,
    /// Every rule of the target, with the verdict.
    pub rules: Vec<RuleVerdict>,
    /// What is wrong or may go wrong.
    pub findings: Vec<Finding>,
    /// What to do with the files (certkit runs none of it).
    pub steps: Vec<String>,
    /// The API Management policy edit.
    pub policy: Option<PolicyLine>,
    /// The service configuration edit (cses).
    pub cscfg: Option<CscfgLine>,
    #[serde(skip)]
    warnings: Vec<String>,
}

/// Whether `target` writes a PFX (and so needs a new PFX password) with this key format.
fn writes_pfx(target: Target, format: KeyFormat) -> bool {
    match target {
        Target::Appgw | Target::Appservice => true,
        Target::Keyvault | Target::Cses => format == KeyFormat::Pfx,
        Target::Apim | Target::Nginx | Target::Haproxy => false,
    }
}

/// An absolute path for `path` (which may not exist yet).
fn absolute(path: &Path) -> Result<PathBuf> {
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| Error::io("find the current folder", path, e))?
            .join(path)
    };
    Ok(certkit_ca::store::guard::resolve(&path))
}

/// The server's files and passwords, read once.
struct ServerInput {
    server: ServerMaterial,
    pfx_password: Option<Secret>,
}

fn read_server(
    store: &CaStore,
    prefix: &Path,
    target: Target,
    format: KeyFormat,
    req: &KitRequest,
    now: OffsetDateTime,
) -> Result<ServerInput> {
    let wants_pfx = writes_pfx(target, format);
    let mut passwords = Passwords::read(&[
        (secret::KEY_PASS, req.key_pass.as_ref()),
        (
            secret::PFX_PASS,
            if wants_pfx {
                req.pfx_pass.as_ref()
            } else {
                None
            },
        ),
    ])?;
    let key_password = passwords.take(secret::KEY_PASS, SecretUse::Existing)?;
    let server = ServerMaterial::read(store, prefix, &key_password, now)?;
    let pfx_password = if wants_pfx {
        Some(passwords.take(secret::PFX_PASS, SecretUse::New)?)
    } else {
        None
    };
    Ok(ServerInput {
        server,
        pfx_password,
    })
}

/// The identities the policy should list: one per valid client certificate.
fn wanted_identities(ca: &CaMaterial, how: Identities) -> Vec<Identity> {
    ca.clients
        .iter()
        .map(|c| match how {
            Identities::Thumbprint => Identity::by_thumbprint(&c.thumbprint.to_string()),
            Identities::Subject => Identity::by_subject(&c.subject, &c.issuer),
        })
        .collect()
}

/// Edits the policy's identities (not saved yet).
fn edit_policy(
    path: &Path,
    store: &CaStore,
    ca: &CaMaterial,
    how: Identities,
) -> Result<(Policy, kit::IdentityChange)> {
    let mut policy = Policy::load(path)?;
    let names: Vec<String> = ca.issuers.iter().map(|i| i.cert.subject.clone()).collect();
    let mut issued = Vec::new();
    for identity in policy.identities()? {
        if let Some(t) = identity.thumbprint.as_deref()
            && let Ok(thumbprint) = t.parse::<Thumbprint>()
            && store.entry_by_thumbprint(&thumbprint)?.is_some()
        {
            issued.push(t.to_string());
        }
    }
    let change = policy.set_identities(&wanted_identities(ca, how), |i| match &i.thumbprint {
        Some(t) => issued.contains(t),
        None => i.issuer_subject.as_ref().is_some_and(|s| names.contains(s)),
    })?;
    Ok((policy, change))
}

/// Puts the kit's thumbprints into a service configuration (not saved yet): the server certificate as
/// `SSL`, the CA as `CA` where the file has one, every valid client of the CA allowed and every client it
/// revoked (or that expired) no longer allowed; other thumbprints stay.
fn edit_cscfg(
    path: &Path,
    store: &CaStore,
    ca: &CaMaterial,
    server: Option<&Thumbprint>,
    now: OffsetDateTime,
) -> Result<Cscfg> {
    use certkit_ca::profile::names;
    let mut file = Cscfg::load(path)?;
    if let Some(thumbprint) = server {
        file.set_certificate(names::SSL, thumbprint)?;
    }
    if file.certificate(names::CA)?.is_some() {
        file.set_certificate(names::CA, &ca.ca().thumbprint)?;
    }
    let mut listed = Vec::new();
    for role in file.roles()? {
        if let Some(value) = role.setting(names::ALLOWED_CLIENTS) {
            listed.extend(certkit_ca::cscfg::parse_allow_list(value).unwrap_or_default());
        }
    }
    if !listed.is_empty() || !ca.clients.is_empty() {
        let has_setting = file
            .roles()?
            .iter()
            .any(|r| r.setting(names::ALLOWED_CLIENTS).is_some());
        if has_setting {
            let mut gone = Vec::new();
            for thumbprint in &listed {
                if let Some(entry) = store.entry_by_thumbprint(thumbprint)?
                    && entry.status(now) != Status::Valid
                {
                    gone.push(*thumbprint);
                }
            }
            let allow: Vec<Thumbprint> = ca.clients.iter().map(|c| c.thumbprint).collect();
            file.edit_allowed_clients(&allow, &gone)?;
        }
    }
    Ok(file)
}

fn cscfg_line(path: &Path, file: &Cscfg, dry_run: bool) -> CscfgLine {
    CscfgLine {
        file: path_text(path),
        changes: file.changes().to_vec(),
        backup: None,
        diff: (dry_run && !file.changes().is_empty()).then(|| file.diff()),
    }
}

/// Orders the kit's files: certificate, key and CRL files first, configuration lines last.
fn ordered(mut files: Vec<KitFile>) -> Vec<KitFile> {
    files.sort_by_key(|f| !f.checked);
    files
}

fn refuse_if_broken(report: &KitReport, format: Format) -> Result<()> {
    let broken: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.level == Level::Error)
        .collect();
    if broken.is_empty() {
        return Ok(());
    }
    term::render(report, format)?;
    let first = broken[0];
    Err(Error::Failed(format!(
        "the {} kit breaks {} rule(s), so nothing was written: {} ({}); fix: {}",
        report.target.name(),
        broken.len(),
        first.code,
        first.message,
        first.fix
    )))
}

fn file_lines(dir: &Path, files: &[KitFile], outcomes: &[(String, Outcome)]) -> Vec<FileLine> {
    files
        .iter()
        .map(|f| FileLine {
            name: f.name.clone(),
            path: path_text(&dir.join(&f.name)),
            what: f.what.clone(),
            private: f.private,
            sha256: files::sha256_hex(&f.bytes),
            outcome: outcomes
                .iter()
                .find(|(n, _)| *n == f.name)
                .map_or(Outcome::Planned, |(_, o)| *o),
        })
        .collect()
}

fn clear_key_warning(target: Target, files: &[KitFile], dir: &Path) -> Vec<String> {
    files
        .iter()
        .filter(|f| f.private && !f.name.ends_with(".pfx"))
        .map(|f| {
            let path = dir.join(&f.name);
            match target {
                Target::Keyvault | Target::Cses => format!(
                    "{} holds the server key in the clear (mode 0600): import it, then remove it (shred -u {})",
                    path.display(),
                    crate::inspect::shell_word(&path.display().to_string())
                ),
                _ => format!(
                    "{} holds the server key in the clear (mode 0600), as {} reads it: keep the kit folder readable by the server's user only",
                    path.display(),
                    target.name()
                ),
            }
        })
        .collect()
}

/// Runs `kit`.
pub fn run(req: KitRequest) -> Result<()> {
    match &req.job {
        KitJob::New(new) => make(new, &req),
        KitJob::Refresh(dir) => refresh(dir, &req),
    }
}

fn check_options(new: &NewKit) -> Result<()> {
    let target = new.target;
    let name = target.name();
    if kit::needs_server(target) && new.server.is_none() {
        return Err(Error::BadInput(format!(
            "--target {name} needs --server PREFIX: the server certificate it presents (certkit-issue server --out PREFIX)"
        )));
    }
    if !kit::takes_server(target) && new.server.is_some() {
        return Err(Error::BadInput(format!(
            "--target {name} takes no server certificate: leave out --server"
        )));
    }
    if new.policy.is_some() && target != Target::Apim {
        return Err(Error::BadInput(
            "--policy names an API Management policy file: use it with --target apim".into(),
        ));
    }
    if new.cscfg.is_some() && target != Target::Cses {
        return Err(Error::BadInput(
            "--cscfg names the Cloud Services (extended support) service configuration: use it with --target cses".into(),
        ));
    }
    if new.key_format == KeyFormat::Pem && !matches!(target, Target::Keyvault | Target::Cses) {
        return Err(Error::BadInput(format!(
            "--format pem is for --target keyvault or cses; {name} takes the files its kit writes"
        )));
    }
    if new.require_revocation && target != Target::Appgw {
        return Err(Error::BadInput(
            "--require-revocation is for --target appgw (OCSP is its only revocation check)".into(),
        ));
    }
    Ok(())
}

fn make(new: &NewKit, req: &KitRequest) -> Result<()> {
    check_options(new)?;
    let now = time::OffsetDateTime::now_utc();
    let out_dir = absolute(&new.out_dir)?;
    certkit_ca::store::guard::check_output_dir(&out_dir)?;
    if out_dir.join(kit::KIT_JSON).exists() {
        return Err(Error::BadInput(format!(
            "{} is a kit already; bring it up to date with certkit-export kit --refresh {}",
            out_dir.display(),
            out_dir.display()
        )));
    }
    let crls = new
        .crls
        .iter()
        .map(|p| absolute(p))
        .collect::<Result<Vec<_>>>()?;
    let store = term::open_ca(&new.ca, None)?;
    let ca = CaMaterial::read(&store, &crls, now)?;
    let server = match &new.server {
        Some(prefix) => Some(read_server(
            &store,
            prefix,
            new.target,
            new.key_format,
            req,
            now,
        )?),
        None => None,
    };
    let mut files = kit::ca_files(new.target, &ca, &out_dir, server.is_some());
    if let Some(input) = &server {
        files.extend(kit::server_files(
            new.target,
            &ca,
            &input.server,
            new.key_format,
            input.pfx_password.as_ref(),
        )?);
    }
    let files = ordered(files);
    let findings = kit::check(
        new.target,
        &files,
        &out_dir,
        server.as_ref().and_then(|s| s.pfx_password.as_ref()),
        &ca,
        Demands {
            require_revocation: new.require_revocation,
        },
        now,
    )?;
    let policy = match &new.policy {
        Some(path) => Some((
            path.clone(),
            edit_policy(path, &store, &ca, new.identities)?,
        )),
        None => None,
    };
    let cscfg = match &new.cscfg {
        Some(path) => Some((
            path.clone(),
            edit_cscfg(
                path,
                &store,
                &ca,
                server.as_ref().map(|s| &s.server.cert.thumbprint),
                now,
            )?,
        )),
        None => None,
    };
    let names: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
    let mut report = KitReport {
        kit: path_text(&out_dir),
        target: new.target,
        ca: path_text(&ca.dir),
        refresh: false,
        dry_run: true,
        written: false,
        server: server.as_ref().map(|s| ServerLine {
            subject: s.server.cert.subject.clone(),
            thumbprint: s.server.cert.thumbprint,
            not_after: s.server.cert.not_after,
            renewed: false,
        }),
        clients: ca.clients.len(),
        files: file_lines(&out_dir, &files, &[]),
        rules: kit::verdicts(new.target, &findings),
        steps: kit::steps(
            new.target,
            &names,
            &out_dir,
            server.as_ref().and_then(|s| s.server.cert.cn.as_deref()),
            new.key_format == KeyFormat::Pem,
        ),
        findings,
        policy: policy.as_ref().map(|(path, (p, change))| PolicyLine {
            file: path_text(path),
            added: change.added,
            removed: change.removed,
            backup: None,
            diff: req.dry_run.then(|| p.diff()),
        }),
        cscfg: cscfg
            .as_ref()
            .map(|(path, file)| cscfg_line(path, file, req.dry_run)),
        warnings: Vec::new(),
    };
    refuse_if_broken(&report, req.format)?;
    if req.dry_run {
        return term::render(&report, req.format);
    }
    let record = KitRecord {
        kit: kit::VERSION,
        target: new.target,
        ca: ca.dir.clone(),
        server: server.as_ref().map(|s| s.server.prefix.clone()),
        server_thumbprint: server.as_ref().map(|s| s.server.cert.thumbprint),
        server_subject: server.as_ref().map(|s| s.server.subject.clone()),
        format: new.key_format,
        require_revocation: new.require_revocation,
        policy: match &new.policy {
            Some(p) => Some(absolute(p)?),
            None => None,
        },
        cscfg: match &new.cscfg {
            Some(p) => Some(absolute(p)?),
            None => None,
        },
        identities: new.identities,
        crls,
        files: kit::recorded(&files),
    };
    kit::write_new(&out_dir, &files, &record)?;
    let outcomes: Vec<(String, Outcome)> = files
        .iter()
        .map(|f| (f.name.clone(), Outcome::Written))
        .collect();
    report.files = file_lines(&out_dir, &files, &outcomes);
    report.warnings = clear_key_warning(new.target, &files, &out_dir);
    save_edits(
        &mut report,
        policy.as_ref().map(|(_, (p, _))| p),
        cscfg.as_ref().map(|(_, f)| f),
    )?;
    report.dry_run = false;
    report.written = true;
    term::render(&report, req.format)
}

/// The names of the server files of a kit, as its record lists them.
fn server_file_names(target: Target, format: KeyFormat) -> &'static [&'static str] {
    match (target, format) {
        (Target::Appgw, _) => &["listener.pfx"],
        (Target::Appservice, _) => &["server.pfx"],
        (Target::Keyvault | Target::Cses, KeyFormat::Pfx) => &["server.pfx"],
        (Target::Keyvault | Target::Cses, KeyFormat::Pem) => &["server.pem"],
        (Target::Nginx, _) => &["server.pem", "server.key"],
        (Target::Haproxy, _) => &["server.pem"],
        (Target::Apim, _) => &[],
    }
}

fn refresh(dir: &Path, req: &KitRequest) -> Result<()> {
    let now = time::OffsetDateTime::now_utc();
    let dir = absolute(dir)?;
    let old = KitRecord::read(&dir)?;
    let target = old.target;
    let store = term::open_ca(&old.ca, None)?;
    let ca = CaMaterial::read(&store, &old.crls, now)?;
    let mut new = old.clone();
    let mut warnings = Vec::new();
    // The server: a renewal of the kit's certificate replaces it; otherwise its files stay as they are.
    let mut renewed = None;
    if let (Some(thumbprint), Some(subject)) = (&old.server_thumbprint, &old.server_subject) {
        if let Some((_, prefix)) = ServerMaterial::newer(&store, thumbprint, subject, now)? {
            renewed = Some(read_server(&store, &prefix, target, old.format, req, now)?);
        } else if let Some(entry) = store.entry_by_thumbprint(thumbprint)?
            && entry.status(now) != certkit_ca::store::inventory::Status::Valid
        {
            warnings.push(format!(
                "the kit's server certificate ({subject}, {thumbprint}) is {} and no renewal of it was found: renew it (certkit-issue renew {thumbprint} --ca {} --out PREFIX) and refresh again",
                entry.status(now),
                ca.dir.display()
            ));
        }
    }
    let mut files = kit::ca_files(target, &ca, &dir, old.server.is_some());
    match &renewed {
        Some(input) => files.extend(kit::server_files(
            target,
            &ca,
            &input.server,
            old.format,
            input.pfx_password.as_ref(),
        )?),
        None if old.server.is_some() => {
            for name in server_file_names(target, old.format) {
                let path = dir.join(name);
                let bytes = files::read(&path)?;
                files.push(KitFile {
                    name: (*name).to_string(),
                    bytes: zeroize::Zeroizing::new(bytes),
                    private: name.ends_with(".pfx")
                        || name.ends_with(".key")
                        || target == Target::Haproxy
                        || old.format == KeyFormat::Pem,
                    server: true,
                    checked: true,
                    what: "the server certificate (unchanged)".into(),
                });
            }
        }
        None => {}
    }
    let files = ordered(files);
    let findings = kit::check(
        target,
        &files,
        &dir,
        renewed.as_ref().and_then(|s| s.pfx_password.as_ref()),
        &ca,
        Demands {
            require_revocation: old.require_revocation,
        },
        now,
    )?;
    let policy = match &old.policy {
        Some(path) => Some((
            path.clone(),
            edit_policy(path, &store, &ca, old.identities)?,
        )),
        None => None,
    };
    let cscfg = match &old.cscfg {
        Some(path) => Some((
            path.clone(),
            edit_cscfg(
                path,
                &store,
                &ca,
                renewed
                    .as_ref()
                    .map(|s| &s.server.cert.thumbprint)
                    .or(old.server_thumbprint.as_ref()),
                now,
            )?,
        )),
        None => None,
    };
    if let Some(input) = &renewed {
        new.server = Some(input.server.prefix.clone());
        new.server_thumbprint = Some(input.server.cert.thumbprint);
    }
    new.files = kit::recorded(&files);
    let names: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
    let server_line = match (&renewed, &old.server_thumbprint) {
        (Some(input), _) => Some(ServerLine {
            subject: input.server.cert.subject.clone(),
            thumbprint: input.server.cert.thumbprint,
            not_after: input.server.cert.not_after,
            renewed: true,
        }),
        (None, Some(thumbprint)) => store.entry_by_thumbprint(thumbprint)?.map(|e| ServerLine {
            subject: e.issued.subject,
            thumbprint: e.issued.thumbprint,
            not_after: e.issued.not_after,
            renewed: false,
        }),
        (None, None) => None,
    };
    let server_cn = match &renewed {
        Some(input) => input.server.cert.cn.clone(),
        None => old
            .server_subject
            .as_deref()
            .and_then(|s| s.strip_prefix("CN="))
            .map(|s| s.split(',').next().unwrap_or(s).to_string()),
    };
    let mut report = KitReport {
        kit: path_text(&dir),
        target,
        ca: path_text(&ca.dir),
        refresh: true,
        dry_run: true,
        written: false,
        server: server_line,
        clients: ca.clients.len(),
        files: file_lines(&dir, &files, &[]),
        rules: kit::verdicts(target, &findings),
        steps: kit::steps(
            target,
            &names,
            &dir,
            server_cn.as_deref(),
            old.format == KeyFormat::Pem,
        ),
        findings,
        policy: policy.as_ref().map(|(path, (p, change))| PolicyLine {
            file: path_text(path),
            added: change.added,
            removed: change.removed,
            backup: None,
            diff: req.dry_run.then(|| p.diff()),
        }),
        cscfg: cscfg
            .as_ref()
            .map(|(path, file)| cscfg_line(path, file, req.dry_run)),
        warnings,
    };
    refuse_if_broken(&report, req.format)?;
    if req.dry_run {
        return term::render(&report, req.format);
    }
    let outcomes = kit::refresh(&dir, &old, &mut new, &files)?;
    report.files = file_lines(&dir, &files, &outcomes);
    if renewed.is_some() {
        report
            .warnings
            .extend(clear_key_warning(target, &files, &dir));
    }
    for (name, outcome) in &outcomes {
        if *outcome == Outcome::Removed {
            report.files.push(FileLine {
                name: name.clone(),
                path: path_text(&dir.join(name)),
                what: "no longer part of the kit".into(),
                private: false,
                sha256: String::new(),
                outcome: Outcome::Removed,
            });
        }
    }
    save_edits(
        &mut report,
        policy.as_ref().map(|(_, (p, _))| p),
        cscfg.as_ref().map(|(_, f)| f),
    )?;
    report.dry_run = false;
    report.written = true;
    term::render(&report, req.format)
}

/// Saves the policy and service configuration edits, each with its `.bak`, into the report.
fn save_edits(
    report: &mut KitReport,
    policy: Option<&Policy>,
    cscfg: Option<&Cscfg>,
) -> Result<()> {
    if let (Some(p), Some(line)) = (policy, report.policy.as_mut()) {
        line.backup = p.save()?.map(|b| path_text(&b));
    }
    if let (Some(f), Some(line)) = (cscfg, report.cscfg.as_mut()) {
        line.backup = f.save()?.map(|b| path_text(&b));
    }
    Ok(())
}

impl Report for KitReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let doing = match (self.refresh, self.written) {
            (true, true) => "Refreshed",
            (false, true) => "Wrote",
            (_, false) => "Would write (nothing written)",
        };
        writeln!(
            out,
            "{doing} the {} kit in {} from the CA in {}",
            self.target.name(),
            self.kit,
            self.ca
        )?;
        if let Some(server) = &self.server {
            writeln!(
                out,
                "  server    {} ({}, until {}){}",
                server.subject,
                server.thumbprint,
                certkit_ca::dates::rfc3339(server.not_after),
                if server.renewed { ": renewed" } else { "" }
            )?;
        }
        writeln!(
            out,
            "  clients   {} valid client certificate(s)",
            self.clients
        )?;
        let width = self.files.iter().map(|f| f.name.len()).max().unwrap_or(0);
        for f in &self.files {
            let outcome = match f.outcome {
                Outcome::Written => "written",
                Outcome::Replaced => "replaced",
                Outcome::Unchanged => "unchanged",
                Outcome::Removed => "removed",
                Outcome::Planned => "planned",
            };
            writeln!(out, "  {outcome:<10}{:<width$}  {}", f.name, f.what)?;
        }
        if let Some(policy) = &self.policy {
            writeln!(
                out,
                "  policy    {}: {} identity(ies) added, {} removed{}",
                policy.file,
                policy.added,
                policy.removed,
                policy
                    .backup
                    .as_ref()
                    .map_or_else(String::new, |b| format!(" (previous file kept as {b})"))
            )?;
            if let Some(diff) = &policy.diff {
                write!(out, "{diff}")?;
            }
        }
        if let Some(cscfg) = &self.cscfg {
            writeln!(
                out,
                "  cscfg     {}: {} value(s) changed{}",
                cscfg.file,
                cscfg.changes.len(),
                cscfg
                    .backup
                    .as_ref()
                    .map_or_else(String::new, |b| format!(" (previous file kept as {b})"))
            )?;
            for change in &cscfg.changes {
                writeln!(out, "            {}: {}", change.role, change.what)?;
            }
            if let Some(diff) = &cscfg.diff {
                write!(out, "{diff}")?;
            }
        }
        let kept = self.rules.iter().filter(|r| r.verdict == "ok").count();
        writeln!(
            out,
            "Rules of {}: {kept} of {} met",
            self.target.name(),
            self.rules.len()
        )?;
        for f in &self.findings {
            let level = match f.level {
                Level::Error => "error",
                Level::Warning => "warning",
            };
            writeln!(out, "  {level:<8}{}: {}", f.code, f.message)?;
            writeln!(out, "          fix: {}", f.fix)?;
        }
        if self.written || !self.findings.iter().any(|f| f.level == Level::Error) {
            writeln!(out, "Next:")?;
            for step in &self.steps {
                writeln!(out, "  {step}")?;
            }
        }
        Ok(())
    }

    fn warnings(&self) -> &[String] {
        &self.warnings
    }
}
