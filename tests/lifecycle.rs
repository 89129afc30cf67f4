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
