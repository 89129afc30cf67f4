//! Signing on a node: the key and policy checks, the FROST fast path with its
//! fallback to a whole session, presigned ECDSA, the retry with another `t` of the
//! key's nodes, and the answer's forms.

use super::*;
use crate::serve;

impl Node {
    /// Whether `key` may sign with these options here (its state, the hash mode's
    /// scheme, this node's own policy: this node is a signer of every session it
    /// coordinates, so its policy is checked first); its scheme, hash mode and policy
    /// mode (`Approval`: an operator of this node must approve each session).
    fn signing_key(
        &self,
        key: &KeyRecord,
        hash: Option<HashMode>,
        path: Option<&str>,
    ) -> Result<(Scheme, Option<HashMode>, policy::Mode)> {
        crate::store::keystore::ensure_signs(key)
            .map_err(|e| Error::WrongKeyState(e.to_string()))?;
        let scheme = key.scheme;
        let bad = |m: &str| Err(Error::BadRequest(m.to_string()));
        let hash = match (scheme, hash) {
            (Scheme::EcdsaSecp256k1, h) => Some(h.unwrap_or(HashMode::Sha256)),
            (_, Some(_)) => return bad("`hash` applies only to ecdsa-secp256k1"),
            (_, None) => None,
        };
        if path.is_some() && scheme != Scheme::EcdsaSecp256k1 {
            return bad("`path` applies only to ecdsa-secp256k1");
        }
        let mode = self
            .own_policy(&key.id, hash, path)
            .map_err(|why| self.refused_here(DeclineReason::PolicyRefused, why))?;
        Ok((scheme, hash, mode))
    }

    /// What this node's own policy for `key_id` says of signing with `hash` at `path`:
    /// the mode it allows it in, or why not.
    pub(in crate::serve) fn own_policy(
        &self,
        key_id: &str,
        hash: Option<HashMode>,
        path: Option<&str>,
    ) -> Result<policy::Mode, String> {
        let p = policy::get(self.db(), key_id).map_err(|e| e.to_string())?;
        policy::check(&p, key_id, hash, path)
    }

    /// Counts `n` signatures of `key_id` against its policy's hourly limit on this node
    /// (with `dry_run`, only whether they would fit), or says why not.
    pub(in crate::serve) fn count_signatures(
        &self,
        key_id: &str,
        n: usize,
        dry_run: bool,
    ) -> Result<(), String> {
        let p = policy::get(self.db(), key_id).map_err(|e| e.to_string())?;
        self.hourly.take(self.db(), &p, key_id, n, dry_run)
    }

    /// Writes a signing decision's audit rows (`serve.sign` when it joins,
    /// `serve.decline` when not) without waiting for them to be durable, and returns
    /// the decision: the caller waits on what it gets back before anything the
    /// decision allows leaves the node.
    pub(in crate::serve) fn audit_decision_pending(
        &self,
        decision: Result<(), String>,
        rows: Vec<(String, serde_json::Value)>,
    ) -> Result<serve::audit::Pending, String> {
        let pending = self
            .audit
            .submit_all(decision_action(decision.is_ok()), rows);
        decision.map(|()| pending)
    }

    /// This node's audited decision on signing `messages` with `key` in one round for
    /// `proposer` (request `request`), spending `spends`: the rows are on their way
    /// when this returns; the caller waits for them before anything leaves.
    pub(in crate::serve) fn decide_one_round(
        &self,
        key: &KeyRecord,
        messages: &[Vec<u8>],
        proposer: &Card,
        request: &str,
        spends: Spends<'_>,
    ) -> Result<serve::audit::Pending, (DeclineReason, String)> {
        let hash = match spends {
            Spends::Nonces(_) => None,
            Spends::Presignature(_, h) => Some(h),
        };
        // `approval_required` sends the coordinator to a whole session, which an
        // operator can join.
        let (decision, code) = match self.own_policy(&key.id, hash, None) {
            Ok(policy::Mode::Auto) => (
                self.count_signatures(&key.id, messages.len(), false),
                DeclineReason::PolicyRefused,
            ),
            Ok(_) => (
                Err(format!(
                    "the policy of key {} on this node asks for an operator's approval of each session",
                    key.id
                )),
                DeclineReason::ApprovalRequired,
            ),
            Err(why) => (Err(why), DeclineReason::PolicyRefused),
        };
        // One row per message, each naming what it spends (nonce ids count up per key
        // and coordinator, so a repeat would show), all committed together.
        let rows: Vec<(String, serde_json::Value)> = messages
            .iter()
            .enumerate()
            .map(|(k, m)| {
                let mut row = serde_json::json!({
                    "request": request,
                    "proposer": proposer.name,
                    "joined": decision.is_ok(),
                    "reason": decision.as_ref().err(),
                    "message_sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(m)),
                });
                match spends {
                    Spends::Nonces(ids) => {
                        row["path"] = "preprocessed".into();
                        row["nonce"] = ids.get(k).copied().into();
                    }
                    Spends::Presignature(session, h) => {
                        row["path"] = "presigned".into();
                        row["presignature"] = session.into();
                        row["hash"] = serde_json::json!(h);
                    }
                }
                (key.id.clone(), row)
            })
            .collect();
        self.audit_decision_pending(decision, rows)
            .map_err(|why| (code, why))
    }

