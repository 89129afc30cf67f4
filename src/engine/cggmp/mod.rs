//! CGGMP21 (threshold ECDSA on secp256k1) by deterministic replay.
//!
//! cggmp21's state machines hold futures and cannot be serialized. A step therefore
//! rebuilds the state machine from scratch with an RNG seeded from the session's secret
//! seed, feeds it every message accepted so far (in the pinned order of the accepted log),
//! and checks that each message it emits again is byte-identical to the one already sent
//! (by hash). Messages beyond those are new and are returned for sending. cggmp21 0.6.3 is
//! deterministic given the same seeded RNG, primes and incoming messages, whatever the
//! delivery order; `tests::replay_is_deterministic_through_aux_keygen_and_signing` keeps
//! proving it (it also checks the signature with k256).
//!
//! Party indices here are 0-based positions within the protocol's party set, as cggmp21
//! uses them: the plan index minus one for aux info and keygen, the position in the
//! signer list for signing.

mod blame;
mod live;
pub mod reshare;

use super::EngineError;
use blame::blame;
use cggmp21::round_based::state_machine::{ProceedResult, StateMachine};
use cggmp21::round_based::{Incoming, MessageDestination, MessageType, ProtocolMessage};
use cggmp21::security_level::SecurityLevel128;
use cggmp21::supported_curves::Secp256k1;
use cggmp21::{ExecutionId, KeyShare, PregeneratedPrimes};
use live::drive;
pub use live::{Link, Live, Started};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::sync::mpsc;

/// The security level used throughout.
pub type Level = SecurityLevel128;
/// Auxiliary info (Paillier keys and ring-Pedersen parameters) of one party.
pub type AuxInfo = cggmp21::key_share::AuxInfo<Level>;
/// A complete ECDSA key share.
pub type EcdsaKeyShare = KeyShare<Secp256k1, Level>;
/// Paillier primes generated ahead of time.
pub type Primes = PregeneratedPrimes<Level>;

/// A message received in a protocol, already authenticated and opened.
#[derive(Clone)]
pub struct Received {
    /// The sender, 0-based within the protocol.
    pub sender: u16,
    /// Broadcast (true) or private.
    pub broadcast: bool,
    /// The serialized protocol message.
    pub data: Vec<u8>,
}

/// A message to send.
#[derive(Debug)]
pub struct Sent {
    /// The protocol's round number of the message.
    pub round: u16,
    /// `None` for broadcast, else the 0-based recipient.
    pub recipient: Option<u16>,
    /// The serialized protocol message.
    pub data: Vec<u8>,
}

/// Where a replay stopped.
pub enum Replay<O> {
    /// Needs more messages; `new` were emitted for the first time.
    Waiting {
        /// New messages to send.
        new: Vec<Sent>,
    },
    /// Finished.
    Done {
        /// The protocol output.
        output: O,
        /// New messages to send (usually none).
        new: Vec<Sent>,
    },
}

/// The hash recorded for a sent message.
pub fn sent_hash(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// A per-protocol RNG derived from the session seed.
fn rng(seed: &[u8; 32], protocol: &str) -> ChaCha20Rng {
    let mut h = Sha256::new();
    h.update(b"mpc-cggmp-rng-v1\0");
    h.update(seed);
    h.update(protocol.as_bytes());
    ChaCha20Rng::from_seed(h.finalize().into())
}

/// The execution id of a protocol within a session.
fn eid(session: &[u8; 32], protocol: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"mpc-cggmp-eid-v1\0");
    h.update(session);
    h.update(protocol.as_bytes());
    h.finalize().into()
}

fn bug(e: impl std::fmt::Display) -> EngineError {
    EngineError::Bug(e.to_string())
}

