//! The relay client: uploads this party's envelopes to an `mpc relay` and downloads the
//! ones broadcast or addressed to it.
//!
//! The client trusts the relay with nothing. It authenticates with the party's identity
//! key; what it downloads is handed back as raw bytes for the ceremony to check like any
//! file. A lost connection is reopened on the next call. When the relay's id changes
//! (it restarted and lost what it held) the client starts reading from the beginning and
//! uploads everything again.

use super::wire::{self, FrameError, Kind};
use crate::identity::Identity;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long connecting and each read or write may take.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A relay failure.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The relay could not be reached or the connection broke; trying again may work.
    #[error("cannot reach the relay at {addr}: {reason}")]
    Unreachable {
        /// The relay's address.
        addr: String,
        /// Why.
        reason: String,
    },
    /// The relay answered with a refusal; trying again as is will not help.
    #[error("the relay at {addr} refused: {reason}")]
    Refused {
        /// The relay's address.
        addr: String,
        /// The relay's reason, with control characters removed.
        reason: String,
    },
}

/// One party's link to a relay for one session.
pub struct RelayClient {
    addr: String,
    session: [u8; 32],
    party: u16,
    members: Vec<[u8; 32]>,
    conn: Option<TcpStream>,
    relay_id: Option<String>,
    cursor: u64,
    pushed: HashSet<[u8; 32]>,
}

impl RelayClient {
    /// A client for party `party` (1-based) of `session`, whose members' Ed25519 keys are
    /// `members` in plan order. Connects on first use.
    pub fn new(addr: &str, session: [u8; 32], party: u16, members: Vec<[u8; 32]>) -> RelayClient {
        RelayClient {
            addr: addr.to_string(),
            session,
            party,
            members,
            conn: None,
            relay_id: None,
            cursor: 0,
            pushed: HashSet::new(),
        }
    }

    /// The relay's address.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Whether a connection is open.
    pub fn connected(&self) -> bool {
        self.conn.is_some()
    }

    /// Uploads every envelope in `envelopes` not yet uploaded to this relay process.
    /// Returns how many the relay did not have.
    pub fn push(
        &mut self,
        identity: &Identity,
        envelopes: &[Vec<u8>],
    ) -> Result<usize, RelayError> {
        self.retrying(identity, |c, id| c.push_once(id, envelopes))
    }

    /// Downloads the envelopes that arrived since the last call, in the relay's order.
    pub fn fetch(&mut self, identity: &Identity) -> Result<Vec<Vec<u8>>, RelayError> {
        self.retrying(identity, Self::fetch_once)
    }

    /// Runs `op`; if it failed on a connection that was already open (the relay may have
    /// closed it as idle, or restarted), runs it once more on a fresh one. Both requests
    /// are idempotent.
    fn retrying<T>(
        &mut self,
        identity: &Identity,
        op: impl Fn(&mut Self, &Identity) -> Result<T, RelayError>,
    ) -> Result<T, RelayError> {
        let reused = self.conn.is_some();
        match op(self, identity) {
            Err(RelayError::Unreachable { .. }) if reused => op(self, identity),
            r => r,
        }
    }

    fn push_once(
        &mut self,
        identity: &Identity,
        envelopes: &[Vec<u8>],
    ) -> Result<usize, RelayError> {
        let mut new = 0;
        for raw in envelopes {
            let digest: [u8; 32] = Sha256::digest(raw).into();
            self.connect(identity)?;
            if self.pushed.contains(&digest) {
                continue;
            }
            let reply = self.exchange(|s| {
                wire::write_frame(s, Kind::Put, raw)?;
                wire::read_frame(s, wire::MAX_CONTROL)
            })?;
            match reply.kind {
                Kind::Ok => {
                    let stored: wire::Stored = reply.json().map_err(|e| self.broken(e))?;
                    new += usize::from(stored.new);
                    self.pushed.insert(digest);
                }
                _ => return Err(self.refusal(&reply)),
            }
        }
        Ok(new)
    }

