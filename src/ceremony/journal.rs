//! The session journal: this party's secret state of a session and every envelope it
//! sent, sealed in the store's vault. It is the commit point of a step: written before
//! anything leaves, and the record of what was sent is brought up to it
//! ([`Ceremony::reconcile`]) before every step.

use super::Ceremony;
use super::ecdsa;
use super::error::{Error, Result};
use crate::engine::frost::reshare::ReshareState;
use crate::engine::{KeygenState, RefreshState, RepairState, SignState};
use crate::plan::Plan;
use crate::secret::Secret;
use crate::store::db::{Mark, SingleUse};
use crate::store::vault::Item;
use serde::{Deserialize, Serialize};

/// The encrypted per-session journal.
#[derive(Serialize, Deserialize)]
pub(super) struct Journal {
    pub(super) version: u8,
    pub(super) state: JournalState,
    /// Every envelope this party has produced in the session, in order.
    pub(super) sent: Vec<Vec<u8>>,
}

#[derive(Serialize, Deserialize)]
pub(super) enum JournalState {
    Keygen(KeygenState),
    Sign(SignState),
    Ecdsa(ecdsa::EcdsaState),
    Refresh(RefreshState),
    Repair(RepairState),
    Reshare(ReshareState),
    /// An ECDSA reshare: the new holders' aux-info generation (a replay state, as in an
    /// ECDSA keygen) and the reshare itself.
    EcdsaReshare {
        aux: ecdsa::EcdsaState,
        reshare: ReshareState,
    },
}

impl JournalState {
    /// The single-use item this state holds, as the ledger must record it: a FROST
    /// signing session's nonces are armed while the journal holds them.
    pub(super) fn ledger(&self) -> Option<(SingleUse, Mark)> {
        match self {
            JournalState::Sign(SignState::Committed { .. }) => {
                Some((SingleUse::Nonce, Mark::Armed))
            }
            _ => None,
        }
    }

    /// Moves to `next`, a step's new state: an ECDSA reshare keeps its aux-info state
    /// beside the reshare engine's.
    pub(super) fn advance_to(&mut self, next: JournalState) {
        match (self, next) {
            (JournalState::EcdsaReshare { reshare, .. }, JournalState::Reshare(r)) => *reshare = r,
            (this, next) => *this = next,
        }
    }

    /// Whether this state holds new shares staged until every party confirms them.
    pub(super) fn staged(&self) -> bool {
        matches!(
            self,
            JournalState::Refresh(RefreshState::Staged { .. })
                | JournalState::Reshare(ReshareState::Staged { .. })
                | JournalState::EcdsaReshare {
                    reshare: ReshareState::Staged { .. },
                    ..
                }
        )
    }
}

pub(super) fn state_name(s: &JournalState) -> &'static str {
    match s {
        JournalState::Keygen(k) => k.name(),
        JournalState::Sign(k) => k.name(),
        JournalState::Refresh(k) => k.name(),
        JournalState::Repair(k) => k.name(),
        JournalState::Reshare(k) | JournalState::EcdsaReshare { reshare: k, .. } => k.name(),
        JournalState::Ecdsa(_) => "running",
    }
}

impl Ceremony {
    /// Brings the database's record of sent envelopes (and the nonce ledger) up to the
    /// committed journal. The journal is the commit point of a step; the database is
    /// written after it, so a crash in between leaves the record behind, and this
    /// repairs it. A record ahead of the journal means the journal was rolled back (or
    /// deleted), and the step refuses.
    pub(super) fn reconcile(&mut self) -> Result<()> {
        let journal = self.load_journal()?;
        let ledger = journal.state.ledger();
        self.db.record_sent(&self.sid, &journal.sent, ledger)?;
        Ok(())
    }

    pub(super) fn load_journal(&self) -> Result<Journal> {
        let item = Item::Journal(&self.sid);
        match self.vault.read(item, &self.identity)? {
            None => Ok(Journal {
                version: 1,
                state: match self.plan {
                    Plan::Reshare(_) if !self.plan.scheme().is_frost() => {
                        JournalState::EcdsaReshare {
                            aux: ecdsa::EcdsaState::fresh(),
                            reshare: ReshareState::Start,
                        }
                    }
                    _ if !self.plan.scheme().is_frost() => {
                        JournalState::Ecdsa(ecdsa::EcdsaState::fresh())
                    }
                    Plan::Keygen(_) => JournalState::Keygen(KeygenState::Start),
                    Plan::Sign(_) => JournalState::Sign(SignState::Start),
                    Plan::Refresh(_) => JournalState::Refresh(RefreshState::Start),
                    Plan::Repair(_) => JournalState::Repair(RepairState::Start),
                    Plan::Reshare(_) => JournalState::Reshare(ReshareState::Start),
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

    /// Commits a step: the journal (the commit point: the new state and everything sent,
    /// before anything leaves the machine), then the record of what was sent and the
    /// single-use ledger change, in that order. A crash between the two is repaired by
    /// [`Ceremony::reconcile`] at the next step.
    pub(super) fn commit_step(
        &mut self,
        journal: &Journal,
        ledger: Option<(SingleUse, Mark)>,
    ) -> Result<()> {
        self.save_journal(journal)?;
        crate::fault::point("journal-saved");
        self.db.record_sent(&self.sid, &journal.sent, ledger)?;
        crate::fault::point("sent-recorded");
        Ok(())
    }

    pub(super) fn save_journal(&self, journal: &Journal) -> Result<()> {
        let bytes = Secret::new(
            postcard::to_allocvec(journal)
                .map_err(|e| Error::bug("cannot encode journal").cause(e))?,
        );
        self.vault
            .write(Item::Journal(&self.sid), &self.identity, bytes.expose())?;
        Ok(())
    }
}
