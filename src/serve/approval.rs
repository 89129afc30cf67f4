//! Sessions waiting for an operator (a key whose policy on this node is `approval`):
//! the session waits, holding nothing secret yet, until `POST /sessions/{id}/join`
//! with an admin token approves it on this node, `POST /sessions/{id}/cancel` refuses
//! it, or the approval timeout passes. The waits live in memory only: a node that
//! restarts has none, and the sessions that waited fail at their coordinator's
//! deadline.

use super::error::{Ambiguous, DeclineReason, Error};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What an operator is asked to approve (shown by `GET /sessions`).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Asked {
    /// The session id, hex.
    pub id: String,
    /// `sign` or `reshare`.
    pub kind: &'static str,
    /// Always `awaiting_approval`.
    pub status: &'static str,
    /// The key.
    pub key_id: String,
    /// The member that proposed the session.
    pub proposer: String,
    /// SHA-256 of the message, hex (of a reshare: of its plan).
    pub message_sha256: String,
    /// ECDSA: the hash mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<serde_json::Value>,
    /// ECDSA: the HD path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Unix seconds after which the session is refused unless approved.
    pub approve_by: u64,
}

/// An operator's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Not yet.
    Waiting,
    /// Approved with the token of this id.
    Approved(String),
    /// Refused with the token of this id.
    Cancelled(String),
    /// The session ended elsewhere while it waited (its coordinator gave up).
    Ended,
    /// This node is shutting down.
    ShuttingDown,
}

impl Verdict {
    /// Why a `what` (`session`, `reshare`) that waited up to `max` for this verdict does
    /// not go on: the decline's code and reason; `None` once approved.
    pub fn refusal(&self, what: &str, max: Duration) -> Option<(DeclineReason, String)> {
        match self {
            Verdict::Approved(_) => None,
            Verdict::Cancelled(token) => Some((
                DeclineReason::Cancelled,
                format!("an operator (token {token}) refused the {what}"),
            )),
            Verdict::ShuttingDown => Some((
                DeclineReason::Busy,
                format!("the node is shutting down; the {what} was not approved"),
            )),
            Verdict::Ended => Some((
                DeclineReason::Abandoned,
                format!("the {what} ended elsewhere while it waited for approval"),
            )),
            Verdict::Waiting => Some((
                DeclineReason::NotApproved,
                format!(
                    "no operator approved the {what} within {}",
                    humantime::format_duration(max)
                ),
            )),
        }
    }
}

struct Wait {
    asked: Asked,
    verdict: Mutex<Verdict>,
    answered: tokio::sync::Notify,
}

/// The sessions waiting on this node.
#[derive(Default)]
pub struct Approvals {
    waiting: Mutex<HashMap<String, Arc<Wait>>>,
}

use super::lock;

impl Approvals {
    /// Waits up to `max` for an operator's answer to `asked`; `Waiting` when none came,
    /// `Ended` as soon as `ended` resolves (the session ended elsewhere). The session
    /// is listed while it waits, and not after.
    pub async fn ask(
        &self,
        asked: Asked,
        max: Duration,
        ended: impl std::future::Future<Output = ()>,
    ) -> Verdict {
        let id = asked.id.clone();
        let wait = Arc::new(Wait {
            asked,
            verdict: Mutex::new(Verdict::Waiting),
            answered: tokio::sync::Notify::new(),
        });
        lock(&self.waiting).insert(id.clone(), Arc::clone(&wait));
        let deadline = tokio::time::Instant::now() + max;
        let answered = || (*lock(&wait.verdict) != Verdict::Waiting).then_some(());
        tokio::select! {
            _ = super::notified_until(&wait.answered, deadline, answered) => {}
            () = ended => {
                let mut v = lock(&wait.verdict);
                if *v == Verdict::Waiting {
                    *v = Verdict::Ended;
                }
            }
        }
        lock(&self.waiting).remove(&id);
        lock(&wait.verdict).clone()
    }

