//! `/keys`: list, show, change, delete, create (a job when it outlasts the wait) and rotate.

use super::*;

pub(super) fn key_info(node: &Node, k: &KeyRecord) -> Result<KeyInfo, ApiError> {
    let scheme = k.scheme;
    let raw = hex::decode(&k.public_key).map_err(ApiError::internal)?;
    let db = node.db();
    Ok(KeyInfo {
        id: k.id.clone(),
        scheme: scheme.id().into(),
        public_key: hex::encode(pubkey::standard_form(scheme, &raw)),
        threshold: k.threshold,
        n: k.n,
        parties: k
            .parties()
            .map_err(ApiError::store)?
            .into_iter()
            .map(|c| c.name)
            .collect(),
        label: k.label.clone(),
        status: k.status,
        policy: policy::get(db, &k.id).map_err(ApiError::store)?,
        metadata: db.key_metadata(&k.id).map_err(ApiError::store)?,
        addresses: <crate::chain::Chain as clap::ValueEnum>::value_variants()
            .iter()
            .filter_map(|&c| {
                let a = crate::chain::address(c, scheme, &raw, None).ok()?;
                let name = serde_json::to_value(c).ok()?.as_str()?.to_string();
                Some((name, a.address))
            })
            .collect(),
        created_at: k.created_at,
    })
}

#[utoipa::path(get, path = "/keys", tag = "keys", responses((status = 200, description = "the keys this node holds a share of", body = Envelope<KeyList>)))]
pub(super) async fn list_keys(
    State(node): State<Shared>,
    Authorized(caller, _): Authorized<Reads>,
) -> Answer<KeyList> {
    let keys = blocking(move || {
        let keys = node.db().keys().map_err(ApiError::store)?;
        keys.iter()
            .filter(|k| caller.0.allows_key(&k.id))
            .map(|k| key_info(&node, k))
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    Ok(Data::ok(KeyList { keys }))
}

#[utoipa::path(get, path = "/keys/{id}", tag = "keys", params(("id" = String, Path, description = "the key id, or a unique prefix of it (at least 4 hex digits)", pattern = "^[0-9a-fA-F]{4,128}$")), responses((status = 200, description = "the key", body = Envelope<KeyInfo>)))]
pub(super) async fn show_key(
    State(node): State<Shared>,
    audit: Audit,
    Authorized(caller, _): Authorized<Reads>,
    Path(id): Path<String>,
) -> Answer<KeyInfo> {
    let key = blocking(move || key_info(&node, &caller.key_on(&node, &id)?)).await?;
    Ok(key_data(&audit, key))
}

/// The key `id` as the API shows it now (after a change).
fn key_info_now(node: &Node, id: &str) -> Result<KeyInfo, ApiError> {
    key_info(node, &node.key(id)?)
}

/// A key's answer, with the key in the request's audit row.
fn key_data(audit: &Audit, key: KeyInfo) -> Data<KeyInfo> {
    audit.key(&key.id);
    Data::ok(key)
}

/// `PUT /keys/{id}`: what is given is replaced, on this node.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct KeyUpdate {
    /// A name for people (at most 200 characters, no control characters).
    #[serde(default, deserialize_with = "given")]
    #[schema(
        max_length = 200,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$",
        nullable = false
    )]
    pub label: Option<String>,
    /// A JSON object for programs (at most 16 KiB as JSON).
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Object, nullable = false)]
    pub metadata: Option<serde_json::Value>,
    /// This node's policy for the key.
    #[serde(default, deserialize_with = "given")]
    #[schema(nullable = false)]
    pub policy: Option<policy::Policy>,
}

/// A field that may be left out but, when given, is not null (as the document says):
/// `"label": null` is refused rather than read as "not given".
fn given<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

impl KeyUpdate {
    fn check(&self) -> Result<(), ApiError> {
        let bad = |m: String| Err(ApiError::new(400, "bad_request", m));
        if self.label.is_none() && self.metadata.is_none() && self.policy.is_none() {
            return bad("give at least one of `label`, `metadata` and `policy`".into());
        }
        if let Some(l) = &self.label
            && (l.chars().count() > 200 || l.chars().any(char::is_control))
        {
            return bad("`label`: at most 200 characters, none of them control characters".into());
        }
        if let Some(m) = &self.metadata {
            if !m.is_object() {
                return bad("`metadata` must be a JSON object".into());
            }
            if m.to_string().len() > 16 * 1024 {
                return bad("`metadata` is over 16 KiB as JSON".into());
            }
        }
        Ok(())
    }
}

