//! Node mode: the relay as the bus of a serve cluster.
//!
//! A node authenticates once with its identity key and keeps one connection open for
//! all its sessions. Each `Post` names its recipients by key; the relay writes the
//! payload to each recipient's connection at once (a `Push`, no polling), or holds it a
//! short while ([`HOLD`], at most `max_messages` per recipient) for a node that is not
//! connected, and hands it over when that node connects. A newer connection of the same
//! node replaces the older one. Payloads are signed by their senders (envelopes, or
//! node messages) and checked by the recipients; the relay only routes.

use super::{Relay, refuse, wire};
use ed25519_dalek::{Signature, VerifyingKey};
use std::collections::{HashMap, VecDeque};
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
    ) -> Result<(), String> {
        let key = match node_key(nonce, &first) {
            Ok(k) => k,
            Err(reason) => {
                refuse(&mut s, &reason);
                return Err(format!("not authenticated: {reason}"));
            }
        };
        let name = hex::encode(&key[..8]);
        wire::write_json(&mut s, Kind::Ok, &serde_json::json!({"node": name}))
            .map_err(|e| e.to_string())?;
        let writer = Arc::new(Mutex::new(s.try_clone().map_err(|e| e.to_string())?));
        let serial = {
            let mut t = self.nodes();
            t.next_serial += 1;
            let serial = t.next_serial;
            t.links.insert(
                key,
                Link {
                    serial,
                    writer: Arc::clone(&writer),
                },
            );
            serial
        };
        self.event("auth", Some(addr), None, format!("node {name} connected"));
        // What was held for this node while it was away.
        let held: Vec<Arc<[u8]>> = self
            .nodes()
            .held
            .remove(&key)
            .unwrap_or_default()
            .into_iter()
            .filter(|(at, _)| at.elapsed() < HOLD)
            .map(|(_, p)| p)
            .collect();
        for p in held {
            write_locked(&writer, &p)?;
        }
        s.set_read_timeout(Some(self.limits.idle))
            .map_err(|e| e.to_string())?;
        let result = self.node_loop(&mut s, &key);
        let mut t = self.nodes();
        if t.links.get(&key).is_some_and(|l| l.serial == serial) {
            t.links.remove(&key);
        }
        result
    }

    fn node_loop(&self, s: &mut TcpStream, key: &[u8; 32]) -> Result<(), String> {
        loop {
            let frame = match wire::read_frame(s, self.limits.max_message + 2 + 32 * 255) {
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
            let mut t = self.nodes();
            if t.links.get(to).is_some_and(|l| l.serial == serial) {
                t.links.remove(to);
            }
        }
        if ephemeral {
            return;
        }
        let mut t = self.nodes();
        let q = t.held.entry(*to).or_default();
        while q.front().is_some_and(|(at, _)| at.elapsed() >= HOLD)
            || q.len() >= self.limits.max_messages
        {
            q.pop_front();
        }
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
