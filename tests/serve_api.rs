//! The node's HTTP API, in process: every route through the real router, the real
//! token check and the real audit chain, against a party home made by the CLI. No bus:
//! what needs the other members fails the way it does when they are unreachable.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{PASS, World, code, stderr};
use http_body_util::BodyExt;
use mpc::serve::api;
use mpc::serve::node::{Config, Node};
use mpc::serve::policy::{self, Mode, Policy};
use mpc::serve::tokens::{self, Scope};
use mpc::store::Home;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

struct Api {
    world: World,
    node: Arc<Node>,
    app: Router,
    /// The OpenAPI document the node serves; every answer is checked against it.
    doc: common::openapi::Document,
    key: String,
    public_key: String,
    admin: String,
    signer: String,
    reader: String,
}

fn node_for(world: &World, config: Config) -> Arc<Node> {
    let home = Home::resolve(Some(world.parties[0].home.clone()));
    let identity = home
        .unlock(&age::secrecy::SecretString::from(PASS.to_string()))
        .unwrap();
    Arc::new(Node::new(home, identity, vec![], config).unwrap())
}

fn setup(config: Config) -> Api {
    let world = World::new(3);
    let (key, public_key) = world.keygen("eddsa-ed25519", 2);
    let node = node_for(&world, config);
    let token = |scope, keys: Option<Vec<String>>| {
        tokens::create(node.db(), "test", scope, keys, None)
            .unwrap()
            .1
            .to_string()
    };
    let admin = token(Scope::Admin, None);
    let signer = token(Scope::Sign, Some(vec!["0000000000000000".into()]));
    let reader = token(Scope::Read, None);
    let app = api::router(Arc::clone(&node), Duration::from_secs(10));
    let doc = served_document(&app);
    Api {
        world,
        node,
        app,
        doc,
        key,
        public_key,
        admin,
        signer,
        reader,
    }
}

/// The document as `GET /api/v1/openapi.json` serves it (no token needed).
fn served_document(app: &Router) -> common::openapi::Document {
    let req = Request::builder()
        .uri("/api/v1/openapi.json")
        .body(Body::empty())
        .unwrap();
    let res = futures_block(app.clone().oneshot(req)).unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = futures_block(res.into_body().collect()).unwrap().to_bytes();
    common::openapi::Document(serde_json::from_slice(&bytes).unwrap())
}

/// Runs a future to completion on the current (test) runtime's thread.
fn futures_block<F: std::future::Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

struct Got {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
    text: String,
}

impl Api {
    async fn call(&self, method: &str, uri: &str, token: Option<&str>, body: Option<Body>) -> Got {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let body = match body {
            Some(b) => {
                req = req.header("content-type", "application/json");
                b
            }
            None => Body::empty(),
        };
        let res = self
            .app
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        // Every answer of a documented route has the documented shape.
        let path = uri.split('?').next().unwrap_or(uri);
        if path.starts_with("/api/v1/")
            && let Some(route) = self.doc.route(path)
            && !self.doc.0["paths"][&route][method.to_ascii_lowercase()].is_null()
        {
            self.doc
                .check(method, path, status.as_u16(), &body)
                .unwrap_or_else(|e| panic!("an answer departs from the document: {e}\n{text}"));
        }
        // Whatever the route and outcome, no secret ever leaves.
        for secret in [&self.admin, &self.signer, &self.reader] {
            let tail = secret.rsplit('_').next().unwrap();
            assert!(!text.contains(tail), "a response holds a token: {text}");
        }
        assert!(!text.contains(PASS), "a response holds the passphrase");
        Got {
            status,
            headers,
            body,
            text,
        }
    }

    async fn json(&self, method: &str, uri: &str, token: &str, body: Value) -> Got {
        self.call(method, uri, Some(token), Some(Body::from(body.to_string())))
            .await
    }
}

/// A failure in the envelope with this status and code.
fn failed(g: &Got, status: u16, code: &str) {
    assert_eq!(g.status.as_u16(), status, "{}", g.text);
    assert_eq!(g.body["success"], false, "{}", g.text);
    assert_eq!(g.body["error"]["code"], code, "{}", g.text);
    assert!(g.body["data"].is_null());
    // The envelope names the request its header names, whoever refused it (a layer,
    // an extractor, a handler).
    let rid = g.body["meta"]["request_id"].as_str().unwrap_or_default();
    assert!(!rid.is_empty(), "{}", g.text);
    assert_eq!(g.headers["x-request-id"], rid, "{}", g.text);
    assert!(!g.body["error"]["message"].as_str().unwrap().is_empty());
}

