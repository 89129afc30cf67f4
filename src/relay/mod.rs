//! The relay server (`mpc relay`): an untrusted store-and-forward mailbox for round
//! messages between networked machines.
//!
//! What it keeps and why it need not be trusted:
//! - It only ever holds envelopes: signed by their senders, with private payloads
//!   encrypted to their recipients. It cannot read a private payload or forge a message;
//!   parties check every message they download exactly as they check files (session,
//!   plan membership, signature, recipient, round), so a relay that replays an old or
//!   foreign message gets it rejected. It can drop or delay messages, which parties see
//!   as waiting.
//! - A client proves it holds a party's identity key by signing a fresh nonce
//!   ([`wire::auth_message`]), bound to the session and its member list. The first party
//!   to connect fixes the session's member list; later parties must present the same
//!   list. A client may only store envelopes it signed itself for that session, and only
//!   fetches what is broadcast or addressed to it.
//! - Limits bound what a client can make it hold: the size of one envelope, envelopes
//!   per session, sessions, connections, and each session's lifetime, after which it is
//!   removed. Malformed frames, oversize frames, idle clients and clients that disconnect
//!   in the middle of a frame cost one connection, never the relay.
//! - Everything is in memory. A restarted relay is empty: parties reconnect, see the new
//!   relay id, and upload everything they have sent again, so a ceremony whose parties
//!   are still running finishes.
//! - Serve nodes use node mode ([`node`]): one authenticated connection per node for
//!   all its sessions, with payloads pushed to their recipients as they arrive.

pub use crate::transport::wire;

mod node;

use crate::envelope::Envelope;
use ed25519_dalek::{Signature, VerifyingKey};
use rand::RngCore;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use wire::{FrameError, Kind};

/// How long a client has to authenticate after connecting.
const AUTH_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a write to a client may block.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// The most parties a session may list.
const MAX_MEMBERS: usize = 255;
/// Connections let in past `max_connections`, with a member list, to let members'
/// nodes authenticate.
const RESERVE: usize = 32;
/// How long a connection let in on the reserve has to authenticate.
const RESERVE_AUTH_TIMEOUT: Duration = Duration::from_secs(2);

/// What a connection counts against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    /// One of `max_connections`.
    Counted,
    /// One of the [`RESERVE`] kept for members' nodes.
    Reserve,
    /// A member's node, authenticated: nothing.
    Member,
    /// None was free.
    Full,
}

/// What the relay accepts.
#[derive(Clone, Debug)]
pub struct Limits {
    /// The largest envelope, bytes.
    pub max_message: usize,
    /// Envelopes one session may hold.
    pub max_messages: usize,
    /// How long a session lives after its first party connects.
    pub lifetime: Duration,
    /// Sessions held at once.
    pub max_sessions: usize,
    /// Connections open at once.
    pub max_connections: usize,
    /// A connection with nothing to say for this long is closed.
    pub idle: Duration,
    /// Connections at once from one client address (a member node's link, once
    /// authenticated, is not counted).
    pub per_address: usize,
    /// Node mode: the keys of the cluster's members, the only nodes admitted
    /// (`--cluster`); `None` admits any node key.
    pub members: Option<Arc<HashSet<[u8; 32]>>>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message: 2 << 20,
            max_messages: 2000,
            lifetime: Duration::from_secs(24 * 3600),
            max_sessions: 1000,
            max_connections: 256,
            idle: Duration::from_secs(300),
            per_address: 32,
            members: None,
        }
    }
}

/// Something the relay did, for its log. Never holds message contents.
#[derive(Clone, Debug, Serialize)]
pub struct Event {
    /// `listening`, `auth`, `stored`, `refused`, `closed`, `expired`.
    pub event: &'static str,
    /// The client's address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    /// The session id, first 16 hex digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The party's plan index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party: Option<u16>,
    /// What happened.
    pub detail: String,
}

struct Mailbox {
    members: Vec<[u8; 32]>,
    created: Instant,
    /// In arrival order; a message's sequence number is its position plus one.
    messages: Vec<Held>,
    digests: HashSet<[u8; 32]>,
    /// Expired, and its messages deleted.
    emptied: bool,
}

