//! Crash safety, tested rather than argued. Each command that writes to a CA (issue, sign, renew one, renew
//! what expires soon, a small batch, revoke, crl, move-key, reindex, and every command that changes the CA or
//! its key) is killed before each of its distinct file-system steps in turn ([`distinct_steps`]; before every
//! call with `CERTKIT_CRASH_SWEEP=full`): strace's fault injection delivers SIGKILL on entry to the N-th write,
//! fsync, rename, unlink... of that kind (the index's own writes among them). docs/testing.md says what the
//! choice of steps costs. After every kill:
//! - every certificate signed by the CA that exists in any file (outputs, `issued/`, temporary files, PFX files,
//!   read by Python `cryptography`) is in the CA's inventory;
//! - the CA answers the same with the index the kill left as without any index (rebuilt from the log): every
//!   certificate's status, renewals and revocation, and the counts `show` gives;
//! - `certkit-ca audit` passes;
//! - running the same command again completes what was asked (when the killed run had already delivered
//!   everything, it reports that delivery), removes what the killed run staged, and the two checks above
//!   still hold.

mod ca_scenarios;
mod checks;
#[path = "../common/mod.rs"]
mod common;
mod key_scenarios;
mod leaf_scenarios;

use std::collections::HashSet;
use std::os::unix::process::ExitStatusExt;
use std::process::Output;

use common::token;
use common::*;

use ca_scenarios::*;
use checks::*;
use key_scenarios::*;
use leaf_scenarios::*;

/// The system calls that change files: a crash before any of them is a distinct state on disk.
const STEPS: [&str; 15] = [
    "write",
    "pwrite64",
    "fsync",
    "fdatasync",
    "syncfs",
    "rename",
    "renameat",
    "renameat2",
    "link",
    "linkat",
    "unlink",
    "unlinkat",
    "ftruncate",
    "mkdir",
    "mkdirat",
];

struct Scenario {
    name: &'static str,
    setup: fn(&Env),
    /// Run on each copy of the set-up folder before the command (e.g. to point it at its own token).
    prepare: fn(&Env),
    bin: &'static str,
    /// The command's arguments, as a user types them ([`cli`]).
    args: &'static str,
    after_rerun: fn(&Env, &Output),
}

/// The scenario's arguments, each `@FILE` replaced by what the set-up wrote into FILE (a value known only
/// once the set-up ran, such as a key identifier).
fn args_in(env: &Env, scenario: &Scenario) -> Vec<String> {
    cli(scenario.args)
        .iter()
        .map(|a| match a.strip_prefix('@') {
            Some(file) => String::from_utf8(env.read(file)).expect("set-up value"),
            None => a.to_string(),
        })
        .collect()
}

/// A fresh copy of the set-up folder, prepared for one run.
fn copy_of(template: &Env, scenario: &Scenario) -> Env {
    let env = Env::new();
    let copied = env.tool(
        "cp",
        &["-a", &format!("{}/.", template.dir.path().display()), "."],
    );
    assert!(copied.status.success());
    (scenario.prepare)(&env);
    env
}

