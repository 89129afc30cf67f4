//! The FROST side of a ceremony: keygen and signing steps over the engine's state
//! machines, and the nonce's single use.

use super::error::{Advice, Error, Result};
use super::journal::JournalState;
use super::{Ceremony, Outcome, load_share};
use crate::engine::{self, Inbox, KeygenParams, KeygenState, SignParams, SignState, Step};
use crate::plan::Plan;
use crate::pubkey;
use crate::store::db::{Claim, SingleUse};

pub(super) enum Generic {
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

impl Ceremony {
    /// What a DKG or a refresh among all the plan's parties fixes.
    pub(super) fn keygen_params(&self) -> KeygenParams {
        KeygenParams {
            scheme: self.plan.scheme(),
            session: self.session,
            me: self.me,
            t: self.plan.threshold(),
            n: self.plan.parties().len() as u16,
        }
    }

    pub(super) fn keygen_step(&mut self, state: &KeygenState, inbox: &Inbox) -> Result<Generic> {
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

    pub(super) fn sign_step(&mut self, state: &SignState, inbox: &Inbox) -> Result<Generic> {
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

    /// Consumes this session's FROST nonces for the signature share in `outgoing`: the
    /// ledger binds them to the hash of that share, atomically. A rerun after a crash
    /// computes the same share from the same nonces and messages, and passes; anything
    /// else (a rolled-back journal meeting different commitments) is refused before the
    /// share is stored or sent.
    pub(super) fn claim_nonce(&mut self, outgoing: &[engine::Outgoing]) -> Result<()> {
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
}
