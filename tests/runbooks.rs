//! Every `mpc` command in the ceremony runbooks must still be accepted by the current
//! command line, so a runbook cannot silently go stale when a flag changes.

use clap::Parser;
use mpc::cli::Cli;
use std::path::Path;

/// The `mpc ...` command lines inside ```sh blocks of a markdown file.
fn commands(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in markdown.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            in_sh = !in_sh && t == "```sh";
            continue;
        }
        if in_sh && t.starts_with("mpc ") {
            out.push(t.to_string());
        }
    }
    out
}

#[test]
fn every_runbook_command_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("ceremonies");
    let mut checked = 0;
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md") && !p.ends_with("README.md"))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for cmd in commands(&text) {
            let words = shlex::split(&cmd)
                .unwrap_or_else(|| panic!("{}: cannot split `{cmd}`", f.display()));
            if let Err(e) = Cli::try_parse_from(&words) {
                panic!("{}: `{cmd}` no longer parses:\n{e}", f.display());
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} runbook commands found");
}