#[utoipa::path(put, path = "/keys/{id}", tag = "keys", params(("id" = String, Path, description = "the key id, or a unique prefix of it (at least 4 hex digits)", pattern = "^[0-9a-fA-F]{4,128}$")), request_body = KeyUpdate, responses((status = 200, description = "the key, changed", body = Envelope<KeyInfo>)))]
pub(super) async fn update_key(
    State(node): State<Shared>,
    audit: Audit,
    Authorized(caller, _): Authorized<Administers>,
    Path(id): Path<String>,
    ApiJson(update): ApiJson<KeyUpdate>,
) -> Answer<KeyInfo> {
    update.check()?;
    let key = blocking(move || {
        let k = caller.key_on(&node, &id)?;
        let db = node.db();
        if let Some(label) = &update.label {
            db.set_key_label(&k.id, label).map_err(ApiError::store)?;
        }
        if let Some(m) = &update.metadata {
            db.set_key_metadata(&k.id, m).map_err(ApiError::store)?;
        }
        if let Some(p) = &update.policy {
            policy::set(db, &k.id, p).map_err(ApiError::store)?;
        }
        key_info_now(&node, &k.id)
    })
    .await?;
    Ok(key_data(&audit, key))
}

/// `DELETE /keys/{id}` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    /// How long from now this node's share may be destroyed (`mpc delete --purge`), in
    /// humantime form (`30d`, the default, `12h`).
    #[serde(default)]
    #[param(pattern = "^(0|([0-9]{1,9} ?(ns|us|ms|s|m|h|d|w) ?)+)$")]
    pub after: Option<String>,
    /// Why (kept in the audit log).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Schedules the deletion of this node's share of a key, as `mpc delete` does: the key
/// stops signing here at once; the share is destroyed by `mpc delete --purge` after the
/// date. The other nodes decide for their own shares.
#[utoipa::path(delete, path = "/keys/{id}", tag = "keys", params(("id" = String, Path, description = "the key id, or a unique prefix of it (at least 4 hex digits)", pattern = "^[0-9a-fA-F]{4,128}$"), DeleteQuery), responses((status = 200, description = "this node's share is scheduled for deletion", body = Envelope<KeyInfo>)))]
pub(super) async fn delete_key(
    State(node): State<Shared>,
    audit: Audit,
    Authorized(caller, _): Authorized<Administers>,
    Path(id): Path<String>,
    q: Result<Query<DeleteQuery>, QueryRejection>,
) -> Answer<KeyInfo> {
    let Query(q) = q.map_err(|e| ApiError::new(400, "bad_request", e.body_text()))?;
    let after = match q.after.as_deref() {
        None => Duration::from_secs(30 * 24 * 3600),
        Some(a) => humantime::parse_duration(a)
            .map_err(|e| ApiError::new(400, "bad_request", format!("`after`: {e}")))?,
    };
    let key = blocking(move || {
        let k = caller.key_on(&node, &id)?;
        let at = crate::clock::now() + after.as_secs();
        let db = node.db();
        crate::lifecycle::apply(
            db,
            &k,
            crate::lifecycle::Transition::ScheduleDeletion(at),
            q.reason.as_deref(),
        )
        .map_err(|e| match e {
            crate::lifecycle::Error::NotAllowed { .. } => {
                ApiError::new(409, "wrong_key_state", e.to_string())
            }
            other => ApiError::internal(other),
        })?;
        let identity = Arc::clone(&node.identity);
        db.checkpoint(|m| identity.sign(m))
            .map_err(ApiError::store)?;
        let k = node_key_after(db, &k.id)?;
        key_info(&node, &k)
    })
    .await?;
    Ok(key_data(&audit, key))
}

pub(super) fn node_key_after(db: &crate::store::db::Db, id: &str) -> Result<KeyRecord, ApiError> {
    db.key(id)
        .map_err(ApiError::store)?
        .ok_or_else(|| ApiError::internal("a key vanished while it was changed"))
}