    fn fetch_once(&mut self, identity: &Identity) -> Result<Vec<Vec<u8>>, RelayError> {
        self.connect(identity)?;
        let after = self.cursor;
        let max = crate::envelope::MAX_ENVELOPE_LEN + 8;
        let (messages, end) = self.exchange(|s| {
            wire::write_json(s, Kind::Fetch, &wire::Fetch { after })?;
            let mut messages = Vec::new();
            loop {
                let f = wire::read_frame(s, max)?;
                match f.kind {
                    Kind::Msg if f.body.len() > 8 => messages.push(f.body[8..].to_vec()),
                    _ => return Ok((messages, f)),
                }
            }
        })?;
        if end.kind != Kind::End {
            return Err(self.refusal(&end));
        }
        let end: wire::End = end.json().map_err(|e| self.broken(e))?;
        self.cursor = end.next;
        Ok(messages)
    }

    /// Opens and authenticates a connection unless one is open.
    fn connect(&mut self, identity: &Identity) -> Result<(), RelayError> {
        if self.conn.is_some() {
            return Ok(());
        }
        let unreachable = |reason: String| RelayError::Unreachable {
            addr: self.addr.clone(),
            reason,
        };
        let addrs: Vec<_> = self
            .addr
            .to_socket_addrs()
            .map_err(|e| unreachable(e.to_string()))?
            .collect();
        let mut last = String::from("the address resolves to nothing");
        let mut stream = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, CONNECT_TIMEOUT) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = e.to_string(),
            }
        }
        let mut s = stream.ok_or_else(|| unreachable(last))?;
        let _ = s.set_nodelay(true);
        s.set_read_timeout(Some(IO_TIMEOUT))
            .and_then(|()| s.set_write_timeout(Some(IO_TIMEOUT)))
            .map_err(|e| unreachable(e.to_string()))?;
        let challenge: wire::Challenge = wire::read_frame(&mut s, wire::MAX_CONTROL)
            .and_then(|f| f.expect(Kind::Challenge))
            .and_then(|f| f.json())
            .map_err(|e| unreachable(format!("not an mpc relay ({e})")))?;
        if challenge.v != wire::VERSION {
            return Err(self.refused(format!(
                "the relay speaks version {}, this mpc speaks {}",
                challenge.v,
                wire::VERSION
            )));
        }
        let nonce: [u8; 32] = wire::hex_array(&challenge.nonce)
            .ok_or_else(|| unreachable("the relay's challenge is malformed".into()))?;
        let signature = identity.sign(&wire::auth_message(
            &nonce,
            &self.session,
            self.party,
            &self.members,
        ));
        let auth = wire::Auth {
            session: hex::encode(self.session),
            party: self.party,
            members: self.members.iter().map(hex::encode).collect(),
            signature: hex::encode(signature),
        };
        let reply = wire::write_json(&mut s, Kind::Auth, &auth)
            .map_err(FrameError::from)
            .and_then(|()| wire::read_frame(&mut s, wire::MAX_CONTROL))
            .map_err(|e| unreachable(e.to_string()))?;
        if reply.kind != Kind::Ok {
            return Err(self.refusal(&reply));
        }
        if self.relay_id.as_deref() != Some(challenge.relay.as_str()) {
            // A new relay process (or the first connection): it holds nothing we sent and
            // numbers its messages afresh.
            self.cursor = 0;
            self.pushed.clear();
            self.relay_id = Some(challenge.relay);
        }
        self.conn = Some(s);
        Ok(())
    }

    /// Runs one request on the open connection; an I/O failure closes it.
    fn exchange<T>(
        &mut self,
        f: impl FnOnce(&mut TcpStream) -> Result<T, FrameError>,
    ) -> Result<T, RelayError> {
        let Some(s) = self.conn.as_mut() else {
            return Err(self.broken("not connected"));
        };
        f(s).map_err(|e| self.broken(e))
    }

    /// Closes the connection after a failure; the next call reconnects.
    fn broken(&mut self, e: impl std::fmt::Display) -> RelayError {
        self.conn = None;
        RelayError::Unreachable {
            addr: self.addr.clone(),
            reason: e.to_string(),
        }
    }

    fn refused(&mut self, reason: String) -> RelayError {
        self.conn = None;
        RelayError::Refused {
            addr: self.addr.clone(),
            reason,
        }
    }

    /// The relay's `Error` frame (or anything unexpected) as a refusal.
    fn refusal(&mut self, f: &wire::Frame) -> RelayError {
        let reason = match (f.kind, f.json::<wire::Refusal>()) {
            (Kind::Error, Ok(r)) => r
                .error
                .chars()
                .filter(|c| !c.is_control())
                .take(300)
                .collect(),
            (kind, _) => format!("it sent an unexpected {kind:?} frame"),
        };
        self.refused(reason)
    }
}

