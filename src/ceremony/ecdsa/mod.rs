//! The ECDSA (CGGMP21) side of a ceremony: aux info, keygen and signing by replay.
//!
//! The journal holds the session's secret replay seed, the Paillier primes while aux
//! info is being generated, the finished aux info, and the hashes of every message sent.
//! Each step replays the protocol from the seed over the accepted messages
//! (`engine::cggmp`); new messages are committed to the journal before they are
//! delivered, and the journal (with the seed) is destroyed when the session ends.
//!
//! The transcript fingerprint of an ECDSA session is the hash of the session id and the
//! result (public key or signature): cggmp21 itself enforces that every party saw the
//! same broadcasts (its reliable-broadcast echo round is kept on).

mod aux;
mod presign;
pub use presign::presigned_partial;
mod refresh;

use super::error::{Advice, Error, ErrorKind, Result};
use super::{Ceremony, Journal, JournalState, Outcome, Progress};
use crate::engine::cggmp::{self, AuxInfo, EcdsaKeyShare, Live, Received, Replay, Started};
use crate::engine::{EngineError, tagged_hash};
use crate::envelope::{Envelope, Protocol};
use crate::plan::{AuxMode, Plan, Presign, parse_path, party_set_id};
use crate::pubkey;
use crate::secret::Secret;
use crate::store::db::{Claim, Mark, SingleUse};
use crate::store::vault::Item;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The highest round number accepted in an ECDSA protocol message.
pub const MAX_ROUND: u8 = 8;

/// The envelope round of the confirmation that ends an ECDSA refresh (cggmp21's
/// refresh uses rounds 1 to 4): each party's hash of the new shares' public part.
const CONFIRM_ROUND: u8 = MAX_ROUND;

/// The largest ECDSA payload accepted after decompression.
const MAX_INFLATED: usize = 16 << 20;

/// ECDSA payloads travel DEFLATE-compressed: cggmp21 serializes its big integers as hex
/// strings, which compress to about half. (Compression happens before encryption; no
/// attacker-chosen plaintext is mixed with secrets in a payload, so sizes leak nothing.)
pub(crate) fn pack(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec(data, 6)
}

/// Inverse of [`pack`], refusing anything that inflates past [`MAX_INFLATED`].
fn unpack(packed: &[u8]) -> Option<Vec<u8>> {
    miniz_oxide::inflate::decompress_to_vec_with_limit(packed, MAX_INFLATED).ok()
}

/// The envelope round of a cggmp21 message: cggmp21 counts rounds from 0, envelopes
/// from 1.
pub(crate) fn envelope_round(m: &cggmp::Sent) -> u8 {
    (m.round + 1).min(u8::MAX as u16) as u8
}

/// The transcript hash of an ECDSA keygen: every party computes it from the session and
/// the group key (cggmp21's reliable broadcast already made them agree on the rest).
pub(crate) fn keygen_transcript(session: &[u8; 32], group_key: &[u8]) -> [u8; 32] {
    tagged_hash("mpc-ecdsa-keygen-transcript", session, [group_key])
}

/// The transcript hash of an ECDSA signing: the session and the signature.
pub(crate) fn sign_transcript(session: &[u8; 32], signature: &[u8]) -> [u8; 32] {
    tagged_hash("mpc-ecdsa-sign-transcript", session, [signature])
}

/// A party's secret state in an ECDSA session.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct EcdsaState {
    /// The replay seed (secret, destroyed with the journal).
    seed: [u8; 32],
    /// Paillier primes (JSON), from the pool, while aux info is generated.
    primes: Option<String>,
    /// This party's finished aux info (JSON, holds the Paillier secret key); in a
    /// refresh, the whole refreshed key share (with its new aux info), staged until
    /// every party has confirmed.
    aux: Option<String>,
    /// Hashes of the aux-info messages sent, in order.
    sent_aux: Vec<[u8; 32]>,
    /// Hashes of the keygen or signing messages sent, in order.
    sent_main: Vec<[u8; 32]>,
    /// The last round sent in aux info and in the main protocol.
    round_aux: u8,
    round_main: u8,
}

impl EcdsaState {
    /// A new state with a fresh random seed.
    pub fn fresh() -> EcdsaState {
        use rand::RngCore;
        let mut state = EcdsaState {
            seed: [0; 32],
            primes: None,
            aux: None,
            sent_aux: Vec::new(),
            sent_main: Vec::new(),
            round_aux: 0,
            round_main: 0,
        };
        // Drawn straight into the zeroizing state, never into a copy on the stack.
        rand::rngs::OsRng.fill_bytes(&mut state.seed);
        state
    }
}

/// An accepted message, opened.
struct Rx {
    protocol: Protocol,
    round: u8,
    sender: u16,
    broadcast: bool,
    data: Vec<u8>,
}

