//! Node mode: the relay as the bus of a serve cluster.
//!
//! A node authenticates once with its identity key and keeps one connection open for
//! all its sessions. Each `Post` names its recipients by key; the relay writes the
//! payload to each recipient's connection at once (a `Push`, no polling), or holds it a
//! short while ([`HOLD`], at most `max_messages` per recipient, and in all at most 64
//! times the largest message) for a node that is not connected but has been since the
//! relay started, and hands it over when that node connects. A newer connection of the same
//! node replaces the older one. Payloads are signed by their senders (envelopes, or
//! node messages) and checked by the recipients; the relay only routes.

use super::{Relay, refuse, wire};
use ed25519_dalek::{Signature, VerifyingKey};
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wire::{FrameError, Kind};

/// How long the relay holds a payload for a node that is not connected.
pub const HOLD: Duration = Duration::from_secs(60);

/// Payloads held for one node, oldest first, with when each arrived.
type Held = VecDeque<(Instant, Arc<[u8]>)>;

/// Connected nodes and what is held for the others.
#[derive(Default)]
pub(super) struct NodeTable {
    links: HashMap<[u8; 32], Link>,
    held: HashMap<[u8; 32], Held>,
    /// Bytes in `held`.
    held_bytes: usize,
    /// Nodes that authenticated since the relay started: only they are held for, so
    /// naming random recipients holds nothing.
    known: HashSet<[u8; 32]>,
    next_serial: u64,
}

struct Link {
    serial: u64,
    writer: Arc<Mutex<TcpStream>>,
}

impl Relay {
    fn nodes(&self) -> std::sync::MutexGuard<'_, NodeTable> {
        self.nodes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One node's connection, after its `NodeAuth` frame.
    pub(super) fn serve_node(
        &self,
        mut s: TcpStream,
        addr: &str,
        nonce: &[u8; 32],
        first: wire::Frame,
        admit: impl FnOnce(&Relay, &[u8; 32]) -> Result<(), String>,
    ) -> Result<(), String> {
        let key = match node_key(nonce, &first).and_then(|k| admit(self, &k).map(|()| k)) {
            Ok(k) => k,
            Err(reason) => {
                refuse(&mut s, &reason);
                return Err(format!("not authenticated: {reason}"));
            }
        };
        let name = hex::encode(&key[..8]);
        let writer = Arc::new(Mutex::new(s.try_clone().map_err(|e| e.to_string())?));
        // The node is told it is connected only once it is listed, so nothing sent to
        // it from then on is lost; the Ok goes out under its writer's lock, taken before
        // it is listed, so no push comes before the Ok.
        let serial = {
            let mut w = writer.lock().unwrap_or_else(|p| p.into_inner());
            let serial = {
                let mut t = self.nodes();
                t.next_serial += 1;
                let serial = t.next_serial;
                t.known.insert(key);
                t.links.insert(
                    key,
                    Link {
                        serial,
                        writer: Arc::clone(&writer),
                    },
                );
                serial
            };
            if let Err(e) = wire::write_json(&mut *w, Kind::Ok, &serde_json::json!({"node": name}))
            {
                self.unlist(&key, serial);
                return Err(e.to_string());
            }
            serial
        };
        self.event("auth", Some(addr), None, format!("node {name} connected"));
        // What was held for this node while it was away.
        let held: Vec<Arc<[u8]>> = {
            let mut t = self.nodes();
            let q = t.held.remove(&key).unwrap_or_default();
            t.held_bytes -= q.iter().map(|(_, p)| p.len()).sum::<usize>();
            q.into_iter()
                .filter(|(at, _)| at.elapsed() < HOLD)
                .map(|(_, p)| p)
                .collect()
        };
        for p in held {
            write_locked(&writer, &p)?;
        }
        s.set_read_timeout(Some(self.limits.idle))
            .map_err(|e| e.to_string())?;
        let result = self.node_loop(&mut s, &key);
        self.unlist(&key, serial);
        result
    }

    /// Removes the link of `key` numbered `serial` from the table (not a newer one).
    fn unlist(&self, key: &[u8; 32], serial: u64) {
        let mut t = self.nodes();
        if t.links.get(key).is_some_and(|l| l.serial == serial) {
            t.links.remove(key);
        }
    }