struct Held {
    sender: u16,
    recipient: u16,
    bytes: Arc<[u8]>,
}

/// Who a connection authenticated as.
struct Peer {
    addr: String,
    session: [u8; 32],
    party: u16,
    members: Vec<[u8; 32]>,
}

/// The relay.
pub struct Relay {
    id: [u8; 16],
    limits: Limits,
    boxes: Mutex<HashMap<[u8; 32], Mailbox>>,
    connections: AtomicUsize,
    /// Connections per client address (member links excepted).
    per_address: Mutex<HashMap<std::net::IpAddr, usize>>,
    /// Connections let in past `max_connections` to let a member's node authenticate.
    reserve: AtomicUsize,
    /// Serve nodes' links (node mode).
    nodes: Mutex<node::NodeTable>,
    log: Box<dyn Fn(&Event) + Send + Sync>,
}

impl Relay {
    /// A new, empty relay with a fresh random id; `log` receives its events.
    pub fn new(limits: Limits, log: impl Fn(&Event) + Send + Sync + 'static) -> Arc<Relay> {
        let mut id = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut id);
        Arc::new(Relay {
            id,
            limits,
            boxes: Mutex::new(HashMap::new()),
            connections: AtomicUsize::new(0),
            per_address: Mutex::new(HashMap::new()),
            reserve: AtomicUsize::new(0),
            nodes: Mutex::new(node::NodeTable::default()),
            log: Box::new(log),
        })
    }

    /// This relay process's id, hex.
    pub fn id(&self) -> String {
        hex::encode(self.id)
    }

    /// Serves clients on `listener` until the process ends. Each client gets a thread;
    /// a thread that fails takes only its own connection with it.
    pub fn serve(self: &Arc<Self>, listener: TcpListener) -> io::Result<()> {
        let addr = listener.local_addr()?;
        self.event("listening", None, None, format!("{addr}"));
        let janitor = Arc::clone(self);
        let every =
            (self.limits.lifetime / 4).clamp(Duration::from_millis(100), Duration::from_secs(60));
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(every);
                janitor.expire();
            }
        });
        for stream in listener.incoming() {
            let stream = match stream {
                Ok(s) => s,
                Err(e) => {
                    self.event("refused", None, None, format!("accept failed: {e}"));
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
            };
            let peer_addr = stream.peer_addr().ok();
            let peer = peer_addr.map_or_else(|| "?".to_string(), |a: SocketAddr| a.to_string());
            let ip = peer_addr.map(|a| a.ip());
            let refuse_with = |stream: TcpStream, why: &str| {
                let mut s = stream;
                let _ = s.set_write_timeout(Some(Duration::from_secs(1)));
                refuse(&mut s, &format!("{why}; try again later"));
                self.event("refused", Some(&peer), None, why.into());
            };
            let Some(slot) = self.admit(ip) else {
                refuse_with(stream, "too many connections from this address");
                continue;
            };
            if slot == Slot::Full {
                refuse_with(stream, "the relay has too many connections");
                continue;
            }
            let relay = Arc::clone(self);
            let spawned = std::thread::Builder::new().spawn(move || {
                let mut slot = slot;
                let result = relay.handle(stream, &peer, ip, &mut slot);
                relay.release(ip, slot);
                let detail = match result {
                    Ok(()) => "disconnected".to_string(),
                    Err(reason) => reason,
                };
                relay.event("closed", Some(&peer), None, detail);
            });
            if let Err(e) = spawned {
                // The machine is out of threads: turn this client away, keep serving.
                self.release(ip, slot);
                self.event("refused", None, None, format!("cannot start a thread: {e}"));
            }
        }
        Ok(())
    }

    /// Counts a new connection from `ip`: `None` over the address's cap; else the slot
    /// it takes (`Full` when there is none).
    fn admit(&self, ip: Option<std::net::IpAddr>) -> Option<Slot> {
        if let Some(ip) = ip {
            let mut per = self.per_address.lock().unwrap_or_else(|p| p.into_inner());
            let n = per.entry(ip).or_insert(0);
            if *n >= self.limits.per_address {
                return None;
            }
            *n += 1;
        }
        let slot = if self.connections.fetch_add(1, Ordering::SeqCst) < self.limits.max_connections
        {
            Slot::Counted
        } else {
            self.connections.fetch_sub(1, Ordering::SeqCst);
            // Full: with a member list, a few more may come in to authenticate as a
            // member's node (only that), so strangers holding every slot never keep a
            // member out.
            if self.limits.members.is_some()
                && self.reserve.fetch_add(1, Ordering::SeqCst) < RESERVE
            {
                Slot::Reserve
            } else {
                if self.limits.members.is_some() {
                    self.reserve.fetch_sub(1, Ordering::SeqCst);
                }
                Slot::Full
            }
        };
        if slot == Slot::Full {
            self.release(ip, Slot::Full);
        }
        Some(slot)
    }

    /// Gives back what [`Relay::admit`] counted.
    fn release(&self, ip: Option<std::net::IpAddr>, slot: Slot) {
        match slot {
            Slot::Counted => {
                self.connections.fetch_sub(1, Ordering::SeqCst);
            }
            Slot::Reserve => {
                self.reserve.fetch_sub(1, Ordering::SeqCst);
            }
            Slot::Member => return,
            Slot::Full => {}
        }
        if let Some(ip) = ip {
            let mut per = self.per_address.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(n) = per.get_mut(&ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    per.remove(&ip);
                }
            }
        }
    }

    /// A member's node authenticated on a connection counted in `slot`: from now on
    /// it takes no slot and does not count against its address.
    fn as_member(&self, ip: Option<std::net::IpAddr>, slot: &mut Slot) {
        self.release(ip, *slot);
        *slot = Slot::Member;
    }

    /// Empties every session older than its lifetime and returns how many it emptied.
    /// An expired session is remembered (without its messages) for one more lifetime,
    /// so parties that reconnect are told it expired instead of finding a fresh, empty
    /// mailbox under the same id.
    pub fn expire(&self) -> usize {
        let lifetime = self.limits.lifetime;
        let mut boxes = self.boxes();
        boxes.retain(|_, b| b.created.elapsed() < lifetime.saturating_mul(2));
        let mut gone = Vec::new();
        for (session, b) in boxes.iter_mut() {
            if b.created.elapsed() >= lifetime && !b.emptied {
                b.messages = Vec::new();
                b.digests = HashSet::new();
                b.emptied = true;
                gone.push(*session);
            }
        }
        drop(boxes);
        for s in &gone {
            self.event(
                "expired",
                None,
                Some(s),
                "session expired; its messages are deleted".into(),
            );
        }
        gone.len()
    }

    fn boxes(&self) -> MutexGuard<'_, HashMap<[u8; 32], Mailbox>> {
        // A panicking connection thread must not take the relay down with it.
        self.boxes.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn event(
        &self,
        event: &'static str,
        peer: Option<&str>,
        session: Option<&[u8; 32]>,
        detail: String,
    ) {
        (self.log)(&Event {
            event,
            peer: peer.map(str::to_string),
            session: session.map(|s| hex::encode(&s[..8])),
            party: None,
            detail,
        });
    }

    fn party_event(&self, event: &'static str, p: &Peer, detail: String) {
        (self.log)(&Event {
            event,
            peer: Some(p.addr.clone()),
            session: Some(hex::encode(&p.session[..8])),
            party: Some(p.party),
            detail,
        });
    }

    /// One connection: challenge, authenticate, then serve `Put` and `Fetch` frames.
    fn handle(
        &self,
        mut s: TcpStream,
        addr: &str,
        ip: Option<std::net::IpAddr>,
        slot: &mut Slot,
    ) -> Result<(), String> {
        let _ = s.set_nodelay(true);
        let reserved = *slot == Slot::Reserve;
        s.set_read_timeout(Some(if reserved {
            RESERVE_AUTH_TIMEOUT
        } else {
            AUTH_TIMEOUT
        }))
        .map_err(|e| e.to_string())?;
        s.set_write_timeout(Some(WRITE_TIMEOUT))
            .map_err(|e| e.to_string())?;
        let mut nonce = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let challenge = wire::Challenge {
            v: wire::VERSION,
            relay: self.id(),
            nonce: hex::encode(nonce),
            max_message: Some(self.limits.max_message as u64),
        };
        wire::write_json(&mut s, Kind::Challenge, &challenge).map_err(|e| e.to_string())?;
        let first = match wire::read_frame(&mut s, wire::MAX_CONTROL) {
            Ok(f) => f,
            Err(e) => {
                refuse(&mut s, &e.to_string());
                return Err(format!("not authenticated: {e}"));
            }
        };
        if first.kind == Kind::NodeAuth {
            return self.serve_node(s, addr, &nonce, first, |relay, key| {
                let member = relay.limits.members.as_ref().map(|m| m.contains(key));
                match member {
                    Some(false) => Err("this node is not a member of the relay's cluster".into()),
                    Some(true) => {
                        relay.as_member(ip, slot);
                        Ok(())
                    }
                    None if reserved => Err("the relay has too many connections".into()),
                    None => Ok(()),
                }
            });
        }
        if reserved {
            refuse(
                &mut s,
                "the relay has too many connections; try again later",
            );
            return Err("over the connection limit and not a member's node".into());
        }
        let peer = match self.authenticate(&mut s, addr, &nonce, first) {
            Ok(p) => p,
            Err(reason) => {
                refuse(&mut s, &reason);
                return Err(format!("not authenticated: {reason}"));
            }
        };
        s.set_read_timeout(Some(self.limits.idle))
            .map_err(|e| e.to_string())?;
        loop {
            let frame = match wire::read_frame(&mut s, self.limits.max_message) {
                Ok(f) => f,
                Err(FrameError::Closed) => return Ok(()),
                Err(FrameError::Io(e)) => return Err(format!("read failed: {e}")),
                Err(e) => {
                    refuse(&mut s, &e.to_string());
                    self.party_event("refused", &peer, e.to_string());
                    return Err(e.to_string());
                }
            };
            match frame.kind {
                Kind::Put => match self.put(&peer, &frame.body) {
                    Ok(new) => {
                        wire::write_json(&mut s, Kind::Ok, &wire::Stored { new })
                            .map_err(|e| e.to_string())?;
                    }
                    Err(reason) => {
                        self.party_event("refused", &peer, reason.clone());
                        wire::write_json(&mut s, Kind::Error, &wire::Refusal { error: reason })
                            .map_err(|e| e.to_string())?;
                    }
                },
                Kind::Fetch => {
                    let fetch: wire::Fetch = match frame.json() {
                        Ok(f) => f,
                        Err(e) => {
                            refuse(&mut s, &e.to_string());
                            return Err(e.to_string());
                        }
                    };
                    let (waiting, next) = match self.fetch(&peer, fetch.after) {
                        Ok(w) => w,
                        Err(reason) => {
                            refuse(&mut s, &reason);
                            return Err(reason);
                        }
                    };
                    for (seq, bytes) in waiting {
                        let mut body = Vec::with_capacity(8 + bytes.len());
                        body.extend_from_slice(&seq.to_be_bytes());
                        body.extend_from_slice(&bytes);
                        wire::write_frame(&mut s, Kind::Msg, &body).map_err(|e| e.to_string())?;
                    }
                    wire::write_json(&mut s, Kind::End, &wire::End { next })
                        .map_err(|e| e.to_string())?;
                }
                other => {
                    let reason = format!("a {other:?} frame is not a request");
                    refuse(&mut s, &reason);
                    return Err(reason);
                }
            }
        }
    }

    /// Reads and checks `Auth`, and opens or joins the session's mailbox.
    fn authenticate(
        &self,
        s: &mut TcpStream,
        addr: &str,
        nonce: &[u8; 32],
        first: wire::Frame,
    ) -> Result<Peer, String> {
        let auth: wire::Auth =
            first
                .expect(Kind::Auth)
                .and_then(|f| f.json())
                .map_err(|e| match e {
                    FrameError::Unexpected { .. } => "authenticate first".to_string(),
                    e => e.to_string(),
                })?;
        let session: [u8; 32] =
            wire::hex_array(&auth.session).ok_or("the session id is not 32 bytes of hex")?;
        if auth.members.len() < 2 || auth.members.len() > MAX_MEMBERS {
            return Err(format!("a session has 2 to {MAX_MEMBERS} members"));
        }
        let members: Vec<[u8; 32]> = auth
            .members
            .iter()
            .map(|m| wire::hex_array(m).ok_or("a member key is not 32 bytes of hex"))
            .collect::<Result<_, _>>()?;
        let own = members
            .get(usize::from(auth.party).wrapping_sub(1))
            .ok_or("the party index is not in the member list")?;
        let key =
            VerifyingKey::from_bytes(own).map_err(|_| "the party's key is not an Ed25519 key")?;
        let sig: [u8; 64] =
            wire::hex_array(&auth.signature).ok_or("the signature is not 64 bytes of hex")?;
        key.verify_strict(
            &wire::auth_message(nonce, &session, auth.party, &members),
            &Signature::from_bytes(&sig),
        )
        .map_err(|_| "the signature does not verify with the party's key")?;
        let peer = Peer {
            addr: addr.to_string(),
            session,
            party: auth.party,
            members,
        };
        let mut boxes = self.boxes();
        let lifetime = self.limits.lifetime;
        if boxes
            .get(&session)
            .is_some_and(|b| b.created.elapsed() >= lifetime)
        {
            return Err("this session expired on the relay; start a new session".into());
        }
        let live = boxes
            .values()
            .filter(|b| b.created.elapsed() < lifetime)
            .count();
        if !boxes.contains_key(&session) && live >= self.limits.max_sessions {
            return Err("the relay holds too many sessions; try again later".into());
        }
        let b = boxes.entry(session).or_insert_with(|| Mailbox {
            members: peer.members.clone(),
            created: Instant::now(),
            messages: Vec::new(),
            digests: HashSet::new(),
            emptied: false,
        });
        if b.members != peer.members {
            return Err(
                "this session is already open on the relay with a different list of parties".into(),
            );
        }
        let welcome = wire::Welcome {
            held: b.messages.len(),
            max_message: self.limits.max_message,
            max_messages: self.limits.max_messages,
            expires_in: self
                .limits
                .lifetime
                .saturating_sub(b.created.elapsed())
                .as_secs(),
        };
        drop(boxes);
        wire::write_json(s, Kind::Ok, &welcome).map_err(|e| e.to_string())?;
        self.party_event("auth", &peer, format!("party {} joined", peer.party));
        Ok(peer)
    }

    /// Stores one envelope after checking that this party signed it for this session.
    fn put(&self, p: &Peer, bytes: &[u8]) -> Result<bool, String> {
        let env = Envelope::decode(bytes).map_err(|e| format!("not a valid envelope: {e}"))?;
        let h = &env.header;
        if h.session != p.session {
            return Err("the envelope belongs to another session".into());
        }
        if h.sender != p.party || h.sender_key != p.members[usize::from(p.party) - 1] {
            return Err("the envelope is not signed by the authenticated party".into());
        }
        if usize::from(h.recipient) > p.members.len() || h.recipient == h.sender {
            return Err("the envelope's recipient is not another member".into());
        }
        let digest = env.digest();
        let mut boxes = self.boxes();
        let b = self.mailbox(&mut boxes, p)?;
        if b.digests.contains(&digest) {
            return Ok(false);
        }
        if b.messages.len() >= self.limits.max_messages {
            return Err(format!(
                "the session already holds {} messages, the relay's limit",
                self.limits.max_messages
            ));
        }
        b.digests.insert(digest);
        b.messages.push(Held {
            sender: h.sender,
            recipient: h.recipient,
            bytes: bytes.into(),
        });
        drop(boxes);
        self.party_event(
            "stored",
            p,
            format!("{} ({} bytes)", env.file_name(), bytes.len()),
        );
        Ok(true)
    }

    /// What is waiting for party `p` after sequence number `after`, and the next cursor.
    #[allow(clippy::type_complexity)]
    fn fetch(&self, p: &Peer, after: u64) -> Result<(Vec<(u64, Arc<[u8]>)>, u64), String> {
        let mut boxes = self.boxes();
        let b = self.mailbox(&mut boxes, p)?;
        let start = usize::try_from(after)
            .unwrap_or(usize::MAX)
            .min(b.messages.len());
        let waiting = b.messages[start..]
            .iter()
            .enumerate()
            .filter(|(_, m)| m.sender != p.party && (m.recipient == 0 || m.recipient == p.party))
            .map(|(i, m)| ((start + i + 1) as u64, Arc::clone(&m.bytes)))
            .collect();
        Ok((waiting, b.messages.len() as u64))
    }

    fn mailbox<'b>(
        &self,
        boxes: &'b mut HashMap<[u8; 32], Mailbox>,
        p: &Peer,
    ) -> Result<&'b mut Mailbox, String> {
        match boxes.get_mut(&p.session) {
            Some(b) if b.created.elapsed() < self.limits.lifetime => Ok(b),
            _ => Err("this session expired on the relay; start a new session".into()),
        }
    }
}

