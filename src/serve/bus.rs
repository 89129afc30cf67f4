//! A serve node's link to the bus: one link carrying every session's messages, pushed
//! to the node as they arrive, on one of two buses:
//! - the relay in node mode (`relay::node`, [`RelayLink`] here): one connection,
//!   authenticated once, read and written by one task on the node's runtime through
//!   tokio-util's `LengthDelimitedCodec` (the relay's frames are a 4-byte big-endian
//!   length, then the kind byte and the body: exactly that codec's frames). When it
//!   drops, the task connects again after a delay from `backon` (exponential, 100 ms to
//!   1 s, with jitter so that a cluster does not come back in step) and bumps
//!   [`Bus::generation`], so carriers send again what the relay may have lost;
//! - NATS JetStream ([`nats::NatsLink`]): a durable consumer per node, presence in a KV
//!   bucket with a TTL, and a cluster-wide single-use ledger (module doc there).
//!
//! Either way the link's tasks never block: what the bus pushes goes, in arrival order,
//! through a bounded channel to one hand-off on the runtime's blocking pool
//! ([`hand_off`]), which gives it to the node (checking a node message's signature, or
//! reading a key's record, is the node's business, and never stalls the reading). A
//! post to the relay is queued for the link's task and never waits on the socket. The
//! bus is untrusted: what it pushes is checked by the node as from a file.

pub mod nats;

use super::lock;
use crate::identity::Identity;
use crate::transport::wire::{self, Kind};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::codec::{Framed, LengthDelimitedCodec};

/// How long connecting and authenticating to the relay may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long one write to the relay may take before the link is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Frames queued for the relay at most; a post beyond them fails at once. The link's
/// task writes a frame in microseconds, so a full queue means the relay has stopped
/// reading (and the write timeout is about to drop the link).
const OUT_QUEUE: usize = 4096;
/// Pushed payloads queued for the node at most; beyond them the link stops reading
/// (and the relay, or NATS, holds the rest).
const IN_QUEUE: usize = 1024;
/// The largest payload a node accepts from the bus.
pub const MAX_PAYLOAD: usize = 4 << 20;

/// What receives pushed payloads: the sender's claimed key (unverified) and the bytes.
pub type OnPush = Arc<dyn Fn([u8; 32], Vec<u8>) + Send + Sync>;

/// One payload the bus pushed, on its way to the node, and what to do once the node
/// has it (NATS acknowledges the message then).
pub(crate) struct Pushed {
    pub from: [u8; 32],
    pub payload: Vec<u8>,
    pub taken: Option<Box<dyn FnOnce() + Send>>,
}

/// Where a link's tasks run: the node's runtime, or a runtime of its own for a link
/// started outside one (a test's stranger).
pub(crate) struct LinkRt {
    own: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
}

impl LinkRt {
    fn here() -> Result<Arc<LinkRt>, String> {
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            return Ok(Arc::new(LinkRt { own: None, handle }));
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("mpc-bus")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the bus link's runtime: {e}"))?;
        Ok(Arc::new(LinkRt {
            handle: rt.handle().clone(),
            own: Some(rt),
        }))
    }

    pub(crate) fn handle(&self) -> &tokio::runtime::Handle {
        &self.handle
    }
}

impl Drop for LinkRt {
    fn drop(&mut self) {
        // The last reference may go on one of the runtime's own threads, where waiting
        // for the runtime to stop is not allowed.
        if let Some(rt) = self.own.take() {
            rt.shutdown_background();
        }
    }
}

/// Gives what the bus pushes to `on_push`, in arrival order, on one thread of the
/// runtime's blocking pool (the node's handling may read SQLite). It ends when every
/// sender is gone (the link stopped).
fn hand_off(rt: &LinkRt, on_push: OnPush) -> mpsc::Sender<Pushed> {
    let (tx, mut rx) = mpsc::channel::<Pushed>(IN_QUEUE);
    rt.handle().spawn_blocking(move || {
        while let Some(p) = rx.blocking_recv() {
            on_push(p.from, p.payload);
            if let Some(taken) = p.taken {
                taken();
            }
        }
    });
    tx
}

