//! `mpc bench serve`: a 3-node cluster on loopback under load, next to the library.
//!
//! It makes three homes in a temporary directory, starts an `mpc relay` and three
//! `mpc serve` processes of this binary, makes a key per FROST scheme through the API,
//! and drives `POST /sign` (and `/sign/batch`) from client threads for a fixed time at
//! each concurrency level, spreading requests over the three nodes. Each client keeps
//! one HTTP/1.1 connection (a ureq agent of its own). Built only with the `load`
//! feature: the default binary has no load harness. The library figure, measured in the same run, is the
//! engine's preprocessed FROST signing with the same key shares (2 signers: nonces,
//! both shares, aggregate and verify) on as many threads as the machine has cores.
//!
//! With `--schemes ecdsa-secp256k1`, the homes get the demo's public Paillier primes
//! (the homes are temporary and deleted after), the nodes fill presignature pools, and
//! it measures signing from the pools (one client per node, as many requests as each
//! pool holds) and whole sessions (requests with an HD path, which never use a
//! presignature), next to the engine alone in the same run: signing from
//! presignatures, and a whole signing, all parties in one process.
//!
//! With `--nats nats://HOST:PORT`, the same homes then start three nodes on that NATS
//! JetStream server and every measure runs again, in the same run: the table's `bus`
//! column tells them apart. The library figures use the keys made on the relay.
//! `MPC_BENCH_NODE_LOG=FILE` keeps the nodes' logs.
//!
//! `--rate N` adds an open-loop level per FROST scheme (N requests a second into one
//! node, each sent at its time, latency counted from it), and `--oha PATH` the same
//! node loaded by `oha`, an HTTP load generator that shares no code with this one. A
//! second table gives each node's CPU at rest (keys made, pools full, no request) and
//! its memory at rest and at its peak.

use super::Ctx;
use crate::error::{Failure, Result};
use crate::scheme::Scheme;
use clap::Args;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `mpc bench serve`
#[derive(Debug, Args)]
pub struct BenchServeArgs {
    /// How long each load level runs
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// Client threads, one load level each (comma separated)
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    pub concurrency: Vec<usize>,
    /// Messages per `/sign/batch` request
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// The schemes (default: every FROST scheme; ecdsa-secp256k1 as well on request)
    #[arg(long, value_enum, value_delimiter = ',')]
    pub schemes: Vec<Scheme>,
    /// ECDSA: presignatures each node's pool holds before measuring
    #[arg(long, default_value_t = 6)]
    pub presign_pool: usize,
    /// ECDSA: requests each node's client sends from the pool (default: as many as the
    /// pool holds, so the nodes refill it in the background from half way; fewer than
    /// half the pool measures signing from presignatures with no refill running)
    #[arg(long, value_name = "N")]
    pub presign_requests: Option<usize>,
    /// Also measure the cluster on this NATS JetStream server (nats://HOST:PORT), after
    /// the same measures on the built-in relay
    #[arg(long, value_name = "ADDR")]
    pub nats: Option<String>,
    /// FROST: also offer this many signatures a second to one node, open loop (each
    /// request sent at its time whether or not earlier ones were answered; latency
    /// counted from that time), for `--duration`
    #[arg(long, value_name = "PER_SECOND")]
    pub rate: Option<u32>,
    /// FROST: also load one node with the external load generator `oha` (this binary),
    /// at the highest `--concurrency`, for `--duration`
    #[arg(long, value_name = "PATH")]
    pub oha: Option<PathBuf>,
}

/// One client: a ureq agent, which keeps its connection to the node alive between
/// requests (one connection per client thread, as each client uses its own).
struct Client {
    agent: ureq::Agent,
    base: String,
}

impl Client {
    fn connect(addr: &str) -> std::io::Result<Client> {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_idle_connections_per_host(1)
            .build()
            .into();
        Ok(Client {
            agent,
            base: format!("http://{addr}"),
        })
    }

    fn post(&mut self, path: &str, token: &str, body: &Value) -> std::io::Result<(u16, Value)> {
        let res = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("authorization", &format!("Bearer {token}"))
            .send_json(body);
        answer(res)
    }

    fn get(&mut self, path: &str, token: &str) -> std::io::Result<(u16, Value)> {
        let res = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("authorization", &format!("Bearer {token}"))
            .call();
        answer(res)
    }
}

