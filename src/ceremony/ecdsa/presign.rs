//! ECDSA presignatures: the offline phase that ends with a sealed presignature, and the
//! one-round signing that consumes it exactly once.

use super::*;

impl Ceremony {
    /// A presigning session (cggmp21's offline phase, by replay) or a one-round signing
    /// with a presignature made earlier.
    pub(super) fn presignature_step(
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
                    // Issue the partial signature, once (claimed first: see
                    // `presigned_partial`); the journal (with the envelope) is
                    // committed; then its file is destroyed, all before the envelope
                    // leaves the machine. A rerun after a crash holds the same claim and
                    // computes the same partial signature again.
                    self.ensure_key_signs(&p.key_id)?;
                    let digest = self.plan.digest().ok_or_else(|| Error::bug("no digest"))?;
                    let partial = presigned_partial(
                        &self.db,
                        &*self.vault,
                        &self.identity,
                        session,
                        &self.session,
                        &digest,
                    )?;
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
}

/// This party's partial signature of `digest` with the presignature it made in session
/// `presignature`, for the one use `use_id` names (a signing session, or a node's
/// one-round request). The presignature is claimed for that use and digest durably (in
/// this home's ledger, and in the cluster's if the home has one) before anything is
/// computed: of two uses racing for it one wins, the other is refused, and the same use
/// asking again (a rerun after a crash) gets the same partial signature, which reveals
/// nothing new. The caller destroys the presignature's file once what it computed is
/// safe to send.
pub fn presigned_partial(
    db: &crate::store::db::Db,
    vault: &dyn crate::store::vault::Vault,
    identity: &crate::identity::Identity,
    presignature: &str,
    use_id: &[u8; 32],
    digest: &[u8; 32],
) -> Result<Vec<u8>> {
    let binding = hex::encode(tagged_hash("mpc-presignature-use", use_id, [&digest[..]]));
    let short = &presignature[..16.min(presignature.len())];
    match db.claim(presignature, SingleUse::Presignature, &binding, false)? {
        Claim::Won | Claim::Again => {}
        Claim::Spent => {
            return Err(Error::rejected(format!(
                "presignature {short} is already used; a presignature signs exactly one message"
            ))
            .advise(Advice::NewPresignature));
        }
        Claim::Unknown => {
            return Err(
                Error::rejected(format!("presignature {short} is unknown in this home"))
                    .advise(Advice::ListPresignatures),
            );
        }
    }
    crate::fault::point("presignature-claimed");
    let bytes = vault
        .read(Item::Presignature(presignature), identity)?
        .ok_or_else(|| Error::rejected("this home has no presignature from that session"))?;
    let presig: cggmp::Presignature = serde_json::from_slice(bytes.expose())
        .map_err(|e| Error::bug("the presignature is damaged").cause(e))?;
    cggmp::partial_signature(presig, digest)
        .map_err(|e| Error::bug("cannot issue a partial signature").cause(e))
}
