//! The HTTP API of a node (DESIGN.md "HTTP API").
//!
//! Every response under `/api/v1` and `/health` is the envelope
//! `{"success", "data", "error": {"code", "message", "details"}, "meta": {"request_id",
//! "timestamp"}}`. Requests under `/api/v1` need a bearer token; each is written to the audit chain (request id, token id, route, status, key,
//! session, message digest) before its response leaves, so no signature is returned
//! without its audit row.
//!
//! Here: the router, the envelope, the middleware (request id, token, rate limit,
//! audit), the extractors a handler takes ([`Authorized`]: the caller with the scope
//! the route needs, checked before the body is read; [`ApiJson`]: a JSON body whose
//! rejection is the envelope), and health. The routes are in `keys`, `signing`,
//! `sessions` and `nodes`.

use super::jobs::Job;
use super::node::Signed;
use super::node::{
    BatchRequest, KeygenRequest, MessageEncoding, Node, ReshareRequest, SignRequest, decode_message,
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

mod keys;
mod nodes;
mod sessions;
mod signing;

pub use super::schema::KeyInfo;
use keys::*;
pub use keys::{DeleteQuery, KeyUpdate, WaitQuery};
pub use nodes::NewMember;
use nodes::*;
pub use sessions::SessionRequest;
use sessions::*;
pub use signing::VerifyRequest;
use signing::*;

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

    /// `scope`, on a token not limited to keys: for what acts on the whole cluster or
    /// makes new keys (members, key generation).
    fn require_unlimited(&self, scope: Scope) -> Result<(), ApiError> {
        self.require(scope)?;
        if self.0.keys.is_some() {
            return Err(ApiError::new(
                403,
                "forbidden",
                "this token is limited to some keys; this needs a token that is not",
            ));
        }
        Ok(())
    }

    /// Whether this token may see a session of `key_id` (`None`: a session of no
    /// existing key, a key generation, which only an unlimited token sees).
    fn sees_session_of(&self, key_id: Option<&str>) -> bool {
        match key_id {
            Some(k) => self.0.allows_key(k),
            None => self.0.keys.is_none(),
        }
    }

    /// The key `id` (or a unique prefix of it) names on `node`, if this token may use
    /// it.
    fn key_on(&self, node: &Node, id: &str) -> Result<KeyRecord, ApiError> {
        let key = node.key(id)?;
        self.require_key(&key.id)?;
        Ok(key)
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

/// What a route needs of the caller's token (see [`Authorized`]).
pub(super) trait Needs {
    /// The least scope.
    const SCOPE: Scope;
    /// Whether the token must not be limited to some keys (what acts on the whole
    /// cluster or makes new keys).
    const UNLIMITED: bool = false;
}

/// A route that reads.
pub(super) struct Reads;
/// A route that signs.
pub(super) struct Signs;
/// A route that changes the node or its keys.
pub(super) struct Administers;
/// A route that changes the cluster or makes keys: an admin token limited to no keys.
pub(super) struct AdministersAll;

impl Needs for Reads {
    const SCOPE: Scope = Scope::Read;
}
impl Needs for Signs {
    const SCOPE: Scope = Scope::Sign;
}
impl Needs for Administers {
    const SCOPE: Scope = Scope::Admin;
}
impl Needs for AdministersAll {
    const SCOPE: Scope = Scope::Admin;
    const UNLIMITED: bool = true;
}

/// The caller, whose token has at least the scope `N` needs: an extractor (frostd's
/// `User` is the model). The token itself was checked by the middleware, which audits
/// every request, this refusal included; a caller without the scope is refused (403,
/// in the envelope) before the request's body is read, so it learns nothing about
/// its input.
pub(super) struct Authorized<N>(pub Caller, std::marker::PhantomData<N>);

impl<N: Needs, S: Send + Sync> axum::extract::FromRequestParts<S> for Authorized<N> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, ApiError> {
        let caller = parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::new(401, "unauthorized", "a bearer token is needed"))?;
        if N::UNLIMITED {
            caller.require_unlimited(N::SCOPE)?;
        } else {
            caller.require(N::SCOPE)?;
        }
        Ok(Authorized(caller, std::marker::PhantomData))
    }
}

