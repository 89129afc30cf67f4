//! The command layer's error: what went wrong, why, what to try next, and which exit
//! status it maps to. Library modules have their own `thiserror` enums; they convert
//! into [`Failure`] here, which is the one place that decides exit codes.

use std::fmt;

/// The process exit status, stable and documented in `mpc(1)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: success.
    Success = 0,
    /// 1: a negative answer (a signature is invalid, an audit chain is broken).
    Negative = 1,
    /// 2: usage error or bad input (a file, a passphrase, a plan), or a local safety
    /// refusal (a rolled-back journal, a spent nonce or presignature).
    Usage = 2,
    /// 3: the protocol was aborted because a peer misbehaved; culprits are named.
    Aborted = 3,
    /// 4: waiting: the step needs messages that have not arrived yet.
    Waiting = 4,
    /// 5: internal error (a bug, or the machine failed us: disk, database).
    Internal = 5,
}

/// A failure as the user sees it.
#[derive(Debug)]
pub struct Failure {
    /// The exit status.
    pub exit: Exit,
    /// What went wrong, one line, no secrets.
    pub message: String,
    /// Underlying causes, outermost first.
    pub causes: Vec<String>,
    /// The next thing to try.
    pub hint: Option<String>,
    /// Parties to blame, by plan index and name, for [`Exit::Aborted`].
    pub culprits: Vec<String>,
    /// The command already printed its JSON object (a negative answer carries its own
    /// result), so `--json` must not print a second one.
    pub json_printed: bool,
}

impl Failure {
    /// A failure with the given exit status.
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Failure {
            exit,
            message: message.into(),
            causes: Vec::new(),
            hint: None,
            culprits: Vec::new(),
            json_printed: false,
        }
    }

    /// Marks that the command's JSON result was already printed.
    pub fn json_printed(mut self) -> Self {
        self.json_printed = true;
        self
    }

    /// Bad input or usage (exit 2).
    pub fn input(message: impl Into<String>) -> Self {
        Failure::new(Exit::Usage, message)
    }

    /// An internal error (exit 5).
    pub fn internal(message: impl Into<String>) -> Self {
        Failure::new(Exit::Internal, message)
    }

    /// Adds a cause line.
    pub fn cause(mut self, cause: impl fmt::Display) -> Self {
        self.causes.push(cause.to_string());
        self
    }

    /// Sets the hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds context in front: the current message becomes the first cause.
    pub fn context(mut self, message: impl Into<String>) -> Self {
        let old = std::mem::replace(&mut self.message, message.into());
        self.causes.insert(0, old);
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::internal("I/O error").cause(e)
    }
}

/// The result type of the command layer.
pub type Result<T, E = Failure> = std::result::Result<T, E>;

/// Adds context to any error convertible into a [`Failure`].
pub trait Context<T> {
    /// On error, puts `message` in front of the error's own message.
    fn context(self, message: impl Into<String>) -> Result<T>;
}

