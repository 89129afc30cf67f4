//! ECDSA aux info (Paillier keys and their proofs): generated in a keygen session from
//! a prime set taken from the pool, or reused for the same party set.

use super::*;

impl Ceremony {
    /// Runs aux-info generation as far as it goes: `Ok(aux)` once finished (now or in an
    /// earlier step), `Err(waiting)` while messages are missing.
    pub(super) fn aux_step(
        &mut self,
        journal: &mut Journal,
        params: &cggmp::Params,
        rx: &[Rx],
        everyone: &[u16],
    ) -> Result<std::result::Result<AuxInfo, Progress>> {
        let st = state(journal)?;
        if let Some(json) = &st.aux {
            return Ok(Ok(decode(json, "aux info")?));
        }
        let primes = self.primes(journal)?;
        let st = state(journal)?;
        let sent = st.sent_aux.clone();
        let round = st.round_aux;
        let received = Self::for_engine(rx, Protocol::Aux, |s| s.checked_sub(1));
        let replay = self.live_run(
            Protocol::Aux,
            &received,
            |i| Some(i + 1),
            || cggmp::aux_info(params, primes, &received, &sent),
        )?;
        match self.settle_run(
            journal,
            Protocol::Aux,
            replay,
            |i| i + 1,
            rx,
            round,
            everyone,
        )? {
            Err(waiting) => Ok(Err(waiting)),
            Ok(output) => {
                let json = encode(&output)?;
                let Plan::Keygen(p) = &self.plan else {
                    unreachable!("aux only in keygen")
                };
                self.vault.write(
                    Item::Aux(&party_set_id(&p.parties)),
                    &self.identity,
                    json.expose(),
                )?;
                crate::fault::point("aux-written");
                let st = state(journal)?;
                st.aux = Some(String::from_utf8_lossy(json.expose()).into_owned());
                st.primes = None;
                self.save_journal(journal)?;
                Ok(Ok(output))
            }
        }
    }

    /// This session's Paillier primes: taken from the pool into the journal the first
    /// time (so a prime set is used by one session only).
    pub(super) fn primes(&mut self, journal: &mut Journal) -> Result<cggmp::Primes> {
        if state(journal)?.primes.is_none() {
            let primes = self.vault.take_primes(&self.identity)?.ok_or_else(|| {
                Error::new(
                    ErrorKind::PrimesNeeded,
                    "no Paillier primes in this home for new aux info",
                )
                .advise(Advice::GeneratePrimes)
            })?;
            let text = String::from_utf8(primes.expose().clone())
                .map_err(|e| Error::bug("stored primes are unreadable").cause(e))?;
            state(journal)?.primes = Some(text);
            self.save_journal(journal)?;
        }
        decode(state(journal)?.primes.as_deref().unwrap_or(""), "primes")
    }

    pub(super) fn load_aux(&self, party_set: &str) -> Result<AuxInfo> {
        let item = Item::Aux(party_set);
        let bytes = self.vault.read(item, &self.identity)?.ok_or_else(|| {
            Error::rejected("this plan reuses aux info, but this home has none for these parties")
                .advise(Advice::GenerateAux)
        })?;
        serde_json::from_slice(bytes.expose()).map_err(|e| {
            Error::bug(format!("aux info {} is damaged", self.vault.locate(item))).cause(e)
        })
    }
}
