//! Plans and messages in human form, shown before a party confirms.

use crate::identity::words;
use crate::plan::Plan;

/// A human summary of a plan, shown before confirmation.
pub fn describe_plan(plan: &Plan, me: u16) -> String {
    let mut s = String::new();
    let n = plan.parties().len();
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