#[utoipa::path(post, path = "/keys", tag = "keys", params(WaitQuery), request_body = KeygenRequest, responses((status = 201, description = "every node holds its share", body = Envelope<KeyInfo>), (status = 202, description = "still running after `wait`: follow the job at GET /sessions/{id}", body = Envelope<Job>), (status = 503, description = "not now: `primes_needed` (an ECDSA key among a new set of nodes needs a set of Paillier primes in every node's pool: `mpc primes`, or `--prime-pool`), `not_enough_nodes` (a node is not reachable) or `busy`", body = Failed)))]
pub(super) async fn create_key(
    State(node): State<Shared>,
    audit: Audit,
    _: Authorized<AdministersAll>,
    q: Result<Query<WaitQuery>, QueryRejection>,
    ApiJson(req): ApiJson<KeygenRequest>,
) -> Answer<serde_json::Value> {
    let wait = waiting(q, KEYGEN_WAIT)?.min(node.config.request_budget());
    node.keygen_parties(&req)?;
    let job = run_job(&node, "keygen", None, wait, 201, move |n| {
        keygen_job(n, req)
    })
    .await?;
    job_answer(&audit, job, true)
}

/// Moves a key to other nodes and another threshold, keeping its public key (admin,
/// unlimited: a cluster-wide action). Every node of the key that is up deals (at least
/// the key's threshold of them; each node's own policy decides for its share: `never`
/// refuses, `approval` waits for that node's operator); the nodes named hold the key
/// afterwards. Runs as a job, as a key generation does.
#[utoipa::path(post, path = "/keys/{id}/reshare", tag = "keys", params(("id" = String, Path, description = "the key id, or a unique prefix of it (at least 4 hex digits)", pattern = "^[0-9a-fA-F]{4,128}$"), WaitQuery), request_body = ReshareRequest, responses((status = 200, description = "every node named holds its share of the same key", body = Envelope<KeyInfo>), (status = 202, description = "still running after `wait`: follow the job at GET /sessions/{id}", body = Envelope<Job>), (status = 503, description = "not now: `not_enough_nodes` (fewer than the key's threshold of its nodes are up, or a node named is not), `primes_needed` (an ECDSA key's new node set generates aux info: a set of Paillier primes in every new node's pool) or `busy`", body = Failed)))]
pub(super) async fn reshare_key(
    State(node): State<Shared>,
    Extension(rid): Extension<RequestId>,
    audit: Audit,
    _: Authorized<AdministersAll>,
    Path(id): Path<String>,
    q: Result<Query<WaitQuery>, QueryRejection>,
    ApiJson(req): ApiJson<ReshareRequest>,
) -> Answer<serde_json::Value> {
    let wait = waiting(q, KEYGEN_WAIT)?.min(node.config.request_budget());
    let n = Arc::clone(&node);
    let (key_id, plan) = blocking(move || {
        let k = n.key(&id)?;
        // Made before the job starts: a reshare that cannot work is refused.
        let plan = n.reshare_plan(&k, &req, format!("api request {}", rid.0), None)?;
        Ok((k.id, plan))
    })
    .await?;
    let job = run_job(
        &node,
        "reshare",
        Some(key_id.clone()),
        wait,
        200,
        move |n| async move {
            n.reshare(plan).await?;
            key_answer(n, key_id).await
        },
    )
    .await?;
    job_answer(&audit, job, true)
}

/// What `POST /keys` waits for a key generation by default before answering 202.
const KEYGEN_WAIT: Duration = Duration::from_secs(30);

/// `?wait=` of `POST /keys` and `POST /sessions`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WaitQuery {
    /// How long to wait for the work before answering 202 with the job to follow at
    /// `GET /sessions/{id}` (`0s`, `30s`, `2m`; `POST /keys`: 30s by default,
    /// `POST /sessions`: 0s).
    #[serde(default)]
    #[param(pattern = "^(0|([0-9]{1,9} ?(ns|us|ms|s|m|h|d|w) ?)+)$")]
    pub wait: Option<String>,
}

pub(super) fn waiting(
    q: Result<Query<WaitQuery>, QueryRejection>,
    default: Duration,
) -> Result<Duration, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::new(400, "bad_request", e.body_text()))?;
    match q.wait.as_deref() {
        None => Ok(default),
        Some(w) => humantime::parse_duration(w)
            .map(|d| d.min(Duration::from_secs(600)))
            .map_err(|e| ApiError::new(400, "bad_request", format!("`wait`: {e}"))),
    }
}

/// A key generation's answer: the key as every node now holds it.
pub(super) async fn keygen_job(
    node: Shared,
    req: KeygenRequest,
) -> Result<serde_json::Value, ApiError> {
    let Outcome::Keygen { key_id, .. } = node.keygen(&req).await? else {
        return Err(ApiError::internal(
            "a key generation ended with another kind of result",
        ));
    };
    key_answer(node, key_id).await
}

