//! `/sign`, `/sign/batch` and `/verify`.

use super::*;

/// A message's digest in the audit row: SHA-256, hex (whatever the hash mode).
pub(super) fn message_digest(message: &[u8]) -> String {
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(message))
}

/// A signing request's common part: the key (looked up once, and the token's limit on
/// it), the messages (decoded once), and the digests, key and session in the audit
/// row; `run` signs (a future on the handler's task) and says which session it used.
pub(super) async fn signing<T, F>(
    node: Shared,
    audit: Audit,
    caller: Caller,
    key_id: String,
    messages: Result<Vec<Vec<u8>>, crate::serve::Error>,
    run: impl FnOnce(Shared, KeyRecord, Vec<Vec<u8>>) -> F,
    session_of: impl Fn(&T) -> Option<String>,
) -> Answer<T>
where
    T: Serialize,
    F: std::future::Future<Output = Result<T, crate::serve::Error>>,
{
    let messages = messages?;
    let digests: Vec<String> = messages.iter().map(|m| message_digest(m)).collect();
    audit.digest(digests.join(","));
    let n = node.clone();
    let key = blocking(move || Ok(n.key(&key_id)?)).await?;
    audit.key(&key.id);
    caller.require_key(&key.id)?;
    let signed = run(node, key, messages).await.map_err(ApiError::from);
    let session = match &signed {
        Ok(s) => session_of(s),
        Err(e) => e
            .details
            .get("session")
            .and_then(|s| s.as_str())
            .map(str::to_string),
    };
    if let Some(session) = session {
        audit.session(session);
    }
    signed.map(Data::ok)
}

#[utoipa::path(post, path = "/sign", tag = "signing", request_body = SignRequest, responses((status = 200, description = "the signature", body = Envelope<Signed>)))]
pub(super) async fn sign(
    State(node): State<Shared>,
    Extension(rid): Extension<RequestId>,
    audit: Audit,
    // The scope before the body: a caller without it learns nothing about its input.
    Authorized(caller, _): Authorized<Signs>,
    ApiJson(req): ApiJson<SignRequest>,
) -> Answer<Signed> {
    let messages = decode_message(&req.message, req.encoding).map(|m| vec![m]);
    let key_id = req.key_id.clone();
    signing(
        node,
        audit,
        caller,
        key_id,
        messages,
        move |n, key, mut messages| async move {
            let message = messages.pop().unwrap_or_default();
            n.sign(&key, message, req.hash, req.path, &rid.0).await
        },
        |s| Some(s.session.clone()),
    )
    .await
}

#[utoipa::path(post, path = "/sign/batch", tag = "signing", request_body = BatchRequest, responses((status = 200, description = "one signature per message", body = Envelope<Signatures>)))]
pub(super) async fn sign_batch(
    State(node): State<Shared>,
    Extension(rid): Extension<RequestId>,
    audit: Audit,
    // The scope before the body: a caller without it learns nothing about its input.
    Authorized(caller, _): Authorized<Signs>,
    ApiJson(req): ApiJson<BatchRequest>,
) -> Answer<Signatures> {
    let messages = req
        .messages
        .iter()
        .map(|m| decode_message(m, req.encoding))
        .collect();
    let key_id = req.key_id.clone();
    signing(
        node,
        audit,
        caller,
        key_id,
        messages,
        move |n, key, messages| async move {
            n.sign_batch(&key, messages, req.hash, &rid.0)
                .await
                .map(|signatures| Signatures { signatures })
        },
        |s| s.signatures.first().map(|s| s.session.clone()),
    )
    .await
}

/// `POST /verify`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The scheme.
    pub scheme: Scheme,
    /// The public key, hex.
    #[schema(pattern = "^([0-9a-fA-F]{2})+$")]
    pub public_key: String,
    /// The message.
    pub message: String,
    /// How `message` is written.
    #[serde(default)]
    pub encoding: MessageEncoding,
    /// The signature, hex.
    #[schema(pattern = "^([0-9a-fA-F]{2})+$")]
    pub signature: String,
    /// ecdsa-secp256k1: how the message was hashed (default sha256).
    #[serde(default)]
    pub hash: Option<HashMode>,
}

#[utoipa::path(post, path = "/verify", tag = "signing", request_body = VerifyRequest, responses((status = 200, description = "whether the signature is valid", body = Envelope<Verified>)))]
pub(super) async fn verify(
    _: Authorized<Reads>,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> Answer<Verified> {
    let bad = |what: &str, e: String| ApiError::new(400, "bad_request", format!("`{what}` {e}"));
    let pk = hex::decode(req.public_key.trim())
        .map_err(|e| bad("public_key", format!("is not valid hex: {e}")))?;
    let sig = hex::decode(req.signature.trim())
        .map_err(|e| bad("signature", format!("is not valid hex: {e}")))?;
    let message = decode_message(&req.message, req.encoding)?;
    let valid = match (req.scheme, req.hash) {
        (Scheme::EcdsaSecp256k1, mode) => {
            let digest = digest_of(mode.unwrap_or(HashMode::Sha256), &message)
                .map_err(|e| ApiError::new(400, "bad_request", e))?;
            pubkey::verify_ecdsa_prehash(&pk, &digest, &sig)
        }
        (_, Some(_)) => {
            return Err(ApiError::new(
                400,
                "bad_request",
                "`hash` applies only to ecdsa-secp256k1",
            ));
        }
        (scheme, None) => pubkey::verify(scheme, &pk, &message, &sig),
    }
    .map_err(|e| ApiError::new(400, "bad_request", e.to_string()))?;
    Ok(Data::ok(Verified {
        valid,
        scheme: req.scheme,
    }))
}