    /// Coordinates a signature of `message` with `key` (`POST /sign`).
    pub async fn sign(
        &self,
        key: &KeyRecord,
        message: Vec<u8>,
        hash: Option<HashMode>,
        path: Option<String>,
        request_id: &str,
    ) -> Result<Signed> {
        let mut signed = self
            .sign_messages(key, vec![message], hash, path, request_id)
            .await?;
        signed
            .pop()
            .ok_or_else(|| Error::internal("no signature was made"))
    }

    /// Coordinates signatures of several messages with `key` (`POST /sign/batch`).
    pub async fn sign_batch(
        &self,
        key: &KeyRecord,
        messages: Vec<Vec<u8>>,
        hash: Option<HashMode>,
        request_id: &str,
    ) -> Result<Vec<Signed>> {
        if messages.is_empty() || messages.len() > serve::nonces::MAX_BATCH {
            return Err(Error::BadRequest(format!(
                "a batch has 1 to {} messages",
                serve::nonces::MAX_BATCH
            )));
        }
        self.sign_messages(key, messages, hash, None, request_id)
            .await
    }

    /// Refuses (413) a request whose node messages could not fit the bus: the messages
    /// travel base64-encoded in one `FastSign` (or one plan each), with the
    /// signers' commitments and the framing. Checked before any nonce is taken or
    /// anything is sent.
    fn fits_the_bus(&self, messages: &[Vec<u8>], threshold: u16) -> Result<()> {
        let Some(bus) = self.cluster.bus() else {
            return Ok(());
        };
        let max = bus.max_payload();
        let need = bus_need(messages, threshold) + BUS_FRAMING;
        if need > max {
            return Err(Error::TooLarge {
                message: format!(
                    "the messages of this request ({} bytes in all) would make a node message of about {need} bytes, more than the bus takes ({max}); sign fewer or shorter messages per request",
                    messages.iter().map(Vec::len).sum::<usize>()
                ),
                bus: Some((need, max)),
            });
        }
        Ok(())
    }

    /// Signs `messages` (see [`Node::sign_attempt`]); where signers did not answer or
    /// declined, once more without them.
    async fn sign_messages(
        &self,
        key: &KeyRecord,
        messages: Vec<Vec<u8>>,
        hash: Option<HashMode>,
        path: Option<String>,
        request_id: &str,
    ) -> Result<Vec<Signed>> {
        self.fits_the_bus(&messages, key.threshold)?;
        let _slot = self.sessions.slot()?;
        let (scheme, hash, mode) =
            serve::off_worker(|| self.signing_key(key, hash, path.as_deref()))?;
        // Every message is a signature against the key's hourly limit here: a batch
        // that cannot fit whole is refused before anything is signed.
        serve::off_worker(|| self.count_signatures(&key.id, messages.len(), true))
            .map_err(|why| self.refused_here(DeclineReason::PolicyRefused, why))?;
        let parties = key.parties()?;
        let attempt = Attempt {
            key,
            parties: &parties,
            scheme,
            mode,
            hash,
            path: &path,
            request_id,
        };
        let first = self.sign_attempt(&attempt, &messages, &[]).await;
        // The signers that did not answer or declined are named: where another t of
        // the key's nodes are up, they sign instead (once).
        let Err(e) = first else { return first };
        let mut without = e.left_out();
        without.retain(|n| *n != self.cluster.me.name);
        if without.is_empty() {
            return Err(e);
        }
        serve::log(&format!(
            "request {request_id}: signing again without {} ({})",
            without.join(", "),
            e.public()
        ));
        match self.sign_attempt(&attempt, &messages, &without).await {
            Ok(mut signed) => {
                for s in &mut signed {
                    s.retried_without = Some(without.clone());
                }
                Ok(signed)
            }
            // No other t-subset: the first failure says what went wrong.
            Err(Error::NotEnoughNodes { .. }) => Err(e),
            Err(again) => Err(again),
        }
    }

