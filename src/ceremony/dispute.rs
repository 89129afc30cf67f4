//! Settling an echo mismatch by evidence: who sent different broadcasts to different
//! parties, proven by the signed envelopes each party accepted (see `Ceremony::dispute`).

use super::error::{Advice, Error, ErrorKind, Result};
use super::{Ceremony, Generic, Journal, Progress};
use crate::engine::EngineError;
use crate::envelope::{Envelope, Protocol};
use crate::store::db::Accept;

/// The envelope round of the evidence a party broadcasts when another party's echo of a
/// broadcast round differs from its own (FROST's echo inside round 2, CGGMP21's
/// reliable-broadcast check; see `Ceremony::dispute`).
pub const EVIDENCE_ROUND: u8 = 9;

impl Ceremony {
    /// An engine step's result, with an echo mismatch turned into a dispute (`Err`)
    /// instead of blame for the party whose echo exposed it.
    pub(super) fn settle<T>(
        &self,
        r: std::result::Result<T, EngineError>,
    ) -> Result<std::result::Result<T, Generic>> {
        match r {
            Ok(v) => Ok(Ok(v)),
            Err(EngineError::EchoMismatch { round, echoers }) => {
                Ok(Err(Generic::Disputed { round, echoers }))
            }
            Err(e) => Err(self.blame(e)),
        }
    }

    /// Settles an echo mismatch by evidence. This party broadcasts (once) every signed
    /// round-`round` broadcast envelope it accepted, in an envelope of the evidence
    /// round, and reads the evidence of each party whose echo differed. Every envelope
    /// in it passes the same admission as a message file and is offered to the accepted
    /// log: two different envelopes validly signed by one sender for one slot prove that
    /// sender equivocated, and only it is named. Evidence that does not check out names
    /// the party who sent it; an echoer whose evidence matches what this party accepted
    /// echoed something no signed envelope supports, and is named.
    pub(super) fn dispute(
        &mut self,
        journal: &mut Journal,
        protocol: Protocol,
        round: u8,
        echoers: Vec<u16>,
    ) -> Result<Progress> {
        self.send_evidence(journal, protocol, round)?;
        let mut missing = Vec::new();
        for &x in &echoers {
            let Some(data) = self.evidence_from(x)? else {
                missing.push(x);
                continue;
            };
            let forged = |why: String| EngineError::PeerMisbehaved {
                culprits: vec![x],
                reason: format!("sent evidence that does not check out ({why})"),
            };
            let list: Vec<Vec<u8>> =
                postcard::from_bytes(&data).map_err(|e| self.blame(forged(e.to_string())))?;
            let origin = format!("party {}'s evidence", self.party_label(x));
            for inner in list {
                if journal.sent.contains(&inner) {
                    continue; // our own round message, as we sent it
                }
                if let Some(mine) = self.signed_by_me(&inner)? {
                    return Err(self.cloned_identity(round, &origin, &mine));
                }
                let env = self
                    .check(&inner, &origin, None)
                    .map_err(|f| self.blame(forged(f.causes().join("; "))))?;
                let h = &env.header;
                if h.protocol != protocol || h.round != round || h.recipient().is_some() {
                    return Err(self.blame(forged(format!(
                        "it holds a round-{} message, not a round-{round} broadcast",
                        h.round
                    ))));
                }
                let digest = hex::encode(env.digest());
                if self.offer(&env, &origin)? == Accept::Conflict {
                    let f = Error::new(ErrorKind::Misbehaved,
                        format!(
                            "party {} sent different round-{round} broadcasts to different parties; the session is aborted",
                            self.party_label(h.sender)
                        ),
                    )
                    .cause(format!(
                        "evidence: {origin} holds its signed round-{round} message {}, which differs from the one you accepted",
                        &digest[..16]
                    ))
                    .advise(Advice::InvestigateEquivocator)
                    .blaming(vec![self.culprit(h.sender)]);
                    return Err(f);
                }
            }
        }
        if !missing.is_empty() {
            return Ok(Progress::Waiting {
                round: EVIDENCE_ROUND,
                missing,
            });
        }
        Err(self.blame(EngineError::PeerMisbehaved {
            culprits: echoers,
            reason: format!("echoed round-{round} broadcasts that no signed message supports"),
        }))
    }

