//! The smaller commands, through the binary: audit, inspect, contacts, init, id.

mod common;
use common::*;

#[test]
fn audit_chain_records_operations_and_detects_tampering() {
    let w = World::new(3);
    let (key, _) = w.keygen("eddsa-ed25519", 2);
    w.sign(&key, &[0, 1], b"audited");
    let out = w.mpc(0).args(["audit", "log", "--json"]).output().unwrap();
    let entries = json(&out)["entries"].as_array().unwrap().clone();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "init",
            "keygen.confirm",
            "keygen.complete",
            "sign.confirm",
            "sign.complete"
        ]
    );
    let out = w.mpc(0).args(["audit", "verify"]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("audit chain intact: 5 entries"));

    let db = rusqlite::Connection::open(w.parties[0].home.join("mpc.db")).unwrap();
    db.execute("UPDATE audit SET detail = '{}' WHERE seq = 3", [])
        .unwrap();
    let out = w
        .mpc(0)
        .args(["audit", "verify", "--json"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("the audit chain is broken at entry 3"),
        "{}",
        stderr(&out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(stdout.lines().count(), 1, "one JSON object: {stdout}");
    assert_eq!(json(&out)["intact"], false);
    assert_eq!(json(&out)["break"]["seq"], 3);

    let db = rusqlite::Connection::open(w.parties[1].home.join("mpc.db")).unwrap();
    db.execute("DELETE FROM audit WHERE seq = 2", []).unwrap();
    let out = w.mpc(1).args(["audit", "verify"]).output().unwrap();
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("row is missing (deleted)"),
        "{}",
        stderr(&out)
    );

    let db = rusqlite::Connection::open(w.parties[2].home.join("mpc.db")).unwrap();
    db.execute(
        "DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)",
        [],
    )
    .unwrap();
    let out = w.mpc(2).args(["audit", "verify"]).output().unwrap();
    assert_eq!(code(&out), 1, "deleting the newest row must be detected");
}

#[test]
fn inspect_shows_messages_plans_and_cards_without_secrets() {
    let w = World::new(3);
    let plan = w.keygen_plan("schnorr-secp256k1-tr", 2);
    for p in 0..3 {
        w.step(p, "keygen", &plan);
    }
    w.sync(&[0, 1, 2]);
    for p in 0..3 {
        w.step(p, "keygen", &plan);
    }
    let private = files_matching(&w.parties[1].dir, "-keygen-r2-p2-to-3")[0].clone();
    let out = w
        .mpc(0)
        .args(["inspect", "--json"])
        .arg(&private)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["type"], "message");
    assert_eq!(v["round"], 2);
    assert_eq!(v["sender"], 2);
    assert_eq!(v["recipient"], 3);
    assert_eq!(v["payload_encrypted"], true);
    assert_eq!(v["scheme"], "schnorr-secp256k1-tr");
    let out = w.mpc(0).arg("inspect").arg(&private).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("encrypted to the recipient"), "{text}");

    let mut bad = std::fs::read(&private).unwrap();
    let n = bad.len();
    bad[n - 1] ^= 1;
    let badf = w.path("bad.mpcmsg");
    std::fs::write(&badf, bad).unwrap();
    let out = w.mpc(0).arg("inspect").arg(&badf).output().unwrap();
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("the signature does not verify"),
        "{}",
        stderr(&out)
    );
    // What the tampered file claims is still shown, marked invalid.
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("signature:  INVALID"), "{shown}");
    assert!(shown.contains("round:      2"), "{shown}");
    let out = w
        .mpc(0)
        .args(["inspect", "--json"])
        .arg(&badf)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    assert_eq!(json(&out)["signature_valid"], false);

    let out = w
        .mpc(0)
        .args(["inspect", "--json"])
        .arg(&plan)
        .output()
        .unwrap();
    let v = json(&out);
    assert_eq!(v["type"], "plan");
    assert_eq!(v["plan"]["threshold"], 2);
    let out = w
        .mpc(0)
        .args(["inspect", "--json"])
        .arg(&w.parties[2].card)
        .output()
        .unwrap();
    assert_eq!(json(&out)["card"]["name"], "carol");
}

