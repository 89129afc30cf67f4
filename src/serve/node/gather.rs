//! Gathering one-round FROST requests into one round trip.
//!
//! A one-round request pays, besides its FROST work, a node message each way (an
//! Ed25519 signature and its check, a hop through the bus), a decision row committed
//! on every signer, and the wake-ups between them: under load that was most of a
//! request's CPU (BENCHMARKS.md "Where the time goes"). So a coordinator keeps at most
//! [`IN_FLIGHT`] round trips per key under way; a request for that key that arrives
//! while they are waits, and the next round trip to start (when one of them ends)
//! carries every request waiting by then (up to [`MAX_BATCH`] messages and what fits
//! the bus's frame) in one `FastSign`. A request that finds fewer under way leaves at
//! once: at low load nothing waits.
//!
//! The signers see a `FastSign` of several messages, as a batch request makes: each
//! checks, counts against its hourly limit and audits every message, one row each,
//! before its shares leave. What the gathered requests share is the round trip: its
//! id (the answer's `session`), its signers and its fate. A failure of the round trip
//! itself (a signer that did not answer in time, declined for its state or its nonces,
//! or sent a bad share; the bus down) is each request's failure, as it would have been
//! alone, and each retries as it would have. A refusal by a policy is not shared: an
//! hourly limit counts every message of the round trip, so it may refuse the whole
//! where a request alone would fit; each request then tries again on its own, and is
//! refused only where it would have been alone. A request whose wait is cut short
//! (the client went away, the request's time ran out) leaves the gathering without
//! taking anyone with it: the requests it carried try again alone.
//!
//! Requests that already leave nodes out (a retry) are never gathered: their signers
//! differ from the first try's. Nor are ECDSA requests, which have no nonce pools.

use super::Node;
use crate::serve::error::{DeclineReason, Error, Result};
use crate::serve::nonces::{FastSigned, MAX_BATCH};
use crate::store::db::KeyRecord;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Round trips a coordinator keeps under way per key; the requests that arrive
/// meanwhile wait and go together in the next. Two, measured (BENCHMARKS.md): with
/// one, a key's next round trip could not start while the last one's shares were
/// being aggregated, and batches of requests lost more than they gained; with three
/// or four, fewer requests went together.
pub const IN_FLIGHT: usize = 2;

type Map = Arc<Mutex<HashMap<String, Lane>>>;

/// The keys' lanes of one coordinator.
#[derive(Default)]
pub(super) struct Lanes(Map);

/// One key's round trips under way and the requests waiting for the next.
#[derive(Default)]
struct Lane {
    running: usize,
    waiting: VecDeque<Waiter>,
}

/// A request waiting to be carried.
struct Waiter {
    messages: Vec<Vec<u8>>,
    /// Its share of the node message ([`super::sign::bus_need`]).
    need: usize,
    turn: oneshot::Sender<Turn>,
}

/// What a waiting request is told.
enum Turn {
    /// It leads the next round trip.
    Lead(Baton),
    /// The round trip it went in signed its messages.
    Signed(FastSigned),
    /// The round trip it went in failed so.
    Failed(Error),
    /// It tries on its own.
    Alone,
}

/// A request's place: it leads a round trip now, or waits for its turn.
enum Joined {
    Lead(Baton),
    Wait(oneshot::Receiver<Turn>),
}

/// The right to run one of a lane's round trips, with the requests it carries. The
/// lane goes on when it is passed, or dropped however (a request cut short, or one
/// that went away before it got it: the requests it carried then try alone).
struct Baton {
    lanes: Map,
    key_id: String,
    /// How much of a node message the requests may take together.
    room: usize,
    carried: Vec<Waiter>,
    passed: bool,
}

impl Baton {
    /// Ends this round trip in the lane: the requests waiting (as many as one round
    /// trip takes, in order, the first always) go in the next, led by the first of
    /// them still waiting; with none, the lane has one fewer under way.
    fn pass(&mut self) {
        if std::mem::replace(&mut self.passed, true) {
            return;
        }
        let mut lanes = self.lanes.lock().unwrap_or_else(|p| p.into_inner());
        let Some(lane) = lanes.get_mut(&self.key_id) else {
            return;
        };
        while let Some(first) = lane.waiting.pop_front() {
            let (mut count, mut need) = (first.messages.len(), first.need);
            let mut carried = Vec::new();
            while let Some(next) = lane.waiting.front() {
                if count + next.messages.len() > MAX_BATCH || need + next.need > self.room {
                    break;
                }
                count += next.messages.len();
                need += next.need;
                carried.extend(lane.waiting.pop_front());
            }
            let baton = Baton {
                lanes: Arc::clone(&self.lanes),
                key_id: self.key_id.clone(),
                room: self.room,
                carried,
                passed: false,
            };
            match first.turn.send(Turn::Lead(baton)) {
                Ok(()) => return,
                // That request has gone: the next one waiting leads instead (this
                // baton is given up here, under the lock, not passed).
                Err(Turn::Lead(mut back)) => {
                    back.passed = true;
                    for w in std::mem::take(&mut back.carried).into_iter().rev() {
                        lane.waiting.push_front(w);
                    }
                }
                Err(_) => {}
            }
        }
        lane.running -= 1;
        if lane.running == 0 {
            lanes.remove(&self.key_id);
        }
    }
}