fn succeeded(g: &Got) -> &Value {
    assert_eq!(g.status, StatusCode::OK, "{}", g.text);
    assert_eq!(g.body["success"], true, "{}", g.text);
    assert!(g.body["error"].is_null());
    assert!(g.body["meta"]["timestamp"].is_string());
    assert_eq!(
        g.headers["x-request-id"],
        g.body["meta"]["request_id"].as_str().unwrap()
    );
    &g.body["data"]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_in_the_envelope_with_precise_statuses() {
    let a = setup(Config::default());
    let key = a.key.clone();

    // Health needs no token.
    assert_eq!(
        succeeded(&a.call("GET", "/health/live", None, None).await)["status"],
        "live"
    );
    let ready = a.call("GET", "/health/ready", None, None).await;
    assert_eq!(succeeded(&ready)["bus"], "none");

    // 401: no token, a malformed one, a forged one, a revoked one.
    failed(
        &a.call("GET", "/api/v1/keys", None, None).await,
        401,
        "unauthorized",
    );
    failed(
        &a.call("GET", "/api/v1/keys", Some("nonsense"), None).await,
        401,
        "unauthorized",
    );
    let mut forged = a.reader.clone();
    forged.replace_range(forged.len() - 4.., "0000");
    failed(
        &a.call("GET", "/api/v1/keys", Some(&forged), None).await,
        401,
        "unauthorized",
    );
    let (rec, revoked) = tokens::create(a.node.db(), "gone", Scope::Admin, None, None).unwrap();
    tokens::revoke(a.node.db(), &rec.id).unwrap();
    let g = a.call("GET", "/api/v1/keys", Some(&revoked), None).await;
    failed(&g, 401, "unauthorized");
    assert!(g.text.contains("revoked"));

    // Reading.
    let keys = a.call("GET", "/api/v1/keys", Some(&a.reader), None).await;
    let list = succeeded(&keys)["keys"].as_array().unwrap().clone();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], key.as_str());
    assert_eq!(list[0]["public_key"], a.public_key.as_str());
    assert_eq!(list[0]["parties"], json!(["alice", "bob", "carol"]));
    assert_eq!(list[0]["policy"]["mode"], "auto");
    let shown = a
        .call(
            "GET",
            &format!("/api/v1/keys/{}", &key[..8]),
            Some(&a.reader),
            None,
        )
        .await;
    assert_eq!(succeeded(&shown)["id"], key.as_str());
    failed(
        &a.call("GET", "/api/v1/keys/ffffffffffff", Some(&a.reader), None)
            .await,
        404,
        "key_not_found",
    );
    // A sign token limited to another key sees none of this one.
    let limited = a.call("GET", "/api/v1/keys", Some(&a.signer), None).await;
    assert!(succeeded(&limited)["keys"].as_array().unwrap().is_empty());
    failed(
        &a.call("GET", &format!("/api/v1/keys/{key}"), Some(&a.signer), None)
            .await,
        403,
        "forbidden",
    );

    // 404 and 405 for routes, in the envelope too.
    failed(
        &a.call("GET", "/api/v1/nothing", Some(&a.reader), None)
            .await,
        404,
        "not_found",
    );
    failed(
        &a.call("GET", "/nowhere", None, None).await,
        404,
        "not_found",
    );
    failed(
        &a.call("DELETE", "/api/v1/sign", Some(&a.admin), None).await,
        405,
        "method_not_allowed",
    );

    // Scopes: a read token cannot sign or set policy.
    let sign = json!({"key_id": key, "message": "hi"});
    failed(
        &a.json("POST", "/api/v1/sign", &a.reader, sign.clone())
            .await,
        403,
        "forbidden",
    );
    failed(
        &a.json("POST", "/api/v1/sign", &a.signer, sign.clone())
            .await,
        403,
        "forbidden",
    );
    // The scope is checked before the body is read, on every route that takes one: a
    // malformed body from a token without the scope is refused for the token, not
    // parsed (a read token; on the cluster-wide routes, an admin token limited to
    // some keys).
    let limited_admin = tokens::create(
        a.node.db(),
        "limited admin",
        Scope::Admin,
        Some(vec![key.clone()]),
        None,
    )
    .unwrap()
    .1
    .to_string();
    let key_route = format!("/api/v1/keys/{key}");
    let reshare_route = format!("/api/v1/keys/{key}/reshare");
    for (method, uri, token) in [
        ("POST", "/api/v1/sign", &a.reader),
        ("POST", "/api/v1/sign/batch", &a.reader),
        ("POST", "/api/v1/sessions", &a.reader),
        ("PUT", key_route.as_str(), &a.reader),
        ("POST", "/api/v1/keys", &limited_admin),
        ("POST", reshare_route.as_str(), &limited_admin),
        ("POST", "/api/v1/nodes", &limited_admin),
    ] {
        let g = a
            .call(method, uri, Some(token), Some(Body::from("{not json")))
            .await;
        failed(&g, 403, "forbidden");
    }
    let never = json!({"policy": {"mode": "never"}});
    failed(
        &a.json(
            "PUT",
            &format!("/api/v1/keys/{key}"),
            &a.reader,
            never.clone(),
        )
        .await,
        403,
        "forbidden",
    );

    // 400: malformed JSON, unknown fields, bad encodings; 415 without JSON; 413.
    let bad = a
        .call(
            "POST",
            "/api/v1/sign",
            Some(&a.admin),
            Some(Body::from("{not json")),
        )
        .await;
    failed(&bad, 400, "bad_request");
    for bad in [
        json!({"key_id": key, "message": "hi", "extra": 1}),
        json!({"key_id": key, "message": "zz", "encoding": "hex"}),
        json!({"key_id": key, "message": "hi", "hash": "keccak256"}),
        json!({"key_id": key}),
    ] {
        failed(
            &a.json("POST", "/api/v1/sign", &a.admin, bad).await,
            400,
            "bad_request",
        );
    }
    // A batch holds 1 to 64 messages.
    for n in [0, 65] {
        let msgs: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
        let body = json!({"key_id": key, "messages": msgs});
        let g = a.json("POST", "/api/v1/sign/batch", &a.admin, body).await;
        failed(&g, 400, "bad_request");
    }
    let one = json!({"key_id": key, "messages": ["m"]});
    let g = a.json("POST", "/api/v1/sign/batch", &a.reader, one).await;
    failed(&g, 403, "forbidden");
    let plain = Request::builder()
        .method("POST")
        .uri("/api/v1/sign")
        .header("authorization", format!("Bearer {}", a.admin))
        .body(Body::from(sign.to_string()))
        .unwrap();
    let res = a.app.clone().oneshot(plain).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = json!({"key_id": key, "message": "x".repeat(api::MAX_BODY + 10)});
    failed(
        &a.json("POST", "/api/v1/sign", &a.admin, huge).await,
        413,
        "too_large",
    );
    failed(
        &a.json(
            "POST",
            "/api/v1/sign",
            &a.admin,
            json!({"key_id": "ffffffffff", "message": "hi"}),
        )
        .await,
        404,
        "key_not_found",
    );

    // 503: the other members are unreachable (this node has no bus), named.
    let g = a.json("POST", "/api/v1/sign", &a.admin, sign.clone()).await;
    failed(&g, 503, "not_enough_nodes");
    assert_eq!(
        g.body["error"]["details"]["unreachable"],
        json!(["bob", "carol"])
    );
    // Its audit row names the key and the message's digest, failed as it did.
    let row = audit_row(&a, &g);
    assert_eq!((&row["status"], &row["key"]), (&json!(503), &json!(key)));
    assert_eq!(row["message_sha256"], sha256_hex(b"hi"));

    // Label and metadata: replaced where given; checked; the answer shows them, with
    // the key's addresses.
    let url = format!("/api/v1/keys/{key}");
    let set = a
        .json(
            "PUT",
            &url,
            &a.admin,
            json!({"label": "treasury", "metadata": {"owner": "ops", "ticket": 42}}),
        )
        .await;
    let shown = succeeded(&set);
    assert_eq!(shown["label"], "treasury");
    assert_eq!(shown["metadata"], json!({"owner": "ops", "ticket": 42}));
    assert_eq!(
        shown["policy"]["mode"], "auto",
        "a policy not given is kept"
    );
    assert!(shown["addresses"]["solana"].is_string(), "{}", set.text);
    assert!(shown["addresses"].get("ethereum").is_none(), "{}", set.text);
    for bad in [
        json!({}),
        json!({"metadata": [1, 2]}),
        json!({"label": "a\nb"}),
        json!({"label": "x".repeat(201)}),
        json!({"metadata": {"big": "x".repeat(17 * 1024)}}),
        json!({"colour": "red"}),
    ] {
        failed(
            &a.json("PUT", &url, &a.admin, bad).await,
            400,
            "bad_request",
        );
    }
    let again = a.call("GET", &url, Some(&a.reader), None).await;
    assert_eq!(succeeded(&again)["label"], "treasury");
    // Rotation needs every node of the key; this one is alone.
    let rotate = format!("/api/v1/keys/{key}/rotate");
    failed(
        &a.json("POST", &rotate, &a.signer, json!({})).await,
        403,
        "forbidden",
    );
    let g = a.json("POST", &rotate, &a.admin, json!({})).await;
    failed(&g, 503, "not_enough_nodes");
    // So does a reshare (dealers up), after its nodes are checked to be members; an
    // admin token is needed.
    let reshare = format!("/api/v1/keys/{key}/reshare");
    let onto = json!({"nodes": ["alice", "zoe"], "threshold": 2});
    failed(
        &a.json("POST", &reshare, &a.signer, onto.clone()).await,
        403,
        "forbidden",
    );
    let g = a.json("POST", &reshare, &a.admin, onto).await;
    failed(&g, 400, "bad_request");
    assert!(
        g.text.contains("`zoe` is not a cluster member"),
        "{}",
        g.text
    );
    let g = a
        .json(
            "POST",
            &reshare,
            &a.admin,
            json!({"nodes": ["alice", "alice"]}),
        )
        .await;
    failed(&g, 503, "not_enough_nodes");

    // 422: this node's own policy says never; the node is named.
    let set = a
        .json("PUT", &format!("/api/v1/keys/{key}"), &a.admin, never)
        .await;
    assert_eq!(succeeded(&set)["policy"]["mode"], "never");
    assert_eq!(policy::get(a.node.db(), &key).unwrap().mode, Mode::Never);
    let g = a.json("POST", "/api/v1/sign", &a.admin, sign.clone()).await;
    failed(&g, 422, "policy_refused");
    assert_eq!(g.body["error"]["details"]["node"], "alice");
    // A limit: no signatures at all this hour.
    let limited = Policy {
        max_per_hour: Some(0),
        ..Policy::default()
    };
    policy::set(a.node.db(), &key, &limited).unwrap();
    let g = a.json("POST", "/api/v1/sign", &a.admin, sign.clone()).await;
    failed(&g, 422, "policy_refused");
    assert!(g.text.contains("limit"), "{}", g.text);
    policy::set(a.node.db(), &key, &Policy::default()).unwrap();

    // A signature made by the CLI, to verify below.
    let sig = a.world.sign(&key, &[0, 1], b"checked");

    // 409: a suspended key.
    let out = a
        .world
        .mpc(0)
        .args(["suspend", &key, "--reason", "test"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    failed(
        &a.json("POST", "/api/v1/sign", &a.admin, sign.clone()).await,
        409,
        "wrong_key_state",
    );

    // Verify: valid, invalid, malformed.
    let v = json!({"scheme": "eddsa-ed25519", "public_key": a.public_key, "message": "checked", "signature": hex::encode(&sig)});
    assert_eq!(
        succeeded(&a.json("POST", "/api/v1/verify", &a.reader, v.clone()).await)["valid"],
        true
    );
    let mut wrong = v.clone();
    wrong["message"] = json!("other");
    assert_eq!(
        succeeded(&a.json("POST", "/api/v1/verify", &a.reader, wrong).await)["valid"],
        false
    );
    let mut short = v.clone();
    short["signature"] = json!("abcd");
    failed(
        &a.json("POST", "/api/v1/verify", &a.reader, short).await,
        400,
        "bad_request",
    );

    // Metrics: no token needed, routes as matched (never an id), levels read now.
    let m = a.call("GET", "/metrics", None, None).await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(m.text.contains("mpc_http_requests_total"), "{}", m.text);
    assert!(
        m.text.contains("route=\"GET /api/v1/keys/{id}\""),
        "{}",
        m.text
    );
    assert!(m.text.contains("mpc_sessions_running"), "{}", m.text);
    assert!(!m.text.contains(&key), "a key id in the metrics");

    // Nodes and sessions.
    let nodes = a.call("GET", "/api/v1/nodes", Some(&a.reader), None).await;
    let nodes = succeeded(&nodes)["nodes"].as_array().unwrap().clone();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0]["name"], "alice");
    assert_eq!(nodes[0]["this_node"], true);
    let sessions = a
        .call("GET", "/api/v1/sessions", Some(&a.reader), None)
        .await;
    let sessions = succeeded(&sessions)["sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2, "the keygen and the signing");
    let sid = sessions[0]["id"].as_str().unwrap();
    let one = a
        .call(
            "GET",
            &format!("/api/v1/sessions/{}", &sid[..12]),
            Some(&a.reader),
            None,
        )
        .await;
    assert_eq!(succeeded(&one)["id"], sid);
    failed(
        &a.call(
            "GET",
            "/api/v1/sessions/abcdefabcdef",
            Some(&a.reader),
            None,
        )
        .await,
        404,
        "session_not_found",
    );
    // Joining and cancelling: admin only; a finished session is neither waiting nor
    // running; a waiting one is listed first, and answered once.
    let join = |id: &str| format!("/api/v1/sessions/{id}/join");
    let cancel = |id: &str| format!("/api/v1/sessions/{id}/cancel");
    failed(
        &a.json("POST", &join(sid), &a.reader, json!({})).await,
        403,
        "forbidden",
    );
    failed(
        &a.json("POST", &join(sid), &a.admin, json!({})).await,
        409,
        "not_awaiting_approval",
    );
    failed(
        &a.json("POST", &cancel(sid), &a.admin, json!({})).await,
        409,
        "not_running",
    );
    failed(
        &a.json("POST", &join("abcdefabcdef"), &a.admin, json!({}))
            .await,
        404,
        "session_not_found",
    );
    let node = Arc::clone(&a.node);
    let waiting = tokio::spawn(async move {
        node.approvals
            .ask(
                mpc::serve::approval::Asked {
                    id: "ab".repeat(32),
                    kind: "sign",
                    status: "awaiting_approval",
                    key_id: "k".into(),
                    proposer: "bob".into(),
                    message_sha256: String::new(),
                    hash: None,
                    path: None,
                    approve_by: 0,
                },
                Duration::from_secs(30),
                std::future::pending(),
            )
            .await
    });
    while a.node.approvals.list().is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let listed = a
        .call("GET", "/api/v1/sessions", Some(&a.reader), None)
        .await;
    assert_eq!(
        succeeded(&listed)["sessions"][0]["status"],
        "awaiting_approval"
    );
    let shown = a
        .call("GET", "/api/v1/sessions/abab", Some(&a.reader), None)
        .await;
    assert_eq!(succeeded(&shown)["proposer"], "bob");
    let done = a.json("POST", &cancel("abab"), &a.admin, json!({})).await;
    assert_eq!(succeeded(&done)["status"], "cancelled");
    assert!(matches!(
        waiting.await.unwrap(),
        mpc::serve::approval::Verdict::Cancelled(_)
    ));
    failed(
        &a.json("POST", &join("abab"), &a.admin, json!({})).await,
        404,
        "session_not_found",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_has_exactly_one_audit_row_with_its_request_id_and_never_the_token() {
    let a = setup(Config::default());
    let mut ids = Vec::new();
    for (uri, token) in [
        ("/api/v1/keys", Some(a.reader.as_str())),
        ("/api/v1/keys", None),
        ("/api/v1/nodes", Some(a.admin.as_str())),
        ("/api/v1/nope", Some(a.admin.as_str())),
    ] {
        let g = a.call("GET", uri, token, None).await;
        let rid = g.body["meta"]["request_id"].as_str().unwrap().to_string();
        assert_eq!(g.headers["x-request-id"], rid.as_str());
        ids.push((rid, g.status.as_u16()));
    }
    // A client's own request id is kept beside the node's (see
    // `ids_need_four_hex_digits_bearer_is_any_case_and_request_ids_are_the_node_s`).
    let req = Request::builder()
        .uri("/api/v1/keys")
        .header("authorization", format!("Bearer {}", a.reader))
        .header("x-request-id", "client-chosen-1")
        .body(Body::empty())
        .unwrap();
    let res = a.app.clone().oneshot(req).await.unwrap();
    let rid = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_ne!(rid, "client-chosen-1");
    ids.push((rid, 200));

    let rows = a.node.db().audit_rows().unwrap();
    let api: Vec<_> = rows.iter().filter(|r| r.action == "api").collect();
    for (rid, status) in &ids {
        let mine: Vec<_> = api
            .iter()
            .filter(|r| {
                serde_json::from_str::<Value>(&r.detail).unwrap()["request_id"] == rid.as_str()
            })
            .collect();
        assert_eq!(mine.len(), 1, "request {rid}");
        let d: Value = serde_json::from_str(&mine[0].detail).unwrap();
        assert_eq!(d["status"], *status);
    }
    for r in &rows {
        for t in [&a.admin, &a.reader, &a.signer] {
            assert!(
                !r.detail.contains(t.rsplit('_').next().unwrap()),
                "an audit row holds a token"
            );
        }
    }
    assert!(
        a.node.db().audit_verify().unwrap().is_ok(),
        "the chain is intact"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_over_its_rate_gets_429_with_retry_after() {
    let a = setup(Config {
        rate_limit: std::num::NonZeroU32::new(3),
        ..Config::default()
    });
    let mut statuses = Vec::new();
    let mut retry = None;
    for _ in 0..6 {
        let g = a.call("GET", "/api/v1/keys", Some(&a.reader), None).await;
        if g.status == StatusCode::TOO_MANY_REQUESTS {
            failed(&g, 429, "rate_limited");
            retry = g.headers.get("retry-after").cloned();
        }
        statuses.push(g.status.as_u16());
    }
    assert_eq!(&statuses[..3], &[200, 200, 200]);
    assert!(statuses[3..].contains(&429), "{statuses:?}");
    assert!(retry.unwrap().to_str().unwrap().parse::<u64>().unwrap() >= 1);
    // Another token has its own allowance.
    let g = a.call("GET", "/api/v1/keys", Some(&a.admin), None).await;
    succeeded(&g);
}

/// Holds the node's reading connection from another thread until the returned sender
/// is used (or dropped): requests that look anything up wait (their audit rows, on the
/// writing connection, do not).
fn hold_database(node: &Arc<Node>) -> (std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let node = Arc::clone(node);
    let (locked, is_locked) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let _db = node.db().read();
        locked.send(()).unwrap();
        let _ = released.recv();
    });
    is_locked.recv().unwrap();
    (release, holder)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_over_the_in_flight_limit_are_shed_with_503() {
    let a = setup(Config {
        max_requests: 1,
        ..Config::default()
    });
    let req = Request::builder()
        .uri("/api/v1/keys")
        .header("authorization", format!("Bearer {}", a.reader))
        .body(Body::empty())
        .unwrap();
    // The first request waits on the database; the second finds no room.
    let (release, holder) = hold_database(&a.node);
    let first = tokio::spawn(a.app.clone().oneshot(req));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let g = a.call("GET", "/api/v1/keys", Some(&a.reader), None).await;
    failed(&g, 503, "overloaded");
    release.send(()).unwrap();
    holder.join().unwrap();
    assert_eq!(first.await.unwrap().unwrap().status(), StatusCode::OK);
    // The shed request has its audit row too, with its status.
    assert_eq!(audit_statuses(&a, &g), vec![503]);
}

/// The details of the audit rows of the request `g` answered.
fn audit_details(a: &Api, g: &Got) -> Vec<Value> {
    let rid = g.body["meta"]["request_id"].as_str().unwrap();
    a.node
        .db()
        .audit_rows()
        .unwrap()
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r.detail).unwrap())
        .filter(|d| d["request_id"] == rid)
        .collect()
}

/// The one audit row of the request `g` answered: its detail.
fn audit_row(a: &Api, g: &Got) -> Value {
    let rows = audit_details(a, g);
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows[0].clone()
}

fn sha256_hex(m: &[u8]) -> String {
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(m))
}