fn state(journal: &mut Journal) -> Result<&mut EcdsaState> {
    match &mut journal.state {
        JournalState::Ecdsa(s) | JournalState::EcdsaReshare { aux: s, .. } => Ok(s),
        _ => Err(Error::bug("a FROST journal in an ECDSA session")),
    }
}

fn decode<T: serde::de::DeserializeOwned>(json: &str, what: &str) -> Result<T> {
    serde_json::from_str(json)
        .map_err(|e| Error::bug(format!("stored {what} is unreadable")).cause(e))
}

fn encode<T: Serialize>(value: &T) -> Result<Secret<Vec<u8>>> {
    Ok(Secret::new(
        serde_json::to_vec(value).map_err(|e| Error::bug("encode").cause(e))?,
    ))
}

impl Ceremony {
    /// Does this session still need Paillier primes that the pool does not have?
    pub fn needs_primes(&self) -> Result<bool> {
        let wanted = match &self.plan {
            Plan::Keygen(p) => p.aux == Some(AuxMode::Generate),
            Plan::Refresh(_) => !self.plan.scheme().is_frost(),
            Plan::Reshare(p) => {
                p.aux == Some(AuxMode::Generate) && p.new_index_of(self.me).is_some()
            }
            _ => false,
        };
        if !wanted || self.vault.has_primes()? {
            return Ok(false);
        }
        // A finished or aborted session has no journal any more, and needs nothing.
        let running = self.db.session(&self.sid)?.map(|r| r.status);
        if running != Some(crate::store::db::SessionStatus::Running) {
            return Ok(false);
        }
        let mut journal = self.load_journal()?;
        let st = state(&mut journal)?;
        Ok(st.primes.is_none() && st.aux.is_none())
    }

    fn received(&self) -> Result<Vec<Rx>> {
        self.accepted()?
            .into_iter()
            // A reshare's own messages are the reshare engine's, not packed.
            .filter(|(h, _)| h.round != super::EVIDENCE_ROUND && h.protocol != Protocol::Reshare)
            .map(|(h, packed)| {
                let data = unpack(&packed).ok_or_else(|| {
                    self.blame(crate::engine::EngineError::PeerMisbehaved {
                        culprits: vec![h.sender],
                        reason: "sent a payload that does not decompress".into(),
                    })
                })?;
                Ok(Rx {
                    protocol: h.protocol,
                    round: h.round,
                    sender: h.sender,
                    broadcast: h.recipient().is_none(),
                    data,
                })
            })
            .collect()
    }

    /// The messages of `protocol`, with senders mapped to protocol positions.
    fn for_engine(
        rx: &[Rx],
        protocol: Protocol,
        position: impl Fn(u16) -> Option<u16>,
    ) -> Vec<Received> {
        rx.iter()
            .filter(|m| m.protocol == protocol)
            .filter(|m| !(m.protocol == Protocol::Refresh && m.round == CONFIRM_ROUND))
            .filter_map(|m| {
                Some(Received {
                    sender: position(m.sender)?,
                    broadcast: m.broadcast,
                    data: m.data.clone(),
                })
            })
            .collect()
    }