impl<T, E: Into<Failure>> Context<T> for std::result::Result<T, E> {
    fn context(self, message: impl Into<String>) -> Result<T> {
        self.map_err(|e| e.into().context(message))
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::identity::IdentityError;
        use crate::store::StoreError as S;
        match e {
            S::NoHome(p) => Failure::input(format!("no party home at {}", p.display()))
                .hint("create one with `mpc init --name NAME`, or point --home / MPC_HOME at an existing one"),
            S::AlreadyExists(p) => Failure::input(format!("a party home already exists at {}", p.display()))
                .hint("use another --home; an existing identity is never overwritten"),
            S::Identity(IdentityError::WrongPassphrase) => {
                Failure::input("wrong passphrase: the identity could not be unlocked")
                    .hint("nothing was changed; run the command again with the right passphrase")
            }
            S::Identity(e) => Failure::input("the identity could not be opened").cause(e),
            e @ S::Damaged { .. } => Failure::input("a stored file could not be read").cause(e),
            e @ S::TooNew(_) => Failure::input("this home was written by a newer mpc").cause(e),
            S::RolledBack(why) => Failure::input(
                "refusing to continue: this home's session state was rolled back",
            )
            .cause(why)
            .hint("start a new session with a new plan; this one cannot continue safely"),
            S::Changed(why) => Failure::input(why)
                .hint("another mpc process changed it first; look at the current state and run again if still wanted"),
            S::Io { path, source } => disk_failure(&path, source),
            S::Db(e) if is_busy(&e) => Failure::internal(
                "the home's database is busy: another mpc process is using it",
            )
            .cause(e)
            .hint("nothing was changed; wait for the other process to finish, then run this again"),
            e @ S::Db(_) => Failure::internal("storage error").cause(e),
            e @ S::ClusterLedger(_) => Failure::internal(e.to_string())
                .hint("nothing was used; run it again once the bus is back"),
            e @ S::NoShare { .. } => Failure::input(e.to_string()),
            S::Corrupt { what, reason } => Failure::internal(what).cause(reason),
            S::CannotSign {
                key_id: id,
                status,
                delete_after,
            } => {
                use crate::store::db::KeyStatus;
                let (why, hint) = match status {
                    KeyStatus::Active => ("is active".to_string(), String::new()),
                    KeyStatus::Suspended => (
                        "is suspended".to_string(),
                        format!("resume it with `mpc resume {id}`, if that is what its owners decided"),
                    ),
                    KeyStatus::PendingDeletion => (
                        format!(
                            "is scheduled for deletion{}",
                            delete_after
                                .map(|t| format!(" on {}", crate::clock::format_time(t)))
                                .unwrap_or_default()
                        ),
                        format!("cancel with `mpc delete {id} --cancel`, then `mpc resume {id}`"),
                    ),
                    KeyStatus::Deleted => (
                        "was deleted: its share is destroyed".to_string(),
                        "nothing can sign with it again".to_string(),
                    ),
                    KeyStatus::Reshared => (
                        "was reshared to other holders: this home's share is destroyed".to_string(),
                        "the key's new holders sign with it".to_string(),
                    ),
                    KeyStatus::Creating | KeyStatus::Rotating => (
                        format!("is {}", status.as_str()),
                        "finish that ceremony first".to_string(),
                    ),
                };
                Failure::input(format!("key {id} {why}; it cannot sign")).hint(hint)
            }
        }
    }
}

impl From<crate::ceremony::Error> for Failure {
    /// A ceremony's error as the user sees it: the exit status from its kind, the hint
    /// from its advice, culprits by their plan labels; an error of a lower layer (the
    /// store, a plan, ...) exactly as that layer's own conversion words it.
    fn from(e: crate::ceremony::Error) -> Self {
        use crate::ceremony::ErrorKind as K;
        use crate::ceremony::error::Lower;
        let p = e.into_parts();
        let mut f = match p.lower {
            Some(Lower::Store(e)) => Failure::from(e),
            Some(Lower::Plan(e)) => Failure::from(e),
            Some(Lower::Identity(e)) => Failure::from(e),
            Some(Lower::Envelope(e)) => Failure::from(e),
            Some(Lower::Key(e)) => Failure::from(e),
            None => {
                let exit = match p.kind {
                    K::Rejected | K::Refused | K::Spent | K::PrimesNeeded | K::Ended => Exit::Usage,
                    K::Misbehaved | K::Aborted => Exit::Aborted,
                    K::Storage | K::Bug => Exit::Internal,
                };
                Failure::new(exit, p.message)
            }
        };
        f.causes.extend(p.causes);
        if let Some(a) = p.advice {
            f.hint = Some(advice(a).to_string());
        }
        if !p.culprits.is_empty() {
            f.culprits = p.culprits.into_iter().map(|c| c.label).collect();
        }
        f
    }
}

/// The words for a ceremony's [`Advice`](crate::ceremony::Advice), naming the commands
/// that help.
fn advice(a: crate::ceremony::Advice) -> &'static str {
    use crate::ceremony::Advice as A;
    match a {
        A::ReplaceFile => {
            "remove or replace this file (nothing was stored from it), then run the step again"
        }
        A::InvestigateEquivocator => {
            "a party that equivocates may be compromised; investigate before starting a new session"
        }
        A::InvestigateCulprit => "investigate the named party before starting a new session",
        A::IdentityCompromised => {
            "treat this identity as compromised: stop using this home, tell the other parties, make a new identity (`mpc init`) and have the key reshared or made anew; never restore a home with unfinished sessions (`mpc sessions list`)"
        }
        A::CompareRoundMessages => {
            "compare the round messages each party received before starting a new session"
        }
        A::NewPresignature => "make a new one with `mpc presign`, or sign without --presigned",
        A::PresignatureSpent => "the presignature is spent; make a new one and sign again",
        A::ListPresignatures => "list them with `mpc presign list`",
        A::GeneratePrimes => {
            "run `mpc primes generate` (takes seconds to minutes), then this step again"
        }
        A::RotateByReshare => {
            "nothing was sent; rotate this key by a reshare to the same parties instead: `mpc reshare plan --key KEY --from EVERY,PARTY --aux generate --party ...` (every party deals)"
        }
        A::GenerateAux => "write the plan with `--aux generate`",
        A::NewPlan => "write a new plan and start again",
        A::NewSession => "start a new session with a new plan",
        A::CompareFingerprint => "compare the plan fingerprint with every party, then run again",
        A::NewSigningSession => "start a new signing session; this one cannot continue safely",
        A::FixRelay => {
            "nothing was lost; fix the relay (its limits, or a session it expired) or use another, then run this again"
        }
        A::ShareNotLost => "a repair is for a party whose share is lost; check `mpc keys show`",
        A::FinishRefresh => "finish the refresh under way first",
        A::SeeKey => "see `mpc keys show`",
        A::RestoreOrRepair => "restore it (`mpc keys restore`) or have it repaired (`mpc repair`)",
    }
}

