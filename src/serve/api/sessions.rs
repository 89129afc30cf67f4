//! `/sessions`: start one as a job, list, show, and an operator's join or cancel.

use super::*;

/// `POST /sessions`: the work to start.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SessionRequest {
    /// A key generation among the nodes (admin), as `POST /keys`.
    Keygen(KeygenRequest),
    /// A signature (sign), as `POST /sign`.
    Sign(SignRequest),
    /// A presignature for this node's pool (admin; ECDSA keys).
    Presign {
        /// The key id (or a unique prefix of at least 4 hex digits).
        #[schema(pattern = "^[0-9a-fA-F]{4,128}$")]
        key_id: String,
    },
    /// New shares of a key on every node (admin), as `POST /keys/{id}/rotate`.
    Refresh {
        /// The key id (or a unique prefix of at least 4 hex digits).
        #[schema(pattern = "^[0-9a-fA-F]{4,128}$")]
        key_id: String,
    },
}

/// Starts a session as a job and answers 202 with it (or, with `?wait=`, the job once
/// over if it is over by then); follow it at `GET /sessions/{id}`.
#[utoipa::path(post, path = "/sessions", tag = "sessions", params(WaitQuery), request_body = SessionRequest, responses((status = 202, description = "started: follow the job at GET /sessions/{id}", body = Envelope<Job>), (status = 200, description = "over within `wait`", body = Envelope<Job>), (status = 201, description = "a key generation over within `wait`", body = Envelope<Job>), (status = 503, description = "not now: `primes_needed` (an ECDSA key among a new set of nodes needs a set of Paillier primes in every node's pool: `mpc primes`, or `--prime-pool`), `not_enough_nodes` (a node is not reachable) or `busy`", body = Failed)))]
pub(super) async fn start_session(
    State(node): State<Shared>,
    Extension(rid): Extension<RequestId>,
    audit: Audit,
    // Every kind needs at least `sign`: a read token is refused before its body is
    // read, as on `/sign`.
    Authorized(caller, _): Authorized<Signs>,
    q: Result<Query<WaitQuery>, QueryRejection>,
    ApiJson(req): ApiJson<SessionRequest>,
) -> Answer<serde_json::Value> {
    let request_id = rid.0;
    // Answered (202 at the latest) before the request's own time runs out.
    let wait = waiting(q, Duration::ZERO)?.min(node.config.request_budget());
    let job = match req {
        SessionRequest::Keygen(k) => {
            caller.require_unlimited(Scope::Admin)?;
            node.keygen_parties(&k)?;
            run_job(&node, "keygen", None, wait, 201, move |n| keygen_job(n, k)).await
        }
        SessionRequest::Sign(s) => {
            caller.require(Scope::Sign)?;
            let message = decode_message(&s.message, s.encoding)?;
            audit.digest(message_digest(&message));
            let key = allowed_key(&node, &caller, s.key_id.clone()).await?;
            let key_id = Some(key.id.clone());
            run_job(&node, "sign", key_id, wait, 200, move |n| async move {
                let signed = n.sign(&key, message, s.hash, s.path, &request_id).await?;
                serde_json::to_value(signed).map_err(ApiError::internal)
            })
            .await
        }
        SessionRequest::Presign { key_id } => {
            caller.require(Scope::Admin)?;
            let key = allowed_key(&node, &caller, key_id).await?;
            let key_id = Some(key.id.clone());
            run_job(&node, "presign", key_id, wait, 200, move |n| async move {
                Ok(n.presign_now(&key).await?)
            })
            .await
        }
        SessionRequest::Refresh { key_id } => {
            caller.require(Scope::Admin)?;
            let key = allowed_key(&node, &caller, key_id).await?;
            let key_id = Some(key.id.clone());
            run_job(&node, "refresh", key_id, wait, 200, move |n| async move {
                let r = rotated(n, key, request_id).await?;
                serde_json::to_value(r).map_err(ApiError::internal)
            })
            .await
        }
    }?;
    job_answer(&audit, job, false)
}