    fn node_loop(&self, s: &mut TcpStream, key: &[u8; 32]) -> Result<(), String> {
        // Buffered: a frame is one read (or none, when it came with the one before),
        // not three.
        let mut frames =
            std::io::BufReader::with_capacity(64 * 1024, s.try_clone().map_err(|e| e.to_string())?);
        loop {
            let frame = match wire::read_frame(&mut frames, self.limits.max_message + 2 + 32 * 255)
            {
                Ok(f) => f,
                Err(FrameError::Closed) => return Ok(()),
                Err(FrameError::Io(e)) => return Err(format!("read failed: {e}")),
                Err(e) => {
                    refuse(s, &e.to_string());
                    return Err(e.to_string());
                }
            };
            if frame.kind != Kind::Post {
                let reason = format!("a {:?} frame is not a node request", frame.kind);
                refuse(s, &reason);
                return Err(reason);
            }
            let Some(wire::Post { flags, to, payload }) = wire::parse_post(&frame.body) else {
                refuse(s, "a malformed Post frame");
                return Err("a malformed Post frame".into());
            };
            if payload.len() > self.limits.max_message {
                refuse(s, "the payload is over the relay's limit");
                return Err("the payload is over the relay's limit".into());
            }
            let mut push = Vec::with_capacity(32 + payload.len());
            push.extend_from_slice(key);
            push.extend_from_slice(payload);
            let push: Arc<[u8]> = push.into();
            for r in to.iter().filter(|r| *r != key) {
                self.forward(r, &push, flags & wire::POST_EPHEMERAL != 0);
            }
        }
    }

    /// Pushes to `to` now, or holds the payload for it.
    fn forward(&self, to: &[u8; 32], push: &Arc<[u8]>, ephemeral: bool) {
        let link = self
            .nodes()
            .links
            .get(to)
            .map(|l| (l.serial, Arc::clone(&l.writer)));
        if let Some((serial, writer)) = link {
            if write_locked(&writer, push).is_ok() {
                return;
            }
            self.unlist(to, serial);
        }
        if ephemeral {
            return;
        }
        let mut t = self.nodes();
        if !t.known.contains(to) {
            return;
        }
        let cap = self.limits.max_message.saturating_mul(64);
        let t = &mut *t;
        let q = t.held.entry(*to).or_default();
        while q.front().is_some_and(|(at, _)| at.elapsed() >= HOLD)
            || q.len() >= self.limits.max_messages
        {
            if let Some((_, p)) = q.pop_front() {
                t.held_bytes -= p.len();
            }
        }
        if t.held_bytes + push.len() > cap {
            return;
        }
        t.held_bytes += push.len();
        q.push_back((Instant::now(), Arc::clone(push)));
    }

    /// Nodes connected now, by key.
    pub fn connected_nodes(&self) -> Vec<[u8; 32]> {
        self.nodes().links.keys().copied().collect()
    }
}

fn write_locked(writer: &Mutex<TcpStream>, push: &[u8]) -> Result<(), String> {
    let mut w = writer.lock().unwrap_or_else(|p| p.into_inner());
    wire::write_frame(&mut *w, Kind::Push, push).map_err(|e| e.to_string())
}

