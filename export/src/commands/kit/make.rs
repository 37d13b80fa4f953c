//! A new kit: checked, then written whole.

use certkit_ca::term;
use certkit_ca::term::output::path_text;
use certkit_ca::{Error, Result};

use super::edits::{cscfg_line, edit_cscfg, edit_policy};
use super::report::{
    KitReport, PolicyLine, ServerLine, clear_key_warning, file_lines, refuse_if_broken, save_edits,
};
use super::request::{KitRequest, NewKit, absolute, ordered, read_server};
use crate::kit::{self, CaMaterial, Demands, KeyFormat, KitRecord, Outcome};
use crate::targets::Target;

pub(super) fn check_options(new: &NewKit) -> Result<()> {
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

pub(super) fn make(new: &NewKit, req: &KitRequest) -> Result<()> {
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
