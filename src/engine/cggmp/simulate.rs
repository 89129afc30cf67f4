//! In-process simulation of all parties at once, driving the state machines directly
//! (no replay, no envelopes): what the library alone costs. Used by `mpc bench`
//! (feature `bench`) and the test vectors (feature `test-vectors`).

use super::*;
use cggmp21::round_based::Outgoing;

/// Runs every party's state machine to completion, routing messages between them.
pub fn run<SM, O, Er>(mut sms: Vec<SM>) -> Result<Vec<O>, EngineError>
where
    SM: StateMachine<Output = Result<O, Er>>,
    SM::Msg: Clone,
    Er: std::fmt::Display,
{
    let n = sms.len();
    let mut queues: Vec<std::collections::VecDeque<Incoming<SM::Msg>>> =
        (0..n).map(|_| Default::default()).collect();
    let mut out: Vec<Option<O>> = (0..n).map(|_| None).collect();
    let mut id = 0u64;
    while out.iter().any(Option::is_none) {
        let mut progressed = false;
        for i in 0..n {
            if out[i].is_some() {
                continue;
            }
            loop {
                match sms[i].proceed() {
                    ProceedResult::SendMsg(Outgoing { recipient, msg }) => {
                        progressed = true;
                        for (j, queue) in queues.iter_mut().enumerate() {
                            let (to_j, msg_type) = match recipient {
                                MessageDestination::AllParties => (j != i, MessageType::Broadcast),
                                MessageDestination::OneParty(r) => {
                                    (r as usize == j, MessageType::P2P)
                                }
                            };
                            if to_j {
                                id += 1;
                                queue.push_back(Incoming {
                                    id,
                                    sender: i as u16,
                                    msg_type,
                                    msg: msg.clone(),
                                });
                            }
                        }
                    }
                    ProceedResult::NeedsOneMoreMessage => match queues[i].pop_front() {
                        Some(m) => {
                            progressed = true;
                            sms[i]
                                .received_msg(m)
                                .map_err(|_| bug("state machine refused a message"))?;
                        }
                        None => break,
                    },
                    ProceedResult::Yielded => {}
                    ProceedResult::Output(Ok(o)) => {
                        progressed = true;
                        out[i] = Some(o);
                        break;
                    }
                    ProceedResult::Output(Err(e)) => return Err(bug(e)),
                    ProceedResult::Error(e) => return Err(bug(e)),
                }
            }
        }
        if !progressed {
            return Err(bug("simulation stalled"));
        }
    }
    Ok(out.into_iter().flatten().collect())
}

/// Fresh generators for `n` parties, seeded from the operating system: a benchmark
/// runs real key generation, never a fixed one.
fn rngs(n: u16, _tag: &str) -> Vec<ChaCha20Rng> {
    use rand_core::SeedableRng;
    (0..n)
        .map(|_| ChaCha20Rng::from_rng(rand_core::OsRng).expect("the OS generator works"))
        .collect()
}

/// Aux info for `n` parties from their primes.
pub fn aux_info(n: u16, primes: Vec<Primes>) -> Result<Vec<AuxInfo>, EngineError> {
    aux_info_from(rngs(n, "aux"), primes)
}

/// [`aux_info`] from fixed seeds, for reproducible test vectors only.
#[cfg(feature = "test-vectors")]
pub fn aux_info_seeded(primes: Vec<Primes>) -> Result<Vec<AuxInfo>, EngineError> {
    let n = primes.len() as u16;
    aux_info_from((0..n).map(|i| rng(&[i as u8; 32], "aux")).collect(), primes)
}

fn aux_info_from(
    mut rngs: Vec<ChaCha20Rng>,
    primes: Vec<Primes>,
) -> Result<Vec<AuxInfo>, EngineError> {
    let n = rngs.len() as u16;
    let eid_bytes = [1u8; 32];
    let sms = rngs
        .iter_mut()
        .zip(primes)
        .enumerate()
        .map(|(i, (r, p))| {
            cggmp21::aux_info_gen(ExecutionId::new(&eid_bytes), i as u16, n, p)
                .into_state_machine(r)
        })
        .collect();
    run(sms)
}

/// Threshold keygen for `n` parties, completed with `aux`.
pub fn keygen(t: u16, aux: &[AuxInfo]) -> Result<Vec<EcdsaKeyShare>, EngineError> {
    let n = aux.len() as u16;
    let eid_bytes = [2u8; 32];
    let mut rngs = rngs(n, "keygen");
    let sms = rngs
        .iter_mut()
        .enumerate()
        .map(|(i, r)| {
            cggmp21::keygen::<Secp256k1>(ExecutionId::new(&eid_bytes), i as u16, n)
                .set_threshold(t)
                .hd_wallet(true)
                .into_state_machine(r)
        })
        .collect();
    let incomplete = run(sms)?;
    incomplete
        .into_iter()
        .zip(aux)
        .map(|(k, a)| KeyShare::from_parts((k, a.clone())).map_err(bug))
        .collect()
}

/// One signing builder per signer: signer `i` holds the share at keygen index
/// `signers[i]`.
fn signing_builders<'r>(
    shares: &'r [EcdsaKeyShare],
    signers: &'r [u16],
    eid_bytes: &'r [u8; 32],
) -> impl Iterator<Item = cggmp21::signing::SigningBuilder<'r, Secp256k1, Level>> + 'r {
    signers.iter().enumerate().map(move |(i, &s)| {
        cggmp21::signing(
            ExecutionId::new(eid_bytes),
            i as u16,
            signers,
            &shares[s as usize],
        )
    })
}

/// Signing `digest` by the shares at `signers` (0-based keygen indices).
pub fn sign(
    shares: &[EcdsaKeyShare],
    signers: &[u16],
    digest: &[u8; 32],
) -> Result<[u8; 64], EngineError> {
    use cggmp21::generic_ec::Scalar;
    let eid_bytes = [3u8; 32];
    let mut rngs = rngs(signers.len() as u16, "sign");
    let data =
        cggmp21::DataToSign::from_scalar(Scalar::<Secp256k1>::from_be_bytes_mod_order(digest));
    let sms = signing_builders(shares, signers, &eid_bytes)
        .zip(rngs.iter_mut())
        .map(|(b, r)| b.sign_sync(r, data))
        .collect();
    let sigs = run(sms)?;
    let mut out = [0u8; 64];
    sigs[0].normalize_s().write_to_slice(&mut out);
    Ok(out)
}

/// Presignatures for the shares at `signers`.
pub fn presign(
    shares: &[EcdsaKeyShare],
    signers: &[u16],
) -> Result<Vec<Presignature>, EngineError> {
    let eid_bytes = [4u8; 32];
    let mut rngs = rngs(signers.len() as u16, "presign");
    let sms = signing_builders(shares, signers, &eid_bytes)
        .zip(rngs.iter_mut())
        .map(|(b, r)| b.generate_presignature_sync(r))
        .collect();
    run(sms)
}

/// A signature from one presignature per signer: every partial signature, combined.
pub fn sign_presigned(
    presigs: Vec<Presignature>,
    digest: &[u8; 32],
) -> Result<[u8; 64], EngineError> {
    let partials = presigs
        .into_iter()
        .enumerate()
        .map(|(i, ps)| Ok((i as u16, partial_signature(ps, digest)?)))
        .collect::<Result<Vec<_>, EngineError>>()?;
    combine(&partials)
}
