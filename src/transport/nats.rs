//! NATS JetStream as a bus ([`NatsCarrier`]): `--relay nats://HOST:PORT[,HOST:PORT...]`.
//!
//! Layout (README "On NATS JetStream"):
//! - one stream, [`STREAM`], on file storage, holding the subjects `mpc.<session>.to.<n>`
//!   (a message for party `n`) and `mpc.<session>.to.all` (a broadcast); messages older
//!   than [`MAX_AGE`] (a session's lifetime) are dropped, the stream holds at most
//!   [`MAX_BYTES`], and a message is at most [`MAX_MESSAGE`] bytes;
//! - a message's id (`Nats-Msg-Id`) is its envelope's SHA-256, so the server drops a
//!   second copy within [`DUPLICATE_WINDOW`] (and admission ignores any later one);
//! - a durable pull consumer per party and session (`p<n>-<session prefix>`), filtered
//!   on that party's subject and the broadcasts. A message is acknowledged once
//!   admission has taken it (or knew it), so a party that restarts, or a server that
//!   restarts, resumes where it was and loses nothing.
//!
//! The broker is untrusted exactly as the relay is: it sees signed envelopes whose
//! private payloads are encrypted to their recipient, and every message it hands over
//! goes through admission like a file.

use super::{Carrier, CarrierError, Incoming};
use crate::envelope::Envelope;
use async_nats::jetstream::{self, consumer::PullConsumer, stream};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// The stream of round messages.
pub const STREAM: &str = "MPC_ROUNDS";
/// How long a message is kept: longer than any session (a plan expires in a week).
pub const MAX_AGE: Duration = Duration::from_secs(8 * 24 * 3600);
/// The stream's size limit.
pub const MAX_BYTES: i64 = 1 << 30;
/// The largest message: NATS's own default payload limit (an ECDSA aux info message,
/// the largest there is, is about 120 KB compressed).
pub const MAX_MESSAGE: i32 = 1 << 20;
/// The server drops a second copy of a message within this window.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(600);
/// How long to wait after the server could not be reached.
const RETRY: Duration = Duration::from_secs(1);

/// Whether `addr` names a NATS bus.
pub fn is_nats(addr: &str) -> bool {
    addr.starts_with("nats://")
}

/// The subject of a message of `session` for `recipient` (`None`: everyone).
pub fn subject(session: &[u8; 32], recipient: Option<u16>) -> String {
    let to = recipient.map_or_else(|| "all".to_string(), |n| n.to_string());
    format!("mpc.{}.to.{to}", hex::encode(session))
}

/// How many copies a server cluster keeps of the streams and buckets `mpc` makes on the
/// bus at `addr`: three when the address lists three servers or more (a JetStream
/// cluster, which then survives the loss of one), else one.
pub fn replicas(addr: &str) -> usize {
    if servers(addr).map_or(0, |s| s.len()) >= 3 {
        3
    } else {
        1
    }
}

/// The stream's configuration (created if missing, as the first party finds it), with
/// `replicas` copies (see [`replicas`]).
pub fn stream_config(replicas: usize) -> stream::Config {
    stream::Config {
        num_replicas: replicas,
        name: STREAM.into(),
        subjects: vec!["mpc.*.to.*".into()],
        storage: stream::StorageType::File,
        max_age: MAX_AGE,
        max_bytes: MAX_BYTES,
        max_message_size: MAX_MESSAGE,
        duplicate_window: DUPLICATE_WINDOW,
        discard: stream::DiscardPolicy::Old,
        ..Default::default()
    }
}

/// The server list of a `nats://A:P,B:P` address.
fn servers(addr: &str) -> Result<Vec<async_nats::ServerAddr>, String> {
    addr.trim_start_matches("nats://")
        .split(',')
        .map(|hp| {
            format!("nats://{}", hp.trim())
                .parse::<async_nats::ServerAddr>()
                .map_err(|e| format!("`{hp}` is not a NATS server address: {e}"))
        })
        .collect()
}

