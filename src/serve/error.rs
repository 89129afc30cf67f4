//! What can go wrong on a node, typed: the node's own code (sessions, signing, keys,
//! members) returns [`Error`] and never picks an HTTP status; [`ApiError::from`] is the
//! one place that turns a failure into the API's status, stable code and details. The
//! codes, statuses and details are the API's contract (DESIGN.md "HTTP API", the
//! OpenAPI document): this mapping keeps them as they were when the domain built them
//! by hand, and the serve tests check them.
//!
//! A retry is chosen from the typed fields ([`Error::left_out`]): whom a timed-out
//! session waited for, which node declined and why, never from a code string or the
//! details' JSON.
//!
//! A member's refusal travels on the bus as a `Decline` with a [`DeclineReason`]: the
//! wire keeps the snake_case word it always had, and a word this version does not
//! know (a newer member's) is kept as [`DeclineReason::Other`].

use super::ApiError;
use crate::ceremony::{self, ErrorKind};
use crate::store::StoreError;
use serde::{Deserialize, Serialize};

/// Why a member will not take part in (or go on with) a session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum DeclineReason {
    /// The key's policy on that node says no.
    PolicyRefused,
    /// No operator approved in time.
    NotApproved,
    /// An operator cancelled the session.
    Cancelled,
    /// The node runs as many sessions as it may.
    Busy,
    /// The node could not write what it must (its audit row, its database).
    Storage,
    /// The plan (or request) is not one the node joins.
    PlanRefused,
    /// The node does not join sessions of this kind over the bus.
    Unsupported,
    /// A one-round request named a nonce or a presignature the node does not hold
    /// (any more).
    NonceUnknown,
    /// The key may not sign on that node now.
    WrongKeyState,
    /// The key's policy there asks an operator to approve each session (a
    /// preprocessed request cannot wait for one; a whole session can).
    ApprovalRequired,
    /// The node's part failed.
    Failed,
    /// The node gave up its part (its deadline, or a decline from another).
    Abandoned,
    /// A word this version does not know.
    Other(String),
}

impl DeclineReason {
    /// The word on the wire.
    pub fn code(&self) -> &str {
        match self {
            DeclineReason::PolicyRefused => "policy_refused",
            DeclineReason::NotApproved => "not_approved",
            DeclineReason::Cancelled => "cancelled",
            DeclineReason::Busy => "busy",
            DeclineReason::Storage => "storage",
            DeclineReason::PlanRefused => "plan_refused",
            DeclineReason::Unsupported => "unsupported",
            DeclineReason::NonceUnknown => "nonce_unknown",
            DeclineReason::WrongKeyState => "wrong_key_state",
            DeclineReason::ApprovalRequired => "approval_required",
            DeclineReason::Failed => "failed",
            DeclineReason::Abandoned => "abandoned",
            DeclineReason::Other(s) => s,
        }
    }

    /// Whether another set of signers may be tried without the node that declined so:
    /// it was busy, failed, or its policy or state refused; not when an operator said
    /// no or did not answer (another node's operator would be asked the same).
    pub fn retried_elsewhere(&self) -> bool {
        !matches!(self, DeclineReason::NotApproved | DeclineReason::Cancelled)
    }

    /// Whether the node refused the request as it was made (a nonce or presignature
    /// it no longer holds, a plan it will not join), rather than for its policy, its
    /// operator, its load or its disk: the API's `node_refused`. Asked differently
    /// (a whole session instead of a preprocessed one), it may well sign.
    pub fn refused_as_asked(&self) -> bool {
        !matches!(
            self,
            DeclineReason::PolicyRefused
                | DeclineReason::NotApproved
                | DeclineReason::Cancelled
                | DeclineReason::Busy
                | DeclineReason::Storage
        )
    }
}

impl From<String> for DeclineReason {
    fn from(s: String) -> Self {
        match s.as_str() {
            "policy_refused" => DeclineReason::PolicyRefused,
            "not_approved" => DeclineReason::NotApproved,
            "cancelled" => DeclineReason::Cancelled,
            "busy" => DeclineReason::Busy,
            "storage" => DeclineReason::Storage,
            "plan_refused" => DeclineReason::PlanRefused,
            "unsupported" => DeclineReason::Unsupported,
            "nonce_unknown" => DeclineReason::NonceUnknown,
            "wrong_key_state" => DeclineReason::WrongKeyState,
            "approval_required" => DeclineReason::ApprovalRequired,
            "failed" => DeclineReason::Failed,
            "abandoned" => DeclineReason::Abandoned,
            _ => DeclineReason::Other(s),
        }
    }
}