/// What every CGGMP21 run fixes. Holds the session's secret seed: zeroized on drop, and
/// its `Debug` does not show it.
#[derive(Clone, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub struct Params {
    /// The session id.
    pub session: [u8; 32],
    /// The secret per-session seed (from the encrypted journal).
    pub seed: [u8; 32],
    /// This party, 0-based within the protocol.
    pub i: u16,
    /// Parties in the protocol.
    pub n: u16,
}

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Params")
            .field("session", &hex::encode(self.session))
            .field("seed", &"[redacted]")
            .field("i", &self.i)
            .field("n", &self.n)
            .finish()
    }
}

/// Starts aux-info generation from the seed over `received`.
pub fn aux_info(
    p: &Params,
    primes: Primes,
    received: &[Received],
    sent: &[[u8; 32]],
) -> Result<Started<AuxInfo>, EngineError> {
    let (p, sent) = (p.clone(), sent.to_vec());
    Live::start(received, move |link| {
        let eid_bytes = eid(&p.session, "aux");
        let mut rng = rng(&p.seed, "aux");
        let sm = cggmp21::aux_info_gen(ExecutionId::new(&eid_bytes), p.i, p.n, primes)
            .into_state_machine(&mut rng);
        drive(sm, link, &sent)
    })
}

/// Starts threshold key generation (with HD support) from the seed over `received`; the
/// share is completed with `aux`.
pub fn keygen(
    p: &Params,
    t: u16,
    aux: &AuxInfo,
    received: &[Received],
    sent: &[[u8; 32]],
) -> Result<Started<EcdsaKeyShare>, EngineError> {
    let (p, aux, sent) = (p.clone(), aux.clone(), sent.to_vec());
    Live::start(received, move |link| {
        let eid_bytes = eid(&p.session, "keygen");
        let mut rng = rng(&p.seed, "keygen");
        let builder = cggmp21::keygen::<Secp256k1>(ExecutionId::new(&eid_bytes), p.i, p.n);
        // An n-of-n key is made without VSS: cggmp21 refreshes only such shares.
        let (output, new) = if t == p.n {
            drive(
                builder.hd_wallet(true).into_state_machine(&mut rng),
                link,
                &sent,
            )?
        } else {
            let sm = builder
                .set_threshold(t)
                .hd_wallet(true)
                .into_state_machine(&mut rng);
            drive(sm, link, &sent)?
        };
        let share = KeyShare::from_parts((output, aux))
            .map_err(|e| bug(format!("key share does not validate: {e}")))?;
        Ok((share, new))
    })
}

/// Starts a key refresh of a non-threshold (n-of-n) share from the seed over `received`:
/// new secret shares of the same key, and new aux info from `primes`. cggmp21 0.6 does
/// not refresh threshold (VSS) shares; [`refreshable`] says which these are.
pub fn key_refresh(
    p: &Params,
    share: &EcdsaKeyShare,
    primes: Primes,
    received: &[Received],
    sent: &[[u8; 32]],
) -> Result<Started<EcdsaKeyShare>, EngineError> {
    let (p, share, sent) = (p.clone(), share.clone(), sent.to_vec());
    Live::start(received, move |link| {
        let eid_bytes = eid(&p.session, "refresh");
        let mut rng = rng(&p.seed, "refresh");
        let sm =
            cggmp21::key_refresh::<Secp256k1, Level>(ExecutionId::new(&eid_bytes), &share, primes)
                .into_state_machine(&mut rng);
        drive(sm, link, &sent)
    })
}

/// Whether cggmp21 can refresh this share: only a non-threshold (n-of-n) one.
pub fn refreshable(share: &EcdsaKeyShare) -> bool {
    share.vss_setup.is_none()
}

/// The public part of a share that every party of the key holds identically: the
/// parties' public shares and their Paillier / ring-Pedersen parameters.
pub fn public_part(share: &EcdsaKeyShare) -> Vec<u8> {
    let mut out = Vec::new();
    for x in share.public_shares.iter() {
        out.extend(x.to_bytes(true).as_bytes());
    }
    for a in &share.aux.parties {
        for v in [&a.N, &a.s, &a.t] {
            out.extend(serde_json::to_vec(v).unwrap_or_default());
            out.push(0);
        }
    }
    out
}