/// How a party or node signs in to NATS: `--nats-creds FILE` names a NATS credentials
/// file (a user JWT and its NKEY seed, as `nsc` writes) or a file holding just an NKEY
/// user seed (`SU...`, for a server that lists users by NKEY); without it, no
/// credentials (a lab server without authorization).
#[derive(Clone, Debug, Default)]
pub struct Credentials(Option<std::path::PathBuf>);

impl Credentials {
    /// The credentials in `path`, if any; the file is read when connecting.
    pub fn new(path: Option<std::path::PathBuf>) -> Credentials {
        Credentials(path)
    }

    /// The credentials `--nats-creds` gave for the bus `--relay` named: refused beside
    /// an `mpc relay` (they would be ignored), fine with NATS or with no bus.
    pub fn for_bus(
        bus: Option<&str>,
        path: Option<std::path::PathBuf>,
    ) -> Result<Credentials, String> {
        if path.is_some() && bus.is_some_and(|b| !is_nats(b)) {
            return Err("--nats-creds is for a NATS bus (--relay nats://HOST:PORT)".into());
        }
        Ok(Credentials(path))
    }

    /// Connection options that present these credentials.
    async fn options(&self) -> Result<async_nats::ConnectOptions, String> {
        let Some(path) = &self.0 else {
            return Ok(async_nats::ConnectOptions::new());
        };
        let shown = path.display();
        let text = zeroize::Zeroizing::new(
            tokio::fs::read_to_string(path)
                .await
                .map_err(|e| format!("cannot read the NATS credentials {shown}: {e}"))?,
        );
        if text.contains("BEGIN NATS USER JWT") {
            return async_nats::ConnectOptions::with_credentials(&text)
                .map_err(|e| format!("{shown} is not a usable NATS credentials file: {e}"));
        }
        let seed = text.trim();
        if seed.starts_with("SU") && !seed.contains(char::is_whitespace) {
            // The seed stays in zeroizing memory of ours; each sign-in (reconnects too)
            // signs the server's nonce with it. (`with_nkey` would keep a plain copy
            // inside the client for as long as it runs.)
            nkeys::KeyPair::from_seed(seed)
                .map_err(|e| format!("{shown} is not a usable NKEY user seed: {e}"))?;
            let seed = std::sync::Arc::new(zeroize::Zeroizing::new(seed.to_string()));
            return Ok(async_nats::ConnectOptions::with_auth_callback(
                move |nonce: Vec<u8>| {
                    let seed = std::sync::Arc::clone(&seed);
                    async move {
                        let refused = |e: nkeys::error::Error| async_nats::AuthError::new(e);
                        let pair = nkeys::KeyPair::from_seed(&seed).map_err(refused)?;
                        let mut auth = async_nats::Auth::new();
                        auth.signature = Some(pair.sign(&nonce).map_err(refused)?);
                        auth.nkey = Some(pair.public_key());
                        Ok(auth)
                    }
                },
            ));
        }
        Err(format!(
            "{shown} is neither a NATS credentials file nor an NKEY user seed (SU...)"
        ))
    }
}

/// A client connected to the NATS servers of `addr` with `creds`; `name` tells the
/// server who connects (it shows in its monitoring).
pub async fn connect(
    addr: &str,
    creds: &Credentials,
    name: &str,
) -> Result<async_nats::Client, String> {
    let servers = servers(addr)?;
    creds
        .options()
        .await?
        .name(name)
        .connection_timeout(Duration::from_secs(5))
        .request_timeout(Some(Duration::from_secs(5)))
        .connect(servers)
        .await
        .map_err(|e| e.to_string())
}

struct Link {
    js: jetstream::Context,
    consumer: PullConsumer,
}