/// The statuses in the audit rows of the request `g` answered.
fn audit_statuses(a: &Api, g: &Got) -> Vec<u64> {
    audit_details(a, g)
        .iter()
        .map(|d| d["status"].as_u64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_over_the_time_limit_gets_504_in_the_envelope() {
    let mut a = setup(Config::default());
    a.app = api::router(Arc::clone(&a.node), Duration::from_millis(300));
    let (release, holder) = hold_database(&a.node);
    let g = a.call("GET", "/api/v1/keys", Some(&a.reader), None).await;
    failed(&g, 504, "timed_out");
    release.send(()).unwrap();
    holder.join().unwrap();
    // Exactly one audit row, the 504's: the handler that was stopped wrote none.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(audit_statuses(&a, &g), vec![504]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_are_shown_and_a_share_is_scheduled_for_deletion() {
    let a = setup(Config::default());
    let key = a.key.clone();
    let g = a
        .call("GET", "/api/v1/nodes/alice", Some(&a.reader), None)
        .await;
    let me = succeeded(&g);
    assert_eq!(
        (me["this_node"].as_bool(), me["keys"].as_u64()),
        (Some(true), Some(1))
    );
    let g = a
        .call("GET", "/api/v1/nodes/alice/health", Some(&a.reader), None)
        .await;
    let h = succeeded(&g);
    assert_eq!(h["own"]["sessions_running"], 0);
    assert!(
        h["own"]["nonce_pool_own"].is_u64() && h["own"]["uptime_secs"].is_u64(),
        "{h}"
    );
    failed(
        &a.call("GET", "/api/v1/nodes/zed", Some(&a.reader), None)
            .await,
        404,
        "node_not_found",
    );
    failed(
        &a.call("GET", "/api/v1/nodes/zed/health", Some(&a.reader), None)
            .await,
        404,
        "node_not_found",
    );

    // Deleting takes admin, a readable date, and a key that may be deleted.
    let uri = format!("/api/v1/keys/{key}?after=1h&reason=retired");
    failed(
        &a.call("DELETE", &uri, Some(&a.reader), None).await,
        403,
        "forbidden",
    );
    let bad = format!("/api/v1/keys/{key}?after=soon");
    failed(
        &a.call("DELETE", &bad, Some(&a.admin), None).await,
        400,
        "bad_request",
    );
    let g = a.call("DELETE", &uri, Some(&a.admin), None).await;
    assert_eq!(succeeded(&g)["status"], "pending_deletion");
    let rec = a.node.db().key(&key).unwrap().unwrap();
    let after = rec.delete_after.unwrap();
    let now = mpc::clock::now();
    assert!(
        after > now + 3500 && after <= now + 3600,
        "{after} vs {now}"
    );
    failed(
        &a.call("DELETE", &uri, Some(&a.admin), None).await,
        409,
        "wrong_key_state",
    );
    // It no longer signs, here.
    let sign = json!({"key_id": key, "message": "too late"});
    failed(
        &a.json("POST", "/api/v1/sign", &a.admin, sign).await,
        409,
        "wrong_key_state",
    );
    assert!(
        a.node
            .db()
            .audit_rows()
            .unwrap()
            .iter()
            .any(|r| r.action == "key.delete.schedule")
    );
}

/// The document is served without a token, names every route the router serves (the
/// router is built from the annotated handlers, so none can be missing), and the
/// check the other tests run on every answer catches a departure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_every_route_and_catches_a_departure() {
    let a = setup(Config::default());
    let doc = &a.doc;
    assert_eq!(doc.0["openapi"].as_str().map(|v| &v[..2]), Some("3."));
    assert!(doc.0["components"]["securitySchemes"]["bearer"].is_object());
    // Each documented operation is served: none answers 404 `not_found` or 405.
    let paths = doc.0["paths"].as_object().unwrap();
    assert!(paths.len() >= 13, "{paths:?}");
    for (template, ops) in paths {
        let uri = template.replace("{id}", "zzzz");
        for method in ops.as_object().unwrap().keys() {
            let m = method.to_ascii_uppercase();
            let body = (m != "GET" && m != "DELETE").then(|| Body::from("{}"));
            let g = a.call(&m, &uri, Some(&a.admin), body).await;
            assert!(
                g.body["error"]["code"] != "not_found"
                    && g.status != StatusCode::METHOD_NOT_ALLOWED,
                "{m} {uri} is documented but not served: {}",
                g.text
            );
        }
    }
    // A route that is not served is not documented either.
    assert!(doc.route("/api/v1/keys/x/y/z").is_none());
    // The check fails on a missing field, a stranger and a wrong type.
    let good = a
        .call("GET", "/api/v1/keys", Some(&a.reader), None)
        .await
        .body;
    doc.check("GET", "/api/v1/keys", 200, &good).unwrap();
    let mut missing = good.clone();
    missing["data"]["keys"][0]
        .as_object_mut()
        .unwrap()
        .remove("public_key");
    assert!(doc.check("GET", "/api/v1/keys", 200, &missing).is_err());
    let mut stranger = good.clone();
    stranger["data"]["keys"][0]["secret"] = json!("x");
    assert!(doc.check("GET", "/api/v1/keys", 200, &stranger).is_err());
    let mut wrong = good.clone();
    wrong["data"]["keys"][0]["threshold"] = json!("two");
    assert!(doc.check("GET", "/api/v1/keys", 200, &wrong).is_err());
    let mut unwrapped = good;
    unwrapped["meta"] = json!(null);
    assert!(doc.check("GET", "/api/v1/keys", 200, &unwrapped).is_err());
}

/// `POST /sessions` starts work as a job, followed at `GET /sessions/{id}`; a job that
/// fails carries the status and error the request would have had.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_started_through_the_api_are_jobs_to_follow() {
    let a = setup(Config::default());
    let key = a.key.clone();
    let url = "/api/v1/sessions";
    // Scopes by kind; a kind that does not exist; a body that is not one.
    failed(
        &a.json(
            "POST",
            url,
            &a.reader,
            json!({"kind": "sign", "key_id": key, "message": "x"}),
        )
        .await,
        403,
        "forbidden",
    );
    failed(
        &a.json(
            "POST",
            url,
            &a.reader,
            json!({"kind": "refresh", "key_id": key}),
        )
        .await,
        403,
        "forbidden",
    );
    failed(
        &a.json("POST", url, &a.admin, json!({"kind": "dance"}))
            .await,
        400,
        "bad_request",
    );
    failed(
        &a.json(
            "POST",
            &format!("{url}?wait=soon"),
            &a.admin,
            json!({"kind": "presign", "key_id": key}),
        )
        .await,
        400,
        "bad_request",
    );
    // A presignature for an EdDSA key: refused, once the job is over.
    let g = a
        .json(
            "POST",
            &format!("{url}?wait=10s"),
            &a.admin,
            json!({"kind": "presign", "key_id": key}),
        )
        .await;
    failed(&g, 409, "wrong_key_state");
    // A signature with the other nodes down: 202 at once, then the job fails with the
    // request's 503, naming them.
    let g = a
        .json(
            "POST",
            url,
            &a.admin,
            json!({"kind": "sign", "key_id": key, "message": "later"}),
        )
        .await;
    assert_eq!(g.status, StatusCode::ACCEPTED, "{}", g.text);
    let id = g.body["data"]["id"].as_str().unwrap().to_string();
    // Its audit row names the job and the message's digest.
    let row = audit_row(&a, &g);
    assert_eq!((&row["status"], &row["session"]), (&json!(202), &json!(id)));
    assert_eq!(row["message_sha256"], sha256_hex(b"later"));
    let job = loop {
        let g = a
            .call(
                "GET",
                &format!("{url}/{}", &id[..10]),
                Some(&a.reader),
                None,
            )
            .await;
        let job = succeeded(&g).clone();
        if job["status"] != "running" {
            break job;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["kind"], "sign");
    assert_eq!(job["http_status"], 503);
    assert_eq!(job["error"]["code"], "not_enough_nodes");
    // Listed among the sessions.
    let g = a.call("GET", url, Some(&a.reader), None).await;
    assert!(
        succeeded(&g)["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == id),
        "{}",
        g.text
    );
}

/// Members are added by card and fingerprint and removed on this node; the changes
/// are audited and outlive a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_are_added_by_card_and_fingerprint_removed_and_kept_across_a_restart() {
    let a = setup(Config::default());
    let card: Value =
        serde_json::from_slice(&std::fs::read(&a.world.parties[1].card).unwrap()).unwrap();
    let fp = mpc::identity::words(
        &mpc::identity::Card::from_json(card.to_string().as_bytes())
            .unwrap()
            .fingerprint(),
    );
    let url = "/api/v1/nodes";
    failed(
        &a.json(
            "POST",
            url,
            &a.reader,
            json!({"card": card, "fingerprint": fp}),
        )
        .await,
        403,
        "forbidden",
    );
    // A fingerprint that is not the card's; a card that is not one.
    let other = mpc::identity::words(&[7u8; 32]);
    failed(
        &a.json(
            "POST",
            url,
            &a.admin,
            json!({"card": card, "fingerprint": other}),
        )
        .await,
        400,
        "fingerprint_mismatch",
    );
    failed(
        &a.json(
            "POST",
            url,
            &a.admin,
            json!({"card": {"name": "x"}, "fingerprint": fp}),
        )
        .await,
        400,
        "bad_request",
    );
    // The owner's words, read out in capitals with extra spaces, will do.
    let spoken = fp.to_uppercase().replace(' ', "   ");
    let g = a
        .json(
            "POST",
            url,
            &a.admin,
            json!({"card": card, "fingerprint": spoken}),
        )
        .await;
    assert_eq!(g.status, StatusCode::CREATED, "{}", g.text);
    assert_eq!(g.body["data"]["name"], "bob");
    failed(
        &a.json(
            "POST",
            url,
            &a.admin,
            json!({"card": card, "fingerprint": fp}),
        )
        .await,
        409,
        "already_member",
    );
    let g = a.call("GET", url, Some(&a.reader), None).await;
    assert_eq!(succeeded(&g)["nodes"].as_array().unwrap().len(), 2);
    // Alice cannot remove herself; nobody removes a stranger.
    failed(
        &a.call("DELETE", "/api/v1/nodes/alice", Some(&a.admin), None)
            .await,
        409,
        "cannot_remove_self",
    );
    failed(
        &a.call("DELETE", "/api/v1/nodes/zed", Some(&a.admin), None)
            .await,
        404,
        "node_not_found",
    );
    // A restart keeps bob; then bob is removed, and a restart keeps that too.
    let again = node_for(&a.world, Config::default());
    let names: Vec<String> = again
        .cluster
        .members()
        .iter()
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(names, ["alice", "bob"]);
    drop(again);
    let g = a
        .call("DELETE", "/api/v1/nodes/bob", Some(&a.admin), None)
        .await;
    assert_eq!(succeeded(&g)["name"], "bob");
    let again = node_for(&a.world, Config::default());
    assert_eq!(again.cluster.members().len(), 1);
    // Audited.
    let actions: Vec<String> = a
        .node
        .db()
        .audit_rows()
        .unwrap()
        .iter()
        .map(|r| r.action.clone())
        .collect();
    assert!(
        actions.contains(&"serve.member.add".to_string()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"serve.member.remove".to_string()),
        "{actions:?}"
    );
}

/// A request with a client address, as the server's accept loop gives one.
async fn from_address(a: &Api, uri: &str, token: Option<&str>, ip: [u8; 4]) -> StatusCode {
    let mut req = Request::builder().uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let mut req = req.body(Body::empty()).unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            ip, 40000,
        ))));
    a.app.clone().oneshot(req).await.unwrap().status()
}