/// The delays between attempts to link again: 100 ms doubling to 1 s, each with up to
/// as much again of jitter, for as long as it takes.
fn reconnect_delays() -> backon::ExponentialBackoff {
    use backon::BackoffBuilder;
    backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(1))
        .with_jitter()
        .without_max_times()
        .build()
}

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
    /// `identity`, in the background on the current runtime (one of its own outside
    /// one), and keeps the link up until [`Bus::stop`]; what it pushes goes to
    /// `on_push`, in order, on a blocking thread.
    pub fn start(
        addr: &str,
        creds: crate::transport::nats::Credentials,
        identity: Arc<Identity>,
        on_push: OnPush,
    ) -> Result<Bus, String> {
        let rt = LinkRt::here()?;
        let pushes = hand_off(&rt, on_push);
        let link = if crate::transport::nats::is_nats(addr) {
            Link::Nats(nats::NatsLink::start(addr, creds, &identity, rt, pushes)?)
        } else {
            Link::Relay(RelayLink::start(addr, identity, rt, pushes))
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
    max_payload: AtomicUsize,
    /// Frames for the relay while the link is up (the link's task writes them).
    out: Mutex<Option<mpsc::Sender<Bytes>>>,
    connected: AtomicBool,
    generation: AtomicU64,
    trouble: Mutex<Option<String>>,
    /// The task that keeps the link up (aborted by [`RelayLink::stop`]).
    keeping: Mutex<Option<tokio::task::AbortHandle>>,
    rt: Arc<LinkRt>,
}

/// A connection to the relay, in frames.
type Frames = Framed<TcpStream, LengthDelimitedCodec>;

impl RelayLink {
    fn start(
        addr: &str,
        identity: Arc<Identity>,
        rt: Arc<LinkRt>,
        pushes: mpsc::Sender<Pushed>,
    ) -> Arc<RelayLink> {
        let link = Arc::new(RelayLink {
            addr: addr.to_string(),
            max_payload: AtomicUsize::new(crate::relay::Limits::default().max_message),
            out: Mutex::new(None),
            connected: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            trouble: Mutex::new(Some("not connected yet".into())),
            keeping: Mutex::new(None),
            rt,
        });
        let l = Arc::clone(&link);
        let keeping = link
            .rt
            .handle()
            .spawn(async move { l.keep_up(&identity, &pushes).await });
        *lock(&link.keeping) = Some(keeping.abort_handle());
        link
    }

    fn trouble(&self) -> Option<String> {
        lock(&self.trouble).clone()
    }

    fn stop(&self) {
        *lock(&self.out) = None;
        self.connected.store(false, Ordering::SeqCst);
        if let Some(k) = lock(&self.keeping).take() {
            k.abort();
        }
    }

    /// Queues a `Post` for the link's task; it fails at once when the link is down or
    /// the relay has stopped taking frames.
    fn post(&self, to: &[[u8; 32]], payload: &[u8], ephemeral: bool) -> Result<(), String> {
        let flags = if ephemeral { wire::POST_EPHEMERAL } else { 0 };
        let frame = wire::frame_bytes(Kind::Post, &wire::post_body(flags, to, payload));
        let out = lock(&self.out).clone();
        let Some(out) = out else {
            return Err(self
                .trouble()
                .unwrap_or_else(|| "the bus link is down".into()));
        };
        out.try_send(Bytes::from(frame)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => format!(
                "the relay is not taking what this node sends ({OUT_QUEUE} frames wait); nothing was sent"
            ),
            mpsc::error::TrySendError::Closed(_) => "the bus link dropped".into(),
        })
    }

    /// Links, serves the link until it drops, and links again, until stopped.
    async fn keep_up(&self, identity: &Identity, pushes: &mpsc::Sender<Pushed>) {
        let mut delays = reconnect_delays();
        loop {
            let why = match self.connect(identity).await {
                Ok(framed) => {
                    delays = reconnect_delays();
                    self.serve(framed, pushes).await
                }
                Err(why) => format!("cannot reach the relay at {}: {why}", self.addr),
            };
            self.connected.store(false, Ordering::SeqCst);
            *lock(&self.out) = None;
            *lock(&self.trouble) = Some(why);
            if pushes.is_closed() {
                return;
            }
            tokio::time::sleep(delays.next().unwrap_or(Duration::from_secs(1))).await;
        }
    }

    /// Carries frames both ways until the link drops; returns why. Reading and writing
    /// go on independently: a relay slow to read never stops this node from reading.
    async fn serve(&self, framed: Frames, pushes: &mpsc::Sender<Pushed>) -> String {
        let (mut sink, mut frames) = framed.split();
        let (tx, mut rx) = mpsc::channel::<Bytes>(OUT_QUEUE);
        *lock(&self.out) = Some(tx);
        *lock(&self.trouble) = None;
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.connected.store(true, Ordering::SeqCst);
        let read = async {
            loop {
                let frame = match frames.next().await {
                    Some(Ok(f)) => wire::Frame::from_bytes(&f),
                    Some(Err(e)) => return format!("the bus link dropped: {e}"),
                    None => return "the bus link dropped: the relay closed it".into(),
                };
                match frame {
                    Ok(mut f) if f.kind == Kind::Push && f.body.len() >= 32 => {
                        // The sender's key, then the payload: moved down in place, not
                        // copied again.
                        let from: [u8; 32] = f.body[..32].try_into().expect("32 bytes");
                        f.body.drain(..32);
                        let pushed = Pushed {
                            from,
                            payload: f.body,
                            taken: None,
                        };
                        if pushes.send(pushed).await.is_err() {
                            return "the node stopped".into();
                        }
                    }
                    Ok(f) => return format!("the relay sent an unexpected {:?} frame", f.kind),
                    Err(e) => return format!("the bus link dropped: {e}"),
                }
            }
        };
        let write = async {
            while let Some(frame) = rx.recv().await {
                // What else is queued by now goes out with it, in one write.
                let sent = async {
                    sink.feed(frame).await?;
                    while let Ok(more) = rx.try_recv() {
                        sink.feed(more).await?;
                    }
                    sink.flush().await
                };
                match tokio::time::timeout(WRITE_TIMEOUT, sent).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => return format!("sending to the bus failed: {e}"),
                    Err(_) => {
                        return format!(
                            "the relay took no frame for {}s; the link was dropped",
                            WRITE_TIMEOUT.as_secs()
                        );
                    }
                }
            }
            "the bus link was closed".to_string()
        };
        tokio::select! {
            why = read => why,
            why = write => why,
        }
    }

    /// Connects and authenticates, within [`CONNECT_TIMEOUT`].
    async fn connect(&self, identity: &Identity) -> Result<Frames, String> {
        match tokio::time::timeout(CONNECT_TIMEOUT, self.handshake(identity)).await {
            Ok(r) => r,
            Err(_) => Err(format!("no answer within {}s", CONNECT_TIMEOUT.as_secs())),
        }
    }

    async fn handshake(&self, identity: &Identity) -> Result<Frames, String> {
        let mut last = String::from("the address resolves to nothing");
        let mut stream = None;
        for a in tokio::net::lookup_host(&self.addr)
            .await
            .map_err(|e| e.to_string())?
        {
            match TcpStream::connect(a).await {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = e.to_string(),
            }
        }
        let stream = stream.ok_or(last)?;
        let _ = stream.set_nodelay(true);
        let mut framed = Framed::new(stream, wire::codec(wire::MAX_CONTROL));
        let challenge: wire::Challenge = next_frame(&mut framed)
            .await?
            .expect(Kind::Challenge)
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
        let auth = serde_json::to_vec(&auth).map_err(|e| e.to_string())?;
        framed
            .send(Bytes::from(wire::frame_bytes(Kind::NodeAuth, &auth)))
            .await
            .map_err(|e| e.to_string())?;
        let answer = next_frame(&mut framed).await?;
        if answer.kind != Kind::Ok {
            let why = answer
                .json::<wire::Refusal>()
                .map(|r| r.error)
                .unwrap_or_else(|_| format!("a {:?} answer", answer.kind));
            return Err(format!("the relay refused the node: {why}"));
        }
        // From here on the relay pushes payloads with the sender's key before them.
        // (The kind byte counts in the codec's length.)
        framed
            .codec_mut()
            .set_max_frame_length(MAX_PAYLOAD + 32 + 1);
        Ok(framed)
    }
}

