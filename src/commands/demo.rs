//! `mpc demo`: a whole 2-of-3 ceremony for every scheme (or one, `--scheme`), in
//! temporary homes, in one process, through the same ceremony code and message directory
//! that real parties use.
//!
//! Threshold ECDSA needs two 1536-bit safe primes per party for its aux info, which take
//! seconds to minutes to find. The demo uses three sets built into `mpc` for the demo
//! only: they are public, so `mpc primes import` refuses them and a real home never uses
//! them. With them the ECDSA demo (aux info, keygen, a presignature and a signature from
//! it) takes well under a minute on two cores.

use super::Ctx;
use crate::ceremony::{Ceremony, Outcome, Progress};
use crate::error::{Failure, Result};
use crate::identity::Identity;
use crate::output::Printer;
use crate::plan::{AuxMode, HashMode, KeygenPlan, Plan, Presign, SignPlan, fresh_nonce, now};
use crate::pubkey;
use crate::scheme::Scheme;
use crate::store::Home;
use age::secrecy::SecretString;
use base64::Engine as _;
use clap::Args;
use std::path::Path;
use std::path::PathBuf;

/// `mpc demo`
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Run the demo for this scheme only (default: every scheme, ECDSA included)
    #[arg(long)]
    pub scheme: Option<Scheme>,
    /// Keep the demo homes and messages in DIR instead of a temporary directory
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}

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
    let schemes: Vec<Scheme> = match args.scheme {
        Some(s) => vec![s],
        None => Scheme::ALL.to_vec(),
    };
    p.status(format!(
        "demo: 2-of-3 ceremonies for {} in {}",
        match args.scheme {
            Some(s) => s.to_string(),
            None => "every scheme".into(),
        },
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
        homes.push((home, std::sync::Arc::new(id)));
    }
    let mut results = Vec::new();
    for scheme in schemes {
        p.status(format!("\n== {scheme} =="));
        let dir = root.join(format!("messages-{scheme}"));
        std::fs::create_dir_all(&dir)?;
        let demo = Demo {
            p,
            homes: &homes,
            dir: &dir,
        };
        results.push(if scheme.is_frost() {
            demo.frost(scheme)?
        } else {
            demo.ecdsa()?
        });
    }
    p.status("\nkeygen, signing and independent verification succeeded");
    p.json(&serde_json::json!({ "results": results }))
}

/// One scheme's demo: the three homes and the message directory.
struct Demo<'a> {
    p: &'a Printer,
    homes: &'a [(Home, std::sync::Arc<Identity>)],
    dir: &'a Path,
}

