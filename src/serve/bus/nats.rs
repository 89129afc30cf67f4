//! A serve node's link to NATS JetStream (`mpc serve --relay nats://...`).
//!
//! Layout (README "Signing cluster", beside the ceremonies' [`STREAM`](crate::transport::nats::STREAM)):
//! - the stream [`NODE_STREAM`] holds what nodes send each other (proposals, answers,
//!   envelopes), on the subject `mpcnode.<recipient key, hex>`, with the sender's key in
//!   the `Mpc-From` header (a claim: node messages are signed by their sender and checked
//!   against it, envelopes by admission). A message's id is the SHA-256 of its
//!   recipient and bytes, so the server drops a second copy (a retry). Messages are kept
//!   for [`NODE_MAX_AGE`], on file storage;
//! - each node reads its subject through its durable consumer `node-<key prefix>`,
//!   acknowledging a message once the node has taken it, so a link that drops and a
//!   server that restarts lose nothing. A node that starts makes its consumer anew
//!   (delivering only what is sent from then on): what was sent to it while it was down
//!   belongs to sessions that are over;
//! - presence: each node's beat is the value of its key in the KV bucket
//!   [`PRESENCE_BUCKET`], whose entries expire after [`PRESENCE_TTL`]; every node
//!   watches the bucket (`GET /nodes` and the choice of signers read it);
//! - single use: the KV bucket [`SINGLE_USE_BUCKET`] holds a create-only key per
//!   presignature used by any node (`presignature.<session>`), whose value is the use's
//!   binding, and is never trimmed (see [`ClusterLedger`]).
//!
//! The client runs on the node's runtime (a runtime of its own only where the link is
//! started outside one, as a test's stranger does); what arrives is handed to the node
//! in order, and acknowledged once the node has it, through the hand-off the relay link
//! uses too (`bus::hand_off`). What the node posts is queued for one publishing task,
//! in order, which awaits the server's acknowledgements together ([`NatsLink::post`]):
//! no caller waits for the server, as none waits for the relay.

use super::{LinkRt, Pushed};
use crate::identity::Identity;
use crate::serve::lock;
use crate::store::db::{Claim, ClusterLedger};
use crate::transport::nats::{Credentials, MAX_MESSAGE, connect, replicas};
use async_nats::jetstream::{self, consumer::PullConsumer, kv, stream};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;
use tokio::sync::mpsc as pushes;

/// The stream of node messages.
pub const NODE_STREAM: &str = "MPC_NODES";
/// How long a node message is kept: far longer than any request waits.
pub const NODE_MAX_AGE: Duration = Duration::from_secs(3600);
/// The presence bucket.
pub const PRESENCE_BUCKET: &str = "mpc_presence";
/// How long a beat stays in the presence bucket.
pub const PRESENCE_TTL: Duration = Duration::from_secs(10);
/// The cluster-wide single-use ledger.
pub const SINGLE_USE_BUCKET: &str = "mpc_single_use";
/// How long one call to the server may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Node messages that may wait to be published.
const OUT_QUEUE: usize = 4096;
/// Publishes whose acknowledgement may be awaited at once.
const IN_FLIGHT: usize = 1024;

/// A post on its way to the publishing task.
enum Out {
    /// This node's beat, for the presence bucket.
    Beat(bytes::Bytes),
    /// A node message for the nodes `to`.
    Message {
        to: Vec<[u8; 32]>,
        payload: bytes::Bytes,
    },
}
/// A presence watch that brought nothing for this long (not even this node's own beat,
/// put every second) has stalled, as one can after the server leading the bucket is
/// lost: it is made again from the last revision it brought.
const WATCH_STALL: Duration = Duration::from_secs(3);

/// What a node sends and watches through, while connected.
#[derive(Clone)]
struct Live {
    js: jetstream::Context,
    presence: kv::Store,
    single_use: kv::Store,
}

/// The link. See the module doc.
pub struct NatsLink {
    addr: String,
    me: [u8; 32],
    creds: Credentials,
    rt: Arc<LinkRt>,
    /// The tasks that keep the link up and publish what is posted (aborted by
    /// [`NatsLink::stop`]).
    tasks: Mutex<Vec<tokio::task::AbortHandle>>,
    /// Posts on their way to the publishing task, in order.
    out: tokio::sync::mpsc::Sender<Out>,
    /// What the node sends through, while it is connected and its consumer reads.
    live: Mutex<Option<Live>>,
    generation: AtomicU64,
    trouble: Mutex<Option<String>>,
}

/// The subject of the node with key `key`.
pub fn node_subject(key: &[u8; 32]) -> String {
    format!("mpcnode.{}", hex::encode(key))
}