/// A JSON body: an extractor whose rejection is the API's envelope (415 without the
/// JSON content type, 413 over [`MAX_BODY`], 400 naming what does not parse).
pub(super) struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        body(Json::<T>::from_request(req, state).await).map(ApiJson)
    }
}

/// What a handler adds to its request's audit row.
#[derive(Clone, Debug, Default)]
struct AuditNote {
    key: Option<String>,
    session: Option<String>,
    digest: Option<String>,
}

/// What a handler adds to its request's audit row (the key, the session, the message
/// digests), whatever it answers: an extractor on the note the audit middleware puts
/// in each request and reads once the handler is done.
#[derive(Clone, Default)]
pub(super) struct Audit(Arc<std::sync::Mutex<AuditNote>>);

impl Audit {
    /// The key the request is about.
    fn key(&self, id: impl Into<String>) {
        super::lock(&self.0).key = Some(id.into());
    }

    /// The session (or job) the request is about.
    fn session(&self, id: impl Into<String>) {
        super::lock(&self.0).session = Some(id.into());
    }

    /// The SHA-256 of the messages the request signs, hex, comma-separated.
    fn digest(&self, digests: impl Into<String>) {
        super::lock(&self.0).digest = Some(digests.into());
    }

    fn note(&self) -> AuditNote {
        super::lock(&self.0).clone()
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Audit {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Audit>().cloned().unwrap_or_default())
    }
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
    let routes = Router::new()
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
        .with_state(Arc::clone(&node));
    // More requests in flight than the node takes: 503 at once, not a queue; a request
    // that outlasts the timeout: 504. Both in the envelope. The limit wraps the whole
    // router as one service: `Router::layer` would give every route a limit of its own
    // (and the node `max_requests` per route).
    let limited = tower::ServiceBuilder::new()
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
        .concurrency_limit(max_requests)
        .service(routes);
    Router::new()
        .fallback_service(limited)
        .layer(middleware::from_fn(request_id))
}

/// Every route under `/api/v1`, with the OpenAPI document made from their
/// annotations: a route cannot be served without being documented.
pub fn routes() -> OpenApiRouter<Shared> {
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(list_keys, create_key))
        .routes(routes!(show_key, update_key, delete_key))
        .routes(routes!(rotate_key))
        .routes(routes!(reshare_key))
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
    shared_failures(&mut doc);
    bearer_everywhere(&mut doc);
    doc
}

/// Adds the failures every operation can answer, in the envelope, once for all instead
/// of in each handler's annotation: 4XX (refused; the envelope's `error` says why) and
/// 5XX (failed, overloaded, unreachable or timed out). An operation that documents a
/// particular status (a 503 with its codes, say) keeps it.
fn shared_failures(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let failed = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Failed")))
                    .build(),
            )
            .build()
    };
    for op in operations(doc) {
        let responses = &mut op.responses.responses;
        for (status, description) in [
            ("4XX", "refused: the envelope's `error` says why"),
            ("5XX", "failed, overloaded, unreachable or timed out"),
        ] {
            responses
                .entry(status.to_string())
                .or_insert_with(|| failed(description).into());
        }
    }
}

/// Every operation of the document.
fn operations(
    doc: &mut utoipa::openapi::OpenApi,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    doc.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
    })
}

/// Every operation of the document needs a bearer token (the security scheme
/// `bearer`): said once here, not in each handler's annotation.
fn bearer_everywhere(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::security::SecurityRequirement;
    for op in operations(doc) {
        op.security = Some(vec![SecurityRequirement::new::<_, _, &str>("bearer", [])]);
    }
}

fn meta(rid: &str) -> Meta {
    Meta {
        request_id: rid.to_string(),
        timestamp: crate::clock::format_time(crate::clock::now()),
    }
}

/// A success in the envelope.
fn ok(status: StatusCode, data: impl Serialize, rid: &str) -> Response {
    let body = Envelope {
        success: true,
        data: Some(data),
        error: None,
        meta: meta(rid),
    };
    (status, Json(body)).into_response()
}

/// A failure in the envelope.
fn fail(e: ApiError, rid: &str) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = Failed {
        success: false,
        data: None,
        error: e,
        meta: meta(rid),
    };
    let mut r = (status, Json(body)).into_response();
    if status == StatusCode::TOO_MANY_REQUESTS {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    r
}

