//! A plan's internal consistency: what [`Plan::validate`] checks before a plan becomes a
//! [`Valid<Plan>`](super::Valid).

use super::*;

impl Plan {
    /// Checks internal consistency.
    pub fn validate(&self) -> Result<(), PlanError> {
        let bad = |m: String| Err(PlanError::Invalid(m));
        let (version, nonce) = match self {
            Plan::Keygen(p) => (p.version, &p.nonce),
            Plan::Sign(p) => (p.version, &p.nonce),
            Plan::Refresh(p) => (p.version, &p.nonce),
            Plan::Repair(p) => (p.version, &p.nonce),
            Plan::Reshare(p) => (p.version, &p.nonce),
        };
        if version != 1 {
            return bad(format!("unsupported plan version {version}"));
        }
        if hex::decode(nonce).map(|b| b.len()) != Ok(32) {
            return bad("nonce must be 32 hex bytes".into());
        }
        let parties = self.parties();
        let n = parties.len();
        let t = self.threshold() as usize;
        if !(2..=255).contains(&n) {
            return bad(format!("a plan needs 2 to 255 parties, this one has {n}"));
        }
        // A reshare's threshold is the new holders', checked with them below.
        if !matches!(self, Plan::Reshare(_)) && (t < 2 || t > n) {
            return bad(format!("threshold must be between 2 and n={n}, got {t}"));
        }
        for (i, c) in parties.iter().enumerate() {
            c.validate()
                .map_err(|e| PlanError::Invalid(format!("party {}: {e}", i + 1)))?;
            for d in &parties[..i] {
                if d.name == c.name {
                    return bad(format!("two parties are named `{}`", c.name));
                }
                if d.ed25519 == c.ed25519 || d.x25519 == c.x25519 {
                    return bad(format!("party `{}` appears twice (same keys)", c.name));
                }
            }
        }
        if self.label().len() > 200 {
            return bad("label is longer than 200 characters".into());
        }
        let ecdsa = self.scheme() == Scheme::EcdsaSecp256k1;
        let generate = matches!(self, Plan::Sign(p) if p.presign == Some(Presign::Generate));
        match self {
            Plan::Keygen(p) if ecdsa != p.aux.is_some() => {
                return bad(
                    "an aux-info mode is required for ecdsa-secp256k1 and only for it".into(),
                );
            }
            Plan::Sign(p)
                if generate
                    && (!ecdsa
                        || p.hash.is_some()
                        || p.path.is_some()
                        || !p.message.is_empty()) =>
            {
                return bad(
                    "a presigning plan is for ecdsa-secp256k1 and names no message, hash or path"
                        .into(),
                );
            }
            Plan::Sign(_) if generate => {}
            Plan::Sign(p) if ecdsa != p.hash.is_some() => {
                return bad("a hash mode is required for ecdsa-secp256k1 and only for it".into());
            }
            // cggmp21 0.6 advisory CVE-2025-66017: a presignature must not be combined
            // with HD derivation or with a digest chosen by the caller.
            Plan::Sign(p) if matches!(p.presign, Some(Presign::Consume { .. })) => {
                if p.path.is_some() {
                    return bad("a presignature cannot sign with an HD derivation path (cggmp21 advisory CVE-2025-66017); sign without --presigned".into());
                }
                if p.hash == Some(HashMode::Prehash) {
                    return bad("a presignature cannot sign a caller-supplied raw hash (cggmp21 advisory CVE-2025-66017); let mpc hash the message".into());
                }
            }
            _ => {}
        }
        if let Plan::Sign(p) = self
            && let Some(path) = &p.path
        {
            if !ecdsa {
                return bad("a derivation path applies only to ecdsa-secp256k1".into());
            }
            parse_path(path).map_err(PlanError::Invalid)?;
        }
        if let Plan::Sign(p) = self
            && ecdsa
            && !generate
            && let Some(mode) = p.hash
        {
            digest_of(mode, &self.message().unwrap_or_default()).map_err(PlanError::Invalid)?;
        }
        if let Some((_, group_key)) = self.key()
            && hex::decode(group_key).is_err()
        {
            return bad("group public key is not hex".into());
        }
        match self {
            Plan::Refresh(_) if !self.scheme().is_frost() && t != n => {
                return bad(format!(
                    "this ECDSA key is {t}-of-{n}: cggmp21 0.6 refreshes only n-of-n ECDSA keys"
                ));
            }
            Plan::Repair(_) if !self.scheme().is_frost() => {
                return bad(
                    "a repair applies to the FROST schemes only: cggmp21 has no share repair"
                        .into(),
                );
            }
            _ => {}
        }
        if let Plan::Repair(p) = self {
            if p.lost == 0 || p.lost as usize > n {
                return bad(format!("the party to repair must be between 1 and {n}"));
            }
            if p.helpers.len() < t {
                return bad(format!(
                    "a repair needs at least t={t} helpers, got {}",
                    p.helpers.len()
                ));
            }
            if !p.helpers.windows(2).all(|w| w[0] < w[1]) {
                return bad("helpers must be listed once each, in ascending order".into());
            }
            if p.helpers.iter().any(|&h| h == 0 || h as usize > n) {
                return bad(format!("helper indices must be between 1 and {n}"));
            }
            if p.helpers.contains(&p.lost) {
                return bad("the party to repair cannot be one of its helpers".into());
            }
        }
        if let Plan::Reshare(p) = self {
            p.validate_reshare()?;
        }
        if let Plan::Sign(p) = self {
            if p.signers.len() < t || p.signers.len() > n {
                return bad(format!(
                    "a signing plan needs between t={t} and n={n} signers, got {}",
                    p.signers.len()
                ));
            }
            if !p.signers.windows(2).all(|w| w[0] < w[1]) {
                return bad("signers must be listed once each, in ascending order".into());
            }
            if p.signers.iter().any(|&s| s == 0 || s as usize > n) {
                return bad(format!("signer indices must be between 1 and {n}"));
            }
            match self.message() {
                Some(m) if m.len() <= MAX_MESSAGE_LEN => {}
                Some(_) => return bad("message is larger than 1 MiB".into()),
                None => return bad("message is not valid base64".into()),
            }
        }
        Ok(())
    }
}