impl Drop for Baton {
    fn drop(&mut self) {
        self.pass();
    }
}

impl Lanes {
    /// Puts a request for `key_id` in its lane.
    fn join(&self, key_id: &str, messages: &[Vec<u8>], need: usize, room: usize) -> Joined {
        let mut lanes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let lane = lanes.entry(key_id.to_string()).or_default();
        if lane.running < IN_FLIGHT {
            lane.running += 1;
            return Joined::Lead(Baton {
                lanes: Arc::clone(&self.0),
                key_id: key_id.to_string(),
                room,
                carried: Vec::new(),
                passed: false,
            });
        }
        let (turn, rx) = oneshot::channel();
        lane.waiting.push_back(Waiter {
            messages: messages.to_vec(),
            need,
            turn,
        });
        Joined::Wait(rx)
    }

    /// Requests waiting, over all keys.
    pub(super) fn waiting(&self) -> usize {
        let lanes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        lanes.values().map(|l| l.waiting.len()).sum()
    }
}

/// Whether the failure of a round trip may concern what it carried rather than the
/// round trip: a policy's refusal (an hourly limit counts every message).
fn refused_for_what_it_carried(e: &Error) -> bool {
    e.declined()
        .is_some_and(|d| d.reason == DeclineReason::PolicyRefused)
}

impl Node {
    /// Signs `messages` from the nonce pools as [`Node::sign_fast`] does, in one round
    /// trip with the other requests for `key` waiting at this node (module doc).
    pub(super) async fn sign_gathered(
        &self,
        key: &KeyRecord,
        messages: &[Vec<u8>],
        without: &[String],
    ) -> Option<Result<FastSigned>> {
        // ECDSA has no nonce pools (`sign_fast` declines it at once): nothing to wait for.
        if !without.is_empty() || key.scheme == crate::scheme::Scheme::EcdsaSecp256k1 {
            return self.sign_alone(key, messages, without).await;
        }
        let room = self
            .cluster
            .bus()
            .map_or(usize::MAX, |b| b.max_payload())
            .saturating_sub(super::sign::BUS_FRAMING);
        let need = super::sign::bus_need(messages, key.threshold);
        let mut baton = match self.lanes.join(&key.id, messages, need, room) {
            Joined::Lead(b) => b,
            Joined::Wait(rx) => match rx.await {
                Ok(Turn::Lead(b)) => b,
                Ok(Turn::Signed(f)) => return Some(Ok(f)),
                Ok(Turn::Failed(e)) => return Some(Err(e)),
                // The request that carried this one went away, or its round trip was
                // refused for what it carried.
                Ok(Turn::Alone) | Err(_) => return self.sign_alone(key, messages, &[]).await,
            },
        };
        let carried = std::mem::take(&mut baton.carried);
        if carried.is_empty() {
            let signed = self.sign_alone(key, messages, &[]).await;
            baton.pass();
            return signed;
        }
        let mut all = messages.to_vec();
        for w in &carried {
            all.extend(w.messages.iter().cloned());
        }
        let signed = self.sign_fast(key, &all, &[]).await;
        baton.pass();
        if signed.is_some() {
            crate::serve::metrics::round_trip(carried.len() + 1);
        }
        match signed {
            Some(Ok(f)) => {
                let mut rest = f.signatures.into_iter();
                let mine: Vec<Vec<u8>> = rest.by_ref().take(messages.len()).collect();
                for w in carried {
                    let theirs = rest.by_ref().take(w.messages.len()).collect();
                    let _ = w.turn.send(Turn::Signed(FastSigned {
                        signatures: theirs,
                        signers: f.signers.clone(),
                        id: f.id.clone(),
                    }));
                }
                Some(Ok(FastSigned {
                    signatures: mine,
                    signers: f.signers,
                    id: f.id,
                }))
            }
            Some(Err(e)) if !refused_for_what_it_carried(&e) => {
                for w in carried {
                    let _ = w.turn.send(Turn::Failed(e.shared()));
                }
                Some(Err(e))
            }
            // Not enough nonces for all of them, or a policy refused the whole: each
            // on its own.
            _ => {
                for w in carried {
                    let _ = w.turn.send(Turn::Alone);
                }
                self.sign_alone(key, messages, &[]).await
            }
        }
    }