impl Demo<'_> {
    fn keygen_plan(&self, scheme: Scheme, aux: Option<AuxMode>) -> Result<Plan> {
        let plan = Plan::Keygen(KeygenPlan {
            version: 1,
            scheme,
            threshold: 2,
            parties: self.homes.iter().map(|(_, id)| id.card()).collect(),
            label: format!("demo {scheme}"),
            expires_at: now() + 3600,
            nonce: fresh_nonce(),
            aux,
        });
        self.write_plan("keygen", &plan)?;
        Ok(plan)
    }

    fn sign_plan(
        &self,
        key_id: &str,
        message: &[u8],
        hash: Option<HashMode>,
        presign: Option<Presign>,
    ) -> Result<Plan> {
        let db = self.homes[0].0.db()?;
        let key = super::resolve_key(&db, key_id)?;
        let scheme = Scheme::ALL
            .into_iter()
            .find(|s| *s == key.scheme)
            .ok_or_else(|| Failure::internal("the demo key has an unknown scheme"))?;
        let plan = Plan::Sign(SignPlan {
            version: 1,
            scheme,
            key_id: key_id.into(),
            group_public_key: key.public_key.clone(),
            threshold: 2,
            parties: self.homes.iter().map(|(_, id)| id.card()).collect(),
            signers: vec![1, 3],
            message: base64::engine::general_purpose::STANDARD.encode(message),
            label: "demo signature".into(),
            expires_at: now() + 3600,
            nonce: fresh_nonce(),
            hash,
            path: None,
            presign,
        });
        Ok(plan)
    }

    fn write_plan(&self, name: &str, plan: &Plan) -> Result<()> {
        write_file(
            &self.dir.join(format!("{name}.plan.json")),
            plan.to_json().as_bytes(),
        )?;
        self.p
            .status(format!("  {name} plan, fingerprint {}", plan.fingerprint()));
        Ok(())
    }

    /// A FROST keygen, and a signing by alice and carol.
    fn frost(&self, scheme: Scheme) -> Result<serde_json::Value> {
        let kplan = self.keygen_plan(scheme, None)?;
        let (key_id, public_key) = self.keygen(&kplan)?;
        let message = format!("demo message for {scheme}").into_bytes();
        let splan = self.sign_plan(&key_id, &message, None, None)?;
        self.write_plan("sign", &splan)?;
        let signature = self.sign(&splan)?;
        let valid = pubkey::verify(
            scheme,
            &hex::decode(&public_key).map_err(|e| Failure::internal("key").cause(e))?,
            &message,
            &signature,
        )?;
        self.finish(scheme, &key_id, &public_key, &signature, valid)
    }

    /// CGGMP21: aux info and keygen, a presignature by alice and carol, then a
    /// signature from it in one round.
    fn ecdsa(&self) -> Result<serde_json::Value> {
        let scheme = Scheme::EcdsaSecp256k1;
        self.p.warn(
            "aux info needs Paillier primes: this demo uses publicly known ones built into mpc for the demo only; they are never importable into a real home",
        );
        for ((home, id), primes) in self.homes.iter().zip(super::primes::demo_primes()?) {
            home.add_primes(id, primes.as_bytes())?;
        }
        let kplan = self.keygen_plan(scheme, Some(AuxMode::Generate))?;
        let (key_id, public_key) = self.keygen(&kplan)?;

        let presign = self.sign_plan(&key_id, b"", None, Some(Presign::Generate))?;
        self.write_plan("presign", &presign)?;
        let made = run_all(self.p, self.homes, &presign, self.dir, &[1, 3])?;
        let Some(Outcome::Presign { .. }) = made.first() else {
            return Err(Failure::internal("demo presigning gave no presignature"));
        };
        let message = format!("demo message for {scheme}").into_bytes();
        let session = hex::encode(presign.session_id());
        let splan = self.sign_plan(
            &key_id,
            &message,
            Some(HashMode::Sha256),
            Some(Presign::Consume { session }),
        )?;
        self.write_plan("sign (from the presignature)", &splan)?;
        let signature = self.sign(&splan)?;
        let digest =
            crate::plan::digest_of(HashMode::Sha256, &message).map_err(Failure::internal)?;
        let valid = pubkey::verify_ecdsa_prehash(
            &hex::decode(&public_key).map_err(|e| Failure::internal("key").cause(e))?,
            &digest,
            &signature,
        )?;
        self.finish(scheme, &key_id, &public_key, &signature, valid)
    }

    /// Runs a keygen; returns the key id and the public key (hex).
    fn keygen(&self, plan: &Plan) -> Result<(String, String)> {
        let outcomes = run_all(self.p, self.homes, plan, self.dir, &[1, 2, 3])?;
        match outcomes.first() {
            Some(Outcome::Keygen {
                key_id, public_key, ..
            }) => Ok((key_id.clone(), public_key.clone())),
            _ => Err(Failure::internal("demo keygen gave no key")),
        }
    }

    /// Runs a signing by alice and carol; returns the signature.
    fn sign(&self, plan: &Plan) -> Result<Vec<u8>> {
        let signed = run_all(self.p, self.homes, plan, self.dir, &[1, 3])?;
        let Some(Outcome::Sign { signature, .. }) = signed.first() else {
            return Err(Failure::internal("demo signing gave no signature"));
        };
        hex::decode(signature).map_err(|e| Failure::internal("signature").cause(e))
    }

    fn finish(
        &self,
        scheme: Scheme,
        key_id: &str,
        public_key: &str,
        signature: &[u8],
        valid: bool,
    ) -> Result<serde_json::Value> {
        if !valid {
            return Err(Failure::internal(format!(
                "demo signature for {scheme} does not verify"
            )));
        }
        let signature = hex::encode(signature);
        write_file(
            &self.dir.join("signature.hex"),
            format!("{signature}\n").as_bytes(),
        )?;
        self.p.status(format!(
            "  mpc verify: signature {}... is valid",
            &signature[..16]
        ));
        Ok(serde_json::json!({
            "scheme": scheme, "key_id": key_id, "public_key": public_key, "signature": signature, "valid": valid,
        }))
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes)
        .map_err(|e| Failure::internal(format!("cannot write {}", path.display())).cause(e))
}

