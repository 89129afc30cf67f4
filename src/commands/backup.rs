//! `mpc keys backup KEY --out FILE [--to RECIPIENT]...` and `mpc keys restore FILE`.
//! The format and the checks are in [`crate::lifecycle::backup`].

use super::{Ctx, read_input, resolve_key};
use crate::error::{Failure, Result};
use crate::lifecycle::backup::{self, Seal};
use crate::store::db::Db;
use clap::Args;
use std::path::PathBuf;
use std::str::FromStr;

/// `mpc keys backup`
#[derive(Debug, Args)]
pub struct KeysBackupArgs {
    /// The key id (or a unique prefix)
    pub key: String,
    /// Write the backup to FILE (ASCII-armored age, mode 0600)
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
    /// Encrypt to this age recipient (age1...) instead of a passphrase; repeatable
    #[arg(long = "to", value_name = "RECIPIENT")]
    pub to: Vec<String>,
    /// Read the backup's passphrase from the first line of FILE [env: MPC_BACKUP_PASSPHRASE]
    #[arg(long, value_name = "FILE", conflicts_with = "to")]
    pub backup_passphrase_file: Option<PathBuf>,
}

/// `mpc keys restore`
#[derive(Debug, Args)]
pub struct KeysRestoreArgs {
    /// The backup file
    pub file: PathBuf,
    /// Read the backup's passphrase from the first line of FILE [env: MPC_BACKUP_PASSPHRASE]
    #[arg(long, value_name = "FILE")]
    pub backup_passphrase_file: Option<PathBuf>,
    /// An age identity file that opens a backup made with --to (your own identity is tried
    /// first)
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,
}

const ENV: &str = "MPC_BACKUP_PASSPHRASE";
const FLAG: &str = "--backup-passphrase-file FILE";

/// Runs `mpc keys backup`.
pub fn create(ctx: &Ctx, db: &Db, args: KeysBackupArgs) -> Result<()> {
    let key = resolve_key(db, &args.key)?;
    backup::ensure_backupable(&key)?;
    let seal = if args.to.is_empty() {
        Seal::Passphrase(ctx.printer.secret(
            "Backup passphrase",
            args.backup_passphrase_file.as_deref(),
            ENV,
            FLAG,
            true,
        )?)
    } else {
        Seal::Recipients(
            args.to
                .iter()
                .map(|r| {
                    age::x25519::Recipient::from_str(r.trim()).map_err(|e| {
                        Failure::input(format!("`{r}` is not an age recipient (age1...)")).cause(e)
                    })
                })
                .collect::<Result<_>>()?,
        )
    };
    let identity = ctx.unlock()?;
    let armored = backup::create(&ctx.home, &identity, &key, &seal)?;
    crate::store::fsutil::write_atomic(&args.out, armored.as_bytes())
        .map_err(|e| Failure::input(format!("cannot write {}", args.out.display())).cause(e))?;
    db.audit(
        "key.backup",
        &key.id,
        serde_json::json!({ "to": if args.to.is_empty() { "passphrase".to_string() } else { args.to.join(",") } }),
    )?;
    db.checkpoint(|m| identity.sign(m))?;
    ctx.printer.status(format!(
        "backup of your share of key {} (party {}) written to {}; keep it offline, and keep your identity.age too",
        key.id,
        key.my_index,
        args.out.display()
    ));
    ctx.printer.json(&serde_json::json!({
        "id": key.id,
        "index": key.my_index,
        "file": args.out.display().to_string(),
    }))
}

/// Runs `mpc keys restore`.
pub fn restore(ctx: &Ctx, db: &Db, args: KeysRestoreArgs) -> Result<()> {
    let bytes = read_input(&args.file)?;
    let named = |e: crate::lifecycle::Error| {
        Failure::from(e).context(format!("cannot restore {}", args.file.display()))
    };
    let passphrase = if backup::needs_passphrase(&bytes).map_err(named)? {
        Some(ctx.printer.secret(
            "Backup passphrase",
            args.backup_passphrase_file.as_deref(),
            ENV,
            FLAG,
            false,
        )?)
    } else {
        None
    };
    let extra = match &args.identity {
        None => Vec::new(),
        Some(path) => {
            let text = String::from_utf8(read_input(path)?).map_err(|_| {
                Failure::input(format!("{} is not an age identity file", path.display()))
            })?;
            text.lines()
                .map(str::trim)
                .filter(|l| l.starts_with("AGE-SECRET-KEY-"))
                .map(|l| {
                    age::x25519::Identity::from_str(l).map_err(|_| {
                        Failure::input(format!("{} holds a malformed age identity", path.display()))
                    })
                })
                .collect::<Result<Vec<_>>>()?
        }
    };
    let identity = ctx.unlock()?;
    let r = backup::restore(&ctx.home, &identity, db, &bytes, passphrase, &extra).map_err(named)?;
    db.checkpoint(|m| identity.sign(m))?;
    ctx.printer.status(format!(
        "restored your share (party {}) of key {} ({}); it matches the key's public key",
        r.index, r.key_id, r.scheme
    ));
    ctx.printer.json(&serde_json::json!({
        "id": r.key_id,
        "scheme": r.scheme,
        "index": r.index,
    }))
}