/// What a signing run needs besides [`Params`].
#[derive(Clone)]
pub struct SignJob {
    /// This party's share.
    pub share: EcdsaKeyShare,
    /// The signers, by 0-based keygen index.
    pub signers_at_keygen: Vec<u16>,
    /// A non-hardened BIP32 (SLIP-10) path, or empty for the group key.
    pub path: Vec<u32>,
}

/// Starts signing of a 32-byte digest from the seed over `received`, under the child key
/// at `job.path` if it is not empty; the output is the low-s signature as r||s.
pub fn sign(
    p: &Params,
    job: &SignJob,
    digest: &[u8; 32],
    received: &[Received],
    sent: &[[u8; 32]],
) -> Result<Started<[u8; 64]>, EngineError> {
    use cggmp21::generic_ec::Scalar;
    let (p, job, digest, sent) = (p.clone(), job.clone(), *digest, sent.to_vec());
    Live::start(received, move |link| {
        let eid_bytes = eid(&p.session, "sign");
        let mut rng = rng(&p.seed, "sign");
        let scalar = Scalar::<Secp256k1>::from_be_bytes_mod_order(digest);
        let data = cggmp21::DataToSign::from_scalar(scalar);
        let mut builder = cggmp21::signing(
            ExecutionId::new(&eid_bytes),
            p.i,
            &job.signers_at_keygen,
            &job.share,
        );
        if !job.path.is_empty() {
            builder = builder
                .set_derivation_path(job.path.iter().copied())
                .map_err(|e| bug(format!("cannot derive the child key: {e}")))?;
        }
        let sm = builder.sign_sync(&mut rng, data);
        let (output, new) = drive(sm, link, &sent)?;
        let mut out = [0u8; 64];
        output.normalize_s().write_to_slice(&mut out);
        Ok((out, new))
    })
}

/// A presignature: one signer's share of an ECDSA nonce, usable for exactly one message.
pub type Presignature = cggmp21::Presignature<Secp256k1>;

/// Starts presignature generation among `job.signers_at_keygen` from the seed over
/// `received` (`job.path` must be empty: presignatures are never derived).
pub fn presign(
    p: &Params,
    job: &SignJob,
    received: &[Received],
    sent: &[[u8; 32]],
) -> Result<Started<Presignature>, EngineError> {
    if !job.path.is_empty() {
        return Err(bug("presignatures are never made for derived keys"));
    }
    let (p, job, sent) = (p.clone(), job.clone(), sent.to_vec());
    Live::start(received, move |link| {
        let eid_bytes = eid(&p.session, "presign");
        let mut rng = rng(&p.seed, "presign");
        let sm = cggmp21::signing(
            ExecutionId::new(&eid_bytes),
            p.i,
            &job.signers_at_keygen,
            &job.share,
        )
        .generate_presignature_sync(&mut rng);
        drive(sm, link, &sent)
    })
}

/// This signer's partial signature of `digest` from its presignature (consumed by value:
/// a presignature must never sign two messages). Serialized for the wire.
pub fn partial_signature(
    presignature: Presignature,
    digest: &[u8; 32],
) -> Result<Vec<u8>, EngineError> {
    use cggmp21::generic_ec::Scalar;
    let data =
        cggmp21::DataToSign::from_scalar(Scalar::<Secp256k1>::from_be_bytes_mod_order(digest));
    postcard::to_allocvec(&presignature.issue_partial_signature(data)).map_err(bug)
}

/// Combines every signer's partial signature (sender position, bytes) into r||s, low-s.
/// The caller must verify the result: a cheating signer makes it invalid.
pub fn combine(partials: &[(u16, Vec<u8>)]) -> Result<[u8; 64], EngineError> {
    let mut parsed = Vec::new();
    for (sender, bytes) in partials {
        let ps: cggmp21::PartialSignature<Secp256k1> =
            postcard::from_bytes(bytes).map_err(|_| EngineError::PeerMisbehaved {
                culprits: vec![*sender],
                reason: "sent a malformed partial signature".into(),
            })?;
        parsed.push(ps);
    }
    let sig = cggmp21::PartialSignature::combine(&parsed)
        .ok_or_else(|| bug("partial signatures do not combine"))?;
    let mut out = [0u8; 64];
    sig.write_to_slice(&mut out);
    Ok(out)
}