    /// One try at signing `messages`, leaving out the members named in `without`: FROST
    /// from the nonce pools, all in one round trip, where they hold enough; else a
    /// session per message (ECDSA: from a presignature where it can).
    async fn sign_attempt(
        &self,
        a: &Attempt<'_>,
        messages: &[Vec<u8>],
        without: &[String],
    ) -> Result<Vec<Signed>> {
        let Attempt {
            key,
            parties,
            scheme,
            mode,
            hash,
            path,
            request_id,
        } = *a;
        // With approval here, each message gets a session an operator can see and join.
        let fast = match mode {
            policy::Mode::Approval => None,
            _ => self.sign_gathered(key, messages, without).await,
        };
        match fast {
            Some(Ok(f)) => {
                return f
                    .signatures
                    .iter()
                    .map(|s| {
                        self.signed(
                            key,
                            parties,
                            scheme,
                            s,
                            None,
                            None,
                            f.id.clone(),
                            &f.signers,
                            "preprocessed",
                        )
                    })
                    .collect();
            }
            // A signer lost its nonces (it restarted): a whole session still signs.
            Some(Err(e)) if e.declined().is_some_and(|d| d.reason.refused_as_asked()) => {}
            Some(Err(e)) => return Err(e),
            None => {}
        }
        let mut signed = Vec::with_capacity(messages.len());
        for m in messages {
            let p = path.clone();
            signed.push(
                self.sign_full(key, parties, scheme, mode, m, hash, p, request_id, without)
                    .await?,
            );
        }
        Ok(signed)
    }

    /// A signing session among this node and `t - 1` up members: for ECDSA from a
    /// presignature of the pool where the advisory allows (one round), else whole.
    #[allow(clippy::too_many_arguments)]
    async fn sign_full(
        &self,
        key: &KeyRecord,
        parties: &[Card],
        scheme: Scheme,
        mode: policy::Mode,
        message: &[u8],
        hash: Option<HashMode>,
        path: Option<String>,
        request_id: &str,
        without: &[String],
    ) -> Result<Signed> {
        let signers = self.pick_without(parties, key.threshold, without)?;
        if scheme == Scheme::EcdsaSecp256k1
            && serve::presig::allowed(hash, path.as_deref())
            && let Some(session) = self.presigs.take(&key.id, &signers)
        {
            let who = signers.as_slice();
            let tried = match hash {
                // One round trip, unless each signature waits for an operator here: then
                // a session the operator can see and join.
                Some(h) if mode != policy::Mode::Approval => {
                    self.sign_presigned(key, parties, message, h, who, session)
                        .await
                }
                _ => {
                    let presign = Some(Presign::Consume { session });
                    self.sign_session(
                        key, parties, scheme, message, hash, None, who, presign, request_id,
                    )
                    .await
                }
            };
            match tried {
                Ok(s) => return Ok(s),
                // A signer that cannot use it (it lost it to a rotation, say): a whole
                // session still signs. Refusals and timeouts are final.
                Err(e) if e.presignature_unusable() => {
                    serve::log(&format!(
                        "a presignature of key {} could not be used ({e}); signing with a whole session",
                        key.id
                    ));
                }
                Err(e) => return Err(e),
            }
        }
        let who = signers.as_slice();
        self.sign_session(
            key, parties, scheme, message, hash, path, who, None, request_id,
        )
        .await
    }

