//! A serve node's link to the bus (the relay in node mode, see `relay::node`): one
//! connection, authenticated once, carrying every session's messages, pushed as they
//! arrive. A background thread keeps it connected and hands each pushed payload to the
//! node; when the link drops it reconnects (with backoff) and bumps
//! [`Bus::generation`], so carriers send again what the relay may have lost.

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

/// The link.
pub struct Bus {
    addr: String,
    writer: Mutex<Option<TcpStream>>,
    connected: AtomicBool,
    generation: AtomicU64,
    trouble: Mutex<Option<String>>,
    stopped: AtomicBool,
}

impl Bus {
    /// Connects to the relay at `addr` as `identity`, in the background, and keeps the
    /// link up until [`Bus::stop`].
    pub fn start(addr: &str, identity: Arc<Identity>, on_push: OnPush) -> Arc<Bus> {
        let bus = Arc::new(Bus {
            addr: addr.to_string(),
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

    /// The relay's address.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Whether the link is up now.
    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }

    /// Counts connections made; changes when the link was re-made.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Why the link is down, while it is.
    pub fn trouble(&self) -> Option<String> {
        self.trouble
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Closes the link for good.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        if let Some(s) = self.writer().take() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, Option<TcpStream>> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends `payload` to the nodes with keys `to`. `ephemeral`: the relay drops it for
    /// a node that is not connected.
    pub fn post(&self, to: &[[u8; 32]], payload: &[u8], ephemeral: bool) -> Result<(), String> {
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
                    *self.trouble.lock().unwrap_or_else(|p| p.into_inner()) = None;
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
                    *self.trouble.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
                }
                Err(why) => {
                    *self.trouble.lock().unwrap_or_else(|p| p.into_inner()) =
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
