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
        JournalState::Ecdsa(s) => Ok(s),
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
            .filter(|(h, _)| h.round != super::EVIDENCE_ROUND)
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
        self.save_journal(journal)?;
        crate::fault::point("journal-saved");
        let ledger = (protocol == Protocol::Sign && last >= 4)
            .then_some((SingleUse::PartialSignature, Mark::Consumed));
        self.db.record_sent(&self.sid, &journal.sent, ledger)?;
        crate::fault::point("sent-recorded");
        Ok(())
    }

    /// What we are waiting for: the earliest round (up to `round`, the last one we sent)
    /// of `protocol` that some other participant has not sent yet, and who they are.
    /// Once every other participant has sent `round`, the next round from all of them.
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
                let aux: AuxInfo = match p.aux {
                    Some(AuxMode::Reuse) => self.load_aux(&party_set_id(&p.parties))?,
                    _ => match self.aux_step(&mut journal, &params, &rx, &everyone)? {
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

    /// A presigning session (cggmp21's offline phase, by replay) or a one-round signing
    /// with a presignature made earlier.
    fn presignature_step(
        &mut self,
        journal: &mut Journal,
        p: &crate::plan::SignPlan,
        seed: &Secret<[u8; 32]>,
        rx: &[Rx],
    ) -> Result<Progress> {
        let position = |s: u16| p.signers.iter().position(|&x| x == s).map(|i| i as u16);
        let me = position(self.me).ok_or_else(|| Error::bug("not a signer"))?;
        let to_plan = |i: u16| p.signers[i as usize];
        match &p.presign {
            Some(Presign::Generate) => {
                self.ensure_key_signs(&p.key_id)?;
                let share = self.load_ecdsa_share(&p.key_id)?;
                let params = cggmp::Params {
                    session: self.session,
                    seed: *seed.expose(),
                    i: me,
                    n: p.signers.len() as u16,
                };
                let at_keygen: Vec<u16> = p.signers.iter().map(|s| s - 1).collect();
                let st = state(journal)?;
                let (sent, round) = (st.sent_main.clone(), st.round_main);
                let received = Self::for_engine(rx, Protocol::Sign, position);
                let job = cggmp::SignJob {
                    share,
                    signers_at_keygen: at_keygen,
                    path: Vec::new(),
                };
                let signer = |i: u16| p.signers.get(i as usize).copied();
                let replay = self.live_run(Protocol::Sign, &received, signer, || {
                    cggmp::presign(&params, &job, &received, &sent)
                })?;
                let sign = Protocol::Sign;
                match self.settle_run(journal, sign, replay, to_plan, rx, round, &p.signers)? {
                    Err(waiting) => Ok(waiting),
                    Ok(output) => {
                        let json = encode(&output)?;
                        drop(output);
                        self.vault.write(
                            Item::Presignature(&self.sid),
                            &self.identity,
                            json.expose(),
                        )?;
                        crate::fault::point("presignature-written");
                        self.db
                            .set_ledger(&self.sid, SingleUse::Presignature, Mark::Armed)?;
                        self.complete(Outcome::Presign {
                            key_id: p.key_id.clone(),
                            signers: p.signers.clone(),
                            transcript: hex::encode(tagged_hash(
                                "mpc-ecdsa-presign-transcript",
                                &self.session,
                                [self.sid.as_bytes()],
                            )),
                        })
                    }
                }
            }
            Some(Presign::Consume { session }) => {
                let presig = Item::Presignature(session);
                if state(journal)?.sent_main.is_empty() {
                    // Issue the partial signature, once: the presignature is claimed for
                    // this session and message atomically before anything is computed
                    // (of two sessions racing for it, one wins); the journal (with the
                    // envelope) is committed; then its file is destroyed, all before
                    // the envelope leaves the machine. A rerun after a crash holds the
                    // same claim and computes the same partial signature again.
                    self.ensure_key_signs(&p.key_id)?;
                    let digest = self.plan.digest().ok_or_else(|| Error::bug("no digest"))?;
                    let binding = hex::encode(tagged_hash(
                        "mpc-presignature-use",
                        &self.session,
                        [&digest[..]],
                    ));
                    let short = &session[..16.min(session.len())];
                    match self
                        .db
                        .claim(session, SingleUse::Presignature, &binding, false)?
                    {
                        Claim::Won | Claim::Again => {}
                        Claim::Spent => {
                            return Err(Error::rejected(format!(
                                "presignature {short} is already used; a presignature signs exactly one message"
                            ))
                            .advise(Advice::NewPresignature));
                        }
                        Claim::Unknown => {
                            return Err(Error::rejected(format!(
                                "presignature {short} is unknown in this home"
                            ))
                            .advise(Advice::ListPresignatures));
                        }
                    }
                    crate::fault::point("presignature-claimed");
                    let bytes = self.vault.read(presig, &self.identity)?.ok_or_else(|| {
                        Error::rejected("this home has no presignature from that session")
                    })?;
                    let presig: cggmp::Presignature = serde_json::from_slice(bytes.expose())
                        .map_err(|e| Error::bug("the presignature is damaged").cause(e))?;
                    let partial =
                        cggmp::partial_signature(presig, &digest).map_err(|e| self.blame(e))?;
                    let new = [cggmp::Sent {
                        round: 0,
                        recipient: None,
                        data: partial,
                    }];
                    self.send(journal, Protocol::Sign, &new, to_plan)?;
                }
                // Destroyed once the partial signature is committed (idempotent).
                self.vault.remove(presig)?;
                let mut partials: Vec<(u16, Vec<u8>)> = Vec::new();
                for raw in &journal.sent {
                    let env = Envelope::decode(raw)
                        .map_err(|e| Error::bug("a sent message no longer decodes").cause(e))?;
                    let packed = env
                        .open(&self.identity)
                        .map_err(|e| Error::bug("own message").cause(e))?;
                    partials.push((
                        me,
                        unpack(&packed)
                            .ok_or_else(|| Error::bug("own message does not inflate"))?,
                    ));
                }
                partials.extend(
                    rx.iter()
                        .filter(|m| m.protocol == Protocol::Sign && m.round == 1)
                        .filter_map(|m| Some((position(m.sender)?, m.data.clone()))),
                );
                if partials.len() < p.signers.len() {
                    return Ok(self.waiting(rx, Protocol::Sign, 1, &p.signers));
                }
                partials.sort_by_key(|(i, _)| *i);
                let signature = cggmp::combine(&partials).map_err(|e| self.blame(e))?;
                let digest = self.plan.digest().ok_or_else(|| Error::bug("no digest"))?;
                let pk = hex::decode(&p.group_public_key)
                    .map_err(|e| Error::rejected("the plan's public key is not hex").cause(e))?;
                if !pubkey::verify_ecdsa_prehash(&pk, &digest, &signature)? {
                    return Err(Error::new(ErrorKind::Misbehaved,
                        "the partial signatures do not combine into a valid signature: a signer cheated or used another presignature",
                    )
                    .advise(Advice::PresignatureSpent));
                }
                let recovery_id = pubkey::recovery_id(&pk, &digest, &signature)?;
                self.complete(Outcome::Sign {
                    key_id: p.key_id.clone(),
                    scheme: p.scheme.id().into(),
                    signature: hex::encode(signature),
                    recovery_id,
                    derived_public_key: None,
                    transcript: hex::encode(sign_transcript(&self.session, &signature)),
                })
            }
            None => Err(Error::bug("not a presignature plan")),
        }
    }

    /// Runs aux-info generation as far as it goes: `Ok(aux)` once finished (now or in an
    /// earlier step), `Err(waiting)` while messages are missing.
    fn aux_step(
        &mut self,
        journal: &mut Journal,
        params: &cggmp::Params,
        rx: &[Rx],
        everyone: &[u16],
    ) -> Result<std::result::Result<AuxInfo, Progress>> {
        let st = state(journal)?;
        if let Some(json) = &st.aux {
            return Ok(Ok(decode(json, "aux info")?));
        }
        let primes = self.primes(journal)?;
        let st = state(journal)?;
        let sent = st.sent_aux.clone();
        let round = st.round_aux;
        let received = Self::for_engine(rx, Protocol::Aux, |s| s.checked_sub(1));
        let replay = self.live_run(
            Protocol::Aux,
            &received,
            |i| Some(i + 1),
            || cggmp::aux_info(params, primes, &received, &sent),
        )?;
        match self.settle_run(
            journal,
            Protocol::Aux,
            replay,
            |i| i + 1,
            rx,
            round,
            everyone,
        )? {
            Err(waiting) => Ok(Err(waiting)),
            Ok(output) => {
                let json = encode(&output)?;
                let Plan::Keygen(p) = &self.plan else {
                    unreachable!("aux only in keygen")
                };
                self.vault.write(
                    Item::Aux(&party_set_id(&p.parties)),
                    &self.identity,
                    json.expose(),
                )?;
                crate::fault::point("aux-written");
                let st = state(journal)?;
                st.aux = Some(String::from_utf8_lossy(json.expose()).into_owned());
                st.primes = None;
                self.save_journal(journal)?;
                Ok(Ok(output))
            }
        }
    }

    /// This session's Paillier primes: taken from the pool into the journal the first
    /// time (so a prime set is used by one session only).
    fn primes(&mut self, journal: &mut Journal) -> Result<cggmp::Primes> {
        if state(journal)?.primes.is_none() {
            let primes = self.vault.take_primes(&self.identity)?.ok_or_else(|| {
                Error::new(
                    ErrorKind::PrimesNeeded,
                    "no Paillier primes in this home for new aux info",
                )
                .advise(Advice::GeneratePrimes)
            })?;
            let text = String::from_utf8(primes.expose().clone())
                .map_err(|e| Error::bug("stored primes are unreadable").cause(e))?;
            state(journal)?.primes = Some(text);
            self.save_journal(journal)?;
        }
        decode(state(journal)?.primes.as_deref().unwrap_or(""), "primes")
    }

    /// An ECDSA key refresh (cggmp21's, n-of-n keys only): new shares and new aux info
    /// by replay, staged in the journal; then every party confirms the new shares'
    /// public part, and only when all agree does the share file change (see
    /// `ceremony::shares`).
    fn refresh_ecdsa(
        &mut self,
        journal: &mut Journal,
        p: &crate::plan::RefreshPlan,
        seed: &Secret<[u8; 32]>,
        rx: &[Rx],
    ) -> Result<Progress> {
        let n = p.parties.len() as u16;
        let everyone: Vec<u16> = (1..=n).collect();
        let staged = state(journal)?.aux.clone();
        let new: EcdsaKeyShare = match staged {
            Some(json) => decode(&json, "refreshed share")?,
            None => {
                let share = self.load_ecdsa_share(&p.key_id)?;
                if !cggmp::refreshable(&share) {
                    return Err(Error::rejected(format!(
                        "key {} was generated as a threshold key (by an mpc before n-of-n ECDSA keys were made without VSS); cggmp21 0.6 cannot refresh it",
                        p.key_id
                    ))
                    .advise(Advice::RotateByNewKey));
                }
                let primes = self.primes(journal)?;
                let params = cggmp::Params {
                    session: self.session,
                    seed: *seed.expose(),
                    i: self.me - 1,
                    n,
                };
                let st = state(journal)?;
                let (sent, round) = (st.sent_main.clone(), st.round_main);
                let received = Self::for_engine(rx, Protocol::Refresh, |s| s.checked_sub(1));
                let replay = self.live_run(
                    Protocol::Refresh,
                    &received,
                    |i| Some(i + 1),
                    || cggmp::key_refresh(&params, &share, primes, &received, &sent),
                )?;
                let refresh = Protocol::Refresh;
                match self.settle_run(journal, refresh, replay, |i| i + 1, rx, round, &everyone)? {
                    Err(waiting) => return Ok(waiting),
                    Ok(output) => {
                        if cggmp::public_key(&output) != cggmp::public_key(&share) {
                            return Err(Error::bug(
                                "the refreshed ECDSA share names a different public key",
                            ));
                        }
                        // Staged in the journal, which `send` saves before the
                        // confirmation is recorded, let alone delivered.
                        let st = state(journal)?;
                        st.aux =
                            Some(String::from_utf8_lossy(encode(&output)?.expose()).into_owned());
                        st.primes = None;
                        let confirm = cggmp::Sent {
                            round: u16::from(CONFIRM_ROUND) - 1,
                            recipient: None,
                            data: self.refresh_confirmation(&output).to_vec(),
                        };
                        self.send(journal, Protocol::Refresh, &[confirm], |i| i + 1)?;
                        self.refresh_staged()?;
                        output
                    }
                }
            }
        };
        let mine = self.refresh_confirmation(&new);
        let others: Vec<u16> = everyone.iter().copied().filter(|&i| i != self.me).collect();
        let confirmation = |s: u16| {
            rx.iter().find(|m| {
                m.protocol == Protocol::Refresh && m.round == CONFIRM_ROUND && m.sender == s
            })
        };
        let missing: Vec<u16> = others
            .iter()
            .copied()
            .filter(|&s| confirmation(s).is_none())
            .collect();
        if !missing.is_empty() {
            return Ok(Progress::Waiting {
                round: CONFIRM_ROUND,
                missing,
            });
        }
        let culprits: Vec<u16> = others
            .iter()
            .copied()
            .filter(|&s| confirmation(s).map(|m| &m.data[..]) != Some(&mine[..]))
            .collect();
        if !culprits.is_empty() {
            return Err(self.blame(EngineError::PeerMisbehaved {
                culprits,
                reason: "confirmed different new shares than yours; the old share stays in use"
                    .into(),
            }));
        }
        // The switch: the new share replaces the old one; presignatures made with the
        // old share cannot be used with the new ones and go with it.
        let group_key = cggmp::public_key(&new);
        self.write_share(p.scheme, &p.key_id, encode(&new)?.expose(), &group_key)?;
        crate::store::keystore::destroy_presignatures(&*self.vault, &self.db, &p.key_id)?;
        self.end_rotation()?;
        let transcript = tagged_hash("mpc-ecdsa-refresh-transcript", &self.session, [&mine[..]]);
        self.complete(Outcome::Refresh {
            key_id: p.key_id.clone(),
            scheme: p.scheme.id().into(),
            public_key: hex::encode(&group_key),
            transcript: hex::encode(transcript),
        })
    }

    /// This party's confirmation of refreshed shares.
    fn refresh_confirmation(&self, share: &EcdsaKeyShare) -> [u8; 32] {
        tagged_hash(
            "mpc-ecdsa-refresh-confirm",
            &self.session,
            [&cggmp::public_part(share)[..]],
        )
    }

    fn load_aux(&self, party_set: &str) -> Result<AuxInfo> {
        let item = Item::Aux(party_set);
        let bytes = self.vault.read(item, &self.identity)?.ok_or_else(|| {
            Error::rejected("this plan reuses aux info, but this home has none for these parties")
                .advise(Advice::GenerateAux)
        })?;
        serde_json::from_slice(bytes.expose()).map_err(|e| {
            Error::bug(format!("aux info {} is damaged", self.vault.locate(item))).cause(e)
        })
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
