//! The HTTP API of a node (DESIGN.md "HTTP API").
//!
//! Every response under `/api/v1` and `/health` is the envelope
//! `{"success", "data", "error": {"code", "message", "details"}, "meta": {"request_id",
//! "timestamp"}}`. Requests under `/api/v1` need a bearer token; each is written to the audit chain (request id, token id, route, status, key,
//! session, message digest) before its response leaves, so no signature is returned
//! without its audit row.

use super::jobs::Job;
use super::node::Signed;
use super::node::{
    BatchRequest, KeygenRequest, MessageEncoding, Node, SignRequest, decode_message,
};
use super::schema::{
    Envelope, Failed, KeyList, Live, Meta, NodeHealth, NodeInfo, NodeList, OwnHealth, Ready,
    Rotated, SessionAnswer, SessionEntry, SessionInfo, SessionList, Signatures, Verified,
};
use super::tokens::{self, Scope, TokenRecord};
use super::{ApiError, policy};
use crate::ceremony::Outcome;
use crate::plan::{HashMode, digest_of};
use crate::pubkey;
use crate::scheme::Scheme;
use crate::store::db::KeyRecord;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Extension, MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;

/// The largest request body.
pub const MAX_BODY: usize = 2 << 20;

/// The request id: the client's `x-request-id` when it is short and plain, else fresh.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Who called: the token's record.
#[derive(Clone, Debug)]
pub struct Caller(pub TokenRecord);

impl Caller {
    fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.0.scope >= scope {
            Ok(())
        } else {
            Err(ApiError::new(
                403,
                "forbidden",
                format!(
                    "this token's scope is `{}`; this needs `{}`",
                    self.0.scope.as_str(),
                    scope.as_str()
                ),
            ))
        }
    }

    fn require_key(&self, key_id: &str) -> Result<(), ApiError> {
        if self.0.allows_key(key_id) {
            Ok(())
        } else {
            Err(ApiError::new(
                403,
                "forbidden",
                format!("this token may not use key {key_id}"),
            ))
        }
    }
}

/// What a handler adds to its request's audit row.
#[derive(Clone, Debug, Default)]
struct AuditNote {
    key: Option<String>,
    session: Option<String>,
    digest: Option<String>,
}

type Shared = Arc<Node>;

/// The router of `node`: `/health/*` and `/api/v1/*`.
pub fn router(node: Shared, request_timeout: Duration) -> Router {
    let max_requests = node.config.max_requests.max(1);
    let (api, _) = self::routes().split_for_parts();
    let document = Arc::new(document());
    let api = api
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            node.clone(),
            authenticate_and_audit,
        ));
    Router::new()
        .nest("/api/v1", api)
        .route(
            "/api/v1/openapi.json",
            get(move || std::future::ready(Json(Arc::clone(&document)))),
        )
        .route("/health/live", get(live))
        .route("/metrics", get(metrics_text))
        .route("/health/ready", get(ready))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        // More requests in flight than the node takes: 503 at once, not a queue; a
        // request that outlasts the timeout: 504. Both in the envelope.
        .layer(
            tower::ServiceBuilder::new()
                .layer(axum::error_handling::HandleErrorLayer::new({
                    let node = Arc::clone(&node);
                    move |Extension(rid): Extension<RequestId>,
                          method: axum::http::Method,
                          uri: axum::http::Uri,
                          e: tower::BoxError| {
                        refused_by_layer(Arc::clone(&node), rid, method, uri, e)
                    }
                }))
                .timeout(request_timeout)
                .load_shed()
                .concurrency_limit(max_requests),
        )
        .layer(middleware::from_fn(request_id))
        .with_state(node)
}

/// Every route under `/api/v1`, with the OpenAPI document made from their
/// annotations: a route cannot be served without being documented.
pub fn routes() -> OpenApiRouter<Shared> {
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(list_keys, create_key))
        .routes(routes!(show_key, update_key, delete_key))
        .routes(routes!(rotate_key))
        .routes(routes!(sign))
        .routes(routes!(sign_batch))
        .routes(routes!(verify))
        .routes(routes!(list_nodes, add_node))
        .routes(routes!(show_node, remove_node))
        .routes(routes!(node_health))
        .routes(routes!(list_sessions, start_session))
        .routes(routes!(show_session))
        .routes(routes!(join_session))
        .routes(routes!(cancel_session))
}

/// The OpenAPI document of `/api/v1` (`GET /api/v1/openapi.json`).
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = <super::schema::Frame as utoipa::OpenApi>::openapi();
    doc.merge(
        OpenApiRouter::<Shared>::new()
            .nest("/api/v1", self::routes())
            .into_openapi(),
    );
    doc
}

fn meta(rid: &str) -> Meta {
    Meta {
        request_id: rid.to_string(),
        timestamp: crate::clock::format_time(crate::clock::now()),
    }
}

/// A success in the envelope.
fn ok(status: StatusCode, data: impl Serialize, rid: &RequestId) -> Response {
    let body = Envelope {
        success: true,
        data: Some(data),
        error: None,
        meta: meta(&rid.0),
    };
    (status, Json(body)).into_response()
}

/// A failure in the envelope.
fn fail(e: ApiError, rid: &str) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body: Failed = Envelope {
        success: false,
        data: None,
        error: Some(e),
        meta: meta(rid),
    };
    let mut r = (status, Json(body)).into_response();
    if status == StatusCode::TOO_MANY_REQUESTS {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    r
}

