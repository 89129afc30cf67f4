//! Share refresh and share repair of FROST keys, each party a separate `mpc` process
//! with its own home, messages moved as files: signing before and after, the old share
//! no longer combining with refreshed ones, signing refused while a refresh is half
//! done, and a lost share repaired on a new laptop by two helpers.

mod common;
use common::*;
use std::path::Path;

const SCHEMES: [&str; 3] = ["eddsa-ed25519", "schnorr-secp256k1-tr", "schnorr-secp256k1"];

/// `mpc --json ARGS` in `home`: (exit code, stderr, last JSON line if any).
fn run(home: &Path, args: &[&str]) -> (i32, String, Option<serde_json::Value>) {
    let out = mpc(home).arg("--json").args(args).output().unwrap();
    let json = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok());
    (code(&out), stderr(&out), json)
}

fn show(home: &Path, key: &str) -> serde_json::Value {
    let (c, e, j) = run(home, &["keys", "show", key]);
    assert_eq!(c, 0, "{e}");
    j.unwrap()
}

fn verify(scheme: &str, pk: &str, msg: &[u8], sig: &[u8]) {
    assert!(
        verify_independently(scheme, &hex::decode(pk).unwrap(), msg, sig),
        "{scheme}: signature does not verify under the group key"
    );
}

#[test]
fn refresh_keeps_the_key_and_retires_the_old_shares() {
    for scheme in SCHEMES {
        let w = World::new(3);
        let (key, _) = w.keygen(scheme, 2);
        let pk = show(&w.parties[0].home, &key)["public_key"]
            .as_str()
            .unwrap()
            .to_string();
        let (_, _, j) = run(&w.parties[0].home, &["keys", "export", &key]);
        let std_pk = j.unwrap()["public_key"].as_str().unwrap().to_string();
        let before = w.sign(&key, &[0, 1], b"before the refresh");
        verify(scheme, &std_pk, b"before the refresh", &before);

        // Alice's home as it is before the refresh: a copy a thief might have taken.
        let alice_old = w.path("alice-old-home");
        copy_dir(&w.parties[0].home, &alice_old);
        let share = w.parties[0].home.join("shares").join(format!("{key}.age"));
        let old_share = std::fs::read(&share).unwrap();

        let refresh = w.write_plan(0, "refresh", &["--key", &key, "--label", "rotation"]);
        // Round 1 and round 2 for everyone, then alice alone stages her new share.
        for pass in 0..2 {
            for p in 0..3 {
                assert_eq!(code(&w.step(p, "refresh", &refresh)), 4);
            }
            w.sync(&[0, 1, 2]);
            if pass == 0 {
                // A damaged copy of bob's round 1 stops alice's step, naming the file,
                // and costs nothing once the good copy is back.
                let file = files_matching(&w.parties[0].dir, "-refresh-r1-p2-")[0].clone();
                let good = std::fs::read(&file).unwrap();
                let mut bad = good.clone();
                *bad.last_mut().unwrap() ^= 1;
                std::fs::write(&file, &bad).unwrap();
                w.rejects(
                    0,
                    "refresh",
                    &refresh,
                    &file,
                    2,
                    "signature does not verify",
                );
                std::fs::write(&file, &good).unwrap();
            }
        }
        assert_eq!(code(&w.step(0, "refresh", &refresh)), 4);
        assert_eq!(show(&w.parties[0].home, &key)["status"], "rotating");
        let (c, e, _) = run(
            &w.parties[0].home,
            &[
                "sign",
                "plan",
                "--key",
                &key,
                "--signers",
                "alice,bob",
                "--message-hex",
                "00",
            ],
        );
        assert_eq!(c, 2, "{e}");
        assert!(e.contains("rotating"), "{e}");
        let mid = w.path("mid-refresh.backup");
        let (c, e, _) = run(
            &w.parties[0].home,
            &["keys", "backup", &key, "--out", mid.to_str().unwrap()],
        );
        assert_eq!(c, 2, "{e}");
        assert!(e.contains("middle of a refresh"), "{e}");
        assert_eq!(
            old_share,
            std::fs::read(&share).unwrap(),
            "switched too early"
        );

        let results = w.run_all("refresh", &refresh, &[0, 1, 2]);
        for r in &results {
            assert_eq!(r["key_id"], key.as_str());
            assert_eq!(
                r["public_key"],
                std_pk.as_str(),
                "{scheme}: the key changed"
            );
            assert_eq!(r["transcript_words"], results[0]["transcript_words"]);
        }
        assert_ne!(old_share, std::fs::read(&share).unwrap());
        for p in &w.parties {
            let k = show(&p.home, &key);
            assert_eq!(k["status"], "active");
            assert_eq!(k["public_key"], pk.as_str());
        }

        // Every pair of new shares signs under the same public key.
        for pair in [[0, 1], [0, 2], [1, 2]] {
            let msg = format!("after the refresh {pair:?}").into_bytes();
            verify(scheme, &std_pk, &msg, &w.sign(&key, &pair, &msg));
        }

        // Alice's old share with bob's new one: the signature shares do not combine.
        let sign = w.sign_plan(1, &key, "alice,bob", b"old and new");
        let codes = w.sign_with_old_alice(&alice_old, &sign, 3);
        assert!(
            codes.iter().all(|(a, b, _, _)| *a != 0 && *b != 0),
            "{scheme}: an old share combined with a new one: {codes:?}"
        );
        let (_, bob_code, _, bob_err) = codes.last().unwrap();
        assert_eq!(*bob_code, 3, "{bob_err}");
        assert!(bob_err.contains("alice"), "{bob_err}");

        let (c, e, j) = run(&w.parties[2].home, &["audit", "log"]);
        assert_eq!(c, 0, "{e}");
        let log = j.unwrap().to_string();
        assert!(log.contains("refresh.confirm") && log.contains("refresh.complete"));
    }
}