/// Steps every listed party until all are done, as separate parties would: each party
/// is a thread holding its open session for the whole ceremony (so a CGGMP21 party keeps
/// its protocol run instead of replaying it every step), and in each round the parties
/// still running take their step at the same time, with a spinner while they do.
fn run_all(
    p: &Printer,
    homes: &[(Home, std::sync::Arc<Identity>)],
    plan: &Plan,
    dir: &Path,
    who: &[u16],
) -> Result<Vec<Outcome>> {
    use std::sync::mpsc;
    let quiet = Printer {
        quiet: true,
        ..Printer::default()
    };
    std::thread::scope(|scope| {
        let mut parties = Vec::new();
        for &idx in who {
            let (go, step) = mpsc::channel::<()>();
            let (report, reports) = mpsc::channel::<Result<Progress>>();
            let (home, id) = &homes[idx as usize - 1];
            let quiet = &quiet;
            scope.spawn(move || {
                let opened = crate::store::Store::home(home)
                    .map_err(Failure::from)
                    .and_then(|store| {
                        Ceremony::open(
                            store,
                            id.clone(),
                            plan.clone().validated()?,
                            vec![super::run::dir_carrier(dir)?],
                            super::run::confirm_plan(quiet, true),
                        )
                    });
                let mut c = match opened {
                    Ok(c) => c,
                    Err(f) => {
                        let _ = report.send(Err(f));
                        return;
                    }
                };
                while step.recv().is_ok() {
                    let progress = c.step().map_err(Failure::from);
                    let more = matches!(progress, Ok(Progress::Waiting { .. }));
                    if report.send(progress).is_err() || !more {
                        return;
                    }
                }
            });
            parties.push((NAMES[idx as usize - 1], go, reports));
        }
        let mut done: Vec<Option<Outcome>> = vec![None; who.len()];
        for round in 1..=16 {
            let running: Vec<usize> = (0..who.len()).filter(|&i| done[i].is_none()).collect();
            let names: Vec<&str> = running.iter().map(|&i| parties[i].0).collect();
            let spinner = p.spinner(format!("  step {round}: {} computing", names.join(", ")));
            for &i in &running {
                let _ = parties[i].1.send(()); // a party that failed to open has reported
            }
            let steps: Vec<Result<Progress>> = running
                .iter()
                .map(|&i| {
                    parties[i].2.recv().unwrap_or_else(|_| {
                        Err(Failure::internal("a demo party stopped unexpectedly"))
                    })
                })
                .collect();
            if let Some(s) = spinner {
                s.finish_and_clear();
            }
            for (&i, progress) in running.iter().zip(steps) {
                let name = parties[i].0;
                match progress? {
                    Progress::Done(o) => {
                        p.status(format!(
                            "  step {round}: {name} done ({})",
                            o.transcript_words()?
                        ));
                        done[i] = Some(o);
                    }
                    Progress::Waiting { round: r, .. } => {
                        p.status(format!(
                            "  step {round}: {name} sent what it could; next it needs round {r}"
                        ));
                    }
                }
            }
            if done.iter().all(Option::is_some) {
                return Ok(done.into_iter().flatten().collect());
            }
        }
        Err(Failure::internal("demo ceremony did not finish"))
    })
}
