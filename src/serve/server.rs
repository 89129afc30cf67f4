//! A node as a library: [`Server`] assembles it (the home unlocked, its members, the
//! bus link, TLS, the HTTP limits), starts its background loops, serves until told to
//! stop, and shuts it down within bounds. `mpc serve` only parses its arguments into a
//! `Server` and prints; a test (or another program) builds the same node with the same
//! loops, on its own runtime.
//!
//! The loops (presence beats, FROST nonce refills, ECDSA presignature refills, the
//! Paillier prime pool) are tasks in one `JoinSet` on the node's runtime: each runs
//! its step at its [`Pace`] (a period after the last step, or sooner when told, as the
//! nonce refills are when a pool is drawn from), on the blocking pool where the step
//! blocks (it reads SQLite, computes and writes to the bus), and stops when told to. Shutdown:
//!
//! 1. the listener closes and the node takes no new session; requests under way keep
//!    their connections (http::serve drains them);
//! 2. running sessions get `session_timeout` and two seconds more to finish; then each
//!    one still running is ended (this node declines it as `busy`, so its request
//!    answers 503, and the other members are told), as is every wait for an
//!    operator's approval;
//! 3. the loops are stopped and awaited (a loop in the middle of a long step, such as
//!    generating primes, is left to finish on its own: what it writes is atomic);
//! 4. the bus link closes and the audit chain gets a signed checkpoint.
//!
//! [`Running::run`] says what it found in a [`Stopped`].

use super::bus::Bus;
use super::error::Error;
use super::http;
use super::node::{Config, Node};
use crate::identity::{Card, Identity};
use crate::store::Home;
use crate::transport::nats::Credentials;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

/// How long a stopped loop may take to notice.
const LOOP_STOP: Duration = Duration::from_secs(2);
/// How much longer than the session timeout running sessions get at shutdown.
const SESSION_GRACE: Duration = Duration::from_secs(2);
/// How long sessions ended at shutdown get to abandon their state and tell the others.
const END_GRACE: Duration = Duration::from_secs(3);

