//! Man pages and shell completions, generated from the clap definitions: `man/` is current, every page renders
//! with `man -l` without a warning, and bash completes subcommands and their options from the script each
//! binary prints.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;

fn pages(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("man folder")
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "1"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("page"),
            )
        })
        .collect()
}

#[test]
fn the_committed_man_pages_are_current_and_render_without_warnings() {
    let env = Env::new();
    let out = env.tool(&bin("certkit-man").display().to_string(), &["fresh"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let fresh = pages(&env.path("fresh"));
    let committed = pages(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../man"));
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&committed),
        names(&fresh),
        "man/ lists other pages than the commands have: run scripts/man.sh and commit man/"
    );
    for (name, page) in &fresh {
        assert!(
            committed[name] == *page,
            "man/{name} is out of date: run scripts/man.sh and commit man/"
        );
    }
    assert!(
        fresh.contains_key("certkit-ca-move-key.1")
            && fresh.contains_key("certkit-export-inspect.1")
    );
    for name in fresh.keys() {
        let rendered = env
            .command("man")
            .args(["--warnings", "-l", &format!("fresh/{name}")])
            .env("MANWIDTH", "80")
            .output()
            .expect("man (scripts/test.sh installs man-db)");
        assert!(
            rendered.status.success(),
            "{name}: {}",
            text(&rendered.stderr)
        );
        assert!(
            rendered.stderr.is_empty(),
            "{name} renders with warnings:\n{}",
            text(&rendered.stderr)
        );
        assert!(text(&rendered.stdout).contains("NAME"), "{name}");
    }
}

/// What bash completes after `words` (the last one being completed), with the binary's own script sourced.
fn complete(env: &Env, binary: &str, words: &[&str]) -> Vec<String> {
    let function = format!("_{}", binary.replace('-', "__"));
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let script = format!(
        "source <('{}' completions bash) || exit 1\n\
         complete -p {binary} >/dev/null || exit 1\n\
         COMP_WORDS=({})\n\
         COMP_CWORD={}\n\
         COMP_LINE=\"${{COMP_WORDS[*]}}\"\n\
         COMP_POINT=${{#COMP_LINE}}\n\
         {function} {binary} \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        bin(binary).display(),
        quoted.join(" "),
        words.len() - 1,
    );
    let out = env.tool("bash", &["-c", &script]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).lines().map(str::to_string).collect()
}

#[test]
fn bash_completes_subcommands_and_their_options() {
    let env = Env::new();
    let top = complete(&env, "certkit-ca", &["certkit-ca", ""]);
    for sub in [
        "init",
        "show",
        "list",
        "revoke",
        "crl",
        "audit",
        "move-key",
        "completions",
    ] {
        assert!(top.contains(&sub.to_string()), "{sub}: {top:?}");
    }
    assert_eq!(
        complete(&env, "certkit-ca", &["certkit-ca", "mo"]),
        ["move-key"]
    );
    let options = complete(&env, "certkit-ca", &["certkit-ca", "init", "--pk"]);
    assert_eq!(options, ["--pkcs11", "--pkcs11-module"]);
    let roles = complete(
        &env,
        "certkit-export",
        &["certkit-export", "inspect", "x.pfx", "--role", ""],
    );
    assert_eq!(roles, ["ssl", "ca", "client", "encryption"]);
    let issue = complete(
        &env,
        "certkit-issue",
        &["certkit-issue", "client", "--pfx-pro"],
    );
    assert_eq!(issue, ["--pfx-profile"]);
    for binary in ["certkit-ca", "certkit-issue", "certkit-export"] {
        for shell in ["zsh", "fish", "powershell"] {
            let script = env.ok(binary, &["completions", shell]);
            assert!(script.contains(binary), "{binary} {shell}");
        }
    }
}
