//! `certkit-issue client --batch`: the command-line side of [`crate::batch`].

use std::collections::HashMap;
use std::path::Path;

use certkit_ca::cli_support::{path_strings, print_json};
use certkit_ca::dates::{Validity, rfc3339};
use certkit_ca::profile::{names, setting_line};
use certkit_ca::secret::{self, SecretSource, SecretUse};
use certkit_ca::{Error, Result, Secret};
use serde_json::json;

use crate::batch::{self, BatchJob, BatchRow, KeyProtection, PfxPasswords};
use crate::cli::{ClientArgs, DEFAULT_LEAF_DAYS, open_ca};

/// Reads DIR/<cn>.txt (or DIR/<out>.txt) for each row; every password is checked before any key is made.
fn per_person_passwords(dir: &Path, rows: &[BatchRow]) -> Result<HashMap<String, Secret>> {
    let mut passwords = HashMap::new();
    for row in rows {
        let by_cn = dir.join(format!("{}.txt", row.cn));
        let path = if by_cn.is_file() {
            by_cn
        } else {
            dir.join(format!("{}.txt", row.out))
        };
        if !path.is_file() {
            return Err(Error::BadInput(format!(
                "no PFX password file for '{}' (line {}): expected {}",
                row.cn,
                row.line,
                dir.join(format!("{}.txt", row.cn)).display()
            )));
        }
        let source = SecretSource::File(path);
        let password = secret::obtain(Some(&source), secret::PFX_PASS, SecretUse::New)
            .map_err(|e| Error::BadInput(format!("line {} ('{}'): {e}", row.line, row.cn)))?;
        passwords.insert(row.out.clone(), password);
    }
    Ok(passwords)
}

/// Runs a batch from parsed `client` arguments.
pub fn run(args: ClientArgs) -> Result<()> {
    let common = &args.common;
    if common.cn.is_some() || common.out.is_some() {
        return Err(Error::BadInput(
            "--batch takes names from the file: drop --cn and --out (use --out-dir)".into(),
        ));
    }
    let batch_file = args
        .batch
        .as_deref()
        .ok_or_else(|| Error::BadInput("--batch FILE is required".into()))?;
    let out_dir = args
        .out_dir
        .clone()
        .ok_or_else(|| Error::BadInput("--out-dir DIR is required with --batch".into()))?;
    let rows = batch::read_rows(batch_file)?;
    let validity = Validity::starting_now(common.lifetime.lifetime(DEFAULT_LEAF_DAYS))?;
    let context = open_ca(&args.ca, &validity, common.crl_url.clone())?;
    for oid in &common.eku {
        crate::leaf::parse_oid(oid)?;
    }
    let protection = if common.keys.pfx {
        let passwords = match &args.pfx_pass_dir {
            Some(dir) => PfxPasswords::PerRow(per_person_passwords(dir, &rows)?),
            None => {
                let one = secret::obtain(
                    common.keys.pfx_pass.as_ref(),
                    secret::PFX_PASS,
                    SecretUse::New,
                )?;
                PfxPasswords::One(one)
            }
        };
        KeyProtection::Pfx {
            profile: common.keys.pfx_profile,
            passwords,
        }
    } else {
        KeyProtection::KeyFile(secret::obtain(
            common.keys.key_pass.as_ref(),
            secret::KEY_PASS,
            SecretUse::New,
        )?)
    };
    let ca_password = secret::obtain(
        common.keys.ca_pass.as_ref(),
        secret::CA_PASS,
        SecretUse::Existing,
    )?;
    let ca = context.store.unlock(&ca_password)?;
    drop(ca_password);
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .max(1);
    let job = BatchJob {
        store: &context.store,
        ca: &ca,
        rows,
        out_dir,
        key_type: common.key,
        validity,
        extra_ekus: common.eku.clone(),
        crl_url: context.crl_url.clone(),
        protection,
        jobs,
        progress: !common.json,
    };
    let outcomes = batch::run(&job)?;
    let thumbprints: Vec<String> = outcomes
        .iter()
        .map(|o| o.cert.thumbprint.to_string())
        .collect();
    let line = setting_line(names::ALLOWED_CLIENTS, &thumbprints.join(","));
    let issued = outcomes.iter().filter(|o| !o.skipped).count();
    let skipped = outcomes.len() - issued;
    if common.json {
        let rows: Vec<_> = outcomes
            .iter()
            .map(|o| {
                json!({
                    "line": job.rows[o.index].line,
                    "cn": job.rows[o.index].cn,
                    "email": job.rows[o.index].email,
                    "subject": format!("CN={}", job.rows[o.index].cn),
                    "serial": o.cert.serial,
                    "thumbprint": o.cert.thumbprint.to_string(),
                    "not_after": rfc3339(o.cert.not_after),
                    "status": if o.skipped { "skipped" } else { "issued" },
                    "files": if o.skipped { vec![] } else { path_strings(&batch::row_files(&job, &job.rows[o.index])) },
                })
            })
            .collect();
        print_json(
            &json!({ "issued": issued, "skipped": skipped, "rows": rows, "config_line": line }),
        );
        return Ok(());
    }
    let width = outcomes
        .iter()
        .map(|o| job.rows[o.index].cn.chars().count())
        .max()
        .unwrap_or(2)
        .max(2);
    println!(
        "{:<width$}  {:<40}  {:<8}  FILES",
        "CN", "THUMBPRINT", "STATUS"
    );
    for o in &outcomes {
        let files = if o.skipped {
            "(issued by an earlier run)".to_string()
        } else {
            path_strings(&batch::row_files(&job, &job.rows[o.index])).join(" ")
        };
        println!(
            "{:<width$}  {}  {:<8}  {files}",
            job.rows[o.index].cn,
            o.cert.thumbprint,
            if o.skipped { "skipped" } else { "issued" }
        );
    }
    println!();
    println!(
        "{issued} issued, {skipped} skipped (signed by {})",
        ca.cert.subject
    );
    println!("AllowedClientCertificateThumbprints for all of them:");
    println!("{line}");
    Ok(())
}