/// Where the command can be killed: one traced run's file-system calls, in order, each as its kind and its
/// number among the calls of that kind (counted from 1). Calls that touch the token's own files (SoftHSM's
/// store, under `softhsm/`) are left out: a real token keeps its objects itself, and certkit's promise is about
/// the files it writes.
///
/// Unless `CERTKIT_CRASH_SWEEP=full`, only the distinct steps are kept ([`distinct_steps`]); the full sweep
/// kills the command before every call (docs/testing.md).
fn kill_points(template: &Env, scenario: &Scenario) -> Vec<KillPoint> {
    let env = copy_of(template, scenario);
    let mut args: Vec<String> = ["-f", "-qq", "-y", "-o", "trace.log", "-e"]
        .map(String::from)
        .to_vec();
    args.push(format!("trace={}", STEPS.join(",")));
    args.push(bin(scenario.bin).display().to_string());
    args.extend(args_in(template, scenario));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let traced = env.tool("strace", &args);
    assert!(
        traced.status.success(),
        "{}: the command fails under strace: {}",
        scenario.name,
        text(&traced.stderr)
    );
    let log = text(&env.read("trace.log"));
    let mut seen: Vec<(&'static str, usize)> = Vec::new();
    let mut calls = Vec::new();
    for line in log.lines() {
        // "PID name(args" starts a call; "PID <... name resumed>" finishes one already counted.
        let call = line
            .split_once(' ')
            .map_or(line, |(_, rest)| rest)
            .trim_start();
        let Some((name, rest)) = call.split_once('(') else {
            continue;
        };
        let Some(kind) = STEPS.iter().find(|s| **s == name) else {
            continue;
        };
        let n = match seen.iter_mut().find(|(k, _)| k == kind) {
            Some((_, count)) => {
                *count += 1;
                *count
            }
            None => {
                seen.push((kind, 1));
                1
            }
        };
        if line.contains("/softhsm/") {
            continue;
        }
        calls.push(KillPoint {
            kind,
            n,
            step: step_of(kind, rest),
        });
    }
    let points = if std::env::var("CERTKIT_CRASH_SWEEP").as_deref() == Ok("full") {
        calls
    } else {
        distinct_steps(calls)
    };
    for point in &points {
        eprintln!(
            "{}: kill point {} #{}: {}",
            scenario.name, point.kind, point.n, point.step
        );
    }
    points
}

/// One place to kill the command: before the `n`-th call of `kind`; `step` says what that call does, with the
/// names that change from run to run (serials, random temporary names) left out.
struct KillPoint {
    kind: &'static str,
    n: usize,
    step: String,
}

/// What a traced call does to which file: the call and its paths (for a write to the log, also the start of
/// what it writes, so that each kind of record is a step of its own), with serials, thumbprints, numbers and
/// the random part of temporary names replaced by `#` and `*`.
fn step_of(kind: &str, args: &str) -> String {
    // Paths appear as "fd</path>" or as quoted strings; the data a write carries is the second argument.
    let mut described = String::from(kind);
    let keep = if kind.contains("write") && !kind.starts_with("pwrite") {
        let (target, data) = args.split_once(", ").unwrap_or((args, ""));
        if target.contains(".jsonl>") {
            format!("{target} {}", data.chars().take(24).collect::<String>())
        } else {
            target.to_string()
        }
    } else if kind.starts_with("pwrite") || kind.starts_with("f") || kind == "syncfs" {
        args.split_once(", ")
            .map_or(args, |(target, _)| target)
            .to_string()
    } else {
        args.to_string()
    };
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        out.push_str(&normalised(word));
        word.clear();
    };
    for c in keep.chars() {
        if c.is_ascii_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut described);
            described.push(c);
        }
    }
    flush(&mut word, &mut described);
    described
}

/// A word of a traced call with what differs between runs left out: a number or a long hexadecimal run is
/// `#`; a word of exactly six letters and digits with a digit or a capital after a lower-case letter (a random
/// temporary suffix) is `*`.
fn normalised(word: &str) -> String {
    let hex = word.len() >= 8 && word.chars().all(|c| c.is_ascii_hexdigit());
    let number = !word.is_empty() && word.chars().all(|c| c.is_ascii_digit());
    let random = word.len() == 6
        && word
            .chars()
            .any(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        && word.chars().any(|c| c.is_ascii_lowercase());
    if hex || number {
        "#".to_string()
    } else if random {
        "*".to_string()
    } else {
        word.to_string()
    }
}

/// The kill points that reach a state on disk no earlier point reaches:
/// - a flush (fsync, fdatasync, syncfs) is not one: a killed process loses nothing the kernel has accepted, so
///   a kill before a flush leaves the files a kill before the next call leaves (a flush matters only when the
///   machine stops, which no test here does);
/// - a run of the same call on the same file (a file written in many pieces) is killed before its first and
///   its second call, except in the index (SQLite, whose own journal undoes a half-written transaction):
///   there before the first call of each run only;
/// - a step is killed again only where the step before it differs (it is kept when the last [`CONTEXT`]
///   step and itself were not seen together before), so that a loop over certificates is killed in its first
///   round and where it ends, a file written again later in the command (a checkpoint) is killed there too,
///   and the index's update after each record of the log once per kind of record.
fn distinct_steps(calls: Vec<KillPoint>) -> Vec<KillPoint> {
    const CONTEXT: usize = 1;
    let mut runs: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    let mut kept = Vec::new();
    let mut repeats = 0;
    for call in calls {
        if FLUSHES.contains(&call.kind) {
            continue;
        }
        if runs.last() == Some(&call.step) {
            repeats += 1;
            if repeats == 1 && !call.step.contains("/index.sqlite") {
                kept.push(call);
            }
            continue;
        }
        repeats = 0;
        runs.push(call.step.clone());
        let context = runs[runs.len().saturating_sub(CONTEXT + 1)..].join("\n");
        if seen.insert(context) {
            kept.push(call);
        }
    }
    kept
}

/// The calls that only flush what the kernel holds to the disk.
const FLUSHES: [&str; 3] = ["fsync", "fdatasync", "syncfs"];

/// Kills the scenario's command at each of its kill points in turn ([`kill_points`]), checks what the kill
/// left, runs the command again and checks what the rerun made. (A batch commits its certificates in groups
/// whose sizes depend on timing, so the count of each kind may differ from run to run: a point past the end
/// of a run is a run that completes.) Returns how many crash points it has.
fn crash_everywhere(scenario: &Scenario) -> usize {
    let template = Env::new();
    (scenario.setup)(&template);
    let mut points = 0;
    for KillPoint { kind: step, n, .. } in kill_points(&template, scenario) {
        let env = copy_of(&template, scenario);
        let scenario_args = args_in(&env, scenario);
        let scenario_args: Vec<&str> = scenario_args.iter().map(String::as_str).collect();
        let run = env.killed_at(step, n, scenario.bin, &scenario_args);
        let was_killed = run.status.signal() == Some(9) || run.status.code() == Some(137);
        if !was_killed {
            assert!(
                run.status.success(),
                "{}: fails without a crash ({:?}):\n{}",
                scenario.name,
                run.status,
                text(&run.stderr)
            );
            continue;
        }
        points += 1;
        let point = format!("{} killed before {step} #{n}", scenario.name);
        // Before the CA folder is a CA (made, or installed), there is nothing of it to check but the backup
        // below.
        if env.path("pki/ca.pem").exists() {
            check_invariants(&env, &point);
            same_answers_without_the_index(&env, &point);
            // The CA key is in ca.key or on the token the folder records: never in neither; and with
            // --backup-shares it leaves ca.key (or memory) only once its backup is whole.
            let settings: serde_json::Value =
                serde_json::from_slice(&env.read("pki/ca.json")).expect("ca.json");
            let in_file = env.path("pki/ca.key").exists();
            assert!(
                in_file || settings["pkcs11"].is_object(),
                "{point}: the CA key is lost"
            );
            if cli(scenario.args).contains(&"--backup-shares") && !in_file {
                assert!(
                    env.path("pki-backup.key").exists(),
                    "{point}: the key is on the token without its backup"
                );
            }
        }
        backup_whole_or_absent(&env, &point);
        window_files_recorded(&env, &point);
        let words = cli(scenario.args);
        if words.contains(&"--pkcs11") && words[0] != "move-key" {
            let (dir, first) = match words[0] {
                "init" => ("pki", "backup"),
                _ => ("restored", "restore"),
            };
            token_ca_whole_or_absent(&env, dir, &format!("{dir}/ca.pem"), first, &point);
        } else {
            restored_whole_or_absent(&env, &point);
        }
        let rerun = env.run(scenario.bin, &scenario_args);
        eprintln!(
            "{point}: rerun {:?} {}",
            rerun.status.code(),
            text(&rerun.stderr).trim()
        );
        (scenario.after_rerun)(&env, &rerun);
        if env.path("pki/ca.pem").exists() {
            check_invariants(&env, &format!("{point}, after the rerun"));
        }
    }
    eprintln!("{}: {points} crash points, each survived", scenario.name);
    points
}

#[test]
fn issue_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&ISSUE) > 10);
}