impl From<DeclineReason> for String {
    fn from(r: DeclineReason) -> Self {
        r.code().to_string()
    }
}

impl std::fmt::Display for DeclineReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A node's refusal: which node, why (typed) and what it said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declined {
    /// The node's name.
    pub node: String,
    /// Why.
    pub reason: DeclineReason,
    /// What it said, for people.
    pub message: String,
}

/// Which kind of thing an id prefix matched several of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ambiguous {
    /// Keys.
    Key,
    /// Sessions (or jobs).
    Session,
}

/// A node's failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is not one the node can act on as it stands.
    #[error("{0}")]
    BadRequest(String),
    /// An id in the request is not hex of a usable length.
    #[error("{0}")]
    BadId(String),
    /// An id prefix matches several.
    #[error("{message}")]
    Ambiguous {
        /// What it matched.
        what: Ambiguous,
        /// For people.
        message: String,
    },
    /// No such key on this node.
    #[error("{0}")]
    KeyNotFound(String),
    /// No such cluster member.
    #[error("{0}")]
    NodeNotFound(String),
    /// The request (or the node message it makes) is too large.
    #[error("{message}")]
    TooLarge {
        /// For people.
        message: String,
        /// The node message it would make and the most the bus takes, in bytes.
        bus: Option<(usize, usize)>,
    },
    /// The key may not do this in its state.
    #[error("{0}")]
    WrongKeyState(String),
    /// The key is not active here.
    #[error("{0}")]
    KeyNotActive(String),
    /// This node holds no share the operation needs.
    #[error("{0}")]
    NoShare(String),
    /// A card given is a member's already.
    #[error("{0}")]
    AlreadyMember(String),
    /// A node was asked to remove itself.
    #[error("a node cannot remove itself; remove it on the other nodes")]
    CannotRemoveSelf,
    /// A card does not have the fingerprint given.
    #[error("{0}")]
    FingerprintMismatch(String),
    /// The node runs as many sessions as it may, or is shutting down.
    #[error("{0}")]
    Busy(String),
    /// Too few of the nodes needed are up.
    #[error("{message}")]
    NotEnoughNodes {
        /// For people.
        message: String,
        /// The nodes not reachable, by name.
        unreachable: Vec<String>,
    },
    /// The bus link is down (or the node has none).
    #[error("{0}")]
    BusDown(String),
    /// The session (or a wait for answers) did not finish in time.
    #[error("{message}")]
    TimedOut {
        /// For people.
        message: String,
        /// The nodes it waited for, by name.
        awaited: Vec<String>,
        /// Messages that failed admission meanwhile (a session's own timeout).
        ignored: Option<Vec<String>>,
    },
    /// A node declined.
    #[error("node {} declined: {}", .0.node, .0.message)]
    Declined(Declined),
    /// A node reported its part of the session failed.
    #[error("node {node} failed its part: {detail}")]
    NodeFailed {
        /// The node.
        node: String,
        /// What it reported.
        detail: String,
    },
    /// Nodes sent what does not verify.
    #[error("{message}")]
    PeerMisbehaved {
        /// For people.
        message: String,
        /// The nodes to blame, by name.
        culprits: Vec<String>,
    },
    /// The ceremony failed (kept whole: its kind and culprits decide the answer).
    #[error("{}", .0.message())]
    Ceremony(ceremony::Error),
    /// The home's store failed.
    #[error(transparent)]
    Store(StoreError),
    /// What should not happen; the log keeps it, the answer does not.
    #[error("{0}")]
    Internal(String),
    /// A failure of the session `session` (named in the answer's details).
    #[error("{error}")]
    InSession {
        /// The session, hex.
        session: String,
        /// The failure.
        error: Box<Error>,
    },
}

const INTERNAL: &str = "an internal error; the node's log has the details";