/// A handler's result: data, or a failure; both in the envelope.
struct Reply {
    rid: String,
    result: Result<(StatusCode, serde_json::Value), ApiError>,
    note: AuditNote,
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut r = match self.result {
            Ok((status, data)) => ok(status, data, &RequestId(self.rid)),
            Err(e) => fail(e, &self.rid),
        };
        r.extensions_mut().insert(self.note);
        r
    }
}

fn reply<T: Serialize>(rid: &RequestId, result: Result<T, ApiError>) -> Reply {
    Reply {
        rid: rid.0.clone(),
        result: result.and_then(|d| {
            serde_json::to_value(d)
                .map(|v| (StatusCode::OK, v))
                .map_err(ApiError::internal)
        }),
        note: AuditNote::default(),
    }
}

/// A key's answer, with the key in its audit row.
fn reply_key(rid: &RequestId, result: Result<KeyInfo, ApiError>) -> Reply {
    let key = result.as_ref().ok().map(|k| k.id.clone());
    let mut r = reply(rid, result);
    r.note.key = key;
    r
}

/// Sets the request id on the request (for handlers) and the response header.
async fn request_id(mut req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_string);
    let rid = given.unwrap_or_else(|| {
        let mut b = [0u8; 12];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
        hex::encode(b)
    });
    req.extensions_mut().insert(RequestId(rid.clone()));
    let mut res = next.run(req).await;
    if let Ok(v) = HeaderValue::from_str(&rid) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

/// Checks the bearer token, runs the handler, and writes the request's audit row
/// before the response leaves.
async fn authenticate_and_audit(
    State(node): State<Shared>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = std::time::Instant::now();
    let rid = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let route = format!(
        "{} {}",
        req.method(),
        req.extensions()
            .get::<MatchedPath>()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| req.uri().path().to_string())
    );
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| zeroize::Zeroizing::new(t.trim().to_string()));
    let checked = match presented {
        None => Err(ApiError::new(
            401,
            "unauthorized",
            "a bearer token is needed (Authorization: Bearer mpc_...)",
        )),
        Some(token) => {
            let n = node.clone();
            tokio::task::spawn_blocking(move || tokens::check(&n.db(), &token))
                .await
                .map_err(ApiError::internal)
                .and_then(|r| r.map_err(|e| ApiError::new(401, "unauthorized", e.to_string())))
        }
    };
    let checked = checked.and_then(|rec| {
        let Some(limiter) = &node.limiter else {
            return Ok(rec);
        };
        limiter
            .check_key(&rec.id)
            .map(|_| rec)
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(governor::clock::Clock::now(
                    &governor::clock::DefaultClock::default(),
                ));
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                ApiError::new(
                    429,
                    "rate_limited",
                    "this token made too many requests; try again later",
                )
                .details(serde_json::json!({"retry_after_secs": secs.max(1)}))
            })
    });
    let (res, token_id) = match checked {
        Ok(rec) => {
            let id = rec.id.clone();
            req.extensions_mut().insert(Caller(rec));
            (next.run(req).await, Some(id))
        }
        Err(e) => (fail(e, &rid), None),
    };
    super::metrics::request(
        &route,
        res.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    let note = res
        .extensions()
        .get::<AuditNote>()
        .cloned()
        .unwrap_or_default();
    let status = res.status().as_u16();
    let detail = serde_json::json!({
        "request_id": rid,
        "token": token_id,
        "status": status,
        "key": note.key,
        "session": note.session,
        "message_sha256": note.digest,
    });
    // Should the request's time run out while the row is written, the layer that
    // answers 504 sees that the row is on its way and writes none of its own.
    super::lock(&node.auditing).insert(rid.clone());
    let written = node.audit.write_async("api", &route, detail).await;
    super::lock(&node.auditing).remove(&rid);
    match written {
        Ok(()) => res,
        // The audit row is the condition for answering: without it, nothing leaves.
        Err(e) => fail(
            ApiError::internal(format!("the audit row was not written: {e}")),
            &rid,
        ),
    }
}

/// A JSON body, or the failure that says what is wrong with it.
fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    match b {
        Ok(Json(v)) => Ok(v),
        Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
            415,
            "unsupported_media_type",
            "the body must be JSON (Content-Type: application/json)",
        )),
        Err(JsonRejection::BytesRejection(e)) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Err(ApiError::new(
                413,
                "too_large",
                format!("the body is larger than {MAX_BODY} bytes"),
            ))
        }
        Err(e) => Err(ApiError::new(400, "bad_request", e.body_text())),
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
}

/// The answer to a request the timeout or the load shedding stopped, with its audit
/// row (an API request the handler never finished has none otherwise; the token is
/// not known here, or not yet checked).
async fn refused_by_layer(
    node: Shared,
    rid: RequestId,
    method: axum::http::Method,
    uri: axum::http::Uri,
    e: tower::BoxError,
) -> Response {
    let err = refusal(e);
    if uri.path().starts_with("/api/v1/") && !super::lock(&node.auditing).remove(&rid.0) {
        let detail = serde_json::json!({
            "request_id": rid.0,
            "token": null,
            "status": err.status,
            "key": null,
            "session": null,
            "message_sha256": null,
        });
        let route = format!("{method} {}", uri.path());
        super::metrics::request(&route, err.status, 0.0);
        if let Err(e) = node.audit.write_async("api", &route, detail).await {
            return fail(
                ApiError::internal(format!("the audit row was not written: {e}")),
                &rid.0,
            );
        }
    }
    fail(err, &rid.0)
}

fn refusal(e: tower::BoxError) -> ApiError {
    if e.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(
            504,
            "timed_out",
            "the request took longer than the node allows",
        )
    } else if e.is::<tower::load_shed::error::Overloaded>() {
        ApiError::new(
            503,
            "overloaded",
            "the node has too many requests in flight; try again shortly",
        )
    } else {
        ApiError::internal(e)
    }
}

