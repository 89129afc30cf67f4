//! Admission: every incoming envelope, from a message file, a relay download or another
//! party's evidence, is checked against the plan (session, scheme and protocol, sender
//! and its key, participation, recipient, round, file name) and opened before it is
//! offered to the accepted log; a different envelope for a filled slot is equivocation.
//! A rejection names where the message came from and stores nothing.

use super::error::{Advice, Error, ErrorKind, Result};
use super::{Ceremony, EVIDENCE_ROUND, Report, max_round, protocols};
use crate::envelope::{Envelope, Header, NameInfo};
use crate::identity::Identity;
use crate::plan::Plan;
use crate::store::db::{Accept, IncomingMessage};
use crate::transport::Incoming;
use std::path::Path;

impl Ceremony {
    /// Takes what every carrier brought and stores each valid new envelope; returns how
    /// many were new. A bad message from a carrier whose input stays (a file) stops the
    /// step and names it; one from a carrier that skips bad input (a relay, the
    /// in-memory board) is reported and ignored. Nothing is stored from either.
    pub(super) fn ingest(&mut self) -> Result<usize> {
        let mut new = 0;
        for i in 0..self.carriers.len() {
            let incoming = self.carriers[i]
                .incoming(&self.session, self.me)
                .map_err(super::carrier_failure)?;
            for msg in incoming {
                match self.admit(&msg) {
                    Ok(fresh) => new += usize::from(fresh),
                    Err(f) if !msg.stops && f.kind() == ErrorKind::Rejected => {
                        self.reports.push(Report::Ignored(f));
                        continue;
                    }
                    Err(f) if msg.stops && f.kind() == ErrorKind::Rejected => {
                        return Err(f.advise(Advice::ReplaceFile));
                    }
                    Err(f) => return Err(f),
                }
                self.carriers[i].handled(&msg);
            }
        }
        Ok(new)
    }

    /// Admits one incoming message: checks it and offers it to the accepted log. Returns
    /// whether it was new; a conflicting message for a filled slot is an abort naming its
    /// sender.
    fn admit(&mut self, msg: &Incoming) -> Result<bool> {
        let bytes = msg
            .bytes
            .as_ref()
            .map_err(|e| Error::rejected(format!("rejected {}", msg.origin)).cause(e))?;
        let env = self.check(bytes, &msg.origin, msg.name.as_ref())?;
        let h = &env.header;
        match self.offer(&env, &msg.origin)? {
            Accept::Conflict => {
                let f = Error::new(
                    ErrorKind::Misbehaved,
                    format!(
                        "party {} sent two different round-{} messages; the session is aborted",
                        self.party_label(h.sender),
                        h.round
                    ),
                )
                .cause(format!(
                    "{}: conflicts with the message accepted earlier",
                    msg.origin
                ))
                .advise(Advice::InvestigateEquivocator)
                .blaming(vec![self.culprit(h.sender)]);
                Err(f)
            }
            Accept::New => {
                if msg.name.is_none() {
                    self.reports.push(Report::Received(format!(
                        "{} ({})",
                        env.file_name(),
                        msg.origin
                    )));
                }
                Ok(true)
            }
            Accept::Duplicate => Ok(false),
        }
    }

    /// Offers a checked envelope from `source` to the accepted log, for its slot.
    pub(super) fn offer(&mut self, env: &Envelope, source: &str) -> Result<Accept> {
        let h = &env.header;
        Ok(self.db.accept_message(&IncomingMessage {
            session: &self.sid,
            protocol: h.protocol.name(),
            round: h.round,
            sender: h.sender,
            recipient: h.recipient,
            digest: &hex::encode(env.digest()),
            envelope: env.as_bytes(),
            source,
        })?)
    }

    /// Checks a message from `origin` against this session's plan (see [`admit_check`]).
    pub(super) fn check(
        &self,
        bytes: &[u8],
        origin: &str,
        name: Option<&NameInfo>,
    ) -> Result<Envelope> {
        admit_check(&self.plan, self.me, &self.identity, bytes, origin, name)
    }
}

/// Admission: the checks every incoming message passes, whichever way it came (a file,
/// a relay download, an in-memory board, another party's evidence, a server's request):
/// it decodes, belongs to `plan`'s session, scheme and protocols, is signed by the key of
/// the party it names as sender (a participant, not `me`), is addressed to `me` or to
/// everyone, is of a round the protocol has, agrees with what its file `name` claims,
/// and opens (a private payload decrypts for `identity`). A pure function: it stores
/// nothing; a rejection names `origin` and says why.
pub fn admit_check(
    plan: &Plan,
    me: u16,
    identity: &Identity,
    bytes: &[u8],
    origin: &str,
    name: Option<&NameInfo>,
) -> Result<Envelope> {
    let session = plan.session_id();
    let sid = hex::encode(session);
    let bad = |reason: String| Error::rejected(format!("rejected {origin}")).cause(reason);
    let env = Envelope::decode(bytes).map_err(|e| bad(e.to_string()))?;
    let h: &Header = &env.header;
    if h.session != session {
        return Err(bad(format!(
            "belongs to session {}, not this session {} (a message from another ceremony)",
            hex::encode(&h.session[..8]),
            &sid[..16]
        )));
    }
    if h.scheme != plan.scheme().tag() || !protocols(plan).contains(&h.protocol) {
        return Err(bad(
            "is for a different scheme or protocol than this plan".into()
        ));
    }
    let Some(card) = plan.party(h.sender) else {
        return Err(bad(format!(
            "claims to be from party {}, who is not in the plan",
            h.sender
        )));
    };
    let expected_key = card.verifying_key()?.to_bytes();
    if h.sender_key != expected_key {
        return Err(bad(format!(
            "is signed by a key that is not party {}'s (a party not in this plan, or a forgery)",
            plan.party_label(h.sender)
        )));
    }
    if !plan.participants().contains(&h.sender) {
        return Err(bad(format!(
            "party {} is not a signer in this plan",
            plan.party_label(h.sender)
        )));
    }
    if h.sender == me {
        return Err(bad("claims to be from you, but you did not send it".into()));
    }
    if let Some(r) = h.recipient()
        && r != me
    {
        return Err(bad(format!(
            "is addressed to party {}, not to you (party {})",
            plan.party_label(r),
            plan.party_label(me)
        )));
    }
    if h.round == 0 || (h.round > max_round(plan) && h.round != EVIDENCE_ROUND) {
        return Err(bad(format!(
            "round {} does not exist in this protocol",
            h.round
        )));
    }
    if let Some(n) = name {
        let matches = n.protocol == h.protocol.name()
            && n.round == h.round
            && n.sender == h.sender
            && n.recipient == h.recipient();
        if !matches {
            return Err(bad(format!(
                "is named {} but contains {} (renamed, or replayed from another round)",
                Path::new(origin)
                    .file_name()
                    .map(|s| s.to_string_lossy())
                    .unwrap_or_default(),
                env.file_name()
            )));
        }
    }
    env.open(identity).map_err(|e| bad(e.to_string()))?;
    Ok(env)
}