/// A node to be started.
pub struct Server {
    home: Home,
    identity: Identity,
    config: Config,
    members: Vec<Card>,
    bus: Option<(String, Credentials)>,
    tls: Option<TlsAcceptor>,
    limits: http::Limits,
    prime_pool: usize,
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The node itself (its database, its audit writer).
    #[error("cannot start the node: {0}")]
    Node(#[source] Error),
    /// The bus address or credentials.
    #[error("cannot use the bus at {addr}: {why}")]
    Bus {
        /// The bus's address.
        addr: String,
        /// Why.
        why: String,
    },
    /// The HTTP address.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl Server {
    /// A node of `home`, unlocked as `identity`, with `config`; no members, no bus, plain
    /// HTTP, the default connection limits and no prime pool until said otherwise.
    pub fn new(home: Home, identity: Identity, config: Config) -> Server {
        Server {
            home,
            identity,
            config,
            members: Vec::new(),
            bus: None,
            tls: None,
            limits: http::Limits::default(),
            prime_pool: 0,
        }
    }

    /// The cluster's members (this node among them or not).
    pub fn members(mut self, members: Vec<Card>) -> Server {
        self.members = members;
        self
    }

    /// The bus: an `mpc relay` at HOST:PORT, or nats://..., signed in with `creds`.
    pub fn bus(mut self, addr: &str, creds: Credentials) -> Server {
        self.bus = Some((addr.to_string(), creds));
        self
    }

    /// Serves HTTPS with `tls`.
    pub fn tls(mut self, tls: TlsAcceptor) -> Server {
        self.tls = Some(tls);
        self
    }

    /// What each connection is allowed.
    pub fn http_limits(mut self, limits: http::Limits) -> Server {
        self.limits = limits;
        self
    }

    /// Keeps `n` sets of Paillier primes ready in the home (generated in the background).
    pub fn prime_pool(mut self, n: usize) -> Server {
        self.prime_pool = n;
        self
    }

    /// The runtime a node with `config` runs on. Sessions and requests are tasks; the
    /// blocking pool runs their short blocking steps (SQLite, a ceremony step, a bus
    /// write: `block_in_place` or `spawn_blocking`) and the share requests of others,
    /// and is sized so that every request the node admits can be in such a step at
    /// once, with room for the loops.
    pub fn runtime(config: &Config) -> std::io::Result<tokio::runtime::Runtime> {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("mpc-node")
            .max_blocking_threads(config.max_requests.max(1) + 64)
            .build()
    }

    /// Assembles the node, links it to the bus, starts its loops and binds `addr`
    /// (port 0: a free one; see [`Running::local_addr`]). Call it on the node's runtime.
    pub async fn bind(self, addr: SocketAddr) -> Result<Running, StartError> {
        let node = Arc::new(
            Node::new(self.home, self.identity, self.members, self.config)
                .map_err(StartError::Node)?,
        );
        let mut loops = Loops::new();
        let bus = match &self.bus {
            None => None,
            Some((addr, creds)) => {
                let bus = Arc::new(link(&node, addr, creds.clone())?);
                if let Some(ledger) = bus.single_use() {
                    node.db().share_single_use(ledger);
                }
                node.cluster.attach(Arc::clone(&bus));
                loops.start(&node);
                if self.prime_pool > 0 {
                    let target = self.prime_pool;
                    let primes = move |n: &Node| keep_primes(n, target);
                    let pace = Pace::every(Duration::from_secs(10));
                    loops.every(&node, pace, blocking(primes));
                }
                Some(bus)
            }
        };
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Listen { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| StartError::Listen { addr, source })?;
        Ok(Running {
            node,
            listener,
            local,
            tls: self.tls,
            limits: self.limits,
            bus,
            loops,
        })
    }
}

/// The bus link of `node`, handing what it pushes to the node.
fn link(node: &Arc<Node>, addr: &str, creds: Credentials) -> Result<Bus, StartError> {
    let weak = Arc::downgrade(node);
    Bus::start(
        addr,
        creds,
        Arc::clone(&node.identity),
        Arc::new(move |from, payload| {
            let Some(node) = weak.upgrade() else { return };
            match node.cluster.receive(from, &payload) {
                Ok(Some((msg, sender))) => node.on_message(msg, sender),
                Ok(None) => {}
                Err(ignored) => node.cluster.note_ignored(&ignored),
            }
        }),
    )
    .map_err(|why| StartError::Bus {
        addr: addr.to_string(),
        why,
    })
}

/// A node bound to its address, its loops running.
pub struct Running {
    node: Arc<Node>,
    listener: tokio::net::TcpListener,
    local: SocketAddr,
    tls: Option<TlsAcceptor>,
    limits: http::Limits,
    bus: Option<Arc<Bus>>,
    loops: Loops,
}

/// How a node's shutdown went.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stopped {
    /// Sessions still running when their time was up, which were ended.
    pub ended: usize,
    /// Waits for an operator's approval that were ended.
    pub approvals_ended: usize,
    /// Sessions still running after they were ended and given time to abandon.
    pub left: usize,
    /// Loops that did not stop in time (each in a long step, left to finish it).
    pub loops_left: usize,
}

impl Running {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Whether it serves HTTPS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The node.
    pub fn node(&self) -> &Arc<Node> {
        &self.node
    }

