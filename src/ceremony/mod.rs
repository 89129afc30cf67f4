//! Running a ceremony (keygen or signing) for one party over a transport.
//!
//! A step: read new envelopes from the transport and validate each against the plan
//! (session, sender and its key, recipient, round, file name) before storing it as
//! accepted; then advance the engine as far as the accepted messages allow; persist the
//! new secret state and the envelopes it produced to the encrypted journal (atomically,
//! fsync'd) **before** delivering them; deliver every envelope we have sent that the
//! transport lacks. Running a step twice re-delivers the same bytes and never computes a
//! second signature share: the journal transition that stores a share also removes the
//! nonces, and the single-use ledger refuses a rolled-back journal.
//!
//! Bad input (a corrupt, foreign, misaddressed or renamed file) stops the step with an
//! error naming the file, before anything is stored, so the session continues once the
//! file is replaced. A conflicting second message for a filled slot aborts the session
//! and names the sender.

use crate::engine::{EngineError, Inbox, SignState};
use crate::envelope::{Envelope, Header, Protocol};

use crate::identity::Identity;
use crate::plan::{AuxMode, Plan, PlanError, Valid};
use crate::store::Store;
use crate::store::db::{Db, SessionStatus, set_session};
use crate::store::vault::Vault;
use crate::transport::Carrier;
use std::sync::Arc;

mod admission;
mod describe;
mod dispute;
pub(crate) mod ecdsa;
mod ending;
pub mod error;
mod frost;
mod journal;
mod keys;
mod outcome;
mod reshare;
mod shares;

pub use admission::admit_check;
pub use describe::{describe_message, describe_plan};
pub use dispute::EVIDENCE_ROUND;
pub use ecdsa::presigned_partial;
pub use ending::abandon;
use ending::{aborted, end_unfinished, expire};
pub use error::{Advice, Culprit, Error, ErrorKind, Result};
use frost::Generic;
use journal::{Journal, JournalState, state_name};
use keys::check_sign_plan;
pub use keys::{check_plan_here, load_share};
pub use outcome::Outcome;
pub use reshare::{default_aux, public_side};

/// Where a step left the session.
pub enum Progress {
    /// Finished.
    Done(Outcome),
    /// Needs these parties' messages of this round.
    Waiting {
        /// Round.
        round: u8,
        /// Missing senders (indices).
        missing: Vec<u16>,
    },
}

/// Something a step noticed that is not an error of the step, for the caller to show.
#[derive(Debug)]
pub enum Report {
    /// A message was admitted from this origin.
    Received(String),
    /// A message from a carrier that skips bad input (a relay) failed admission; nothing
    /// was stored from it.
    Ignored(Error),
}

/// One party's view of one session. It owns what it works with (the store, the
/// carriers, a shared handle on the identity), so it can move into a worker thread.
pub struct Ceremony {
    vault: Arc<dyn Vault>,
    identity: Arc<Identity>,
    db: Db,
    plan: Plan,
    session: [u8; 32],
    sid: String,
    me: u16,
    carriers: Vec<Box<dyn Carrier>>,
    /// What the steps since the last [`Ceremony::take_reports`] noticed.
    reports: Vec<Report>,
    /// What the last step in this process waited for: until a new message is accepted,
    /// the next step need not advance (an ECDSA advance replays the whole protocol).
    last_wait: Option<(u8, Vec<u16>)>,
    /// The ECDSA protocol run kept alive in this process between steps (a
    /// `cggmp::Live` of the protocol's output type), so a waiting process replays
    /// nothing.
    live: Option<(Protocol, Box<dyn std::any::Any + Send>)>,
    /// An ECDSA echo mismatch (protocol, round, echoers by plan index) found by the
    /// step that is unwinding, for `advance` to settle with evidence.
    pending_dispute: Option<(Protocol, u8, Vec<u16>)>,
}

impl Ceremony {
    /// Opens this party's session for `plan` in `store`, or starts it if `confirm` (shown
    /// the plan and this party's index) says the plan is the one every party agreed on.
    /// Messages travel by `carriers`, all admitted the same way. The confirmation's
    /// error type is the caller's (a prompt may fail in its own way).
    pub fn open<E: From<Error>>(
        store: Store,
        identity: Arc<Identity>,
        plan: Valid<Plan>,
        carriers: Vec<Box<dyn Carrier>>,
        confirm: impl FnOnce(&Plan, u16) -> std::result::Result<bool, E>,
    ) -> std::result::Result<Ceremony, E> {
        let (c, new) = Ceremony::prepare(store, identity, plan, carriers)?;
        if new {
            if !confirm(&c.plan, c.me)? {
                return Err(Error::rejected("plan not confirmed; nothing was done")
                    .advise(Advice::CompareFingerprint)
                    .into());
            }
            let plan = &c.plan;
            c.db.insert_session(
                &c.sid,
                plan.kind(),
                &plan.to_json(),
                c.me,
                serde_json::json!({"label": plan.label(), "scheme": plan.scheme().id(), "index": c.me}),
            )
            .map_err(Error::from)?;
        }
        Ok(c)
    }