impl NatsLink {
    /// Starts the link for the node `identity` on the NATS servers of `addr`: the client
    /// connects (and reconnects) in the background on `rt`; pushed payloads go to
    /// `pushes`.
    pub(super) fn start(
        addr: &str,
        creds: Credentials,
        identity: &Identity,
        rt: Arc<LinkRt>,
        pushes: pushes::Sender<Pushed>,
    ) -> Result<Arc<NatsLink>, String> {
        let me = identity
            .card()
            .verifying_key()
            .map_err(|e| e.to_string())?
            .to_bytes();
        let (out, queued) = tokio::sync::mpsc::channel(OUT_QUEUE);
        let link = Arc::new(NatsLink {
            addr: addr.to_string(),
            me,
            creds,
            rt,
            tasks: Mutex::new(Vec::new()),
            out,
            live: Mutex::new(None),
            generation: AtomicU64::new(0),
            trouble: Mutex::new(Some("not connected yet".into())),
        });
        let l = Arc::clone(&link);
        let keeping = link.rt().spawn(async move { l.keep_up(pushes).await });
        let l = Arc::clone(&link);
        let publishing = link.rt().spawn(async move { l.publish(queued).await });
        *lock(&link.tasks) = vec![keeping.abort_handle(), publishing.abort_handle()];
        Ok(link)
    }

    fn rt(&self) -> &tokio::runtime::Handle {
        self.rt.handle()
    }

    /// The servers' address.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Whether the client is connected and the node's consumer reads.
    pub fn connected(&self) -> bool {
        lock(&self.live).is_some()
    }

    /// Counts the consumers made: changes when the link was re-made.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Why the link is down, while it is.
    pub fn trouble(&self) -> Option<String> {
        lock(&self.trouble).clone()
    }

    /// Closes the link for good.
    pub fn stop(&self) {
        *lock(&self.live) = None;
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
    }