    /// `raw` if it is an envelope of this session validly signed by this party's own
    /// key as this party (the caller has checked that this home did not send it).
    fn signed_by_me(&self, raw: &[u8]) -> Result<Option<Envelope>> {
        let Ok(env) = Envelope::decode(raw) else {
            return Ok(None);
        };
        let mine = self
            .identity
            .card()
            .verifying_key()
            .map_err(|e| Error::bug("this party's own card does not parse").cause(e))?
            .to_bytes();
        let h = &env.header;
        Ok(
            (h.sender == self.me && h.sender_key == mine && h.session == self.session)
                .then_some(env),
        )
    }

    /// The abort when another party's evidence holds a message that this party's own
    /// key signed and this home never sent: the key signed two messages for one slot.
    /// Either this home was restored from a copy while the session ran, or someone else
    /// holds its identity key. The party that showed the evidence is honest and is
    /// not named; this party is.
    fn cloned_identity(&self, round: u8, origin: &str, mine: &Envelope) -> Error {
        Error::new(
            ErrorKind::Misbehaved,
            format!(
                "your own identity key signed a round-{round} message that this home never sent; the session is aborted"
            ),
        )
        .cause(format!(
            "{origin} holds it ({}), validly signed by your key, beside the one this home sent: this home was restored from a copy while the session ran, or someone else holds your identity key",
            &hex::encode(mine.digest())[..16]
        ))
        .advise(Advice::IdentityCompromised)
        .blaming(vec![self.culprit(self.me)])
    }

    /// Broadcasts, once per session, every signed round-`round` broadcast envelope of
    /// `protocol` this party accepted, as its evidence.
    fn send_evidence(
        &mut self,
        journal: &mut Journal,
        protocol: Protocol,
        round: u8,
    ) -> Result<()> {
        let decoded = |raw: &[u8]| {
            Envelope::decode(raw)
                .map_err(|e| Error::bug("a stored message no longer decodes").cause(e))
        };
        for raw in &journal.sent {
            if decoded(raw)?.header.round == EVIDENCE_ROUND {
                return Ok(());
            }
        }
        let mut accepted = Vec::new();
        for raw in self.db.messages(&self.sid)? {
            let h = decoded(&raw)?.header;
            if h.protocol == protocol && h.round == round && h.recipient().is_none() {
                accepted.push(raw);
            }
        }
        let payload = postcard::to_allocvec(&accepted)
            .map_err(|e| Error::bug("cannot encode evidence").cause(e))?;
        journal
            .sent
            .push(self.seal(protocol, EVIDENCE_ROUND, None, &payload)?);
        self.commit_step(journal, None)
    }

    /// Another party's evidence came in: this party answers with its own (once), so a
    /// dispute anywhere is settled with every honest party's view, whatever this party
    /// saw itself. Every echoed round in mpc's protocols is round 1.
    pub(super) fn answer_evidence(&mut self) -> Result<()> {
        let Some(protocol) = self.db.evidence_protocol(&self.sid, EVIDENCE_ROUND)? else {
            return Ok(());
        };
        let protocol = Protocol::from_name(&protocol)
            .ok_or_else(|| Error::bug("evidence of an unknown protocol was accepted"))?;
        let mut journal = self.load_journal()?;
        self.send_evidence(&mut journal, protocol, 1)
    }

    /// The opened payload of party `x`'s evidence envelope, if accepted.
    fn evidence_from(&self, x: u16) -> Result<Option<Vec<u8>>> {
        Ok(self
            .accepted()?
            .into_iter()
            .find(|(h, _)| h.round == EVIDENCE_ROUND && h.sender == x)
            .map(|(_, data)| data))
    }
}