    /// Continues this process's live run of `protocol` with `received` (every message of
    /// the protocol accepted so far), or starts one from the seed with `start`, which
    /// replays them. `to_plan` maps protocol positions to plan indices for blame.
    fn live_run<O: Send + 'static>(
        &mut self,
        protocol: Protocol,
        received: &[Received],
        to_plan: impl Fn(u16) -> Option<u16>,
        start: impl FnOnce() -> std::result::Result<Started<O>, EngineError>,
    ) -> Result<Replay<O>> {
        let continued = match &mut self.live {
            Some((p, run)) if *p == protocol => run
                .downcast_mut::<Live<O>>()
                .and_then(|live| live.advance(received)),
            _ => None,
        };
        let replay = match continued {
            Some(replay) => replay,
            None => {
                self.live = None;
                start().map(|(live, first)| {
                    self.live = Some((protocol, Box::new(live)));
                    first
                })
            }
        };
        if !matches!(replay, Ok(Replay::Waiting { .. })) {
            self.live = None;
        }
        replay.map_err(|e| {
            if let EngineError::EchoMismatch { round, echoers } = e {
                // Settled by `Ceremony::dispute` once this step unwinds (see `advance`).
                let echoers: Vec<u16> = echoers.into_iter().filter_map(&to_plan).collect();
                self.pending_dispute = Some((protocol, round, echoers.clone()));
                return self.blame(EngineError::EchoMismatch { round, echoers });
            }
            self.blame(match e {
                EngineError::PeerMisbehaved { culprits, reason } => EngineError::PeerMisbehaved {
                    culprits: culprits.into_iter().filter_map(&to_plan).collect(),
                    reason,
                },
                other => other,
            })
        })
    }

    /// Commits new messages to the journal, then to the database; `step` delivers them.
    fn send(
        &mut self,
        journal: &mut Journal,
        protocol: Protocol,
        new: &[cggmp::Sent],
        to_plan: impl Fn(u16) -> u16,
    ) -> Result<()> {
        if new.is_empty() {
            return Ok(());
        }
        let rows = new
            .iter()
            .map(|m| {
                self.seal(
                    protocol,
                    envelope_round(m),
                    m.recipient.map(&to_plan),
                    &pack(&m.data),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let st = state(journal)?;
        let last = new.iter().map(envelope_round).max().unwrap_or(0);
        let (hashes, round) = if protocol == Protocol::Aux {
            (&mut st.sent_aux, &mut st.round_aux)
        } else {
            (&mut st.sent_main, &mut st.round_main)
        };
        hashes.extend(new.iter().map(|m| cggmp::sent_hash(&m.data)));
        *round = (*round).max(last);
        journal.sent.extend(rows);
        let ledger = (protocol == Protocol::Sign && last >= 4)
            .then_some((SingleUse::PartialSignature, Mark::Consumed));
        self.commit_step(journal, ledger)
    }

    /// Commits and sends what a run emitted, then hands back its output if it finished,
    /// or where it waits (for the round after the last it sent, from `participants`).
    #[allow(clippy::too_many_arguments)]
    fn settle_run<O>(
        &mut self,
        journal: &mut Journal,
        protocol: Protocol,
        replay: Replay<O>,
        to_plan: impl Fn(u16) -> u16,
        rx: &[Rx],
        round: u8,
        participants: &[u16],
    ) -> Result<std::result::Result<O, Progress>> {
        match replay {
            Replay::Waiting { new } => {
                self.send(journal, protocol, &new, to_plan)?;
                let round = new.iter().map(envelope_round).max().unwrap_or(round);
                Ok(Err(self.waiting(rx, protocol, round, participants)))
            }
            Replay::Done { output, new } => {
                self.send(journal, protocol, &new, to_plan)?;
                Ok(Ok(output))
            }
        }
    }

    /// What we are waiting for: the earliest round (up to `round`, the last one we sent)
    /// of `protocol` that some other participant has not sent yet, and who they are.
    /// Once every other participant has sent `round`, the next round from all of them.
    fn waiting(&self, rx: &[Rx], protocol: Protocol, round: u8, participants: &[u16]) -> Progress {
        let others: Vec<u16> = participants
            .iter()
            .copied()
            .filter(|&p| p != self.me)
            .collect();
        let sent = |o: u16, r: u8| {
            rx.iter()
                .any(|m| m.protocol == protocol && m.sender == o && m.round == r)
        };
        for r in 1..=round {
            let missing: Vec<u16> = others.iter().copied().filter(|&o| !sent(o, r)).collect();
            if !missing.is_empty() {
                return Progress::Waiting { round: r, missing };
            }
        }
        Progress::Waiting {
            round: round + 1,
            missing: others,
        }
    }

    pub(super) fn advance_ecdsa(&mut self) -> Result<Progress> {
        let mut journal = self.load_journal()?;
        let rx = self.received()?;
        let plan = self.plan.clone();
        let seed = Secret::new(state(&mut journal)?.seed);
        match &plan {
            Plan::Keygen(p) => {
                let n = p.parties.len() as u16;
                let everyone: Vec<u16> = (1..=n).collect();
                let params = cggmp::Params {
                    session: self.session,
                    seed: *seed.expose(),
                    i: self.me - 1,
                    n,
                };
                let position = |s: u16| s.checked_sub(1);
                let set = party_set_id(&p.parties);
                let aux: AuxInfo = match p.aux {
                    Some(AuxMode::Reuse) => self.load_aux(&set)?,
                    _ => match self.aux_step(&mut journal, &params, &rx, &everyone, &set)? {
                        Ok(aux) => aux,
                        Err(waiting) => return Ok(waiting),
                    },
                };
                let st = state(&mut journal)?;
                let sent = st.sent_main.clone();
                let round = st.round_main;
                let received = Self::for_engine(&rx, Protocol::Keygen, position);
                let replay = self.live_run(
                    Protocol::Keygen,
                    &received,
                    |i| Some(i + 1),
                    || cggmp::keygen(&params, p.threshold, &aux, &received, &sent),
                )?;
                let keygen = Protocol::Keygen;
                match self.settle_run(
                    &mut journal,
                    keygen,
                    replay,
                    |i| i + 1,
                    &rx,
                    round,
                    &everyone,
                )? {
                    Err(waiting) => Ok(waiting),
                    Ok(output) => {
                        let outcome = self.store_ecdsa_key(p, &output)?;
                        self.complete(outcome)
                    }
                }
            }
            Plan::Sign(p) if p.presign.is_some() => {
                self.presignature_step(&mut journal, p, &seed, &rx)
            }
            Plan::Refresh(p) => self.refresh_ecdsa(&mut journal, p, &seed, &rx),
            Plan::Repair(_) => Err(Error::bug(
                "ECDSA shares are not repaired (the plan should not validate)",
            )),
            Plan::Reshare(_) => Err(Error::bug(
                "an ECDSA reshare runs the reshare engine, not a cggmp21 replay",
            )),
            Plan::Sign(p) => {
                if self.db.ledger(&self.sid, SingleUse::PartialSignature)? != Some(Mark::Consumed) {
                    self.ensure_key_signs(&p.key_id)?;
                }
                let share = self.load_ecdsa_share(&p.key_id)?;
                let position = |s: u16| p.signers.iter().position(|&x| x == s).map(|i| i as u16);
                let params = cggmp::Params {
                    session: self.session,
                    seed: *seed.expose(),
                    i: position(self.me).ok_or_else(|| Error::bug("not a signer"))?,
                    n: p.signers.len() as u16,
                };
                let at_keygen: Vec<u16> = p.signers.iter().map(|s| s - 1).collect();
                let digest = plan.digest().ok_or_else(|| Error::bug("no digest"))?;
                let st = state(&mut journal)?;
                let sent = st.sent_main.clone();
                let round = st.round_main;
                let received = Self::for_engine(&rx, Protocol::Sign, position);
                let to_plan = |i: u16| p.signers[i as usize];
                let job = cggmp::SignJob {
                    share,
                    signers_at_keygen: at_keygen,
                    path: match &p.path {
                        Some(path) => parse_path(path).map_err(Error::rejected)?,
                        None => Vec::new(),
                    },
                };
                let signer = |i: u16| p.signers.get(i as usize).copied();
                let replay = self.live_run(Protocol::Sign, &received, signer, || {
                    cggmp::sign(&params, &job, &digest, &received, &sent)
                })?;
                let sign = Protocol::Sign;
                match self.settle_run(
                    &mut journal,
                    sign,
                    replay,
                    to_plan,
                    &rx,
                    round,
                    &p.signers,
                )? {
                    Err(waiting) => Ok(waiting),
                    Ok(output) => {
                        let pk = cggmp::derived_public_key(&job.share, &job.path)
                            .map_err(|e| Error::bug("cannot derive the child key").cause(e))?;
                        if !pubkey::verify_ecdsa_prehash(&pk, &digest, &output)? {
                            return Err(Error::bug(
                                "the ECDSA signature failed independent verification",
                            ));
                        }
                        let recovery_id = pubkey::recovery_id(&pk, &digest, &output)?;
                        let transcript = sign_transcript(&self.session, &output);
                        self.complete(Outcome::Sign {
                            key_id: p.key_id.clone(),
                            scheme: p.scheme.id().into(),
                            signature: hex::encode(output),
                            recovery_id,
                            derived_public_key: p.path.as_ref().map(|_| hex::encode(&pk)),
                            transcript: hex::encode(transcript),
                        })
                    }
                }
            }
        }
    }

    fn load_ecdsa_share(&self, key_id: &str) -> Result<EcdsaKeyShare> {
        let material = super::load_share(&*self.vault, &self.identity, key_id)?;
        serde_json::from_slice(material.key_package.expose())
            .map_err(|e| Error::bug("the ECDSA key share is damaged").cause(e))
    }

    fn store_ecdsa_key(
        &mut self,
        p: &crate::plan::KeygenPlan,
        share: &EcdsaKeyShare,
    ) -> Result<Outcome> {
        let group_key = cggmp::public_key(share);
        let json = encode(share)?;
        let transcript = keygen_transcript(&self.session, &group_key);
        self.store_key(p, json.expose(), &group_key, &group_key, transcript)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_inflation_is_bounded() {
        let data: Vec<u8> = (0..100_000u32)
            .flat_map(|i| format!("{i:x}").into_bytes())
            .collect();
        let packed = pack(&data);
        assert!(
            packed.len() < data.len() * 3 / 4,
            "hex-like data should compress"
        );
        assert_eq!(unpack(&packed).unwrap(), data);
        // A small payload that would inflate past the limit is refused.
        let bomb = pack(&vec![0u8; MAX_INFLATED + 1]);
        assert!(bomb.len() < 100_000);
        assert!(unpack(&bomb).is_none());
        assert!(unpack(b"not deflate at all").is_none());
    }
}
