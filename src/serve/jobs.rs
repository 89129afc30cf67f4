//! Work the API runs in the background: a session started with `POST /sessions`, and a
//! key generation that outlasts what `POST /keys` waits (it answers 202 with the job).
//! A job is followed at `GET /sessions/{id}` until it is `done` (with its result) or
//! `failed` (with the error, as a request would have had it). Jobs live in memory: the
//! ceremonies they run are in the home's database as ever, but the job records of a
//! node that restarts are gone. The newest 1000 are kept.
//!
//! A job is a task with a time limit ([`within`]): its sessions have deadlines of their
//! own, shorter than the limit, so the limit only ends work that is stuck; the job then
//! fails with 504 `timed_out`.

use super::ApiError;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// `work`, given at most `limit`: past it the work is dropped (the sessions it runs
/// end with it) and the answer is 504 `timed_out`.
pub async fn within(
    limit: Duration,
    work: impl std::future::Future<Output = Result<serde_json::Value, ApiError>>,
) -> Result<serde_json::Value, ApiError> {
    tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
        Err(super::Error::TimedOut {
            message: format!(
                "the job ran for {}s, the most a job may, and was stopped",
                limit.as_secs_f64()
            ),
            awaited: Vec::new(),
            ignored: None,
        }
        .into())
    })
}

/// How many finished jobs are remembered.
const KEEP: usize = 1000;

/// A job as `GET /sessions/{id}` shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Job {
    /// The job's id, hex.
    pub id: String,
    /// keygen, sign, presign or refresh.
    pub kind: String,
    /// The key it is about (none for a key generation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Where it is.
    pub status: JobStatus,
    /// Unix seconds.
    pub started_at: u64,
    /// Unix seconds, once over.
    pub finished_at: Option<u64>,
    /// What a request would have answered (a key, a signature).
    pub result: Option<serde_json::Value>,
    /// Why it failed.
    pub error: Option<ApiError>,
    /// Its HTTP status, as a request would have had it (once over).
    pub http_status: Option<u16>,
}

/// Where a job is (shown as `running`, `done` or `failed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Still working.
    Running,
    /// Over, with its result.
    Done,
    /// Over, with its error.
    Failed,
}

/// This node's jobs.
#[derive(Default)]
pub struct Jobs {
    all: Mutex<HashMap<String, Job>>,
}

use super::lock;

impl Jobs {
    /// Records a new running job of `kind`; its id.
    pub fn start(&self, kind: &str, key_id: Option<String>) -> String {
        let mut id = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut id);
        let id = hex::encode(id);
        let mut all = lock(&self.all);
        if all.len() >= KEEP {
            // Forget the oldest finished ones.
            let mut done: Vec<(u64, String)> = all
                .values()
                .filter(|j| j.finished_at.is_some())
                .map(|j| (j.started_at, j.id.clone()))
                .collect();
            done.sort();
            for (_, old) in done.iter().take(all.len() + 1 - KEEP) {
                all.remove(old);
            }
        }
        all.insert(
            id.clone(),
            Job {
                id: id.clone(),
                kind: kind.into(),
                key_id,
                status: JobStatus::Running,
                started_at: crate::clock::now(),
                finished_at: None,
                result: None,
                error: None,
                http_status: None,
            },
        );
        id
    }

    /// Records how job `id` ended (`ok` is the status a request would have had).
    pub fn finish(&self, id: &str, ok: u16, result: Result<serde_json::Value, ApiError>) {
        if let Some(j) = lock(&self.all).get_mut(id) {
            j.finished_at = Some(crate::clock::now());
            match result {
                Ok(v) => {
                    j.status = JobStatus::Done;
                    j.result = Some(v);
                    j.http_status = Some(ok);
                }
                Err(e) => {
                    j.status = JobStatus::Failed;
                    j.http_status = Some(e.status);
                    j.error = Some(e);
                }
            }
        }
    }

    /// The job whose id starts with `prefix`, if exactly one does (`Err` when several).
    pub fn find(&self, prefix: &str) -> Result<Option<Job>, super::Error> {
        let prefix = prefix.to_ascii_lowercase();
        let all = lock(&self.all);
        let found: Vec<&Job> = all.values().filter(|j| j.id.starts_with(&prefix)).collect();
        match found.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some((*one).clone())),
            more => Err(super::Error::Ambiguous {
                what: super::error::Ambiguous::Session,
                message: format!("{} jobs start with {prefix}", more.len()),
            }),
        }
    }

    /// The jobs, newest first.
    pub fn list(&self) -> Vec<Job> {
        let mut all: Vec<Job> = lock(&self.all).values().cloned().collect();
        all.sort_by(|a, b| b.started_at.cmp(&a.started_at).then(a.id.cmp(&b.id)));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_job_past_its_limit_fails_as_timed_out() {
        let stuck = within(Duration::from_millis(20), std::future::pending()).await;
        let e = stuck.unwrap_err();
        assert_eq!((e.status, e.code), (504, "timed_out"));
        let quick = within(Duration::from_secs(5), async { Ok(serde_json::json!(1)) }).await;
        assert_eq!(quick.unwrap(), serde_json::json!(1));
    }
}