/// A node's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An unexpected failure.
    pub fn internal(e: impl std::fmt::Display) -> Error {
        Error::Internal(e.to_string())
    }

    /// This failure, as one of session `sid`.
    pub fn session(self, sid: &str) -> Error {
        match self {
            e @ Error::InSession { .. } => e,
            e => Error::InSession {
                session: sid.to_string(),
                error: Box::new(e),
            },
        }
    }

    /// The failure itself, whichever session it was of.
    pub fn inner(&self) -> &Error {
        match self {
            Error::InSession { error, .. } => error.inner(),
            e => e,
        }
    }

    /// The same failure, for another request that shared the round trip which failed
    /// (`serve::node::gather`): the answer's status, code and details are this one's.
    /// A ceremony's or the store's failure, which cannot be copied, becomes an
    /// internal one with the same message (the API shows neither's message anyway,
    /// except a key's refusal to sign, which a round trip does not produce).
    pub fn shared(&self) -> Error {
        match self {
            Error::BadRequest(m) => Error::BadRequest(m.clone()),
            Error::BadId(m) => Error::BadId(m.clone()),
            Error::Ambiguous { what, message } => Error::Ambiguous {
                what: *what,
                message: message.clone(),
            },
            Error::KeyNotFound(m) => Error::KeyNotFound(m.clone()),
            Error::NodeNotFound(m) => Error::NodeNotFound(m.clone()),
            Error::TooLarge { message, bus } => Error::TooLarge {
                message: message.clone(),
                bus: *bus,
            },
            Error::WrongKeyState(m) => Error::WrongKeyState(m.clone()),
            Error::KeyNotActive(m) => Error::KeyNotActive(m.clone()),
            Error::NoShare(m) => Error::NoShare(m.clone()),
            Error::AlreadyMember(m) => Error::AlreadyMember(m.clone()),
            Error::CannotRemoveSelf => Error::CannotRemoveSelf,
            Error::FingerprintMismatch(m) => Error::FingerprintMismatch(m.clone()),
            Error::Busy(m) => Error::Busy(m.clone()),
            Error::NotEnoughNodes {
                message,
                unreachable,
            } => Error::NotEnoughNodes {
                message: message.clone(),
                unreachable: unreachable.clone(),
            },
            Error::BusDown(m) => Error::BusDown(m.clone()),
            Error::TimedOut {
                message,
                awaited,
                ignored,
            } => Error::TimedOut {
                message: message.clone(),
                awaited: awaited.clone(),
                ignored: ignored.clone(),
            },
            Error::Declined(d) => Error::Declined(d.clone()),
            Error::NodeFailed { node, detail } => Error::NodeFailed {
                node: node.clone(),
                detail: detail.clone(),
            },
            Error::PeerMisbehaved { message, culprits } => Error::PeerMisbehaved {
                message: message.clone(),
                culprits: culprits.clone(),
            },
            Error::Ceremony(_) | Error::Store(_) | Error::Internal(_) => {
                Error::Internal(self.to_string())
            }
            Error::InSession { session, error } => Error::InSession {
                session: session.clone(),
                error: Box::new(error.shared()),
            },
        }
    }

    /// The nodes a second try may leave out: those a session waited for in vain, or
    /// the one that declined or failed for a reason another node would not share.
    /// Empty when another try would not help.
    pub fn left_out(&self) -> Vec<String> {
        match self.inner() {
            Error::TimedOut { awaited, .. } => awaited.clone(),
            Error::Declined(d) if d.reason.retried_elsewhere() => vec![d.node.clone()],
            Error::NodeFailed { node, .. } => vec![node.clone()],
            _ => Vec::new(),
        }
    }

    /// What may be said of this failure outside the node (to the other members of a
    /// session): its message, except for a failure the API would answer as internal,
    /// whose message stays in this node's log.
    pub fn public(&self) -> String {
        match self.inner() {
            Error::Internal(_) => INTERNAL.into(),
            Error::Store(e) if !matches!(e, StoreError::CannotSign { .. }) => INTERNAL.into(),
            Error::Ceremony(e) if matches!(e.kind(), ErrorKind::Storage | ErrorKind::Bug) => {
                INTERNAL.into()
            }
            e => e.to_string(),
        }
    }

    /// Whether a session from a presignature failed because the presignature cannot be
    /// used (a signer refused it as asked, it was spent or its session ended, or the
    /// plan was rejected), so a whole session may still sign; a refusal by policy, a
    /// timeout or a busy node is final.
    pub fn presignature_unusable(&self) -> bool {
        match self.inner() {
            Error::Declined(d) => d.reason.refused_as_asked(),
            Error::BadRequest(_) => true,
            Error::Ceremony(e) => matches!(
                e.kind(),
                ErrorKind::Rejected | ErrorKind::Spent | ErrorKind::Aborted | ErrorKind::Ended
            ),
            _ => false,
        }
    }

    /// The declining node's reason, if a node declined.
    pub fn declined(&self) -> Option<&Declined> {
        match self.inner() {
            Error::Declined(d) => Some(d),
            _ => None,
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Store(e)
    }
}

