//! A signing cluster as users run it: three `mpc serve` processes, each with its own
//! home, meeting on an `mpc relay` process (or a NATS JetStream server, at the end),
//! driven over HTTP on 127.0.0.1. Signatures
//! are checked with other implementations (ed25519-dalek, k256, frost-secp256k1).

mod common;

use common::{RelayProc, World, code, stderr, verify_independently};
use serde_json::{Value, json};
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// One `mpc serve` process, killed when dropped.
struct NodeProc {
    child: Child,
    url: String,
    log: std::sync::mpsc::Receiver<String>,
}

impl NodeProc {
    fn start(
        home: &Path,
        relay: &str,
        cluster: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> NodeProc {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("mpc"))
            .envs(env.iter().copied())
            .env("MPC_HOME", home)
            .env("MPC_PASSPHRASE", common::PASS)
            .args([
                "--no-input",
                "--json",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--relay",
                relay,
                // Tests never generate primes.
                "--prime-pool",
                "0",
            ])
            .arg("--cluster")
            .arg(cluster)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let first: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the node did not start ({e}): {line}"));
        let url = format!("http://{}", first["listening"].as_str().unwrap());
        let stderr = child.stderr.take().unwrap();
        let (tx, log) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in std::io::BufReader::new(stderr).lines() {
                let Ok(l) = l else { break };
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        NodeProc { child, url, log }
    }

    fn log_lines(&self) -> Vec<String> {
        self.log.try_iter().collect()
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(300)))
        .build()
        .into()
}

/// Checks an answer against the OpenAPI document every node serves (the same one,
/// built from the same code).
fn documented(method: &str, url: &str, status: u16, body: &Value) {
    static DOC: std::sync::OnceLock<common::openapi::Document> = std::sync::OnceLock::new();
    let doc = DOC.get_or_init(|| {
        common::openapi::Document(serde_json::to_value(mpc::serve::api::document()).unwrap())
    });
    let path = url
        .splitn(4, '/')
        .nth(3)
        .map(|p| format!("/{p}"))
        .unwrap_or_default();
    let path = path.split('?').next().unwrap_or_default();
    if path.starts_with("/api/v1/") {
        doc.check(method, path, status, body)
            .unwrap_or_else(|e| panic!("an answer departs from the document: {e}\n{body}"));
    }
}

/// (status, body) of a request.
fn call(method: &str, url: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let a = agent();
    let auth = format!("Bearer {token}");
    let res = match (method, body) {
        ("GET", _) => a.get(url).header("authorization", &auth).call(),
        (_, Some(b)) => a.post(url).header("authorization", &auth).send_json(&b),
        (m, None) => panic!("{m} without a body"),
    };
    let mut res = res.unwrap();
    let status = res.status().as_u16();
    let v: Value = res.body_mut().read_json().unwrap_or(Value::Null);
    documented(method, url, status, &v);
    (status, v)
}

fn put(url: &str, token: &str, body: Value) -> (u16, Value) {
    let mut res = agent()
        .put(url)
        .header("authorization", &format!("Bearer {token}"))
        .send_json(&body)
        .unwrap();
    let (status, v) = (
        res.status().as_u16(),
        res.body_mut().read_json().unwrap_or(Value::Null),
    );
    documented("PUT", url, status, &v);
    (status, v)
}

/// The bus the nodes meet on.
enum BusProc {
    Relay(RelayProc),
    Nats(common::nats::NatsProc),
    NatsCluster(common::nats::NatsCluster),
}

impl BusProc {
    fn addr(&self) -> &str {
        match self {
            BusProc::Relay(r) => &r.addr,
            BusProc::Nats(n) => &n.addr,
            BusProc::NatsCluster(n) => &n.addr,
        }
    }

    /// Kills the bus process.
    fn stop(&mut self) {
        match self {
            BusProc::Relay(r) => {
                r.child.kill().unwrap();
                r.child.wait().unwrap();
            }
            BusProc::Nats(n) => n.stop(),
            BusProc::NatsCluster(n) => n.servers.iter_mut().for_each(|s| s.stop()),
        }
    }

    /// Starts it again on the same address (a NATS server with the same store).
    fn start_again(&mut self) {
        match self {
            BusProc::Relay(r) => *r = RelayProc::start(&r.addr.clone(), &[]),
            BusProc::Nats(n) => n.start_again(),
            BusProc::NatsCluster(n) => n.servers.iter_mut().for_each(|s| s.start_again()),
        }
    }
}

/// What the bus pushes to a link of the test's own: (sender's key, payload).
type Pushed = std::sync::mpsc::Receiver<([u8; 32], Vec<u8>)>;

struct Cluster {
    world: World,
    bus: BusProc,
    /// Each node's `--nats-creds`, if any.
    creds: Vec<std::path::PathBuf>,
    cluster: std::path::PathBuf,
    nodes: Vec<Option<NodeProc>>,
    /// An admin token per node.
    tokens: Vec<String>,
}

impl Cluster {
    fn start(extra: &[&str]) -> Cluster {
        Cluster::start_with(World::new(3), extra)
    }

    fn start_with(world: World, extra: &[&str]) -> Cluster {
        let relay = RelayProc::start("127.0.0.1:0", &[]);
        Cluster::start_on(world, BusProc::Relay(relay), extra)
    }

    /// A cluster on a NATS JetStream server of its own; `None` (said loudly) without a
    /// `nats-server` binary, outside CI.
    fn start_on_nats(world: World, extra: &[&str]) -> Option<Cluster> {
        let bin = common::nats::nats_server()?;
        let nats = common::nats::NatsProc::fresh(&bin, &[]);
        Some(Cluster::start_on(world, BusProc::Nats(nats), extra))
    }

    fn start_on(world: World, bus: BusProc, extra: &[&str]) -> Cluster {
        Cluster::start_signed_in(world, bus, Vec::new(), extra)
    }

    /// As [`Cluster::start_on`], node `p` signing in to the bus with `creds[p]`.
    fn start_signed_in(
        world: World,
        bus: BusProc,
        creds: Vec<std::path::PathBuf>,
        extra: &[&str],
    ) -> Cluster {
        let mut c = Cluster::start_signed_in_none(world, bus, creds);
        for p in 0..3 {
            let n = c.start_node(p, extra);
            c.nodes.push(Some(n));
        }
        c.wait_up(&[0, 1, 2]);
        c
    }

    /// The cluster file and a token per node, with no node started yet.
    fn start_signed_in_none(world: World, bus: BusProc, creds: Vec<std::path::PathBuf>) -> Cluster {
        let cluster = world.path("cluster.json");
        let mut init = world.mpc(0);
        init.args(["serve", "cluster", "init", "--out"])
            .arg(&cluster);
        for p in &world.parties {
            init.arg(&p.card);
        }
        let out = init.output().unwrap();
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let tokens = (0..world.parties.len())
            .map(|p| {
                let out = world
                    .mpc(p)
                    .args([
                        "--json", "serve", "token", "create", "--scope", "admin", "--name", "test",
                    ])
                    .output()
                    .unwrap();
                assert_eq!(code(&out), 0, "{}", stderr(&out));
                common::json(&out)["token"].as_str().unwrap().to_string()
            })
            .collect();
        Cluster {
            bus,
            creds,
            cluster,
            nodes: Vec::new(),
            tokens,
            world,
        }
    }

    /// As [`Cluster::start_signed_in`], starting only the nodes `up` (the first ones,
    /// in order); the test starts the others.
    fn start_signed_in_some(
        world: World,
        bus: BusProc,
        creds: Vec<std::path::PathBuf>,
        up: &[usize],
    ) -> Cluster {
        let mut c = Cluster::start_signed_in_none(world, bus, creds);
        for &p in up {
            let n = c.start_node(p, &[]);
            c.nodes.push(Some(n));
        }
        c.wait_up(up);
        c
    }

    fn start_node(&self, p: usize, extra: &[&str]) -> NodeProc {
        self.start_node_with(p, extra, &[])
    }

    /// As [`Cluster::start_node`], with `env` set for the node's process.
    fn start_node_with(&self, p: usize, extra: &[&str], env: &[(&str, &str)]) -> NodeProc {
        let mut args = extra.to_vec();
        if let Some(creds) = self.creds.get(p) {
            args.extend(["--nats-creds", creds.to_str().unwrap()]);
        }
        NodeProc::start(
            &self.world.parties[p].home,
            self.bus.addr(),
            &self.cluster,
            &args,
            env,
        )
    }

    fn url(&self, p: usize, path: &str) -> String {
        format!("{}/api/v1{path}", self.nodes[p].as_ref().unwrap().url)
    }