#[test]
fn a_lost_share_is_repaired_by_two_helpers() {
    let scheme = "schnorr-secp256k1-tr";
    let mut w = World::new(3);
    let (key, _) = w.keygen(scheme, 2);
    let carol_key = show(&w.parties[2].home, &key);
    let (_, _, j) = run(&w.parties[0].home, &["keys", "export", &key]);
    let std_pk = j.unwrap()["public_key"].as_str().unwrap().to_string();

    // Plans that cannot work are refused when written.
    for (args, reason) in [
        (
            vec!["--lost", "carol", "--helpers", "alice"],
            "at least t=2 helpers",
        ),
        (
            vec!["--lost", "carol", "--helpers", "alice,carol"],
            "cannot be one of its helpers",
        ),
        (
            vec!["--lost", "dave", "--helpers", "alice,bob"],
            "not a party",
        ),
    ] {
        let (c, e, _) = run(
            &w.parties[0].home,
            &[&["repair", "plan", "--key", &key][..], &args[..]].concat(),
        );
        assert_eq!(c, 2, "{args:?}: {e}");
        assert!(e.contains(reason), "{args:?}: {e}");
    }

    // The helpers finished the keygen at different times, as they do when a stick goes
    // round: their local records differ in that, and the repair must not care.
    let bob_db = rusqlite::Connection::open(w.parties[1].home.join("mpc.db")).unwrap();
    bob_db
        .execute("UPDATE keys SET created_at = created_at - 600", [])
        .unwrap();
    drop(bob_db);
    let repair = w.write_plan(
        0,
        "repair",
        &["--key", &key, "--lost", "carol", "--helpers", "alice,bob"],
    );
    // Carol still has her share: there is nothing to repair.
    let out = w.step(2, "repair", &repair);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("still holds a share"),
        "{}",
        stderr(&out)
    );

    // Carol's laptop is lost; a new one has only her identity, restored from its backup.
    let new_home = w.new_laptop(2, "carol-new-laptop");
    w.parties[2].home = new_home.clone();
    let results = w.run_all("repair", &repair, &[0, 1, 2]);
    for r in &results {
        assert_eq!(r["key_id"], key.as_str());
        assert_eq!(r["repaired"], 3);
        assert_eq!(r["transcript_words"], results[0]["transcript_words"]);
    }
    let repaired = show(&new_home, &key);
    for field in [
        "public_key",
        "threshold",
        "n",
        "label",
        "transcript",
        "status",
    ] {
        assert_eq!(repaired[field], carol_key[field], "{field}");
    }

    // The repaired share signs with each helper's unchanged share.
    for pair in [[2, 0], [1, 2]] {
        let msg = format!("repaired {pair:?}").into_bytes();
        verify(scheme, &std_pk, &msg, &w.sign(&key, &pair, &msg));
    }
    // Running the finished repair again changes nothing and says the same.
    let again = w.step(2, "repair", &repair);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    assert_eq!(
        json(&again)["transcript_words"],
        results[2]["transcript_words"]
    );
}

#[test]
fn a_suspended_key_is_refreshed_and_stays_suspended_a_deleted_one_is_not() {
    let w = World::new(3);
    let (key, _) = w.keygen("eddsa-ed25519", 2);
    // A suspended key (a laptop may have been stolen) can be refreshed: that is the point.
    let (c, e, _) = run(
        &w.parties[0].home,
        &["suspend", &key, "--reason", "laptop stolen"],
    );
    assert_eq!(c, 0, "{e}");
    let refresh = w.write_plan(1, "refresh", &["--key", &key]);
    w.run_all("refresh", &refresh, &[0, 1, 2]);
    assert_eq!(show(&w.parties[0].home, &key)["status"], "suspended");
    assert_eq!(show(&w.parties[1].home, &key)["status"], "active");
    let (c, e, _) = run(&w.parties[0].home, &["resume", &key]);
    assert_eq!(c, 0, "{e}");
    w.sign(&key, &[0, 2], b"after resuming");

    // A deleted key is not refreshed.
    let (c, e, _) = run(
        &w.parties[2].home,
        &["delete", &key, "--after", "0s", "--yes"],
    );
    assert_eq!(c, 0, "{e}");
    let (c, e, _) = run(&w.parties[2].home, &["delete", "--purge", "--yes"]);
    assert_eq!(c, 0, "{e}");
    let refresh = w.write_plan(1, "refresh", &["--key", &key]);
    let out = w.step(2, "refresh", &refresh);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("is deleted"), "{}", stderr(&out));
}