impl From<ceremony::Error> for Error {
    fn from(e: ceremony::Error) -> Self {
        Error::Ceremony(e)
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        use serde_json::json;
        let message = e.to_string();
        let (status, code, details) = match e {
            Error::InSession { session, error } => {
                return ApiError::from(*error).session(&session);
            }
            Error::BadRequest(_) => (400, "bad_request", None),
            Error::BadId(_) => (400, "bad_id", None),
            Error::Ambiguous { what, .. } => match what {
                Ambiguous::Key => (400, "ambiguous_key", None),
                Ambiguous::Session => (400, "ambiguous_session", None),
            },
            Error::FingerprintMismatch(_) => (400, "fingerprint_mismatch", None),
            Error::KeyNotFound(_) => (404, "key_not_found", None),
            Error::NodeNotFound(_) => (404, "node_not_found", None),
            Error::TooLarge { bus, .. } => (
                413,
                "too_large",
                bus.map(|(need, max)| json!({"node_message_bytes": need, "bus_max_bytes": max})),
            ),
            Error::WrongKeyState(_) => (409, "wrong_key_state", None),
            Error::KeyNotActive(_) => (409, "key_not_active", None),
            Error::NoShare(_) => (409, "no_share", None),
            Error::AlreadyMember(_) => (409, "already_member", None),
            Error::CannotRemoveSelf => (409, "cannot_remove_self", None),
            Error::Busy(_) => (503, "busy", None),
            Error::NotEnoughNodes { unreachable, .. } => (
                503,
                "not_enough_nodes",
                Some(json!({"unreachable": unreachable})),
            ),
            Error::BusDown(_) => (503, "bus_unavailable", None),
            Error::TimedOut {
                awaited, ignored, ..
            } => {
                let mut d = json!({"awaited": awaited});
                if let Some(i) = ignored {
                    d["ignored"] = json!(i);
                }
                (504, "timed_out", Some(d))
            }
            Error::Declined(d) => {
                let (status, code) = match d.reason {
                    DeclineReason::PolicyRefused => (422, "policy_refused"),
                    DeclineReason::NotApproved => (504, "approval_timed_out"),
                    DeclineReason::Cancelled => (409, "cancelled"),
                    DeclineReason::Busy => (503, "busy"),
                    DeclineReason::Storage => (502, "node_failed"),
                    _ => (409, "node_refused"),
                };
                (
                    status,
                    code,
                    Some(json!({"node": d.node, "code": d.reason.code()})),
                )
            }
            Error::NodeFailed { node, .. } => (502, "node_failed", Some(json!({"node": node}))),
            Error::PeerMisbehaved { culprits, .. } => {
                (502, "peer_misbehaved", Some(json!({"culprits": culprits})))
            }
            Error::Ceremony(e) => {
                let (status, code) = match e.kind() {
                    ErrorKind::Rejected => (400, "bad_request"),
                    ErrorKind::Refused => (409, "wrong_key_state"),
                    ErrorKind::Spent => (409, "spent"),
                    ErrorKind::PrimesNeeded => (503, "primes_needed"),
                    ErrorKind::Misbehaved => (502, "peer_misbehaved"),
                    ErrorKind::Aborted | ErrorKind::Ended => (409, "session_ended"),
                    ErrorKind::Storage | ErrorKind::Bug => return ApiError::internal(message),
                };
                let culprits: Vec<&str> = e.culprits().iter().map(|c| c.label.as_str()).collect();
                (
                    status,
                    code,
                    Some(json!({"kind": e.kind().code(), "culprits": culprits})),
                )
            }
            Error::Store(e) => match e {
                StoreError::CannotSign { .. } => (409, "wrong_key_state", None),
                other => return ApiError::internal(other),
            },
            Error::Internal(m) => return ApiError::internal(m),
        };
        let e = ApiError::new(status, code, message);
        match details {
            Some(d) => e.details(d),
            None => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declined(reason: &str) -> Error {
        Error::Declined(Declined {
            node: "bob".into(),
            reason: reason.to_string().into(),
            message: "no".into(),
        })
    }

    #[test]
    fn a_decline_reason_keeps_its_wire_word_and_an_unknown_one_survives() {
        for word in [
            "policy_refused",
            "not_approved",
            "cancelled",
            "busy",
            "storage",
            "plan_refused",
            "unsupported",
            "nonce_unknown",
            "wrong_key_state",
            "approval_required",
            "failed",
            "abandoned",
            "from_a_newer_node",
        ] {
            let r = DeclineReason::from(word.to_string());
            assert_eq!(r.code(), word);
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{word}\""));
            assert_eq!(serde_json::from_str::<DeclineReason>(&json).unwrap(), r);
        }
        assert_eq!(
            DeclineReason::from("from_a_newer_node".to_string()),
            DeclineReason::Other("from_a_newer_node".into())
        );
    }