/// The public key of the child at the non-hardened `path` (SLIP-10, BIP32-compatible on
/// secp256k1), SEC1 compressed; the group key itself for an empty path.
pub fn derived_public_key(share: &EcdsaKeyShare, path: &[u32]) -> Result<Vec<u8>, String> {
    if path.is_empty() {
        return Ok(public_key(share));
    }
    let child = share
        .derive_child_public_key::<cggmp21::hd_wallet::Slip10, _>(path.iter().copied())
        .map_err(|e| e.to_string())?;
    Ok(child.public_key.to_bytes(true).to_vec())
}

/// In-process simulation of all parties at once, driving the state machines directly
/// (no replay, no envelopes): what the library alone costs. Used by `mpc bench`
/// (feature `bench`) and the test vectors (feature `test-vectors`).
#[cfg(any(feature = "bench", feature = "test-vectors"))]
pub mod simulate;

/// The group public key of a share, SEC1 compressed.
pub fn public_key(share: &EcdsaKeyShare) -> Vec<u8> {
    share.shared_public_key.to_bytes(true).to_vec()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Pregenerated primes from testdata (never generated in tests).
    pub(crate) fn test_primes(k: usize) -> Primes {
        let path = format!(
            "{}/testdata/primes/primes-{k}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    /// Each party's output, final inbox, and hashes of what it sent.
    type Finished<O> = (Vec<O>, Vec<Vec<Received>>, Vec<Vec<[u8; 32]>>);

    /// How a test party takes a step: (party, inbox, hashes sent) to where it stopped.
    type StepFn<'a, O> =
        dyn FnMut(u16, &[Received], &[[u8; 32]]) -> Result<Replay<O>, EngineError> + 'a;

    /// Changes a message on its way: (from, to, broadcast, data).
    type Tamper<'a> = dyn Fn(u16, u16, bool, &mut Vec<u8>) + 'a;

    /// Runs `n` simulated parties, each calling `step` with everything delivered to it
    /// so far; `tamper(from, to, broadcast, data)` may change a message on its way.
    fn run_parties<O>(
        n: u16,
        step: &mut StepFn<'_, O>,
        tamper: &Tamper<'_>,
    ) -> Result<Finished<O>, EngineError> {
        let mut inbox: Vec<Vec<Received>> = (0..n).map(|_| Vec::new()).collect();
        let mut sent: Vec<Vec<[u8; 32]>> = vec![Vec::new(); n as usize];
        let mut out: Vec<Option<O>> = (0..n).map(|_| None).collect();
        for _ in 0..20 {
            for i in 0..n {
                if out[i as usize].is_some() {
                    continue;
                }
                let (new, done) = match step(i, &inbox[i as usize], &sent[i as usize])? {
                    Replay::Waiting { new } => (new, None),
                    Replay::Done { output, new } => (new, Some(output)),
                };
                for m in new {
                    sent[i as usize].push(sent_hash(&m.data));
                    for j in 0..n {
                        if j != i && m.recipient.is_none_or(|r| r == j) {
                            let mut data = m.data.clone();
                            tamper(i, j, m.recipient.is_none(), &mut data);
                            inbox[j as usize].push(Received {
                                sender: i,
                                broadcast: m.recipient.is_none(),
                                data,
                            });
                        }
                    }
                }
                out[i as usize] = done;
            }
            if out.iter().all(Option::is_some) {
                return Ok((out.into_iter().flatten().collect(), inbox, sent));
            }
        }
        panic!("protocol did not finish");
    }

    /// Step mode: every step starts from the seed and replays (the run is dropped).
    fn once<O>(started: Result<Started<O>, EngineError>) -> Result<Replay<O>, EngineError> {
        started.map(|(_, replay)| replay)
    }

    fn untouched(_: u16, _: u16, _: bool, _: &mut Vec<u8>) {}

    fn params(seed: u8, i: u16, n: u16) -> Params {
        Params {
            session: [9; 32],
            seed: [seed + i as u8; 32],
            i,
            n,
        }
    }

    /// A 2-of-3 key made once for all tests here, by replay in step mode (aux info is
    /// the slow part, about 45 s of CPU with replay).
    fn shares() -> &'static [EcdsaKeyShare] {
        static SHARES: std::sync::OnceLock<Vec<EcdsaKeyShare>> = std::sync::OnceLock::new();
        SHARES.get_or_init(|| {
            let (aux, _, _) = run_parties(
                3,
                &mut |i, r, s| once(aux_info(&params(1, i, 3), test_primes(i as usize), r, s)),
                &untouched,
            )
            .unwrap();
            let (shares, _, _) = run_parties(
                3,
                &mut |i, r, s| once(keygen(&params(10, i, 3), 2, &aux[i as usize], r, s)),
                &untouched,
            )
            .unwrap();
            let pk = public_key(&shares[0]);
            assert!(shares.iter().all(|s| public_key(s) == pk));
            shares
        })
    }

    const SIGNERS: [u16; 2] = [0, 2];

    fn job(i: u16) -> SignJob {
        SignJob {
            share: shares()[SIGNERS[i as usize] as usize].clone(),
            signers_at_keygen: SIGNERS.to_vec(),
            path: Vec::new(),
        }
    }

    fn digest() -> [u8; 32] {
        Sha256::digest(b"hello ecdsa").into()
    }

    #[test]
    fn replay_is_deterministic_through_aux_keygen_and_signing() {
        let pk = public_key(&shares()[0]);
        let (sigs, inboxes, sent) = run_parties(
            2,
            &mut |i, r, s| once(sign(&params(20, i, 2), &job(i), &digest(), r, s)),
            &untouched,
        )
        .unwrap();
        assert_eq!(sigs[0], sigs[1]);
        use k256::ecdsa::signature::hazmat::PrehashVerifier;
        let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(&pk).unwrap();
        let sig = k256::ecdsa::Signature::from_slice(&sigs[0]).unwrap();
        assert!(sig.normalize_s().is_none(), "signature is not low-s");
        vk.verify_prehash(&digest(), &sig).unwrap();

        // Replay is deterministic whatever the delivery order: signer 0, rebuilt from its
        // seed with its messages fed in reverse, re-emits exactly what it sent (checked
        // by hash inside `drive`) and reaches the same signature.
        let mut reversed = inboxes[0].clone();
        reversed.reverse();
        match once(sign(
            &params(20, 0, 2),
            &job(0),
            &digest(),
            &reversed,
            &sent[0],
        ))
        .unwrap()
        {
            Replay::Done { output, new } => {
                assert_eq!(output, sigs[0]);
                assert!(
                    new.is_empty(),
                    "a replay produced a message that was never sent"
                );
            }
            Replay::Waiting { .. } => panic!("replay with every message did not finish"),
        }
        // Another seed is another party state: its first message already differs.
        let other = once(sign(
            &params(99, 0, 2),
            &job(0),
            &digest(),
            &reversed,
            &sent[0],
        ));
        assert!(matches!(other, Err(EngineError::Bug(m)) if m.contains("replay diverged")));
    }

    #[test]
    fn a_live_run_continues_without_replay_and_matches_step_mode() {
        let (by_replay, _, _) = run_parties(
            2,
            &mut |i, r, s| once(sign(&params(30, i, 2), &job(i), &digest(), r, s)),
            &untouched,
        )
        .unwrap();
        // The same parties, each keeping its run alive between steps.
        let mut runs: Vec<Option<Live<[u8; 64]>>> = vec![None, None];
        let mut starts = 0;
        let (live, inboxes, _) = run_parties(
            2,
            &mut |i, r, s| {
                let slot = &mut runs[i as usize];
                if let Some(replay) = slot.as_mut().and_then(|l| l.advance(r)) {
                    return replay;
                }
                starts += 1;
                let (run, replay) = sign(&params(30, i, 2), &job(i), &digest(), r, s)?;
                *slot = Some(run);
                Ok(replay)
            },
            &untouched,
        )
        .unwrap();
        assert_eq!(live, by_replay, "a live run reached another signature");
        assert_eq!(starts, 2, "a live run was restarted");
        // A finished run, or a log that lacks a message the run was fed, is refused;
        // the order of the log does not matter.
        let mut reversed = inboxes[0].clone();
        reversed.reverse();
        let run = runs[0].as_mut().unwrap();
        assert!(run.advance(&inboxes[0]).is_none());
        let (mut fresh, _) = sign(&params(30, 0, 2), &job(0), &digest(), &[], &[]).unwrap();
        assert!(fresh.advance(&inboxes[0][..1]).is_some());
        assert!(fresh.advance(&reversed).is_some());
        assert!(fresh.advance(&inboxes[0][1..]).is_none());
    }

    #[test]
    fn a_tampered_proof_aborts_and_names_its_sender() {
        // Change one hex digit of a big integer in signer 1's first message to signer 0:
        // still well-formed, but a private message's proof no longer holds (signer 1 is
        // named), and a broadcast no longer matches what signer 1 echoes, which the
        // reliable-broadcast check reports as an echo mismatch, for the ceremony to
        // settle with evidence (cggmp21 itself would name the echoer).
        for (private, expected) in [(true, "pi_enc::verify(K) failed"), (false, "")] {
            let tamper = |from: u16, to: u16, broadcast: bool, data: &mut Vec<u8>| {
                if (from, to, broadcast) != (1, 0, !private) {
                    return;
                }
                let run = data
                    .windows(64)
                    .position(|w| w.iter().all(u8::is_ascii_hexdigit));
                if let Some(at) = run {
                    data[at + 32] = if data[at + 32] == b'1' { b'2' } else { b'1' };
                }
            };
            let result = run_parties(
                2,
                &mut |i, r, s| once(sign(&params(40, i, 2), &job(i), &digest(), r, s)),
                &tamper,
            );
            match result {
                Err(EngineError::EchoMismatch { round, echoers }) if !private => {
                    assert_eq!((round, echoers), (1, vec![1]));
                }
                Err(EngineError::PeerMisbehaved { culprits, reason }) if private => {
                    assert_eq!(culprits, vec![1], "{reason}");
                    assert!(reason.contains("the ECDSA protocol aborted"), "{reason}");
                    assert!(reason.contains(expected), "{reason}");
                }
                Err(e) => panic!("expected an abort naming signer 1, got {e}"),
                Ok(_) => panic!("a tampered message was accepted"),
            }
        }
    }

    #[test]
    fn blame_is_read_from_every_form_cggmp21_uses() {
        #[derive(Debug)]
        #[allow(dead_code)]
        struct AbortBlame {
            faulty_party: u16,
            data_message: u64,
        }
        #[derive(Debug)]
        #[allow(dead_code)]
        enum E {
            Tuples(Vec<(u16, u64, u64)>),
            Parties { parties: Vec<u16> },
            Blames(Vec<AbortBlame>),
            Delta,
        }
        assert_eq!(blame(&E::Tuples(vec![(2, 7, 9), (0, 11, 12)])), vec![0, 2]);
        assert_eq!(
            blame(&E::Parties {
                parties: vec![3, 1]
            }),
            vec![1, 3]
        );
        let b = |p| AbortBlame {
            faulty_party: p,
            data_message: 40,
        };
        assert_eq!(blame(&E::Blames(vec![b(4), b(4)])), vec![4]);
        assert!(blame(&E::Delta).is_empty());
    }
}