    /// One signing session of `message` among `signers`, with a presignature role.
    #[allow(clippy::too_many_arguments)]
    async fn sign_session(
        &self,
        key: &KeyRecord,
        parties: &[Card],
        scheme: Scheme,
        message: &[u8],
        hash: Option<HashMode>,
        path: Option<String>,
        signers: &[u16],
        presign: Option<Presign>,
        request_id: &str,
    ) -> Result<Signed> {
        let (mode, presignature) = match &presign {
            Some(Presign::Consume { session }) => ("presigned", Some(session.clone())),
            _ => ("full", None),
        };
        use base64::Engine as _;
        let plan = Plan::Sign(SignPlan {
            version: 1,
            scheme,
            key_id: key.id.clone(),
            group_public_key: key.public_key.clone(),
            threshold: key.threshold,
            parties: parties.to_vec(),
            signers: signers.to_vec(),
            message: base64::engine::general_purpose::STANDARD.encode(message),
            label: format!("api request {request_id}"),
            expires_at: now()
                + (self.config.session_timeout.max(super::ECDSA_SESSION_MIN)
                    + self.config.approval_timeout)
                    .as_secs()
                + 60,
            nonce: fresh_nonce(),
            hash,
            path,
            presign,
        })
        .validated()
        .map_err(|e| Error::BadRequest(e.to_string()))?;
        let Plan::Sign(sp) = &*plan else {
            unreachable!("a sign plan")
        };
        let me = self.cluster.me.clone();
        self.decide_sign(sp, &me, None, |_| {})
            .await
            .map_err(|(code, why)| self.refused_here(code, why))?;
        let others: Vec<&Card> = signers
            .iter()
            .filter_map(|&i| parties.get(usize::from(i) - 1))
            .filter(|c| !self.cluster.is_me(c))
            .collect();
        let session = hex::encode(plan.session_id());
        let budget = self.config.session_budget(&plan);
        let outcome = self.coordinate(plan, &others, budget, false).await?;
        let Outcome::Sign {
            signature,
            recovery_id,
            derived_public_key,
            ..
        } = outcome
        else {
            return Err(Error::internal(
                "the signing session ended with another kind of result",
            ));
        };
        let raw = hex::decode(&signature).map_err(Error::internal)?;
        let mut signed = self.signed(
            key,
            parties,
            scheme,
            &raw,
            recovery_id,
            derived_public_key,
            session,
            signers,
            mode,
        )?;
        signed.presignature = presignature;
        Ok(signed)
    }