/// How long a carrier leaves an unreachable relay alone before trying again.
const RETRY: Duration = Duration::from_secs(1);

/// The relay as a [`Carrier`](super::Carrier): every step uploads what this party sent
/// and downloads what is new for it, and the downloads go straight to admission.
///
/// An unreachable relay is not an error of the step: the carrier remembers why
/// ([`Carrier::trouble`](super::Carrier::trouble)) and tries again a second later, and
/// nothing is lost meanwhile (the journal holds what was sent). A refusal is an error.
pub struct RelayCarrier {
    client: RelayClient,
    identity: std::sync::Arc<Identity>,
    down: Option<String>,
    retry_at: std::time::Instant,
    /// Downloads already offered, by digest.
    seen: HashSet<[u8; 32]>,
    /// Envelopes that could not be uploaded yet, by digest.
    unsent: HashSet<[u8; 32]>,
}

impl RelayCarrier {
    /// A carrier over `client`, authenticating as `identity`.
    pub fn new(client: RelayClient, identity: std::sync::Arc<Identity>) -> RelayCarrier {
        RelayCarrier {
            client,
            identity,
            down: None,
            retry_at: std::time::Instant::now(),
            seen: HashSet::new(),
            unsent: HashSet::new(),
        }
    }

    /// Runs one exchange with the relay unless it is resting after a failure; an
    /// unreachable relay is noted (`None`), a refusal returned.
    fn attempt<T>(
        &mut self,
        op: impl FnOnce(&mut RelayClient, &Identity) -> Result<T, RelayError>,
    ) -> Result<Option<T>, super::CarrierError> {
        if self.down.is_some() && std::time::Instant::now() < self.retry_at {
            return Ok(None);
        }
        match op(&mut self.client, &self.identity) {
            Ok(v) => {
                self.down = None;
                Ok(Some(v))
            }
            Err(RelayError::Unreachable { reason, .. }) => {
                self.down = Some(format!("relay unreachable: {reason}"));
                self.retry_at = std::time::Instant::now() + RETRY;
                Ok(None)
            }
            Err(e @ RelayError::Refused { .. }) => Err(super::CarrierError::Refused(e.to_string())),
        }
    }
}

impl super::Carrier for RelayCarrier {
    fn incoming(
        &mut self,
        _session: &[u8; 32],
        _me: u16,
    ) -> Result<Vec<super::Incoming>, super::CarrierError> {
        let downloads = self.attempt(|c, id| c.fetch(id))?.unwrap_or_default();
        let origin = format!("a message from the relay at {}", self.client.addr());
        Ok(downloads
            .into_iter()
            .filter(|bytes| self.seen.insert(Sha256::digest(bytes).into()))
            .map(|bytes| super::Incoming::download(origin.clone(), bytes))
            .collect())
    }

    fn handled(&mut self, _: &super::Incoming) {}

    fn deliver(&mut self, envelope: &crate::envelope::Envelope) -> Result<(), super::CarrierError> {
        let raw = [envelope.as_bytes().to_vec()];
        let digest: [u8; 32] = Sha256::digest(&raw[0]).into();
        match self.attempt(|c, id| c.push(id, &raw))? {
            Some(_) => self.unsent.remove(&digest),
            None => self.unsent.insert(digest),
        };
        Ok(())
    }

    fn trouble(&self) -> Option<String> {
        self.down.clone().or_else(|| {
            (!self.unsent.is_empty()).then(|| "some messages are not uploaded yet".to_string())
        })
    }
}
