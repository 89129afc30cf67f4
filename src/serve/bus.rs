//! A serve node's link to the bus: one link carrying every session's messages, pushed
//! to the node as they arrive, on one of two buses:
//! - the relay in node mode (`relay::node`, [`RelayLink`] here): one connection,
//!   authenticated once; a background thread keeps it connected, and when it drops it
//!   reconnects (with backoff) and bumps [`Bus::generation`], so carriers send again what
//!   the relay may have lost;
//! - NATS JetStream ([`nats::NatsLink`]): a durable consumer per node, presence in a KV
//!   bucket with a TTL, and a cluster-wide single-use ledger (module doc there).
//!
//! Either way the bus is untrusted: what it pushes is checked by the node as from a file.

pub mod nats;

use super::lock;
use crate::identity::Identity;
use crate::transport::wire::{self, Kind};
use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long one write to the relay may block.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest payload a node accepts from the bus.
pub const MAX_PAYLOAD: usize = 4 << 20;

/// What receives pushed payloads: the sender's claimed key (unverified) and the bytes.
pub type OnPush = Arc<dyn Fn([u8; 32], Vec<u8>) + Send + Sync>;

/// The bus, as a node sees it.
pub struct Bus {
    link: Link,
}

enum Link {
    Relay(Arc<RelayLink>),
    Nats(Arc<nats::NatsLink>),
}

impl Bus {
    /// Connects to the bus at `addr` (an `mpc relay` at HOST:PORT, or nats://...) as
    /// `identity`, in the background, and keeps the link up until [`Bus::stop`].
    pub fn start(
        addr: &str,
        creds: crate::transport::nats::Credentials,
        identity: Arc<Identity>,
        on_push: OnPush,
    ) -> Result<Bus, String> {
        let link = if crate::transport::nats::is_nats(addr) {
            Link::Nats(nats::NatsLink::start(addr, creds, &identity, on_push)?)
        } else {
            Link::Relay(RelayLink::start(addr, identity, on_push))
        };
        Ok(Bus { link })
    }

    /// The bus's address.
    pub fn addr(&self) -> &str {
        match &self.link {
            Link::Relay(l) => &l.addr,
            Link::Nats(l) => l.addr(),
        }
    }

    /// Whether the link is up now.
    pub fn connected(&self) -> bool {
        match &self.link {
            Link::Relay(l) => l.connected.load(Ordering::SeqCst),
            Link::Nats(l) => l.connected(),
        }
    }

    /// Counts connections made; changes when the link was re-made.
    pub fn generation(&self) -> u64 {
        match &self.link {
            Link::Relay(l) => l.generation.load(Ordering::SeqCst),
            Link::Nats(l) => l.generation(),
        }
    }

    /// Why the link is down, while it is.
    pub fn trouble(&self) -> Option<String> {
        match &self.link {
            Link::Relay(l) => l.trouble(),
            Link::Nats(l) => l.trouble(),
        }
    }

    /// Closes the link for good.
    pub fn stop(&self) {
        match &self.link {
            Link::Relay(l) => l.stop(),
            Link::Nats(l) => l.stop(),
        }
    }

    /// Sends `payload` to the nodes with keys `to`. `ephemeral` (a beat): kept only as
    /// long as it says something (the relay drops it for a node that is not connected;
    /// NATS keeps the last one per node, for a few seconds).
    pub fn post(&self, to: &[[u8; 32]], payload: &[u8], ephemeral: bool) -> Result<(), String> {
        match &self.link {
            Link::Relay(l) => l.post(to, payload, ephemeral),
            Link::Nats(l) => l.post(to, payload, ephemeral),
        }
    }

    /// The largest node message the bus takes, bytes (what the relay announced, or
    /// NATS's per-message limit).
    pub fn max_payload(&self) -> usize {
        match &self.link {
            Link::Relay(l) => l.max_payload.load(Ordering::SeqCst),
            Link::Nats(_) => crate::transport::nats::MAX_MESSAGE as usize,
        }
    }

    /// Sends `payload` to the nodes with keys `to`, unless it is larger than the bus
    /// takes: then nothing is sent and the link stays as it is (a relay closes the
    /// connection of a client that sends an oversized frame, which would cost every
    /// request this node has under way).
    pub fn post_checked(
        &self,
        to: &[[u8; 32]],
        payload: &[u8],
        ephemeral: bool,
    ) -> Result<(), String> {
        let max = self.max_payload();
        if payload.len() > max {
            return Err(format!(
                "a node message of {} bytes is larger than the bus takes ({max} bytes); nothing was sent",
                payload.len()
            ));
        }
        self.post(to, payload, ephemeral)
    }

    /// The cluster-wide single-use ledger this bus keeps, if it keeps one (NATS does).
    pub fn single_use(&self) -> Option<Arc<dyn crate::store::db::ClusterLedger>> {
        match &self.link {
            Link::Relay(_) => None,
            Link::Nats(l) => Some(Arc::clone(l) as Arc<dyn crate::store::db::ClusterLedger>),
        }
    }
}

/// The link to an `mpc relay` in node mode.
pub struct RelayLink {
    addr: String,
    /// The largest payload the relay takes (from its challenge).
    max_payload: std::sync::atomic::AtomicUsize,
    writer: Mutex<Option<TcpStream>>,
    connected: AtomicBool,
    generation: AtomicU64,
    trouble: Mutex<Option<String>>,
    stopped: AtomicBool,
}