    /// Everything [`Ceremony::open`] checks before asking for confirmation; says whether
    /// the session is new in this store.
    fn prepare(
        store: Store,
        identity: Arc<Identity>,
        plan: Valid<Plan>,
        carriers: Vec<Box<dyn Carrier>>,
    ) -> Result<(Ceremony, bool)> {
        let plan = plan.into_inner();
        let card = identity.card();
        let session = plan.session_id();
        let sid = hex::encode(session);
        let Store { db, vault } = store;
        // What a killed process left: temporary files, journals of ended sessions.
        vault.clean_leftovers(&|id| {
            Ok(!matches!(
                db.session(id)?.map(|r| r.status),
                Some(SessionStatus::Complete | SessionStatus::Aborted)
            ))
        })?;
        let me = match plan.check_for(&card) {
            Err(PlanError::Expired(at)) => {
                let status = db.session(&sid)?.map(|r| r.status);
                match (status, plan.index_of(&card)) {
                    // A finished session only shows its result and re-delivers.
                    (Some(SessionStatus::Complete), Some(me)) => me,
                    (Some(SessionStatus::Running), Some(_)) => {
                        let _lock = vault.lock_session(&sid)?;
                        return Err(expire(&*vault, &db, &plan, &sid)?);
                    }
                    _ => return Err(PlanError::Expired(at).into()),
                }
            }
            other => other?,
        };
        if let Plan::Sign(p) = &plan {
            check_sign_plan(&db, p, me)?;
        }
        let existing = db.session(&sid)?;
        if existing.is_none() || matches!(plan, Plan::Refresh(_)) {
            shares::check_plan(&*vault, &db, &plan, me)?;
        }
        if let Plan::Reshare(p) = &plan
            && existing.is_none()
        {
            reshare::check_plan(&*vault, &db, p, me)?;
        }
        match existing {
            Some(rec) if rec.status == SessionStatus::Aborted => {
                return Err(
                    aborted(&plan, rec, format!("session {} was aborted", &sid[..16]))
                        .advise(Advice::NewSession),
                );
            }
            _ => {}
        }
        let new = existing.is_none();
        let c = Ceremony {
            vault,
            identity,
            db,
            plan,
            session,
            sid,
            me,
            carriers,
            reports: Vec::new(),
            last_wait: None,
            live: None,
            pending_dispute: None,
        };
        Ok((c, new))
    }

    /// Ends this handle on the session and gives back its store (the session itself
    /// stays as it is in the store, to be opened again).
    pub fn into_store(self) -> Store {
        Store {
            db: self.db,
            vault: self.vault,
        }
    }

    /// The session id, hex.
    pub fn session_hex(&self) -> &str {
        &self.sid
    }

    /// What the steps since the last call noticed (messages received, bad downloads
    /// skipped).
    pub fn take_reports(&mut self) -> Vec<Report> {
        std::mem::take(&mut self.reports)
    }

    /// Why a carrier cannot reach its service now, if one cannot.
    pub fn trouble(&self) -> Option<String> {
        self.carriers.iter().find_map(|c| c.trouble())
    }

    /// A party to blame, by its plan index.
    fn culprit(&self, index: u16) -> Culprit {
        Culprit {
            index,
            label: self.party_label(index),
        }
    }

    /// A party's label.
    pub fn party_label(&self, index: u16) -> String {
        self.plan.party_label(index)
    }

    /// Runs one step: ingest, advance as far as possible, deliver.
    ///
    /// A step holds this session's lock in the home, so two processes running the same
    /// session take turns. It starts by bringing the database's record of what was sent
    /// up to the committed journal (a crash may have come between the two), so that
    /// every envelope the journal holds is delivered, whatever the database said.
    pub fn step(&mut self) -> Result<Progress> {
        let result = self.step_locked();
        // Whatever the step wrote to the audit log is signed before it returns.
        self.db.checkpoint(|m| self.identity.sign(m))?;
        result
    }

