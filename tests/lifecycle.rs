//! A key's life in one party's home: suspend, resume, scheduled deletion, cancel, purge;
//! every forbidden transition refused with the command that gets out of it; signing
//! refused in every state but active; the audit log records each step. (Destroying
//! ECDSA presignatures with a key is in tests/ecdsa.rs.)

mod common;
use common::*;

/// `mpc ARGS` as alice; returns (exit code, stderr, JSON if any).
fn alice(w: &World, args: &[&str]) -> (i32, String, Option<serde_json::Value>) {
    let out = w.mpc(0).arg("--json").args(args).output().unwrap();
    let json = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok());
    (code(&out), stderr(&out), json)
}

fn status(w: &World, key: &str) -> String {
    let (c, e, j) = alice(w, &["keys", "show", key]);
    assert_eq!(c, 0, "{e}");
    j.unwrap()["status"].as_str().unwrap().to_string()
}

/// Alice's step in a signing among alice and bob is refused for `reason`.
fn alice_cannot_sign(w: &World, key: &str, reason: &str) {
    let (c, e, _) = alice(
        w,
        &[
            "sign",
            "plan",
            "--key",
            key,
            "--signers",
            "alice,bob",
            "--message-hex",
            "00",
        ],
    );
    assert_eq!(c, 2, "{e}");
    assert!(e.contains(reason), "`{reason}` not in: {e}");
    // A plan written by bob, whose share is active, is refused by alice's step.
    let plan = w.sign_plan(1, key, "alice,bob", b"refused");
    let out = w.step(0, "sign", &plan);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains(reason), "{}", stderr(&out));
}

fn refused(w: &World, args: &[&str], reason: &str) {
    let (c, e, _) = alice(w, args);
    assert_eq!(c, 2, "{args:?}: {e}");
    assert!(e.contains(reason), "{args:?}: `{reason}` not in: {e}");
}

#[test]
fn suspend_resume_delete_cancel_and_purge() {
    let w = World::new(3);
    let (key, _) = w.keygen("eddsa-ed25519", 2);
    let share = w.parties[0].home.join("shares").join(format!("{key}.age"));
    assert!(share.exists());

    // Suspended: alice's share refuses; bob and carol still sign without her.
    refused(&w, &["resume", &key], "only a suspended key can be resumed");
    let (c, e, j) = alice(&w, &["suspend", &key, "--reason", "laptop sent for repair"]);
    assert_eq!(c, 0, "{e}");
    assert_eq!(j.unwrap()["status"], "suspended");
    refused(
        &w,
        &["suspend", &key],
        "only an active key can be suspended",
    );
    alice_cannot_sign(&w, &key, "is suspended; it cannot sign");
    assert_eq!(w.sign(&key, &[1, 2], b"without alice").len(), 64);
    let (c, e, _) = alice(&w, &["resume", &key]);
    assert_eq!(c, 0, "{e}");
    assert_eq!(w.sign(&key, &[0, 1], b"alice is back").len(), 64);

    // Scheduled for deletion: no signing, no resume, and nothing destroyed before the date.
    refused(&w, &["delete", &key], "confirmation required");
    assert_eq!(
        status(&w, &key),
        "active",
        "an unconfirmed delete changed the key"
    );
    let (c, e, j) = alice(&w, &["delete", &key, "--after", "1h", "--yes"]);
    assert_eq!(c, 0, "{e}");
    assert!(j.unwrap()["delete_after"].is_string());
    assert_eq!(status(&w, &key), "pending_deletion");
    alice_cannot_sign(&w, &key, "is scheduled for deletion");
    refused(&w, &["resume", &key], "cancel the deletion first");
    refused(&w, &["delete", &key, "--yes"], "cancel first");
    let (c, e, j) = alice(&w, &["delete", "--purge", "--yes"]);
    assert_eq!(c, 0, "{e}");
    assert_eq!(j.unwrap()["destroyed"], serde_json::json!([]));
    assert!(share.exists());

    // Cancelled: the key stays suspended until resumed.
    let (c, e, _) = alice(&w, &["delete", &key, "--cancel"]);
    assert_eq!(c, 0, "{e}");
    assert_eq!(status(&w, &key), "suspended");
    alice_cannot_sign(&w, &key, "is suspended");
    refused(
        &w,
        &["delete", &key, "--cancel"],
        "only a key pending deletion",
    );
    let (c, e, _) = alice(&w, &["resume", &key]);
    assert_eq!(c, 0, "{e}");

    // Deleted: the share file is gone, the metadata stays, and nothing undoes it.
    let (c, e, _) = alice(
        &w,
        &[
            "delete", &key, "--after", "0s", "--yes", "--reason", "retired",
        ],
    );
    assert_eq!(c, 0, "{e}");
    let (c, e, j) = alice(&w, &["delete", "--purge", "--yes"]);
    assert_eq!(c, 0, "{e}");
    assert_eq!(j.unwrap()["destroyed"][0]["id"], key.as_str());
    assert!(!share.exists(), "the share file survived");
    assert_eq!(status(&w, &key), "deleted");
    alice_cannot_sign(&w, &key, "was deleted");
    refused(
        &w,
        &["delete", &key, "--cancel"],
        "only a key pending deletion",
    );
    refused(&w, &["resume", &key], "only a suspended key");
    refused(
        &w,
        &["delete", &key, "--yes"],
        "only an active or suspended key",
    );
    // Bob's share is his own: his copy of the key is untouched.
    let out = w
        .mpc(1)
        .args(["--json", "keys", "show", &key])
        .output()
        .unwrap();
    assert_eq!(json(&out)["status"], "active");

    // The audit log has every step, and its chain is intact.
    let (c, e, j) = alice(&w, &["audit", "log"]);
    assert_eq!(c, 0, "{e}");
    let actions: Vec<String> = j.unwrap()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_string())
        .filter(|a| a.starts_with("key."))
        .collect();
    assert_eq!(
        actions,
        [
            "key.suspend",
            "key.resume",
            "key.delete.schedule",
            "key.delete.cancel",
            "key.resume",
            "key.delete.schedule",
            "key.delete.destroy"
        ]
    );
    let (c, e, _) = alice(&w, &["audit", "verify"]);
    assert_eq!(c, 0, "{e}");
}

