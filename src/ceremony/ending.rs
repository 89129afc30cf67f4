//! How an unfinished session ends for good: aborted by a peer's misbehaviour, abandoned
//! by this party, or expired with its plan. Each destroys the session's secrets.

use super::error::{Advice, Culprit, Error, ErrorKind, Result};
use super::shares;
use crate::plan::Plan;
use crate::store::db::{Db, SessionRecord, SessionStatus, set_session};
use crate::store::vault::Vault;

/// Ends an unfinished session for good: status `aborted` with `reason` and `culprits`
/// and the audit row `action` (and the state name `state`: `aborted` for a protocol
/// abort, `abandoned` or `expired` for this party's own decision), in one transaction; a refresh's key stops rotating; then
/// the journal (the session's secrets: nonces, DKG packages, a replay seed, a staged
/// share) is destroyed. The caller holds the session's lock.
pub(super) fn end_unfinished(
    vault: &dyn Vault,
    db: &Db,
    plan: &Plan,
    sid: &str,
    (action, state): (&str, &str),
    reason: &str,
    culprits: &[String],
) -> Result<()> {
    db.audited(
        action,
        sid,
        serde_json::json!({ "reason": reason, "culprits": culprits }),
        |c| {
            set_session(
                c,
                sid,
                SessionStatus::Aborted,
                state,
                Some(reason),
                Some(culprits),
            )?;
            // Whatever single-use item the session still had armed (its nonces) is
            // consumed with it: the ledger never shows an aborted session's nonce as
            // usable.
            c.execute(
                "UPDATE ledger SET status = 'consumed', updated_at = ?2
                 WHERE session_id = ?1 AND status = 'armed'",
                rusqlite::params![sid, crate::clock::now() as i64],
            )?;
            Ok(())
        },
    )?;
    shares::end_rotation(db, plan)?;
    vault.end_session(sid)?;
    Ok(())
}

/// Abandons this party's unfinished session `sid` (`mpc sessions abandon`): it ends
/// as aborted, audited as `session.abandon`, and its secret state is destroyed, so its
/// nonces can never be used. Nothing is decrypted.
pub fn abandon(vault: &dyn Vault, db: &Db, sid: &str) -> Result<()> {
    let _lock = vault.lock_session(sid)?;
    let rec = db
        .session(sid)?
        .ok_or_else(|| Error::rejected(format!("no session {sid} in this home")))?;
    if rec.status != SessionStatus::Running {
        return Err(Error::rejected(format!(
            "session {} is already {}; there is nothing to abandon",
            &sid[..16.min(sid.len())],
            rec.status.as_str()
        )));
    }
    let plan = Plan::from_json(rec.plan.as_bytes())
        .map_err(|e| Error::bug("the session's stored plan is unreadable").cause(e))?;
    end_unfinished(
        vault,
        db,
        &plan,
        sid,
        ("session.abandon", "abandoned"),
        "abandoned by this party (`mpc sessions abandon`)",
        &[],
    )
}

/// The failure for a plan that expired while its session here was unfinished: the
/// session is ended (its secret state destroyed) so that no nonce lingers; the caller
/// holds the session's lock.
pub(super) fn expire(vault: &dyn Vault, db: &Db, plan: &Plan, sid: &str) -> Result<Error> {
    let at = crate::clock::format_time(plan.expires_at());
    end_unfinished(
        vault,
        db,
        plan,
        sid,
        ("session.expire", "expired"),
        &format!("the plan expired at {at}"),
        &[],
    )?;
    Ok(Error::rejected(format!("the plan expired at {at}"))
        .cause("this party's unfinished session was ended and its secret state destroyed; no round of it runs after the plan's expiry")
        .advise(Advice::NewPlan))
}

/// The failure for a session that was aborted earlier, with the culprits it named then:
/// exit 3 for a protocol abort, exit 2 for a session this party abandoned or that
/// expired (nobody else's fault).
pub(super) fn aborted(plan: &Plan, rec: SessionRecord, message: impl Into<String>) -> Error {
    let kind = match rec.state.as_str() {
        "abandoned" | "expired" => ErrorKind::Ended,
        _ => ErrorKind::Aborted,
    };
    let culprits = rec
        .culprits
        .into_iter()
        .map(|label| Culprit {
            index: (1..=plan.parties().len() as u16)
                .find(|&i| plan.party_label(i) == label)
                .unwrap_or(0),
            label,
        })
        .collect();
    Error::new(kind, message)
        .cause(rec.result.unwrap_or_default())
        .blaming(culprits)
}