    /// Runs `fut` on the link's runtime and waits for it (from any thread).
    fn call<T: Send + 'static>(
        &self,
        fut: impl std::future::Future<Output = Result<T, String>> + Send + 'static,
    ) -> Result<T, String> {
        let (tx, rx) = mpsc::channel();
        self.rt().spawn(async move {
            let _ = tx.send(tokio::time::timeout(CALL_TIMEOUT, fut).await);
        });
        match rx.recv() {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(format!(
                "NATS at {} did not answer within {}s",
                self.addr,
                CALL_TIMEOUT.as_secs()
            )),
            Err(_) => Err("the NATS client stopped".into()),
        }
    }

    fn live(&self) -> Result<Live, String> {
        lock(&self.live).clone().ok_or_else(|| {
            self.trouble()
                .unwrap_or_else(|| "the bus link is down".into())
        })
    }

    /// Sends `payload` to the nodes `to` (stored until read); a beat (`ephemeral`)
    /// becomes this node's entry in the presence bucket instead. Queued for the
    /// publishing task, in order, as a relay post is: this never waits for the server.
    /// A link that is down, or a queue that is full, is said at once.
    pub fn post(&self, to: &[[u8; 32]], payload: &[u8], ephemeral: bool) -> Result<(), String> {
        self.live()?;
        let payload = bytes::Bytes::copy_from_slice(payload);
        let out = if ephemeral {
            Out::Beat(payload)
        } else {
            Out::Message {
                to: to.to_vec(),
                payload,
            }
        };
        self.out.try_send(out).map_err(|e| match e {
            tokio::sync::mpsc::error::TrySendError::Full(_) => format!(
                "{OUT_QUEUE} node messages already wait for NATS at {}; this one was not sent",
                self.addr
            ),
            tokio::sync::mpsc::error::TrySendError::Closed(_) => {
                "the NATS link has stopped".to_string()
            }
        })
    }

    /// Publishes what [`NatsLink::post`] queued, in order, and awaits the server's
    /// acknowledgements (that it stored each message) together, up to [`IN_FLIGHT`] at
    /// a time, instead of one after the other. A message the server does not store is
    /// logged and lost, as one is on a relay link that drops: a session sends again
    /// what the bus may have lost once the link is made again, and a request's
    /// deadline bounds the rest.
    async fn publish(self: Arc<Self>, mut queued: tokio::sync::mpsc::Receiver<Out>) {
        type Ack = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>;
        let mut acks = futures_util::stream::FuturesUnordered::<Ack>::new();
        let from = hex::encode(self.me);
        loop {
            tokio::select! {
                biased;
                Some(acked) = acks.next(), if !acks.is_empty() => {
                    if let Err(why) = acked {
                        tracing::warn!("a node message was lost: {why}");
                    }
                }
                out = queued.recv(), if acks.len() < IN_FLIGHT => {
                    let Some(out) = out else { return };
                    let live = match self.live() {
                        Ok(l) => l,
                        Err(why) => {
                            tracing::warn!("a node message was lost: {why}");
                            continue;
                        }
                    };
                    match out {
                        // A beat is one put per recipient, each signed over its
                        // recipient, to the one key of this node, and the bucket keeps
                        // one value per key: put together, the second can replace the
                        // first before a watcher has read it (seen in the tests). So
                        // they go one after the other, each stored before the next.
                        Out::Beat(payload) => {
                            let key = from.clone();
                            let put = live.presence.put(key, payload);
                            if let Err(why) = match tokio::time::timeout(CALL_TIMEOUT, put).await {
                                Ok(r) => r.map(|_| ()).map_err(|e| e.to_string()),
                                Err(_) => Err(format!("no answer within {}s", CALL_TIMEOUT.as_secs())),
                            } {
                                tracing::warn!("cannot beat on NATS: {why}");
                            }
                        }
                        Out::Message { to, payload } => {
                            for key in &to {
                                let mut id = Sha256::new();
                                id.update(key);
                                id.update(&payload);
                                let mut headers = async_nats::HeaderMap::new();
                                headers.insert("Nats-Msg-Id", hex::encode(id.finalize()).as_str());
                                headers.insert("Mpc-From", from.as_str());
                                let sent = live
                                    .js
                                    .publish_with_headers(node_subject(key), headers, payload.clone())
                                    .await;
                                match sent {
                                    Ok(ack) => acks.push(Box::pin(async move {
                                        match tokio::time::timeout(CALL_TIMEOUT, ack).await {
                                            Ok(Ok(_)) => Ok(()),
                                            Ok(Err(e)) => Err(format!("NATS did not store it: {e}")),
                                            Err(_) => Err(format!(
                                                "NATS did not confirm storing it within {}s",
                                                CALL_TIMEOUT.as_secs()
                                            )),
                                        }
                                    })),
                                    Err(e) => {
                                        tracing::warn!("a node message was lost: sending to NATS failed: {e}");
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Keeps the link up, feeding `tx`, until [`NatsLink::stop`] aborts it (or the node
    /// is gone).
    async fn keep_up(self: Arc<Self>, tx: pushes::Sender<Pushed>) {
        let mut delays = super::reconnect_delays();
        let mut first = true;
        loop {
            match self.connect(first).await {
                Ok((live, consumer)) => {
                    first = false;
                    delays = super::reconnect_delays();
                    let why = self.read(live, consumer, &tx).await;
                    *lock(&self.live) = None;
                    *lock(&self.trouble) = Some(why);
                }
                Err(why) => {
                    *lock(&self.trouble) =
                        Some(format!("cannot reach NATS at {}: {why}", self.addr));
                }
            }
            if tx.is_closed() {
                return;
            }
            tokio::time::sleep(delays.next().unwrap_or(Duration::from_secs(1))).await;
        }
    }

    /// Connects, makes what is missing (stream, buckets, this node's consumer; a new
    /// consumer when the node has just started).
    async fn connect(&self, fresh: bool) -> Result<(Live, PullConsumer), String> {
        let durable = format!("node-{}", &hex::encode(self.me)[..32]);
        let client = connect(&self.addr, &self.creds, &durable).await?;
        let copies = replicas(&self.addr);
        let js = jetstream::new(client);
        let stream = js
            .get_or_create_stream(stream::Config {
                name: NODE_STREAM.into(),
                subjects: vec!["mpcnode.*".into()],
                storage: stream::StorageType::File,
                max_age: NODE_MAX_AGE,
                max_bytes: 1 << 30,
                max_message_size: MAX_MESSAGE,
                duplicate_window: Duration::from_secs(120),
                discard: stream::DiscardPolicy::Old,
                num_replicas: copies,
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string())?;
        let presence = bucket(
            &js,
            kv::Config {
                bucket: PRESENCE_BUCKET.into(),
                history: 1,
                max_age: PRESENCE_TTL,
                storage: stream::StorageType::Memory,
                num_replicas: copies,
                ..Default::default()
            },
        )
        .await?;
        let single_use = bucket(
            &js,
            kv::Config {
                bucket: SINGLE_USE_BUCKET.into(),
                history: 1,
                storage: stream::StorageType::File,
                num_replicas: copies,
                ..Default::default()
            },
        )
        .await?;
        if fresh {
            // Gone already is fine; anything else shows at the creation below.
            let _ = stream.delete_consumer(&durable).await;
        }
        let consumer: PullConsumer = stream
            .get_or_create_consumer(
                &durable,
                jetstream::consumer::pull::Config {
                    durable_name: Some(durable.clone()),
                    filter_subject: node_subject(&self.me),
                    deliver_policy: jetstream::consumer::DeliverPolicy::New,
                    ack_policy: jetstream::consumer::AckPolicy::Explicit,
                    ack_wait: Duration::from_secs(30),
                    inactive_threshold: NODE_MAX_AGE,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| e.to_string())?;
        Ok((
            Live {
                js,
                presence,
                single_use,
            },
            consumer,
        ))
    }

    /// Reads the node's consumer and the presence bucket until either fails; returns why.
    async fn read(
        &self,
        live: Live,
        consumer: PullConsumer,
        tx: &pushes::Sender<Pushed>,
    ) -> String {
        let mut messages = match consumer
            .stream()
            .heartbeat(Duration::from_secs(1))
            .expires(Duration::from_secs(5))
            .messages()
            .await
        {
            Ok(m) => m,
            Err(e) => return format!("cannot read from NATS: {e}"),
        };
        let presence = live.presence.clone();
        let mut watch = match presence.watch_all().await {
            Ok(w) => w,
            Err(e) => return format!("cannot watch presence on NATS: {e}"),
        };
        let (mut heard, mut revision) = (std::time::Instant::now(), None::<u64>);
        *lock(&self.trouble) = None;
        self.generation.fetch_add(1, Ordering::SeqCst);
        *lock(&self.live) = Some(live);
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tokio::select! {
                m = messages.next() => match m {
                    Some(Ok(m)) => {
                        let from = m
                            .headers
                            .as_ref()
                            .and_then(|h| h.get("Mpc-From"))
                            .and_then(|v| crate::transport::wire::hex_array::<32>(v.as_str()));
                        match from {
                            Some(from) => {
                                let payload = m.payload.to_vec();
                                let rt = self.rt().clone();
                                // One ack that does not arrive means one more delivery,
                                // which the node takes as a duplicate.
                                let taken = Box::new(move || {
                                    rt.spawn(async move {
                                        let _ = m.ack().await;
                                    });
                                });
                                let push = Pushed { from, payload, taken: Some(taken) };
                                if tx.send(push).await.is_err() {
                                    return "the node stopped".into();
                                }
                            }
                            // Not from a node: nothing to hand on, nothing to read again.
                            None => {
                                let _ = m.ack().await;
                            }
                        }
                    }
                    Some(Err(e)) => return format!("reading from NATS failed: {e}"),
                    None => return "the NATS consumer ended".into(),
                },
                e = watch.next() => match e {
                    Some(Ok(entry)) => {
                        (heard, revision) = (std::time::Instant::now(), Some(entry.revision));
                        if entry.operation == kv::Operation::Put
                            && let Some(from) = crate::transport::wire::hex_array::<32>(&entry.key)
                            && from != self.me
                        {
                            let push = Pushed { from, payload: entry.value.to_vec(), taken: None };
                            if tx.send(push).await.is_err() {
                                return "the node stopped".into();
                            }
                        }
                    }
                    Some(Err(e)) => return format!("watching presence on NATS failed: {e}"),
                    None => return "the presence watch ended".into(),
                },
                _ = tick.tick() => {
                    if heard.elapsed() > WATCH_STALL {
                        let again = match revision {
                            Some(r) => presence.watch_all_from_revision(r + 1).await,
                            None => presence.watch_all().await,
                        };
                        match again {
                            Ok(w) => (watch, heard) = (w, std::time::Instant::now()),
                            Err(e) => return format!("cannot watch presence on NATS: {e}"),
                        }
                    }
                }
            }
        }
    }
}

/// The KV bucket of `config`, made if missing.
async fn bucket(js: &jetstream::Context, config: kv::Config) -> Result<kv::Store, String> {
    match js.get_key_value(config.bucket.clone()).await {
        Ok(s) => Ok(s),
        Err(_) => js
            .create_key_value(config)
            .await
            .map_err(|e| format!("cannot make a KV bucket on NATS: {e}")),
    }
}

impl ClusterLedger for NatsLink {
    fn claim(&self, key: &str, binding: &str) -> Result<Claim, String> {
        let live = self.live()?;
        let (key, binding) = (key.to_string(), binding.to_string());
        self.call(async move {
            match live
                .single_use
                .create(&key, bytes::Bytes::from(binding.clone()))
                .await
            {
                Ok(_) => Ok(Claim::Won),
                Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {
                    let held = live
                        .single_use
                        .get(&key)
                        .await
                        .map_err(|e| format!("cannot read the single-use ledger: {e}"))?;
                    Ok(match held {
                        Some(b) if b.as_ref() == binding.as_bytes() => Claim::Again,
                        _ => Claim::Spent,
                    })
                }
                Err(e) => Err(format!("cannot write the single-use ledger: {e}")),
            }
        })
    }
}