/// The lines of `/metrics` of the API request counter.
async fn request_series(a: &Api) -> Vec<String> {
    let g = a.call("GET", "/metrics", None, None).await;
    g.text
        .lines()
        .filter(|l| l.starts_with("mpc_http_requests_total{"))
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_paths_and_requests_without_a_token_leave_bounded_traces() {
    let a = setup(Config::default());
    let db_file = a.world.parties[0].home.join("mpc.db");
    let size = |p: &std::path::Path| {
        let wal = p.with_extension("db-wal");
        std::fs::metadata(p).map_or(0, |m| m.len()) + std::fs::metadata(wal).map_or(0, |m| m.len())
    };
    let before_size = size(&db_file);
    let before_rows = a.node.db().audit_rows().unwrap().len();
    // Thousands of unique, long, unmatched paths without a token, from one address.
    let long = "p".repeat(4000);
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..3000 {
        let uri = format!("/api/v1/probe-{i}-{long}");
        let s = from_address(&a, &uri, None, [192, 0, 2, 7]).await;
        *statuses.entry(s.as_u16()).or_insert(0) += 1;
    }
    // The first ten are answered 401 (and audited); the rest are over the address's
    // rate: 429, without an audit row.
    assert!(statuses[&429] >= 2900, "{statuses:?}");
    assert_eq!(statuses.keys().copied().collect::<Vec<_>>(), vec![401, 429]);
    let rows = a.node.db().audit_rows().unwrap();
    let added = &rows[before_rows..];
    assert!(
        added.len() <= 40,
        "{} audit rows for outsiders",
        added.len()
    );
    for r in added {
        assert_eq!(r.subject, "GET (unmatched)");
        let d: Value = serde_json::from_str(&r.detail).unwrap();
        assert!(d["path"]["length"].as_u64().unwrap() > 4000);
        assert_eq!(d["path"]["start"].as_str().unwrap().len(), 64);
        assert!(!r.detail.contains(&long[..100]), "a whole path is stored");
    }
    // Neither /metrics nor the database grew with the paths.
    let series = request_series(&a).await;
    assert!(
        series.iter().all(|l| !l.contains("probe")),
        "a made-up path is a label"
    );
    assert!(series.len() < 60, "{} series", series.len());
    assert!(
        size(&db_file) < before_size + (1 << 20),
        "the database grew by {} bytes",
        size(&db_file) - before_size
    );
    // Another address is not held to the first one's rate, and a valid token never is.
    assert_eq!(
        from_address(&a, "/api/v1/keys", None, [198, 51, 100, 1]).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        from_address(&a, "/api/v1/keys", Some(&a.reader), [192, 0, 2, 7]).await,
        StatusCode::OK
    );
    // With a token, an unmatched path is a 404 audited under the fixed route.
    let g = a
        .call(
            "GET",
            &format!("/api/v1/nope/{long}"),
            Some(&a.reader),
            None,
        )
        .await;
    failed(&g, 404, "not_found");
    let rows = a.node.db().audit_rows().unwrap();
    assert_eq!(rows.last().unwrap().subject, "GET (unmatched)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_need_four_hex_digits_bearer_is_any_case_and_request_ids_are_the_node_s() {
    let a = setup(Config::default());
    let key = a.key.clone();
    for uri in [
        format!("/api/v1/keys/{}", &key[..1]),
        format!("/api/v1/keys/{}", &key[..3]),
        "/api/v1/keys/zzzz".to_string(),
        "/api/v1/sessions/zz".to_string(),
        "/api/v1/sessions/z".to_string(),
    ] {
        failed(
            &a.call("GET", &uri, Some(&a.admin), None).await,
            400,
            "bad_id",
        );
    }
    let g = a
        .call(
            "DELETE",
            &format!("/api/v1/keys/{}", &key[..1]),
            Some(&a.admin),
            None,
        )
        .await;
    failed(&g, 400, "bad_id");
    for k in ["", "a", &key[..2]] {
        let g = a
            .json(
                "POST",
                "/api/v1/sign",
                &a.admin,
                json!({"key_id": k, "message": "m"}),
            )
            .await;
        failed(&g, 400, "bad_id");
    }
    // The key is still there, and four digits find it.
    let g = a
        .call(
            "GET",
            &format!("/api/v1/keys/{}", &key[..4]),
            Some(&a.reader),
            None,
        )
        .await;
    assert_eq!(succeeded(&g)["id"], key.as_str());

    // The scheme's name in any letter case (RFC 7235).
    for scheme in ["bearer", "BEARER", "Bearer", "bEaReR"] {
        let req = Request::builder()
            .uri("/api/v1/keys")
            .header("authorization", format!("{scheme} {}", a.reader))
            .body(Body::empty())
            .unwrap();
        let res = a.app.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{scheme}");
    }
    // Two requests with the same client id get two ids of the node's; the client's is
    // kept in each audit row.
    let mut ids = Vec::new();
    for _ in 0..2 {
        let req = Request::builder()
            .uri("/api/v1/keys")
            .header("authorization", format!("Bearer {}", a.reader))
            .header("x-request-id", "client-chosen-1")
            .body(Body::empty())
            .unwrap();
        let res = a.app.clone().oneshot(req).await.unwrap();
        let rid = res.headers()["x-request-id"].to_str().unwrap().to_string();
        assert_ne!(rid, "client-chosen-1");
        ids.push(rid);
    }
    assert_ne!(ids[0], ids[1]);
    let rows = a.node.db().audit_rows().unwrap();
    for rid in &ids {
        let d: Vec<Value> = rows
            .iter()
            .map(|r| serde_json::from_str::<Value>(&r.detail).unwrap())
            .filter(|d| d["request_id"] == rid.as_str())
            .collect();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0]["client_request_id"], "client-chosen-1");
    }
}

