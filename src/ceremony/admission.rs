//! Admission: every incoming envelope, from a message file, a relay download or another
//! party's evidence, is checked against the plan (session, scheme and protocol, sender
//! and its key, participation, recipient, round, file name) and opened before it is
//! offered to the accepted log; a different envelope for a filled slot is equivocation.
//! A rejection names where the message came from and stores nothing.

use super::{Ceremony, EVIDENCE_ROUND};
use crate::envelope::{Envelope, Header};
use crate::error::{Exit, Failure, Result};
use crate::store::db::{Accept, IncomingMessage};
use crate::transport::dir::Placed;
use std::path::{Path, PathBuf};

impl Ceremony<'_> {
    /// Reads the transport and stores every valid new envelope; returns how many were new.
    pub(super) fn ingest(&mut self) -> Result<usize> {
        let mut new = 0;
        let candidates = self
            .transport
            .candidates(&self.session, self.me)
            .map_err(|e| {
                Failure::input(format!("cannot read {}", self.transport.path().display())).cause(e)
            })?;
        for (path, name) in candidates {
            if self.transport.unchanged(&path) {
                continue;
            }
            let env = self.validate(&path, name.as_ref())?;
            let h = &env.header;
            let accepted = self.offer(&env, &path.display().to_string())?;
            if accepted == Accept::Conflict {
                let mut f = Failure::new(
                    Exit::Aborted,
                    format!(
                        "party {} sent two different round-{} messages; the session is aborted",
                        self.party_label(h.sender),
                        h.round
                    ),
                )
                .cause(format!("{}: conflicts with the message accepted earlier", path.display()))
                .hint("a party that equivocates may be compromised; investigate before starting a new session");
                f.culprits = vec![self.party_label(h.sender)];
                return Err(f);
            }
            if accepted == Accept::New {
                new += 1;
            }
            self.transport.remember(&path);
        }
        Ok(new)
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

    /// Checks one message file.
    fn validate(
        &self,
        path: &Path,
        name: Option<&crate::transport::dir::NameInfo>,
    ) -> Result<Envelope> {
        let bytes = std::fs::read(path).map_err(|e| {
            Failure::input(format!("rejected {}", path.display()))
                .cause(e)
                .hint("remove or replace this file (nothing was stored from it), then run the step again")
        })?;
        self.check(&bytes, &path.display().to_string(), name)
            .map_err(|f| f.hint("remove or replace this file (nothing was stored from it), then run the step again"))
    }

    /// Downloads handed over by a relay: checks `bytes` exactly as a message file is
    /// checked and, if they pass, stores them in the message directory for the next
    /// step (beside a different message of the same name, so an equivocating sender is
    /// caught). A rejection names `origin` and stores nothing. Returns the file written,
    /// or `None` if the directory already had this message.
    pub fn receive(&self, bytes: &[u8], origin: &str) -> Result<Option<PathBuf>> {
        let env = self.check(bytes, origin, None)?;
        let cannot = |e: std::io::Error| {
            Failure::internal(format!(
                "cannot write to {}",
                self.transport.path().display()
            ))
            .cause(e)
        };
        match self.transport.place(&env).map_err(cannot)? {
            Placed::Written(p) => Ok(Some(p)),
            Placed::Present(_) => Ok(None),
            Placed::Occupied(_) => self.transport.place_beside(&env).map(Some).map_err(cannot),
        }
    }

    /// Checks a message from `origin` (a file, or a relay download) against the plan.
    pub(super) fn check(
        &self,
        bytes: &[u8],
        origin: &str,
        name: Option<&crate::transport::dir::NameInfo>,
    ) -> Result<Envelope> {
        let bad = |reason: String| Failure::input(format!("rejected {origin}")).cause(reason);
        let env = Envelope::decode(bytes).map_err(|e| bad(e.to_string()))?;
        let h: &Header = &env.header;
        if h.session != self.session {
            return Err(bad(format!(
                "belongs to session {}, not this session {} (a message from another ceremony)",
                hex::encode(&h.session[..8]),
                &self.sid[..16]
            )));
        }
        if h.scheme != self.plan.scheme().tag() || !self.protocols().contains(&h.protocol) {
            return Err(bad(
                "is for a different scheme or protocol than this plan".into()
            ));
        }
        let Some(card) = self.plan.party(h.sender) else {
            return Err(bad(format!(
                "claims to be from party {}, who is not in the plan",
                h.sender
            )));
        };
        let expected_key = card.verifying_key()?.to_bytes();
        if h.sender_key != expected_key {
            return Err(bad(format!(
                "is signed by a key that is not party {}'s (a party not in this plan, or a forgery)",
                self.party_label(h.sender)
            )));
        }
        if !self.plan.participants().contains(&h.sender) {
            return Err(bad(format!(
                "party {} is not a signer in this plan",
                self.party_label(h.sender)
            )));
        }
        if h.sender == self.me {
            return Err(bad("claims to be from you, but you did not send it".into()));
        }
        if let Some(r) = h.recipient()
            && r != self.me
        {
            return Err(bad(format!(
                "is addressed to party {}, not to you (party {})",
                self.party_label(r),
                self.party_label(self.me)
            )));
        }
        if h.round == 0 || (h.round > self.max_round() && h.round != EVIDENCE_ROUND) {
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
        env.open(self.identity).map_err(|e| bad(e.to_string()))?;
        Ok(env)
    }
}
