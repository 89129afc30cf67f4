//! The ECDSA key refresh (cggmp21's, n-of-n keys only): new shares and aux info by
//! replay, staged in the journal, switched in only when every party confirms them.

use super::*;

impl Ceremony {
    /// An ECDSA key refresh (cggmp21's, n-of-n keys only): new shares and new aux info
    /// by replay, staged in the journal; then every party confirms the new shares'
    /// public part, and only when all agree does the share file change (see
    /// `ceremony::shares`).
    pub(super) fn refresh_ecdsa(
        &mut self,
        journal: &mut Journal,
        p: &crate::plan::RefreshPlan,
        seed: &Secret<[u8; 32]>,
        rx: &[Rx],
    ) -> Result<Progress> {
        let n = p.parties.len() as u16;
        let everyone: Vec<u16> = (1..=n).collect();
        let staged = state(journal)?.aux.clone();
        let new: EcdsaKeyShare = match staged {
            Some(json) => decode(&json, "refreshed share")?,
            None => {
                let share = self.load_ecdsa_share(&p.key_id)?;
                if !cggmp::refreshable(&share) {
                    return Err(Error::rejected(format!(
                        "key {} was generated as a threshold key (by an mpc before n-of-n ECDSA keys were made without VSS); cggmp21 0.6 cannot refresh it",
                        p.key_id
                    ))
                    .advise(Advice::RotateByReshare));
                }
                let primes = self.primes(journal)?;
                let params = cggmp::Params {
                    session: self.session,
                    seed: *seed.expose(),
                    i: self.me - 1,
                    n,
                };
                let st = state(journal)?;
                let (sent, round) = (st.sent_main.clone(), st.round_main);
                let received = Self::for_engine(rx, Protocol::Refresh, |s| s.checked_sub(1));
                let replay = self.live_run(
                    Protocol::Refresh,
                    &received,
                    |i| Some(i + 1),
                    || cggmp::key_refresh(&params, &share, primes, &received, &sent),
                )?;
                let refresh = Protocol::Refresh;
                match self.settle_run(journal, refresh, replay, |i| i + 1, rx, round, &everyone)? {
                    Err(waiting) => return Ok(waiting),
                    Ok(output) => {
                        if cggmp::public_key(&output) != cggmp::public_key(&share) {
                            return Err(Error::bug(
                                "the refreshed ECDSA share names a different public key",
                            ));
                        }
                        // Staged in the journal, which `send` saves before the
                        // confirmation is recorded, let alone delivered.
                        let st = state(journal)?;
                        st.aux =
                            Some(String::from_utf8_lossy(encode(&output)?.expose()).into_owned());
                        st.primes = None;
                        let confirm = cggmp::Sent {
                            round: u16::from(CONFIRM_ROUND) - 1,
                            recipient: None,
                            data: self.refresh_confirmation(&output).to_vec(),
                        };
                        self.send(journal, Protocol::Refresh, &[confirm], |i| i + 1)?;
                        self.staged()?;
                        output
                    }
                }
            }
        };
        let mine = self.refresh_confirmation(&new);
        let others: Vec<u16> = everyone.iter().copied().filter(|&i| i != self.me).collect();
        let confirmation = |s: u16| {
            rx.iter().find(|m| {
                m.protocol == Protocol::Refresh && m.round == CONFIRM_ROUND && m.sender == s
            })
        };
        let missing: Vec<u16> = others
            .iter()
            .copied()
            .filter(|&s| confirmation(s).is_none())
            .collect();
        if !missing.is_empty() {
            return Ok(Progress::Waiting {
                round: CONFIRM_ROUND,
                missing,
            });
        }
        let culprits: Vec<u16> = others
            .iter()
            .copied()
            .filter(|&s| confirmation(s).map(|m| &m.data[..]) != Some(&mine[..]))
            .collect();
        if !culprits.is_empty() {
            return Err(self.blame(EngineError::PeerMisbehaved {
                culprits,
                reason: "confirmed different new shares than yours; the old share stays in use"
                    .into(),
            }));
        }
        // The switch: the new share replaces the old one; presignatures made with the
        // old share cannot be used with the new ones and go with it.
        let group_key = cggmp::public_key(&new);
        self.write_share(p.scheme, &p.key_id, encode(&new)?.expose(), &group_key)?;
        crate::store::keystore::destroy_presignatures(&*self.vault, &self.db, &p.key_id)?;
        self.end_rotation()?;
        let transcript = tagged_hash("mpc-ecdsa-refresh-transcript", &self.session, [&mine[..]]);
        self.complete(Outcome::Refresh {
            key_id: p.key_id.clone(),
            scheme: p.scheme.id().into(),
            public_key: hex::encode(&group_key),
            transcript: hex::encode(transcript),
        })
    }

    /// This party's confirmation of refreshed shares.
    pub(super) fn refresh_confirmation(&self, share: &EcdsaKeyShare) -> [u8; 32] {
        tagged_hash(
            "mpc-ecdsa-refresh-confirm",
            &self.session,
            [&cggmp::public_part(share)[..]],
        )
    }
}
