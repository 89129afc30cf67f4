//! The live CGGMP21 runner: a protocol run kept going on its own thread between steps,
//! so a waiting process replays nothing, and the replay-from-seed fallback that rebuilds
//! it (`--step` processes, a restarted party).

use super::*;

/// The thread side of a [`Live`] run: where batches of received messages arrive and
/// where waiting points are reported.
pub struct Link<O> {
    inbox: mpsc::Receiver<Vec<Received>>,
    reports: mpsc::Sender<Result<Replay<O>, EngineError>>,
}

/// The owner of a [`Live`] run went away: the thread stops.
pub(super) fn stopped() -> EngineError {
    EngineError::Bug("the protocol run was stopped".into())
}

/// Runs `sm` over the batches arriving on `link`, checking re-emitted messages against
/// `sent`; reports `Waiting` each time a batch is used up and the state machine needs
/// more, and returns the output with the messages emitted since the last report.
pub(super) fn drive<SM, R, O, Er>(
    mut sm: SM,
    link: &Link<O>,
    sent: &[[u8; 32]],
) -> Result<(R, Vec<Sent>), EngineError>
where
    SM: StateMachine<Output = Result<R, Er>>,
    SM::Msg: Serialize + DeserializeOwned + ProtocolMessage,
    Er: std::error::Error,
{
    let mut queue = std::collections::VecDeque::new();
    // Each batch gets one report, made when it is used up; none before the first.
    let mut fed = false;
    let mut emitted = 0usize;
    let mut new = Vec::new();
    let mut id = 0u64;
    loop {
        match sm.proceed() {
            ProceedResult::SendMsg(out) => {
                let data = postcard::to_allocvec(&out.msg).map_err(bug)?;
                match sent.get(emitted) {
                    Some(h) if *h != sent_hash(&data) => {
                        return Err(bug(
                            "replay diverged: a regenerated message differs from the one sent",
                        ));
                    }
                    Some(_) => {}
                    None => new.push(Sent {
                        round: out.msg.round(),
                        recipient: match out.recipient {
                            MessageDestination::OneParty(p) => Some(p),
                            MessageDestination::AllParties => None,
                        },
                        data,
                    }),
                }
                emitted += 1;
            }
            ProceedResult::NeedsOneMoreMessage => {
                let r = loop {
                    if let Some(r) = queue.pop_front() {
                        break r;
                    }
                    if fed {
                        let waiting = Replay::Waiting {
                            new: std::mem::take(&mut new),
                        };
                        link.reports.send(Ok(waiting)).map_err(|_| stopped())?;
                    }
                    queue.extend(link.inbox.recv().map_err(|_| stopped())?);
                    fed = true;
                };
                let msg: SM::Msg =
                    postcard::from_bytes(&r.data).map_err(|_| EngineError::PeerMisbehaved {
                        culprits: vec![r.sender],
                        reason: "sent a malformed ECDSA protocol message".into(),
                    })?;
                let msg_type = if r.broadcast {
                    MessageType::Broadcast
                } else {
                    MessageType::P2P
                };
                sm.received_msg(Incoming {
                    id,
                    sender: r.sender,
                    msg_type,
                    msg,
                })
                .map_err(|_| bug("state machine refused a message"))?;
                id += 1;
            }
            ProceedResult::Yielded => {}
            ProceedResult::Output(Ok(output)) => return Ok((output, new)),
            ProceedResult::Output(Err(e)) => {
                // cggmp21's reliable-broadcast check names the parties whose echo of
                // round 1 differs (`Round1NotReliable`, `Round1aNotReliable`): they may
                // be honest messengers of someone else's split view, so the caller
                // settles it with evidence instead of blaming them.
                if format!("{e:?}").contains("NotReliable") {
                    return Err(EngineError::EchoMismatch {
                        round: 1,
                        echoers: blame(&e),
                    });
                }
                let mut reason = format!("the ECDSA protocol aborted: {e}");
                let mut source = e.source();
                while let Some(cause) = source {
                    reason.push_str(&format!(": {cause}"));
                    source = cause.source();
                }
                return Err(EngineError::PeerMisbehaved {
                    culprits: blame(&e),
                    reason,
                });
            }
            ProceedResult::Error(e) => return Err(bug(e)),
        }
    }
}