    fn step_locked(&mut self) -> Result<Progress> {
        let mut rec = self.record()?;
        // An ended session is only read (and its messages delivered): no lock needed.
        let _lock = if rec.status == SessionStatus::Running {
            let lock = self.vault.lock_session(&self.sid)?;
            rec = self.record()?; // as the previous holder of the lock left it
            if rec.status == SessionStatus::Running {
                if crate::clock::now() > self.plan.expires_at() {
                    return Err(expire(&*self.vault, &self.db, &self.plan, &self.sid)?);
                }
                self.reconcile()?;
            }
            Some(lock)
        } else {
            None
        };
        match rec.status {
            SessionStatus::Complete => {
                self.deliver_all()?;
                let outcome = serde_json::from_str(rec.result.as_deref().unwrap_or(""))
                    .map_err(|e| Error::bug("stored session result is unreadable").cause(e))?;
                return Ok(Progress::Done(outcome));
            }
            SessionStatus::Aborted => {
                return Err(aborted(&self.plan, rec, "this session was aborted"));
            }
            SessionStatus::Running => {}
        }
        let result = self.ingest().and_then(|new| match &self.last_wait {
            Some((round, missing)) if new == 0 => Ok(Progress::Waiting {
                round: *round,
                missing: missing.clone(),
            }),
            _ => {
                let progress = self.advance()?;
                let wait = match &progress {
                    Progress::Waiting { round, missing } => Some((*round, missing.clone())),
                    Progress::Done(_) => None,
                };
                if let Some((round, missing)) = &wait
                    && self.last_wait.as_ref() != wait.as_ref()
                {
                    let who: Vec<String> = missing.iter().map(|&m| self.party_label(m)).collect();
                    self.db.set_waiting(
                        &self.sid,
                        &format!("round {round} from {}", who.join(", ")),
                    )?;
                }
                self.last_wait = wait;
                Ok(progress)
            }
        });
        if let Err(e) = &result
            && e.kind() == ErrorKind::Misbehaved
        {
            let labels: Vec<String> = e.culprits().iter().map(|c| c.label.clone()).collect();
            self.abort(&e.message(), &labels)?;
        }
        self.deliver_all()?;
        result
    }

    fn record(&self) -> Result<crate::store::db::SessionRecord> {
        self.db
            .session(&self.sid)?
            .ok_or_else(|| Error::bug("session vanished"))
    }

    /// Ends the session as aborted (see [`end_unfinished`]).
    fn abort(&mut self, reason: &str, culprits: &[String]) -> Result<()> {
        let action = format!("{}.abort", self.plan.kind());
        end_unfinished(
            &*self.vault,
            &self.db,
            &self.plan,
            &self.sid,
            (&action, "aborted"),
            reason,
            culprits,
        )
    }

    fn protocol(&self) -> Protocol {
        protocol_of(&self.plan)
    }

    /// This party's 1-based plan index.
    pub fn index(&self) -> u16 {
        self.me
    }

    /// Every accepted message of the session, decoded and opened, in the pinned order.
    fn accepted(&self) -> Result<Vec<(Header, Vec<u8>)>> {
        let mut out = Vec::new();
        for raw in self.db.messages(&self.sid)? {
            let env = Envelope::decode(&raw)
                .map_err(|e| Error::bug("a stored message no longer decodes").cause(e))?;
            let data = env
                .open(&self.identity)
                .map_err(|e| Error::bug("a stored message no longer opens").cause(e))?;
            out.push((env.header, data));
        }
        Ok(out)
    }

    /// The accepted messages of the plan's main protocol (an ECDSA reshare's aux-info
    /// messages are not the reshare engine's), by round and sender.
    fn inbox(&self) -> Result<Inbox> {
        let mut inbox = Inbox::default();
        for (header, data) in self.accepted()? {
            if header.round != EVIDENCE_ROUND && header.protocol == self.protocol() {
                inbox.insert(header.round, header.sender, data);
            }
        }
        Ok(inbox)
    }

