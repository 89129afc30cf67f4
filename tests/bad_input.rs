//! Every bad input gets a clear error naming the file and the reason, a non-zero exit,
//! and loses nothing: the ceremony completes once the right file is back.

mod common;
use common::*;
use std::path::{Path, PathBuf};

/// Three parties, keygen plan, everyone's round 1 done and copied around.
fn after_round1(scheme: &str) -> (World, PathBuf) {
    let w = World::new(3);
    let plan = w.keygen_plan(scheme, 2);
    for p in 0..3 {
        assert_eq!(code(&w.step(p, "keygen", &plan)), 4);
    }
    w.sync(&[0, 1, 2]);
    (w, plan)
}

fn bob_r1_in_alice_dir(w: &World) -> PathBuf {
    let f = files_matching(&w.parties[0].dir, "-keygen-r1-p2-to-all");
    assert_eq!(f.len(), 1);
    f[0].clone()
}

/// Alice's keygen step fails with exit `want`, naming `file` and saying `reason`.
fn alice_rejects(w: &World, plan: &Path, file: &Path, want: i32, reason: &str) {
    w.rejects(0, "keygen", plan, file, want, reason);
}

/// Puts `good` back at `path` and checks that the whole keygen still completes.
fn restore_and_finish(w: &World, plan: &Path, path: &Path, good: &[u8]) {
    std::fs::write(path, good).unwrap();
    let results = w.run_all("keygen", plan, &[0, 1, 2]);
    assert_same_key(&results);
}

#[test]
fn flipped_byte() {
    let (w, plan) = after_round1("eddsa-ed25519");
    let f = bob_r1_in_alice_dir(&w);
    let good = std::fs::read(&f).unwrap();
    let mut bad = good.clone();
    let i = bad.len() - 70;
    bad[i] ^= 0x20;
    std::fs::write(&f, &bad).unwrap();
    alice_rejects(&w, &plan, &f, 2, "the signature does not verify");
    restore_and_finish(&w, &plan, &f, &good);
}

#[test]
fn truncated_file() {
    let (w, plan) = after_round1("schnorr-secp256k1-tr");
    let f = bob_r1_in_alice_dir(&w);
    let good = std::fs::read(&f).unwrap();
    std::fs::write(&f, &good[..good.len() / 2]).unwrap();
    alice_rejects(&w, &plan, &f, 2, "truncated");
    restore_and_finish(&w, &plan, &f, &good);
}

#[test]
fn message_from_another_session() {
    let (w, plan) = after_round1("schnorr-secp256k1");
    // Bob takes part in a second ceremony; its round-1 file is dropped in as if for this one.
    let other = w.keygen_plan("schnorr-secp256k1", 2);
    let other_dir = w.path("other-session");
    std::fs::create_dir_all(&other_dir).unwrap();
    assert_eq!(
        code(&step_in(&w.parties[1].home, &other_dir, "keygen", &other)),
        4
    );
    let foreign = files_matching(&other_dir, "-keygen-r1-p2-to-all")[0].clone();
    let f = bob_r1_in_alice_dir(&w);
    let good = std::fs::read(&f).unwrap();
    std::fs::copy(&foreign, &f).unwrap();
    alice_rejects(&w, &plan, &f, 2, "a message from another ceremony");
    restore_and_finish(&w, &plan, &f, &good);
}

#[test]
fn message_signed_by_a_party_not_in_the_plan() {
    use mpc::envelope::{Envelope, Header, Protocol};
    let (w, plan) = after_round1("eddsa-ed25519");
    let p = mpc::plan::Plan::from_json(&std::fs::read(&plan).unwrap()).unwrap();
    let mallory = mpc::identity::Identity::generate("mallory");
    let header = Header {
        scheme: mpc::scheme::Scheme::EddsaEd25519.tag(),
        session: p.session_id(),
        protocol: Protocol::Keygen,
        round: 1,
        sender: 2,
        sender_key: mallory.card().verifying_key().unwrap().to_bytes(),
        recipient: 0,
    };
    let forged = Envelope::create(&mallory, header, b"not a frost package", None).unwrap();
    let f = bob_r1_in_alice_dir(&w);
    let good = std::fs::read(&f).unwrap();
    std::fs::write(&f, forged.as_bytes()).unwrap();
    alice_rejects(
        &w,
        &plan,
        &f,
        2,
        "is signed by a key that is not party 2 (bob)'s",
    );
    restore_and_finish(&w, &plan, &f, &good);
}

/// Everyone through round 2 except alice's last step; returns bob's round-2 file to alice.
fn after_round2(w: &World, plan: &Path) -> PathBuf {
    for p in 0..3 {
        assert_eq!(code(&w.step(p, "keygen", plan)), 4);
    }
    w.sync(&[0, 1, 2]);
    files_matching(&w.parties[0].dir, "-keygen-r2-p2-to-1")[0].clone()
}

