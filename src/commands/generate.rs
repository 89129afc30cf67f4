//! `mpc completions SHELL` and `mpc man`: generated from the clap types. The checked-in
//! copies under `completions/` and `man/` are kept fresh by a test.

use super::Ctx;
use super::cli::Cli;
use super::cli::CompletionsArgs;
use super::cli::ManArgs;
use crate::error::{Failure, Result};
use clap::CommandFactory;
use std::path::Path;

/// Runs `mpc completions`.
pub fn completions(args: CompletionsArgs) -> Result<()> {
    crate::output::out_bytes(&completion_script(args.shell));
    Ok(())
}

/// The completion script for a shell.
pub fn completion_script(shell: clap_complete::Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "mpc", &mut out);
    out
}

/// Every man page: `(file name, contents)`, for `mpc` and each subcommand.
pub fn man_pages() -> Result<Vec<(String, Vec<u8>)>> {
    let mut pages = Vec::new();
    // The pages carry the version only: the commit in `--version` would make every
    // commit's pages differ from the checked-in ones.
    let cmd = Cli::command().long_version(None::<&'static str>);
    collect(&cmd, "mpc", &mut pages)?;
    Ok(pages)
}

fn collect(cmd: &clap::Command, name: &str, pages: &mut Vec<(String, Vec<u8>)>) -> Result<()> {
    let cmd = cmd
        .clone()
        .name(name.to_string())
        .bin_name(name.replace('-', " "));
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut buf)
        .map_err(|e| Failure::internal("cannot render man page").cause(e))?;
    pages.push((format!("{name}.1"), buf));
    for sub in cmd.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        collect(sub, &format!("{name}-{}", sub.get_name()), pages)?;
    }
    Ok(())
}

/// Runs `mpc man`.
pub fn man(ctx: &Ctx, args: ManArgs) -> Result<()> {
    write_man(&args.out)?;
    ctx.printer
        .status(format!("wrote man pages to {}", args.out.display()));
    ctx.printer.json(&serde_json::json!({ "dir": args.out }))
}

fn write_man(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::input(format!("cannot create {}", dir.display())).cause(e))?;
    for (name, bytes) in man_pages()? {
        std::fs::write(dir.join(&name), bytes)
            .map_err(|e| Failure::input(format!("cannot write {name}")).cause(e))?;
    }
    Ok(())
}
