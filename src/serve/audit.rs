//! The node's audit writer: one thread, on the node's one database connection, appends the
//! rows of every request and session decision, many per transaction (group commit),
//! and answers each caller once its row is durable. A caller that needs the row
//! before it goes on (a signature is not returned, a share is not sent, before its
//! row) waits for that answer; the chain is the same hash-chained `audit` table the
//! CLI writes, with a signed checkpoint at least every second while rows arrive.
//!
//! It is the node's one thread of its own, not a task: its last act, a signed
//! checkpoint once every handle is gone, may come after the node's runtime has ended
//! (a runtime waits for its blocking tasks as it stops, and would wait for this one).

use crate::identity::Identity;
use crate::store::db::Db;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Rows written in one transaction at most.
const BATCH: usize = 512;

struct Row {
    action: String,
    subject: String,
    detail: serde_json::Value,
    done: tokio::sync::oneshot::Sender<Result<(), String>>,
}

/// The answer when the writer is gone.
fn stopped<E>(_: E) -> Result<(), String> {
    Err("the audit writer has stopped".into())
}

/// Rows on their way to the log.
#[must_use = "a row counts once it is durable: wait for it"]
pub struct Pending(Vec<tokio::sync::oneshot::Receiver<Result<(), String>>>);

impl Pending {
    /// Waits until every row is durable (from async code).
    pub async fn done(self) -> Result<(), String> {
        for w in self.0 {
            w.await.unwrap_or_else(stopped)?;
        }
        Ok(())
    }

    /// Waits until every row is durable (from a blocking thread).
    pub fn wait(self) -> Result<(), String> {
        for w in self.0 {
            w.blocking_recv().unwrap_or_else(stopped)?;
        }
        Ok(())
    }
}

/// A handle on the writer thread.
#[derive(Clone)]
pub struct AuditWriter {
    tx: mpsc::Sender<Row>,
}

impl AuditWriter {
    /// Starts the writer on the node's database `db`, signing checkpoints as `identity`.
    pub fn start(db: Db, identity: Arc<Identity>) -> std::io::Result<AuditWriter> {
        let (tx, rx) = mpsc::channel::<Row>();
        let name = identity.card().name;
        std::thread::Builder::new()
            .name("mpc-audit".into())
            .spawn(move || {
                let mut last_checkpoint = Instant::now();
                while let Ok(first) = rx.recv() {
                    let mut rows = vec![first];
                    while rows.len() < BATCH {
                        match rx.try_recv() {
                            Ok(r) => rows.push(r),
                            Err(_) => break,
                        }
                    }
                    let list: Vec<(&str, &str, &serde_json::Value)> = rows
                        .iter()
                        .map(|r| (r.action.as_str(), r.subject.as_str(), &r.detail))
                        .collect();
                    crate::fault::audit_delay(&name, list.iter().map(|(a, _, _)| *a));
                    let result = db.audit_batch(&list).map_err(|e| e.to_string());
                    if result.is_ok() && last_checkpoint.elapsed() >= Duration::from_secs(1) {
                        let _ = db.checkpoint(|m| identity.sign(m));
                        last_checkpoint = Instant::now();
                    }
                    for r in rows {
                        let _ = r.done.send(result.clone());
                    }
                }
                // Every handle is gone: sign the head once more.
                let _ = db.checkpoint(|m| identity.sign(m));
            })?;
        Ok(AuditWriter { tx })
    }

    fn submit(
        &self,
        action: &str,
        subject: &str,
        detail: serde_json::Value,
    ) -> tokio::sync::oneshot::Receiver<Result<(), String>> {
        let (done, rx) = tokio::sync::oneshot::channel();
        let row = Row {
            action: action.into(),
            subject: subject.into(),
            detail,
            done,
        };
        if let Err(mpsc::SendError(row)) = self.tx.send(row) {
            let _ = row.done.send(stopped(()));
        }
        rx
    }

    /// Appends a row and waits until it is durable (from a blocking thread).
    pub fn write(
        &self,
        action: &str,
        subject: &str,
        detail: serde_json::Value,
    ) -> Result<(), String> {
        self.write_all(action, vec![(subject.to_string(), detail)])
    }

    /// Appends rows (`subject`, `detail`) under one action and waits until all are
    /// durable.
    pub fn write_all(
        &self,
        action: &str,
        rows: Vec<(String, serde_json::Value)>,
    ) -> Result<(), String> {
        self.submit_all(action, rows).wait()
    }

    /// Appends rows under one action without waiting: [`Pending::wait`] says when they
    /// are durable. Rows are committed in the order they are submitted, so a row that
    /// is durable means every row submitted before it is too.
    pub fn submit_all(&self, action: &str, rows: Vec<(String, serde_json::Value)>) -> Pending {
        Pending(
            rows.into_iter()
                .map(|(subject, detail)| self.submit(action, &subject, detail))
                .collect(),
        )
    }

    /// Appends a row and waits until it is durable (from async code).
    pub async fn write_async(
        &self,
        action: &str,
        subject: &str,
        detail: serde_json::Value,
    ) -> Result<(), String> {
        self.submit(action, subject, detail)
            .await
            .unwrap_or_else(stopped)
    }
}