impl From<crate::lifecycle::Error> for Failure {
    /// A lifecycle refusal with the command that gets out of it.
    fn from(e: crate::lifecycle::Error) -> Self {
        use crate::lifecycle::{Error as E, Transition as T};
        use crate::store::db::KeyStatus as S;
        let text = e.to_string();
        match e {
            E::NotAllowed {
                key_id: id,
                status,
                transition,
            } => Failure::input(text).hint(match (transition, status) {
                (T::Suspend, _) => "only an active key can be suspended".to_string(),
                (T::Resume, S::PendingDeletion) => {
                    format!("cancel the deletion first: `mpc delete {id} --cancel`")
                }
                (T::Resume, _) => "only a suspended key can be resumed".to_string(),
                (T::ScheduleDeletion(_), S::PendingDeletion) => {
                    format!("cancel first (`mpc delete {id} --cancel`) to change the date")
                }
                (T::ScheduleDeletion(_), _) => {
                    "only an active or suspended key can be deleted".to_string()
                }
                (T::CancelDeletion, _) => {
                    "only a key pending deletion has a deletion to cancel".to_string()
                }
            }),
            E::TooEarly { .. } | E::NotShareBackup | E::Unsupported { .. } | E::CannotOpen => {
                Failure::input(text)
            }
            E::NotPendingDeletion { key_id, .. } => {
                Failure::input(text).hint(format!("schedule it first: `mpc delete {key_id}`"))
            }
            E::NotBackupable { status, .. } => {
                let f = Failure::input(text);
                match status {
                    S::Rotating => f.hint(
                        "finish the refresh (`mpc refresh run PLAN`), then back up the new share",
                    ),
                    _ => f,
                }
            }
            E::NotABackup(why) | E::Damaged(why) => Failure::input(text).cause(why),
            E::Refused {
                why, foreign_share, ..
            } => {
                let f = Failure::input(text).cause(why);
                if foreign_share {
                    f.hint("a share works only with the identity it was made for: restore that party's identity.age and card.json into this home first")
                } else {
                    f
                }
            }
            E::Store(e) => Failure::from(e),
            E::Bug { what, cause } => Failure::internal(what).cause(cause),
        }
    }
}

impl From<crate::plan::PlanError> for Failure {
    fn from(e: crate::plan::PlanError) -> Self {
        Failure::input("the plan cannot be used").cause(e)
    }
}

impl From<crate::identity::IdentityError> for Failure {
    fn from(e: crate::identity::IdentityError) -> Self {
        Failure::input("bad card").cause(e)
    }
}

impl From<crate::envelope::EnvelopeError> for Failure {
    fn from(e: crate::envelope::EnvelopeError) -> Self {
        Failure::input("bad round message").cause(e)
    }
}

impl From<crate::pubkey::KeyError> for Failure {
    fn from(e: crate::pubkey::KeyError) -> Self {
        Failure::input(e.to_string())
    }
}

/// A file the store could not write or read. A full or read-only file system says so,
/// with what to do: nothing was half-written (every write is atomic), so the step runs
/// again once there is room.
fn disk_failure(path: &std::path::Path, e: std::io::Error) -> Failure {
    let shown = path.display();
    let full = |what: &str| {
        Failure::internal(format!("cannot write {shown}: {what}"))
            .cause(&e)
            .hint("nothing was lost or half-written; make room (or make the home writable), then run the same command again")
    };
    match e.raw_os_error() {
        Some(libc::ENOSPC) | Some(libc::EDQUOT) => full("the disk is full"),
        Some(libc::EROFS) => full("the file system is read-only"),
        _ => Failure::internal("storage error").cause(format!("{shown}: {e}")),
    }
}

/// Whether SQLite gave up waiting for another connection's lock.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}
