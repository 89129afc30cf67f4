//! ECDSA aux info (Paillier keys and their proofs): generated in a keygen session from
//! a prime set taken from the pool, or reused for the same party set.

use super::*;

impl Ceremony {
    /// Runs aux-info generation among `members` (plan indices, in protocol order) as far
    /// as it goes: `Ok(aux)` once finished (now or in an earlier step), stored for the
    /// party set `set`; `Err(waiting)` while messages are missing.
    pub(super) fn aux_step(
        &mut self,
        journal: &mut Journal,
        params: &cggmp::Params,
        rx: &[Rx],
        members: &[u16],
        set: &str,
    ) -> Result<std::result::Result<AuxInfo, Progress>> {
        let st = state(journal)?;
        if let Some(json) = &st.aux {
            return Ok(Ok(decode(json, "aux info")?));
        }
        let primes = self.primes(journal)?;
        let st = state(journal)?;
        let sent = st.sent_aux.clone();
        let round = st.round_aux;
        let position = |s: u16| members.iter().position(|&m| m == s).map(|i| i as u16);
        let member = |i: u16| members.get(usize::from(i)).copied();
        let received = Self::for_engine(rx, Protocol::Aux, position);
        let replay = self.live_run(Protocol::Aux, &received, member, || {
            cggmp::aux_info(params, primes, &received, &sent)
        })?;
        let to_plan = |i: u16| member(i).unwrap_or(0);
        match self.settle_run(journal, Protocol::Aux, replay, to_plan, rx, round, members)? {
            Err(waiting) => Ok(Err(waiting)),
            Ok(output) => {
                let json = encode(&output)?;
                self.vault
                    .write(Item::Aux(set), &self.identity, json.expose())?;
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
    /// An ECDSA reshare's aux info for the new party set, generated among the new
    /// holders before the reshare proper (a dealer that holds no new share takes no
    /// part): `None` once finished or not needed, `Some(waiting)` while messages are
    /// missing.
    pub(in crate::ceremony) fn reshare_aux(
        &mut self,
        journal: &mut Journal,
    ) -> Result<Option<Progress>> {
        let Plan::Reshare(p) = &self.plan else {
            return Ok(None);
        };
        let Some(index) = p.new_index_of(self.me) else {
            return Ok(None);
        };
        // Finished in an earlier step: nothing to read (the messages are not opened again).
        if p.aux != Some(AuxMode::Generate) || state(journal)?.aux.is_some() {
            return Ok(None);
        }
        let (holders, set) = (p.holders.clone(), party_set_id(&p.new_parties()));
        let seed = Secret::new(state(journal)?.seed);
        let params = cggmp::Params {
            session: self.session,
            seed: *seed.expose(),
            i: index - 1,
            n: holders.len() as u16,
        };
        let rx = self.received()?;
        Ok(self.aux_step(journal, &params, &rx, &holders, &set)?.err())
    }

    /// A new holder's aux info at the end of an ECDSA reshare: the one generated in the
    /// session (`state`'s), or the new party set's earlier one, as the plan says.
    pub(in crate::ceremony) fn reshare_aux_info(&self, state: &EcdsaState) -> Result<AuxInfo> {
        let Plan::Reshare(p) = &self.plan else {
            return Err(Error::bug("aux info of a reshare outside a reshare"));
        };
        match (p.aux, &state.aux) {
            (Some(AuxMode::Generate), Some(json)) => decode(json, "aux info"),
            (Some(AuxMode::Generate), None) => Err(Error::bug(
                "the reshare finished before this party's aux info",
            )),
            _ => self.load_aux(&party_set_id(&p.new_parties())),
        }
    }
}