/// A protocol run kept alive between steps.
///
/// The state machine lives in its own thread (it borrows its RNG and key share, and
/// cannot be stored or serialized); batches of newly accepted messages go in, and each
/// batch gives back one [`Replay`]. A waiting process keeps its `Live` from step to step
/// and never replays; a `--step` process starts one from the seed, replays the accepted
/// log once (checking re-emitted messages against the hashes of those sent) and drops
/// it. Dropping stops the thread.
pub struct Live<O> {
    feed: Option<mpsc::Sender<Vec<Received>>>,
    reports: mpsc::Receiver<Result<Replay<O>, EngineError>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Hashes of the messages fed so far.
    fed: std::collections::HashSet<[u8; 32]>,
    finished: bool,
}

/// What identifies a received message for [`Live::advance`].
pub(super) fn received_hash(r: &Received) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(r.sender.to_be_bytes());
    h.update([r.broadcast as u8]);
    h.update(&r.data);
    h.finalize().into()
}

impl<O: Send + 'static> Live<O> {
    /// Starts `body` (which builds the state machine and calls `drive`) in a thread, feeds
    /// it `received`, and returns the run with its first report.
    pub(super) fn start<F>(
        received: &[Received],
        body: F,
    ) -> Result<(Live<O>, Replay<O>), EngineError>
    where
        F: FnOnce(&Link<O>) -> Result<(O, Vec<Sent>), EngineError> + Send + 'static,
    {
        let (feed, inbox) = mpsc::channel();
        let (report, reports) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("cggmp21".into())
            .stack_size(64 << 20)
            .spawn(move || {
                let link = Link {
                    inbox,
                    reports: report,
                };
                let result = body(&link).map(|(output, new)| Replay::Done { output, new });
                // The owner may be gone (then nobody is waiting for this).
                let _ = link.reports.send(result);
            })
            .map_err(bug)?;
        let mut live = Live {
            feed: Some(feed),
            reports,
            thread: Some(thread),
            fed: Default::default(),
            finished: false,
        };
        let first = live.feed_batch(received.to_vec())?;
        Ok((live, first))
    }

    pub(super) fn feed_batch(&mut self, batch: Vec<Received>) -> Result<Replay<O>, EngineError> {
        self.fed.extend(batch.iter().map(received_hash));
        let feed = self.feed.as_ref().ok_or_else(stopped)?;
        feed.send(batch).map_err(|_| stopped())?;
        let report = self.reports.recv().map_err(|_| stopped())?;
        if !matches!(report, Ok(Replay::Waiting { .. })) {
            self.finished = true;
        }
        report
    }

    /// Continues with `received`, every message of the protocol accepted so far, and
    /// feeds it those it has not seen (in their order in `received`: cggmp21 does not
    /// depend on the delivery order). `None` if this run cannot continue (finished, or a
    /// message it was fed is missing from `received`); then start a new run from the seed.
    pub fn advance(&mut self, received: &[Received]) -> Option<Result<Replay<O>, EngineError>> {
        let hashes: Vec<[u8; 32]> = received.iter().map(received_hash).collect();
        let present: std::collections::HashSet<&[u8; 32]> = hashes.iter().collect();
        if self.finished || self.fed.iter().any(|h| !present.contains(h)) {
            return None;
        }
        let batch: Vec<Received> = received
            .iter()
            .zip(&hashes)
            .filter(|(_, h)| !self.fed.contains(*h))
            .map(|(r, _)| r.clone())
            .collect();
        if batch.is_empty() {
            return Some(Ok(Replay::Waiting { new: Vec::new() }));
        }
        Some(self.feed_batch(batch))
    }
}

impl<O> Drop for Live<O> {
    fn drop(&mut self) {
        // Closing the feed ends the thread, which is idle waiting for a batch.
        self.feed.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A run started from the seed: the run to keep and where it stopped.
pub type Started<O> = (Live<O>, Replay<O>);