    /// One request's round trip on its own.
    async fn sign_alone(
        &self,
        key: &KeyRecord,
        messages: &[Vec<u8>],
        without: &[String],
    ) -> Option<Result<FastSigned>> {
        let signed = self.sign_fast(key, messages, without).await;
        if signed.is_some() {
            crate::serve::metrics::round_trip(1);
        }
        signed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead(j: Joined) -> Baton {
        match j {
            Joined::Lead(b) => b,
            Joined::Wait(_) => panic!("waits"),
        }
    }

    fn wait(j: Joined) -> oneshot::Receiver<Turn> {
        match j {
            Joined::Wait(rx) => rx,
            Joined::Lead(_) => panic!("leads"),
        }
    }

    fn led(rx: &mut oneshot::Receiver<Turn>) -> Baton {
        match rx.try_recv() {
            Ok(Turn::Lead(b)) => b,
            Ok(_) => panic!("told something else"),
            Err(e) => panic!("not told: {e}"),
        }
    }

    fn one(n: u8) -> Vec<Vec<u8>> {
        vec![vec![n]]
    }

    /// Lanes whose lane `k` is full: its first round trip, and the others under way.
    fn full() -> (Lanes, Baton, Vec<Baton>) {
        let lanes = Lanes::default();
        let first = lead(lanes.join("k", &one(0), 10, 100));
        let others = (1..IN_FLIGHT)
            .map(|_| lead(lanes.join("k", &one(0), 10, 100)))
            .collect();
        (lanes, first, others)
    }

    #[test]
    fn the_first_request_leads_and_the_next_round_trip_carries_all_that_waited() {
        let (lanes, mut first, mut others) = full();
        let mut rx: Vec<_> = (2..=4)
            .map(|n| wait(lanes.join("k", &one(n), 10, 100)))
            .collect();
        // Another key has a lane of its own.
        let mut other = lead(lanes.join("other", &one(9), 10, 100));
        assert_eq!(lanes.waiting(), 3);
        assert!(
            rx[0].try_recv().is_err(),
            "nobody is told before the round trip ends"
        );
        first.pass();
        let mut second = led(&mut rx[0]);
        let carried: Vec<Vec<Vec<u8>>> =
            second.carried.iter().map(|w| w.messages.clone()).collect();
        assert_eq!(carried, vec![one(3), one(4)]);
        assert_eq!(lanes.waiting(), 0);
        drop(std::mem::take(&mut second.carried));
        second.pass();
        others.iter_mut().for_each(Baton::pass);
        // The lane is gone once nothing is under way, and the next request leads.
        assert!(!lanes.0.lock().unwrap().contains_key("k"));
        let _again = lead(lanes.join("k", &one(5), 10, 100));
        other.pass();
        assert!(!lanes.0.lock().unwrap().contains_key("other"));
    }

    #[test]
    fn a_round_trip_carries_no_more_than_a_batch_or_the_bus_s_room() {
        let (lanes, mut first, _others) = full();
        let big = vec![vec![0u8]; MAX_BATCH - 1];
        let mut a = wait(lanes.join("k", &one(1), 10, 100));
        let _b = wait(lanes.join("k", &big, 10, 100));
        first.pass();
        // 1 + (MAX_BATCH - 1) messages fit one batch.
        let mut led_a = led(&mut a);
        assert_eq!(led_a.carried.len(), 1);
        drop(std::mem::take(&mut led_a.carried));
        // By the bus's room: 40 + 40 fit in 100, a third does not.
        let mut c = wait(lanes.join("k", &one(2), 40, 100));
        let _d = wait(lanes.join("k", &one(3), 40, 100));
        let _e = wait(lanes.join("k", &one(4), 40, 100));
        led_a.pass();
        let led_c = led(&mut c);
        assert_eq!(led_c.carried.len(), 1);
        assert_eq!(lanes.waiting(), 1);
    }

    #[test]
    fn a_request_that_went_away_is_passed_over_and_one_cut_short_lets_the_rest_go_alone() {
        let (lanes, mut first, mut others) = full();
        let gone = wait(lanes.join("k", &one(2), 10, 100));
        let mut next = wait(lanes.join("k", &one(3), 10, 100));
        let mut last = wait(lanes.join("k", &one(4), 10, 100));
        drop(gone);
        first.pass();
        // The request that went away neither leads nor is carried.
        let leader = led(&mut next);
        assert_eq!(leader.carried.len(), 1);
        assert_eq!(leader.carried[0].messages, one(4));
        // The leader is cut short: the request it carried hears nothing and goes alone
        // (its channel closes), and the lane goes on.
        drop(leader);
        assert!(matches!(
            last.try_recv(),
            Err(oneshot::error::TryRecvError::Closed)
        ));
        others.iter_mut().for_each(Baton::pass);
        assert!(!lanes.0.lock().unwrap().contains_key("k"));
    }

    #[test]
    fn a_lead_never_received_is_passed_on() {
        let (lanes, mut first, mut others) = full();
        let told = wait(lanes.join("k", &one(2), 10, 100));
        first.pass();
        let mut after = wait(lanes.join("k", &one(3), 10, 100));
        // The request was told to lead, then went away before it looked.
        drop(told);
        let mut b = led(&mut after);
        assert!(b.carried.is_empty());
        b.pass();
        others.iter_mut().for_each(Baton::pass);
        assert!(!lanes.0.lock().unwrap().contains_key("k"));
    }
}