    /// Serves until `shutdown` completes, then shuts down (module doc).
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<Stopped, crate::store::StoreError> {
        let Running {
            node,
            listener,
            tls,
            limits,
            bus,
            loops,
            ..
        } = self;
        // A request may wait for approvals and then run its session.
        let request_timeout = node.config.request_budget() + Duration::from_secs(5);
        let app = super::api::router(Arc::clone(&node), request_timeout);
        // Sessions are ended while the connections drain: a request whose session
        // outlives its bound gets its answer (503) rather than holding the drain.
        let (ended_tx, ended_rx) = tokio::sync::oneshot::channel();
        let ending = Arc::clone(&node);
        let shutdown = async move {
            shutdown.await;
            ending.sessions.stop_accepting();
            tokio::spawn(async move {
                let _ = ended_tx.send(end_sessions(&ending).await);
            });
        };
        http::serve(listener, tls, app, limits, shutdown, request_timeout).await;
        node.sessions.stop_accepting();
        let mut stopped = match ended_rx.await {
            Ok(s) => s,
            // The server stopped by itself (it cannot, short of a panic): end them now.
            Err(_) => end_sessions(&node).await,
        };
        stopped.loops_left = loops.stop().await;
        if stopped.loops_left > 0 {
            super::log(&format!(
                "{} background loop(s) still in a long step at shutdown; left to finish it",
                stopped.loops_left
            ));
        }
        if let Some(bus) = bus {
            bus.stop();
        }
        let checkpoint = Arc::clone(&node);
        tokio::task::spawn_blocking(move || {
            let identity = Arc::clone(&checkpoint.identity);
            checkpoint.db().checkpoint(|m| identity.sign(m))
        })
        .await
        .map_err(|e| crate::store::StoreError::Io {
            path: "the shutdown checkpoint".into(),
            source: std::io::Error::other(e.to_string()),
        })??;
        super::log("stopped");
        Ok(stopped)
    }
}

/// Gives the running sessions their time, then ends those still running and every
/// wait for an operator, and gives them time to abandon.
async fn end_sessions(node: &Node) -> Stopped {
    let mut stopped = Stopped::default();
    let bound = tokio::time::Instant::now() + node.config.session_timeout + SESSION_GRACE;
    if node.sessions.idle_by(bound).await {
        return stopped;
    }
    stopped.ended = node.sessions.running();
    stopped.approvals_ended = node.approvals.end_all();
    node.cluster.end_all("the node is shutting down");
    super::log(&format!(
        "{} session(s) still running at shutdown are ended",
        stopped.ended
    ));
    node.sessions
        .idle_by(tokio::time::Instant::now() + END_GRACE)
        .await;
    stopped.left = node.sessions.running();
    if stopped.left > 0 {
        super::log(&format!(
            "{} session(s) did not end in time; their secret state is destroyed when they do",
            stopped.left
        ));
    }
    stopped
}

/// When a loop runs its step: first after `first`, then `most` after the last step
/// ended, or as soon as `wake` is told but never sooner than `least` after it.
struct Pace {
    first: Duration,
    least: Duration,
    most: Duration,
    wake: Option<Arc<tokio::sync::Notify>>,
}

impl Pace {
    /// A step at once, then `period` after each one ends.
    fn every(period: Duration) -> Pace {
        Pace {
            first: Duration::ZERO,
            least: period,
            most: period,
            wake: None,
        }
    }
}

/// The node's background loops.
struct Loops {
    tasks: JoinSet<()>,
    stop: watch::Sender<bool>,
}

impl Loops {
    fn new() -> Loops {
        Loops {
            tasks: JoinSet::new(),
            stop: watch::channel(false).0,
        }
    }

    /// The loops every linked node runs: beats, nonce refills, presignature refills.
    fn start(&mut self, node: &Arc<Node>) {
        self.every(node, Pace::every(super::cluster::BEAT), blocking(beat_once));
        // Nonce refills run when a pool was drawn from (or at least once a second, for
        // new keys and members that came up), at most every 25 ms: an idle node does
        // not wake 40 times a second to look at its pools.
        let refill = |n: &Node| n.refill(None);
        let pace = Pace {
            wake: Some(Arc::clone(&node.pools.drawn)),
            least: Duration::from_millis(25),
            ..Pace::every(Duration::from_secs(1))
        };
        self.every(node, pace, blocking(refill));
        if node.config.presign_pool > 0 {
            match node.load_presignatures() {
                Ok(0) => {}
                Ok(n) => super::log(&format!("{n} presignature(s) of this node's pools found")),
                Err(e) => super::log(&format!("cannot read the presignature pools: {e}")),
            }
            // Members need a moment to be seen up after a start.
            let wait = Duration::from_millis(500);
            let pace = Pace {
                first: wait,
                ..Pace::every(wait)
            };
            self.every(node, pace, |n: Arc<Node>| async move {
                n.fill_presignatures().await
            });
        }
    }