    /// Ends every wait (the node is shutting down); how many there were.
    pub fn end_all(&self) -> usize {
        let waiting: Vec<Arc<Wait>> = lock(&self.waiting).values().cloned().collect();
        for wait in &waiting {
            let mut v = lock(&wait.verdict);
            if *v == Verdict::Waiting {
                *v = Verdict::ShuttingDown;
                wait.answered.notify_waiters();
            }
        }
        waiting.len()
    }

    /// The waiting sessions, oldest deadline first.
    pub fn list(&self) -> Vec<Asked> {
        let mut all: Vec<Asked> = lock(&self.waiting)
            .values()
            .map(|w| w.asked.clone())
            .collect();
        all.sort_by_key(|a| a.approve_by);
        all
    }

    /// The waiting session `id` (or a unique prefix of it): `Ok(None)` when none waits.
    pub fn find(&self, id: &str) -> Result<Option<Asked>, Error> {
        Ok(self.matching(id)?.map(|w| w.asked.clone()))
    }

    fn matching(&self, id: &str) -> Result<Option<Arc<Wait>>, Error> {
        let id = id.to_ascii_lowercase();
        let waiting = lock(&self.waiting);
        let found: Vec<&Arc<Wait>> = waiting
            .iter()
            .filter(|(k, _)| k.starts_with(&id))
            .map(|(_, w)| w)
            .collect();
        match found.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(Arc::clone(one))),
            more => Err(Error::Ambiguous {
                what: Ambiguous::Session,
                message: format!("{} waiting sessions start with {id}", more.len()),
            }),
        }
    }

    /// Answers the waiting session `id`; what was asked, or `None` when no session of
    /// that id waits (answered already, timed out, or never here).
    pub fn answer(&self, id: &str, verdict: Verdict) -> Result<Option<Asked>, Error> {
        let Some(wait) = self.matching(id)? else {
            return Ok(None);
        };
        let mut v = lock(&wait.verdict);
        if *v != Verdict::Waiting {
            return Ok(None);
        }
        *v = verdict;
        wait.answered.notify_waiters();
        Ok(Some(wait.asked.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(id: &str) -> Asked {
        Asked {
            id: id.into(),
            kind: "sign",
            status: "awaiting_approval",
            key_id: "k".into(),
            proposer: "alice".into(),
            message_sha256: String::new(),
            hash: None,
            path: None,
            approve_by: 0,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_wait_ends_with_the_first_answer_or_the_timeout() {
        let a = Arc::new(Approvals::default());
        let b = Arc::clone(&a);
        let forever = std::future::pending::<()>;
        let t = tokio::spawn(async move {
            b.ask(asked("abcd"), Duration::from_secs(30), forever())
                .await
        });
        while a.list().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(
            a.answer("ab", Verdict::Approved("t1".into()))
                .unwrap()
                .is_some()
        );
        assert_eq!(t.await.unwrap(), Verdict::Approved("t1".into()));
        // Gone once answered: a second answer finds nothing.
        assert!(
            a.answer("ab", Verdict::Cancelled("t2".into()))
                .unwrap()
                .is_none()
        );
        assert!(a.list().is_empty());
        assert_eq!(
            a.ask(asked("ef"), Duration::from_millis(20), forever())
                .await,
            Verdict::Waiting
        );
        assert_eq!(
            a.ask(asked("ef"), Duration::from_secs(30), async {}).await,
            Verdict::Ended
        );
        assert!(a.list().is_empty());
        // Shutdown ends a wait at once.
        let b = Arc::clone(&a);
        let t = tokio::spawn(async move {
            b.ask(asked("1234"), Duration::from_secs(30), forever())
                .await
        });
        while a.list().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(a.end_all(), 1);
        assert_eq!(t.await.unwrap(), Verdict::ShuttingDown);
    }
}