#[test]
fn contacts_let_plans_name_parties() {
    let w = World::new(3);
    let out = w
        .mpc(0)
        .args(["contacts", "add", "--yes"])
        .arg(&w.parties[1].card)
        .arg(&w.parties[2].card)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = w
        .mpc(0)
        .args(["contacts", "list", "--json"])
        .output()
        .unwrap();
    let names: Vec<String> = json(&out)["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["bob", "carol"]);
    // Without --yes and without a terminal, importing asks and fails.
    let out = w
        .mpc(1)
        .args(["contacts", "add"])
        .arg(&w.parties[0].card)
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    let plan = w.path("named.plan.json");
    let names = ["me", "bob", "carol"].map(std::ffi::OsStr::new);
    let out = w
        .keygen_plan_cmd(0, &names, &["--out"])
        .arg(&plan)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let results = w.run_all("keygen", &plan, &[0, 1, 2]);
    assert_eq!(results[0]["public_key"], results[2]["public_key"]);
    let names = ["me", "mallory"].map(std::ffi::OsStr::new);
    let out = w.keygen_plan_cmd(0, &names, &[]).output().unwrap();
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("`mallory` is neither a card file nor a contact"));
}

#[test]
fn init_refuses_to_overwrite_and_id_prints_the_card() {
    let w = World::new(1);
    let out = w
        .mpc(0)
        .args(["init", "--name", "again", "--kdf-log-n", "10"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("a party home already exists"));
    let out = w.mpc(0).args(["id", "--json"]).output().unwrap();
    let v = json(&out);
    assert_eq!(v["card"]["name"], "alice");
    let fp = v["fingerprint"].as_str().unwrap();
    assert_eq!(fp.split(' ').next().unwrap().split('-').count(), 4, "{fp}");
    let out = w.mpc(0).args(["id"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"x25519\": \"age1"));
    // The passphrase can come from a file.
    let pf = w.path("pass.txt");
    std::fs::write(&pf, format!("{PASS}\n")).unwrap();
    let home2 = w.path("home-from-file");
    let out = assert_cmd::Command::cargo_bin("mpc")
        .unwrap()
        .env_remove("MPC_PASSPHRASE")
        .env("MPC_HOME", &home2)
        .args([
            "--no-input",
            "init",
            "--name",
            "frank",
            "--kdf-log-n",
            "10",
            "--passphrase-file",
        ])
        .arg(&pf)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // Without any passphrase source and no terminal: a clear error.
    let home3 = w.path("home-none");
    let out = assert_cmd::Command::cargo_bin("mpc")
        .unwrap()
        .env_remove("MPC_PASSPHRASE")
        .env("MPC_HOME", &home3)
        .args(["--no-input", "init", "--name", "gina"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("a passphrase is needed but there is no terminal"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn demo_runs_every_scheme() {
    let dir = tempfile::tempdir().unwrap();
    let out = assert_cmd::Command::cargo_bin("mpc")
        .unwrap()
        .args(["demo", "--json", "--keep"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let results = json(&out)["results"].as_array().unwrap().clone();
    let schemes: Vec<&str> = results
        .iter()
        .map(|r| r["scheme"].as_str().unwrap())
        .collect();
    assert_eq!(
        schemes,
        [
            "eddsa-ed25519",
            "schnorr-secp256k1-tr",
            "schnorr-secp256k1",
            "ecdsa-secp256k1"
        ]
    );
    for r in &results {
        let scheme = r["scheme"].as_str().unwrap();
        let pk = hex::decode(r["public_key"].as_str().unwrap()).unwrap();
        let sig = hex::decode(r["signature"].as_str().unwrap()).unwrap();
        let msg = format!("demo message for {scheme}");
        let valid = if scheme == "ecdsa-secp256k1" {
            use k256::ecdsa::signature::Verifier;
            let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(&pk).unwrap();
            let sig = k256::ecdsa::Signature::from_slice(&sig).unwrap();
            vk.verify(msg.as_bytes(), &sig).is_ok() // SHA-256 of the message
        } else {
            verify_independently(scheme, &pk, msg.as_bytes(), &sig)
        };
        assert!(valid, "{scheme}");
    }
    // The demo says its ECDSA primes are public.
    assert!(stderr(&out).contains("publicly known"), "{}", stderr(&out));
    // One scheme only.
    let out = assert_cmd::Command::cargo_bin("mpc")
        .unwrap()
        .args(["demo", "--json", "--scheme", "eddsa-ed25519"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json(&out)["results"].as_array().unwrap().len(), 1);
    // No real home takes them.
    let sets: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/commands/demo_primes.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let w = World::new(1);
    let file = w.path("demo-primes.json");
    std::fs::write(&file, sets[1].to_string()).unwrap();
    let out = w
        .mpc(0)
        .args(["primes", "import"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("demo's Paillier primes"),
        "{}",
        stderr(&out)
    );
}

/// The rows' hash, computed independently of mpc (see `src/store/audit.rs`).
fn row_hash(prev: &str, seq: i64, at: i64, action: &str, subject: &str, detail: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"mpc-audit-v1\0");
    h.update(prev.as_bytes());
    h.update(seq.to_be_bytes());
    h.update(at.to_be_bytes());
    for part in [action, subject, detail] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Rewrites rows from `from` on (with `detail`), recomputing every later hash and the
/// head, as someone with write access to the database but not the passphrase could.
fn rewrite_and_rehash(db: &rusqlite::Connection, from: i64, detail: &str) {
    db.execute(
        "UPDATE audit SET detail = ?1 WHERE seq >= ?2",
        rusqlite::params![detail, from],
    )
    .unwrap();
    let rows: Vec<(i64, i64, String, String, String)> = db
        .prepare("SELECT seq, at, action, subject, detail FROM audit ORDER BY seq")
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut prev = "0".repeat(64);
    for (seq, at, action, subject, detail) in rows {
        let hash = row_hash(&prev, seq, at, &action, &subject, &detail);
        db.execute(
            "UPDATE audit SET prev_hash = ?1, hash = ?2 WHERE seq = ?3",
            rusqlite::params![prev, hash, seq],
        )
        .unwrap();
        db.execute(
            "UPDATE audit_head SET seq = ?1, hash = ?2",
            rusqlite::params![seq, hash],
        )
        .unwrap();
        prev = hash;
    }
}

fn verify(w: &World, p: usize, extra: &[&str]) -> (i32, String, serde_json::Value) {
    let out = w
        .mpc(p)
        .args(["--json", "audit", "verify"])
        .args(extra)
        .output()
        .unwrap();
    (code(&out), stderr(&out), json(&out))
}

/// A log cut back (rows deleted and the head moved back), emptied, or rewritten with
/// every hash recomputed passes a bare hash chain; the signed checkpoints, the home's
/// own records and an anchor catch each.
#[test]
fn audit_checkpoints_catch_a_cut_an_empty_and_a_rehashed_log() {
    let w = World::new(5);
    let (key, _) = w.keygen("eddsa-ed25519", 2);
    w.sign(&key, &[0, 1], b"checkpointed");
    for p in 0..5 {
        let (c, e, j) = verify(&w, p, &[]);
        assert_eq!(c, 0, "{e}");
        assert_eq!(j["intact"], true);
        assert_eq!(j["unchecked"], 0, "every step signs its rows: {j}");
    }

    // Alice: the newest rows deleted and the head moved back, a consistent chain.
    let db = rusqlite::Connection::open(w.parties[0].home.join("mpc.db")).unwrap();
    db.execute("DELETE FROM audit WHERE seq > 3", []).unwrap();
    db.execute(
        "UPDATE audit_head SET seq = 3, hash = (SELECT hash FROM audit WHERE seq = 3)",
        [],
    )
    .unwrap();
    let (c, e, j) = verify(&w, 0, &[]);
    assert_eq!(c, 1, "{e}");
    assert!(e.contains("rows were cut"), "{e}");
    assert_eq!(j["intact"], false);

    // Bob: the table emptied (head and checkpoints too).
    let db = rusqlite::Connection::open(w.parties[1].home.join("mpc.db")).unwrap();
    for t in ["audit", "audit_head", "audit_checkpoint"] {
        db.execute(&format!("DELETE FROM {t}"), []).unwrap();
    }
    let (c, e, _) = verify(&w, 1, &[]);
    assert_eq!(c, 1, "{e}");
    assert!(e.contains("no signed checkpoint"), "{e}");

    // Carol: rows rewritten and every later hash recomputed.
    let db = rusqlite::Connection::open(w.parties[2].home.join("mpc.db")).unwrap();
    rewrite_and_rehash(&db, 2, "{}");
    let (c, e, _) = verify(&w, 2, &[]);
    assert_eq!(c, 1, "{e}");
    assert!(e.contains("rows were rewritten"), "{e}");

    // Dave: the log cut to its first row and rehashed, with a forged checkpoint, then
    // with none at all.
    let db = rusqlite::Connection::open(w.parties[3].home.join("mpc.db")).unwrap();
    db.execute("DELETE FROM audit_checkpoint", []).unwrap();
    db.execute("DELETE FROM audit WHERE seq > 1", []).unwrap();
    rewrite_and_rehash(&db, 1, "{}");
    db.execute(
        "INSERT INTO audit_checkpoint (seq, hash, at, signature) VALUES (1, (SELECT hash FROM audit WHERE seq = 1), 0, ?1)",
        [&"00".repeat(64)],
    )
    .unwrap();
    let (c, e, _) = verify(&w, 3, &[]);
    assert_eq!(c, 1, "{e}");
    assert!(e.contains("signature is not this party's"), "{e}");
    db.execute("DELETE FROM audit_checkpoint", []).unwrap();
    let (c, e, _) = verify(&w, 3, &[]);
    assert_eq!(c, 1, "{e}");
    assert!(e.contains("no signed checkpoint"), "{e}");

    // Erin: a head written on the worksheet, then later rows: the log still extends
    // the anchor; rows after the last checkpoint are reported, not failed.
    let out = w.mpc(4).args(["--json", "audit", "head"]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let anchor = json(&out)["anchor"].as_str().unwrap().to_string();
    // A lifecycle change signs its own row; adding a contact (no passphrase) does not.
    let out = w.mpc(4).args(["suspend", &key]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(verify(&w, 4, &[]).2["unchecked"], 0);
    let out = w
        .mpc(4)
        .args(["contacts", "add", "--yes"])
        .arg(&w.parties[0].card)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let (c, e, j) = verify(&w, 4, &["--anchor", &anchor]);
    assert_eq!(c, 0, "{e}");
    assert_eq!(j["unchecked"], 1, "{j}");
    assert!(j["anchor"].is_i64(), "{j}");
    // Someone holding the passphrase rewrites the log and signs a new head; the anchor
    // kept elsewhere catches it.
    let db = rusqlite::Connection::open(w.parties[4].home.join("mpc.db")).unwrap();
    db.execute("DELETE FROM audit_checkpoint", []).unwrap();
    rewrite_and_rehash(&db, 2, "{\"rewritten\":true}");
    let out = w.mpc(4).args(["audit", "head"]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let (c, _, _) = verify(&w, 4, &[]);
    assert_eq!(c, 0, "a passphrase holder can re-sign a rewritten log");
    let (c, e, _) = verify(&w, 4, &["--anchor", &anchor]);
    assert_eq!(c, 1, "{e}");
    assert!(e.contains("does not extend the anchor"), "{e}");
    let out = w
        .mpc(4)
        .args(["audit", "verify", "--anchor", "7:zz"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
}

/// A key record whose creation is not in the log, and a share file without a key
/// record, mean rows or records were removed.
#[test]
fn audit_verify_requires_the_homes_records_in_the_log() {
    let w = World::new(2);
    let (key, _) = w.keygen("eddsa-ed25519", 2);
    let db = rusqlite::Connection::open(w.parties[0].home.join("mpc.db")).unwrap();
    db.execute(
        "UPDATE audit SET subject = 'elsewhere' WHERE action = 'keygen.complete'",
        [],
    )
    .unwrap();
    rewrite_and_rehash(&db, 1, "{}");
    // (The rewrite also breaks the checkpoint; re-sign it as a passphrase holder would,
    // to see the records check on its own.)
    db.execute("DELETE FROM audit_checkpoint", []).unwrap();
    assert_eq!(code(&w.mpc(0).args(["audit", "head"]).output().unwrap()), 0);
    let (c, e, _) = verify(&w, 0, &[]);
    assert_eq!(c, 1, "{e}");
    assert!(e.contains(&format!("key {key} has no audit entry")), "{e}");

    let db = rusqlite::Connection::open(w.parties[1].home.join("mpc.db")).unwrap();
    db.execute("DELETE FROM keys", []).unwrap();
    let (c, e, _) = verify(&w, 1, &[]);
    assert_eq!(c, 1, "{e}");
    assert!(e.contains("has no key record"), "{e}");
}

/// `mpc ... | head`: a reader that goes away ends the command quietly with exit 0 (it
/// panicked with exit 5, or 101 inside the completion generator).
#[test]
fn a_closed_stdout_ends_quietly_with_exit_0() {
    let w = World::new(1);
    for args in [
        vec!["completions", "bash"],
        vec!["id"],
        vec!["--json", "audit", "log"],
        vec!["audit", "log"],
    ] {
        // A pipe whose reader is gone before the process starts: every write fails
        // (EPIPE), however fast or slow the process is.
        let mut fds = [0; 2];
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        unsafe { libc::close(fds[0]) };
        let writer =
            unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fds[1]) };
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("mpc"))
            .env("MPC_HOME", &w.parties[0].home)
            .args(&args)
            .stdout(std::process::Stdio::from(writer))
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).is_empty(), "{args:?}: {}", stderr(&out));
    }
}

/// `mpc version --json` says exactly what ran: the version, the commit, the compiler
/// and the crypto crates' versions, which match Cargo.lock; `mpc --version` names the
/// commit too.
#[test]
fn version_names_the_commit_and_the_crypto_crates() {
    let out = assert_cmd::Command::cargo_bin("mpc")
        .unwrap()
        .args(["version", "--json"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    let commit = v["commit"].as_str().unwrap();
    let hash = commit.trim_end_matches("-modified");
    assert!(
        commit == "unknown" || (hash.len() == 40 && hash.chars().all(|c| c.is_ascii_hexdigit())),
        "{commit}"
    );
    assert!(v["rustc"].as_str().unwrap().starts_with("rustc "), "{v}");
    let lock = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock"),
    )
    .unwrap();
    for name in [
        "cggmp21",
        "frost-core",
        "frost-ed25519",
        "age",
        "k256",
        "ed25519-dalek",
    ] {
        let entry = format!(
            "name = \"{name}\"\nversion = \"{}\"",
            v["crates"][name].as_str().unwrap()
        );
        assert!(lock.contains(&entry), "{name}: {}", v["crates"][name]);
    }
    let out = assert_cmd::Command::cargo_bin("mpc")
        .unwrap()
        .arg("--version")
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(
        line.contains(env!("CARGO_PKG_VERSION")) && line.contains(commit),
        "{line}"
    );
}