    /// Runs `work` as `pace` says until the node is dropped, stops taking sessions, or
    /// the loops are stopped. Steps never overlap.
    fn every<F: std::future::Future<Output = ()> + Send + 'static>(
        &mut self,
        node: &Arc<Node>,
        pace: Pace,
        work: impl Fn(Arc<Node>) -> F + Send + Sync + 'static,
    ) {
        let node: Weak<Node> = Arc::downgrade(node);
        let mut stop = self.stop.subscribe();
        self.tasks.spawn(async move {
            let mut next = pace.first;
            loop {
                tokio::select! {
                    _ = stop.changed() => return,
                    () = tokio::time::sleep(next) => {}
                }
                let Some(n) = node.upgrade() else { return };
                if !n.sessions.accepting() {
                    return;
                }
                work(n).await;
                tokio::select! {
                    _ = stop.changed() => return,
                    () = tokio::time::sleep(pace.least) => {}
                }
                let woken = async {
                    match &pace.wake {
                        Some(w) => w.notified().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = stop.changed() => return,
                    () = woken => {}
                    () = tokio::time::sleep(pace.most.saturating_sub(pace.least)) => {}
                }
                next = Duration::ZERO;
            }
        });
    }

    /// Stops every loop and waits for them, within [`LOOP_STOP`]; how many did not
    /// stop in time (they are aborted; a step under way on the blocking pool finishes).
    async fn stop(mut self) -> usize {
        let _ = self.stop.send(true);
        let all = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(LOOP_STOP, all).await.is_ok() {
            return 0;
        }
        let left = self.tasks.len();
        self.tasks.shutdown().await;
        left
    }
}

/// A loop's step `work` (it reads SQLite, computes, writes to the bus) on the blocking
/// pool.
fn blocking(
    work: impl Fn(&Node) + Send + Sync + 'static,
) -> impl Fn(Arc<Node>) -> Step + Send + Sync + 'static {
    let work = Arc::new(work);
    move |n| {
        let work = Arc::clone(&work);
        Box::pin(async move {
            if let Err(e) = tokio::task::spawn_blocking(move || work(&n)).await {
                super::log(&format!("a background loop's step failed: {e}"));
            }
        })
    }
}

/// A loop's step.
type Step = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Beats to the other members, so they know this node is up; wakes the sessions if the
/// bus link was made again since the last beat (they send again what it may have lost).
fn beat_once(node: &Node) {
    node.cluster.wake_if_relinked();
    let members = node.cluster.members();
    let others: Vec<&Card> = members.iter().filter(|m| !node.cluster.is_me(m)).collect();
    let keys = node.db().keys().map(|k| k.len()).unwrap_or(0);
    let _ = node.cluster.send_node(
        &node.identity,
        &others,
        &super::cluster::NodeMsg::Beat {
            at: crate::clock::now(),
            version: env!("CARGO_PKG_VERSION").into(),
            keys,
        },
    );
}

/// Adds a set of Paillier primes to the home's pool while it holds fewer than `target`.
fn keep_primes(node: &Node, target: usize) {
    let have = node.home.primes().map(|p| p.len()).unwrap_or(target);
    if have >= target {
        return;
    }
    super::log(&format!(
        "generating a set of Paillier primes for the pool ({have} of {target} ready)"
    ));
    match crate::lifecycle::add_generated_primes(&node.home, &node.identity) {
        Ok(()) => super::log("a set of Paillier primes is ready"),
        Err(e) => super::log(&format!("cannot add primes to the pool: {e}")),
    }
}