#[test]
fn sign_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&SIGN) > 10);
}

#[test]
fn renew_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&RENEW) > 10);
}

#[test]
fn renewing_what_expires_soon_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&RENEW_DUE) > 10);
}

#[test]
fn reindex_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&REINDEX) > 2);
}

#[test]
fn a_batch_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&BATCH) > 10);
}

#[test]
fn revoke_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&REVOKE) > 2);
}

#[test]
fn init_request_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&REQUEST) > 2);
}

#[test]
fn install_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&INSTALL) > 2);
}

#[test]
fn init_parent_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&INIT_PARENT) > 10);
}

#[test]
fn renewing_the_ca_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&RENEW_CA) > 5);
}

#[test]
fn rekeying_the_ca_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&REKEY) > 8);
}

#[test]
fn renewing_an_issuing_ca_through_its_root_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&RENEW_BELOW) > 5);
}

#[test]
fn installing_a_renewal_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&INSTALL_RENEWAL) > 3);
}

#[test]
fn rekeying_a_token_ca_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&REKEY_TOKEN) > 5);
}

#[test]
fn retiring_an_earlier_key_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&RETIRE_KEY) > 3);
}

#[test]
fn sign_ca_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&SIGN_CA) > 10);
}

#[test]
fn profile_add_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&PROFILE_ADD) > 2);
}

#[test]
fn import_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&IMPORT) > 3);
}

#[test]
fn crl_series_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&CRL_SERIES) > 2);
}

#[test]
fn ocsp_series_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&OCSP_SERIES) > 2);
}

#[test]
fn crl_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&CRL) > 2);
}

#[test]
fn backup_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&BACKUP) > 2);
}

#[test]
fn restore_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&RESTORE) > 2);
}

#[test]
fn move_key_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&MOVE_KEY) > 2);
}

#[test]
fn move_key_with_a_backup_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&MOVE_KEY_BACKUP) > 2);
}

#[test]
fn a_token_ca_made_with_a_backup_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&INIT_TOKEN_BACKUP) > 2);
}

#[test]
fn restore_onto_a_token_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&RESTORE_TOKEN) > 2);
}