pub(super) fn session_info(r: &crate::store::db::SessionRecord) -> SessionEntry {
    SessionEntry::Stored(SessionInfo {
        id: r.id.clone(),
        kind: r.kind.clone(),
        status: r.status.as_str().into(),
        state: r.state.clone(),
        waiting: r.waiting.clone(),
        culprits: r.culprits.clone(),
        result: r
            .result
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok()),
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

#[utoipa::path(get, path = "/sessions", tag = "sessions", responses((status = 200, description = "this node's sessions", body = Envelope<SessionList>)))]
pub(super) async fn list_sessions(
    State(node): State<Shared>,
    Authorized(caller, _): Authorized<Reads>,
) -> Answer<SessionList> {
    let sessions = blocking(move || {
        // Sessions waiting for an operator first: they are what one looks for here.
        // A token limited to keys sees the sessions of those keys only.
        let mut all: Vec<SessionEntry> = node
            .approvals
            .list()
            .into_iter()
            .filter(|a| caller.sees_session_of(Some(&a.key_id)))
            .map(SessionEntry::Waiting)
            .chain(
                node.jobs
                    .list()
                    .into_iter()
                    .filter(|j| caller.sees_session_of(j.key_id.as_deref()))
                    .take(100)
                    .map(SessionEntry::Job),
            )
            .collect();
        let rows = node
            .db()
            .sessions_matching("", false)
            .map_err(ApiError::store)?;
        all.extend(
            rows.iter()
                .filter(|r| caller.sees_session_of(row_key(r).as_deref()))
                .take(100)
                .map(session_info),
        );
        Ok(all)
    })
    .await?;
    Ok(Data::ok(SessionList { sessions }))
}

#[utoipa::path(get, path = "/sessions/{id}", tag = "sessions", params(("id" = String, Path, description = "the session id, or a unique prefix of it (at least 4 hex digits)", pattern = "^[0-9a-fA-F]{4,128}$")), responses((status = 200, description = "the session", body = Envelope<SessionEntry>)))]
pub(super) async fn show_session(
    State(node): State<Shared>,
    audit: Audit,
    Authorized(caller, _): Authorized<Reads>,
    Path(id): Path<String>,
) -> Answer<SessionEntry> {
    audit.session(&id);
    blocking(move || {
        let id = crate::serve::id_prefix(&id, "session")?;
        let (entry, key) = if let Some(waiting) = node.approvals.find(&id)? {
            let key = Some(waiting.key_id.clone());
            (SessionEntry::Waiting(waiting), key)
        } else if let Some(job) = node.jobs.find(&id)? {
            let key = job.key_id.clone();
            (SessionEntry::Job(job), key)
        } else {
            let row = session_row(&node, &id)?;
            (session_info(&row), row_key(&row))
        };
        // Another key's session is not this token's to see, nor to know of.
        if !caller.sees_session_of(key.as_deref()) {
            return Err(no_session(&id));
        }
        Ok(entry)
    })
    .await
    .map(Data::ok)
}

/// The 404 of a session that is not here (or not the caller's to see).
fn no_session(id: &str) -> ApiError {
    ApiError::new(
        404,
        "session_not_found",
        format!("no session {id} on this node"),
    )
}

/// The key a stored session is about (`None` for a key generation).
fn row_key(r: &crate::store::db::SessionRecord) -> Option<String> {
    let plan: crate::plan::Plan = serde_json::from_str(&r.plan).ok()?;
    plan.key().map(|(id, _)| id.to_string())
}

/// The key of the session `id` (a prefix) waiting or journaled here (a running
/// session is journaled from its start), for the key limit of a token: `Err` 404
/// when there is no such session.
fn session_key(node: &Node, id: &str) -> Result<Option<String>, ApiError> {
    if let Some(waiting) = node.approvals.find(id)? {
        return Ok(Some(waiting.key_id));
    }
    session_row(node, id).map(|r| row_key(&r))
}

/// The session `id` (or a unique prefix) in this node's database.
pub(super) fn session_row(
    node: &Node,
    id: &str,
) -> Result<crate::store::db::SessionRecord, ApiError> {
    let mut rows = node
        .db()
        .sessions_matching(id, false)
        .map_err(ApiError::store)?;
    match rows.len() {
        1 => Ok(rows.remove(0)),
        0 => Err(no_session(id)),
        n => Err(ApiError::new(
            400,
            "ambiguous_session",
            format!("{n} sessions start with {id}"),
        )),
    }
}

/// `POST /sessions/{id}/join` (admin): approves a session waiting for this node's
/// operator (a key whose policy here is `approval`).
#[utoipa::path(post, path = "/sessions/{id}/join", tag = "sessions", params(("id" = String, Path, description = "the session id, or a unique prefix of it (at least 4 hex digits)", pattern = "^[0-9a-fA-F]{4,128}$")), responses((status = 200, description = "approved", body = Envelope<SessionAnswer>)))]
pub(super) async fn join_session(
    State(node): State<Shared>,
    audit: Audit,
    Authorized(caller, _): Authorized<Administers>,
    Path(id): Path<String>,
) -> Answer<SessionAnswer> {
    answer_session(node, audit, caller, id, true).await
}

/// `POST /sessions/{id}/cancel` (admin): refuses a session waiting for approval, or
/// stops one running on this node (its secret state is destroyed; the other members
/// are told).
#[utoipa::path(post, path = "/sessions/{id}/cancel", tag = "sessions", params(("id" = String, Path, description = "the session id, or a unique prefix of it (at least 4 hex digits)", pattern = "^[0-9a-fA-F]{4,128}$")), responses((status = 200, description = "cancelled", body = Envelope<SessionAnswer>)))]
pub(super) async fn cancel_session(
    State(node): State<Shared>,
    audit: Audit,
    Authorized(caller, _): Authorized<Administers>,
    Path(id): Path<String>,
) -> Answer<SessionAnswer> {
    answer_session(node, audit, caller, id, false).await
}

pub(super) async fn answer_session(
    node: Shared,
    audit: Audit,
    caller: Caller,
    id: String,
    approve: bool,
) -> Answer<SessionAnswer> {
    use crate::serve::approval::Verdict;
    audit.session(&id);
    let token = caller.0.id.clone();
    let answer = blocking(move || {
        let id = crate::serve::id_prefix(&id, "session")?;
        if caller.0.keys.is_some() && !caller.sees_session_of(session_key(&node, &id)?.as_deref()) {
            return Err(no_session(&id));
        }
        let verdict = if approve {
            Verdict::Approved(token.clone())
        } else {
            Verdict::Cancelled(token.clone())
        };
        if let Some(asked) = node.approvals.answer(&id, verdict)? {
            let status = if approve { "approved" } else { "cancelled" };
            crate::serve::log(&format!(
                "session {} {status} by token {token}",
                &asked.id[..16]
            ));
            return Ok(SessionAnswer {
                id: asked.id,
                key_id: Some(asked.key_id),
                status: status.into(),
            });
        }
        if !approve
            && let Some(sid) = node.cluster.cancel(
                &id,
                format!(
                    "an operator of node {} cancelled it (token {token})",
                    node.cluster.me.name
                ),
            )?
        {
            crate::serve::log(&format!(
                "session {} cancelled by token {token}",
                &sid[..16]
            ));
            return Ok(SessionAnswer {
                id: sid,
                key_id: None,
                status: "cancelled".into(),
            });
        }
        let row = session_row(&node, &id)?;
        Err(ApiError::new(
            409,
            if approve {
                "not_awaiting_approval"
            } else {
                "not_running"
            },
            format!(
                "session {} is {} on this node; only a session {} can be {}",
                row.id,
                row.status.as_str(),
                if approve {
                    "waiting for approval"
                } else {
                    "waiting or running"
                },
                if approve { "joined" } else { "cancelled" }
            ),
        ))
    })
    .await?;
    audit.session(&answer.id);
    if let Some(key) = &answer.key_id {
        audit.key(key);
    }
    Ok(Data::ok(answer))
}
