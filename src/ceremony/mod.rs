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

use crate::engine::{
    self, EngineError, Inbox, KeyMaterial, KeygenParams, KeygenState, RefreshState, RepairState,
    SignParams, SignState, Step,
};
use crate::envelope::{Envelope, Header, Protocol};

use crate::identity::{Card, Identity, words};
use crate::plan::{AuxMode, KeygenPlan, Plan, PlanError, Valid};
use crate::pubkey;
use crate::secret::Secret;
use crate::store::Store;
use crate::store::db::{
    Claim, Db, KeyRecord, KeyStatus, Mark, SessionStatus, SingleUse, set_session,
};
use crate::store::keystore::{self, ShareFile};
use crate::store::vault::{Item, Vault};
use crate::transport::Carrier;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

mod admission;
mod describe;
mod dispute;
pub(crate) mod ecdsa;
mod ending;
pub mod error;
mod shares;

pub use describe::{describe_message, describe_plan};
pub use dispute::EVIDENCE_ROUND;
pub use ending::abandon;
use ending::{aborted, end_unfinished, expire};
pub use error::{Advice, Culprit, Error, ErrorKind, Result};

/// The encrypted per-session journal.
#[derive(Serialize, Deserialize)]
struct Journal {
    version: u8,
    state: JournalState,
    /// Every envelope this party has produced in the session, in order.
    sent: Vec<Vec<u8>>,
}

#[derive(Serialize, Deserialize)]
enum JournalState {
    Keygen(KeygenState),
    Sign(SignState),
    Ecdsa(ecdsa::EcdsaState),
    Refresh(RefreshState),
    Repair(RepairState),
}

/// What a finished ceremony produced (public).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// A new key.
    Keygen {
        /// Key id.
        key_id: String,
        /// Scheme.
        scheme: String,
        /// Public key in the scheme's standard form, hex.
        public_key: String,
        /// Transcript hash, hex.
        transcript: String,
    },
    /// A signature.
    Sign {
        /// Key id.
        key_id: String,
        /// Scheme.
        scheme: String,
        /// Signature, hex (ECDSA: compact r||s).
        signature: String,
        /// ECDSA only: the recovery id (0 or 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recovery_id: Option<u8>,
        /// ECDSA with a derivation path: the child public key that verifies it, hex.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        derived_public_key: Option<String>,
        /// Transcript hash, hex.
        transcript: String,
    },
    /// An ECDSA presignature, stored sealed, usable once by the same signers.
    Presign {
        /// Key id.
        key_id: String,
        /// The signers, 1-based plan indices.
        signers: Vec<u16>,
        /// Transcript hash, hex.
        transcript: String,
    },
    /// New shares of the same key; the old ones are destroyed.
    Refresh {
        /// Key id.
        key_id: String,
        /// Scheme.
        scheme: String,
        /// Public key in the scheme's standard form, hex (unchanged).
        public_key: String,
        /// Transcript hash, hex.
        transcript: String,
    },
    /// A lost share repaired.
    Repair {
        /// Key id.
        key_id: String,
        /// Scheme.
        scheme: String,
        /// Public key in the scheme's standard form, hex.
        public_key: String,
        /// The party whose share was repaired, 1-based.
        repaired: u16,
        /// Transcript hash, hex.
        transcript: String,
    },
}

