//! Transports move envelopes between parties. They know nothing of protocols: a
//! [`Carrier`] hands the ceremony candidate incoming messages and takes outgoing ones.
//! Admission (`ceremony`) checks every incoming message the same way, whichever carrier
//! brought it.
//!
//! Carriers: a message directory ([`dir::DirTransport`], also how QR codes arrive), the
//! relay link ([`relay::RelayCarrier`]), NATS JetStream ([`nats::NatsCarrier`]) and an
//! in-process channel ([`memory::MemoryCarrier`]).

pub mod dir;
pub mod memory;
pub mod nats;
pub mod qr;
pub mod relay;
pub mod wire;

use crate::envelope::{Envelope, NameInfo};

/// One message a carrier brought, not yet admitted.
#[derive(Debug)]
pub struct Incoming {
    /// Where it came from, for messages: a file's path, or the relay's address.
    pub origin: String,
    /// Its bytes, or why they could not be read.
    pub bytes: Result<Vec<u8>, String>,
    /// What its file name claims, for a file with a canonical name: admission checks
    /// that the content agrees.
    pub name: Option<NameInfo>,
    /// Whether a message that fails admission stops the step. A bad file stays where it
    /// is until someone removes it, so the step stops and names it; a bad download is
    /// reported and skipped, so a hostile relay cannot stop a session.
    pub stops: bool,
}

impl Incoming {
    /// A message a service handed over (not a file): a bad one is skipped, not fatal.
    pub fn download(origin: impl Into<String>, bytes: Vec<u8>) -> Incoming {
        Incoming {
            origin: origin.into(),
            bytes: Ok(bytes),
            name: None,
            stops: false,
        }
    }
}

/// A carrier failure.
#[derive(Debug, thiserror::Error)]
pub enum CarrierError {
    /// Incoming messages could not be read.
    #[error("cannot read {place}: {reason}")]
    Read {
        /// The directory or service.
        place: String,
        /// Why.
        reason: String,
    },
    /// An outgoing message could not be handed on.
    #[error("cannot write to {place}: {reason}")]
    Write {
        /// The directory or service.
        place: String,
        /// Why.
        reason: String,
    },
    /// The service refused; trying again as is will not help.
    #[error("{0}")]
    Refused(String),
}

/// How envelopes travel for one party of one session. See the module doc.
pub trait Carrier: Send {
    /// Messages for party `me` of `session` that arrived (or changed) since they were
    /// last [`handled`](Carrier::handled).
    fn incoming(&mut self, session: &[u8; 32], me: u16) -> Result<Vec<Incoming>, CarrierError>;
    /// Records that a message was admitted (or was already known), so it need not be
    /// offered again.
    fn handled(&mut self, incoming: &Incoming);
    /// Hands an envelope on. Idempotent: every step offers everything this party sent,
    /// and what was already delivered is not delivered again.
    fn deliver(&mut self, envelope: &Envelope) -> Result<(), CarrierError>;
    /// Why the carrier cannot reach its service now, while it cannot (it keeps trying).
    fn trouble(&self) -> Option<String> {
        None
    }
}
