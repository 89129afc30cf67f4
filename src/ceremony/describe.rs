//! Plans and messages in human form, shown before a party confirms.

use crate::identity::words;
use crate::plan::Plan;

/// A human summary of a plan, shown before confirmation.
pub fn describe_plan(plan: &Plan, me: u16) -> String {
    let mut s = String::new();
    let n = match plan {
        Plan::Reshare(p) => p.holders.len(),
        _ => plan.parties().len(),
    };
    s.push_str(&format!(
        "Plan: {} ({}), {}-of-{}\n",
        plan.kind(),
        plan.scheme(),
        plan.threshold(),
        n
    ));
    s.push_str(&format!("  label:       {}\n", plan.label()));
    s.push_str(&format!(
        "  expires:     {}\n",
        crate::clock::format_time(plan.expires_at())
    ));
    s.push_str("  parties:\n");
    let participants = plan.participants();
    for (i, c) in plan.parties().iter().enumerate() {
        let idx = i as u16 + 1;
        let role = match plan {
            Plan::Sign(_) if participants.contains(&idx) => " signer",
            Plan::Repair(p) if p.lost == idx => " LOST SHARE, repaired",
            Plan::Repair(p) if p.helpers.contains(&idx) => " helper",
            Plan::Reshare(p) => match (p.deals(idx), p.new_index_of(idx), p.old_index_of(idx)) {
                (true, Some(_), _) => " deals, stays",
                (true, None, _) => " deals, LEAVES (its share is destroyed)",
                (false, Some(_), Some(_)) => " stays (gets a new share)",
                (false, Some(_), None) => " JOINS",
                (false, None, _) => "",
            },
            _ => "",
        };
        let you = if idx == me { "  <- you" } else { "" };
        s.push_str(&format!(
            "    {idx}. {:<12} {}{role}{you}\n",
            c.name,
            words(&c.fingerprint())
        ));
    }
    match plan {
        Plan::Refresh(p) => s.push_str(&format!(
            "  key:         {}\n  refresh:     every party gets a new share of this key; the old shares stop working\n",
            p.key_id
        )),
        Plan::Repair(p) => s.push_str(&format!(
            "  key:         {}\n  repair:      party {} gets a new share from the helpers\n",
            p.key_id,
            plan.party_label(p.lost)
        )),
        Plan::Reshare(p) => {
            let names = |cards: Vec<&crate::identity::Card>| {
                let v: Vec<&str> = cards.iter().map(|c| c.name.as_str()).collect();
                if v.is_empty() { "nobody".to_string() } else { v.join(", ") }
            };
            let new = p.new_parties();
            let holds_new = |c: &crate::identity::Card| new.iter().any(|n| n.ed25519 == c.ed25519);
            let held_old = |c: &crate::identity::Card| p.key_parties.iter().any(|o| o.ed25519 == c.ed25519);
            s.push_str(&format!(
                "  key:         {}\n  reshare:     {}-of-{} -> {}-of-{}, the same public key\n",
                p.key_id,
                p.threshold,
                p.key_parties.len(),
                p.new_threshold,
                new.len()
            ));
            s.push_str(&format!(
                "  dealers:     {}\n",
                names(p.dealers.iter().filter_map(|&d| p.key_parties.get(usize::from(d) - 1)).collect())
            ));
            s.push_str(&format!(
                "  stay:        {}\n  join:        {}\n  leave:       {}\n",
                names(new.iter().filter(|c| held_old(c)).collect()),
                names(new.iter().filter(|c| !held_old(c)).collect()),
                names(p.key_parties.iter().filter(|c| !holds_new(c)).collect()),
            ));
            let absent: Vec<&crate::identity::Card> = p
                .key_parties
                .iter()
                .filter(|c| !p.parties.iter().any(|q| q.ed25519 == c.ed25519))
                .collect();
            if !absent.is_empty() {
                s.push_str(&format!(
                    "  not needed:  {} (their old shares stop combining with the new ones)\n",
                    names(absent)
                ));
            }
            if let Some(aux) = p.aux {
                let chain_code = hex::decode(&p.public_key_package)
                    .ok()
                    .and_then(|info| crate::engine::cggmp::reshare::chain_code(&info));
                s.push_str(&format!(
                    "  chain code:  {} (kept: the same xpub and HD children)\n  aux info:    {}\n",
                    chain_code.map(hex::encode).unwrap_or_else(|| "none".into()),
                    match aux {
                        crate::plan::AuxMode::Generate =>
                            "generated in this session by the new holders (a prime set each)",
                        crate::plan::AuxMode::Reuse =>
                            "reused: each new holder's earlier aux info for exactly these parties",
                    }
                ));
            }
            s.push_str("  note:        old shares still combine with each other: every old holder must destroy its old share and backups\n");
        }
        _ => {}
    }
    if let Plan::Sign(p) = plan {
        s.push_str(&format!("  key:         {}\n", p.key_id));
        let msg = plan.message().unwrap_or_default();
        let shown = match p.hash {
            Some(crate::plan::HashMode::Eip712) => crate::chain::describe_typed_data(&msg),
            _ => None,
        };
        s.push_str(&format!(
            "  message:     {}\n",
            shown.unwrap_or_else(|| describe_message(&msg))
        ));
        if let Some(mode) = p.hash
            && let Some(digest) = plan.digest()
        {
            s.push_str(&format!(
                "  signs:       {}\n               digest {}\n",
                mode.describe(),
                hex::encode(digest)
            ));
        }
        if let Some(path) = &p.path {
            s.push_str(&format!("  child key:   {path} (BIP32, non-hardened)\n"));
        }
    }
    s.push_str(&format!("  FINGERPRINT: {}", plan.fingerprint()));
    s
}

/// A message in human form: text if printable, else hex; always with its SHA-256.
pub fn describe_message(msg: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = hex::encode(Sha256::digest(msg));
    match std::str::from_utf8(msg) {
        Ok(t)
            if t.chars().all(|c| !c.is_control() || c == '\n' || c == '\t') && t.len() <= 2000 =>
        {
            format!(
                "{} bytes of text: {t:?}\n               sha256 {digest}",
                msg.len()
            )
        }
        _ => {
            let shown = hex::encode(&msg[..msg.len().min(64)]);
            let more = if msg.len() > 64 { "..." } else { "" };
            format!(
                "{} bytes: {shown}{more}\n               sha256 {digest}",
                msg.len()
            )
        }
    }
}
