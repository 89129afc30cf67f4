//! `mpc demo`: a whole 2-of-3 ceremony for every scheme, in temporary homes, in one
//! process, through the same ceremony code and message directory that real parties use.

use super::Ctx;
use crate::ceremony::{Ceremony, Outcome, Progress};
use crate::cli::DemoArgs;
use crate::error::{Failure, Result};
use crate::identity::Identity;
use crate::output::Printer;
use crate::plan::{KeygenPlan, Plan, SignPlan, fresh_nonce, now};
use crate::pubkey;
use crate::scheme::Scheme;
use crate::store::Home;
use age::secrecy::SecretString;
use base64::Engine as _;
use std::path::Path;

const NAMES: [&str; 3] = ["alice", "bob", "carol"];
/// Demo homes use a cheap KDF so the demo is quick; real homes default to 2^18.
const DEMO_KDF_LOG_N: u8 = 10;

/// Runs `mpc demo`.
pub fn run(ctx: &Ctx, args: DemoArgs) -> Result<()> {
    let tmp;
    let root = match &args.keep {
        Some(d) => {
            std::fs::create_dir_all(d)
                .map_err(|e| Failure::input(format!("cannot create {}", d.display())).cause(e))?;
            d.clone()
        }
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let p = &ctx.printer;
    p.status(format!(
        "demo: 2-of-3 ceremonies for every scheme in {}",
        root.display()
    ));
    p.status(format!(
        "(demo homes use a weak scrypt work factor 2^{DEMO_KDF_LOG_N}; real homes use 2^18)"
    ));
    let pass = SecretString::from("demo passphrase".to_string());
    let mut homes = Vec::new();
    for name in NAMES {
        let home = Home::resolve(Some(root.join(name)));
        let id = home.create(name, &pass, DEMO_KDF_LOG_N)?;
        p.status(format!(
            "  mpc init --name {name}: card fingerprint {}",
            crate::identity::words(&id.card().fingerprint())
        ));
        homes.push((home, id));
    }
    let quiet = Printer {
        quiet: true,
        ..Printer::default()
    };
    let mut results = Vec::new();
    for scheme in Scheme::FROST {
        p.status(format!("\n== {scheme} =="));
        let dir = root.join(format!("messages-{scheme}"));
        std::fs::create_dir_all(&dir)?;
        let kplan = Plan::Keygen(KeygenPlan {
            version: 1,
            scheme,
            threshold: 2,
            parties: homes.iter().map(|(_, id)| id.card()).collect(),
            label: format!("demo {scheme}"),
            expires_at: now() + 3600,
            nonce: fresh_nonce(),
            aux: None,
        });
        write_file(&dir.join("keygen.plan.json"), kplan.to_json().as_bytes())?;
        p.status(format!(
            "  keygen plan, fingerprint {}",
            kplan.fingerprint()
        ));
        let outcomes = run_all(p, &quiet, &homes, &kplan, &dir, &[1, 2, 3])?;
        let Outcome::Keygen {
            key_id, public_key, ..
        } = &outcomes[0]
        else {
            return Err(Failure::internal("demo keygen gave no key"));
        };
        let db = homes[0].0.db()?;
        let key = super::keys::resolve_key(&db, key_id)?;
        let message = format!("demo message for {scheme}").into_bytes();
        let splan = Plan::Sign(SignPlan {
            version: 1,
            scheme,
            key_id: key_id.clone(),
            group_public_key: key.public_key.clone(),
            threshold: 2,
            parties: homes.iter().map(|(_, id)| id.card()).collect(),
            signers: vec![1, 3],
            message: base64::engine::general_purpose::STANDARD.encode(&message),
            label: "demo signature".into(),
            expires_at: now() + 3600,
            nonce: fresh_nonce(),
            hash: None,
            path: None,
            presign: None,
        });
        write_file(&dir.join("sign.plan.json"), splan.to_json().as_bytes())?;
        p.status(format!(
            "  signing plan (alice + carol), fingerprint {}",
            splan.fingerprint()
        ));
        let signed = run_all(p, &quiet, &homes, &splan, &dir, &[1, 3])?;
        let Outcome::Sign { signature, .. } = &signed[0] else {
            return Err(Failure::internal("demo signing gave no signature"));
        };
        let valid = pubkey::verify(
            scheme,
            &hex::decode(public_key).unwrap_or_default(),
            &message,
            &hex::decode(signature).unwrap_or_default(),
        )?;
        if !valid {
            return Err(Failure::internal(format!(
                "demo signature for {scheme} does not verify"
            )));
        }
        write_file(
            &dir.join("signature.hex"),
            format!("{signature}\n").as_bytes(),
        )?;
        p.status(format!(
            "  mpc verify: signature {}... is valid",
            &signature[..16]
        ));
        results.push(serde_json::json!({
            "scheme": scheme, "key_id": key_id, "public_key": public_key, "signature": signature, "valid": valid,
        }));
    }
    p.status("\nall schemes: keygen, signing and independent verification succeeded");
    p.json(&serde_json::json!({ "results": results }))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes)
        .map_err(|e| Failure::internal(format!("cannot write {}", path.display())).cause(e))
}

/// Steps every listed party round-robin until all are done, as separate parties would.
fn run_all(
    p: &Printer,
    quiet: &Printer,
    homes: &[(Home, Identity)],
    plan: &Plan,
    dir: &Path,
    who: &[u16],
) -> Result<Vec<Outcome>> {
    let mut done: Vec<Option<Outcome>> = vec![None; who.len()];
    for round in 1..=4 {
        for (slot, &idx) in who.iter().enumerate() {
            if done[slot].is_some() {
                continue;
            }
            let (home, id) = &homes[idx as usize - 1];
            let mut c = Ceremony::open(home, id, plan.clone(), dir, quiet, true)?;
            match c.step()? {
                Progress::Done(o) => {
                    p.status(format!(
                        "  step {round}: {} done ({})",
                        NAMES[idx as usize - 1],
                        o.transcript_words()?
                    ));
                    done[slot] = Some(o);
                }
                Progress::Waiting { round: r, .. } => {
                    p.status(format!(
                        "  step {round}: {} sent its round-{r} messages",
                        NAMES[idx as usize - 1]
                    ));
                }
            }
        }
        if done.iter().all(Option::is_some) {
            return Ok(done.into_iter().flatten().collect());
        }
    }
    Err(Failure::internal("demo ceremony did not finish"))
}