#[test]
fn message_addressed_to_someone_else() {
    let (w, plan) = after_round1("schnorr-secp256k1-tr");
    let f = after_round2(&w, &plan);
    let good = std::fs::read(&f).unwrap();
    // Bob's private round-2 message to carol, renamed as if it were for alice.
    let to_carol = files_matching(&w.parties[1].dir, "-keygen-r2-p2-to-3")[0].clone();
    std::fs::copy(&to_carol, &f).unwrap();
    alice_rejects(
        &w,
        &plan,
        &f,
        2,
        "is addressed to party 3 (carol), not to you (party 1 (alice))",
    );
    restore_and_finish(&w, &plan, &f, &good);
}

#[test]
fn replayed_earlier_round_message() {
    let (w, plan) = after_round1("eddsa-ed25519");
    let f = after_round2(&w, &plan);
    let good = std::fs::read(&f).unwrap();
    std::fs::copy(bob_r1_in_alice_dir(&w), &f).unwrap();
    alice_rejects(&w, &plan, &f, 2, "renamed, or replayed from another round");
    restore_and_finish(&w, &plan, &f, &good);
}

/// A copy of bob's home taken before his first step: running the same plan from it makes
/// bob produce a second, different round-1 message. Returns that message's file.
fn bob_twin_round1(w: &World, twin: &Path, plan: &Path) -> PathBuf {
    let dir = w.path(&format!("twin-dir-{}", rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = step_in(twin, &dir, "keygen", plan);
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    files_matching(&dir, "-keygen-r1-p2-to-all")[0].clone()
}

#[test]
fn conflicting_second_message_aborts_and_names_the_sender() {
    let w = World::new(3);
    let plan = w.keygen_plan("eddsa-ed25519", 2);
    // A copy of bob's home, to make bob produce a second, different round-1 message.
    let bob2 = w.path("home-bob-copy");
    copy_dir(&w.parties[1].home, &bob2);
    for p in 0..3 {
        assert_eq!(code(&w.step(p, "keygen", &plan)), 4);
    }
    w.sync(&[0, 1, 2]);
    assert_eq!(code(&w.step(0, "keygen", &plan)), 4); // alice accepts bob's round 1
    let second = bob_twin_round1(&w, &bob2, &plan);
    let f = bob_r1_in_alice_dir(&w);
    assert_ne!(std::fs::read(&second).unwrap(), std::fs::read(&f).unwrap());
    std::fs::copy(&second, &f).unwrap();

    let out = w.step(0, "keygen", &plan);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("party 2 (bob) sent two different round-1 messages"),
        "{err}"
    );
    assert!(err.contains("culprits: 2 (bob)"), "{err}");
    assert_eq!(json(&out)["error"]["culprits"][0], "2 (bob)");
    // The abort is final for this session...
    let out = w.step(0, "keygen", &plan);
    assert_eq!(code(&out), 3);
    assert!(stderr(&out).contains("was aborted"), "{}", stderr(&out));
    // ...and its secrets are gone, while a new ceremony works.
    assert_eq!(
        std::fs::read_dir(w.parties[0].home.join("sessions"))
            .unwrap()
            .count(),
        0
    );
    w.keygen("eddsa-ed25519", 2);
}

#[test]
fn inconsistent_broadcast_is_caught_by_the_echo() {
    let w = World::new(3);
    let plan = w.keygen_plan("schnorr-secp256k1", 2);
    let bob2 = w.path("home-bob-copy");
    copy_dir(&w.parties[1].home, &bob2);
    for p in 0..3 {
        assert_eq!(code(&w.step(p, "keygen", &plan)), 4);
    }
    // Bob shows carol a different round-1 broadcast than alice.
    let other = bob_twin_round1(&w, &bob2, &plan);
    w.sync(&[0, 1, 2]);
    let carols = files_matching(&w.parties[2].dir, "-keygen-r1-p2-to-all")[0].clone();
    std::fs::copy(&other, &carols).unwrap();
    for p in 0..3 {
        assert_eq!(code(&w.step(p, "keygen", &plan)), 4);
    }
    w.sync(&[0, 1, 2]);
    // Carol's echo differs from alice's: both send their evidence (exit 4 while they
    // wait for each other's), which proves bob signed two different round-1 messages.
    let out = w.step(0, "keygen", &plan);
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("waiting for round 9 from 3 (carol)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(code(&w.step(2, "keygen", &plan)), 4);
    w.sync(&[0, 1, 2]);
    let out = w.step(0, "keygen", &plan);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("party 2 (bob) sent different round-1 broadcasts to different parties"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        json(&out)["error"]["culprits"],
        serde_json::json!(["2 (bob)"])
    );
}

#[test]
fn wrong_passphrase_changes_nothing() {
    let (w, plan) = after_round1("eddsa-ed25519");
    let out = w
        .mpc(0)
        .env("MPC_PASSPHRASE", "not it")
        .args(["keygen", "run"])
        .arg(&plan)
        .arg("--dir")
        .arg(&w.parties[0].dir)
        .args(["--step", "--yes"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("wrong passphrase"),
        "{}",
        stderr(&out)
    );
    let f = bob_r1_in_alice_dir(&w);
    let good = std::fs::read(&f).unwrap();
    restore_and_finish(&w, &plan, &f, &good);
}

#[test]
fn unconfirmed_plan_does_nothing() {
    let w = World::new(3);
    let plan = w.keygen_plan("eddsa-ed25519", 2);
    let out = w
        .mpc(0)
        .args(["keygen", "run"])
        .arg(&plan)
        .arg("--dir")
        .arg(&w.parties[0].dir)
        .arg("--step")
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains("FINGERPRINT:"),
        "the plan is shown before asking: {err}"
    );
    assert!(err.contains("confirmation required"), "{err}");
    assert_eq!(
        std::fs::read_dir(&w.parties[0].dir).unwrap().count(),
        0,
        "a message left before confirmation"
    );
    w.run_all("keygen", &plan, &[0, 1, 2]);
}

#[test]
fn plan_for_someone_else_or_expired_or_edited() {
    let w = World::new(3);
    let outsider = World::new(1);
    let plan = w.keygen_plan("eddsa-ed25519", 2);
    let out = outsider.step(0, "keygen", &plan);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("you (alice) are not a party in this plan"),
        "{}",
        stderr(&out)
    );

    let mut edited: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    edited["threshold"] = serde_json::json!(7);
    let bad = w.path("edited.plan.json");
    std::fs::write(&bad, edited.to_string()).unwrap();
    let out = w.step(0, "keygen", &bad);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("threshold must be between 2 and n=3"),
        "{}",
        stderr(&out)
    );

    let expired = w.path("expired.plan.json");
    let me = std::ffi::OsStr::new("me");
    let out = w
        .keygen_plan_cmd(
            0,
            &[me, w.parties[1].card.as_os_str()],
            &["--expires", "1s", "--out"],
        )
        .arg(&expired)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let out = w.step(0, "keygen", &expired);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("the plan expired at"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn rolled_back_journal_cannot_reuse_a_nonce() {
    let w = World::new(3);
    let (key, _) = w.keygen("eddsa-ed25519", 2);
    let splan = w.sign_plan(0, &key, "alice,bob", b"nonce once");
    assert_eq!(code(&w.step(0, "sign", &splan)), 4);
    // Keep a copy of alice's journal while it holds the nonces.
    let sessions = w.parties[0].home.join("sessions");
    let journal = files_matching(&sessions, ".age")[0].clone();
    let armed = std::fs::read(&journal).unwrap();
    assert_eq!(code(&w.step(1, "sign", &splan)), 4);
    w.sync(&[0, 1]);
    assert_eq!(code(&w.step(0, "sign", &splan)), 4); // share sent, nonce consumed
    std::fs::write(&journal, &armed).unwrap(); // roll back
    let share = files_matching(&w.parties[0].dir, "-sign-r2-p1-")[0].clone();
    std::fs::remove_file(&share).unwrap();
    // A local safety refusal (exit 2), not a peer's fault (exit 3): no culprit.
    let out = w.step(0, "sign", &splan);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("refusing to continue: this home's session state was rolled back"),
        "{}",
        stderr(&out)
    );
    assert_eq!(json(&out)["error"]["culprits"], serde_json::json!([]));
    assert!(
        files_matching(&w.parties[0].dir, "-sign-r2-p1-").is_empty(),
        "no signature share may leave after a rollback"
    );

    // The database rolled back with the journal (both restored from one old copy) but
    // the ledger kept: the nonce is spent for the share already sent, and a different
    // share is refused. Bob's commitments change the package, as a cheating co-signer
    // who got hold of such a copy would make them.
    let db = rusqlite::Connection::open(w.parties[0].home.join("mpc.db")).unwrap();
    db.execute("DELETE FROM outgoing WHERE seq > 1", [])
        .unwrap();
    db.execute(
        "UPDATE ledger SET binding = 'the share sent before' WHERE item = 'nonce'",
        [],
    )
    .unwrap();
    drop(db);
    let out = w.step(0, "sign", &splan);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("refusing to reuse a signing nonce"),
        "{}",
        stderr(&out)
    );
    assert!(files_matching(&w.parties[0].dir, "-sign-r2-p1-").is_empty());
}