    /// The answer for a signature.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn signed(
        &self,
        key: &KeyRecord,
        parties: &[Card],
        scheme: Scheme,
        raw: &[u8],
        recovery_id: Option<u8>,
        derived_public_key: Option<String>,
        session: String,
        signers: &[u16],
        mode: &str,
    ) -> Result<Signed> {
        use base64::Engine as _;
        let forms = match (<[u8; 64]>::try_from(raw), recovery_id) {
            (Ok(rs), Some(v)) => Some(crate::pubkey::ecdsa_forms(&rs, v).map_err(Error::internal)?),
            _ => None,
        };
        serve::metrics::signed(scheme.id(), mode, 1);
        Ok(Signed {
            key_id: key.id.clone(),
            scheme: scheme.id().to_string(),
            signature: hex::encode(raw),
            signature_base64: base64::engine::general_purpose::STANDARD.encode(raw),
            der: forms.as_ref().map(|f| hex::encode(&f.der)),
            recoverable: forms.as_ref().map(|f| hex::encode(&f.recoverable)),
            eth: forms.as_ref().map(|f| hex::encode(&f.eth)),
            recovery_id,
            derived_public_key,
            session,
            signers: signers
                .iter()
                .filter_map(|&i| parties.get(usize::from(i) - 1).map(|c| c.name.clone()))
                .collect(),
            mode: mode.into(),
            presignature: None,
            retried_without: None,
        })
    }

    /// This node's refusal (as a member's `Decline`) as the request's failure.
    pub(in crate::serve) fn refused_here(&self, reason: DeclineReason, why: String) -> Error {
        Error::Declined(serve::error::Declined {
            node: self.cluster.me.name.clone(),
            reason,
            message: why,
        })
    }

    /// This node's decision on contributing to a signing plan proposed by `proposer`,
    /// audited; `Err` has a `Decline` code and says why not. Where the key's policy
    /// asks for approval, the session waits for this node's operator (`waiting` is
    /// told for how long first), so this may take up to the approval timeout.
    pub(in crate::serve) async fn decide_sign(
        &self,
        plan: &SignPlan,
        proposer: &Card,
        inbox: Option<&Inbox>,
        waiting: impl FnOnce(Duration),
    ) -> Result<(), (DeclineReason, String)> {
        let own =
            || serve::off_worker(|| self.own_policy(&plan.key_id, plan.hash, plan.path.as_deref()));
        let count = || serve::off_worker(|| self.count_signatures(&plan.key_id, 1, false));
        let whole = Plan::Sign(plan.clone());
        let session = hex::encode(whole.session_id());
        let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
            whole.message().unwrap_or_default(),
        ));
        let mut approved_by = None;
        let decision = match own() {
            Ok(policy::Mode::Approval) => {
                let max = self.config.approval_timeout;
                waiting(max);
                serve::log(&format!(
                    "session {} from {} (key {}) waits up to {} for an operator: POST /api/v1/sessions/{session}/join",
                    &session[..16],
                    proposer.name,
                    plan.key_id,
                    humantime::format_duration(max)
                ));
                let asked = serve::approval::Asked {
                    id: session.clone(),
                    kind: "sign",
                    status: "awaiting_approval",
                    key_id: plan.key_id.clone(),
                    proposer: proposer.name.clone(),
                    message_sha256: digest.clone(),
                    hash: plan.hash.map(|h| serde_json::json!(h)),
                    path: plan.path.clone(),
                    approve_by: now() + max.as_secs(),
                };
                let ended = async {
                    match inbox {
                        Some(i) => i.ended().await,
                        None => std::future::pending().await,
                    }
                };
                let verdict = self.approvals.ask(asked, max, ended).await;
                match verdict.refusal("session", max) {
                    Some(refused) => Err(refused),
                    // The policy may have changed while the session waited.
                    None => {
                        if let serve::approval::Verdict::Approved(token) = verdict {
                            approved_by = Some(token);
                        }
                        own()
                            .and_then(|_| count())
                            .map_err(|why| (DeclineReason::PolicyRefused, why))
                    }
                }
            }
            Ok(_) => count().map_err(|why| (DeclineReason::PolicyRefused, why)),
            Err(why) => Err((DeclineReason::PolicyRefused, why)),
        };
        let detail = serde_json::json!({
            "session": session,
            "proposer": proposer.name,
            "joined": decision.is_ok(),
            "reason": decision.as_ref().err().map(|e| &e.1),
            "approved_by": approved_by,
            "message_sha256": digest,
            "path": "full",
        });
        let code = decision
            .as_ref()
            .err()
            .map_or(DeclineReason::Storage, |e| e.0.clone());
        let rows = vec![(plan.key_id.clone(), detail)];
        let pending = self
            .audit
            .submit_all(decision_action(decision.is_ok()), rows);
        pending.done().await.map_err(|why| (code, why))?;
        decision
    }

    /// The signers for a new session of a key with `parties` and threshold `t`: this
    /// node first, then members that are up, in key order.
    pub(in crate::serve) fn pick(&self, parties: &[Card], t: u16) -> Result<Vec<u16>> {
        self.pick_without(parties, t, &[])
    }

    /// As [`Node::pick`], leaving out the members named in `without`.
    fn pick_without(&self, parties: &[Card], t: u16, without: &[String]) -> Result<Vec<u16>> {
        let mut chosen = Vec::new();
        let mut down = Vec::new();
        let mut why = Vec::new();
        for (i, c) in parties.iter().enumerate() {
            let index = i as u16 + 1;
            if self.cluster.is_me(c) {
                chosen.insert(0, index);
                continue;
            }
            let reason = if self.cluster.member(&serve::cluster::card_key(c)).is_none() {
                " (not a cluster member)"
            } else if without.contains(&c.name) {
                " (did not sign just now)"
            } else if self.cluster.is_up(c) {
                chosen.push(index);
                continue;
            } else {
                ""
            };
            down.push(c.name.clone());
            why.push(format!("{}{reason}", c.name));
        }
        if chosen.len() < usize::from(t) {
            return Err(Error::NotEnoughNodes {
                message: format!(
                    "{} of the {t} signers needed are up; not reachable: {}",
                    chosen.len(),
                    why.join(", ")
                ),
                unreachable: down,
            });
        }
        chosen.truncate(usize::from(t));
        chosen.sort_unstable();
        Ok(chosen)
    }
}