tokio::task_local! {
    /// The id of the request being answered: [`request_id`] sets it around everything
    /// below it, so an answer built anywhere there carries it in its envelope.
    static REQUEST_ID: String;
}

/// The id of the request being answered (empty outside one).
fn current_request_id() -> String {
    REQUEST_ID.try_with(String::clone).unwrap_or_default()
}

/// A handler's success: its status and data, in the envelope. Handlers return
/// [`Answer`]: `Result<Data<T>, ApiError>`, whose failure is the envelope's `error`
/// (the `IntoResponse` of [`ApiError`] below), as axum's error-handling example does.
pub(super) struct Data<T>(StatusCode, T);

impl<T> Data<T> {
    /// 200 with `data`.
    fn ok(data: T) -> Data<T> {
        Data(StatusCode::OK, data)
    }

    /// 201 with `data`.
    fn created(data: T) -> Data<T> {
        Data(StatusCode::CREATED, data)
    }
}

impl<T: Serialize> IntoResponse for Data<T> {
    fn into_response(self) -> Response {
        ok(self.0, self.1, &current_request_id())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        fail(self, &current_request_id())
    }
}

/// A handler's result.
type Answer<T> = Result<Data<T>, ApiError>;

/// Gives the request an id made here (for handlers, the audit row and the response
/// header). A client's own `x-request-id`, when short and plain, is kept beside it
/// ([`ClientRequestId`]) and written to the audit row; it never becomes the request's
/// id, so two requests never share an audit id.
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
    let mut b = [0u8; 12];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
    let rid = hex::encode(b);
    // The route's template, never the path as given (a client makes those up).
    let span = tracing::info_span!(
        "request",
        id = %rid,
        method = %req.method(),
        route = route_template(req.uri().path()).unwrap_or(UNMATCHED),
    );
    req.extensions_mut().insert(RequestId(rid.clone()));
    req.extensions_mut().insert(ClientRequestId(given));
    let answered = REQUEST_ID.scope(rid.clone(), next.run(req));
    let mut res = tracing::Instrument::instrument(answered, span).await;
    if let Ok(v) = HeaderValue::from_str(&rid) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

/// The `x-request-id` a client sent, when short and plain (kept in the audit row).
#[derive(Clone, Debug)]
struct ClientRequestId(Option<String>);

/// The route a request is counted and audited under: its route template
/// (`/api/v1/keys/{id}`), never the path it gave, so neither `/metrics` nor the audit
/// log grows with the paths clients make up. A path no route matches is `(unmatched)`.
fn route_label(method: &axum::http::Method, path: &str) -> String {
    format!("{method} {}", route_template(path).unwrap_or(UNMATCHED))
}

/// What an unmatched path is counted and audited as.
const UNMATCHED: &str = "(unmatched)";

/// The template of the route under `/api/v1` that `path` matches, if one does.
fn route_template(path: &str) -> Option<&'static str> {
    static TEMPLATES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let templates = TEMPLATES.get_or_init(|| {
        let mut t: Vec<String> = document().paths.paths.keys().cloned().collect();
        t.push("/api/v1/openapi.json".into());
        t
    });
    let given: Vec<&str> = path.split('/').collect();
    templates
        .iter()
        .find(|t| {
            let parts: Vec<&str> = t.split('/').collect();
            parts.len() == given.len()
                && parts.iter().zip(&given).all(|(t, g)| {
                    (t.starts_with('{') && t.ends_with('}') && !g.is_empty()) || t == g
                })
        })
        .map(String::as_str)
}

/// A short, bounded account of an unmatched path for its audit row: its length, its
/// SHA-256 and its first characters, never the whole of it.
fn path_summary(path: &str) -> serde_json::Value {
    let head: String = path.chars().take(64).collect();
    serde_json::json!({
        "length": path.len(),
        "sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(path.as_bytes())),
        "start": head,
    })
}

/// The client's address, as the server saw it (`ConnectInfo`); in-process callers
/// without one count as one unspecified address.
fn client_address(req: &Request) -> std::net::IpAddr {
    req.extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or(std::net::IpAddr::from([0u8; 4]), |c| c.0.ip())
}

