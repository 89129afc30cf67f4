//! The ceremony's errors, typed for whoever drives it: the command layer turns them into
//! exit codes and hints (`crate::error`), a server into HTTP statuses and stable codes.
//!
//! An [`Error`] says what kind of failure it is ([`ErrorKind`]), what went wrong and
//! why, which parties are to blame (by plan index), and what the user can do about it as
//! an [`Advice`] code, never as text naming a CLI command. Errors of the layers below
//! (the store, plans, identities, envelopes, keys) are kept whole, so their callers can
//! still tell them apart.

use crate::envelope::EnvelopeError;
use crate::identity::IdentityError;
use crate::plan::PlanError;
use crate::pubkey::KeyError;
use crate::store::StoreError;
use std::fmt;

/// The ceremony's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input (a message, a plan, a file, a card): nothing was stored from it.
    Rejected,
    /// This party will not go on: the plan does not fit this store, the key may not be
    /// used now, or its state went backwards.
    Refused,
    /// A single-use item (a nonce, a presignature) was used already.
    Spent,
    /// Paillier primes are needed and the pool is empty.
    PrimesNeeded,
    /// A peer misbehaved: the session is aborted and the culprits are named.
    Misbehaved,
    /// The session was aborted earlier because a peer misbehaved.
    Aborted,
    /// The session ended earlier by this party's decision or its plan's expiry.
    Ended,
    /// The machine failed: the disk, the database, a carrier's output.
    Storage,
    /// A bug, or stored state that no longer parses.
    Bug,
}

impl ErrorKind {
    /// A stable name for programs (an HTTP error code, a log field).
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Rejected => "rejected",
            ErrorKind::Refused => "refused",
            ErrorKind::Spent => "spent",
            ErrorKind::PrimesNeeded => "primes_needed",
            ErrorKind::Misbehaved => "peer_misbehaved",
            ErrorKind::Aborted => "aborted",
            ErrorKind::Ended => "ended",
            ErrorKind::Storage => "storage",
            ErrorKind::Bug => "bug",
        }
    }
}

/// What the user can do next, as a code; the caller words it for its users.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Advice {
    /// A bad message file: remove or replace it and step again.
    ReplaceFile,
    /// A party signed two different messages for one slot.
    InvestigateEquivocator,
    /// A named party misbehaved.
    InvestigateCulprit,
    /// This party's own key signed a message its home did not send.
    IdentityCompromised,
    /// Parties saw different broadcasts, and nobody can be named.
    CompareRoundMessages,
    /// The presignature is used: make a new one, or sign without one.
    NewPresignature,
    /// The presignature was spent on a signature that failed: make a new one.
    PresignatureSpent,
    /// The presignature is unknown: list the ones there are.
    ListPresignatures,
    /// Generate Paillier primes, then step again.
    GeneratePrimes,
    /// This key cannot be refreshed: rotate it by a reshare to the same parties.
    RotateByReshare,
    /// The plan reuses aux info this party lacks: write one that generates it.
    GenerateAux,
    /// The plan expired: write a new one.
    NewPlan,
    /// The session is over: start a new one with a new plan.
    NewSession,
    /// The plan was not confirmed: compare fingerprints, then run again.
    CompareFingerprint,
    /// This session cannot continue safely: start a new signing session.
    NewSigningSession,
    /// The relay refused: fix it or use another.
    FixRelay,
    /// A repair is for a party whose share is lost.
    ShareNotLost,
    /// Finish the refresh under way first.
    FinishRefresh,
    /// Look at the key's status.
    SeeKey,
    /// The share is missing: restore it or have it repaired.
    RestoreOrRepair,
}

/// A party to blame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Culprit {
    /// The 1-based plan index (0 if only the label is known).
    pub index: u16,
    /// How the plan names the party.
    pub label: String,
}

/// A ceremony failure. See the module doc. (Boxed: a step's `Result` stays small.)
#[derive(Debug)]
pub struct Error(Box<Parts>);

impl Error {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error(Box::new(Parts {
            kind,
            message: message.into(),
            causes: Vec::new(),
            culprits: Vec::new(),
            advice: None,
            lower: None,
        }))
    }

    fn lower(kind: ErrorKind, lower: Lower) -> Error {
        let mut e = Error::new(kind, "");
        e.0.lower = Some(lower);
        e
    }

    /// Bad input.
    pub fn rejected(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Rejected, message)
    }

    /// This party will not go on.
    pub fn refused(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Refused, message)
    }

    /// A bug, or stored state that no longer parses.
    pub fn bug(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Bug, message)
    }

    /// Adds a cause line.
    pub fn cause(mut self, cause: impl fmt::Display) -> Error {
        self.0.causes.push(cause.to_string());
        self
    }

    /// Sets the advice.
    pub fn advise(mut self, advice: Advice) -> Error {
        self.0.advice = Some(advice);
        self
    }

    /// Names the culprits.
    pub fn blaming(mut self, culprits: Vec<Culprit>) -> Error {
        self.0.culprits = culprits;
        self
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// What went wrong, one line, no secrets.
    pub fn message(&self) -> String {
        match &self.0.lower {
            None => self.0.message.clone(),
            Some(s) => s.to_string(),
        }
    }

    /// Why, outermost first.
    pub fn causes(&self) -> &[String] {
        &self.0.causes
    }

    /// The parties to blame.
    pub fn culprits(&self) -> &[Culprit] {
        &self.0.culprits
    }

    /// What to do next.
    pub fn advice(&self) -> Option<Advice> {
        self.0.advice
    }

    /// Takes the error of a lower layer out, for a caller that words it itself.
    pub fn into_parts(self) -> Parts {
        *self.0
    }
}

/// What an [`Error`] holds (see [`Error::into_parts`]).
#[derive(Debug)]
pub struct Parts {
    /// The kind.
    pub kind: ErrorKind,
    /// The message (empty when `lower` says it).
    pub message: String,
    /// Causes.
    pub causes: Vec<String>,
    /// Culprits.
    pub culprits: Vec<Culprit>,
    /// Advice.
    pub advice: Option<Advice>,
    /// The lower layer's error, if it is one.
    pub lower: Option<Lower>,
}

/// A lower layer's error inside an [`Error`].
#[derive(Debug)]
pub enum Lower {
    /// The store's.
    Store(StoreError),
    /// A plan's.
    Plan(PlanError),
    /// An identity's or card's.
    Identity(IdentityError),
    /// An envelope's.
    Envelope(EnvelopeError),
    /// A public key's.
    Key(KeyError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl fmt::Display for Lower {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lower::Store(e) => e.fmt(f),
            Lower::Plan(e) => e.fmt(f),
            Lower::Identity(e) => e.fmt(f),
            Lower::Envelope(e) => e.fmt(f),
            Lower::Key(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        let kind = match &e {
            StoreError::Io { .. } | StoreError::Db(_) | StoreError::ClusterLedger(_) => {
                ErrorKind::Storage
            }
            StoreError::Corrupt { .. } => ErrorKind::Bug,
            StoreError::RolledBack(_) | StoreError::Changed(_) | StoreError::CannotSign { .. } => {
                ErrorKind::Refused
            }
            _ => ErrorKind::Rejected,
        };
        Error::lower(kind, Lower::Store(e))
    }
}

macro_rules! rejected_from {
    ($($t:ty => $v:ident),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Error {
                Error::lower(ErrorKind::Rejected, Lower::$v(e))
            }
        }
    )*};
}

rejected_from!(PlanError => Plan, IdentityError => Identity, EnvelopeError => Envelope, KeyError => Key);