/// The next frame of a connection being set up.
async fn next_frame(framed: &mut Frames) -> Result<wire::Frame, String> {
    match framed.next().await {
        Some(Ok(f)) => wire::Frame::from_bytes(&f).map_err(|e| e.to_string()),
        Some(Err(e)) => Err(e.to_string()),
        None => Err(wire::FrameError::Closed.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One relay connection, played by the test: the challenge, the node's signed
    /// answer (checked), then `Ok`.
    async fn accept(listener: &tokio::net::TcpListener, key: &[u8; 32]) -> Frames {
        let (s, _) = listener.accept().await.unwrap();
        let mut f = Framed::new(s, wire::codec(MAX_PAYLOAD + 32));
        let challenge = wire::Challenge {
            v: wire::VERSION,
            relay: "00".repeat(16),
            nonce: "11".repeat(32),
            max_message: Some(1000),
        };
        let body = serde_json::to_vec(&challenge).unwrap();
        f.send(Bytes::from(wire::frame_bytes(Kind::Challenge, &body)))
            .await
            .unwrap();
        let auth: wire::NodeAuth = next_frame(&mut f).await.unwrap().json().unwrap();
        assert_eq!(auth.key, hex::encode(key));
        let signature: [u8; 64] = wire::hex_array(&auth.signature).unwrap();
        let vk = ed25519_dalek::VerifyingKey::from_bytes(key).unwrap();
        vk.verify_strict(
            &wire::node_auth_message(&[0x11; 32], key),
            &ed25519_dalek::Signature::from_bytes(&signature),
        )
        .expect("the node signs the relay's nonce");
        f.send(Bytes::from(wire::frame_bytes(Kind::Ok, b"{}")))
            .await
            .unwrap();
        f
    }

    async fn until(what: &str, check: impl Fn() -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !check() {
            assert!(tokio::time::Instant::now() < deadline, "never {what}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_relay_link_carries_frames_both_ways_in_order_and_links_again_after_a_drop() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let id = Arc::new(Identity::generate("alice"));
        let key = id.card().verifying_key().unwrap().to_bytes();
        let (tx, mut got) = mpsc::unbounded_channel();
        let on_push: OnPush = Arc::new(move |from, payload| {
            let _ = tx.send((from, payload));
        });
        let bus = Bus::start(&addr, Default::default(), id, on_push).unwrap();
        for generation in 1..=2u64 {
            let mut relay = accept(&listener, &key).await;
            until("linked", || {
                bus.connected() && bus.generation() == generation
            })
            .await;
            assert_eq!(bus.max_payload(), 1000, "the relay's announced limit");
            // Pushes arrive in order, with their sender.
            for i in 0..50u8 {
                let mut body = vec![7u8; 32];
                body.extend_from_slice(&[i; 3]);
                relay
                    .send(Bytes::from(wire::frame_bytes(Kind::Push, &body)))
                    .await
                    .unwrap();
            }
            for i in 0..50u8 {
                assert_eq!(got.recv().await.unwrap(), ([7u8; 32], vec![i; 3]));
            }
            // A post reaches the relay as a `Post` frame, and one over the announced
            // limit is refused here, with the link left up.
            bus.post_checked(&[[9; 32]], b"hello", false).unwrap();
            let post = next_frame(&mut relay).await.unwrap();
            assert_eq!(post.kind, Kind::Post);
            let p = wire::parse_post(&post.body).unwrap();
            assert_eq!((p.to, p.payload), (vec![[9; 32]], &b"hello"[..]));
            assert!(bus.post_checked(&[[9; 32]], &[0; 1001], false).is_err());
            assert!(bus.connected());
            // The relay drops the link: it is down, says why, and comes back.
            drop(relay);
            until("down", || !bus.connected()).await;
            assert!(
                bus.trouble().unwrap().contains("dropped"),
                "{:?}",
                bus.trouble()
            );
            assert!(
                bus.post(&[[9; 32]], b"x", false).is_err(),
                "a post while down fails"
            );
        }
        // A relay that sends what a relay never sends drops the link.
        let mut relay = accept(&listener, &key).await;
        until("linked", || bus.generation() == 3).await;
        relay
            .send(Bytes::from(wire::frame_bytes(Kind::Msg, b"?")))
            .await
            .unwrap();
        until("down", || !bus.connected()).await;
        assert!(bus.trouble().unwrap().contains("unexpected Msg"));
        bus.stop();
    }

    /// A relay that stops reading holds nothing up for ever: the link drops once a write
    /// has waited [`WRITE_TIMEOUT`], and says why.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_relay_that_stops_reading_drops_the_link() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let id = Arc::new(Identity::generate("alice"));
        let key = id.card().verifying_key().unwrap().to_bytes();
        let bus = Bus::start(&addr, Default::default(), id, Arc::new(|_, _| {})).unwrap();
        let relay = accept(&listener, &key).await;
        until("linked", || bus.connected()).await;
        // The relay reads nothing more; the node posts far more than the sockets hold.
        let big = vec![0u8; 64 * 1024];
        for _ in 0..400 {
            if bus.post(&[[9; 32]], &big, false).is_err() {
                break;
            }
        }
        let deadline = tokio::time::Instant::now() + WRITE_TIMEOUT + Duration::from_secs(5);
        while bus.connected() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the link never dropped"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            bus.trouble().unwrap().contains("took no frame"),
            "{:?}",
            bus.trouble()
        );
        drop(relay);
        bus.stop();
    }
}