    fn advance(&mut self) -> Result<Progress> {
        self.answer_evidence()?;
        // An ECDSA reshare runs the reshare engine below, after the new holders' aux
        // info (`reshare_aux`); every other ECDSA session replays cggmp21.
        let ecdsa_reshare = !self.plan.scheme().is_frost() && matches!(self.plan, Plan::Reshare(_));
        if !self.plan.scheme().is_frost() && !ecdsa_reshare {
            let progress = self.advance_ecdsa();
            if let Some(settled) = self.settle_pending_dispute()? {
                return Ok(settled);
            }
            return progress;
        }
        let inbox = self.inbox()?;
        let mut journal = self.load_journal()?;
        if ecdsa_reshare {
            let aux = self.reshare_aux(&mut journal);
            if let Some(settled) = self.settle_pending_dispute()? {
                return Ok(settled);
            }
            if let Some(waiting) = aux? {
                return Ok(waiting);
            }
        }
        loop {
            let step = match &journal.state {
                JournalState::Keygen(state) => self.keygen_step(state, &inbox)?,
                JournalState::Sign(state) => self.sign_step(state, &inbox)?,
                JournalState::Refresh(state) => self.refresh_step(state, &inbox)?,
                JournalState::Repair(state) => self.repair_step(state, &inbox)?,
                JournalState::Reshare(state) => self.reshare_step(state, None, &inbox)?,
                JournalState::EcdsaReshare { aux, reshare } => {
                    self.reshare_step(reshare, Some(aux), &inbox)?
                }
                JournalState::Ecdsa(_) => {
                    return Err(Error::bug("an ECDSA journal in a FROST session"));
                }
            };
            match step {
                Generic::Advanced { state, outgoing } => {
                    if let JournalState::Sign(SignState::Shared { .. }) = &state {
                        // The nonces are consumed, for this share only, before the new
                        // state (without them) is committed and anything leaves.
                        self.claim_nonce(&outgoing)?;
                    }
                    let rows = outgoing
                        .iter()
                        .map(|o| self.seal(self.protocol(), o.round, o.recipient, &o.data))
                        .collect::<Result<Vec<_>>>()?;
                    journal.sent.extend(rows);
                    journal.state.advance_to(state);
                    let ledger = journal.state.ledger();
                    // The commit point: the new state (without the nonces, once a share
                    // exists) and what it sent, before anything leaves the machine.
                    self.commit_step(&journal, ledger)?;
                    if journal.state.staged() {
                        self.staged()?;
                    }
                    let name = state_name(&journal.state);
                    self.db
                        .update_session(&self.sid, SessionStatus::Running, name, None)?;
                    crate::fault::point("state-recorded");
                }
                Generic::Waiting { round, missing } => {
                    return Ok(Progress::Waiting { round, missing });
                }
                Generic::Disputed { round, echoers } => {
                    let protocol = self.protocol();
                    return self.dispute(&mut journal, protocol, round, echoers);
                }
                Generic::Done(outcome) => return self.complete(outcome),
            }
        }
    }

    /// Settles the echo mismatch a CGGMP21 run found in the step that just unwound (see
    /// `live_run`) by evidence, from the committed journal; `None` when there is none.
    fn settle_pending_dispute(&mut self) -> Result<Option<Progress>> {
        let Some((protocol, round, echoers)) = self.pending_dispute.take() else {
            return Ok(None);
        };
        let mut journal = self.load_journal()?;
        self.dispute(&mut journal, protocol, round, echoers)
            .map(Some)
    }

    /// Records the outcome, audits it, and destroys the session journal (its secrets:
    /// DKG packages, nonces, the replay seed).
    ///
    /// The status, the result and its audit row are written in one transaction, so a
    /// result is never reported (now, or by a later run) without its audit row.
    fn complete(&mut self, outcome: Outcome) -> Result<Progress> {
        let json = serde_json::to_string(&outcome).map_err(|e| Error::bug("encode").cause(e))?;
        let (action, subject) = match &outcome {
            Outcome::Keygen { key_id, .. } => ("keygen.complete", key_id.clone()),
            Outcome::Sign { key_id, .. } => ("sign.complete", key_id.clone()),
            Outcome::Presign { key_id, .. } => ("presign.complete", key_id.clone()),
            Outcome::Refresh { key_id, .. } => ("refresh.complete", key_id.clone()),
            Outcome::Repair { key_id, .. } => ("repair.complete", key_id.clone()),
            Outcome::Reshare { key_id, .. } => ("reshare.complete", key_id.clone()),
        };
        let sid = self.sid.clone();
        self.db.audited(
            action,
            &subject,
            serde_json::json!({ "session": self.sid, "result": outcome }),
            |c| {
                set_session(
                    c,
                    &sid,
                    SessionStatus::Complete,
                    "complete",
                    Some(&json),
                    None,
                )
            },
        )?;
        crate::fault::point("completed");
        self.vault.end_session(&self.sid)?;
        Ok(Progress::Done(outcome))
    }