/// Sends an `Error` frame and gives up on the connection (best effort: the peer may be gone).
fn refuse(s: &mut TcpStream, reason: &str) {
    let _ = wire::write_json(
        s,
        Kind::Error,
        &wire::Refusal {
            error: reason.to_string(),
        },
    );
    let _ = s.flush();
    let _ = s.shutdown(std::net::Shutdown::Both);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::{Header, Protocol};
    use crate::identity::Identity;
    use crate::scheme::Scheme;
    use crate::transport::relay::{RelayClient, RelayError};

    const SESSION: [u8; 32] = [9; 32];

    fn start(limits: Limits) -> (Arc<Relay>, String) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let relay = Relay::new(limits, |_| {});
        let r = Arc::clone(&relay);
        std::thread::spawn(move || r.serve(listener));
        (relay, addr)
    }

    struct Party {
        id: Identity,
        index: u16,
    }

    fn parties(n: u16) -> (Vec<Party>, Vec<[u8; 32]>) {
        let ps: Vec<Party> = (1..=n)
            .map(|index| Party {
                id: Identity::generate(&format!("p{index}")),
                index,
            })
            .collect();
        let keys = ps
            .iter()
            .map(|p| p.id.card().verifying_key().unwrap().to_bytes())
            .collect();
        (ps, keys)
    }

    /// An envelope of round `round` from `from` (signed by `signer`) to `to` (0: all).
    fn envelope(signer: &Party, from: u16, to: u16, round: u8) -> Vec<u8> {
        let header = Header {
            scheme: Scheme::EddsaEd25519.tag(),
            session: SESSION,
            protocol: Protocol::Keygen,
            round,
            sender: from,
            sender_key: signer.id.card().verifying_key().unwrap().to_bytes(),
            recipient: to,
        };
        Envelope::create(&signer.id, header, b"payload", None)
            .unwrap()
            .as_bytes()
            .to_vec()
    }

    fn refused(r: Result<impl std::fmt::Debug, RelayError>, reason: &str) {
        match r {
            Err(RelayError::Refused { reason: got, .. }) => {
                assert!(got.contains(reason), "`{got}` does not say `{reason}`")
            }
            other => panic!("expected a refusal saying `{reason}`, got {other:?}"),
        }
    }

    #[test]
    fn parties_get_broadcasts_and_their_own_mail_only() {
        let (_relay, addr) = start(Limits::default());
        let (ps, keys) = parties(3);
        let mut c: Vec<RelayClient> = ps
            .iter()
            .map(|p| RelayClient::new(&addr, SESSION, p.index, keys.clone()))
            .collect();
        let to_all = envelope(&ps[0], 1, 0, 1);
        let to_bob = envelope(&ps[0], 1, 2, 2);
        let to_carol = envelope(&ps[0], 1, 3, 2);
        let sent = [to_all.clone(), to_bob.clone(), to_carol.clone()];
        assert_eq!(c[0].push(&ps[0].id, &sent).unwrap(), 3);
        // Uploading again is harmless and stores nothing new.
        let mut again = RelayClient::new(&addr, SESSION, 1, keys.clone());
        assert_eq!(again.push(&ps[0].id, &sent).unwrap(), 0);
        assert_eq!(c[1].fetch(&ps[1].id).unwrap(), vec![to_all.clone(), to_bob]);
        assert_eq!(c[2].fetch(&ps[2].id).unwrap(), vec![to_all, to_carol]);
        assert!(c[0].fetch(&ps[0].id).unwrap().is_empty());
        // A second fetch only brings what is new.
        assert!(c[1].fetch(&ps[1].id).unwrap().is_empty());
        let reply = envelope(&ps[1], 2, 0, 1);
        c[1].push(&ps[1].id, std::slice::from_ref(&reply)).unwrap();
        assert_eq!(c[2].fetch(&ps[2].id).unwrap(), vec![reply]);
    }

    #[test]
    fn a_party_can_only_store_what_it_signed_for_its_session() {
        let (_relay, addr) = start(Limits::default());
        let (ps, keys) = parties(3);
        let mut bob = RelayClient::new(&addr, SESSION, 2, keys.clone());
        // Alice's message, uploaded by bob.
        refused(
            bob.push(&ps[1].id, &[envelope(&ps[0], 1, 0, 1)]),
            "not signed by the authenticated party",
        );
        // Bob's key, but claiming to be alice.
        refused(
            bob.push(&ps[1].id, &[envelope(&ps[1], 1, 0, 1)]),
            "not signed by the authenticated party",
        );
        // To a recipient outside the session.
        refused(
            bob.push(&ps[1].id, &[envelope(&ps[1], 2, 7, 1)]),
            "recipient",
        );
        // Bob's identity, claiming carol's seat.
        let mut fake = RelayClient::new(&addr, SESSION, 3, keys.clone());
        refused(fake.fetch(&ps[1].id), "does not verify");
        // Someone outside the list of parties.
        let (outsider, _) = parties(1);
        let mut out = RelayClient::new(&addr, SESSION, 1, keys);
        refused(out.fetch(&outsider[0].id), "does not verify");
    }

    /// The relay closes an idle connection; the client notices on its next call,
    /// reconnects to the same relay at once and carries on from where it was.
    #[test]
    fn a_dropped_connection_is_reopened_and_continues() {
        let limits = Limits {
            idle: Duration::from_millis(200),
            ..Limits::default()
        };
        let (_relay, addr) = start(limits);
        let (ps, keys) = parties(2);
        let mut alice = RelayClient::new(&addr, SESSION, 1, keys.clone());
        let mut bob = RelayClient::new(&addr, SESSION, 2, keys);
        let first = envelope(&ps[0], 1, 0, 1);
        alice.push(&ps[0].id, std::slice::from_ref(&first)).unwrap();
        assert_eq!(bob.fetch(&ps[1].id).unwrap(), vec![first.clone()]);
        std::thread::sleep(Duration::from_millis(600));
        let second = envelope(&ps[0], 1, 2, 2);
        // The relay closed both connections; each client reopens its own on the next
        // call, without an error, and only what is new moves.
        assert_eq!(alice.push(&ps[0].id, &[first, second.clone()]).unwrap(), 1);
        let got = bob.fetch(&ps[1].id).unwrap();
        assert_eq!(got, vec![second]);
    }

    #[test]
    fn limits_and_expiry_hold() {
        let limits = Limits {
            max_messages: 2,
            max_sessions: 1,
            lifetime: Duration::from_millis(1500),
            ..Limits::default()
        };
        let (relay, addr) = start(limits);
        let (ps, keys) = parties(2);
        let mut alice = RelayClient::new(&addr, SESSION, 1, keys.clone());
        let msgs = [
            envelope(&ps[0], 1, 0, 1),
            envelope(&ps[0], 1, 2, 2),
            envelope(&ps[0], 1, 0, 3),
        ];
        refused(alice.push(&ps[0].id, &msgs), "already holds 2 messages");
        // One session at a time: another is turned away while this one lives.
        let other = [8u8; 32];
        let mut c = RelayClient::new(&addr, other, 1, keys.clone());
        refused(c.fetch(&ps[0].id), "too many sessions");
        std::thread::sleep(Duration::from_millis(1600));
        refused(alice.fetch(&ps[0].id), "expired");
        // The janitor thread may have got there first.
        relay.expire();
        assert!(
            relay
                .boxes()
                .values()
                .all(|b| b.emptied && b.messages.is_empty())
        );
        refused(alice.fetch(&ps[0].id), "expired");
        // Its place is free again.
        assert!(c.fetch(&ps[0].id).unwrap().is_empty());
    }
}