/// A response's status and JSON body (`null` when it has none).
fn answer(
    res: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> std::io::Result<(u16, Value)> {
    let mut res = res.map_err(std::io::Error::other)?;
    let status = res.status().as_u16();
    let body = res.body_mut().read_json().unwrap_or(Value::Null);
    Ok((status, body))
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One load level's result.
#[derive(serde::Serialize)]
struct Level {
    bus: &'static str,
    scheme: String,
    kind: String,
    concurrency: usize,
    signatures_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: usize,
    failed: usize,
    /// The share of signatures made in one round trip (`None`: not known, as for oha,
    /// whose answers are not read).
    preprocessed_share: Option<f64>,
    /// API requests per FROST round trip over the cluster (gathered requests share
    /// one), from the nodes' `/metrics`; `None` for ECDSA.
    per_round_trip: Option<f64>,
    library_per_sec: f64,
    ratio: f64,
}

fn fail(what: &str) -> impl Fn(std::io::Error) -> Failure + '_ {
    move |e| Failure::internal(format!("bench serve: {what}")).cause(e)
}

/// The first line a child prints on stdout, as JSON.
fn first_json(child: &mut Child) -> Result<Value> {
    let out = child
        .stdout
        .take()
        .ok_or_else(|| Failure::internal("no stdout"))?;
    let mut line = String::new();
    BufReader::new(out)
        .read_line(&mut line)
        .map_err(fail("reading a child's output"))?;
    serde_json::from_str(&line)
        .map_err(|e| Failure::internal(format!("bench serve: a child printed {line:?}")).cause(e))
}

/// Runs `mpc bench serve`.
pub fn run(ctx: &Ctx, args: BenchServeArgs) -> Result<()> {
    let schemes = if args.schemes.is_empty() {
        vec![
            Scheme::EddsaEd25519,
            Scheme::SchnorrSecp256k1Tr,
            Scheme::SchnorrSecp256k1,
        ]
    } else {
        args.schemes.clone()
    };
    let ecdsa = schemes.contains(&Scheme::EcdsaSecp256k1);
    let p = &ctx.printer;
    let tmp = tempfile::tempdir().map_err(fail("a temporary directory"))?;
    let root = tmp.path();
    let exe = std::env::current_exe().map_err(fail("this binary"))?;
    let mpc = |home: &Path| {
        let mut c = Command::new(&exe);
        c.env("MPC_HOME", home)
            .env("MPC_PASSPHRASE", "bench")
            .arg("--no-input");
        c
    };
    let ok = |out: std::process::Output| -> Result<std::process::Output> {
        if out.status.success() {
            Ok(out)
        } else {
            Err(Failure::internal("a benchmark command failed")
                .cause(String::from_utf8_lossy(&out.stderr).trim()))
        }
    };
    if let Some(n) = &args.nats
        && !crate::transport::nats::is_nats(n)
    {
        return Err(Failure::input(format!("--nats {n}: give nats://HOST:PORT")));
    }
    let mut relay = Proc(
        Command::new(&exe)
            .args(["--json", "relay", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(fail("the relay"))?,
    );
    let relay_addr = first_json(&mut relay.0)?["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut buses = vec![("relay", relay_addr)];
    buses.extend(args.nats.iter().map(|n| ("nats", n.clone())));
    let mut levels = Vec::new();
    let mut nodes_used = Vec::new();
    let mut keys = Vec::new();
    let mut relay_homes = Vec::new();
    for (bus, addr) in &buses {
        p.status(format!("the cluster on the {bus} at {addr}"));
        let (homes, cluster) = make_homes(&root.join(bus), ecdsa, &mpc, &ok)?;
        let cluster = Cluster {
            homes: &homes,
            file: &cluster,
            bus: addr,
            mpc: &mpc,
            ok: &ok,
        };
        let (mut measured, made, mut used) = cluster.measure(ctx, &args, &schemes)?;
        measured.iter_mut().for_each(|l| l.bus = bus);
        levels.extend(measured);
        used.iter_mut().for_each(|u| u.bus = bus);
        nodes_used.extend(used);
        if *bus == "relay" {
            keys = made;
            relay_homes = homes;
        }
    }
    drop(relay);
    // The library alone, once the nodes are gone (their background work would take
    // CPU from it), with the shares of the keys made on the relay.
    for (scheme, key_id) in &keys {
        p.status(format!("{} library", scheme.id()));
        let rates = if *scheme == Scheme::EcdsaSecp256k1 {
            ecdsa_library_rates()?
        } else {
            let r = library_rate(&relay_homes, key_id, *scheme)?;
            (r, r)
        };
        for l in levels.iter_mut().filter(|l| l.scheme == scheme.id()) {
            // A whole ECDSA session is measured against the engine's whole signing.
            let library = if l.kind == "full" { rates.1 } else { rates.0 };
            l.library_per_sec = library;
            l.ratio = l.signatures_per_sec / library;
        }
    }
    p.data("| bus | scheme | requests | clients | signatures/s | p50 ms | p99 ms | failed | one round trip | requests per round trip | library/s | ratio |");
    p.data("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for l in &levels {
        p.data(format!(
            "| {} | {} | {} | {} | {:.0} | {:.1} | {:.1} | {} | {} | {} | {:.0} | {:.2} |",
            l.bus,
            l.scheme,
            l.kind,
            l.concurrency,
            l.signatures_per_sec,
            l.p50_ms,
            l.p99_ms,
            l.failed,
            l.preprocessed_share
                .map_or("-".to_string(), |s| format!("{:.0}%", s * 100.0)),
            l.per_round_trip
                .map_or("-".to_string(), |r| format!("{r:.1}")),
            l.library_per_sec,
            l.ratio
        ));
    }
    p.data("");
    p.data("| bus | node | CPU at rest, % of a core | RSS at rest MiB | peak RSS MiB |");
    p.data("|---|---|---|---|---|");
    for u in &nodes_used {
        p.data(format!(
            "| {} | {} | {:.2} | {:.1} | {:.1} |",
            u.bus, u.node, u.idle_cpu_percent, u.rest_rss_mib, u.peak_rss_mib
        ));
    }
    p.json(&json!({ "levels": levels, "nodes": nodes_used }))
}

/// What a node used: CPU at rest (keys made, pools full, no request), and memory.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
struct NodeUse {
    bus: &'static str,
    node: usize,
    idle_cpu_percent: f64,
    rest_rss_mib: f64,
    peak_rss_mib: f64,
}

/// A `/proc/PID/status` line's value in KiB (`VmRSS:`, `VmHWM:`); 0 where there is none.
fn proc_status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// A process's CPU time so far (user + system), from `/proc/PID/stat`.
fn proc_cpu(pid: u32) -> Duration {
    let ticks = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // Fields after the command's closing parenthesis: utime and stime are the
            // 12th and 13th of them.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    // SAFETY: sysconf reads a constant of the system and writes nothing.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_secs_f64(ticks as f64 / hz as f64)
}

/// Each node's CPU (as a share of one core) over `over`, and its RSS now.
fn at_rest(nodes: &[Proc], over: Duration) -> Vec<NodeUse> {
    let before: Vec<Duration> = nodes.iter().map(|n| proc_cpu(n.0.id())).collect();
    std::thread::sleep(over);
    nodes
        .iter()
        .zip(before)
        .map(|(n, b)| NodeUse {
            idle_cpu_percent: (proc_cpu(n.0.id()).saturating_sub(b)).as_secs_f64()
                / over.as_secs_f64()
                * 100.0,
            rest_rss_mib: proc_status_kib(n.0.id(), "VmRSS:") as f64 / 1024.0,
            ..NodeUse::default()
        })
        .collect()
}

/// Three fresh homes in `dir` (with the demo's primes for `ecdsa`) and their cluster
/// file: each bus is measured on homes of its own, so one run's presignatures do not
/// count in the next one's pools.
fn make_homes(
    dir: &Path,
    ecdsa: bool,
    mpc: &dyn Fn(&Path) -> Command,
    ok: &dyn Fn(std::process::Output) -> Result<std::process::Output>,
) -> Result<(Vec<PathBuf>, PathBuf)> {
    std::fs::create_dir_all(dir).map_err(fail("a temporary directory"))?;
    let homes: Vec<PathBuf> = ["alice", "bob", "carol"]
        .iter()
        .map(|n| dir.join(n))
        .collect();
    let mut cards = Vec::new();
    for (home, name) in homes.iter().zip(["alice", "bob", "carol"]) {
        ok(mpc(home)
            .args(["-q", "init", "--name", name, "--kdf-log-n", "10"])
            .output()
            .map_err(fail("init"))?)?;
        let card = dir.join(format!("{name}.card"));
        ok(mpc(home)
            .args(["-q", "id", "--out"])
            .arg(&card)
            .output()
            .map_err(fail("id"))?)?;
        cards.push(card);
        if ecdsa {
            // The demo's public primes: these homes are temporary, and deleted after.
            let h = crate::store::Home::resolve(Some(home.clone()));
            let id = h.unlock(&age::secrecy::SecretString::from("bench".to_string()))?;
            let primes = super::primes::demo_primes()?;
            let i = cards.len() - 1;
            h.add_primes(&id, primes[i % primes.len()].as_bytes())?;
        }
    }
    let cluster = dir.join("cluster.json");
    ok(mpc(&homes[0])
        .args(["-q", "serve", "cluster", "init", "--out"])
        .arg(&cluster)
        .args(&cards)
        .output()
        .map_err(fail("cluster init"))?)?;
    Ok((homes, cluster))
}

/// Where a node's log goes: the file `MPC_BENCH_NODE_LOG` names (appended to), for
/// finding out why a level is slow; else nowhere.
fn node_log() -> Result<Stdio> {
    match std::env::var_os("MPC_BENCH_NODE_LOG") {
        Some(f) => std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(f)
            .map(Stdio::from)
            .map_err(fail("the node log")),
        None => Ok(Stdio::null()),
    }
}

/// A key made for the measures: its scheme and id.
type KeyMade = (Scheme, String);

/// The three nodes of the benchmark's homes, to be started on one bus.
struct Cluster<'a> {
    homes: &'a [PathBuf],
    /// The cluster file.
    file: &'a Path,
    /// The bus's address (a relay, or nats://...).
    bus: &'a str,
    mpc: &'a dyn Fn(&Path) -> Command,
    ok: &'a dyn Fn(std::process::Output) -> Result<std::process::Output>,
}

impl Cluster<'_> {
    /// Starts the nodes on the bus, makes a key per scheme and measures every load
    /// level; stops the nodes. The levels, and the keys made.
    fn measure(
        &self,
        ctx: &Ctx,
        args: &BenchServeArgs,
        schemes: &[Scheme],
    ) -> Result<(Vec<Level>, Vec<KeyMade>, Vec<NodeUse>)> {
        let (p, mpc, ok, ecdsa) = (
            &ctx.printer,
            self.mpc,
            self.ok,
            schemes.contains(&Scheme::EcdsaSecp256k1),
        );
        let mut tokens = Vec::new();
        let mut nodes = Vec::new();
        let mut addrs = Vec::new();
        for home in self.homes {
            let out = ok(mpc(home)
                .args(["--json", "serve", "token", "create", "--scope", "admin"])
                .output()
                .map_err(fail("token"))?)?;
            let v: Value = serde_json::from_slice(&out.stdout)
                .map_err(|e| Failure::internal("token output").cause(e))?;
            tokens.push(v["token"].as_str().unwrap_or_default().to_string());
            let mut child = mpc(home)
                .args([
                    "--json",
                    "serve",
                    "--listen",
                    "127.0.0.1:0",
                    "--rate-limit",
                    "0",
                    "--prime-pool",
                    "0",
                    "--relay",
                    self.bus,
                    "--cluster",
                ])
                .arg(self.file)
                .args(if ecdsa {
                    vec![
                        "--session-timeout".to_string(),
                        "60s".into(),
                        "--presign-pool".into(),
                        args.presign_pool.to_string(),
                        "--presign-low".into(),
                        (args.presign_pool / 2).max(1).to_string(),
                    ]
                } else {
                    vec!["--presign-pool".to_string(), "0".into()]
                })
                .stdout(Stdio::piped())
                .stderr(node_log()?)
                .spawn()
                .map_err(fail("a node"))?;
            addrs.push(
                first_json(&mut child)?["listening"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            );
            nodes.push(Proc(child));
        }
        // The nodes need a beat or two to see each other.
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut levels = Vec::new();
        let mut keys = Vec::new();
        let mut at_rest_use: Option<Vec<NodeUse>> = None;
        for scheme in schemes {
            let key = loop {
                let (status, v) = Client::connect(&addrs[0])
                    .and_then(|mut c| {
                        c.post(
                            "/api/v1/keys?wait=10m",
                            &tokens[0],
                            &json!({"scheme": scheme, "threshold": 2}),
                        )
                    })
                    .map_err(fail("keygen"))?;
                if status == 201 {
                    break v["data"].clone();
                }
                if Instant::now() > deadline {
                    return Err(Failure::internal(format!(
                        "bench serve: keygen answered {status}: {v}"
                    )));
                }
                std::thread::sleep(Duration::from_millis(300));
            };
            let key_id = key["id"].as_str().unwrap_or_default().to_string();
            keys.push((*scheme, key_id.clone()));
            if *scheme == Scheme::EcdsaSecp256k1 {
                p.status(format!(
                    "ecdsa-secp256k1: filling each node's pool with {} presignatures",
                    args.presign_pool
                ));
                wait_for_pools(&addrs, &tokens, args.presign_pool)?;
                if at_rest_use.is_none() {
                    // Pools full, nothing asked (measured before the requests draw the
                    // pools, whose refills would count as work).
                    at_rest_use = Some(at_rest(&nodes, Duration::from_secs(5)));
                }
                // One client per node, as many requests as its pool holds: all from the pool.
                let mut l = load(
                    &addrs,
                    &tokens,
                    &key_id,
                    3,
                    1,
                    Duration::MAX,
                    Some(args.presign_requests.unwrap_or(args.presign_pool)),
                    None,
                )?;
                l.scheme = scheme.id().into();
                l.kind = "presigned".into();
                levels.push(l);
                // A whole session each (an HD path never uses a presignature).
                let mut l = load(
                    &addrs,
                    &tokens,
                    &key_id,
                    1,
                    1,
                    Duration::MAX,
                    Some(3),
                    Some("m/0"),
                )?;
                l.scheme = scheme.id().into();
                l.kind = "full".into();
                levels.push(l);
                continue;
            }
            // Let the nonce pools fill before measuring.
            std::thread::sleep(Duration::from_secs(3));
            if at_rest_use.is_none() {
                // Keys made, pools full, nothing asked: what a node costs at rest.
                at_rest_use = Some(at_rest(&nodes, Duration::from_secs(5)));
            }
            for (kind, batch) in [("single", 1usize), ("batch", args.batch)] {
                for &conc in &args.concurrency {
                    if kind == "batch" && conc > 8 {
                        continue;
                    }
                    p.status(format!(
                        "{} {kind} x{conc} for {:?}",
                        scheme.id(),
                        args.duration
                    ));
                    let before = round_trips(&addrs);
                    let mut l = load(
                        &addrs,
                        &tokens,
                        &key_id,
                        conc,
                        batch,
                        args.duration,
                        None,
                        None,
                    )?;
                    l.scheme = scheme.id().into();
                    l.kind = kind.into();
                    l.per_round_trip = per_round_trip(before, round_trips(&addrs));
                    levels.push(l);
                }
            }
            if let Some(rate) = args.rate {
                p.status(format!(
                    "{} open loop at {rate}/s into one node for {:?}",
                    scheme.id(),
                    args.duration
                ));
                let before = round_trips(&addrs);
                let mut l = open_loop(&addrs[0], &tokens[0], &key_id, rate, args.duration)?;
                l.scheme = scheme.id().into();
                l.per_round_trip = per_round_trip(before, round_trips(&addrs));
                levels.push(l);
            }
            if let Some(oha) = &args.oha {
                let conc = args.concurrency.iter().copied().max().unwrap_or(32);
                p.status(format!(
                    "{} oha x{conc} into one node for {:?}",
                    scheme.id(),
                    args.duration
                ));
                let before = round_trips(&addrs);
                let mut l = with_oha(oha, &addrs[0], &tokens[0], &key_id, conc, args.duration)?;
                l.scheme = scheme.id().into();
                l.per_round_trip = per_round_trip(before, round_trips(&addrs));
                levels.push(l);
            }
        }
        let at_rest_use = match at_rest_use {
            Some(u) => u,
            None => at_rest(&nodes, Duration::from_secs(5)),
        };
        let mut used = Vec::new();
        for (n, rest) in nodes.iter().zip(at_rest_use) {
            used.push(NodeUse {
                bus: "",
                node: used.len(),
                peak_rss_mib: proc_status_kib(n.0.id(), "VmHWM:") as f64 / 1024.0,
                ..rest
            });
        }
        drop(nodes);
        Ok((levels, keys, used))
    }
}

/// FROST round trips the nodes coordinated so far, and the requests they carried (from
/// `/metrics`; a node that does not answer counts nothing).
fn round_trips(addrs: &[String]) -> (f64, f64) {
    let value = |text: &str, name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let mut sum = (0.0, 0.0);
    for a in addrs {
        let text = ureq::get(format!("http://{a}/metrics"))
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_to_string().ok())
            .unwrap_or_default();
        sum.0 += value(&text, "mpc_fast_round_trips_total");
        sum.1 += value(&text, "mpc_fast_round_trip_requests_total");
    }
    sum
}

/// Requests per round trip between two readings of [`round_trips`].
fn per_round_trip(before: (f64, f64), after: (f64, f64)) -> Option<f64> {
    let trips = after.0 - before.0;
    (trips > 0.0).then(|| (after.1 - before.1) / trips)
}

/// Waits until every node's presignature pool holds `n`.
fn wait_for_pools(addrs: &[String], tokens: &[String], n: usize) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(900);
    let names = ["alice", "bob", "carol"];
    for ((addr, token), name) in addrs.iter().zip(tokens).zip(names) {
        loop {
            let (_, v) = Client::connect(addr)
                .and_then(|mut c| c.get(&format!("/api/v1/nodes/{name}/health"), token))
                .map_err(fail("health"))?;
            if v["data"]["own"]["presignature_pool"].as_u64().unwrap_or(0) >= n as u64 {
                break;
            }
            if Instant::now() > deadline {
                return Err(Failure::internal(format!(
                    "bench serve: the presignature pool of {name} did not fill: {v}"
                )));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    Ok(())
}

/// The engine alone for ECDSA, all parties in one process with the demo's primes:
/// (signatures per second from presignatures, whole signings per second), 2 signers.
fn ecdsa_library_rates() -> Result<(f64, f64)> {
    use crate::engine::cggmp::{Primes, simulate};
    let engine = |e: crate::engine::EngineError| Failure::internal("the engine failed").cause(e);
    let primes: Vec<Primes> = super::primes::demo_primes()?
        .iter()
        .map(|s| serde_json::from_str(s))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Failure::internal("the demo primes do not parse").cause(e))?;
    let aux = simulate::aux_info(3, primes).map_err(engine)?;
    let shares = simulate::keygen(2, &aux).map_err(engine)?;
    let signers = [0u16, 1];
    let digest: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(b"bench serve").into();
    let t = Instant::now();
    simulate::sign(&shares, &signers, &digest).map_err(engine)?;
    let full = 1.0 / t.elapsed().as_secs_f64();
    let presigs: Vec<_> = (0..5)
        .map(|_| simulate::presign(&shares, &signers).map_err(engine))
        .collect::<Result<_>>()?;
    let t = Instant::now();
    for set in presigs {
        simulate::sign_presigned(set, &digest).map_err(engine)?;
    }
    Ok((5.0 / t.elapsed().as_secs_f64(), full))
}

/// What one client (or worker) saw.
#[derive(Default)]
struct Tally {
    /// Latencies of the requests answered 200.
    lat: Vec<Duration>,
    failed: usize,
    /// Signatures made, and of them those from the pools.
    sigs: usize,
    fast: usize,
}

impl Tally {
    /// Counts an answer to a request of `batch` messages sent at `since`; whether the
    /// client may go on with its connection.
    fn count(
        &mut self,
        answer: std::io::Result<(u16, Value)>,
        batch: usize,
        since: Instant,
    ) -> bool {
        match answer {
            Ok((200, v)) => {
                self.lat.push(since.elapsed());
                self.sigs += batch;
                let mode = if batch == 1 {
                    &v["data"]["mode"]
                } else {
                    &v["data"]["signatures"][0]["mode"]
                };
                if mode == "preprocessed" || mode == "presigned" {
                    self.fast += batch;
                }
                true
            }
            Ok(_) => {
                self.failed += 1;
                true
            }
            Err(_) => {
                self.failed += 1;
                false
            }
        }
    }
}

/// Runs `work` on `n` threads at once (each with its index); their tallies, and how
/// long they took from `start` in seconds.
fn run_clients(
    n: usize,
    start: Instant,
    work: impl Fn(usize) -> Tally + Sync,
) -> (Vec<Tally>, f64) {
    let tallies = std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|c| {
                let work = &work;
                s.spawn(move || work(c))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    (tallies, start.elapsed().as_secs_f64())
}

/// One level from its clients' tallies over `elapsed` seconds.
fn level(tallies: Vec<Tally>, elapsed: f64, kind: String, concurrency: usize) -> Level {
    let mut lat: Vec<Duration> = tallies.iter().flat_map(|t| t.lat.clone()).collect();
    lat.sort();
    let sigs: usize = tallies.iter().map(|t| t.sigs).sum();
    let fast: usize = tallies.iter().map(|t| t.fast).sum();
    Level {
        bus: "",
        scheme: String::new(),
        kind,
        concurrency,
        signatures_per_sec: sigs as f64 / elapsed,
        p50_ms: percentile(&lat, 0.50),
        p99_ms: percentile(&lat, 0.99),
        requests: lat.len(),
        failed: tallies.iter().map(|t| t.failed).sum(),
        preprocessed_share: Some(fast as f64 / sigs.max(1) as f64),
        per_round_trip: None,
        library_per_sec: 0.0,
        ratio: 0.0,
    }
}

/// `conc` clients sign for `duration` (or `cap` requests each), spreading over the
/// nodes; `path`: an ECDSA HD path for every request.
#[allow(clippy::too_many_arguments)]
fn load(
    addrs: &[String],
    tokens: &[String],
    key_id: &str,
    conc: usize,
    batch: usize,
    duration: Duration,
    cap: Option<usize>,
    hd_path: Option<&str>,
) -> Result<Level> {
    let start = Instant::now();
    let (tallies, elapsed) = run_clients(conc, start, |c| {
        let node = c % addrs.len();
        let mut t = Tally::default();
        let Ok(mut client) = Client::connect(&addrs[node]) else {
            t.failed = 1;
            return t;
        };
        let mut i = 0u64;
        while start.elapsed() < duration && cap.is_none_or(|n| (i as usize) < n) {
            i += 1;
            let (path, body) = if batch == 1 {
                let mut b = json!({"key_id": key_id, "message": format!("c{c} m{i}")});
                if let Some(p) = hd_path {
                    b["path"] = json!(p);
                }
                ("/api/v1/sign", b)
            } else {
                let msgs: Vec<String> = (0..batch).map(|k| format!("c{c} m{i} k{k}")).collect();
                (
                    "/api/v1/sign/batch",
                    json!({"key_id": key_id, "messages": msgs}),
                )
            };
            let sent = Instant::now();
            if !t.count(client.post(path, &tokens[node], &body), batch, sent) {
                match Client::connect(&addrs[node]) {
                    Ok(c) => client = c,
                    Err(_) => break,
                }
            }
        }
        t
    });
    Ok(level(tallies, elapsed, String::new(), conc))
}

/// Open loop: `rate` signing requests a second into the node at `addr` for `duration`,
/// request `k` due at `k / rate` seconds from the start, sent then by the first free
/// worker of a pool large enough not to fall behind (a worker that does fall behind
/// sends late, and the wait counts in that request's latency: no coordinated
/// omission).
fn open_loop(
    addr: &str,
    token: &str,
    key_id: &str,
    rate: u32,
    duration: Duration,
) -> Result<Level> {
    let rate = rate.max(1);
    let total = (duration.as_secs_f64() * f64::from(rate)).ceil() as u64;
    let workers = 64usize;
    let next = std::sync::atomic::AtomicU64::new(0);
    let start = Instant::now() + Duration::from_millis(100);
    let due = |k: u64| start + Duration::from_secs_f64(k as f64 / f64::from(rate));
    let (tallies, _) = run_clients(workers, Instant::now(), |w| {
        let mut t = Tally::default();
        let Ok(mut client) = Client::connect(addr) else {
            t.failed = 1;
            return t;
        };
        loop {
            let k = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if k >= total {
                break;
            }
            let at = due(k);
            if let Some(wait) = at.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let body = json!({"key_id": key_id, "message": format!("open w{w} m{k}")});
            if !t.count(client.post("/api/v1/sign", token, &body), 1, at) {
                match Client::connect(addr) {
                    Ok(c) => client = c,
                    Err(_) => break,
                }
            }
        }
        t
    });
    let elapsed = start.elapsed().as_secs_f64();
    Ok(level(tallies, elapsed, format!("open {rate}/s"), workers))
}

/// The `q` quantile of sorted latencies, in milliseconds.
fn percentile(sorted: &[Duration], q: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 * q) as usize).min(sorted.len().saturating_sub(1)))
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// The same requests from `oha`, an HTTP load generator of its own (closed loop, `conc`
/// connections, one message for every request): what it reports.
fn with_oha(
    oha: &Path,
    addr: &str,
    token: &str,
    key_id: &str,
    conc: usize,
    duration: Duration,
) -> Result<Level> {
    let body = json!({"key_id": key_id, "message": "oha"}).to_string();
    let out = Command::new(oha)
        .args(["--no-tui", "--output-format", "json", "-m", "POST"])
        .args(["-c", &conc.to_string()])
        .args(["-z", &format!("{}ms", duration.as_millis())])
        .args(["-H", &format!("authorization: Bearer {token}")])
        .args(["-H", "content-type: application/json"])
        .args(["-d", &body])
        .arg(format!("http://{addr}/api/v1/sign"))
        .output()
        .map_err(fail("running oha"))?;
    if !out.status.success() {
        return Err(Failure::internal("oha failed")
            .cause(String::from_utf8_lossy(&out.stderr).trim().to_string()));
    }
    let v: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| Failure::internal("oha's output is not JSON").cause(e))?;
    let dist = &v["statusCodeDistribution"];
    let ok = dist["200"].as_u64().unwrap_or(0) as usize;
    let all: u64 = dist
        .as_object()
        .map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
    // Requests still under way when the time is up are cut off by oha, not failed.
    let errors: u64 = v["errorDistribution"].as_object().map_or(0, |m| {
        m.iter()
            .filter(|(k, _)| !k.contains("deadline"))
            .filter_map(|(_, n)| n.as_u64())
            .sum()
    });
    let secs = v["summary"]["total"].as_f64().unwrap_or(1.0).max(1e-9);
    let ms = |q: &str| v["latencyPercentiles"][q].as_f64().unwrap_or(0.0) * 1000.0;
    Ok(Level {
        bus: "",
        scheme: String::new(),
        kind: "oha, one node".into(),
        concurrency: conc,
        signatures_per_sec: ok as f64 / secs,
        p50_ms: ms("p50"),
        p99_ms: ms("p99"),
        requests: ok,
        failed: (all as usize - ok) + errors as usize,
        preprocessed_share: None,
        per_round_trip: None,
        library_per_sec: 0.0,
        ratio: 0.0,
    })
}

/// The engine alone: preprocessed FROST signing with two of the key's real shares, on
/// every core, for two seconds.
fn library_rate(homes: &[PathBuf], key_id: &str, scheme: Scheme) -> Result<f64> {
    let shares: Vec<Box<dyn crate::engine::frost::preprocessed::Prepared>> = homes[..2]
        .iter()
        .map(|h| {
            let home = crate::store::Home::resolve(Some(h.clone()));
            let id = home.unlock(&age::secrecy::SecretString::from("bench".to_string()))?;
            let material = crate::ceremony::load_share(&home, &id, key_id)?;
            crate::engine::prepare(scheme, &material)
                .map_err(|e| Failure::internal("cannot prepare a share").cause(e))
        })
        .collect::<Result<_>>()?;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let run = Duration::from_secs(2);
    let start = Instant::now();
    let counts: Vec<usize> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                let shares = &shares;
                s.spawn(move || {
                    let mut n = 0;
                    while start.elapsed() < run {
                        let msg = format!("library {t} {n}").into_bytes();
                        let pre: Vec<_> = shares
                            .iter()
                            .map(|k| k.preprocess(1).ok().and_then(|mut v| v.pop()))
                            .collect();
                        let Some(pre) = pre.into_iter().collect::<Option<Vec<_>>>() else {
                            return n;
                        };
                        let list: std::collections::BTreeMap<u16, Vec<u8>> = [
                            (1u16, pre[0].commitment.clone()),
                            (2, pre[1].commitment.clone()),
                        ]
                        .into();
                        // As the nodes do: each signer reads the list once, and the
                        // coordinator (1) aggregates with its own package.
                        let mut out = std::collections::BTreeMap::new();
                        let mut coordinator = None;
                        for ((i, p), k) in [1u16, 2].into_iter().zip(pre).zip(shares) {
                            let Ok(package) = k.package(i, &p, &list, &msg) else {
                                return n;
                            };
                            let Ok(s) = k.share(p.nonces, &package) else {
                                return n;
                            };
                            out.insert(i, s);
                            coordinator.get_or_insert(package);
                        }
                        let Some(package) = coordinator else {
                            return n;
                        };
                        if shares[0].aggregate(&package, &out).is_err() {
                            return n;
                        }
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap_or(0)).collect()
    });
    Ok(counts.iter().sum::<usize>() as f64 / start.elapsed().as_secs_f64())
}