    #[test]
    fn declines_answer_with_the_statuses_and_codes_of_the_api() {
        for (word, status, code) in [
            ("policy_refused", 422, "policy_refused"),
            ("not_approved", 504, "approval_timed_out"),
            ("cancelled", 409, "cancelled"),
            ("busy", 503, "busy"),
            ("storage", 502, "node_failed"),
            ("nonce_unknown", 409, "node_refused"),
            ("from_a_newer_node", 409, "node_refused"),
        ] {
            let api = ApiError::from(declined(word).session("abcd"));
            assert_eq!((api.status, api.code), (status, code), "{word}");
            assert_eq!(api.message, "node bob declined: no");
            assert_eq!(api.details["node"], "bob");
            assert_eq!(api.details["code"], word);
            assert_eq!(api.details["session"], "abcd");
        }
    }

    #[test]
    fn a_retry_leaves_out_whom_the_typed_failure_names_and_no_one_else() {
        let timed_out = Error::TimedOut {
            message: "late".into(),
            awaited: vec!["carol".into(), "dave".into()],
            ignored: Some(vec![]),
        }
        .session("ab12");
        assert_eq!(timed_out.left_out(), ["carol", "dave"]);
        assert_eq!(declined("busy").left_out(), ["bob"]);
        assert_eq!(declined("policy_refused").left_out(), ["bob"]);
        // An operator's no (or silence) would be the same on another node's operator.
        assert!(declined("cancelled").left_out().is_empty());
        assert!(declined("not_approved").left_out().is_empty());
        assert!(Error::BadRequest("x".into()).left_out().is_empty());
        assert!(Error::Busy("full".into()).left_out().is_empty());
        let failed = Error::NodeFailed {
            node: "erin".into(),
            detail: "disk".into(),
        };
        assert_eq!(failed.left_out(), ["erin"]);
    }

    #[test]
    fn details_are_those_the_api_always_gave() {
        let api = ApiError::from(Error::TimedOut {
            message: "late".into(),
            awaited: vec!["carol".into()],
            ignored: None,
        });
        assert_eq!(api.details, serde_json::json!({"awaited": ["carol"]}));
        let api = ApiError::from(Error::TooLarge {
            message: "big".into(),
            bus: Some((10, 5)),
        });
        assert_eq!((api.status, api.code), (413, "too_large"));
        assert_eq!(api.details["bus_max_bytes"], 5);
        let api = ApiError::from(Error::TooLarge {
            message: "big".into(),
            bus: None,
        });
        assert!(api.details.is_null());
        // An internal failure says nothing of itself in the answer.
        let api = ApiError::from(Error::internal("the secret path /x/y"));
        assert_eq!((api.status, api.code), (500, "internal"));
        assert!(!api.message.contains("/x/y"));
    }
}