/// The body each documented operation is called with in the key-limit walk.
fn walk_body(method: &str, route: &str, key: &str, public_key: &str) -> Option<Value> {
    Some(match (method, route) {
        ("post", "/api/v1/keys") => json!({"scheme": "eddsa-ed25519", "threshold": 2}),
        ("put", "/api/v1/keys/{id}") => json!({"label": "mine now"}),
        ("post", "/api/v1/sign") => json!({"key_id": key, "message": "m"}),
        ("post", "/api/v1/sign/batch") => json!({"key_id": key, "messages": ["m"]}),
        ("post", "/api/v1/verify") => json!({
            "scheme": "eddsa-ed25519", "public_key": public_key,
            "message": "m", "signature": "00".repeat(64),
        }),
        ("post", "/api/v1/nodes") => json!({"card": {}, "fingerprint": "x"}),
        ("post", "/api/v1/sessions") => json!({"kind": "refresh", "key_id": key}),
        ("post", "/api/v1/keys/{id}/reshare") => json!({"nodes": ["alice", "bob"]}),
        _ => return None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_limited_to_other_keys_reaches_nothing_of_this_key_on_any_route() {
    let a = setup(Config::default());
    let key = a.key.clone();
    // A job of this key, started by an unlimited admin (it fails: no members here).
    let g = a
        .json(
            "POST",
            "/api/v1/sessions",
            &a.admin,
            json!({"kind": "sign", "key_id": key, "message": "not yours"}),
        )
        .await;
    assert_eq!(g.status, StatusCode::ACCEPTED, "{}", g.text);
    let job = g.body["data"]["id"].as_str().unwrap().to_string();
    let limited: Vec<(Scope, String)> = [Scope::Read, Scope::Sign, Scope::Admin]
        .into_iter()
        .map(|s| {
            let keys = Some(vec!["0000000000000000".to_string()]);
            let t = tokens::create(a.node.db(), "limited", s, keys, None)
                .unwrap()
                .1;
            (s, t.to_string())
        })
        .collect();
    let mut walked = Vec::new();
    for (route, item) in a.doc.0["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let uri = route
                .replace("/keys/{id}", &format!("/keys/{key}"))
                .replace("/sessions/{id}", &format!("/sessions/{job}"))
                .replace("/nodes/{id}", "/nodes/alice");
            let body = walk_body(method, route, &key, &a.public_key);
            walked.push(format!("{method} {route}"));
            for (scope, token) in &limited {
                let m = method.to_ascii_uppercase();
                let g = a
                    .call(
                        &m,
                        &uri,
                        Some(token),
                        body.as_ref().map(|b| Body::from(b.to_string())),
                    )
                    .await;
                let status = g.status.as_u16();
                let what = format!("{m} {route} with a limited {scope:?} token: {}", g.text);
                match (method.as_str(), route.as_str()) {
                    // Not about a key: as for any token of the scope.
                    ("get", "/api/v1/nodes")
                    | ("get", "/api/v1/nodes/{id}")
                    | ("get", "/api/v1/nodes/{id}/health")
                    | ("post", "/api/v1/verify") => assert_eq!(status, 200, "{what}"),
                    // Lists leave out what is not the token's.
                    ("get", "/api/v1/keys") => {
                        assert_eq!(status, 200, "{what}");
                        assert!(
                            g.body["data"]["keys"].as_array().unwrap().is_empty(),
                            "{what}"
                        );
                    }
                    ("get", "/api/v1/sessions") => {
                        assert_eq!(status, 200, "{what}");
                        assert!(!g.text.contains(&job), "{what}");
                        assert!(!g.text.contains(&key), "{what}");
                    }
                    // Another key's session is not there for it.
                    ("get", "/api/v1/sessions/{id}") => assert_eq!(status, 404, "{what}"),
                    ("post", "/api/v1/sessions/{id}/join" | "/api/v1/sessions/{id}/cancel") => {
                        let want = if *scope == Scope::Admin { 404 } else { 403 };
                        assert_eq!(status, want, "{what}");
                    }
                    // Everything else on this key, the members and new keys: refused.
                    _ => {
                        assert_eq!(status, 403, "{what}");
                        assert_eq!(g.body["error"]["code"], "forbidden", "{what}");
                    }
                }
            }
        }
    }
    walked.sort();
    assert_eq!(
        walked.len(),
        20,
        "the walk covers every operation: {walked:?}"
    );
    // Nothing was changed, and the job is still there for an unlimited token.
    let g = a
        .call(
            "GET",
            &format!("/api/v1/sessions/{job}"),
            Some(&a.reader),
            None,
        )
        .await;
    assert_eq!(succeeded(&g)["key_id"], key.as_str());
    let g = a
        .call("GET", &format!("/api/v1/keys/{key}"), Some(&a.reader), None)
        .await;
    assert_eq!(succeeded(&g)["label"], "test key");
}
