//! All printing, prompting and progress display.
//!
//! Data goes to stdout; humans read stderr. Under `--json` each command prints exactly one
//! JSON object on stdout (success or failure) and nothing decorative; prompts and spinners
//! only appear when stderr is a terminal and neither `--json` nor `-q` is given.
//! Passphrases go from the prompt, file or environment straight into a `SecretString`.

use crate::error::{Exit, Failure, Result};
use age::secrecy::{ExposeSecret, SecretString};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

/// How the user asked to be talked to.
#[derive(Clone, Debug, Default)]
pub struct Printer {
    /// `--json`: one JSON object on stdout, nothing else there.
    pub json: bool,
    /// `-q`: no status lines.
    pub quiet: bool,
    /// `-v` count.
    pub verbose: u8,
    /// `--no-input`: a prompt becomes an error.
    pub no_input: bool,
    /// `--passphrase-file`.
    pub passphrase_file: Option<PathBuf>,
}

impl Printer {
    fn chatty(&self) -> bool {
        !self.json && !self.quiet
    }

    /// A status line for humans (stderr).
    pub fn status(&self, msg: impl AsRef<str>) {
        if self.chatty() {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// A line shown only with `-v`.
    pub fn detail(&self, msg: impl AsRef<str>) {
        if self.verbose > 0 && !self.json {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// A warning (stderr), shown unless `-q`.
    pub fn warn(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("warning: {}", msg.as_ref());
        }
    }

    /// Prints data for humans on stdout (suppressed under `--json`).
    pub fn data(&self, text: impl AsRef<str>) {
        if !self.json {
            out_line(text.as_ref());
        }
    }

    /// Prints the command's JSON object on stdout, if `--json` was given.
    pub fn json<T: Serialize>(&self, value: &T) -> Result<()> {
        if self.json {
            let line = serde_json::to_string(value)
                .map_err(|e| Failure::internal("could not encode JSON output").cause(e))?;
            out_line(&line);
        }
        Ok(())
    }

    /// A spinner on stderr for slow work, or `None` when nobody is watching.
    pub fn spinner(&self, msg: impl Into<String>) -> Option<ProgressBar> {
        if !self.chatty() || !std::io::stderr().is_terminal() {
            return None;
        }
        let pb = ProgressBar::new_spinner();
        pb.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.enable_steady_tick(Duration::from_millis(120));
        pb.set_message(msg.into());
        Some(pb)
    }

    fn can_prompt(&self) -> bool {
        !self.no_input && std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
    }

    /// Asks a yes/no question; `assume_yes` (from `--yes`) answers it without asking.
    /// Without a terminal, or with `--no-input`, an unanswered question is an error.
    pub fn confirm(&self, question: &str, assume_yes: bool) -> Result<bool> {
        if assume_yes {
            return Ok(true);
        }
        if !self.can_prompt() {
            return Err(
                Failure::input("confirmation required but no terminal to ask on")
                    .cause(question)
                    .hint("check the details above with the other parties, then pass --yes"),
            );
        }
        dialoguer::Confirm::new()
            .with_prompt(question)
            .default(false)
            .interact()
            .map_err(|e| Failure::input("could not read the answer").cause(e))
    }

    /// Reads the party's passphrase: `--passphrase-file`, then `MPC_PASSPHRASE`, then a
    /// hidden prompt (with confirmation when `confirm` is set, as for `mpc init`).
    pub fn passphrase(&self, confirm: bool) -> Result<SecretString> {
        self.secret(
            "Passphrase",
            self.passphrase_file.as_deref(),
            "MPC_PASSPHRASE",
            "--passphrase-file FILE",
            confirm,
        )
    }

    /// Reads a secret: the first line of `file`, then the environment variable `env`,
    /// then a hidden prompt labelled `label` (asked twice when `confirm` is set).
    /// `flag` names the file option in the error when none of them is available.
    pub fn secret(
        &self,
        label: &str,
        file: Option<&std::path::Path>,
        env: &str,
        flag: &str,
        confirm: bool,
    ) -> Result<SecretString> {
        let pass = if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Failure::input(format!("cannot read passphrase file {}", path.display())).cause(e)
            })?;
            let line = text.lines().next().unwrap_or("").to_string();
            SecretString::from(line)
        } else if let Ok(p) = std::env::var(env) {
            SecretString::from(p)
        } else if self.can_prompt() {
            let mut prompt = dialoguer::Password::new().with_prompt(label);
            if confirm {
                prompt = prompt.with_confirmation(
                    format!("Repeat {}", label.to_lowercase()),
                    "passphrases do not match",
                );
            }
            SecretString::from(
                prompt
                    .interact()
                    .map_err(|e| Failure::input("could not read the passphrase").cause(e))?,
            )
        } else {
            return Err(Failure::input(format!(
                "a {} is needed but there is no terminal",
                label.to_lowercase()
            ))
            .hint(format!("use {flag} or set {env}")));
        };
        if pass.expose_secret().is_empty() {
            return Err(Failure::input(format!(
                "the {} is empty",
                label.to_lowercase()
            )));
        }
        Ok(pass)
    }

    /// Prints a failure: `error:` / `caused by:` / `hint:` on stderr, and under `--json`
    /// also an `{"error": ...}` object on stdout.
    pub fn failure(&self, f: &Failure) {
        if self.json && !f.json_printed {
            json_failure(f);
        }
        let mut err = std::io::stderr().lock();
        let label = if f.exit == Exit::Waiting {
            "waiting"
        } else {
            "error"
        };
        let _ = writeln!(err, "{label}: {}", f.message);
        for c in &f.causes {
            let _ = writeln!(err, "  caused by: {c}");
        }
        if !f.culprits.is_empty() {
            let _ = writeln!(err, "  culprits: {}", f.culprits.join(", "));
        }
        if let Some(h) = &f.hint {
            let _ = writeln!(err, "hint: {h}");
        }
    }
}

/// Writes one line to stdout (see [`out_bytes`]).
fn out_line(line: &str) {
    out_bytes(format!("{line}\n").as_bytes());
}

/// Writes data to stdout. When the reader has gone away (`mpc ... | head`), the process
/// exits quietly with status 0, as well-behaved Unix tools do, instead of panicking.
pub fn out_bytes(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(bytes).and_then(|()| out.flush())
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// Prints a failure as the command's one JSON object on stdout (`{"error": ...}`).
pub fn json_failure(f: &Failure) {
    let obj = serde_json::json!({
        "error": {
            "message": f.message,
            "causes": f.causes,
            "hint": f.hint,
            "culprits": f.culprits,
            "exit_code": f.exit as i32,
        }
    });
    out_line(&obj.to_string());
}