impl Outcome {
    /// The transcript fingerprint in words. An unreadable transcript hash is an error,
    /// never a default fingerprint.
    pub fn transcript_words(&self) -> Result<String> {
        let t = match self {
            Outcome::Keygen { transcript, .. }
            | Outcome::Sign { transcript, .. }
            | Outcome::Presign { transcript, .. }
            | Outcome::Refresh { transcript, .. }
            | Outcome::Repair { transcript, .. } => transcript,
        };
        let bytes = crate::identity::parse_digest(t)
            .ok_or_else(|| Error::bug("the session's transcript hash is not 32 bytes of hex"))?;
        Ok(words(&bytes))
    }
}

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
        let (mut c, new) = Ceremony::prepare(store, identity, plan, carriers)?;
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
        let Store { mut db, vault } = store;
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
                        return Err(expire(&*vault, &mut db, &plan, &sid)?);
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

    /// The session's plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
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
                    return Err(expire(&*self.vault, &mut self.db, &self.plan, &self.sid)?);
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

    /// Brings the database's record of sent envelopes (and the nonce ledger) up to the
    /// committed journal. The journal is the commit point of a step; the database is
    /// written after it, so a crash in between leaves the record behind, and this
    /// repairs it. A record ahead of the journal means the journal was rolled back (or
    /// deleted), and the step refuses.
    fn reconcile(&mut self) -> Result<()> {
        let journal = self.load_journal()?;
        let ledger = match &journal.state {
            JournalState::Sign(SignState::Committed { .. }) => {
                Some((SingleUse::Nonce, Mark::Armed))
            }
            _ => None,
        };
        self.db.record_sent(&self.sid, &journal.sent, ledger)?;
        Ok(())
    }

    /// Ends the session as aborted (see [`end_unfinished`]).
    fn abort(&mut self, reason: &str, culprits: &[String]) -> Result<()> {
        let action = format!("{}.abort", self.plan.kind());
        end_unfinished(
            &*self.vault,
            &mut self.db,
            &self.plan,
            &self.sid,
            (&action, "aborted"),
            reason,
            culprits,
        )
    }

    fn protocol(&self) -> Protocol {
        match self.plan {
            Plan::Keygen(_) => Protocol::Keygen,
            Plan::Sign(_) => Protocol::Sign,
            Plan::Refresh(_) => Protocol::Refresh,
            Plan::Repair(_) => Protocol::Repair,
        }
    }

    /// The protocols whose messages this session accepts.
    fn protocols(&self) -> Vec<Protocol> {
        match &self.plan {
            Plan::Keygen(p) if p.aux == Some(AuxMode::Generate) => {
                vec![Protocol::Aux, Protocol::Keygen]
            }
            _ => vec![self.protocol()],
        }
    }

    /// The highest round number of this session's protocols.
    fn max_round(&self) -> u8 {
        match self.plan {
            _ if !self.plan.scheme().is_frost() => ecdsa::MAX_ROUND,
            Plan::Refresh(_) | Plan::Repair(_) => 3,
            _ => 2,
        }
    }

    /// Every envelope this party has sent in the session, in order.
    pub fn outbox(&self) -> Result<Vec<Vec<u8>>> {
        Ok(self.db.sent(&self.sid)?)
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

    fn inbox(&self) -> Result<Inbox> {
        let mut inbox = Inbox::default();
        for (header, data) in self.accepted()? {
            if header.round != EVIDENCE_ROUND {
                inbox.insert(header.round, header.sender, data);
            }
        }
        Ok(inbox)
    }

    fn load_journal(&self) -> Result<Journal> {
        let item = Item::Journal(&self.sid);
        match self.vault.read(item, &self.identity)? {
            None => Ok(Journal {
                version: 1,
                state: match self.plan {
                    _ if !self.plan.scheme().is_frost() => {
                        JournalState::Ecdsa(ecdsa::EcdsaState::fresh())
                    }
                    Plan::Keygen(_) => JournalState::Keygen(KeygenState::Start),
                    Plan::Sign(_) => JournalState::Sign(SignState::Start),
                    Plan::Refresh(_) => JournalState::Refresh(RefreshState::Start),
                    Plan::Repair(_) => JournalState::Repair(RepairState::Start),
                },
                sent: Vec::new(),
            }),
            Some(bytes) => postcard::from_bytes(bytes.expose()).map_err(|e| {
                Error::bug(format!(
                    "session journal {} is damaged",
                    self.vault.locate(item)
                ))
                .cause(e)
            }),
        }
    }

    fn save_journal(&self, journal: &Journal) -> Result<()> {
        let bytes = Secret::new(
            postcard::to_allocvec(journal)
                .map_err(|e| Error::bug("cannot encode journal").cause(e))?,
        );
        self.vault
            .write(Item::Journal(&self.sid), &self.identity, bytes.expose())?;
        Ok(())
    }

    fn advance(&mut self) -> Result<Progress> {
        self.answer_evidence()?;
        if !self.plan.scheme().is_frost() {
            let progress = self.advance_ecdsa();
            if let Some((protocol, round, echoers)) = self.pending_dispute.take() {
                let mut journal = self.load_journal()?;
                return self.dispute(&mut journal, protocol, round, echoers);
            }
            return progress;
        }
        let inbox = self.inbox()?;
        let mut journal = self.load_journal()?;
        loop {
            let step = match &journal.state {
                JournalState::Keygen(state) => self.keygen_step(state, &inbox)?,
                JournalState::Sign(state) => self.sign_step(state, &inbox)?,
                JournalState::Refresh(state) => self.refresh_step(state, &inbox)?,
                JournalState::Repair(state) => self.repair_step(state, &inbox)?,
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
                    journal.state = state;
                    let ledger = match &journal.state {
                        JournalState::Sign(SignState::Committed { .. }) => {
                            Some((SingleUse::Nonce, Mark::Armed))
                        }
                        _ => None,
                    };
                    // The commit point: the new state (without the nonces, once a share
                    // exists) and what it sent, before anything leaves the machine.
                    self.save_journal(&journal)?;
                    crate::fault::point("journal-saved");
                    self.db.record_sent(&self.sid, &journal.sent, ledger)?;
                    crate::fault::point("sent-recorded");
                    if matches!(
                        journal.state,
                        JournalState::Refresh(RefreshState::Staged { .. })
                    ) {
                        self.refresh_staged()?;
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

    /// Stores a new key: the share file (sealed, atomic) first, then the metadata.
    /// Idempotent, so a crash between the two is repaired by the next step.
    fn store_key(
        &mut self,
        p: &KeygenPlan,
        key_package: &[u8],
        public_key_package: &[u8],
        group_key: &[u8],
        transcript: [u8; 32],
    ) -> Result<Outcome> {
        let key_id = pubkey::key_id(p.scheme, group_key);
        self.write_share(p.scheme, &key_id, key_package, public_key_package)?;
        crate::fault::point("share-written");
        if self.db.key(&key_id)?.is_none() {
            let now = crate::clock::now();
            self.db.insert_key(&KeyRecord {
                id: key_id.clone(),
                scheme: p.scheme.id().into(),
                public_key: hex::encode(group_key),
                threshold: p.threshold,
                n: p.parties.len() as u16,
                my_index: self.me,
                parties_json: serde_json::to_string(&p.parties)
                    .map_err(|e| Error::bug("encode").cause(e))?,
                label: p.label.clone(),
                status: KeyStatus::Active,
                session_id: self.sid.clone(),
                transcript: hex::encode(transcript),
                created_at: now,
                updated_at: now,
                delete_after: None,
            })?;
        }
        Ok(Outcome::Keygen {
            key_id,
            scheme: p.scheme.id().into(),
            public_key: hex::encode(pubkey::standard_form(p.scheme, group_key)),
            transcript: hex::encode(transcript),
        })
    }

    /// Writes this party's share file for `key_id` (sealed, atomically replacing any
    /// previous share).
    fn write_share(
        &self,
        scheme: crate::scheme::Scheme,
        key_id: &str,
        key_package: &[u8],
        public_key_package: &[u8],
    ) -> Result<()> {
        let share = ShareFile {
            version: 1,
            scheme: scheme.id().into(),
            key_id: key_id.into(),
            index: self.me,
            key_package: hex::encode(key_package),
            public_key_package: hex::encode(public_key_package),
        };
        keystore::write_share(&*self.vault, &self.identity, &share)?;
        Ok(())
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

    /// What a DKG or a refresh among all the plan's parties fixes.
    fn keygen_params(&self) -> KeygenParams {
        KeygenParams {
            scheme: self.plan.scheme(),
            session: self.session,
            me: self.me,
            t: self.plan.threshold(),
            n: self.plan.parties().len() as u16,
        }
    }

    fn keygen_step(&mut self, state: &KeygenState, inbox: &Inbox) -> Result<Generic> {
        let Plan::Keygen(p) = &self.plan else {
            return Err(Error::bug("journal does not match the plan kind"));
        };
        let params = self.keygen_params();
        let step = match self.settle(engine::keygen_step(&params, state, inbox))? {
            Ok(step) => step,
            Err(dispute) => return Ok(dispute),
        };
        match step {
            Step::Advanced { state, outgoing } => Ok(Generic::Advanced {
                state: JournalState::Keygen(state),
                outgoing,
            }),
            Step::Waiting { round, missing } => Ok(Generic::Waiting { round, missing }),
            Step::Done(r) => {
                let p = p.clone();
                let outcome = self.store_key(
                    &p,
                    r.key_package.expose(),
                    &r.public_key_package,
                    &r.group_key,
                    r.transcript,
                )?;
                Ok(Generic::Done(outcome))
            }
        }
    }

    fn sign_step(&mut self, state: &SignState, inbox: &Inbox) -> Result<Generic> {
        let Plan::Sign(p) = &self.plan else {
            return Err(Error::bug("journal does not match the plan kind"));
        };
        if !matches!(state, SignState::Shared { .. }) {
            self.ensure_key_signs(&p.key_id)?;
        }
        let key = load_share(&*self.vault, &self.identity, &p.key_id)?;
        let params = SignParams {
            scheme: p.scheme,
            session: self.session,
            me: self.me,
            signers: p.signers.clone(),
            message: self.plan.message().unwrap_or_default(),
        };
        let step = match self.settle(engine::sign_step(&params, &key, state, inbox))? {
            Ok(step) => step,
            Err(dispute) => return Ok(dispute),
        };
        match step {
            Step::Advanced { state, outgoing } => Ok(Generic::Advanced {
                state: JournalState::Sign(state),
                outgoing,
            }),
            Step::Waiting { round, missing } => Ok(Generic::Waiting { round, missing }),
            Step::Done(r) => {
                let pk = hex::decode(&p.group_public_key)
                    .map_err(|e| Error::rejected("the plan's public key is not hex").cause(e))?;
                let ok = pubkey::verify(p.scheme, &pk, &params.message, &r.signature)?;
                if !ok {
                    return Err(Error::bug(
                        "the aggregated signature failed independent verification",
                    ));
                }
                Ok(Generic::Done(Outcome::Sign {
                    key_id: p.key_id.clone(),
                    scheme: p.scheme.id().into(),
                    signature: hex::encode(&r.signature),
                    recovery_id: None,
                    derived_public_key: None,
                    transcript: hex::encode(r.transcript),
                }))
            }
        }
    }

    /// Refuses unless `key_id` may sign now. Checked before every signature share or
    /// presignature is computed, not only when the session opened: a key suspended while
    /// its session waits must not sign.
    fn ensure_key_signs(&self, key_id: &str) -> Result<()> {
        let key = self
            .db
            .key(key_id)?
            .ok_or_else(|| Error::rejected(format!("key {key_id} is no longer in this home")))?;
        Ok(keystore::ensure_signs(&key)?)
    }

    /// Consumes this session's FROST nonces for the signature share in `outgoing`: the
    /// ledger binds them to the hash of that share, atomically. A rerun after a crash
    /// computes the same share from the same nonces and messages, and passes; anything
    /// else (a rolled-back journal meeting different commitments) is refused before the
    /// share is stored or sent.
    fn claim_nonce(&mut self, outgoing: &[engine::Outgoing]) -> Result<()> {
        let binding = hex::encode(engine::tagged_hash(
            "mpc-nonce-use",
            &self.session,
            outgoing.iter().map(|o| &o.data[..]),
        ));
        match self.db.claim(&self.sid, SingleUse::Nonce, &binding, true)? {
            Claim::Won | Claim::Again => {
                crate::fault::point("nonce-claimed");
                Ok(())
            }
            Claim::Spent | Claim::Unknown => Err(Error::rejected(
                "refusing to reuse a signing nonce: it was already used for a different signature share",
            )
            .cause("this home's session journal was rolled back (restored from a copy?); a second share from the same nonces would reveal the key share")
            .advise(Advice::NewSigningSession)),
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

enum Generic {
    Advanced {
        state: JournalState,
        outgoing: Vec<engine::Outgoing>,
    },
    Waiting {
        round: u8,
        missing: Vec<u16>,
    },
    /// An echo mismatch: settled by the evidence round (`dispute`).
    Disputed {
        round: u8,
        echoers: Vec<u16>,
    },
    Done(Outcome),
}

fn state_name(s: &JournalState) -> &'static str {
    match s {
        JournalState::Keygen(k) => k.name(),
        JournalState::Sign(k) => k.name(),
        JournalState::Refresh(k) => k.name(),
        JournalState::Repair(k) => k.name(),
        JournalState::Ecdsa(_) => "running",
    }
}

/// Checks a refresh or repair plan against this party's store (its vault and open
/// database `db`), as taking part will.
pub fn check_plan_here(vault: &dyn Vault, db: &Db, plan: &Plan, me: u16) -> Result<()> {
    shares::check_plan(vault, db, plan, me)
}

/// Loads and decrypts this party's share of `key_id`.
pub fn load_share(vault: &dyn Vault, identity: &Identity, key_id: &str) -> Result<KeyMaterial> {
    let share = keystore::read_share(vault, identity, key_id)?;
    let kp = Secret::new(
        hex::decode(&share.key_package)
            .map_err(|e| Error::bug("share file is damaged").cause(e))?,
    );
    Ok(KeyMaterial {
        key_package: kp,
        public_key_package: hex::decode(&share.public_key_package)
            .map_err(|e| Error::bug("share file is damaged").cause(e))?,
    })
}

fn check_sign_plan(db: &Db, p: &crate::plan::SignPlan, me: u16) -> Result<()> {
    let key = db.key(&p.key_id)?.ok_or_else(|| {
        Error::rejected(format!("the plan's key {} is not in this home", p.key_id))
    })?;
    if key.public_key != p.group_public_key || key.scheme != p.scheme.id() {
        return Err(Error::rejected(format!(
            "the plan's public key or scheme does not match key {} in this home",
            p.key_id
        )));
    }
    let parties: Vec<Card> = key.parties()?;
    if parties != p.parties || key.threshold != p.threshold {
        return Err(Error::rejected(
            "the plan's parties or threshold do not match the key's",
        ));
    }
    keystore::ensure_signs(&key)?;
    if !p.signers.contains(&me) {
        return Err(Error::rejected(format!(
            "you (party {me}) are not one of this plan's signers {:?}",
            p.signers
        )));
    }
    Ok(())
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