impl RelayLink {
    fn start(addr: &str, identity: Arc<Identity>, on_push: OnPush) -> Arc<RelayLink> {
        let bus = Arc::new(RelayLink {
            addr: addr.to_string(),
            max_payload: std::sync::atomic::AtomicUsize::new(
                crate::relay::Limits::default().max_message,
            ),
            writer: Mutex::new(None),
            connected: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            trouble: Mutex::new(Some("not connected yet".into())),
            stopped: AtomicBool::new(false),
        });
        let b = Arc::clone(&bus);
        std::thread::Builder::new()
            .name("mpc-bus".into())
            .spawn(move || b.keep_up(&identity, &on_push))
            .expect("a thread for the bus link");
        bus
    }

    fn trouble(&self) -> Option<String> {
        lock(&self.trouble).clone()
    }

    fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        if let Some(s) = self.writer().take() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, Option<TcpStream>> {
        lock(&self.writer)
    }

    fn post(&self, to: &[[u8; 32]], payload: &[u8], ephemeral: bool) -> Result<(), String> {
        let flags = if ephemeral { wire::POST_EPHEMERAL } else { 0 };
        let body = wire::post_body(flags, to, payload);
        let mut w = self.writer();
        let Some(s) = w.as_mut() else {
            return Err(self
                .trouble()
                .unwrap_or_else(|| "the bus link is down".into()));
        };
        match wire::write_frame(s, Kind::Post, &body) {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = s.shutdown(std::net::Shutdown::Both);
                *w = None;
                Err(format!("sending to the bus failed: {e}"))
            }
        }
    }

    fn keep_up(&self, identity: &Identity, on_push: &OnPush) {
        let mut backoff = Duration::from_millis(100);
        while !self.stopped.load(Ordering::SeqCst) {
            match self.connect(identity) {
                Ok(mut reader) => {
                    backoff = Duration::from_millis(100);
                    *lock(&self.trouble) = None;
                    let why = loop {
                        match wire::read_frame(&mut reader, MAX_PAYLOAD + 32) {
                            Ok(f) if f.kind == Kind::Push && f.body.len() >= 32 => {
                                let (from, payload) = f.body.split_at(32);
                                on_push(from.try_into().expect("32 bytes"), payload.to_vec());
                            }
                            Ok(f) => {
                                break format!("the relay sent an unexpected {:?} frame", f.kind);
                            }
                            Err(e) => break format!("the bus link dropped: {e}"),
                        }
                    };
                    self.connected.store(false, Ordering::SeqCst);
                    *self.writer() = None;
                    *lock(&self.trouble) = Some(why);
                }
                Err(why) => {
                    *lock(&self.trouble) =
                        Some(format!("cannot reach the relay at {}: {why}", self.addr));
                }
            }
            if self.stopped.load(Ordering::SeqCst) {
                break;
            }
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }

    /// Connects and authenticates; installs the writer and returns the reader.
    fn connect(&self, identity: &Identity) -> Result<TcpStream, String> {
        let mut last = String::from("the address resolves to nothing");
        let mut stream = None;
        for a in self.addr.to_socket_addrs().map_err(|e| e.to_string())? {
            match TcpStream::connect_timeout(&a, CONNECT_TIMEOUT) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = e.to_string(),
            }
        }
        let mut s = stream.ok_or(last)?;
        let _ = s.set_nodelay(true);
        s.set_read_timeout(Some(CONNECT_TIMEOUT))
            .map_err(|e| e.to_string())?;
        let challenge: wire::Challenge = wire::read_frame(&mut s, wire::MAX_CONTROL)
            .and_then(|f| f.expect(Kind::Challenge))
            .and_then(|f| f.json())
            .map_err(|e| e.to_string())?;
        let nonce: [u8; 32] =
            wire::hex_array(&challenge.nonce).ok_or("the relay's nonce is not 32 bytes")?;
        if let Some(max) = challenge.max_message {
            let max = usize::try_from(max).unwrap_or(usize::MAX).min(MAX_PAYLOAD);
            self.max_payload.store(max, Ordering::SeqCst);
        }
        let key = identity
            .card()
            .verifying_key()
            .map_err(|e| e.to_string())?
            .to_bytes();
        let auth = wire::NodeAuth {
            key: hex::encode(key),
            signature: hex::encode(identity.sign(&wire::node_auth_message(&nonce, &key))),
        };
        wire::write_json(&mut s, Kind::NodeAuth, &auth).map_err(|e| e.to_string())?;
        let answer = wire::read_frame(&mut s, wire::MAX_CONTROL).map_err(|e| e.to_string())?;
        if answer.kind != Kind::Ok {
            let why = answer
                .json::<wire::Refusal>()
                .map(|r| r.error)
                .unwrap_or_else(|_| format!("a {:?} answer", answer.kind));
            return Err(format!("the relay refused the node: {why}"));
        }
        // Pushes may be far apart; the node's own beats keep the link busy. A relay that
        // stops reading must not hold a sender forever: a write that cannot finish in
        // time drops the link (and the sender's request fails within its own deadline).
        s.set_read_timeout(None).map_err(|e| e.to_string())?;
        s.set_write_timeout(Some(WRITE_TIMEOUT))
            .map_err(|e| e.to_string())?;
        let w = s.try_clone().map_err(|e| e.to_string())?;
        let _ = (&w).flush();
        *self.writer() = Some(w);
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.connected.store(true, Ordering::SeqCst);
        Ok(s)
    }
}