async fn not_found(Extension(rid): Extension<RequestId>) -> Response {
    fail(ApiError::new(404, "not_found", "no such route"), &rid.0)
}

async fn method_not_allowed(Extension(rid): Extension<RequestId>) -> Response {
    fail(
        ApiError::new(
            405,
            "method_not_allowed",
            "this route does not take that method",
        ),
        &rid.0,
    )
}

async fn metrics_text(State(node): State<Shared>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        super::metrics::render(&node),
    )
        .into_response()
}

async fn live(Extension(rid): Extension<RequestId>) -> Response {
    let live = Live {
        status: "live".into(),
    };
    ok(StatusCode::OK, live, &rid)
}

async fn ready(State(node): State<Shared>, Extension(rid): Extension<RequestId>) -> Response {
    let bus = node.cluster.bus();
    let linked = bus.as_ref().is_none_or(|b| b.connected());
    let data = Ready {
        identity: "unlocked".into(),
        bus: match &bus {
            None => "none".to_string(),
            Some(b) if b.connected() => "connected".into(),
            Some(b) => b.trouble().unwrap_or_else(|| "down".into()),
        },
        sessions: node.running(),
    };
    if linked {
        ok(StatusCode::OK, data, &rid)
    } else {
        fail(
            ApiError::new(503, "not_ready", "the bus link is down")
                .details(serde_json::to_value(data).unwrap_or_default()),
            &rid.0,
        )
    }
}

/// A key as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyInfo {
    /// Key id.
    pub id: String,
    /// Scheme id.
    pub scheme: String,
    /// The public key in the scheme's standard form, hex.
    pub public_key: String,
    /// t.
    pub threshold: u16,
    /// n.
    pub n: u16,
    /// The nodes holding shares, in key order.
    pub parties: Vec<String>,
    /// Label.
    pub label: String,
    /// Status.
    pub status: crate::store::db::KeyStatus,
    /// This node's policy for the key.
    pub policy: policy::Policy,
    /// This node's metadata for the key (a JSON object).
    pub metadata: serde_json::Value,
    /// The key's address on each chain its scheme has one on (`mpc keys address`;
    /// Cosmos with the `cosmos` prefix).
    pub addresses: std::collections::BTreeMap<String, String>,
    /// Unix seconds.
    pub created_at: u64,
}