/// Checks `NodeAuth` and returns the node's key.
fn node_key(nonce: &[u8; 32], first: &wire::Frame) -> Result<[u8; 32], String> {
    let auth: wire::NodeAuth = first.json().map_err(|e| e.to_string())?;
    let key: [u8; 32] = wire::hex_array(&auth.key).ok_or("the key is not 32 bytes of hex")?;
    let vk = VerifyingKey::from_bytes(&key).map_err(|_| "the key is not an Ed25519 key")?;
    let sig: [u8; 64] =
        wire::hex_array(&auth.signature).ok_or("the signature is not 64 bytes of hex")?;
    vk.verify_strict(
        &wire::node_auth_message(nonce, &key),
        &Signature::from_bytes(&sig),
    )
    .map_err(|_| "the signature does not verify with the node's key")?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::super::{Limits, Relay};
    use super::wire::{self, Kind};
    use crate::identity::Identity;
    use std::net::{TcpListener, TcpStream};
    use std::sync::Arc;
    use std::time::Duration;

    fn start() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let relay = Relay::new(Limits::default(), |_| {});
        let r = Arc::clone(&relay);
        std::thread::spawn(move || r.serve(listener));
        addr
    }

    /// A node's link, authenticated as `id`.
    fn link(addr: &str, id: &Identity) -> TcpStream {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let c: wire::Challenge = wire::read_frame(&mut s, wire::MAX_CONTROL)
            .unwrap()
            .json()
            .unwrap();
        let nonce: [u8; 32] = wire::hex_array(&c.nonce).unwrap();
        let key = id.card().verifying_key().unwrap().to_bytes();
        let auth = wire::NodeAuth {
            key: hex::encode(key),
            signature: hex::encode(id.sign(&wire::node_auth_message(&nonce, &key))),
        };
        wire::write_json(&mut s, Kind::NodeAuth, &auth).unwrap();
        assert_eq!(
            wire::read_frame(&mut s, wire::MAX_CONTROL).unwrap().kind,
            Kind::Ok
        );
        s
    }

    fn key(id: &Identity) -> [u8; 32] {
        id.card().verifying_key().unwrap().to_bytes()
    }

    fn post(s: &mut TcpStream, flags: u8, to: &[[u8; 32]], payload: &[u8]) {
        wire::write_frame(s, Kind::Post, &wire::post_body(flags, to, payload)).unwrap();
    }

    /// The next push: (sender, payload), or `None` within `wait`.
    fn next(s: &mut TcpStream, wait: Duration) -> Option<([u8; 32], Vec<u8>)> {
        s.set_read_timeout(Some(wait)).unwrap();
        let f = wire::read_frame(s, 1 << 20).ok()?;
        assert_eq!(f.kind, Kind::Push);
        Some((f.body[..32].try_into().unwrap(), f.body[32..].to_vec()))
    }

    #[test]
    fn node_links_push_at_once_and_hold_only_for_known_nodes() {
        let addr = start();
        let (a, b, stranger) = (
            Identity::generate("a"),
            Identity::generate("b"),
            Identity::generate("x"),
        );
        let mut la = link(&addr, &a);
        let mut lb = link(&addr, &b);
        // Pushed at once, naming the authenticated sender.
        post(&mut la, 0, &[key(&b)], b"one");
        assert_eq!(
            next(&mut lb, Duration::from_secs(5)),
            Some((key(&a), b"one".to_vec()))
        );
        // b goes away: a held payload reaches it when it is back; an ephemeral one does not.
        drop(lb);
        std::thread::sleep(Duration::from_millis(200));
        post(&mut la, wire::POST_EPHEMERAL, &[key(&b)], b"beat");
        post(&mut la, 0, &[key(&b)], b"two");
        std::thread::sleep(Duration::from_millis(200));
        let mut lb = link(&addr, &b);
        assert_eq!(
            next(&mut lb, Duration::from_secs(5)),
            Some((key(&a), b"two".to_vec()))
        );
        assert_eq!(next(&mut lb, Duration::from_millis(300)), None);
        // Nothing is held for a key that never connected.
        post(&mut la, 0, &[key(&stranger)], b"lost");
        std::thread::sleep(Duration::from_millis(200));
        let mut ls = link(&addr, &stranger);
        assert_eq!(next(&mut ls, Duration::from_millis(300)), None);
        // A wrong signature is refused.
        let mut s = TcpStream::connect(&addr).unwrap();
        let _challenge = wire::read_frame(&mut s, wire::MAX_CONTROL).unwrap();
        let auth = wire::NodeAuth {
            key: hex::encode(key(&a)),
            signature: hex::encode(b.sign(b"not the challenge")),
        };
        wire::write_json(&mut s, Kind::NodeAuth, &auth).unwrap();
        assert_eq!(
            wire::read_frame(&mut s, wire::MAX_CONTROL).unwrap().kind,
            Kind::Error
        );
    }
}