/// One party's link to the bus for one session. See the module doc.
pub struct NatsCarrier {
    addr: String,
    creds: Credentials,
    session: [u8; 32],
    me: u16,
    rt: tokio::runtime::Runtime,
    link: Option<Link>,
    down: Option<String>,
    retry_at: Instant,
    /// Messages offered and not yet acknowledged, by envelope digest.
    unacked: HashMap<[u8; 32], jetstream::Message>,
    /// Envelopes the server has stored, by digest.
    stored: HashSet<[u8; 32]>,
    /// Envelopes not stored yet, by digest.
    unsent: HashSet<[u8; 32]>,
}

impl NatsCarrier {
    /// A carrier for party `me` of `session` on the bus at `addr` (`nats://...`). It
    /// connects on first use and again whenever the link fails.
    pub fn new(
        addr: &str,
        creds: Credentials,
        session: [u8; 32],
        me: u16,
    ) -> Result<NatsCarrier, String> {
        servers(addr)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the NATS client: {e}"))?;
        Ok(NatsCarrier {
            addr: addr.to_string(),
            creds,
            session,
            me,
            rt,
            link: None,
            down: None,
            retry_at: Instant::now(),
            unacked: HashMap::new(),
            stored: HashSet::new(),
            unsent: HashSet::new(),
        })
    }

    fn durable(&self) -> String {
        format!("p{}-{}", self.me, &hex::encode(self.session)[..32])
    }

    /// The link, made if there is none and the last failure is a second old.
    fn link(&mut self) -> Option<&Link> {
        if self.link.is_none() {
            if self.down.is_some() && Instant::now() < self.retry_at {
                return None;
            }
            let durable = self.durable();
            let filters = vec![
                subject(&self.session, Some(self.me)),
                subject(&self.session, None),
            ];
            let (addr, creds) = (&self.addr, &self.creds);
            let made = self.rt.block_on(async move {
                let client = connect(addr, creds, &durable).await?;
                let js = jetstream::new(client);
                let stream = js
                    .get_or_create_stream(stream_config(replicas(addr)))
                    .await
                    .map_err(|e| e.to_string())?;
                let consumer: PullConsumer = stream
                    .get_or_create_consumer(
                        &durable,
                        jetstream::consumer::pull::Config {
                            durable_name: Some(durable.clone()),
                            filter_subjects: filters,
                            ack_policy: jetstream::consumer::AckPolicy::Explicit,
                            ack_wait: Duration::from_secs(30),
                            inactive_threshold: MAX_AGE,
                            ..Default::default()
                        },
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                Ok::<_, String>(Link { js, consumer })
            });
            match made {
                Ok(l) => {
                    self.link = Some(l);
                    self.down = None;
                }
                Err(e) => self.failed(e),
            }
        }
        self.link.as_ref()
    }

    fn failed(&mut self, reason: String) {
        self.link = None;
        self.down = Some(format!("NATS at {} unreachable: {reason}", self.addr));
        self.retry_at = Instant::now() + RETRY;
    }
}

impl Carrier for NatsCarrier {
    fn incoming(&mut self, _session: &[u8; 32], _me: u16) -> Result<Vec<Incoming>, CarrierError> {
        let Some(link) = self.link() else {
            return Ok(Vec::new());
        };
        let consumer = link.consumer.clone();
        let fetched = self.rt.block_on(async move {
            let mut batch = consumer
                .fetch()
                .max_messages(256)
                .expires(Duration::from_millis(200))
                .messages()
                .await
                .map_err(|e| e.to_string())?;
            let mut out = Vec::new();
            while let Some(m) = batch.next().await {
                out.push(m.map_err(|e| e.to_string())?);
            }
            Ok::<_, String>(out)
        });
        let messages = match fetched {
            Ok(m) => m,
            Err(e) => {
                self.failed(e);
                return Ok(Vec::new());
            }
        };
        let origin = format!("a message from NATS at {}", self.addr);
        let mut out = Vec::new();
        for m in messages {
            let bytes = m.payload.to_vec();
            let digest: [u8; 32] = Sha256::digest(&bytes).into();
            // A redelivery of one still being handled is offered once.
            if self.unacked.insert(digest, m).is_none() {
                out.push(Incoming::download(origin.clone(), bytes));
            }
        }
        Ok(out)
    }