fn write(w: &World, name: &str, text: &str) -> std::path::PathBuf {
    let p = w.path(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Alice backs up her share of `key` to the file `name`, under the passphrase in `pass`.
fn backup(w: &World, key: &str, name: &str, pass: &std::path::Path) -> std::path::PathBuf {
    let file = w.path(name);
    let out = w
        .mpc(0)
        .args(["keys", "backup", key, "--out"])
        .arg(&file)
        .arg("--backup-passphrase-file")
        .arg(pass)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    file
}

/// `mpc keys restore FILE` in `home`, with a backup passphrase file or an age identity
/// file if given.
fn restore(
    home: &std::path::Path,
    file: &std::path::Path,
    pass: Option<&std::path::Path>,
    identity: Option<&std::path::Path>,
) -> std::process::Output {
    let mut c = mpc(home);
    c.args(["--json", "keys", "restore"]).arg(file);
    if let Some(p) = pass {
        c.arg("--backup-passphrase-file").arg(p);
    }
    if let Some(i) = identity {
        c.arg("--identity").arg(i);
    }
    c.output().unwrap()
}

#[test]
fn backup_and_restore_on_a_new_machine() {
    let mut w = World::new(3);
    let (key, pk) = w.keygen("schnorr-secp256k1-tr", 2);
    let pass = write(&w, "backup.pass", "a different passphrase for the backup\n");
    let wrong = write(&w, "wrong.pass", "not it\n");
    let file = backup(&w, &key, "alice.backup", &pass);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"),
        "{text}"
    );
    let out = w
        .mpc(1)
        .args(["--json", "inspect"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json(&out)["encrypted_to"], "passphrase");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Bad inputs: each is refused with exit 2 and leaves the new home without the key.
    let home = w.new_laptop(0, "alice-new-laptop");
    let out = restore(&home, &file, Some(&wrong), None);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("wrong passphrase"),
        "{}",
        stderr(&out)
    );
    let mut damaged = text.clone().into_bytes();
    let i = damaged.len() / 2;
    damaged[i] = if damaged[i] == b'A' { b'B' } else { b'A' };
    let damaged_file = w.path("damaged.backup");
    std::fs::write(&damaged_file, damaged).unwrap();
    let out = restore(&home, &damaged_file, Some(&pass), None);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot restore"), "{}", stderr(&out));
    // Bob's home cannot take alice's share.
    let out = restore(&w.parties[1].home, &file, Some(&pass), None);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("this home's identity is not that party"),
        "{}",
        stderr(&out)
    );
    let listed = json(
        &mpc(&home)
            .args(["--json", "keys", "list"])
            .output()
            .unwrap(),
    );
    assert_eq!(listed["keys"], serde_json::json!([]));

    // The right passphrase: the key is back, and alice signs from the new laptop.
    let out = restore(&home, &file, Some(&pass), None);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json(&out)["id"], key.as_str());
    w.parties[0].home = home;
    let listed = json(&w.mpc(0).args(["--json", "keys", "list"]).output().unwrap());
    assert_eq!(listed["keys"][0]["public_key"], pk.as_str());
    let msg = b"signed from the restored share";
    let sig = w.sign(&key, &[0, 2], msg);
    assert!(verify_independently(
        "schnorr-secp256k1-tr",
        &hex::decode(&pk).unwrap(),
        msg,
        &sig
    ));

    // To a recipient: alice's own X25519 key (her card's), or an age identity file.
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&w.parties[0].card).unwrap()).unwrap();
    let own = card["x25519"].as_str().unwrap();
    let escrow = age::x25519::Identity::generate();
    let escrow_file = w.path("escrow.key");
    {
        use age::secrecy::ExposeSecret;
        std::fs::write(
            &escrow_file,
            format!("# escrow\n{}\n", escrow.to_string().expose_secret()),
        )
        .unwrap();
    }
    let file2 = w.path("alice-to-recipients.backup");
    let out = w
        .mpc(0)
        .args(["keys", "backup", &key, "--out"])
        .arg(&file2)
        .args(["--to", own, "--to", &escrow.to_public().to_string()])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let home = w.new_laptop(0, "alice-third-laptop");
    let out = restore(&home, &file2, None, None);
    assert_eq!(code(&out), 0, "own identity: {}", stderr(&out));
    let home = w.new_laptop(0, "alice-fourth-laptop");
    std::fs::copy(
        w.parties[1].home.join("identity.age"),
        home.join("identity.age"),
    )
    .unwrap();
    std::fs::copy(w.parties[1].home.join("card.json"), home.join("card.json")).unwrap();
    let out = restore(&home, &file2, None, None);
    assert_eq!(code(&out), 2, "bob cannot open it: {}", stderr(&out));
    assert!(
        stderr(&out).contains("not encrypted to this party"),
        "{}",
        stderr(&out)
    );
    let out = restore(&home, &file2, None, Some(&escrow_file));
    assert_eq!(
        code(&out),
        2,
        "opened, but it is alice's share: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("this home's identity is not that party"),
        "{}",
        stderr(&out)
    );
}