fn key_info(node: &Node, k: &KeyRecord) -> Result<KeyInfo, ApiError> {
    let scheme: Scheme = k.scheme.parse().map_err(ApiError::internal)?;
    let raw = hex::decode(&k.public_key).map_err(ApiError::internal)?;
    let db = node.db();
    Ok(KeyInfo {
        id: k.id.clone(),
        scheme: k.scheme.clone(),
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
        policy: policy::get(&db, &k.id).map_err(ApiError::store)?,
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

#[utoipa::path(get, path = "/keys", tag = "keys", security(("bearer" = [])), responses((status = 200, description = "the keys this node holds a share of", body = Envelope<KeyList>), (status = "4XX", description = "refused: the envelope's `error` says why", body = Failed), (status = "5XX", description = "failed, overloaded, unreachable or timed out", body = Failed)))]
async fn list_keys(
    State(node): State<Shared>,
    Extension(rid): Extension<RequestId>,
    Extension(caller): Extension<Caller>,
) -> Reply {
    let result = async {
        caller.require(Scope::Read)?;
        blocking(move || {
            let keys = node.db().keys().map_err(ApiError::store)?;
            keys.iter()
                .filter(|k| caller.0.allows_key(&k.id))
                .map(|k| key_info(&node, k))
                .collect::<Result<Vec<_>, _>>()
        })
        .await
    }
    .await;
    reply(&rid, result.map(|keys| KeyList { keys }))
}

#[utoipa::path(get, path = "/keys/{id}", tag = "keys", security(("bearer" = [])), params(("id" = String, Path, description = "the key id, or a unique prefix of it")), responses((status = 200, description = "the key", body = Envelope<KeyInfo>), (status = "4XX", description = "refused: the envelope's `error` says why", body = Failed), (status = "5XX", description = "failed, overloaded, unreachable or timed out", body = Failed)))]
async fn show_key(
    State(node): State<Shared>,
    Extension(rid): Extension<RequestId>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Reply {
    let result = async {
        caller.require(Scope::Read)?;
        blocking(move || {
            let k = node.key(&id)?;
            caller.require_key(&k.id)?;
            key_info(&node, &k)
        })
        .await
    }
    .await;
    reply_key(&rid, result)
}

/// `PUT /keys/{id}`: what is given is replaced, on this node.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyUpdate {
    /// A name for people (at most 200 characters, no control characters).
    #[serde(default)]
    pub label: Option<String>,
    /// A JSON object for programs (at most 16 KiB as JSON).
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
    /// This node's policy for the key.
    #[serde(default)]
    pub policy: Option<policy::Policy>,
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

#[utoipa::path(put, path = "/keys/{id}", tag = "keys", security(("bearer" = [])), params(("id" = String, Path, description = "the key id, or a unique prefix of it")), request_body = KeyUpdate, responses((status = 200, description = "the key, changed", body = Envelope<KeyInfo>), (status = "4XX", description = "refused: the envelope's `error` says why", body = Failed), (status = "5XX", description = "failed, overloaded, unreachable or timed out", body = Failed)))]
async fn update_key(
    State(node): State<Shared>,
    Extension(rid): Extension<RequestId>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    b: Result<Json<KeyUpdate>, JsonRejection>,
) -> Reply {
    let result = async {
        caller.require(Scope::Admin)?;
        let update: KeyUpdate = body(b)?;
        update.check()?;
        blocking(move || {
            let k = node.key(&id)?;
            caller.require_key(&k.id)?;
            {
                let mut db = node.db();
                if let Some(label) = &update.label {
                    db.set_key_label(&k.id, label).map_err(ApiError::store)?;
                }
                if let Some(m) = &update.metadata {
                    db.set_key_metadata(&k.id, m).map_err(ApiError::store)?;
                }
                if let Some(p) = &update.policy {
                    policy::set(&mut db, &k.id, p).map_err(ApiError::store)?;
                }
            }
            key_info(&node, &node.key(&k.id)?)
        })
        .await
    }
    .await;
    reply_key(&rid, result)
}

/// `DELETE /keys/{id}` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    /// How long from now this node's share may be destroyed (`mpc delete --purge`), in
    /// humantime form (`30d`, the default, `12h`).
    #[serde(default)]
    pub after: Option<String>,
    /// Why (kept in the audit log).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Schedules the deletion of this node's share of a key, as `mpc delete` does: the key
/// stops signing here at once; the share is destroyed by `mpc delete --purge` after the
/// date. The other nodes decide for their own shares.
#[utoipa::path(delete, path = "/keys/{id}", tag = "keys", security(("bearer" = [])), params(("id" = String, Path, description = "the key id, or a unique prefix of it"), DeleteQuery), responses((status = 200, description = "this node's share is scheduled for deletion", body = Envelope<KeyInfo>), (status = "4XX", description = "refused: the envelope's `error` says why", body = Failed), (status = "5XX", description = "failed, overloaded, unreachable or timed out", body = Failed)))]
async fn delete_key(
    State(node): State<Shared>,
    Extension(rid): Extension<RequestId>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    q: Result<Query<DeleteQuery>, QueryRejection>,
) -> Reply {
    let result = async {
        caller.require(Scope::Admin)?;
        let Query(q) = q.map_err(|e| ApiError::new(400, "bad_request", e.body_text()))?;
        let after = match q.after.as_deref() {
            None => Duration::from_secs(30 * 24 * 3600),
            Some(a) => humantime::parse_duration(a)
                .map_err(|e| ApiError::new(400, "bad_request", format!("`after`: {e}")))?,
        };
        blocking(move || {
            let k = node.key(&id)?;
            caller.require_key(&k.id)?;
            let at = crate::clock::now() + after.as_secs();
            let mut db = node.db();
            crate::lifecycle::apply(
                &mut db,
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
            let k = node_key_after(&db, &k.id)?;
            drop(db);
            key_info(&node, &k)
        })
        .await
    }
    .await;
    reply_key(&rid, result)
}

fn node_key_after(db: &crate::store::db::Db, id: &str) -> Result<KeyRecord, ApiError> {
    db.key(id)
        .map_err(ApiError::store)?
        .ok_or_else(|| ApiError::internal("a key vanished while it was changed"))
}

#[utoipa::path(post, path = "/keys", tag = "keys", security(("bearer" = [])), params(WaitQuery), request_body = KeygenRequest, responses((status = 201, description = "every node holds its share", body = Envelope<KeyInfo>), (status = 202, description = "still running after `wait`: follow the job at GET /sessions/{id}", body = Envelope<Job>), (status = "4XX", description = "refused: the envelope's `error` says why", body = Failed), (status = "5XX", description = "failed, overloaded, unreachable or timed out", body = Failed)))]
async fn create_key(
    State(node): State<Shared>,
    Extension(rid): Extension<RequestId>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<WaitQuery>, QueryRejection>,
    b: Result<Json<KeygenRequest>, JsonRejection>,
) -> Reply {
    let result = async {
        caller.require(Scope::Admin)?;
        let wait = waiting(q, KEYGEN_WAIT)?.min(node.config.request_budget());
        let req = body(b)?;
        blocking(move || run_job(&node, "keygen", wait, 201, move |n| keygen_job(n, &req))).await
    }
    .await;
    job_reply(&rid, result, true)
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
    pub wait: Option<String>,
}

fn waiting(
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
fn keygen_job(node: &Node, req: &KeygenRequest) -> Result<serde_json::Value, ApiError> {
    let Outcome::Keygen { key_id, .. } = node.keygen(req)? else {
        return Err(ApiError::internal(
            "a key generation ended with another kind of result",
        ));
    };
    let info = key_info(node, &node.key(&key_id)?)?;
    serde_json::to_value(info).map_err(ApiError::internal)
}

/// Runs `work` as a job of `kind` on a thread of its own and waits up to `wait` for it;
/// the job as it stands then. `ok` is the status its success answers with.
fn run_job(
    node: &Shared,
    kind: &str,
    wait: Duration,
    ok: u16,
    work: impl FnOnce(&Node) -> Result<serde_json::Value, ApiError> + Send + 'static,
) -> Result<Job, ApiError> {
    let id = node.jobs.start(kind);
    let (tx, rx) = std::sync::mpsc::channel();
    let (n, jid) = (Arc::clone(node), id.clone());
    let started = std::thread::Builder::new()
        .name("mpc-job".into())
        .spawn(move || {
            let r = work(&n);
            n.jobs.finish(&jid, ok, r);
            let _ = tx.send(());
        });
    if let Err(e) = started {
        let e = ApiError::new(503, "busy", format!("cannot start a thread: {e}"));
        node.jobs.finish(&id, ok, Err(e.clone()));
        return Err(e);
    }
    let _ = rx.recv_timeout(wait);
    node.jobs
        .find(&id)?
        .ok_or_else(|| ApiError::internal("a job vanished"))
}

/// A job's answer: 202 with the job while it runs; once over, its failure, or (with
/// `result`) what it made, else the job.
fn job_reply(rid: &RequestId, job: Result<Job, ApiError>, result: bool) -> Reply {
    let mut note = AuditNote::default();
    let answer = job.and_then(|j| {
        note.session = Some(j.id.clone());
        if let Some(r) = &j.result {
            note.key = r["id"]
                .as_str()
                .or(r["key_id"].as_str())
                .map(str::to_string);
        }
        match (j.status.as_str(), &j.error) {
            ("running", _) => Ok((StatusCode::ACCEPTED, serde_json::to_value(&j))),
            (_, Some(e)) => Err(e.clone()),
            _ => {
                let status =
                    StatusCode::from_u16(j.http_status.unwrap_or(200)).unwrap_or(StatusCode::OK);
                let body = match result {
                    true => Ok(j.result.clone().unwrap_or_default()),
                    false => serde_json::to_value(&j),
                };
                Ok((status, body))
            }
        }
    });
    let mut r = Reply {
        rid: rid.0.clone(),
        result: answer.and_then(|(s, v)| v.map(|v| (s, v)).map_err(ApiError::internal)),
        note: AuditNote::default(),
    };
    r.note = note;
    r
}

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
        /// The key id (or a unique prefix).
        key_id: String,
    },
    /// New shares of a key on every node (admin), as `POST /keys/{id}/rotate`.
    Refresh {
        /// The key id (or a unique prefix).
        key_id: String,
    },
}

/// Starts a session as a job and answers 202 with it (or, with `?wait=`, the job once
/// over if it is over by then); follow it at `GET /sessions/{id}`.
#[utoipa::path(post, path = "/sessions", tag = "sessions", security(("bearer" = [])), params(WaitQuery), request_body = SessionRequest, responses((status = 202, description = "started: follow the job at GET /sessions/{id}", body = Envelope<Job>), (status = 200, description = "over within `wait`", body = Envelope<Job>), (status = 201, description = "a key generation over within `wait`", body = Envelope<Job>), (status = "4XX", description = "refused: the envelope's `error` says why", body = Failed), (status = "5XX", description = "failed, overloaded, unreachable or timed out", body = Failed)))]
async fn start_session(
    State(node): State<Shared>,
    Extension(rid): Extension<RequestId>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<WaitQuery>, QueryRejection>,
    b: Result<Json<SessionRequest>, JsonRejection>,
) -> Reply {
    let request_id = rid.0.clone();
    let mut digest = None;
    let result = async {
        // Answered (202 at the latest) before the request's own time runs out.
        let wait = waiting(q, Duration::ZERO)?.min(node.config.request_budget());
        let req: SessionRequest = body(b)?;
        match req {
            SessionRequest::Keygen(k) => {
                caller.require(Scope::Admin)?;
                blocking(move || run_job(&node, "keygen", wait, 201, move |n| keygen_job(n, &k)))
                    .await
            }
            SessionRequest::Sign(s) => {
                caller.require(Scope::Sign)?;
                let message = decode_message(&s.message, s.encoding)?;
                digest = Some(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
                    &message,
                )));
                blocking(move || {
                    let key = node.key(&s.key_id)?;
                    caller.require_key(&key.id)?;
                    run_job(&node, "sign", wait, 200, move |n| {
                        let signed = n.sign(&key, message, s.hash, s.path, &request_id)?;
                        serde_json::to_value(signed).map_err(ApiError::internal)
                    })
                })
                .await
            }
            SessionRequest::Presign { key_id } => {
                caller.require(Scope::Admin)?;
                blocking(move || {
                    let key = node.key(&key_id)?;
                    caller.require_key(&key.id)?;
                    run_job(&node, "presign", wait, 200, move |n| n.presign_now(&key))
                })
                .await
            }
            SessionRequest::Refresh { key_id } => {
                caller.require(Scope::Admin)?;
                blocking(move || {
                    let key = node.key(&key_id)?;
                    caller.require_key(&key.id)?;
                    run_job(&node, "refresh", wait, 200, move |n| {
                        let words = n
                            .rotate(&key, &request_id)?
                            .transcript_words()
                            .map_err(ApiError::internal)?;
                        let rotated = Rotated {
                            key: key_info(n, &n.key(&key.id)?)?,
                            transcript_words: words,
                        };
                        serde_json::to_value(rotated).map_err(ApiError::internal)
                    })
                })
                .await
            }
        }
    }
    .await;
    let mut r = job_reply(&rid, result, false);
    r.note.digest = digest;
    r
}

/// `POST /keys/{id}/rotate` (admin): new shares of the same key on every node that
/// holds one (all must be up); 409 `cannot_rotate` where the scheme does not allow it.
#[utoipa::path(post, path = "/keys/{id}/rotate", tag = "keys", security(("bearer" = [])), params(("id" = String, Path, description = "the key id, or a unique prefix of it")), responses((status = 200, description = "every node holds a new share of the same key", body = Envelope<Rotated>), (status = "4XX", description = "refused: the envelope's `error` says why", body = Failed), (status = "5XX", description = "failed, overloaded, unreachable or timed out", body = Failed)))]
async fn rotate_key(
    State(node): State<Shared>,
    Extension(rid): Extension<RequestId>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Reply {
    let request_id = rid.0.clone();
    let result = async {
        caller.require(Scope::Admin)?;
        blocking(move || {
            let k = node.key(&id)?;
            caller.require_key(&k.id)?;
            let outcome = node.rotate(&k, &request_id)?;
            let words = outcome.transcript_words().map_err(ApiError::internal)?;
            Ok(Rotated {
                key: key_info(&node, &node.key(&k.id)?)?,
                transcript_words: words,
            })
        })
        .await
    }
    .await;
    let key = result.as_ref().ok().map(|r| r.key.id.clone());
    let mut r = reply(&rid, result);
    r.note.key = key;
    r
}

/// A signing request's common part: the scope, the key (looked up once, and the
/// token's limit on it), the messages (decoded once) with their digests and the session
/// in the audit row; `run` signs on a blocking thread and says which session it used.
async fn signing<T: Serialize + Send + 'static>(
    node: Shared,
    rid: &RequestId,
    caller: Caller,
    key_id: String,
    messages: Result<Vec<Vec<u8>>, ApiError>,
    run: impl FnOnce(&Shared, KeyRecord, Vec<Vec<u8>>) -> Result<T, ApiError> + Send + 'static,
    session_of: impl Fn(&T) -> Option<String>,
) -> Reply {
    let mut note = AuditNote::default();
    let result = async {
        caller.require(Scope::Sign)?;
        let messages = messages?;
        let digests: Vec<String> = messages
            .iter()
            .map(|m| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(m)))
            .collect();
        note.digest = Some(digests.join(","));
        let n = node.clone();
        let key = blocking(move || n.key(&key_id)).await?;
        note.key = Some(key.id.clone());
        caller.require_key(&key.id)?;
        blocking(move || run(&node, key, messages)).await
    }
    .await;
    note.session = match &result {
        Ok(s) => session_of(s),
        Err(e) => e
            .details
            .get("session")
            .and_then(|s| s.as_str())
            .map(str::to_string),
    };
    let mut r = reply(rid, result);
    r.note = note;
    r
}

#[utoipa::path(post, path = "/sign", tag = "signing", security(("bearer" = [])), request_body = SignRequest, responses((status = 200, description = "the signature", body = Envelope<Signed>), (status = "4XX", description = "refused: the envelope's `error` says why", body = Failed), (status = "5XX", description = "failed, overloaded, unreachable or timed out", body = Failed)))]
async fn sign(
    State(node): State<Shared>,
    Extension(rid): Extension<RequestId>,
    Extension(caller): Extension<Caller>,
    b: Result<Json<SignRequest>, JsonRejection>,
) -> Reply {
    // The scope before the body: a caller without it learns nothing about its input.
    let req = match caller.require(Scope::Sign).and_then(|()| body(b)) {
        Ok(r) => r,
        Err(e) => return reply::<()>(&rid, Err(e)),
    };
    let messages = decode_message(&req.message, req.encoding).map(|m| vec![m]);
    let (key_id, r) = (req.key_id.clone(), rid.0.clone());
    signing(
        node,
        &rid,
        caller,
        key_id,
        messages,
        move |n, key, mut messages| {
            let message = messages.pop().unwrap_or_default();
            n.sign(&key, message, req.hash, req.path, &r)
        },
        |s| Some(s.session.clone()),
    )
    .await
}

#[utoipa::path(post, path = "/sign/batch", tag = "signing", security(("bearer" = [])), request_body = BatchRequest, responses((status = 200, description = "one signature per message", body = Envelope<Signatures>), (status = "4XX", description = "refused: the envelope's `error` says why", body = Failed), (status = "5XX", description = "failed, overloaded, unreachable or timed out", body = Failed)))]
async fn sign_batch(
    State(node): State<Shared>,
    Extension(rid): Extension<RequestId>,
    Extension(caller): Extension<Caller>,
    b: Result<Json<BatchRequest>, JsonRejection>,
) -> Reply {
    // The scope before the body: a caller without it learns nothing about its input.
    let req = match caller.require(Scope::Sign).and_then(|()| body(b)) {
        Ok(r) => r,
        Err(e) => return reply::<()>(&rid, Err(e)),
    };
    let messages = req
        .messages
        .iter()
        .map(|m| decode_message(m, req.encoding))
        .collect();
    let (key_id, r) = (req.key_id.clone(), rid.0.clone());
    signing(
        node,
        &rid,
        caller,
        key_id,
        messages,
        move |n, key, messages| {
            n.sign_batch(&key, messages, req.hash, &r)
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
    pub public_key: String,
    /// The message.
    pub message: String,
    /// How `message` is written.
    #[serde(default)]
    pub encoding: MessageEncoding,
    /// The signature, hex.
    pub signature: String,
    /// ecdsa-secp256k1: how the message was hashed (default sha256).
    #[serde(default)]
    pub hash: Option<HashMode>,
}

#[utoipa::path(post, path = "/verify", tag = "signing", security(("bearer" = [])), request_body = VerifyRequest, responses((status = 200, description = "whether the signature is valid", body = Envelope<Verified>), (status = "4XX", description = "refused: the envelope's `error` says why", body = Failed), (status = "5XX", description = "failed, overloaded, unreachable or timed out", body = Failed)))]
async fn verify(
    Extension(rid): Extension<RequestId>,
    Extension(caller): Extension<Caller>,
    b: Result<Json<VerifyRequest>, JsonRejection>,
) -> Reply {
    let result = (|| {
        caller.require(Scope::Read)?;
        let req = body(b)?;
        let bad =
            |what: &str, e: String| ApiError::new(400, "bad_request", format!("`{what}` {e}"));
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
        Ok(Verified {
            valid,
            scheme: req.scheme,
        })
    })();
    reply(&rid, result)
}

fn node_info(node: &Node, m: &crate::identity::Card) -> NodeInfo {
    let c = &node.cluster;
    let p = c.presence(m);
    NodeInfo {
        name: m.name.clone(),
        key: m.ed25519.clone(),
        this_node: c.is_me(m),
        up: c.is_up(m),
        last_seen_secs: p.as_ref().map(|p| p.seen.elapsed().as_secs()),
        version: p.as_ref().map(|p| p.version.clone()),
        keys: if c.is_me(m) {
            node.db().keys().ok().map(|k| k.len())
        } else {
            p.map(|p| p.keys)
        },
    }
}

#[utoipa::path(get, path = "/nodes", tag = "nodes", security(("bearer" = [])), responses((status = 200, description = "the cluster's members", body = Envelope<NodeList>), (status = "4XX", description = "refused: the envelope's `error` says why", body = Failed), (status = "5XX", description = "failed, overloaded, unreachable or timed out", body = Failed)))]
async fn list_nodes(
    State(node): State<Shared>,
    Extension(rid): Extension<RequestId>,
    Extension(caller): Extension<Caller>,
) -> Reply {
    let result = caller.require(Scope::Read).map(|()| {
        let nodes: Vec<NodeInfo> = node
            .cluster
            .members()
            .iter()
            .map(|m| node_info(&node, m))
            .collect();
        NodeList { nodes }
    });
    reply(&rid, result)
}

/// `POST /nodes`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    /// The member's card, as `mpc id --out` writes it.
    pub card: serde_json::Value,
    /// Its fingerprint as its owner reads it out (`mpc id`: four words and eight hex
    /// digits), or the whole fingerprint in hex.
    pub fingerprint: String,
}

/// Adds a member (admin) on this node; the other nodes' operators add it on theirs.
#[utoipa::path(post, path = "/nodes", tag = "nodes", security(("bearer" = [])), request_body = NewMember, responses((status = 201, description = "a member now", body = Envelope<NodeInfo>), (status = "4XX", description = "refused: the envelope's `error` says why", body = Failed), (status = "5XX", description = "failed, overloaded, unreachable or timed out", body = Failed)))]
async fn add_node(
    State(node): State<Shared>,
    Extension(rid): Extension<RequestId>,
    Extension(caller): Extension<Caller>,
    b: Result<Json<NewMember>, JsonRejection>,
) -> Reply {
    let result = async {
        caller.require(Scope::Admin)?;
        let req: NewMember = body(b)?;
        blocking(move || {
            let card = req.card.to_string();
            let card = super::members::add(
                &mut node.db(),
                &node.cluster,
                card.as_bytes(),
                &req.fingerprint,
            )?;
            Ok(node_info(&node, &card))
        })
        .await
    }
    .await;
    let mut r = reply(&rid, result);
    if let Ok((status, _)) = &mut r.result {
        *status = StatusCode::CREATED;
    }
    r
}

/// Removes a member (admin) on this node: its messages are dropped from now on.
#[utoipa::path(delete, path = "/nodes/{id}", tag = "nodes", security(("bearer" = [])), params(("id" = String, Path, description = "the member's name")), responses((status = 200, description = "no longer a member", body = Envelope<NodeInfo>), (status = "4XX", description = "refused: the envelope's `error` says why", body = Failed), (status = "5XX", description = "failed, overloaded, unreachable or timed out", body = Failed)))]
async fn remove_node(
    State(node): State<Shared>,
    Extension(rid): Extension<RequestId>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Reply {
    let result = async {
        caller.require(Scope::Admin)?;
        blocking(move || {
            let card = super::members::remove(&mut node.db(), &node.cluster, &name)?;
            Ok(node_info(&node, &card))
        })
        .await
    }
    .await;
    reply(&rid, result)
}

fn member(node: &Node, name: &str) -> Result<crate::identity::Card, ApiError> {
    node.cluster.member_named(name).ok_or_else(|| {
        ApiError::new(
            404,
            "node_not_found",
            format!("no member {name} in this cluster"),
        )
    })
}

#[utoipa::path(get, path = "/nodes/{id}", tag = "nodes", security(("bearer" = [])), params(("id" = String, Path, description = "the member's name")), responses((status = 200, description = "the member", body = Envelope<NodeInfo>), (status = "4XX", description = "refused: the envelope's `error` says why", body = Failed), (status = "5XX", description = "failed, overloaded, unreachable or timed out", body = Failed)))]
async fn show_node(
    State(node): State<Shared>,
    Extension(rid): Extension<RequestId>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Reply {
    let result = caller
        .require(Scope::Read)
        .and_then(|()| member(&node, &name))
        .map(|m| node_info(&node, &m));
    reply(&rid, result)
}

/// A member's health as this node sees it; for this node itself, also its own levels.
#[utoipa::path(get, path = "/nodes/{id}/health", tag = "nodes", security(("bearer" = [])), params(("id" = String, Path, description = "the member's name")), responses((status = 200, description = "the member's health", body = Envelope<NodeHealth>), (status = "4XX", description = "refused: the envelope's `error` says why", body = Failed), (status = "5XX", description = "failed, overloaded, unreachable or timed out", body = Failed)))]
async fn node_health(
    State(node): State<Shared>,
    Extension(rid): Extension<RequestId>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Reply {
    let result = caller
        .require(Scope::Read)
        .and_then(|()| member(&node, &name))
        .map(|m| {
            let mut info = node_info(&node, &m);
            let own = info.this_node.then(|| {
                let (own, held) = node.pools.levels();
                info.version = Some(env!("CARGO_PKG_VERSION").into());
                OwnHealth {
                    sessions_running: node.running(),
                    bus: node.cluster.bus().map(|b| b.connected()),
                    nonce_pool_own: own,
                    nonce_pool_held: held,
                    presignature_pool: node.presigs.level(),
                    uptime_secs: node.started.elapsed().as_secs(),
                }
            });
            NodeHealth { node: info, own }
        });
    reply(&rid, result)
}

fn session_info(r: &crate::store::db::SessionRecord) -> SessionEntry {
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

#[utoipa::path(get, path = "/sessions", tag = "sessions", security(("bearer" = [])), responses((status = 200, description = "this node's sessions", body = Envelope<SessionList>), (status = "4XX", description = "refused: the envelope's `error` says why", body = Failed), (status = "5XX", description = "failed, overloaded, unreachable or timed out", body = Failed)))]
async fn list_sessions(
    State(node): State<Shared>,
    Extension(rid): Extension<RequestId>,
    Extension(caller): Extension<Caller>,
) -> Reply {
    let result = async {
        caller.require(Scope::Read)?;
        blocking(move || {
            // Sessions waiting for an operator first: they are what one looks for here.
            let mut all: Vec<SessionEntry> = node
                .approvals
                .list()
                .into_iter()
                .map(SessionEntry::Waiting)
                .chain(
                    node.jobs
                        .list()
                        .into_iter()
                        .take(100)
                        .map(SessionEntry::Job),
                )
                .collect();
            let rows = node
                .db()
                .sessions_matching("", false)
                .map_err(ApiError::store)?;
            all.extend(rows.iter().take(100).map(session_info));
            Ok(SessionList { sessions: all })
        })
        .await
    }
    .await;
    reply(&rid, result)
}

#[utoipa::path(get, path = "/sessions/{id}", tag = "sessions", security(("bearer" = [])), params(("id" = String, Path, description = "the session id, or a unique prefix of it")), responses((status = 200, description = "the session", body = Envelope<SessionEntry>), (status = "4XX", description = "refused: the envelope's `error` says why", body = Failed), (status = "5XX", description = "failed, overloaded, unreachable or timed out", body = Failed)))]
async fn show_session(
    State(node): State<Shared>,
    Extension(rid): Extension<RequestId>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Reply {
    let sid = id.clone();
    let result = async {
        caller.require(Scope::Read)?;
        blocking(move || {
            if let Some(waiting) = node.approvals.find(&id)? {
                return Ok(SessionEntry::Waiting(waiting));
            }
            if let Some(job) = node.jobs.find(&id)? {
                return Ok(SessionEntry::Job(job));
            }
            session_row(&node, &id).map(|r| session_info(&r))
        })
        .await
    }
    .await;
    let mut r = reply(&rid, result);
    r.note.session = Some(sid);
    r
}

/// The session `id` (or a unique prefix) in this node's database.
fn session_row(node: &Node, id: &str) -> Result<crate::store::db::SessionRecord, ApiError> {
    let mut rows = node
        .db()
        .sessions_matching(id, false)
        .map_err(ApiError::store)?;
    match rows.len() {
        1 => Ok(rows.remove(0)),
        0 => Err(ApiError::new(
            404,
            "session_not_found",
            format!("no session {id} on this node"),
        )),
        n => Err(ApiError::new(
            400,
            "ambiguous_session",
            format!("{n} sessions start with {id}"),
        )),
    }
}

/// `POST /sessions/{id}/join` (admin): approves a session waiting for this node's
/// operator (a key whose policy here is `approval`).
#[utoipa::path(post, path = "/sessions/{id}/join", tag = "sessions", security(("bearer" = [])), params(("id" = String, Path, description = "the session id, or a unique prefix of it")), responses((status = 200, description = "approved", body = Envelope<SessionAnswer>), (status = "4XX", description = "refused: the envelope's `error` says why", body = Failed), (status = "5XX", description = "failed, overloaded, unreachable or timed out", body = Failed)))]
async fn join_session(
    State(node): State<Shared>,
    Extension(rid): Extension<RequestId>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Reply {
    answer_session(node, rid, caller, id, true).await
}

/// `POST /sessions/{id}/cancel` (admin): refuses a session waiting for approval, or
/// stops one running on this node (its secret state is destroyed; the other members
/// are told).
#[utoipa::path(post, path = "/sessions/{id}/cancel", tag = "sessions", security(("bearer" = [])), params(("id" = String, Path, description = "the session id, or a unique prefix of it")), responses((status = 200, description = "cancelled", body = Envelope<SessionAnswer>), (status = "4XX", description = "refused: the envelope's `error` says why", body = Failed), (status = "5XX", description = "failed, overloaded, unreachable or timed out", body = Failed)))]
async fn cancel_session(
    State(node): State<Shared>,
    Extension(rid): Extension<RequestId>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Reply {
    answer_session(node, rid, caller, id, false).await
}

async fn answer_session(
    node: Shared,
    rid: RequestId,
    caller: Caller,
    id: String,
    approve: bool,
) -> Reply {
    use super::approval::Verdict;
    let mut note = AuditNote {
        session: Some(id.clone()),
        ..AuditNote::default()
    };
    let token = caller.0.id.clone();
    let result = async {
        caller.require(Scope::Admin)?;
        blocking(move || {
            let verdict = if approve {
                Verdict::Approved(token.clone())
            } else {
                Verdict::Cancelled(token.clone())
            };
            if let Some(asked) = node.approvals.answer(&id, verdict)? {
                let status = if approve { "approved" } else { "cancelled" };
                super::log(&format!(
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
                super::log(&format!(
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
        .await
    }
    .await;
    if let Ok(a) = &result {
        note.session = Some(a.id.clone());
        note.key = a.key_id.clone();
    }
    let mut r = reply(&rid, result);
    r.note = note;
    r
}