    fn handled(&mut self, incoming: &Incoming) {
        let Ok(bytes) = &incoming.bytes else { return };
        let digest: [u8; 32] = Sha256::digest(bytes).into();
        if let Some(m) = self.unacked.remove(&digest) {
            // An acknowledgement that does not arrive means one more delivery, which
            // admission takes as a duplicate.
            let _ = self.rt.block_on(m.double_ack());
        }
    }

    fn deliver(&mut self, envelope: &Envelope) -> Result<(), CarrierError> {
        let bytes = envelope.as_bytes().to_vec();
        let digest: [u8; 32] = Sha256::digest(&bytes).into();
        if self.stored.contains(&digest) {
            return Ok(());
        }
        if bytes.len() > MAX_MESSAGE as usize {
            return Err(CarrierError::Refused(format!(
                "a message of {} bytes is over the bus's limit of {MAX_MESSAGE}",
                bytes.len()
            )));
        }
        let Some(link) = self.link() else {
            self.unsent.insert(digest);
            return Ok(());
        };
        let js = link.js.clone();
        let subject = subject(&self.session, envelope.header.recipient());
        let sent = self.rt.block_on(async move {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", hex::encode(digest).as_str());
            js.publish_with_headers(subject, headers, bytes.into())
                .await
                .map_err(|e| e.to_string())?
                .await
                .map_err(|e| e.to_string())
        });
        match sent {
            Ok(_) => {
                self.unsent.remove(&digest);
                self.stored.insert(digest);
            }
            Err(e) => {
                self.unsent.insert(digest);
                self.failed(e);
            }
        }
        Ok(())
    }

    fn trouble(&self) -> Option<String> {
        self.down.clone().or_else(|| {
            (!self.unsent.is_empty()).then(|| "some messages are not on the bus yet".to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Which file is which: a credentials file (JWT and seed, as `nsc` writes it), an
    /// NKEY user seed, and files that are neither, named in the error. (The tests
    /// against a server sign in with seeds; `nsc`'s JWTs need an operator setup.)
    #[test]
    fn credentials_are_a_creds_file_or_a_seed_and_anything_else_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let seed = nkeys::KeyPair::new_user().seed().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let read = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            rt.block_on(Credentials::new(Some(path)).options())
                .map(|_| ())
        };
        let creds = format!(
            "-----BEGIN NATS USER JWT-----\neyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.c2ln\n------END NATS USER JWT------\n\n\
             ************************* IMPORTANT *************************\n\n\
             -----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n"
        );
        read("user.creds", &creds).unwrap();
        read("user.seed", &format!("{seed}\n")).unwrap();
        let no_seed = creds.replace(&seed, "");
        let e = read("broken.creds", &no_seed).unwrap_err();
        assert!(
            e.contains("broken.creds is not a usable NATS credentials file"),
            "{e}"
        );
        let e = read("hello.txt", "hello").unwrap_err();
        assert!(e.contains("hello.txt is neither"), "{e}");
        let e = rt
            .block_on(Credentials::new(Some(dir.path().join("missing"))).options())
            .map(|_| ())
            .unwrap_err();
        assert!(e.contains("cannot read the NATS credentials"), "{e}");
        assert!(rt.block_on(Credentials::default().options()).is_ok());
    }

    #[test]
    fn addresses_and_subjects() {
        assert!(is_nats("nats://127.0.0.1:4222"));
        assert!(!is_nats("127.0.0.1:7000"));
        assert_eq!(servers("nats://a:1,b:2").unwrap().len(), 2);
        let s = [7u8; 32];
        assert_eq!(subject(&s, Some(3)), format!("mpc.{}.to.3", hex::encode(s)));
        assert_eq!(subject(&s, None), format!("mpc.{}.to.all", hex::encode(s)));
    }
}