impl ResharePlan {
    /// What a reshare plan needs beyond every plan's checks (which see `parties`, the
    /// participants, and the new threshold).
    fn validate_reshare(&self) -> Result<(), PlanError> {
        let bad = |m: String| Err(PlanError::Invalid(m));
        match (self.scheme.is_frost(), self.aux) {
            (true, Some(_)) => return bad("aux info applies only to ECDSA keys".into()),
            (false, None) => {
                return bad(
                    "an ECDSA reshare plan must say how the new holders get aux info".into(),
                );
            }
            _ => {}
        }
        let old_n = self.key_parties.len();
        let old_t = usize::from(self.threshold);
        if !(2..=255).contains(&old_n) || old_t < 2 || old_t > old_n {
            return bad(format!(
                "the key's threshold and parties ({old_t}-of-{old_n}) cannot be right"
            ));
        }
        for (i, c) in self.key_parties.iter().enumerate() {
            c.validate()
                .map_err(|e| PlanError::Invalid(format!("key party {}: {e}", i + 1)))?;
            if self.key_parties[..i]
                .iter()
                .any(|d| d.ed25519 == c.ed25519 || d.name == c.name)
            {
                return bad(format!("key party `{}` appears twice", c.name));
            }
        }
        if self.dealers.len() < old_t {
            return bad(format!(
                "a reshare needs at least the key's threshold ({old_t}) of its holders to deal, got {}",
                self.dealers.len()
            ));
        }
        if !self.dealers.windows(2).all(|w| w[0] < w[1]) {
            return bad("dealers must be listed once each, in ascending order".into());
        }
        if self
            .dealers
            .iter()
            .any(|&d| d == 0 || usize::from(d) > old_n)
        {
            return bad(format!("dealer indices must be between 1 and {old_n}"));
        }
        for &d in &self.dealers {
            if self.participant_of(d).is_none() {
                return bad(format!(
                    "dealer {d} ({}) is not among the plan's parties",
                    self.key_parties[usize::from(d) - 1].name
                ));
            }
        }
        let n = self.parties.len();
        let new_n = self.holders.len();
        if self.holders.iter().any(|&h| h == 0 || usize::from(h) > n) {
            return bad(format!("holder indices must be between 1 and {n}"));
        }
        if (1..new_n).any(|i| self.holders[..i].contains(&self.holders[i])) {
            return bad("a new holder is listed twice".into());
        }
        let new_t = usize::from(self.new_threshold);
        if new_n < 2 || new_t < 2 || new_t > new_n {
            return bad(format!(
                "the new threshold must be between 2 and the number of new holders ({new_n}), got {new_t}"
            ));
        }
        for i in 1..=n as u16 {
            if !self.deals(i) && self.new_index_of(i).is_none() {
                return bad(format!(
                    "party {i} ({}) neither deals nor holds a new share",
                    self.parties[usize::from(i) - 1].name
                ));
            }
        }
        let package = hex::decode(&self.public_key_package)
            .map_err(|_| PlanError::Invalid("the public key package is not hex".into()))?;
        let group = hex::decode(&self.group_public_key)
            .map_err(|_| PlanError::Invalid("group public key is not hex".into()))?;
        crate::engine::check_public_key_package(self.scheme, &package, &group, old_n as u16)
            .map_err(PlanError::Invalid)
    }
}
