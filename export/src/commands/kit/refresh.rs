//! `kit --refresh DIR`: the kit brought up to date from its CA, file by file.

use std::path::Path;

use certkit_ca::term;
use certkit_ca::term::output::path_text;
use certkit_ca::{Result, files};

use super::edits::{cscfg_line, edit_cscfg, edit_policy};
use super::report::{
    FileLine, KitReport, PolicyLine, ServerLine, clear_key_warning, file_lines, refuse_if_broken,
    save_edits,
};
use super::request::{KitRequest, absolute, ordered, read_server};
use crate::kit::{
    self, CaMaterial, Demands, KeyFormat, KitFile, KitRecord, Outcome, ServerMaterial,
};
use crate::targets::Target;

/// The names of the server files of a kit, as its record lists them.
pub(super) fn server_file_names(target: Target, format: KeyFormat) -> &'static [&'static str] {
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

pub(super) fn refresh(dir: &Path, req: &KitRequest) -> Result<()> {
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