    /// Waits until node `via` of the first listed sees every listed node up.
    fn wait_up(&self, who: &[usize]) {
        let deadline = Instant::now() + Duration::from_secs(30);
        for &via in who {
            loop {
                let (status, v) = call("GET", &self.url(via, "/nodes"), &self.tokens[via], None);
                assert_eq!(status, 200, "{v}");
                // By name: a member removed and added again is listed last.
                let nodes = v["data"]["nodes"].as_array().unwrap();
                let up: Vec<bool> = who
                    .iter()
                    .map(|&p| {
                        let name = &self.world.parties[p].name;
                        nodes.iter().any(|n| n["name"] == *name && n["up"] == true)
                    })
                    .collect();
                if up.iter().all(|u| *u) {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "nodes not up: {v}\n{}",
                    self.logs()
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    /// A 2-of-2 Ed25519 key of alice and bob, made through alice: its `data`.
    fn alice_and_bob_key(&self) -> Value {
        let (status, key) = call(
            "POST",
            &self.url(0, "/keys"),
            &self.tokens[0],
            Some(json!({"scheme": "eddsa-ed25519", "threshold": 2, "nodes": ["alice", "bob"]})),
        );
        assert_eq!(status, 201, "{key}");
        key["data"].clone()
    }

    fn keygen(&self, via: usize, scheme: &str) -> Value {
        let (status, v) = call(
            "POST",
            &self.url(via, "/keys"),
            &self.tokens[via],
            Some(json!({"scheme": scheme, "threshold": 2, "label": format!("lab {scheme}")})),
        );
        if status == 202 {
            // Slower than the node waits (a loaded machine, ECDSA aux info): follow the
            // job, as a client would.
            let job = v["data"]["id"].as_str().unwrap().to_string();
            return self.follow(via, &job);
        }
        assert_eq!(status, 201, "{v}\n{}", self.logs());
        v["data"].clone()
    }

    /// Signs through node `via` until an answer (each verified) satisfies `done`, within
    /// 20 s; that answer's data.
    fn sign_until(
        &self,
        via: usize,
        key: &Value,
        scheme: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let id = key["id"].as_str().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        for k in 0.. {
            let message = format!("through {via}, try {k}");
            let (status, v) = self.sign(via, id, &message);
            assert_eq!(status, 200, "{v}\n{}", self.logs());
            verified(scheme, key, &message, &v["data"]);
            if done(&v["data"]) {
                return v["data"].clone();
            }
            assert!(Instant::now() < deadline, "never signed as wanted: {v}");
            std::thread::sleep(Duration::from_millis(100));
        }
        unreachable!()
    }

    /// Follows job `id` on node `via` until it is over; its result.
    fn follow(&self, via: usize, id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let (status, v) = call(
                "GET",
                &self.url(via, &format!("/sessions/{id}")),
                &self.tokens[via],
                None,
            );
            assert_eq!(status, 200, "{v}");
            if v["data"]["status"] != "running" {
                assert_eq!(v["data"]["status"], "done", "{v}\n{}", self.logs());
                return v["data"]["result"].clone();
            }
            assert!(Instant::now() < deadline, "job {id} never ended");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// What every running node has logged since last asked, for a failure's message.
    fn logs(&self) -> String {
        let mut out = String::new();
        for (p, n) in self.nodes.iter().enumerate() {
            if let Some(n) = n {
                out += &format!("--- node {p}\n{}\n", n.log_lines().join("\n"));
            }
        }
        out
    }

    fn sign(&self, via: usize, key: &str, message: &str) -> (u16, Value) {
        call(
            "POST",
            &self.url(via, "/sign"),
            &self.tokens[via],
            Some(json!({"key_id": key, "message": message})),
        )
    }

    fn kill(&mut self, p: usize) {
        self.nodes[p] = None;
    }

    /// The test plays member `p`: its node stops, and its identity joins the bus from
    /// here. Its home, its identity, its bus link, and what arrives for it.
    #[allow(clippy::type_complexity)]
    fn play(
        &mut self,
        p: usize,
    ) -> (
        mpc::store::Home,
        std::sync::Arc<mpc::identity::Identity>,
        std::sync::Arc<mpc::serve::bus::Bus>,
        Pushed,
    ) {
        self.kill(p);
        let home = mpc::store::Home::resolve(Some(self.world.parties[p].home.clone()));
        let id = std::sync::Arc::new(
            home.unlock(&age::secrecy::SecretString::from(common::PASS.to_string()))
                .unwrap(),
        );
        let (bus, rx) = self.join_bus(id.clone());
        (home, id, bus, rx)
    }

    /// Joins the cluster's bus as `id`, from the test (see [`join_bus`]).
    fn join_bus(
        &self,
        id: std::sync::Arc<mpc::identity::Identity>,
    ) -> (std::sync::Arc<mpc::serve::bus::Bus>, Pushed) {
        join_bus(self.bus.addr(), id)
    }

    /// Asks node `via` to sign `message` with `key_id`, from a thread: its answer.
    fn sign_in_background(
        &self,
        via: usize,
        key_id: &str,
        message: &str,
    ) -> std::thread::JoinHandle<(u16, Value)> {
        let (url, token) = (self.url(via, "/sign"), self.tokens[via].clone());
        let body = json!({"key_id": key_id, "message": message});
        std::thread::spawn(move || call("POST", &url, &token, Some(body)))
    }

    /// Node `p`'s operator joins (approves) session `sid`: the answer.
    fn join_session(&self, p: usize, sid: &str) -> (u16, Value) {
        call(
            "POST",
            &self.url(p, &format!("/sessions/{sid}/join")),
            &self.tokens[p],
            Some(json!({})),
        )
    }

    /// The first session (of `key_id`, if given) that waits on node `p` for its
    /// operator's approval, waiting up to `within` for one.
    fn awaiting_approval(&self, p: usize, key_id: Option<&str>, within: Duration) -> Value {
        eventually(within, Duration::from_millis(20), || {
            let (status, v) = call("GET", &self.url(p, "/sessions"), &self.tokens[p], None);
            assert_eq!(status, 200, "{v}");
            v["data"]["sessions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| {
                    s["status"] == "awaiting_approval" && key_id.is_none_or(|k| s["key_id"] == k)
                })
                .cloned()
                .ok_or_else(|| format!("no session waits on node {p}: {v}"))
        })
    }

    /// Waits until node 0 (alice) holds a presignature in its pool.
    fn wait_for_a_presignature(&self) {
        self.wait_for_a_presignature_on(0);
    }

    /// Waits until node `p` holds a presignature in its pool.
    fn wait_for_a_presignature_on(&self, p: usize) {
        let deadline = Instant::now() + Duration::from_secs(240);
        let name = &self.world.parties[p].name;
        loop {
            let (_, h) = call(
                "GET",
                &self.url(p, &format!("/nodes/{name}/health")),
                &self.tokens[p],
                None,
            );
            if h["data"]["own"]["presignature_pool"].as_u64().unwrap_or(0) >= 1 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no presignature made: {h}\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Member `p`'s key on the bus.
    fn node_key(&self, p: usize) -> [u8; 32] {
        let card =
            mpc::identity::Card::from_json(&std::fs::read(&self.world.parties[p].card).unwrap())
                .unwrap();
        mpc::serve::cluster::card_key(&card)
    }

    /// No node's log holds the passphrase, a token, or any node's share of the Ed25519
    /// key `key_id` (its signing share, in hex or base64).
    fn assert_logs_hold_no_secret(&self, key_id: &str) {
        let logs = self.logs();
        assert!(!logs.is_empty());
        assert!(!logs.contains(common::PASS), "a log holds the passphrase");
        for t in &self.tokens {
            let secret = t.rsplit('_').next().unwrap();
            assert!(!logs.contains(secret), "a log holds a token");
        }
        for party in &self.world.parties {
            let home = mpc::store::Home::resolve(Some(party.home.clone()));
            let id = home
                .unlock(&age::secrecy::SecretString::from(common::PASS.to_string()))
                .unwrap();
            let share = mpc::ceremony::load_share(&home, &id, key_id).unwrap();
            let kp =
                frost_ed25519::keys::KeyPackage::deserialize(share.key_package.expose()).unwrap();
            let secret = kp.signing_share().serialize();
            let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &secret);
            for form in [hex::encode(&secret), b64] {
                assert!(!logs.contains(&form), "a log holds {}'s share", party.name);
            }
        }
    }
}

/// Joins the bus at `addr` as `id`, from the test: its link, once connected, and what
/// arrives for it.
fn join_bus(
    addr: &str,
    id: std::sync::Arc<mpc::identity::Identity>,
) -> (std::sync::Arc<mpc::serve::bus::Bus>, Pushed) {
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let bus = mpc::serve::bus::Bus::start(
        addr,
        Default::default(),
        id,
        std::sync::Arc::new(move |from, payload| {
            let _ = tx.lock().unwrap().send((from, payload));
        }),
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !bus.connected() {
        assert!(Instant::now() < deadline, "never on the bus");
        std::thread::sleep(Duration::from_millis(50));
    }
    (std::sync::Arc::new(bus), rx)
}

fn verified(scheme: &str, key: &Value, message: &str, sig: &Value) {
    let pk = hex::decode(key["public_key"].as_str().unwrap()).unwrap();
    let s = hex::decode(sig["signature"].as_str().unwrap()).unwrap();
    assert!(
        verify_independently(scheme, &pk, message.as_bytes(), &s),
        "{scheme}: {sig}"
    );
}

#[test]
fn a_three_node_cluster_makes_keys_and_signs_through_every_node_for_every_frost_scheme() {
    let c = Cluster::start(&["--keygen-timeout", "20s"]);
    for (i, scheme) in ["eddsa-ed25519", "schnorr-secp256k1-tr", "schnorr-secp256k1"]
        .into_iter()
        .enumerate()
    {
        // Any node coordinates a key generation; every node then holds the same key.
        let key = c.keygen(i, scheme);
        let id = key["id"].as_str().unwrap();
        assert_eq!(key["parties"], json!(["alice", "bob", "carol"]));
        for p in 0..3 {
            let (status, v) = call("GET", &c.url(p, &format!("/keys/{id}")), &c.tokens[p], None);
            assert_eq!(status, 200, "{v}");
            assert_eq!(v["data"]["public_key"], key["public_key"]);
        }
        // Each node coordinates a signature, with itself among the signers; once the
        // nonce pools have met, in one round trip.
        for p in 0..3 {
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut k = 0;
            loop {
                let message = format!("{scheme} through node {p}, try {k}");
                let (status, sig) = c.sign(p, id, &message);
                assert_eq!(status, 200, "{sig}");
                let data = &sig["data"];
                assert_eq!(data["signers"].as_array().unwrap().len(), 2);
                assert!(
                    data["signers"]
                        .as_array()
                        .unwrap()
                        .contains(&json!(c.world.parties[p].name))
                );
                verified(scheme, &key, &message, data);
                if data["mode"] == "preprocessed" {
                    break;
                }
                assert_eq!(data["mode"], "full");
                assert!(
                    Instant::now() < deadline,
                    "never signed from the nonce pools"
                );
                std::thread::sleep(Duration::from_millis(200));
                k += 1;
            }
        }
        // A batch: many messages, one request; once the pools hold enough, one round
        // trip for all of them.
        let deadline = Instant::now() + Duration::from_secs(20);
        for k in 0.. {
            let messages: Vec<String> = (0..10)
                .map(|i| format!("{scheme} batch {k} item {i}"))
                .collect();
            let (status, v) = call(
                "POST",
                &c.url(1, "/sign/batch"),
                &c.tokens[1],
                Some(json!({"key_id": id, "messages": messages})),
            );
            assert_eq!(status, 200, "{v}");
            let sigs = v["data"]["signatures"].as_array().unwrap();
            assert_eq!(sigs.len(), 10);
            for (m, s) in messages.iter().zip(sigs) {
                verified(scheme, &key, m, s);
            }
            if sigs[0]["mode"] == "preprocessed" {
                assert!(
                    sigs.iter().all(|s| s["session"] == sigs[0]["session"]),
                    "{v}"
                );
                break;
            }
            assert!(
                Instant::now() < deadline,
                "a batch never signed in one round trip"
            );
            std::thread::sleep(Duration::from_millis(300));
        }
        if scheme != "eddsa-ed25519" {
            continue;
        }
        // Rotation: new shares of the same key on every node; the old ones are gone,
        // and the nodes sign on with the new ones (the nonce pools refill for them).
        let (status, v) = call(
            "POST",
            &c.url(2, &format!("/keys/{id}/rotate")),
            &c.tokens[2],
            Some(json!({})),
        );
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["data"]["public_key"], key["public_key"]);
        assert_eq!(v["data"]["status"], "active");
        assert!(v["data"]["transcript_words"].is_string(), "{v}");
        assert_eq!(
            v["data"]["addresses"]["solana"]
                .as_str()
                .map(|a| bs58::decode(a).into_vec().unwrap()),
            Some(hex::decode(key["public_key"].as_str().unwrap()).unwrap())
        );
        for p in 0..3 {
            let rows = audit_rows(&c.world, p);
            assert!(
                rows.iter().any(|r| r["action"] == "refresh.complete"),
                "node {p} did not record the rotation"
            );
        }
        for p in 0..3 {
            c.sign_until(p, &key, scheme, |d| d["mode"] == "preprocessed");
        }
    }
    // Work started as a job: a key generation answered 202 at once and followed at
    // GET /sessions/{id}, then a signature started through POST /sessions.
    let (status, v) = call(
        "POST",
        &c.url(0, "/keys?wait=0s"),
        &c.tokens[0],
        Some(json!({"scheme": "eddsa-ed25519", "threshold": 2})),
    );
    assert_eq!(status, 202, "{v}");
    assert_eq!(v["data"]["status"], "running");
    let job = v["data"]["id"].as_str().unwrap().to_string();
    let key = c.follow(0, &job);
    let id = key["id"].as_str().unwrap();
    for p in 0..3 {
        let (status, v) = call("GET", &c.url(p, &format!("/keys/{id}")), &c.tokens[p], None);
        assert_eq!(status, 200, "{v}");
    }
    let (status, v) = call(
        "POST",
        &c.url(1, "/sessions?wait=20s"),
        &c.tokens[1],
        Some(json!({"kind": "sign", "key_id": id, "message": "a job"})),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"]["kind"], "sign");
    verified("eddsa-ed25519", &key, "a job", &v["data"]["result"]);

    // The coordinators counted their signatures, by scheme and mode.
    let metrics = agent()
        .get(&format!("{}/metrics", c.nodes[1].as_ref().unwrap().url))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(
        metrics.contains("mpc_signatures_total{scheme=\"eddsa-ed25519\",mode=\"preprocessed\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("mpc_bus_connected 1"), "{metrics}");
}

/// Audit rows of a home, by `mpc audit log --json` (the node may be running).
fn audit_rows(w: &World, p: usize) -> Vec<Value> {
    let out = w.mpc(p).args(["--json", "audit", "log"]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    common::json(&out)["entries"].as_array().unwrap().clone()
}

fn detail(row: &Value) -> Value {
    serde_json::from_str(row["detail"].as_str().unwrap()).unwrap()
}

#[test]
fn two_hundred_concurrent_requests_each_succeed_or_fail_cleanly_and_nothing_is_used_twice() {
    two_hundred_concurrent_requests(&Cluster::start(&["--session-timeout", "10s"]));
}

/// 200 concurrent signing requests through the three nodes of `c`, which has signed
/// nothing yet: at least 190 sign (each verified), the rest fail cleanly; every node
/// audits each request once and spends no nonce twice, and no log holds a secret.
fn two_hundred_concurrent_requests(c: &Cluster) {
    let key = c.keygen(0, "eddsa-ed25519");
    let id = key["id"].as_str().unwrap().to_string();
    // The pools meet: every node holds commitments of at least one other signer
    // (its own pool for itself is 1024 of them).
    let deadline = Instant::now() + Duration::from_secs(60);
    for p in 0..3 {
        let name = &c.world.parties[p].name;
        loop {
            let (_, h) = call(
                "GET",
                &c.url(p, &format!("/nodes/{name}/health")),
                &c.tokens[p],
                None,
            );
            if h["data"]["own"]["nonce_pool_held"].as_u64().unwrap_or(0) >= 2048 {
                break;
            }
            assert!(Instant::now() < deadline, "node {p}'s pools never met: {h}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let urls: Vec<String> = (0..3).map(|p| c.url(p, "/sign")).collect();
    let results: Vec<(usize, String, u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..200)
            .map(|i| {
                let (urls, tokens, id) = (&urls, &c.tokens, &id);
                s.spawn(move || {
                    let p = i % 3;
                    let message = format!("concurrent request {i}");
                    let body = json!({"key_id": id, "message": message});
                    let (status, v) = call("POST", &urls[p], &tokens[p], Some(body));
                    (p, message, status, v)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut ok = 0;
    for (_, message, status, v) in &results {
        match status {
            200 => {
                verified("eddsa-ed25519", &key, message, &v["data"]);
                ok += 1;
            }
            // A clean failure: the envelope, a stable code, nothing else.
            503 | 504 => {
                assert_eq!(v["success"], false, "{v}");
                assert!(v["error"]["code"].is_string(), "{v}");
            }
            other => panic!("status {other}: {v}"),
        }
    }
    assert!(ok >= 190, "only {ok} of 200 signed");
    // Every node: exactly one audit row per request it answered, and no nonce spent
    // twice for any coordinator.
    let mut total_spent = 0;
    for p in 0..3 {
        let rows = audit_rows(&c.world, p);
        let answered = results.iter().filter(|r| r.0 == p).count();
        let sign_rows: Vec<&Value> = rows
            .iter()
            .filter(|r| r["action"] == "api" && r["subject"] == "POST /api/v1/sign")
            .collect();
        assert_eq!(sign_rows.len(), answered, "node {p}");
        let mut ids: Vec<String> = sign_rows
            .iter()
            .map(|r| detail(r)["request_id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), answered, "node {p}: a request id twice");
        let mut spent: Vec<(String, u64)> = rows
            .iter()
            .filter(|r| r["action"] == "serve.sign")
            .filter_map(|r| {
                let d = detail(r);
                d["nonce"]
                    .as_u64()
                    .map(|n| (d["proposer"].as_str().unwrap().to_string(), n))
            })
            .collect();
        let n = spent.len();
        total_spent += n;
        spent.sort();
        spent.dedup();
        assert_eq!(spent.len(), n, "node {p} spent a nonce twice");
        let out = c.world.mpc(p).args(["audit", "verify"]).output().unwrap();
        assert_eq!(code(&out), 0, "node {p}: {}", stderr(&out));
    }
    assert!(total_spent > 0, "no request took the one-round-trip path");
    c.assert_logs_hold_no_secret(&id);
}

#[test]
fn policies_belong_to_each_node_and_a_refusal_names_the_node() {
    let c = Cluster::start(&["--approval-timeout", "4s", "--log-format", "json"]);
    // A 2-of-2 key of alice and bob: alice cannot sign without bob.
    let key = c.alice_and_bob_key();
    let id = key["id"].as_str().unwrap();
    // Bob's own policy for the key: never. Alice coordinates; bob refuses, named.
    let (status, v) = put(
        &c.url(1, &format!("/keys/{id}")),
        &c.tokens[1],
        json!({"policy": {"mode": "never"}}),
    );
    assert_eq!(status, 200, "{v}");
    let (status, v) = c.sign(0, id, "refused by bob");
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["error"]["code"], "policy_refused");
    assert_eq!(v["error"]["details"]["node"], "bob");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("never"),
        "{v}"
    );
    // Bob's log (`--log-format json`): an object per line, and his refusal is an event
    // in the span of its session, which names the key.
    let mut bobs = Vec::new();
    let refusal = eventually(Duration::from_secs(5), Duration::from_millis(50), || {
        bobs.extend(c.nodes[1].as_ref().unwrap().log_lines());
        let events: Vec<Value> = bobs
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect();
        events
            .into_iter()
            .find(|e| {
                e["fields"]["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("declined"))
            })
            .ok_or_else(|| format!("no refusal in bob's log: {bobs:?}"))
    });
    // A one-round-trip request (bob's nonces were ready) or a whole session.
    assert_eq!(refusal["level"], "WARN", "{refusal}");
    let span = &refusal["span"]["name"];
    assert!(span == "fast_sign" || span == "session", "{refusal}");
    assert_eq!(refusal["span"]["key"], id, "{refusal}");
    // Alice's own policy is hers: still auto.
    let (_, mine) = call("GET", &c.url(0, &format!("/keys/{id}")), &c.tokens[0], None);
    assert_eq!(mine["data"]["policy"]["mode"], "auto");
    // Bob allows it again: they sign.
    let (status, v) = put(
        &c.url(1, &format!("/keys/{id}")),
        &c.tokens[1],
        json!({"policy": {"mode": "auto"}}),
    );
    assert_eq!(status, 200, "{v}");
    let (status, v) = c.sign(0, id, "alice and bob");
    assert_eq!(status, 200, "{v}");
    verified("eddsa-ed25519", &key, "alice and bob", &v["data"]);
    // Bob audited his refusal.
    let out = c
        .world
        .mpc(1)
        .args(["--json", "audit", "log"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("serve.decline"));

    // Approval: bob's operator must join each session. Alice's request waits for it.
    let (status, v) = put(
        &c.url(1, &format!("/keys/{id}")),
        &c.tokens[1],
        json!({"policy": {"mode": "approval"}}),
    );
    assert_eq!(status, 200, "{v}");
    let ask = |message: &str| c.sign_in_background(0, id, message);
    let waiting_on_bob = || c.awaiting_approval(1, None, Duration::from_secs(3));
    let pending = ask("approved by bob's operator");
    let s = waiting_on_bob();
    assert_eq!(s["key_id"], id);
    assert_eq!(s["proposer"], "alice");
    assert_eq!(
        s["message_sha256"],
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
            b"approved by bob's operator"
        ))
    );
    let sid = s["id"].as_str().unwrap().to_string();
    // Alice's token means nothing to bob's node; an admin token of bob's does.
    let (status, _) = call(
        "POST",
        &c.url(1, &format!("/sessions/{sid}/join")),
        &c.tokens[0],
        Some(json!({})),
    );
    assert_eq!(status, 401, "alice's token is not bob's");
    let (status, v) = call(
        "POST",
        &c.url(1, &format!("/sessions/{}/join", &sid[..12])),
        &c.tokens[1],
        Some(json!({})),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"]["status"], "approved");
    let (status, v) = pending.join().unwrap();
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"]["mode"], "full");
    verified(
        "eddsa-ed25519",
        &key,
        "approved by bob's operator",
        &v["data"],
    );
    // Joined once: a second join finds the session no longer waiting.
    let (status, v) = c.join_session(1, &sid);
    assert_eq!(status, 409, "{v}");
    assert_eq!(v["error"]["code"], "not_awaiting_approval");

    // An operator cancels the session on node `p`: alice's request fails at once,
    // naming that node; the session's id.
    let cancelled_on = |p: usize, message: &'static str| {
        let pending = ask(message);
        let sid = waiting_on_bob()["id"].as_str().unwrap().to_string();
        let (status, v) = call(
            "POST",
            &c.url(p, &format!("/sessions/{sid}/cancel")),
            &c.tokens[p],
            Some(json!({})),
        );
        assert_eq!(status, 200, "{v}");
        let (status, v) = pending.join().unwrap();
        assert_eq!(status, 409, "{v}");
        assert_eq!(v["error"]["code"], "cancelled");
        assert_eq!(v["error"]["details"]["node"], c.world.parties[p].name);
        sid
    };
    // Bob's operator refuses the waiting session.
    cancelled_on(1, "cancelled by bob's operator");
    // Alice's operator cancels her running session, and bob stops waiting for his
    // operator (alice told him).
    let sid = cancelled_on(0, "cancelled by alice's operator");
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let (_, v) = call(
            "GET",
            &c.url(1, &format!("/sessions/{sid}")),
            &c.tokens[1],
            None,
        );
        if v["data"]["status"] != "awaiting_approval" {
            break;
        }
        assert!(Instant::now() < deadline, "bob still waits: {v}");
        std::thread::sleep(Duration::from_millis(50));
    }

    // Nobody answers: the request fails when bob's approval timeout passes.
    let started = Instant::now();
    let (status, v) = ask("never approved").join().unwrap();
    assert_eq!(status, 504, "{v}");
    assert_eq!(v["error"]["code"], "approval_timed_out");
    assert_eq!(v["error"]["details"]["node"], "bob");
    assert!(started.elapsed() < Duration::from_secs(15), "{v}");
    let (status, v) = c.join_session(1, "00000000");
    assert_eq!(status, 404, "{v}");
    // Bob audited each answer: who approved, and why the others were not joined.
    let rows = audit_rows(&c.world, 1);
    let decisions: Vec<Value> = rows
        .iter()
        .filter(|r| r["action"] == "serve.sign" || r["action"] == "serve.decline")
        .map(detail)
        .filter(|d| d["path"] == "full")
        .collect();
    assert!(
        decisions
            .iter()
            .any(|d| d["approved_by"].is_string() && d["joined"] == true),
        "{decisions:?}"
    );
    assert!(
        decisions.iter().any(|d| d["joined"] == false
            && d["reason"]
                .as_str()
                .unwrap()
                .contains("refused the session")),
        "{decisions:?}"
    );
    assert!(
        decisions.iter().any(|d| d["joined"] == false
            && d["reason"]
                .as_str()
                .unwrap()
                .contains("no operator approved")),
        "{decisions:?}"
    );

    // Membership is each node's own: alice removes bob, and signs nothing with him
    // (the 2-of-2 key has no other pair), while his proposals to her are dropped.
    let (status, v) = put(
        &c.url(1, &format!("/keys/{id}")),
        &c.tokens[1],
        json!({"policy": {"mode": "auto"}}),
    );
    assert_eq!(status, 200, "{v}");
    let gone = agent()
        .delete(&c.url(0, "/nodes/bob"))
        .header("authorization", &format!("Bearer {}", c.tokens[0]))
        .call()
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(gone, 200);
    let (status, v) = c.sign(0, id, "bob is no member of alice's");
    assert_eq!(status, 503, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a cluster member"),
        "{v}"
    );
    let (status, v) = c.sign(1, id, "alice ignores bob");
    assert_eq!(status, 504, "{v}");
    assert_eq!(v["error"]["details"]["awaited"], json!(["alice"]), "{v}");
    // Bob comes back by his card, confirmed by his fingerprint: they sign again.
    let card: Value =
        serde_json::from_slice(&std::fs::read(&c.world.parties[1].card).unwrap()).unwrap();
    let fingerprint = mpc::identity::words(
        &mpc::identity::Card::from_json(card.to_string().as_bytes())
            .unwrap()
            .fingerprint(),
    );
    let (status, v) = call(
        "POST",
        &c.url(0, "/nodes"),
        &c.tokens[0],
        Some(json!({"card": card, "fingerprint": fingerprint})),
    );
    assert_eq!(status, 201, "{v}");
    c.wait_up(&[0, 1]);
    let (status, v) = c.sign(0, id, "bob is back among alice's members");
    assert_eq!(status, 200, "{v}");
    verified(
        "eddsa-ed25519",
        &key,
        "bob is back among alice's members",
        &v["data"],
    );
}

#[test]
fn a_killed_node_fails_the_request_in_bounded_time_naming_it_and_the_rest_sign() {
    let mut c = Cluster::start(&["--session-timeout", "3s"]);
    let key = c.keygen(0, "eddsa-ed25519");
    let id = key["id"].as_str().unwrap().to_string();
    // A 2-of-2 key of alice and bob: without bob, no other pair can sign it.
    let pair = c.alice_and_bob_key()["id"].as_str().unwrap().to_string();
    // Once alice holds bob's commitments she asks him first; when bob declines the
    // 2-of-3 key (his policy), she signs with carol instead, saying so.
    c.sign_until(0, &key, "eddsa-ed25519", |d| {
        d["mode"] == "preprocessed" && d["signers"] == json!(["alice", "bob"])
    });
    let (status, v) = put(
        &c.url(1, &format!("/keys/{id}")),
        &c.tokens[1],
        json!({"policy": {"mode": "never"}}),
    );
    assert_eq!(status, 200, "{v}");
    let (status, v) = c.sign(0, &id, "without bob");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"]["signers"], json!(["alice", "carol"]), "{v}");
    assert_eq!(v["data"]["retried_without"], json!(["bob"]), "{v}");
    verified("eddsa-ed25519", &key, "without bob", &v["data"]);
    let (status, v) = put(
        &c.url(1, &format!("/keys/{id}")),
        &c.tokens[1],
        json!({"policy": {"mode": "auto"}}),
    );
    assert_eq!(status, 200, "{v}");
    c.kill(1);
    // At once, bob may still look up to alice: a request for the 2-of-2 key waits for
    // him and fails within the session timeout naming him (503 if his silence is
    // noticed first), with no other pair to try.
    let started = Instant::now();
    let (status, v) = c.sign(0, &pair, "bob is needed");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(status == 504 || status == 503, "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("bob"),
        "{v}"
    );
    // By node name, whichever path timed out (a retry leaves out what it names).
    if status == 504 {
        assert_eq!(v["error"]["details"]["awaited"], json!(["bob"]), "{v}");
    }
    // At once, bob may still look up to alice: then she asks him, waits out the
    // session timeout, and signs with carol instead, saying so. (She may also pick
    // carol at once, when she holds no commitments of bob's.) Either way, in bounded
    // time, without bob.
    let started = Instant::now();
    let (status, v) = c.sign(0, &id, "bob is gone");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"]["signers"], json!(["alice", "carol"]), "{v}");
    verified("eddsa-ed25519", &key, "bob is gone", &v["data"]);
    if let Some(without) = v["data"].get("retried_without") {
        assert_eq!(without, &json!(["bob"]), "{v}");
    }

    // Once bob's silence is noticed, alice signs with carol.
    std::thread::sleep(Duration::from_secs(5));
    let (status, v) = c.sign(0, &id, "alice and carol");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"]["signers"], json!(["alice", "carol"]));
    verified("eddsa-ed25519", &key, "alice and carol", &v["data"]);
    // With carol gone too, no two signers are up: 503 naming both.
    c.kill(2);
    std::thread::sleep(Duration::from_secs(5));
    let (status, v) = c.sign(0, &id, "nobody");
    assert_eq!(status, 503, "{v}");
    assert_eq!(
        v["error"]["details"]["unreachable"],
        json!(["bob", "carol"])
    );
    // Bob comes back and signs again.
    c.nodes[1] = Some(c.start_node(1, &["--session-timeout", "3s"]));
    c.wait_up(&[0, 1]);
    let (status, v) = c.sign(0, &id, "bob is back");
    assert_eq!(status, 200, "{v}");
    verified("eddsa-ed25519", &key, "bob is back", &v["data"]);
}

#[test]
fn a_restarted_bus_is_rejoined_and_signing_resumes() {
    signing_resumes_after_the_bus_restarts(Cluster::start(&[]));
}

/// Clients sign through every node while the bus goes away and comes back: each request
/// gets a signature or a clean 503/504 in bounded time, and signing goes on.
fn signing_resumes_after_the_bus_restarts(c: Cluster) {
    signing_through_a_bus_fault(c, true);
}

/// As [`signing_resumes_after_the_bus_restarts`], or (`restart` false) with one server
/// of a 3-server NATS cluster killed for good: the nodes carry on through the other two,
/// and every request still gets a clean answer in bounded time.
fn signing_through_a_bus_fault(mut c: Cluster, restart: bool) {
    let key = c.keygen(0, "schnorr-secp256k1-tr");
    let id = key["id"].as_str().unwrap().to_string();
    let (status, v) = c.sign(1, &id, "before");
    assert_eq!(status, 200, "{v}");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|k| {
            let (url, token) = (c.url(k % 3, "/sign"), c.tokens[k % 3].clone());
            let (id, stop) = (id.clone(), std::sync::Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut answers = Vec::new();
                for i in 0.. {
                    if stop.load(std::sync::atomic::Ordering::SeqCst) {
                        break;
                    }
                    let message = format!("client {k} request {i}");
                    let started = Instant::now();
                    let (status, v) = call(
                        "POST",
                        &url,
                        &token,
                        Some(json!({"key_id": id, "message": message})),
                    );
                    answers.push((message, status, v, started.elapsed()));
                    if status != 200 {
                        // As a client would: a refusal (often at once, while the bus is
                        // away) is not retried in a tight loop into the rate limit.
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
                answers
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    if restart {
        // The bus restarts on the same address: every node reconnects by itself.
        c.bus.stop();
        let ready = format!("{}/health/ready", c.nodes[1].as_ref().unwrap().url);
        let deadline = Instant::now() + Duration::from_secs(10);
        while call("GET", &ready, "", None).0 != 503 {
            assert!(Instant::now() < deadline, "still ready with the bus down");
            std::thread::sleep(Duration::from_millis(50));
        }
        // A request made while the node's link is down is refused at once (the
        // clients' requests under way may instead be retried and signed once the bus
        // is back, so they need not show it).
        let asked = Instant::now();
        let (status, v) = c.sign(1, &id, "while the bus is down");
        assert_eq!(status, 503, "{v}");
        assert!(asked.elapsed() < Duration::from_secs(2), "{v}");
        std::thread::sleep(Duration::from_millis(500));
        c.bus.start_again();
    } else {
        let BusProc::NatsCluster(n) = &mut c.bus else {
            panic!("not a NATS cluster")
        };
        // The server leading the stream of node messages: its followers take over.
        let leader = n.leader_of("MPC_NODES");
        n.servers[leader].stop();
        std::thread::sleep(Duration::from_secs(3));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, v) = c.sign(1, &id, "after");
        if status == 200 {
            verified("schnorr-secp256k1-tr", &key, "after", &v["data"]);
            break;
        }
        assert!(matches!(status, 503 | 504), "{v}");
        assert!(
            Instant::now() < deadline,
            "no signature after the bus restarted: {v}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    // Every request under way got a clean answer in bounded time: a signature that
    // verifies, or 503/504; none hung, and signing went on once the bus was back.
    let mut signed = 0;
    let mut refused = 0;
    for client in clients {
        for (message, status, v, took) in client.join().unwrap() {
            assert!(
                took < Duration::from_secs(15),
                "{message} took {took:?}: {v}"
            );
            match status {
                200 => {
                    verified("schnorr-secp256k1-tr", &key, &message, &v["data"]);
                    signed += 1;
                }
                503 | 504 => refused += 1,
                other => panic!("{message}: {other} {v}"),
            }
        }
    }
    // Whether a request under way when the bus went is refused or retried (and
    // signed) depends on where it was; either is a clean answer. (JetStream keeps what
    // it stored, and the nodes publish again what they sent while it was away.)
    assert!(signed > 0, "signed {signed}, refused {refused}");
    // Ready again.
    let (status, _) = call(
        "GET",
        &format!("{}/health/ready", c.nodes[1].as_ref().unwrap().url),
        "",
        None,
    );
    assert_eq!(status, 200);
}

#[test]
fn a_stranger_on_the_bus_is_ignored_and_nothing_is_started() {
    a_stranger_is_ignored(Cluster::start(&[]));
}

#[test]
fn a_stranger_on_nats_is_ignored_and_nothing_is_started() {
    if let Some(c) = Cluster::start_on_nats(World::new(3), &[]) {
        a_stranger_is_ignored(c);
    }
}

/// A node that is not a member joins the bus (the relay lets any key in; so does a NATS
/// server without authorization) and proposes a key generation to alice, then sends her
/// garbage: alice drops both and says why.
fn a_stranger_is_ignored(c: Cluster) {
    let stranger = std::sync::Arc::new(mpc::identity::Identity::generate("mallory"));
    let (bus, _) = c.join_bus(stranger.clone());
    let alice = c.world.parties[0].home.clone();
    let card = |p: usize| {
        mpc::identity::Card::from_json(&std::fs::read(&c.world.parties[p].card).unwrap()).unwrap()
    };
    let plan = mpc::plan::Plan::Keygen(mpc::plan::KeygenPlan {
        version: 1,
        scheme: mpc::scheme::Scheme::EddsaEd25519,
        threshold: 2,
        parties: vec![card(0), card(1), stranger.card()],
        label: "not from a member".into(),
        expires_at: mpc::plan::now() + 600,
        nonce: mpc::plan::fresh_nonce(),
        aux: None,
    });
    let alice_key = mpc::serve::cluster::card_key(&card(0));
    let payload = mpc::serve::cluster::encode_node(
        &stranger,
        &alice_key,
        &mpc::serve::cluster::NodeMsg::Propose {
            plan: plan.to_json(),
        },
    );
    bus.post(&[alice_key], &payload, false).unwrap();
    bus.post(&[alice_key], b"\x01garbage", false).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut log = Vec::new();
    while !log
        .iter()
        .any(|l: &String| l.contains("not a cluster member"))
    {
        assert!(
            Instant::now() < deadline,
            "alice did not report the stranger: {log:?}"
        );
        log.extend(c.nodes[0].as_ref().unwrap().log_lines());
        std::thread::sleep(Duration::from_millis(50));
    }
    let (_, s) = call("GET", &c.url(0, "/sessions"), &c.tokens[0], None);
    assert_eq!(s["data"]["sessions"], json!([]), "a session was started");
    // A flood from the stranger is counted, and logged once a minute at most.
    for i in 0..1000u32 {
        bus.post(&[alice_key], &i.to_be_bytes(), false).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let metrics = agent()
            .get(&format!("{}/metrics", c.nodes[0].as_ref().unwrap().url))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        let dropped: f64 = metrics
            .lines()
            .find(|l| l.starts_with("mpc_bus_ignored_total{reason=\"not_a_member\"}"))
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
            .unwrap_or(0.0);
        if dropped >= 1002.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{dropped} dropped payloads counted"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    log.extend(c.nodes[0].as_ref().unwrap().log_lines());
    let about = log
        .iter()
        .filter(|l| l.contains("not a cluster member"))
        .count();
    assert!(about <= 2, "{about} log lines for one stranger: {log:?}");
    drop(alice);
    bus.stop();
}

/// Three parties with pregenerated Paillier primes in their homes.
fn ecdsa_world() -> World {
    let world = World::new(3);
    for p in 0..3 {
        world.import_primes(p, p);
    }
    world
}

/// Node options for ECDSA: one presignature per node's pool, enough to see the
/// one-round path without filling the machine with presigning.
const ECDSA_NODES: [&str; 8] = [
    "--session-timeout",
    "30s",
    "--keygen-timeout",
    "5m",
    "--presign-pool",
    "1",
    "--presign-low",
    "1",
];

#[test]
fn ecdsa_keys_are_made_from_the_prime_pools_and_sign_through_the_cluster() {
    let extra = ECDSA_NODES;
    let world = ecdsa_world();
    // A second prime set each, for the rotation's new aux info.
    for p in 0..3 {
        world.import_primes(p, p + 3);
    }
    let mut c = Cluster::start_with(world, &extra);
    let key = c.keygen(2, "ecdsa-secp256k1");
    let id = key["id"].as_str().unwrap();
    assert!(
        key["addresses"]["ethereum"]
            .as_str()
            .unwrap()
            .starts_with("0x")
            && key["addresses"]["bitcoin"]
                .as_str()
                .unwrap()
                .starts_with("bc1q"),
        "{key}"
    );
    let pk = hex::decode(key["public_key"].as_str().unwrap()).unwrap();
    let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(&pk).unwrap();
    // Node 0 fills its pool in the background; a request it coordinates then signs in
    // one round from a presignature.
    c.wait_for_a_presignature();
    // Alice restarts: she finds her presignature again in her home (the pool is in
    // memory; the presignatures are not), and uses it.
    c.kill(0);
    c.nodes[0] = Some(c.start_node(0, &extra));
    c.wait_up(&[0, 1, 2]);
    let (_, h) = call("GET", &c.url(0, "/nodes/alice/health"), &c.tokens[0], None);
    assert_eq!(h["data"]["own"]["presignature_pool"], 1, "{h}");
    assert!(
        c.nodes[0]
            .as_ref()
            .unwrap()
            .log_lines()
            .iter()
            .any(|l| l.contains("1 presignature(s) of this node's pools found")),
        "{}",
        c.logs()
    );
    let mut spent = Vec::new();
    for (via, message, hash, modes) in [
        (0, "plain text", None, &["presigned"][..]),
        (
            1,
            "hello ethereum",
            Some("eip191"),
            &["presigned", "full"][..],
        ),
    ] {
        let mut body = json!({"key_id": id, "message": message});
        if let Some(h) = hash {
            body["hash"] = json!(h);
        }
        let (status, v) = call("POST", &c.url(via, "/sign"), &c.tokens[via], Some(body));
        assert_eq!(status, 200, "{v}");
        let d = &v["data"];
        assert!(
            modes.contains(&d["mode"].as_str().unwrap()),
            "{v}\n{}",
            c.logs()
        );
        if d["mode"] == "presigned" {
            spent.push(d["presignature"].as_str().unwrap().to_string());
        }
        let digest = mpc::plan::digest_of(
            match hash {
                Some(_) => mpc::plan::HashMode::Eip191,
                None => mpc::plan::HashMode::Sha256,
            },
            message.as_bytes(),
        )
        .unwrap();
        let compact = k256::ecdsa::Signature::from_slice(
            &hex::decode(d["signature"].as_str().unwrap()).unwrap(),
        )
        .unwrap();
        use k256::ecdsa::signature::hazmat::PrehashVerifier;
        vk.verify_prehash(&digest, &compact).unwrap();
        let der =
            k256::ecdsa::Signature::from_der(&hex::decode(d["der"].as_str().unwrap()).unwrap())
                .unwrap();
        assert_eq!(der, compact);
        let rsv = hex::decode(d["recoverable"].as_str().unwrap()).unwrap();
        let recovered = k256::ecdsa::VerifyingKey::recover_from_prehash(
            &digest,
            &compact,
            k256::ecdsa::RecoveryId::from_byte(rsv[64]).unwrap(),
        )
        .unwrap();
        assert_eq!(recovered, vk);
    }
    // An HD path never uses a presignature (the cggmp21 advisory): a whole session,
    // under the child key.
    let (status, v) = call(
        "POST",
        &c.url(0, "/sign"),
        &c.tokens[0],
        Some(json!({"key_id": id, "message": "derived", "path": "m/0/1"})),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"]["mode"], "full", "{v}");
    let child = hex::decode(v["data"]["derived_public_key"].as_str().unwrap()).unwrap();
    let child = k256::ecdsa::VerifyingKey::from_sec1_bytes(&child).unwrap();
    assert_ne!(child, vk);
    let digest = mpc::plan::digest_of(mpc::plan::HashMode::Sha256, b"derived").unwrap();
    let sig = k256::ecdsa::Signature::from_slice(
        &hex::decode(v["data"]["signature"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    use k256::ecdsa::signature::hazmat::PrehashVerifier;
    child.verify_prehash(&digest, &sig).unwrap();
    // A presignature is spent on every signer: none that a request used is left armed
    // in any home; and the pool level shows in the metrics.
    assert!(!spent.is_empty());
    let presignatures = |p: usize| -> Vec<Value> {
        let out = c
            .world
            .mpc(p)
            .args(["--json", "presign", "list"])
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        common::json(&out)["presignatures"]
            .as_array()
            .unwrap()
            .clone()
    };
    for p in 0..3 {
        let unused = serde_json::to_string(&presignatures(p)).unwrap();
        for s in &spent {
            assert!(
                !unused.contains(s.as_str()),
                "node {p} still holds {s}: {unused}"
            );
        }
    }
    let metrics = agent()
        .get(&format!("{}/metrics", c.nodes[0].as_ref().unwrap().url))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(metrics.contains("mpc_presignature_pool"), "{metrics}");
    assert!(
        metrics.contains("mpc_signatures_total{scheme=\"ecdsa-secp256k1\",mode=\"presigned\"} 1"),
        "{metrics}"
    );

    // The threshold key rotates (a reshare to the same nodes, with new aux info): the
    // same key and addresses; every presignature of the old shares is gone; the pools
    // fill again from the new shares, and a request signs from one.
    c.wait_for_a_presignature();
    let old: Vec<Vec<Value>> = (0..3).map(presignatures).collect();
    assert!(old.iter().any(|l| !l.is_empty()), "no presignature to lose");
    let (status, v) = call(
        "POST",
        &c.url(1, &format!("/keys/{id}/rotate")),
        &c.tokens[1],
        Some(json!({})),
    );
    assert_eq!(status, 200, "{v}\n{}", c.logs());
    assert_eq!(v["data"]["public_key"], key["public_key"], "{v}");
    assert_eq!(v["data"]["addresses"], key["addresses"], "{v}");
    for (p, old) in old.iter().enumerate() {
        let now = presignatures(p);
        assert!(
            old.iter().all(|o| !now.contains(o)),
            "node {p} kept a presignature of its old share: {now:?}"
        );
    }
    c.wait_for_a_presignature();
    let (status, v) = call(
        "POST",
        &c.url(0, "/sign"),
        &c.tokens[0],
        Some(json!({"key_id": id, "message": "after the rotation"})),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"]["mode"], "presigned", "{v}");
    let digest = mpc::plan::digest_of(mpc::plan::HashMode::Sha256, b"after the rotation").unwrap();
    let sig = k256::ecdsa::Signature::from_slice(
        &hex::decode(v["data"]["signature"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    vk.verify_prehash(&digest, &sig).unwrap();

    // Bob's operator approves each signature: a presignature's one round cannot wait for
    // him, so bob declines it and alice's request becomes a whole session, which waits
    // for his operator, who approves it.
    c.wait_for_a_presignature();
    let (status, v) = put(
        &c.url(1, &format!("/keys/{id}")),
        &c.tokens[1],
        json!({"policy": {"mode": "approval"}}),
    );
    assert_eq!(status, 200, "{v}");
    let pending = c.sign_in_background(0, id, "bob approves");
    let sid = c.awaiting_approval(1, None, Duration::from_secs(60))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, v) = c.join_session(1, &sid);
    assert_eq!(status, 200, "{v}");
    let (status, v) = pending.join().unwrap();
    assert_eq!(status, 200, "{v}\n{}", c.logs());
    assert_eq!(v["data"]["mode"], "full", "{v}");
    let digest = mpc::plan::digest_of(mpc::plan::HashMode::Sha256, b"bob approves").unwrap();
    let sig = k256::ecdsa::Signature::from_slice(
        &hex::decode(v["data"]["signature"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    vk.verify_prehash(&digest, &sig).unwrap();
    assert!(
        c.logs().contains("could not be used"),
        "alice did not try the presignature first:\n{}",
        c.logs()
    );
}

/// The one-round presigned path, from both sides, with the test playing bob: as a
/// coordinator, bob gets alice's partial signature for a presignature of his own pool
/// once (it makes a valid signature with his), never for another use, another node's
/// presignature or a raw hash; as a signer, bob answers alice's request with a partial
/// signature of another message, and her request fails naming him.
#[test]
fn a_signer_spends_each_presignature_once_for_one_request_and_a_cheating_signer_is_named() {
    use mpc::serve::cluster::NodeMsg;
    let mut c = Cluster::start_with(ecdsa_world(), &ECDSA_NODES);
    let key = c.keygen(2, "ecdsa-secp256k1");
    let id = key["id"].as_str().unwrap().to_string();
    let pk = hex::decode(key["public_key"].as_str().unwrap()).unwrap();
    let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(&pk).unwrap();
    // Alice's pool and bob's each hold one, both among alice and bob.
    c.wait_for_a_presignature_on(0);
    c.wait_for_a_presignature_on(1);
    let (home, bob, bus, rx) = c.play(1);
    let db = home.db().unwrap();
    let cards: Vec<mpc::identity::Card> = (0..2)
        .map(|p| {
            mpc::identity::Card::from_json(&std::fs::read(&c.world.parties[p].card).unwrap())
                .unwrap()
        })
        .collect();
    let pool_of = |p: usize| -> String {
        let label = mpc::serve::presig::pool_label(&cards[p]);
        mpc::store::keystore::unused_presignatures(&db)
            .unwrap()
            .into_iter()
            .map(|u| u.session)
            .find(|s| {
                let plan = db.session(s).unwrap().unwrap().plan;
                mpc::plan::Plan::from_json(plan.as_bytes()).unwrap().label() == label
            })
            .unwrap_or_else(|| panic!("bob holds no presignature of node {p}'s pool"))
    };
    let (alices, bobs) = (pool_of(0), pool_of(1));
    let alice = c.node_key(0);
    let b64 = |m: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, m);
    let request =
        |rid: [u8; 32], presignature: &str, message: &[u8], hash| NodeMsg::PresignedSign {
            id: hex::encode(rid),
            key_id: id.clone(),
            presignature: presignature.to_string(),
            message: b64(message),
            hash,
        };
    let answer = |m: &NodeMsg| ask_alice(&bus, &bob, &rx, alice, m);
    let declined = |m: NodeMsg| match m {
        NodeMsg::Decline { code, .. } => code.code().to_string(),
        other => panic!("{other:?}"),
    };
    use mpc::plan::HashMode::{Prehash, Sha256};
    // A raw hash (the cggmp21 advisory), alice's own presignature, one she never made.
    assert_eq!(
        declined(answer(&request([1; 32], &bobs, &[9; 32], Prehash))),
        "plan_refused"
    );
    assert_eq!(
        declined(answer(&request([2; 32], &alices, b"m", Sha256))),
        "plan_refused"
    );
    assert_eq!(
        declined(answer(&request(
            [3; 32],
            &hex::encode([5u8; 32]),
            b"m",
            Sha256
        ))),
        "nonce_unknown"
    );
    // The honest request: her partial signature and bob's make a valid signature of
    // the message's SHA-256, checked with k256.
    let message = b"bob coordinates".to_vec();
    let digest = mpc::plan::digest_of(Sha256, &message).unwrap();
    let partial = match answer(&request([4; 32], &bobs, &message, Sha256)) {
        NodeMsg::Shares { shares, .. } => hex::decode(&shares[0]).unwrap(),
        other => panic!("{other:?}"),
    };
    let own = mpc::ceremony::presigned_partial(&db, &home, &bob, &bobs, &[4; 32], &digest).unwrap();
    let sig = mpc::engine::cggmp::combine(&[(0, partial), (1, own)]).unwrap();
    use k256::ecdsa::signature::hazmat::PrehashVerifier;
    vk.verify_prehash(&digest, &k256::ecdsa::Signature::from_slice(&sig).unwrap())
        .unwrap();
    // That presignature again, for another message or the same request: spent.
    assert_eq!(
        declined(answer(&request([5; 32], &bobs, b"another", Sha256))),
        "nonce_unknown"
    );
    assert_eq!(
        declined(answer(&request([4; 32], &bobs, &message, Sha256))),
        "nonce_unknown"
    );
    // Bob as a signer that cheats: when alice asks for his partial signature of her
    // presignature, he sends one of another message. Her request fails naming him, and
    // no signature leaves. First alice sees bob up (else she picks carol, with whom she
    // holds no presignature).
    seen_through(&c, 0, &bus, &bob, alice, "bob");
    let asked = c.sign_in_background(0, &id, "bob cheats");
    let deadline = Instant::now() + Duration::from_secs(10);
    let rid = loop {
        beat(&bus, &bob, alice).unwrap();
        let asked_bob = node_messages(&rx, &bob, Duration::from_millis(200))
            .into_iter()
            .find_map(|(from, m)| match m {
                NodeMsg::PresignedSign {
                    id, presignature, ..
                } if from == alice => {
                    assert_eq!(presignature, alices);
                    Some(id)
                }
                _ => None,
            });
        if let Some(a) = asked_bob {
            break a;
        }
        assert!(
            Instant::now() < deadline,
            "alice never asked bob for a partial signature"
        );
    };
    let other = mpc::plan::digest_of(Sha256, b"not what alice signs").unwrap();
    let wrong =
        mpc::ceremony::presigned_partial(&db, &home, &bob, &alices, &[6; 32], &other).unwrap();
    bob_answers_falsely(&bus, &bob, alice, rid, wrong, asked);
}

/// A presence beat from `id` (a member the test plays) to the node with key `to`.
fn beat(
    bus: &mpc::serve::bus::Bus,
    id: &mpc::identity::Identity,
    to: [u8; 32],
) -> Result<(), String> {
    beat_holding(bus, id, to, 1)
}

/// A beat of `id` to `to`, saying it holds `keys` keys.
fn beat_holding(
    bus: &mpc::serve::bus::Bus,
    id: &mpc::identity::Identity,
    to: [u8; 32],
    keys: usize,
) -> Result<(), String> {
    let m = mpc::serve::cluster::NodeMsg::Beat {
        at: mpc::plan::now(),
        version: "test".into(),
        keys,
    };
    bus.post(&[to], &mpc::serve::cluster::encode_node(id, &to, &m), true)
}

/// Waits until node `p` has taken everything `id` (the member `name`, played by the
/// test) posted to it before now: `id` beats with a count of keys of its own, which
/// node `p` shows for `name` once it has read that far.
fn seen_through(
    c: &Cluster,
    p: usize,
    bus: &mpc::serve::bus::Bus,
    id: &mpc::identity::Identity,
    to: [u8; 32],
    name: &str,
) {
    let mark = 1000 + usize::from(rand::random::<u16>());
    beat_holding(bus, id, to, mark).unwrap();
    eventually(Duration::from_secs(10), Duration::from_millis(20), || {
        let (_, v) = call(
            "GET",
            &c.url(p, &format!("/nodes/{name}")),
            &c.tokens[p],
            None,
        );
        if v["data"]["keys"] == mark {
            return Ok(());
        }
        Err(format!("node {p} never read {name}'s beat: {v}"))
    })
}

/// Tries `attempt` every `every` until it gives a value, for up to `within`; then fails
/// with what its last try said.
fn eventually<T>(
    within: Duration,
    every: Duration,
    mut attempt: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        match attempt() {
            Ok(v) => return v,
            Err(why) => assert!(Instant::now() < deadline, "{why}"),
        }
        std::thread::sleep(every);
    }
}

/// What a member's node receives, decoded, as the test plays that member.
fn node_messages(
    rx: &std::sync::mpsc::Receiver<([u8; 32], Vec<u8>)>,
    me: &mpc::identity::Identity,
    wait: Duration,
) -> Vec<([u8; 32], mpc::serve::cluster::NodeMsg)> {
    let me = mpc::serve::cluster::card_key(&me.card());
    let mut out = Vec::new();
    let deadline = Instant::now() + wait;
    while let Ok((from, payload)) =
        rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
    {
        if let Ok(mpc::serve::cluster::Payload::Node(m)) =
            mpc::serve::cluster::decode(&from, &me, &payload)
        {
            out.push((from, m));
        }
    }
    out
}

#[test]
fn a_signer_spends_each_nonce_once_under_its_own_commitment_and_a_cheating_signer_is_named() {
    use mpc::serve::cluster::{FastItem, NodeMsg, encode_node};
    let mut c = Cluster::start(&[]);
    let key = c.keygen(0, "eddsa-ed25519");
    let id = key["id"].as_str().unwrap().to_string();
    // The test plays bob: his node stops, and his identity joins the bus from here.
    let (home, bob, bus, rx) = c.play(1);
    let alice = c.node_key(0);
    let beat = || beat(&bus, &bob, alice).unwrap();
    // Beat until alice's nonces for bob arrive.
    let deadline = Instant::now() + Duration::from_secs(20);
    let commitments = loop {
        if bus.connected() {
            beat();
        }
        let got = node_messages(&rx, &bob, Duration::from_millis(300));
        // Alice's (carol sends bob commitments of her own too).
        if let Some((_, NodeMsg::Commitments { items, .. })) = got
            .into_iter()
            .find(|(from, m)| *from == alice && matches!(m, NodeMsg::Commitments { .. }))
        {
            break items;
        }
        assert!(Instant::now() < deadline, "alice sent bob no commitments");
    };
    let (alice_nonce, alice_commitment) = commitments[0].clone();
    // Bob's side of the signature, with his own share and a fresh nonce of his.
    let material = mpc::ceremony::load_share(&home, &bob, &id).unwrap();
    let scheme = mpc::scheme::Scheme::EddsaEd25519;
    let prepared = mpc::engine::prepare(scheme, &material).unwrap();
    let mine = prepared.preprocess(1).unwrap().pop().unwrap();
    let message = b"bob coordinates".to_vec();
    let request = |commitment: &str, nonce: u64| NodeMsg::FastSign {
        id: hex::encode([7u8; 32]),
        key_id: id.clone(),
        items: vec![FastItem {
            message: base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &message),
            commitments: vec![
                (1, nonce, commitment.to_string()),
                (2, 1, hex::encode(&mine.commitment)),
            ],
        }],
    };
    let answer = |m: &NodeMsg| ask_alice(&bus, &bob, &rx, alice, m);
    // Under a commitment that is not alice's nonce's: refused, and that nonce is spent.
    let (other_nonce, _) = commitments[1].clone();
    match answer(&request(&alice_commitment, other_nonce)) {
        NodeMsg::Decline { code, .. } => assert_eq!(code.code(), "plan_refused"),
        other => panic!("{other:?}"),
    }
    // The honest request: a share that makes a valid signature with bob's.
    let share = match answer(&request(&alice_commitment, alice_nonce)) {
        NodeMsg::Shares { shares, .. } => hex::decode(&shares[0]).unwrap(),
        other => panic!("{other:?}"),
    };
    let list: std::collections::BTreeMap<u16, Vec<u8>> = [
        (1, hex::decode(&alice_commitment).unwrap()),
        (2, mine.commitment.clone()),
    ]
    .into();
    let package = prepared.package(2, &mine, &list, &message).unwrap();
    let own = prepared.share(mine.nonces, &package).unwrap();
    let shares: std::collections::BTreeMap<u16, Vec<u8>> = [(1, share), (2, own)].into();
    let sig = prepared.aggregate(&package, &shares).unwrap();
    let pk = hex::decode(key["public_key"].as_str().unwrap()).unwrap();
    assert!(verify_independently("eddsa-ed25519", &pk, &message, &sig));
    // The same request again (a replay, or a retry): the nonce is gone.
    match answer(&request(&alice_commitment, alice_nonce)) {
        NodeMsg::Decline { code, .. } => assert_eq!(code.code(), "nonce_unknown"),
        other => panic!("{other:?}"),
    }
    // Bob as a signer that cheats: he hands alice commitments, and when she asks for
    // his share he sends a tampered one. Her request fails naming him, and no
    // signature leaves.
    let pre = prepared.preprocess(4).unwrap();
    let items: Vec<(u64, String)> = pre
        .iter()
        .enumerate()
        .map(|(i, p)| (i as u64 + 1, hex::encode(&p.commitment)))
        .collect();
    let handed = NodeMsg::Commitments {
        key_id: id.clone(),
        fresh: true,
        items,
    };
    bus.post(&[alice], &encode_node(&bob, &alice, &handed), false)
        .unwrap();
    // Posts leave in order, and alice takes them in order: once she has bob's next
    // beat, she holds his commitments.
    seen_through(&c, 0, &bus, &bob, alice, "bob");
    let asked = c.sign_in_background(0, &id, "bob cheats");
    let deadline = Instant::now() + Duration::from_secs(10);
    let (request_id, item) = loop {
        beat();
        let asked_bob = node_messages(&rx, &bob, Duration::from_millis(200))
            .into_iter()
            .find_map(|(from, m)| match m {
                NodeMsg::FastSign { id, mut items, .. } if from == alice => {
                    Some((id, items.remove(0)))
                }
                _ => None,
            });
        if let Some(a) = asked_bob {
            break a;
        }
        assert!(
            Instant::now() < deadline,
            "alice never asked bob for a share"
        );
    };
    let mut pre: Vec<_> = pre.into_iter().map(Some).collect();
    let mut share = bob_share(prepared.as_ref(), &mut pre, &item);
    // Still a scalar, no longer his share.
    share[0] ^= 1;
    bob_answers_falsely(&bus, &bob, alice, request_id, share, asked);
}

/// Bob's share (bob played by the test, with his key's `prepared` share) for one
/// message of alice's `FastSign`, from the nonce of his that the item names: `pre[i]`
/// is the nonce he handed her as id `i + 1`, taken here (each is used once).
fn bob_share(
    prepared: &dyn mpc::engine::frost::preprocessed::Prepared,
    pre: &mut [Option<mpc::engine::frost::preprocessed::Preprocessed>],
    item: &mpc::serve::cluster::FastItem,
) -> Vec<u8> {
    let list: std::collections::BTreeMap<u16, Vec<u8>> = item
        .commitments
        .iter()
        .map(|(s, _, c)| (*s, hex::decode(c).unwrap()))
        .collect();
    let nonce = item.commitments.iter().find(|(s, _, _)| *s == 2).unwrap().1;
    let mine = pre[nonce as usize - 1].take().expect("a nonce used once");
    let message =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &item.message).unwrap();
    let package = prepared.package(2, &mine, &list, &message).unwrap();
    prepared.share(mine.nonces, &package).unwrap()
}

/// The `FastSign` requests alice sends bob (played by the test) within `wait`, bob
/// beating meanwhile: (id, items) each.
fn fast_signs_to_bob(
    bus: &mpc::serve::bus::Bus,
    bob: &mpc::identity::Identity,
    rx: &std::sync::mpsc::Receiver<([u8; 32], Vec<u8>)>,
    alice: [u8; 32],
    want: usize,
    wait: Duration,
) -> Vec<(String, Vec<mpc::serve::cluster::FastItem>)> {
    use mpc::serve::cluster::NodeMsg;
    let mut got = Vec::new();
    // Each try listens for 100 ms.
    eventually(wait, Duration::ZERO, || {
        beat(bus, bob, alice).unwrap();
        got.extend(
            node_messages(rx, bob, Duration::from_millis(100))
                .into_iter()
                .filter_map(|(from, m)| match m {
                    NodeMsg::FastSign { id, items, .. } if from == alice => Some((id, items)),
                    _ => None,
                }),
        );
        if got.len() >= want {
            return Ok(());
        }
        Err(format!("alice asked bob {} times, not {want}", got.len()))
    });
    got
}

/// What `/metrics` of node `p` says of `name` (a metric without labels).
fn metric(c: &Cluster, p: usize, name: &str) -> f64 {
    let text = agent()
        .get(&format!("{}/metrics", c.nodes[p].as_ref().unwrap().url))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn requests_that_wait_for_a_round_trip_go_together_each_signed_and_a_policy_refusal_is_not_shared()
{
    use mpc::serve::cluster::{NodeMsg, encode_node};
    let mut c = Cluster::start(&["--session-timeout", "20s"]);
    let key = c.keygen(0, "eddsa-ed25519");
    let id = key["id"].as_str().unwrap().to_string();
    let pk = hex::decode(key["public_key"].as_str().unwrap()).unwrap();
    // The test plays bob, and hands alice nonces of his to coordinate with.
    let (home, bob, bus, rx) = c.play(1);
    let alice = c.node_key(0);
    let material = mpc::ceremony::load_share(&home, &bob, &id).unwrap();
    let prepared = mpc::engine::prepare(mpc::scheme::Scheme::EddsaEd25519, &material).unwrap();
    let mut pre: Vec<_> = prepared
        .preprocess(32)
        .unwrap()
        .into_iter()
        .map(Some)
        .collect();
    let handed = NodeMsg::Commitments {
        key_id: id.clone(),
        fresh: true,
        items: pre
            .iter()
            .enumerate()
            .map(|(i, p)| (i as u64 + 1, hex::encode(&p.as_ref().unwrap().commitment)))
            .collect(),
    };
    bus.post(&[alice], &encode_node(&bob, &alice, &handed), false)
        .unwrap();
    seen_through(&c, 0, &bus, &bob, alice, "bob");
    let answer = |sid: &str, items: &[mpc::serve::cluster::FastItem], pre: &mut [Option<_>]| {
        let shares = items
            .iter()
            .map(|it| hex::encode(bob_share(prepared.as_ref(), pre, it)))
            .collect();
        let m = NodeMsg::Shares {
            id: sid.to_string(),
            shares,
        };
        bus.post(&[alice], &encode_node(&bob, &alice, &m), false)
            .unwrap();
    };
    let waiting = |n: f64| {
        eventually(Duration::from_secs(10), Duration::from_millis(20), || {
            if metric(&c, 0, "mpc_fast_requests_waiting") == n {
                return Ok(());
            }
            beat(&bus, &bob, alice).unwrap();
            Err(format!("{n} requests never waited"))
        })
    };

    // Requests one after another, each leaving at once in a round trip of its own,
    // until as many are under way as a coordinator keeps per key.
    let in_flight = mpc::serve::node::ROUND_TRIPS_IN_FLIGHT;
    let leaders = |tag: &str| {
        (0..in_flight)
            .map(|i| {
                let h = c.sign_in_background(0, &id, &format!("{tag} {i}"));
                let asked = fast_signs_to_bob(&bus, &bob, &rx, alice, 1, Duration::from_secs(10));
                assert_eq!(asked.len(), 1);
                assert_eq!(asked[0].1.len(), 1, "a request alone");
                (h, asked.into_iter().next().unwrap())
            })
            .collect::<Vec<_>>()
    };
    // `n` requests that arrive while as many round trips as a coordinator keeps per
    // key are under way: bob answers those, and the round trip the `n` go in
    // together is asked of him.
    let gathered = |tag: &str, n: usize, pre: &mut [Option<_>]| {
        let first = leaders(tag);
        let rest: Vec<_> = (0..n)
            .map(|i| c.sign_in_background(0, &id, &format!("{tag} waiting {i}")))
            .collect();
        waiting(n as f64);
        for (_, (sid, items)) in &first {
            answer(sid, items, pre);
        }
        let mut together = fast_signs_to_bob(&bus, &bob, &rx, alice, 1, Duration::from_secs(10));
        (first, rest, together.remove(0))
    };
    // Four requests arrive while bob has answered none: they wait, and go together.
    let (first, more, together) = gathered("first", 4, &mut pre);
    let (sid, items) = &together;
    assert_eq!(
        items.len(),
        4,
        "the four waiting requests went in one round trip"
    );
    answer(sid, items, &mut pre);
    for (h, (asked, _)) in first {
        let (status, v) = h.join().unwrap();
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["data"]["session"], asked.as_str());
    }
    for (i, h) in more.into_iter().enumerate() {
        let (status, v) = h.join().unwrap();
        assert_eq!(status, 200, "{v}");
        // Each gets the signature of its own message, made in the shared round trip.
        let d = &v["data"];
        assert_eq!(d["session"], sid.as_str(), "{v}");
        assert_eq!(d["mode"], "preprocessed");
        assert_eq!(d["signers"], json!(["alice", "bob"]));
        let message = format!("first waiting {i}");
        let sig = hex::decode(d["signature"].as_str().unwrap()).unwrap();
        assert!(verify_independently(
            "eddsa-ed25519",
            &pk,
            message.as_bytes(),
            &sig
        ));
    }
    let trips = in_flight as f64 + 1.0;
    assert_eq!(metric(&c, 0, "mpc_fast_round_trips_total"), trips);
    assert_eq!(
        metric(&c, 0, "mpc_fast_round_trip_requests_total"),
        trips + 3.0
    );

    // Bob's policy refuses a round trip of three gathered requests (as an hourly limit
    // that fits one but not three would): it is not each request's refusal, so each
    // asks again on its own, and each is signed.
    let (first, three, together) = gathered("lead", 3, &mut pre);
    assert_eq!(together.1.len(), 3);
    let refuse = NodeMsg::Decline {
        session: together.0.clone(),
        code: mpc::serve::error::DeclineReason::PolicyRefused,
        reason: "at most 1 signature an hour".into(),
    };
    bus.post(&[alice], &encode_node(&bob, &alice, &refuse), false)
        .unwrap();
    let alone = fast_signs_to_bob(&bus, &bob, &rx, alice, 3, Duration::from_secs(10));
    let mut sessions = std::collections::BTreeSet::new();
    for (sid, items) in &alone {
        assert_eq!(items.len(), 1, "each asks again on its own");
        answer(sid, items, &mut pre);
        sessions.insert(sid.clone());
    }
    for (h, _) in first {
        assert_eq!(h.join().unwrap().0, 200);
    }
    for h in three {
        let (status, v) = h.join().unwrap();
        assert_eq!(status, 200, "{v}");
        assert!(
            sessions.remove(v["data"]["session"].as_str().unwrap()),
            "{v}"
        );
    }

    // A share that does not verify fails every request of its round trip, naming
    // bob, as it would have failed each alone.
    let (first, two, together) = gathered("lead again", 2, &mut pre);
    let (sid, items) = &together;
    let mut shares: Vec<Vec<u8>> = items
        .iter()
        .map(|it| bob_share(prepared.as_ref(), &mut pre, it))
        .collect();
    shares[1][0] ^= 1;
    let tampered = NodeMsg::Shares {
        id: sid.clone(),
        shares: shares.iter().map(hex::encode).collect(),
    };
    bus.post(&[alice], &encode_node(&bob, &alice, &tampered), false)
        .unwrap();
    for (h, _) in first {
        assert_eq!(h.join().unwrap().0, 200);
    }
    for h in two {
        let (status, v) = h.join().unwrap();
        assert_eq!(status, 502, "{v}");
        assert_eq!(v["error"]["code"], "peer_misbehaved");
        assert_eq!(v["error"]["details"]["culprits"], json!(["bob"]), "{v}");
    }
    assert_eq!(metric(&c, 0, "mpc_fast_requests_waiting"), 0.0);
    bus.stop();
}

/// Bob (played by the test) sends alice the one-round request `m`: her answer (shares
/// or a decline).
fn ask_alice(
    bus: &mpc::serve::bus::Bus,
    bob: &mpc::identity::Identity,
    rx: &std::sync::mpsc::Receiver<([u8; 32], Vec<u8>)>,
    alice: [u8; 32],
    m: &mpc::serve::cluster::NodeMsg,
) -> mpc::serve::cluster::NodeMsg {
    use mpc::serve::cluster::{NodeMsg, encode_node};
    bus.post(&[alice], &encode_node(bob, &alice, m), false)
        .unwrap();
    node_messages(rx, bob, Duration::from_secs(3))
        .into_iter()
        .map(|(_, m)| m)
        .find(|m| matches!(m, NodeMsg::Shares { .. } | NodeMsg::Decline { .. }))
        .expect("alice answered")
}

/// Bob (played by the test) answers alice's one-round request `id` with `share`, which
/// is not what she asked for: the request `asked` fails with 502 naming him.
fn bob_answers_falsely(
    bus: &mpc::serve::bus::Bus,
    bob: &mpc::identity::Identity,
    alice: [u8; 32],
    id: String,
    share: Vec<u8>,
    asked: std::thread::JoinHandle<(u16, Value)>,
) {
    use mpc::serve::cluster::{NodeMsg, encode_node};
    let tampered = NodeMsg::Shares {
        id,
        shares: vec![hex::encode(share)],
    };
    bus.post(&[alice], &encode_node(bob, &alice, &tampered), false)
        .unwrap();
    let (status, v) = asked.join().unwrap();
    assert_eq!(status, 502, "{v}");
    assert_eq!(v["error"]["code"], "peer_misbehaved");
    assert_eq!(v["error"]["details"]["culprits"], json!(["bob"]), "{v}");
    bus.stop();
}

#[test]
fn the_serve_commands_refuse_plain_http_abroad_duplicate_members_and_never_show_a_stored_token() {
    let w = World::new(2);
    // NATS credentials without a NATS bus: said, not ignored.
    let out = w
        .mpc(0)
        .args(["serve", "--relay", "127.0.0.1:4222", "--nats-creds"])
        .arg(w.path("user.creds"))
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("for a NATS bus"), "{}", stderr(&out));
    // Plain HTTP on a non-loopback address needs --insecure-http.
    let out = w
        .mpc(0)
        .args(["serve", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("refusing to serve plain HTTP"),
        "{}",
        stderr(&out)
    );
    // A cluster without a bus.
    let out = w
        .mpc(0)
        .arg("serve")
        .arg("--peer")
        .arg(&w.parties[1].card)
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("--relay"), "{}", stderr(&out));
    // The same member twice.
    let out = w
        .mpc(0)
        .args(["serve", "cluster", "init", "--out"])
        .arg(w.path("c.json"))
        .arg(&w.parties[0].card)
        .arg(&w.parties[0].card)
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(!w.path("c.json").exists());
    // A token is shown once; listing shows its id and state, never the secret.
    let out = w
        .mpc(0)
        .args([
            "--json", "serve", "token", "create", "--scope", "sign", "--name", "ci",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let created = common::json(&out);
    let token = created["token"].as_str().unwrap().to_string();
    let id = created["record"]["id"].as_str().unwrap().to_string();
    let secret = token.rsplit('_').next().unwrap();
    let list = w
        .mpc(0)
        .args(["--json", "serve", "token", "list"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.contains(&id) && !text.contains(secret), "{text}");
    // A token for a key this home does not hold is refused; so is a wrong passphrase.
    let out = w
        .mpc(0)
        .args([
            "serve",
            "token",
            "create",
            "--scope",
            "sign",
            "--keys",
            "ffffffffffffffff",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let out = w
        .mpc(0)
        .env("MPC_PASSPHRASE", "wrong")
        .args(["serve", "token", "revoke", &id])
        .output()
        .unwrap();
    assert_ne!(code(&out), 0);
    let out = w
        .mpc(0)
        .args(["serve", "token", "revoke", &id[..6]])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let list = w
        .mpc(0)
        .args(["--json", "serve", "token", "list"])
        .output()
        .unwrap();
    let v = common::json(&list);
    assert!(v["tokens"][0]["revoked_at"].is_u64(), "{v}");
}

#[test]
fn a_node_serves_https_with_its_certificate_and_refuses_a_bad_pair() {
    let w = World::new(2);
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let (cert, key) = (w.path("cert.pem"), w.path("key.pem"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let out = w
        .mpc(0)
        .args(["--json", "serve", "token", "create", "--scope", "read"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let token = common::json(&out)["token"].as_str().unwrap().to_string();

    // Bound to every address (TLS makes that allowed); only 127.0.0.1 is dialled.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("mpc"))
        .env("MPC_HOME", &w.parties[0].home)
        .env("MPC_PASSPHRASE", common::PASS)
        .args(["--no-input", "--json", "serve", "--listen", "0.0.0.0:0"])
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let first: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    let port = first["listening"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    assert!(
        first["url"].as_str().unwrap().starts_with("https://"),
        "{first}"
    );
    let ca = ureq::tls::Certificate::from_pem(made.cert.pem().as_bytes()).unwrap();
    let trusting: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::Specific(std::sync::Arc::new(vec![
                    ca,
                ])))
                .build(),
        )
        .build()
        .into();
    let res = trusting
        .get(&format!("https://localhost:{port}/api/v1/keys"))
        .header("authorization", &format!("Bearer {token}"))
        .call();
    let mut res = res.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let v: Value = res.body_mut().read_json().unwrap();
    assert_eq!(v["success"], true, "{v}");
    // A client that does not trust the certificate gets no answer; neither does plain
    // HTTP on the TLS port.
    assert!(
        agent()
            .get(&format!("https://127.0.0.1:{port}/health/live"))
            .call()
            .is_err()
    );
    assert!(
        agent()
            .get(&format!("http://127.0.0.1:{port}/health/live"))
            .call()
            .is_err()
    );
    // The node still serves after those failed handshakes.
    let res = trusting
        .get(&format!("https://127.0.0.1:{port}/health/live"))
        .call()
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let _ = child.kill();
    let _ = child.wait();

    // A key that is not the certificate's, a file that is not PEM, half a pair.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(w.path("other.pem"), other.signing_key.serialize_pem()).unwrap();
    let refused = |args: &[&std::ffi::OsStr], says: &str| {
        let out = w
            .mpc(0)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(code(&out), 2, "{}", stderr(&out));
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
    };
    let (tls_cert, tls_key) = (
        std::ffi::OsStr::new("--tls-cert"),
        std::ffi::OsStr::new("--tls-key"),
    );
    refused(
        &[
            tls_cert,
            cert.as_os_str(),
            tls_key,
            w.path("other.pem").as_os_str(),
        ],
        "do not make a usable pair",
    );
    refused(
        &[
            tls_cert,
            w.parties[0].card.as_os_str(),
            tls_key,
            key.as_os_str(),
        ],
        "no certificate",
    );
    refused(&[tls_cert, cert.as_os_str()], "--tls-key");
}

/// A whole (not preprocessed) session, with the test playing bob on the bus: alice's
/// round-1 envelope sent back to her tampered, and as it is (not bob's), is ignored by
/// her admission, named in her log and in the answer; she never sends her share, and
/// the request ends in bounded time naming bob.
#[test]
fn a_tampered_or_reflected_envelope_in_a_whole_session_is_ignored_and_no_share_leaves() {
    use mpc::serve::cluster::{Payload, decode, encode_envelope};
    let mut c = Cluster::start(&["--session-timeout", "3s"]);
    let key = c.keygen(0, "eddsa-ed25519");
    let id = key["id"].as_str().unwrap().to_string();
    // Carol is gone, so alice must sign with bob; bob is the test, which hands alice
    // no commitments, so she takes the whole session.
    c.kill(2);
    let (_, bob, bus, rx) = c.play(1);
    let alice = c.node_key(0);
    let bob_key = c.node_key(1);
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        // Bob beats, so alice takes him to be up.
        s.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                if bus.connected() {
                    let _ = beat(&bus, &bob, alice);
                }
                std::thread::sleep(Duration::from_millis(300));
            }
        });
        // Until alice sees bob up and carol down.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (status, v) = call("GET", &c.url(0, "/nodes"), &c.tokens[0], None);
            assert_eq!(status, 200, "{v}");
            let up = |name: &str| {
                v["data"]["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|n| n["name"] == name && n["up"] == true)
            };
            if up("bob") && !up("carol") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "alice never saw bob up and carol down: {v}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        let started = Instant::now();
        let (url, token) = (c.url(0, "/sign"), c.tokens[0].clone());
        let body = json!({"key_id": id, "message": "a whole session with a cheat"});
        let request = s.spawn(move || call("POST", &url, &token, Some(body)));
        // Bob's side: every envelope alice sends him; her first round's goes back to
        // her tampered, and as it is.
        let mut rounds = Vec::new();
        let mut sent_back = false;
        while !request.is_finished() {
            let Ok((from, payload)) = rx.recv_timeout(Duration::from_millis(100)) else {
                continue;
            };
            let Ok(Payload::Envelope(_, bytes)) = decode(&from, &bob_key, &payload) else {
                continue;
            };
            let (env, _) = mpc::envelope::Envelope::decode_for_inspection(&bytes).unwrap();
            assert_eq!(from, alice);
            rounds.push(env.header.round);
            if !sent_back {
                let mut tampered = bytes.clone();
                let last = tampered.len() - 1;
                tampered[last] ^= 1;
                bus.post(&[alice], &encode_envelope(&tampered), false)
                    .unwrap();
                bus.post(&[alice], &encode_envelope(&bytes), false).unwrap();
                sent_back = true;
            }
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        let (status, v) = request.join().unwrap();
        assert!(sent_back, "alice sent bob no envelope");
        assert_eq!(status, 504, "{v}");
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "not bounded: {v}"
        );
        assert_eq!(v["error"]["details"]["awaited"], json!(["bob"]), "{v}");
        // Both named, by why: the altered one, and hers coming back as bob's.
        let ignored = v["error"]["details"]["ignored"].to_string();
        assert!(ignored.contains("does not verify"), "{v}");
        assert!(ignored.contains("you did not send it"), "{v}");
        // Her signing share is a round-2 message: it never left.
        assert!(
            rounds.iter().all(|&r| r == 1),
            "alice sent rounds {rounds:?}"
        );
    });
    let logs = c.logs();
    assert!(logs.contains("a message was ignored"), "{logs}");
    // Bob's home is the test's; alice's log is what there is to check.
    assert!(!logs.contains(common::PASS));
    for t in &c.tokens {
        assert!(!logs.contains(t.rsplit('_').next().unwrap()));
    }
}

/// The cluster on NATS JetStream instead of the relay: every scheme's keys made and
/// signed through every node (presence from the beats in the KV bucket, FROST from the
/// nonce pools), an ECDSA signature from a presignature whose single use is recorded
/// cluster-wide, and the 200 concurrent requests.
#[test]
fn a_cluster_on_nats_makes_keys_signs_every_scheme_and_answers_two_hundred_concurrent_requests() {
    let Some(c) = Cluster::start_on_nats(ecdsa_world(), &ECDSA_NODES) else {
        return;
    };
    // First, while every signing request a node audits is one of the 200.
    two_hundred_concurrent_requests(&c);
    for (i, scheme) in ["eddsa-ed25519", "schnorr-secp256k1-tr", "schnorr-secp256k1"]
        .into_iter()
        .enumerate()
    {
        let key = c.keygen(i, scheme);
        for p in 0..3 {
            c.sign_until(p, &key, scheme, |d| d["mode"] == "preprocessed");
        }
    }
    let key = c.keygen(2, "ecdsa-secp256k1");
    c.wait_for_a_presignature();
    let d = c.sign_until(0, &key, "ecdsa-secp256k1", |d| d["mode"] == "presigned");
    // Its use is in the cluster's single-use bucket, bound to that signature: a node
    // (here, a link of the test's own) that claims it for anything else is refused.
    let presig = d["presignature"].as_str().unwrap();
    let auditor = std::sync::Arc::new(mpc::identity::Identity::generate("auditor"));
    let (link, _) = c.join_bus(auditor);
    let ledger = link.single_use().unwrap();
    assert_eq!(
        ledger
            .claim(&format!("presignature.{presig}"), "another use")
            .unwrap(),
        mpc::store::db::Claim::Spent,
        "{d}"
    );
    link.stop();
}

/// Nodes that sign in as the NKEY users of the example server configuration
/// (`contrib/nats/lab.conf`), with just the permissions it gives a node: keys are made
/// and signed with through every node.
#[test]
fn a_cluster_signs_in_to_the_example_nats_config_with_a_node_s_permissions() {
    let Some(bin) = common::nats::nats_server() else {
        return;
    };
    let world = World::new(3);
    let keys: Vec<String> = (0..3)
        .map(|p| {
            let card = std::fs::read(&world.parties[p].card).unwrap();
            mpc::identity::Card::from_json(&card).unwrap().ed25519
        })
        .collect();
    let (nats, users) = common::nats::NatsProc::lab(&bin, [keys[0].as_str(), &keys[1], &keys[2]]);
    // Carol's node signs in with bob's node's user: it may not read carol's consumer
    // (nor beat as carol), so it never comes up.
    let wrong = vec![
        users.nodes[0].clone(),
        users.nodes[1].clone(),
        users.nodes[1].clone(),
    ];
    let mut c = Cluster::start_signed_in_some(world, BusProc::Nats(nats), wrong, &[0, 1]);
    let carol = c.start_node(2, &[]);
    std::thread::sleep(Duration::from_secs(3));
    let ready = agent()
        .get(&format!("{}/health/ready", carol.url))
        .call()
        .unwrap();
    assert_eq!(
        ready.status().as_u16(),
        503,
        "carol's node is up as bob's user"
    );
    drop(carol);
    // With her own user she comes up; keys are made and signed with through every node.
    c.creds[2] = users.nodes[2].clone();
    c.nodes.push(Some(c.start_node(2, &[])));
    c.wait_up(&[0, 1, 2]);
    let key = c.keygen(1, "eddsa-ed25519");
    for p in 0..3 {
        c.sign_until(p, &key, "eddsa-ed25519", |d| d["mode"] == "preprocessed");
    }
}

/// Clients sign through the three nodes of a cluster on a 3-server JetStream cluster
/// (streams and buckets with three copies) while one server is killed.
#[test]
fn a_nats_cluster_losing_a_server_under_load_loses_no_request() {
    let Some(bin) = common::nats::nats_server() else {
        return;
    };
    let nats = common::nats::NatsCluster::start(&bin);
    let c = Cluster::start_on(World::new(3), BusProc::NatsCluster(nats), &[]);
    signing_through_a_bus_fault(c, false);
}

#[test]
fn a_restarted_nats_server_is_rejoined_and_signing_resumes() {
    if let Some(c) = Cluster::start_on_nats(World::new(3), &[]) {
        signing_resumes_after_the_bus_restarts(c);
    }
}

/// The cluster-wide single-use ledger on NATS: a presignature's use is a create-only key
/// whose value binds it to one signature. A node whose own ledger went back (its home
/// restored from a copy, the presignature armed again) is still refused a second use;
/// while the server is down a claim fails (nothing is used), and once it is back the
/// same use passes.
#[test]
fn a_presignature_is_bound_to_one_use_across_a_nats_cluster() {
    use mpc::store::db::{Claim, Db, Mark, SingleUse};
    /// A home's database with presignature sessions p2 and p3, p2 armed.
    fn home_db() -> Db {
        let db = Db::memory().unwrap();
        for id in ["p2", "p3"] {
            db.insert_session(id, "sign", "{}", 1, json!({})).unwrap();
        }
        db.set_ledger("p2", SingleUse::Presignature, Mark::Armed)
            .unwrap();
        db
    }
    let Some(bin) = common::nats::nats_server() else {
        return;
    };
    let mut nats = common::nats::NatsProc::fresh(&bin, &[]);
    let links: Vec<_> = ["alice", "bob"]
        .into_iter()
        .map(|n| {
            join_bus(
                &nats.addr,
                std::sync::Arc::new(mpc::identity::Identity::generate(n)),
            )
            .0
        })
        .collect();
    let (a, b) = (
        links[0].single_use().unwrap(),
        links[1].single_use().unwrap(),
    );
    assert_eq!(a.claim("presignature.p1", "use 1").unwrap(), Claim::Won);
    assert_eq!(b.claim("presignature.p1", "use 1").unwrap(), Claim::Again);
    assert_eq!(b.claim("presignature.p1", "use 2").unwrap(), Claim::Spent);

    // Alice's node uses presignature p2 for one message.
    let alice = home_db();
    alice.share_single_use(a.clone());
    let claim = |db: &Db, binding: &str| db.claim("p2", SingleUse::Presignature, binding, false);
    assert_eq!(claim(&alice, "message 1").unwrap(), Claim::Won);
    assert_eq!(claim(&alice, "message 1").unwrap(), Claim::Again);
    // Her home comes back from a copy made before: p2 is armed there again. The
    // cluster's ledger refuses a second message all the same.
    let restored = home_db();
    restored.share_single_use(a.clone());
    assert_eq!(claim(&restored, "message 2").unwrap(), Claim::Spent);
    // Another presignature, with the server down: the claim fails and says why, and
    // passes for the same use once the server is back.
    alice
        .set_ledger("p3", SingleUse::Presignature, Mark::Armed)
        .unwrap();
    nats.stop();
    let err = alice
        .claim("p3", SingleUse::Presignature, "message 3", false)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("single-use ledger cannot be reached"),
        "{err}"
    );
    nats.start_again();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match alice.claim("p3", SingleUse::Presignature, "message 3", false) {
            Ok(c) => {
                assert_eq!(c, Claim::Again, "consumed here by the first try");
                break;
            }
            Err(e) => assert!(Instant::now() < deadline, "never claimed: {e}"),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        alice
            .claim("p3", SingleUse::Presignature, "message 4", false)
            .unwrap(),
        Claim::Spent
    );
    for l in links {
        l.stop();
    }
}

/// A token of node `p` made by its operator's CLI beside the running node.
fn token_on(c: &Cluster, p: usize, scope: &str, keys: Option<&str>) -> String {
    let mut cmd = c.world.mpc(p);
    cmd.args([
        "--json", "serve", "token", "create", "--scope", scope, "--name", "t",
    ]);
    if let Some(k) = keys {
        cmd.args(["--keys", k]);
    }
    let out = cmd.output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    common::json(&out)["token"].as_str().unwrap().to_string()
}

/// Signatures the audit of node `p` allowed for `key` (its `serve.sign` rows).
fn signatures_allowed(c: &Cluster, p: usize, key: &str) -> usize {
    audit_rows(&c.world, p)
        .iter()
        .filter(|r| r["action"] == "serve.sign" && r["subject"] == key)
        .count()
}

#[test]
fn hostile_requests_are_held_to_their_keys_to_each_signature_s_rate_and_to_the_bus_s_frame() {
    let c = Cluster::start(&["--approval-timeout", "20s"]);
    let a = c.keygen(0, "eddsa-ed25519");
    let b = c.keygen(0, "eddsa-ed25519");
    let (a_id, b_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());

    // 5. A batch whose node message would not fit the relay's frame is refused with 413
    // before anything is sent, and costs no other request its answer.
    let big: Vec<String> = (0..64)
        .map(|i| format!("{i:02}{}", "x".repeat(30_000)))
        .collect();
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (url, token, key) = (c.url(0, "/sign"), c.tokens[0].clone(), a_id.to_string());
            std::thread::spawn(move || {
                (0..30)
                    .map(|i| {
                        let body = json!({"key_id": key, "message": format!("{w}/{i}")});
                        call("POST", &url, &token, Some(body)).0
                    })
                    .collect::<Vec<u16>>()
            })
        })
        .collect();
    for _ in 0..3 {
        let (status, v) = call(
            "POST",
            &c.url(0, "/sign/batch"),
            &c.tokens[0],
            Some(json!({"key_id": a_id, "messages": big})),
        );
        assert_eq!(status, 413, "{v}");
        assert_eq!(v["error"]["code"], "too_large");
    }
    for w in workers {
        let statuses = w.join().unwrap();
        assert!(
            statuses.iter().all(|s| *s == 200),
            "{statuses:?}\n{}",
            c.logs()
        );
    }
    // The largest batch that fits is signed whole.
    let fits: Vec<String> = (0..64)
        .map(|i| format!("{i:02}{}", "y".repeat(20_000)))
        .collect();
    let (status, v) = call(
        "POST",
        &c.url(0, "/sign/batch"),
        &c.tokens[0],
        Some(json!({"key_id": a_id, "messages": fits})),
    );
    assert_eq!(status, 200, "{v}");
    let sigs = v["data"]["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 64);
    verified("eddsa-ed25519", &a, &fits[63], &sigs[63]);

    // 3. `max_per_hour` counts signatures: a batch counts each message, on every node.
    for p in 0..3 {
        let (status, v) = put(
            &c.url(p, &format!("/keys/{b_id}")),
            &c.tokens[p],
            json!({"policy": {"max_per_hour": 3}}),
        );
        assert_eq!(status, 200, "{v}");
    }
    let batch = |n: usize| {
        let messages: Vec<String> = (0..n).map(|i| format!("counted {i}")).collect();
        call(
            "POST",
            &c.url(0, "/sign/batch"),
            &c.tokens[0],
            Some(json!({"key_id": b_id, "messages": messages})),
        )
    };
    let (status, v) = batch(4);
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["error"]["code"], "policy_refused");
    assert_eq!(batch(2).0, 200);
    let (status, v) = batch(2);
    assert_eq!(status, 422, "two more than three: {v}");
    assert_eq!(c.sign(0, b_id, "the third").0, 200);
    assert_eq!(c.sign(0, b_id, "a fourth").0, 422);
    // Requests at once cannot overtake each other between the count and the rows.
    let (status, c_key) = call(
        "POST",
        &c.url(0, "/keys"),
        &c.tokens[0],
        Some(json!({"scheme": "eddsa-ed25519", "threshold": 2})),
    );
    assert_eq!(status, 201, "{c_key}");
    let c_id = c_key["data"]["id"].as_str().unwrap().to_string();
    for p in 0..3 {
        let (status, _) = put(
            &c.url(p, &format!("/keys/{c_id}")),
            &c.tokens[p],
            json!({"policy": {"max_per_hour": 5}}),
        );
        assert_eq!(status, 200);
    }
    let racers: Vec<_> = (0..10)
        .map(|i| {
            let (url, token, key) = (c.url(i % 3, "/sign/batch"), c.tokens[i % 3].clone(), c_id.clone());
            std::thread::spawn(move || {
                let body = json!({"key_id": key, "messages": [format!("race {i} a"), format!("race {i} b")]});
                call("POST", &url, &token, Some(body)).0
            })
        })
        .collect();
    let won = racers
        .into_iter()
        .map(|r| r.join().unwrap())
        .filter(|s| *s == 200)
        .count();
    // Each node holds its own share to five: two nodes sign each batch, so at most
    // three batches of two (fifteen allowances) can be signed in all. (How many are
    // depends on the order the nodes decide in: each node's allowances can go to
    // requests another node refused, so none may be signed.)
    assert!(won <= 3, "{won} batches of two signed");
    for p in 0..3 {
        assert!(signatures_allowed(&c, p, &c_id) <= 5, "node {p}");
        assert!(signatures_allowed(&c, p, b_id) <= 3, "node {p}");
    }

    // 2. A token limited to key A, even an admin one, reaches nothing of key B: not
    // its sessions waiting for approval, nor the members, nor new keys.
    let (status, _) = put(
        &c.url(1, &format!("/keys/{a_id}")),
        &c.tokens[1],
        json!({"policy": {"mode": "approval"}}),
    );
    assert_eq!(status, 200);
    let (status, _) = put(
        &c.url(1, &format!("/keys/{b_id}")),
        &c.tokens[1],
        json!({"policy": {"mode": "approval", "max_per_hour": 100}}),
    );
    assert_eq!(status, 200);
    for p in [0, 2] {
        put(
            &c.url(p, &format!("/keys/{b_id}")),
            &c.tokens[p],
            json!({"policy": {"max_per_hour": 100}}),
        );
    }
    let limited = token_on(&c, 1, "admin", Some(a_id));
    let waiting = c.sign_in_background(0, b_id, "for bob's operator");
    let session = c.awaiting_approval(1, Some(b_id), Duration::from_secs(10))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, v) = call("GET", &c.url(1, "/sessions"), &limited, None);
    assert_eq!(status, 200);
    assert!(!v.to_string().contains(&session), "{v}");
    assert_eq!(
        call(
            "GET",
            &c.url(1, &format!("/sessions/{session}")),
            &limited,
            None
        )
        .0,
        404
    );
    for act in ["join", "cancel"] {
        let (status, v) = call(
            "POST",
            &c.url(1, &format!("/sessions/{session}/{act}")),
            &limited,
            Some(json!({})),
        );
        assert_eq!(status, 404, "{act}: {v}");
    }
    let (status, _) = call(
        "POST",
        &c.url(1, "/keys"),
        &limited,
        Some(json!({"scheme": "eddsa-ed25519", "threshold": 2})),
    );
    assert_eq!(status, 403);
    let removed = agent()
        .delete(&c.url(1, "/nodes/carol"))
        .header("authorization", &format!("Bearer {limited}"))
        .call()
        .unwrap();
    assert_eq!(removed.status().as_u16(), 403);
    // Bob's unlimited operator still sees it and approves: it signs, approved by him.
    let (status, v) = c.join_session(1, &session);
    assert_eq!(status, 200, "{v}");
    let (status, v) = waiting.join().unwrap();
    assert_eq!(status, 200, "{v}");
    verified("eddsa-ed25519", &b, "for bob's operator", &v["data"]);
    let (_, nodes) = call("GET", &c.url(1, "/nodes"), &c.tokens[1], None);
    assert_eq!(
        nodes["data"]["nodes"].as_array().unwrap().len(),
        3,
        "carol stays a member"
    );
    // 10. The document's 503 `primes_needed`: an ECDSA key among nodes with no Paillier
    // primes (tests never generate them) is refused, and says how to get them.
    let (status, v) = call(
        "POST",
        &c.url(0, "/keys"),
        &c.tokens[0],
        Some(json!({"scheme": "ecdsa-secp256k1", "threshold": 2})),
    );
    assert_eq!(status, 503, "{v}");
    assert_eq!(v["error"]["code"], "primes_needed", "{v}");
}

/// Reads from `s` until the node closes it or `max` passes; whether it closed.
fn closed_within(s: &mut std::net::TcpStream, max: Duration) -> bool {
    use std::io::Read;
    s.set_read_timeout(Some(max)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            // An answer (a 408 or the like) before it closes.
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

/// Thousands of unique 16 kB paths without a token, against a real node with no
/// outsider rate (so every one is answered 401 and audited, the most a path can cost):
/// the node's resident memory, `/metrics` and its database stay about where they were.
/// (Before: 3000 such requests took a node from 37 to 134 MB, made one scrape 483 MB and
/// grew the database by 48 MB.)
#[test]
fn thousands_of_made_up_paths_leave_memory_metrics_and_the_database_bounded() {
    let w = World::new(1);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("mpc"))
        .env("MPC_HOME", &w.parties[0].home)
        .env("MPC_PASSPHRASE", common::PASS)
        .args(["--no-input", "--json", "serve", "--listen", "127.0.0.1:0"])
        .args(["--prime-pool", "0", "--outsider-rate", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let first: Value = serde_json::from_str(&line).unwrap();
    let url = format!("http://{}", first["listening"].as_str().unwrap());
    let rss_kib = || -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    };
    let db = w.parties[0].home.join("mpc.db");
    let db_bytes = || {
        let wal = db.with_extension("db-wal");
        std::fs::metadata(&db).map_or(0, |m| m.len())
            + std::fs::metadata(wal).map_or(0, |m| m.len())
    };
    let scrape = || {
        agent()
            .get(&format!("{url}/metrics"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap()
    };
    let long = "p".repeat(16 * 1024);
    let probe = |i: usize| {
        let r = agent()
            .get(&format!("{url}/api/v1/probe-{i}-{long}"))
            .call()
            .unwrap();
        assert_eq!(r.status().as_u16(), 401);
    };
    // Warm up (allocator arenas, the audit writer, the first series), then measure.
    for i in 0..200 {
        probe(i);
    }
    let (rss, bytes, metrics) = (rss_kib(), db_bytes(), scrape());
    for i in 200..3200 {
        probe(i);
    }
    let grown_kib = rss_kib().saturating_sub(rss);
    assert!(
        grown_kib < 40 * 1024,
        "resident memory grew by {grown_kib} KiB"
    );
    let grown = db_bytes().saturating_sub(bytes);
    assert!(grown < 4 << 20, "the database grew by {grown} bytes");
    let after = scrape();
    assert!(!after.contains("probe"), "a made-up path is a label");
    assert!(
        after.len() < metrics.len() + 4096,
        "/metrics grew from {} to {} bytes",
        metrics.len(),
        after.len()
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn stalled_connections_are_closed_and_one_address_cannot_hold_the_node() {
    let w = World::new(1);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("mpc"))
        .env("MPC_HOME", &w.parties[0].home)
        .env("MPC_PASSPHRASE", common::PASS)
        .args([
            "--no-input",
            "--json",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--prime-pool",
            "0",
            "--header-timeout",
            "1s",
            "--idle-timeout",
            "2s",
            "--max-connections-per-address",
            "8",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let first: Value = serde_json::from_str(&line).unwrap();
    let addr = first["listening"].as_str().unwrap().to_string();
    let live = || {
        agent()
            .get(&format!("http://{addr}/health/live"))
            .call()
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    };
    assert_eq!(live(), 200);
    // Eight connections that send half a request line, and stop.
    let mut half: Vec<std::net::TcpStream> = (0..8)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(&addr).unwrap();
            std::io::Write::write_all(&mut s, b"GET /health/li").unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // A ninth from the same address is closed at once.
    let mut ninth = std::net::TcpStream::connect(&addr).unwrap();
    assert!(
        closed_within(&mut ninth, Duration::from_secs(5)),
        "over the cap but kept"
    );
    // The stalled ones are closed by the header timeout; then the node answers again.
    for s in &mut half {
        assert!(
            closed_within(s, Duration::from_secs(10)),
            "a half request was held"
        );
    }
    assert_eq!(live(), 200);
    // A connection that says nothing at all is closed too (the idle timeout).
    let mut silent = std::net::TcpStream::connect(&addr).unwrap();
    assert!(
        closed_within(&mut silent, Duration::from_secs(10)),
        "a silent connection was held"
    );
    let metrics = agent()
        .get(&format!("http://{addr}/metrics"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let count = |name: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    assert!(
        count("mpc_http_connections_refused_total") >= 1.0,
        "{metrics}"
    );
    assert!(
        count("mpc_http_connections_timed_out_total") >= 9.0,
        "{metrics}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_relay_with_a_member_list_keeps_strangers_out_and_a_restarted_member_gets_back_in() {
    let world = World::new(3);
    let file = world.path("members.json");
    let mut init = world.mpc(0);
    init.args(["serve", "cluster", "init", "--out"]).arg(&file);
    for p in &world.parties {
        init.arg(&p.card);
    }
    let out = init.output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let relay = RelayProc::start(
        "127.0.0.1:0",
        &[
            "--cluster",
            file.to_str().unwrap(),
            "--max-connections",
            "6",
        ],
    );
    let mut c = Cluster::start_on(world, BusProc::Relay(relay), &[]);
    let addr = c.bus.addr().to_string();
    // A key of alice and bob, signing from the nonce pools.
    let key = c.alice_and_bob_key();
    let id = key["id"].as_str().unwrap().to_string();
    c.sign_until(0, &key, "eddsa-ed25519", |d| d["mode"] == "preprocessed");
    // A stranger's node, with a key of its own, is refused.
    let stranger = std::sync::Arc::new(mpc::identity::Identity::generate("mallory"));
    let bus = mpc::serve::bus::Bus::start(
        &addr,
        Default::default(),
        stranger,
        std::sync::Arc::new(|_, _| {}),
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while bus.trouble().is_none_or(|t| !t.contains("not a member")) {
        assert!(!bus.connected(), "a stranger's node got in");
        assert!(Instant::now() < deadline, "{:?}", bus.trouble());
        std::thread::sleep(Duration::from_millis(50));
    }
    bus.stop();
    // Strangers hold every connection the relay has (the members' links take none).
    let held: Vec<std::net::TcpStream> = (0..6)
        .map(|_| std::net::TcpStream::connect(&addr).unwrap())
        .collect();
    let mut extra = std::net::TcpStream::connect(&addr).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    // One more that is not a member's node is turned away...
    std::io::Write::write_all(&mut extra, b"\x00").unwrap();
    assert!(
        closed_within(&mut extra, Duration::from_secs(5)),
        "a stranger past the limit was kept"
    );
    // ...while bob, restarted, gets back in and signs.
    c.kill(1);
    let bob = c.start_node(1, &[]);
    c.nodes[1] = Some(bob);
    c.wait_up(&[0, 1, 2]);
    let (status, v) = c.sign(1, &id, "back in");
    assert_eq!(status, 200, "{v}");
    verified("eddsa-ed25519", &key, "back in", &v["data"]);
    // Alice still holds bob's commitments from before his restart. His new nonces have
    // new ids, so a stale commitment is unknown to him and alice fetches fresh ones at
    // once: the requests take whole sessions only until they come (how many depends on
    // how fast bob makes them, under the suite's load too), then none does.
    c.sign_until(0, &key, "eddsa-ed25519", |d| d["mode"] == "preprocessed");
    let modes: Vec<String> = (0..5)
        .map(|i| {
            let message = format!("after bob's restart {i}");
            let (status, v) = c.sign(0, &id, &message);
            assert_eq!(status, 200, "{v}");
            verified("eddsa-ed25519", &key, &message, &v["data"]);
            v["data"]["mode"].as_str().unwrap().to_string()
        })
        .collect();
    assert!(
        modes.iter().all(|m| m == "preprocessed"),
        "stale commitments kept sending requests to whole sessions: {modes:?}"
    );
    drop(held);
}

/// The directory of the API conformance tools (`schemathesis`'s `st` and
/// `openapi-spec-validator`, which `.ci/run` installs into a virtualenv of its own):
/// `MPC_API_TOOLS`, else found on PATH. `None` (said loudly) without them, outside CI.
fn api_tools() -> Option<std::path::PathBuf> {
    let found = std::env::var_os("MPC_API_TOOLS")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::split_paths(&std::env::var_os("PATH")?)
                .find(|d| d.join("st").is_file() && d.join("openapi-spec-validator").is_file())
        });
    if found.is_none() {
        assert!(
            std::env::var_os("MPC_REQUIRE_API_TOOLS").is_none(),
            "MPC_REQUIRE_API_TOOLS is set but schemathesis and openapi-spec-validator were not found"
        );
        eprintln!(
            "\n*** SKIPPED: no schemathesis (`pip install schemathesis openapi-spec-validator`, or set MPC_API_TOOLS) ***\n"
        );
    }
    found
}

/// What schemathesis is told (`st --config-file`): every check on, a bounded number of
/// examples per operation. Where a request that fits the document can still be refused
/// with 400 because of how its fields relate to each other or to the node's state
/// (a message that is not valid in the `encoding` it names, `hash` or `path` for a key of
/// another scheme, a public key that is not a point, a threshold above the number of
/// nodes, a name that is no member, a card whose fingerprint is another's), that
/// operation's positive-data check also takes 400 (and 413 for a message over 1 MiB).
/// Everything else is as strict as schemathesis makes it.
const SCHEMATHESIS_CONFIG: &str = r#"
seed = 7
workers = 1
request-timeout = 60

[checks]
enabled = true

[phases.examples]
enabled = true
[phases.coverage]
enabled = true
[phases.fuzzing]
enabled = true
[phases.stateful]
enabled = false

[generation]
max-examples = 10

[[operations]]
include-name = ["POST /api/v1/sign", "POST /api/v1/sign/batch", "POST /api/v1/verify", "POST /api/v1/keys", "POST /api/v1/keys/{id}/reshare", "POST /api/v1/sessions", "POST /api/v1/nodes"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "413", "429"]
"#;

/// The OpenAPI document, as a node of a running cluster serves it, passes a standard
/// validator; schemathesis then sends a bounded number of generated requests per
/// operation to that node (every check on): no 5xx, no answer outside the document, no
/// undocumented status, no schema-valid request refused but as [`SCHEMATHESIS_CONFIG`]
/// says, no schema-invalid one accepted.
#[test]
fn the_served_openapi_document_is_valid_and_a_live_node_keeps_to_it_under_schemathesis() {
    let Some(tools) = api_tools() else { return };
    // Unauthenticated probes are not rate-limited here (each is checked for its 401).
    let mut extra = ECDSA_NODES.to_vec();
    extra.extend(["--outsider-rate", "0"]);
    let c = Cluster::start_with(ecdsa_world(), &extra);
    let url = c.nodes[0].as_ref().unwrap().url.clone();
    let w = &c.world;
    // The document, as served, passes a standard validator.
    let doc = agent()
        .get(&format!("{url}/api/v1/openapi.json"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let file = w.path("openapi.json");
    std::fs::write(&file, &doc).unwrap();
    let out = std::process::Command::new(tools.join("openapi-spec-validator"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openapi-spec-validator: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let config = w.path("schemathesis.toml");
    std::fs::write(&config, SCHEMATHESIS_CONFIG).unwrap();
    let out = std::process::Command::new(tools.join("st"))
        .arg("--config-file")
        .arg(&config)
        .args(["run", &format!("{url}/api/v1/openapi.json")])
        .args([
            "--header",
            &format!("Authorization: Bearer {}", c.tokens[0]),
        ])
        .current_dir(w.path(""))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{report}"
    );
    // And the node's own audit: no request ended in an internal error.
    let rows = audit_rows(w, 0);
    let statuses: Vec<u64> = rows
        .iter()
        .filter(|r| r["action"] == "api")
        .filter_map(|r| detail(r)["status"].as_u64())
        .collect();
    assert!(
        statuses.len() > 100,
        "schemathesis made {} requests",
        statuses.len()
    );
    assert!(!statuses.iter().any(|s| *s >= 500), "a 5xx:\n{report}");
}

/// `POST /keys/{id}/reshare` through the cluster: a 2-of-3 key is reshared onto a node
/// added at run time (3-of-4) and signs through it, then reshared away from a node
/// (2-of-3), which then holds no share and can be removed; the public key never
/// changes. Refusals come before anything starts.
#[test]
fn a_key_is_reshared_onto_a_node_added_at_run_time_and_away_from_another() {
    let world = World::new(4);
    let relay = RelayProc::start("127.0.0.1:0", &[]);
    let mut c = Cluster::start_signed_in_none(world, BusProc::Relay(relay), Vec::new());
    // Alice, bob and carol start with a cluster file of the three of them; dave's node,
    // started later, knows all four.
    let all = c.cluster.clone();
    let three = c.world.path("cluster-3.json");
    let mut init = c.world.mpc(0);
    init.args(["serve", "cluster", "init", "--out"]).arg(&three);
    for p in 0..3 {
        init.arg(&c.world.parties[p].card);
    }
    assert_eq!(code(&init.output().unwrap()), 0);
    c.cluster = three;
    for p in 0..3 {
        let n = c.start_node(p, &[]);
        c.nodes.push(Some(n));
    }
    c.wait_up(&[0, 1, 2]);
    let key = c.keygen(0, "eddsa-ed25519");
    let id = key["id"].as_str().unwrap().to_string();
    let reshare = |c: &Cluster, via: usize, body: Value| {
        call(
            "POST",
            &c.url(via, &format!("/keys/{id}/reshare?wait=60s")),
            &c.tokens[via],
            Some(body),
        )
    };
    // Dave is no member yet: refused before anything starts.
    let (status, v) = reshare(
        &c,
        0,
        json!({"nodes": ["alice", "bob", "carol", "dave"], "threshold": 3}),
    );
    assert_eq!(status, 400, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`dave` is not a cluster member")
    );
    // Dave's node comes up, and every operator adds him by his card and fingerprint.
    c.cluster = all;
    let dave = c.start_node(3, &[]);
    c.nodes.push(Some(dave));
    let card: Value =
        serde_json::from_slice(&std::fs::read(&c.world.parties[3].card).unwrap()).unwrap();
    let fingerprint = mpc::identity::words(
        &mpc::identity::Card::from_json(card.to_string().as_bytes())
            .unwrap()
            .fingerprint(),
    );
    for p in 0..3 {
        let (status, v) = call(
            "POST",
            &c.url(p, "/nodes"),
            &c.tokens[p],
            Some(json!({"card": card, "fingerprint": fingerprint})),
        );
        assert_eq!(status, 201, "{v}");
    }
    c.wait_up(&[0, 1, 2, 3]);
    // 2-of-3 → 3-of-4 onto dave.
    let (status, v) = reshare(
        &c,
        0,
        json!({"nodes": ["alice", "bob", "carol", "dave"], "threshold": 3}),
    );
    assert_eq!(status, 200, "{v}\n{}", c.logs());
    assert_eq!(
        v["data"]["public_key"], key["public_key"],
        "the key changed"
    );
    assert_eq!(
        (v["data"]["threshold"].as_u64(), v["data"]["n"].as_u64()),
        (Some(3), Some(4)),
        "{v}"
    );
    let (status, v) = c.sign(3, &id, "signed through dave");
    assert_eq!(status, 200, "{v}\n{}", c.logs());
    verified("eddsa-ed25519", &key, "signed through dave", &v["data"]);
    // Each dealer's own policy decides for its share: alice's `never` refuses the
    // reshare (nothing switches); `approval` waits for her operator.
    let away = json!({"nodes": ["alice", "bob", "dave"], "threshold": 2});
    let policy = |mode: &str| {
        let (status, v) = put(
            &c.url(0, &format!("/keys/{id}")),
            &c.tokens[0],
            json!({"policy": {"mode": mode}}),
        );
        assert_eq!(status, 200, "{v}");
    };
    policy("never");
    let (status, v) = reshare(&c, 1, away.clone());
    assert_ne!(status, 200, "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("never"),
        "{v}"
    );
    let (status, v) = call("GET", &c.url(2, &format!("/keys/{id}")), &c.tokens[2], None);
    assert_eq!((status, &v["data"]["threshold"]), (200, &json!(3)), "{v}");
    policy("approval");
    // 3-of-4 → 2-of-3 away from carol (coordinated by bob, approved by alice's
    // operator): carol's node holds no share.
    let (status, v) = std::thread::scope(|s| {
        let (url, token) = (
            c.url(1, &format!("/keys/{id}/reshare?wait=60s")),
            c.tokens[1].clone(),
        );
        let body = away.clone();
        let started = s.spawn(move || call("POST", &url, &token, Some(body)));
        let deadline = Instant::now() + Duration::from_secs(30);
        let asked = loop {
            let (_, v) = call("GET", &c.url(0, "/sessions"), &c.tokens[0], None);
            let waiting = v["data"]["sessions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["status"] == "awaiting_approval" && e["kind"] == "reshare")
                .cloned();
            if let Some(w) = waiting {
                break w;
            }
            assert!(Instant::now() < deadline, "alice was never asked: {v}");
            std::thread::sleep(Duration::from_millis(100));
        };
        assert_eq!(asked["key_id"], id.as_str());
        let session = asked["id"].as_str().unwrap();
        let (status, v) = c.join_session(0, session);
        assert_eq!(status, 200, "{v}");
        started.join().unwrap()
    });
    assert_eq!(status, 200, "{v}\n{}", c.logs());
    let (status, v) = call("GET", &c.url(2, &format!("/keys/{id}")), &c.tokens[2], None);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"]["status"], "reshared", "{v}");
    let (status, v) = c.sign(2, &id, "carol cannot");
    assert_ne!(status, 200, "{v}");
    // Carol leaves the cluster; the others sign on (alice's operator back to `auto`).
    policy("auto");
    for p in [0, 1, 3] {
        let gone = agent()
            .delete(&c.url(p, "/nodes/carol"))
            .header("authorization", &format!("Bearer {}", c.tokens[p]))
            .call()
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(gone, 200);
    }
    for via in [0, 1, 3] {
        let msg = format!("after carol left, via {via}");
        let (status, v) = c.sign(via, &id, &msg);
        assert_eq!(status, 200, "{v}\n{}", c.logs());
        verified("eddsa-ed25519", &key, &msg, &v["data"]);
    }
}

/// More requests in flight than `--max-requests`: the next one is answered 503
/// `overloaded` at once (it does not wait for a slot), while the admitted ones go on
/// and finish, and the node serves again once they have.
#[test]
fn requests_beyond_max_requests_are_shed_at_once_and_the_node_keeps_serving() {
    let c = Cluster::start(&["--approval-timeout", "60s", "--max-requests", "3"]);
    let key = c.alice_and_bob_key();
    let id = key["id"].as_str().unwrap().to_string();
    let (status, v) = put(
        &c.url(1, &format!("/keys/{id}")),
        &c.tokens[1],
        json!({"policy": {"mode": "approval"}}),
    );
    assert_eq!(status, 200, "{v}");
    // Three requests to alice, each held until bob's operator approves its session.
    let held: Vec<_> = (0..3)
        .map(|i| {
            let (url, token, id) = (c.url(0, "/sign"), c.tokens[0].clone(), id.clone());
            std::thread::spawn(move || {
                let message = format!("held {i}");
                let (status, v) = call(
                    "POST",
                    &url,
                    &token,
                    Some(json!({"key_id": id, "message": message})),
                );
                (message, status, v)
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    let waiting = loop {
        let (_, v) = call("GET", &c.url(1, "/sessions"), &c.tokens[1], None);
        let waiting: Vec<String> = v["data"]["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["status"] == "awaiting_approval")
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect();
        if waiting.len() == 3 {
            break waiting;
        }
        assert!(Instant::now() < deadline, "not all held: {v}");
        std::thread::sleep(Duration::from_millis(20));
    };
    // Alice has three requests in flight: a fourth, of any kind, is shed.
    for (method, path) in [("GET", "/keys"), ("POST", "/sign")] {
        let body = (method == "POST").then(|| json!({"key_id": id, "message": "one too many"}));
        let (status, v) = call(method, &c.url(0, path), &c.tokens[0], body);
        assert_eq!(status, 503, "{method} {path}: {v}");
        assert_eq!(v["error"]["code"], "overloaded", "{v}");
    }
    // Bob's operator approves: the held requests finish with signatures.
    for sid in &waiting {
        let (status, v) = c.join_session(1, sid);
        assert_eq!(status, 200, "{v}");
    }
    for h in held {
        let (message, status, v) = h.join().unwrap();
        assert_eq!(status, 200, "{v}");
        verified("eddsa-ed25519", &key, &message, &v["data"]);
    }
    let (status, v) = call("GET", &c.url(0, "/keys"), &c.tokens[0], None);
    assert_eq!(status, 200, "{v}");
}

/// A member that cannot start its part of a session (its key is suspended there) ends
/// the session for the coordinator at once, with its reason, instead of leaving the
/// request to time out waiting for it.
#[test]
fn a_member_that_cannot_start_a_session_ends_it_for_the_coordinator() {
    let c = Cluster::start(&["--session-timeout", "60s"]);
    let id = c.alice_and_bob_key()["id"].as_str().unwrap().to_string();
    // Bob's operator suspends the key in bob's home, beside his running node.
    let out = c
        .world
        .mpc(1)
        .args(["suspend", &id, "--reason", "laptop stolen"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let (status, v) = c.sign(0, &id, "bob's key is suspended");
    assert_ne!(status, 200, "{v}");
    assert_ne!(v["error"]["code"], "timed_out", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("suspended"),
        "{v}"
    );
}

/// A slow disk under bob's audit log (a keygen decision's row takes 8 s to become
/// durable) does not stall bob's bus: while a key generation waits on it, the other
/// members' beats still arrive (both stay up in bob's view, which they would not after
/// 4 s of silence) and the key generation then finishes.
#[test]
fn a_slow_audit_disk_does_not_stall_the_bus() {
    let mut c = Cluster::start(&[]);
    c.kill(1);
    let slow = [("MPC_FAULT_AUDIT_DELAY", "bob:serve.keygen:8000")];
    c.nodes[1] = Some(c.start_node_with(1, &[], &slow));
    c.wait_up(&[0, 1, 2]);
    let (url, token) = (c.url(0, "/keys"), c.tokens[0].clone());
    let keygen = std::thread::spawn(move || {
        call(
            "POST",
            &url,
            &token,
            Some(json!({"scheme": "eddsa-ed25519", "threshold": 2, "nodes": ["alice", "bob"]})),
        )
    });
    let joined = Instant::now();
    let mut looks = 0;
    // Bob's API requests wait for their own audit rows (behind the slow one); his
    // metrics are not audited, and count the members he sees up as they are now.
    let metrics = format!("{}/metrics", c.nodes[1].as_ref().unwrap().url);
    while !keygen.is_finished() {
        let text = agent()
            .get(&metrics)
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        assert!(
            text.lines().any(|l| l == "mpc_members_up 3"),
            "bob lost sight of a member while his audit row was written: {text}"
        );
        looks += 1;
        std::thread::sleep(Duration::from_millis(250));
    }
    let (status, key) = keygen.join().unwrap();
    assert_eq!(status, 201, "{key}\n{}", c.logs());
    assert!(
        joined.elapsed() >= Duration::from_secs(8) && looks > 20,
        "the keygen did not wait on bob's slow audit row ({looks} looks): the fault was not injected\n{}",
        c.logs()
    );
}

/// Alice's node built with `mpc::serve::server::Server` in this process, on a real
/// relay, her loops running; bob and carol are `mpc serve` processes. Her loops work
/// (the others see her beats; her nonce refills make one-round-trip signatures), and
/// at shutdown a session still waiting past its bound is ended: its request answers
/// 503, bob is told, nothing of the node is left running, and the audit chain verifies.
#[test]
fn a_node_built_from_the_library_runs_its_loops_and_ends_its_sessions_at_shutdown() {
    use mpc::serve::node::Config;
    use mpc::serve::server::Server;
    let relay = RelayProc::start("127.0.0.1:0", &[]);
    let mut c = Cluster::start_signed_in_none(World::new(3), BusProc::Relay(relay), Vec::new());
    c.nodes.push(None);
    for p in 1..3 {
        let n = c.start_node(p, &[]);
        c.nodes.push(Some(n));
    }
    let home = mpc::store::Home::resolve(Some(c.world.parties[0].home.clone()));
    let identity = home
        .unlock(&age::secrecy::SecretString::from(common::PASS.to_string()))
        .unwrap();
    let file: Value = serde_json::from_slice(&std::fs::read(&c.cluster).unwrap()).unwrap();
    let members: Vec<mpc::identity::Card> = file["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| mpc::identity::Card::from_json(&serde_json::to_vec(m).unwrap()).unwrap())
        .collect();
    let config = Config {
        session_timeout: Duration::from_secs(3),
        approval_timeout: Duration::from_secs(60),
        ..Config::default()
    };
    let session_timeout = config.session_timeout;
    let rt = Server::runtime(&config).unwrap();
    let running = rt
        .block_on(
            Server::new(home, identity, config)
                .members(members)
                .bus(c.bus.addr(), mpc::transport::nats::Credentials::new(None))
                .bind("127.0.0.1:0".parse().unwrap()),
        )
        .unwrap();
    let alice = format!("http://{}/api/v1", running.local_addr());
    let node = std::sync::Arc::clone(running.node());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = rt.spawn(running.run(async {
        let _ = stopped.await;
    }));
    let token = &c.tokens[0];

    // Her beats reach bob, and theirs reach her.
    let deadline = Instant::now() + Duration::from_secs(30);
    for (url, token) in [(alice.clone(), token), (c.url(1, ""), &c.tokens[1])] {
        loop {
            let (status, v) = call("GET", &format!("{url}/nodes"), token, None);
            assert_eq!(status, 200, "{v}");
            let nodes = v["data"]["nodes"].as_array().unwrap();
            if nodes.len() == 3 && nodes.iter().all(|n| n["up"] == true) {
                break;
            }
            assert!(Instant::now() < deadline, "not every node is up: {v}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let (status, v) = call(
        "POST",
        &format!("{alice}/keys"),
        token,
        Some(json!({"scheme": "eddsa-ed25519", "threshold": 2})),
    );
    assert_eq!(status, 201, "{v}");
    let key = v["data"].clone();
    let id = key["id"].as_str().unwrap().to_string();
    // Her refill loop keeps her own nonces (and the others theirs): signatures through
    // her become one round trip.
    let deadline = Instant::now() + Duration::from_secs(20);
    for k in 0.. {
        let message = format!("through the library node, try {k}");
        let (status, v) = call(
            "POST",
            &format!("{alice}/sign"),
            token,
            Some(json!({"key_id": id, "message": message})),
        );
        assert_eq!(status, 200, "{v}");
        verified("eddsa-ed25519", &key, &message, &v["data"]);
        if v["data"]["mode"] == "preprocessed" {
            break;
        }
        assert!(Instant::now() < deadline, "never preprocessed: {v}");
        std::thread::sleep(Duration::from_millis(100));
    }

    // Bob and carol ask their operators for each session: alice's request waits.
    for p in 1..3 {
        let (status, v) = put(
            &c.url(p, &format!("/keys/{id}")),
            &c.tokens[p],
            json!({"policy": {"mode": "approval"}}),
        );
        assert_eq!(status, 200, "{v}");
    }
    let (url, t, k) = (format!("{alice}/sign"), token.clone(), id.clone());
    let pending = std::thread::spawn(move || {
        let asked = Instant::now();
        let answer = call(
            "POST",
            &url,
            &t,
            Some(json!({"key_id": k, "message": "waits past shutdown"})),
        );
        (answer, asked.elapsed())
    });
    let waiting = |p: usize| {
        let (status, v) = call("GET", &c.url(p, "/sessions"), &c.tokens[p], None);
        assert_eq!(status, 200, "{v}");
        v["data"]["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["status"] == "awaiting_approval")
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !waiting(1) {
        assert!(Instant::now() < deadline, "no session waits on bob");
        std::thread::sleep(Duration::from_millis(20));
    }

    // Shutdown: the session gets its bound, then is ended.
    let began = Instant::now();
    stop.send(()).unwrap();
    let report = rt.block_on(served).unwrap().unwrap();
    let took = began.elapsed();
    assert!(
        took < session_timeout + Duration::from_secs(10),
        "shutdown took {took:?}"
    );
    assert_eq!(report.ended, 1, "{report:?}");
    assert_eq!(report.left, 0, "{report:?}");
    assert_eq!(report.loops_left, 0, "{report:?}");
    let ((status, v), asked) = pending.join().unwrap();
    assert_eq!(status, 503, "{v}");
    assert_eq!(v["error"]["code"], "busy");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("shutting down"),
        "{v}"
    );
    assert!(asked < Duration::from_secs(20), "answered after {asked:?}");
    // Nothing of the node runs on: no session, no loop, no task or thread holding it.
    assert_eq!(node.sessions.running(), 0);
    assert_eq!(std::sync::Arc::strong_count(&node), 1);
    drop(rt);
    // Bob was told: he no longer waits for his operator.
    let deadline = Instant::now() + Duration::from_secs(5);
    while waiting(1) {
        assert!(
            Instant::now() < deadline,
            "bob still waits for his operator"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = c.world.mpc(0).args(["audit", "verify"]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}
