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
    assert_eq!(results.len(), 3);
    for r in results {
        let pk = hex::decode(r["public_key"].as_str().unwrap()).unwrap();
        let sig = hex::decode(r["signature"].as_str().unwrap()).unwrap();
        let msg = format!("demo message for {}", r["scheme"].as_str().unwrap());
        assert!(verify_independently(
            r["scheme"].as_str().unwrap(),
            &pk,
            msg.as_bytes(),
            &sig
        ));
    }
}