    /// Builds and signs the envelope for one outgoing payload; private payloads are
    /// encrypted to their recipient. Returns the envelope bytes.
    fn seal(
        &self,
        protocol: Protocol,
        round: u8,
        recipient: Option<u16>,
        data: &[u8],
    ) -> Result<Vec<u8>> {
        let header = Header {
            scheme: self.plan.scheme().tag(),
            session: self.session,
            protocol,
            round,
            sender: self.me,
            sender_key: self.identity.card().verifying_key()?.to_bytes(),
            recipient: recipient.unwrap_or(0),
        };
        let seal_to = match recipient {
            Some(r) => Some(
                self.plan
                    .party(r)
                    .ok_or_else(|| Error::bug("no such recipient"))?
                    .recipient()?,
            ),
            None => None,
        };
        Ok(
            Envelope::create(&self.identity, header, data, seal_to.as_ref())?
                .as_bytes()
                .to_vec(),
        )
    }

    fn blame(&self, e: EngineError) -> Error {
        match e {
            EngineError::PeerMisbehaved { culprits, reason } => {
                let names: Vec<String> = culprits.iter().map(|&c| self.party_label(c)).collect();
                let message = if names.is_empty() {
                    format!("protocol aborted: {reason}")
                } else {
                    format!("protocol aborted: party {} {reason}", names.join(", "))
                };
                Error::new(ErrorKind::Misbehaved, message)
                    .blaming(culprits.iter().map(|&c| self.culprit(c)).collect())
                    .advise(Advice::InvestigateCulprit)
            }
            EngineError::EchoMismatch { round, echoers } => {
                // Settled by `dispute` where the protocol allows; elsewhere nobody can be
                // named from an echo alone.
                let names: Vec<String> = echoers.iter().map(|&c| self.party_label(c)).collect();
                Error::new(ErrorKind::Misbehaved,
                    format!(
                        "protocol aborted: party {} saw different round-{round} broadcasts than you did; someone sent conflicting broadcasts",
                        names.join(", ")
                    ),
                )
                .advise(Advice::CompareRoundMessages)
            }
            EngineError::Bug(m) => Error::bug("internal protocol error").cause(m),
        }
    }

    /// Offers every envelope we have sent to every carrier (each skips what it has).
    fn deliver_all(&mut self) -> Result<()> {
        for raw in self.db.sent(&self.sid)? {
            let env = Envelope::decode(&raw)
                .map_err(|e| Error::bug("a sent message no longer decodes").cause(e))?;
            for carrier in &mut self.carriers {
                carrier.deliver(&env).map_err(carrier_failure)?;
            }
        }
        Ok(())
    }
}

/// A carrier's failure as the step's: unreadable input is the user's to fix, an
/// unwritable output or a refusal is reported as it is.
fn carrier_failure(e: crate::transport::CarrierError) -> Error {
    use crate::transport::CarrierError;
    match e {
        CarrierError::Read { place, reason } => {
            Error::rejected(format!("cannot read {place}")).cause(reason)
        }
        CarrierError::Write { place, reason } => {
            Error::bug(format!("cannot write to {place}")).cause(reason)
        }
        CarrierError::Refused(m) => Error::rejected(m).advise(Advice::FixRelay),
    }
}

/// A ceremony moves into a worker thread or task.
const _: fn() = || {
    fn send<T: Send>() {}
    send::<Ceremony>();
};

/// The protocol a plan runs (an ECDSA keygen runs aux info first, see [`protocols`]).
fn protocol_of(plan: &Plan) -> Protocol {
    match plan {
        Plan::Keygen(_) => Protocol::Keygen,
        Plan::Sign(_) => Protocol::Sign,
        Plan::Refresh(_) => Protocol::Refresh,
        Plan::Repair(_) => Protocol::Repair,
        Plan::Reshare(_) => Protocol::Reshare,
    }
}

/// The protocols whose messages a plan's session accepts.
fn protocols(plan: &Plan) -> Vec<Protocol> {
    match plan {
        Plan::Keygen(p) if p.aux == Some(AuxMode::Generate) => {
            vec![Protocol::Aux, Protocol::Keygen]
        }
        Plan::Reshare(p) if p.aux == Some(AuxMode::Generate) => {
            vec![Protocol::Aux, Protocol::Reshare]
        }
        _ => vec![protocol_of(plan)],
    }
}

/// The highest round number of a plan's protocols.
fn max_round(plan: &Plan) -> u8 {
    match plan {
        _ if !plan.scheme().is_frost() => ecdsa::MAX_ROUND,
        Plan::Refresh(_) | Plan::Repair(_) | Plan::Reshare(_) => 3,
        _ => 2,
    }
}