/// What a one-round request needs of a node message besides its messages' share:
/// the framing, the envelope and the request's own fields.
pub(super) const BUS_FRAMING: usize = 16 * 1024;

/// The share of a node message that `messages` take in a one-round request (or in
/// one plan each) among `threshold` signers: each message base64-encoded, with a
/// commitment per signer.
pub(super) fn bus_need(messages: &[Vec<u8>], threshold: u16) -> usize {
    let per_message = 512 + 256 * usize::from(threshold);
    messages
        .iter()
        .map(|m| m.len().div_ceil(3) * 4 + per_message)
        .sum()
}

/// The audit action of a signing decision: joined, or declined.
fn decision_action(joined: bool) -> &'static str {
    if joined { SIGN_ACTION } else { "serve.decline" }
}

/// What a signing request is, for each try at it.
#[derive(Clone, Copy)]
struct Attempt<'a> {
    key: &'a KeyRecord,
    parties: &'a [Card],
    scheme: Scheme,
    mode: policy::Mode,
    hash: Option<HashMode>,
    path: &'a Option<String>,
    request_id: &'a str,
}

/// A 504 naming the `others` that did not answer (`answered` says who did), or `Ok`.
pub(in crate::serve) fn awaited(
    others: &[&Card],
    answered: impl Fn(&str) -> bool,
    what: &str,
) -> Result<()> {
    let silent: Vec<String> = others
        .iter()
        .filter(|c| !answered(&c.name))
        .map(|c| c.name.clone())
        .collect();
    if silent.is_empty() {
        return Ok(());
    }
    Err(Error::TimedOut {
        message: format!("{what} {}", silent.join(", ")),
        awaited: silent,
        ignored: None,
    })
}

/// How `message` is written in a request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageEncoding {
    /// The text itself, as UTF-8 bytes.
    #[default]
    Utf8,
    /// Hex.
    Hex,
    /// Standard base64.
    Base64,
}

/// Decodes a request's message.
pub fn decode_message(message: &str, encoding: MessageEncoding) -> Result<Vec<u8>> {
    use base64::Engine as _;
    let bytes = match encoding {
        MessageEncoding::Utf8 => Ok(message.as_bytes().to_vec()),
        MessageEncoding::Hex => {
            hex::decode(message.trim()).map_err(|e| format!("`message` is not valid hex: {e}"))
        }
        MessageEncoding::Base64 => base64::engine::general_purpose::STANDARD
            .decode(message.trim())
            .map_err(|e| format!("`message` is not valid base64: {e}")),
    }
    .map_err(Error::BadRequest)?;
    if bytes.len() > crate::plan::MAX_MESSAGE_LEN {
        return Err(Error::TooLarge {
            message: "the message is larger than 1 MiB".into(),
            bus: None,
        });
    }
    Ok(bytes)
}

/// `POST /sign`.
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    /// The key id (or a unique prefix of at least 4 hex digits).
    #[schema(pattern = "^[0-9a-fA-F]{4,128}$")]
    pub key_id: String,
    /// The message.
    pub message: String,
    /// How `message` is written.
    #[serde(default)]
    pub encoding: MessageEncoding,
    /// ecdsa-secp256k1: how the message is hashed (default sha256).
    #[serde(default)]
    pub hash: Option<HashMode>,
    /// ecdsa-secp256k1 keys only (400 for any other scheme): a non-hardened BIP32
    /// path to sign with the child key.
    #[serde(default)]
    pub path: Option<String>,
}

/// `POST /sign/batch`.
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// The key id (or a unique prefix of at least 4 hex digits).
    #[schema(pattern = "^[0-9a-fA-F]{4,128}$")]
    pub key_id: String,
    /// The messages (1 to 64).
    #[schema(min_items = 1, max_items = 64)]
    pub messages: Vec<String>,
    /// How the messages are written.
    #[serde(default)]
    pub encoding: MessageEncoding,
    /// ecdsa-secp256k1: how the messages are hashed (default sha256).
    #[serde(default)]
    pub hash: Option<HashMode>,
}
