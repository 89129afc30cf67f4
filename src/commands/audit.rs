//! `mpc audit log|verify`.

use super::Ctx;
use crate::cli::AuditCommand;
use crate::error::{Exit, Failure, Result};
use crate::plan::format_time;

/// Runs `mpc audit ...`.
pub fn run(ctx: &Ctx, cmd: AuditCommand) -> Result<()> {
    let db = ctx.home.db()?;
    match cmd {
        AuditCommand::Log => {
            let rows = db.audit_rows()?;
            for r in &rows {
                ctx.printer.data(format!(
                    "{:>5}  {}  {:<18} {}  {}",
                    r.seq,
                    format_time(r.at as u64),
                    r.action,
                    r.subject,
                    r.detail
                ));
            }
            ctx.printer.json(&serde_json::json!({ "entries": rows }))
        }
        AuditCommand::Verify => match db.audit_verify()? {
            Ok(n) => {
                ctx.printer
                    .status(format!("audit chain intact: {n} entries"));
                ctx.printer
                    .json(&serde_json::json!({ "intact": true, "entries": n }))
            }
            Err(brk) => {
                ctx.printer
                    .json(&serde_json::json!({ "intact": false, "break": brk }))?;
                Err(Failure::new(
                    Exit::Negative,
                    format!("the audit chain is broken at entry {}", brk.seq),
                )
                .cause(brk.reason)
                .hint("the database was edited outside mpc; keep a copy for investigation")
                .json_printed())
            }
        },
    }
}