/// A backup whose share does not belong to the key it names is refused: the metadata
/// of another key is put next to alice's share, and the file re-encrypted.
#[test]
fn a_backup_with_a_foreign_share_is_refused() {
    let w = World::new(3);
    let (key, _) = w.keygen("eddsa-ed25519", 2);
    let (other, other_pk) = w.keygen("eddsa-ed25519", 2);
    let pass = write(&w, "p", "backup pass\n");
    let file = backup(&w, &key, "a.backup", &pass);
    let secret = age::secrecy::SecretString::from("backup pass".to_string());
    let plain = age::decrypt(
        &age::scrypt::Identity::new(secret.clone()),
        &std::fs::read(&file).unwrap(),
    )
    .unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    v["key_id"] = serde_json::json!(other);
    v["public_key"] = serde_json::json!(other_pk);
    let mut r = age::scrypt::Recipient::new(secret);
    r.set_work_factor(10);
    let forged = age::encrypt_and_armor(&r, v.to_string().as_bytes()).unwrap();
    let forged_file = write(&w, "forged.backup", &forged);
    let home = w.new_laptop(0, "alice-new");
    let out = restore(&home, &forged_file, Some(&pass), None);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("different"), "{}", stderr(&out));
}

/// A key suspended while its signing session waits does not sign: a waiting process,
/// which opened the session while the key was active, checks the key's status before it
/// computes the signature share. After a resume the same session finishes.
#[test]
fn a_key_suspended_while_a_session_waits_does_not_sign() {
    let w = World::new(2);
    let (key, _) = w.keygen("eddsa-ed25519", 2);
    let plan = w.sign_plan(0, &key, "alice,bob", b"suspended midway");
    let waiting = w.spawn_run(0, "sign", &plan, &["--timeout", "60s"]);
    // Alice's process has sent its commitments and waits for bob's.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while files_matching(&w.parties[0].dir, "-sign-r1-p1-").is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "alice never committed"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (c, e, _) = alice(&w, &["suspend", &key]);
    assert_eq!(c, 0, "{e}");
    assert_eq!(code(&w.step(1, "sign", &plan)), 4);
    w.sync(&[0, 1]);
    let out = waiting.wait_with_output().unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("is suspended"), "{}", stderr(&out));
    assert!(
        files_matching(&w.parties[0].dir, "-sign-r2-p1-").is_empty(),
        "a suspended key's share left the machine"
    );
    let (c, e, _) = alice(&w, &["resume", &key]);
    assert_eq!(c, 0, "{e}");
    let sigs = w.run_all("sign", &plan, &[0, 1]);
    assert_eq!(sigs[0]["signature"], sigs[1]["signature"]);
}