/// The bearer token of an `Authorization` header; the scheme's name in any letter case
/// (RFC 7235).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
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
    let matched = req.extensions().get::<MatchedPath>().map(|p| p.as_str());
    let unmatched = matched.is_none();
    let route = format!("{} {}", req.method(), matched.unwrap_or(UNMATCHED));
    let client = req
        .extensions()
        .get::<ClientRequestId>()
        .and_then(|c| c.0.clone());
    let path = unmatched.then(|| path_summary(req.uri().path()));
    let address = client_address(&req);
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer)
        .map(|t| zeroize::Zeroizing::new(t.to_string()));
    let checked = match presented {
        None => Err(ApiError::new(
            401,
            "unauthorized",
            "a bearer token is needed (Authorization: Bearer mpc_...)",
        )),
        Some(token) => {
            let n = node.clone();
            tokio::task::spawn_blocking(move || tokens::check(n.db(), &token))
                .await
                .map_err(ApiError::internal)
                .and_then(|r| r.map_err(|e| ApiError::new(401, "unauthorized", e.to_string())))
        }
    };
    // Requests without a valid token are limited per client address; past the limit
    // they are answered 429 and leave no audit row (they are counted in `/metrics`).
    if checked.is_err()
        && let Err(secs) = node.gate.outsiders.check(address)
    {
        super::metrics::request(&route, 429, started.elapsed().as_secs_f64());
        super::metrics::outsider_refused();
        return fail(
            ApiError::new(
                429,
                "rate_limited",
                "too many requests without a valid token from this address; try again later",
            )
            .details(serde_json::json!({"retry_after_secs": secs})),
            &rid,
        );
    }
    let checked = checked.and_then(|rec| {
        node.gate
            .tokens
            .check(rec.id.clone())
            .map(|()| rec)
            .map_err(|secs| {
                ApiError::new(
                    429,
                    "rate_limited",
                    "this token made too many requests; try again later",
                )
                .details(serde_json::json!({"retry_after_secs": secs}))
            })
    });
    let audit = Audit::default();
    let (res, token_id) = match checked {
        Ok(rec) => {
            let id = rec.id.clone();
            req.extensions_mut().insert(Caller(rec));
            req.extensions_mut().insert(audit.clone());
            (next.run(req).await, Some(id))
        }
        Err(e) => (fail(e, &rid), None),
    };
    super::metrics::request(
        &route,
        res.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    let note = audit.note();
    let status = res.status().as_u16();
    let mut detail = serde_json::json!({
        "request_id": rid,
        "token": token_id,
        "status": status,
        "key": note.key,
        "session": note.session,
        "message_sha256": note.digest,
    });
    if let Some(client) = client {
        detail["client_request_id"] = client.into();
    }
    if let Some(path) = path {
        detail["path"] = path;
    }
    // Should the request's time run out while the row is written, the layer that
    // answers 504 sees that the row is on its way and writes none of its own.
    node.gate.auditing(&rid);
    let written = node.audit.write_async("api", &route, detail).await;
    node.gate.audited(&rid);
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

/// Runs `f` on the blocking pool. (A node's typed [`super::Error`] becomes the API's
/// answer through `?` in `f`.)
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
    if uri.path().starts_with("/api/v1/") && !node.gate.audited(&rid.0) {
        let detail = serde_json::json!({
            "request_id": rid.0,
            "token": null,
            "status": err.status,
            "key": null,
            "session": null,
            "message_sha256": null,
        });
        let route = route_label(&method, uri.path());
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

async fn not_found() -> ApiError {
    ApiError::new(404, "not_found", "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        405,
        "method_not_allowed",
        "this route does not take that method",
    )
}

async fn metrics_text(State(node): State<Shared>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        super::metrics::render(&node.levels()),
    )
        .into_response()
}

async fn live() -> Data<Live> {
    Data::ok(Live {
        status: "live".into(),
    })
}

async fn ready(State(node): State<Shared>) -> Answer<Ready> {
    let bus = node.cluster.bus();
    let linked = bus.as_ref().is_none_or(|b| b.connected());
    let data = Ready {
        identity: "unlocked".into(),
        bus: match &bus {
            None => "none".to_string(),
            Some(b) if b.connected() => "connected".into(),
            Some(b) => b.trouble().unwrap_or_else(|| "down".into()),
        },
        sessions: node.sessions.running(),
    };
    if linked {
        Ok(Data::ok(data))
    } else {
        Err(ApiError::new(503, "not_ready", "the bus link is down")
            .details(serde_json::to_value(data).unwrap_or_default()))
    }
}