/// The key `key_id` as the API shows it now, as JSON (a job's result).
async fn key_answer(node: Shared, key_id: String) -> Result<serde_json::Value, ApiError> {
    blocking(move || {
        serde_json::to_value(key_info_now(&node, &key_id)?).map_err(ApiError::internal)
    })
    .await
}

/// The key `id` names, if the caller's token may use it.
pub(super) async fn allowed_key(
    node: &Shared,
    caller: &Caller,
    id: String,
) -> Result<KeyRecord, ApiError> {
    let (n, caller) = (Arc::clone(node), caller.clone());
    blocking(move || caller.key_on(&n, &id)).await
}

/// Rotates `key` (`request_id` names the request in the plan's label); the key as every
/// node now holds it, and the transcript's words.
pub(super) async fn rotated(
    node: Shared,
    key: KeyRecord,
    request_id: String,
) -> Result<Rotated, ApiError> {
    let words = node
        .rotate(&key, &request_id)
        .await?
        .transcript_words()
        .map_err(ApiError::internal)?;
    blocking(move || {
        Ok(Rotated {
            key: key_info_now(&node, &key.id)?,
            transcript_words: words,
        })
    })
    .await
}

/// Runs `work` as a job of `kind` (a task of its own) and waits up to `wait` for it;
/// the job as it stands then. `ok` is the status its success answers with.
pub(super) async fn run_job<F>(
    node: &Shared,
    kind: &str,
    key_id: Option<String>,
    wait: Duration,
    ok: u16,
    work: impl FnOnce(Shared) -> F + Send + 'static,
) -> Result<Job, ApiError>
where
    F: std::future::Future<Output = Result<serde_json::Value, ApiError>> + Send + 'static,
{
    let id = node.jobs.start(kind, key_id);
    // Without a wait the answer is the job as started (202), however fast it ends.
    let started_job = node
        .jobs
        .find(&id)?
        .ok_or_else(|| ApiError::internal("a job vanished"))?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (n, jid) = (Arc::clone(node), id.clone());
    let limit = node.config.job_budget();
    tokio::spawn(async move {
        let r = crate::serve::jobs::within(limit, work(Arc::clone(&n))).await;
        n.jobs.finish(&jid, ok, r);
        let _ = tx.send(());
    });
    if wait.is_zero() {
        return Ok(started_job);
    }
    let _ = tokio::time::timeout(wait, rx).await;
    node.jobs
        .find(&id)?
        .ok_or_else(|| ApiError::internal("a job vanished"))
}

/// A job's answer: 202 with the job while it runs; once over, its failure, or (with
/// `result`) what it made, else the job. The job (and the key it made or used) goes in
/// the audit row.
pub(super) fn job_answer(audit: &Audit, j: Job, result: bool) -> Answer<serde_json::Value> {
    audit.session(&j.id);
    if let Some(key) = j
        .result
        .as_ref()
        .and_then(|r| r["id"].as_str().or(r["key_id"].as_str()))
    {
        audit.key(key);
    }
    let job = || serde_json::to_value(&j).map_err(ApiError::internal);
    match (j.status, &j.error) {
        (crate::serve::jobs::JobStatus::Running, _) => Ok(Data(StatusCode::ACCEPTED, job()?)),
        (_, Some(e)) => Err(e.clone()),
        _ => {
            let status =
                StatusCode::from_u16(j.http_status.unwrap_or(200)).unwrap_or(StatusCode::OK);
            let body = match result {
                true => j.result.clone().unwrap_or_default(),
                false => job()?,
            };
            Ok(Data(status, body))
        }
    }
}

/// `POST /keys/{id}/rotate` (admin): new shares of the same key on every node that
/// holds one (all must be up). A threshold ECDSA key rotates by a reshare to the same
/// nodes (cggmp21 0.6 refreshes only n-of-n ECDSA shares).
#[utoipa::path(post, path = "/keys/{id}/rotate", tag = "keys", params(("id" = String, Path, description = "the key id, or a unique prefix of it (at least 4 hex digits)", pattern = "^[0-9a-fA-F]{4,128}$")), responses((status = 200, description = "every node holds a new share of the same key", body = Envelope<Rotated>)))]
pub(super) async fn rotate_key(
    State(node): State<Shared>,
    Extension(rid): Extension<RequestId>,
    audit: Audit,
    Authorized(caller, _): Authorized<Administers>,
    Path(id): Path<String>,
) -> Answer<Rotated> {
    let k = allowed_key(&node, &caller, id).await?;
    let r = rotated(node, k, rid.0).await?;
    audit.key(&r.key.id);
    Ok(Data::ok(r))
}
