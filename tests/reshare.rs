//! Resharing FROST keys, each party a separate `mpc` process with its own home, messages
//! moved as files: a key grows from 2-of-3 to 3-of-5 and shrinks back with parties
//! leaving, or has one party replaced; the public key never changes; signatures by
//! several subsets of the new holders verify with independent verifiers; leaving
//! holders end with no share and the key marked `reshared`; plans that cannot work are
//! refused before anything is done.

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

fn show(w: &World, p: usize, key: &str) -> serde_json::Value {
    let (c, e, j) = run(&w.parties[p].home, &["keys", "show", key]);
    assert_eq!(c, 0, "{e}");
    j.unwrap()
}

/// A `t`-of-n key among the parties `among` (0-based); returns (key id, the public key
/// in the scheme's standard form).
fn keygen_among(w: &World, scheme: &str, t: u16, among: &[usize]) -> (String, String) {
    let plan = w.keygen_plan_among(scheme, t, among);
    let results = w.run_all("keygen", &plan, among);
    let key = results[0]["key_id"].as_str().unwrap().to_string();
    let (_, _, j) = run(&w.parties[among[0]].home, &["keys", "export", &key]);
    (key, j.unwrap()["public_key"].as_str().unwrap().to_string())
}

fn signs(w: &World, scheme: &str, key: &str, pk: &str, signers: &[usize], msg: &[u8]) {
    let sig = w.sign(key, signers, msg);
    assert!(
        verify_independently(scheme, &hex::decode(pk).unwrap(), msg, &sig),
        "{scheme}: a signature by {signers:?} does not verify under the unchanged key"
    );
}

/// Runs a reshare plan written by party `by` with `args` among `who`; checks that every
/// party read the same transcript and that the public key did not change; returns the
/// results.
fn reshare(
    w: &World,
    by: usize,
    args: &[&str],
    who: &[usize],
    key: &str,
    pk: &str,
) -> Vec<serde_json::Value> {
    let plan = w.write_plan(by, "reshare", args);
    let results = w.run_all("reshare", &plan, who);
    for r in &results {
        assert_eq!(r["key_id"], key);
        assert_eq!(r["public_key"], pk, "the public key changed");
        assert_eq!(r["transcript_words"], results[0]["transcript_words"]);
    }
    results
}

/// `mpc inspect PLAN` as party `p` shows each of `wants`.
fn shows(w: &World, p: usize, plan: &Path, wants: &[&str]) {
    let shown = w.mpc(p).args(["inspect"]).arg(plan).output().unwrap();
    let text = String::from_utf8_lossy(&shown.stdout).to_string() + &stderr(&shown);
    for want in wants {
        assert!(text.contains(want), "`{want}` not shown: {text}");
    }
}

fn card(w: &World, p: usize) -> String {
    w.parties[p].card.to_str().unwrap().to_string()
}

/// The holder's home has no share of the key and shows it `reshared`; it cannot plan a
/// signature with it.
fn left(w: &World, p: usize, key: &str) {
    let share = w.parties[p].home.join("shares").join(format!("{key}.age"));
    assert!(!share.exists(), "{} still holds a share", w.parties[p].name);
    assert_eq!(show(w, p, key)["status"], "reshared");
    let (c, e, _) = run(
        &w.parties[p].home,
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
    assert_ne!(c, 0);
    assert!(e.contains("reshared"), "{e}");
}

#[test]
fn a_key_grows_from_two_of_three_to_three_of_five_and_keeps_its_public_key() {
    for scheme in SCHEMES {
        let w = World::new(5);
        let (key, pk) = keygen_among(&w, scheme, 2, &[0, 1, 2]);
        signs(&w, scheme, &key, &pk, &[0, 1], b"before");
        // Alice and carol deal; bob stays without dealing; dave and erin join.
        let args = w.reshare_args(&key, "alice,carol", Some(3), &[0, 1, 2, 3, 4], &[0, 1, 2]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let results = reshare(&w, 0, &args, &[0, 1, 2, 3, 4], &key, &pk);
        for (p, r) in results.iter().enumerate() {
            assert_eq!(r["threshold"], 3);
            assert_eq!(r["new_index"], p as u64 + 1, "{r}");
            let k = show(&w, p, &key);
            assert_eq!(
                (k["threshold"].as_u64(), k["n"].as_u64()),
                (Some(3), Some(5))
            );
            assert_eq!(k["status"], "active");
        }
        // Several subsets of the new holders sign under the same key.
        signs(&w, scheme, &key, &pk, &[1, 3, 4], b"bob, dave and erin");
        signs(&w, scheme, &key, &pk, &[0, 2, 3], b"alice, carol and dave");
        signs(&w, scheme, &key, &pk, &[0, 1, 2, 3, 4], b"everyone");
        // Two are no longer enough.
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
    }
}

#[test]
fn a_key_shrinks_with_parties_leaving_and_one_party_is_replaced() {
    for scheme in SCHEMES {
        shrink_replace_and_reshare_to_the_same_set(scheme);
    }
}

/// 3-of-5 → 2-of-3 with parties leaving, then one party replaced, then a reshare to the
/// same three (new shares, as a refresh that could have changed members too).
fn shrink_replace_and_reshare_to_the_same_set(scheme: &str) {
    let w = World::new(5);
    let (key, pk) = keygen_among(&w, scheme, 3, &[0, 1, 2, 3, 4]);
    // 3-of-5 → 2-of-3: alice, bob and erin deal; bob and erin leave; carol stays
    // without dealing (dave is not needed at all).
    let args = [
        "--key",
        &key,
        "--from",
        "alice,bob,erin",
        "-t",
        "2",
        "--party",
        "alice",
        "--party",
        "carol",
        "--party",
        "erin",
    ];
    let plan = w.write_plan(0, "reshare", &args);
    shows(
        &w,
        1,
        &plan,
        &["3-of-5 -> 2-of-3", "leave:       bob", "not needed:  dave"],
    );
    let results = w.run_all("reshare", &plan, &[0, 1, 2, 4]);
    assert!(results.iter().all(|r| r["public_key"] == pk.as_str()));
    assert_eq!(results[1]["new_index"], serde_json::Value::Null, "bob left");
    left(&w, 1, &key);
    // Erin deals and stays: she holds share 3 of the new key.
    assert_eq!(show(&w, 4, &key)["my_index"], 3);
    signs(&w, scheme, &key, &pk, &[0, 2], b"alice and carol");
    signs(&w, scheme, &key, &pk, &[2, 4], b"carol and erin");

    // Carol's laptop is lost: alice and erin replace her with dave (2-of-3 still).
    let dave = card(&w, 3);
    let args = [
        "--key",
        &key,
        "--from",
        "alice,erin",
        "--party",
        "alice",
        "--party",
        &dave,
        "--party",
        "erin",
    ];
    reshare(&w, 0, &args, &[0, 3, 4], &key, &pk);
    signs(&w, scheme, &key, &pk, &[0, 3], b"alice and dave");
    signs(&w, scheme, &key, &pk, &[3, 4], b"dave and erin");
    // Carol's home still has her old share (she took no part): it no longer combines
    // with the new holders', and her record still says 2-of-3 with the old parties, so
    // a plan from her names parties the others no longer hold the key with.
    assert_eq!(show(&w, 2, &key)["status"], "active");

    // The same three, new shares: dave and erin deal to alice, dave and erin.
    let args = w.reshare_args(&key, "dave,erin", None, &[0, 3, 4], &[0, 3, 4]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    reshare(&w, 3, &args, &[0, 3, 4], &key, &pk);
    signs(
        &w,
        scheme,
        &key,
        &pk,
        &[0, 4],
        b"alice and erin, after a same-set reshare",
    );
}

#[test]
fn reshare_plans_that_cannot_work_are_refused_before_anything_is_done() {
    let w = World::new(4);
    let (key, _) = keygen_among(&w, "eddsa-ed25519", 2, &[0, 1, 2]);
    let dave = card(&w, 3);
    let refused = |p: usize, args: &[&str], why: &str| {
        let mut all = vec!["reshare", "plan"];
        all.extend_from_slice(args);
        let (c, e, _) = run(&w.parties[p].home, &all);
        assert_eq!(c, 2, "{args:?}: {e}");
        assert!(e.contains(why), "`{why}` not in: {e}");
    };
    refused(
        0,
        &[
            "--key", &key, "--from", "alice", "--party", "alice", "--party", &dave,
        ],
        "at least the key's threshold (2)",
    );
    refused(
        0,
        &[
            "--key",
            &key,
            "--from",
            "alice,zoe",
            "--party",
            "alice",
            "--party",
            &dave,
        ],
        "`zoe` is not a party",
    );
    refused(
        0,
        &[
            "--key",
            &key,
            "--from",
            "alice,bob",
            "-t",
            "3",
            "--party",
            "alice",
            "--party",
            &dave,
        ],
        "new threshold must be between 2 and the number of new holders (2)",
    );
    // Dave holds no share of the key: he cannot even write the plan.
    let (c, e, _) = run(
        &w.parties[3].home,
        &[
            "reshare",
            "plan",
            "--key",
            &key,
            "--from",
            "alice,bob",
            "--party",
            "me",
        ],
    );
    assert_ne!(c, 0);
    assert!(e.contains(&key[..8]) || e.contains("no key"), "{e}");
    // A plan for a key suspended in a dealer's home is refused there, naming the state.
    let args = w.reshare_args(&key, "alice,bob", None, &[0, 1, 3], &[0, 1, 2]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let plan = w.write_plan(0, "reshare", &args);
    let (c, e, _) = run(&w.parties[1].home, &["suspend", &key, "--reason", "audit"]);
    assert_eq!(c, 0, "{e}");
    let out = w.step(1, "reshare", &plan);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("suspended"), "{}", stderr(&out));
}

/// The same ceremony over the relay (nothing copied) and as QR `ur:` parts only: a
/// 2-of-3 key gets a fourth holder, then loses one.
#[test]
fn a_reshare_runs_over_the_relay_and_over_qr_codes() {
    let scheme = "schnorr-secp256k1-tr";
    let w = World::new(4);
    let (key, pk) = keygen_among(&w, scheme, 2, &[0, 1, 2]);
    let relay = RelayProc::start("127.0.0.1:0", &[]);
    let dave = card(&w, 3);
    let plan = w.write_plan(
        1,
        "reshare",
        &[
            "--key",
            &key,
            "--from",
            "bob,carol",
            "--party",
            "alice",
            "--party",
            "bob",
            "--party",
            "carol",
            "--party",
            &dave,
        ],
    );
    let results = w.run_all_via("reshare", &plan, &[0, 1, 2, 3], Via::Relay(&relay.addr));
    assert!(results.iter().all(|r| r["public_key"] == pk.as_str()));
    signs(
        &w,
        scheme,
        &key,
        &pk,
        &[0, 3],
        b"alice and dave, over the relay",
    );
    let plan = w.write_plan(
        3,
        "reshare",
        &[
            "--key",
            &key,
            "--from",
            "alice,dave",
            "--party",
            "alice",
            "--party",
            "dave",
        ],
    );
    let results = w.run_all_via("reshare", &plan, &[0, 3], Via::QrText);
    assert!(results.iter().all(|r| r["public_key"] == pk.as_str()));
    signs(
        &w,
        scheme,
        &key,
        &pk,
        &[0, 3],
        b"alice and dave, after the QR reshare",
    );
}

/// A reshare message damaged on the stick stops the step that reads it, naming the file
/// and storing nothing; once the good copy is back the reshare finishes. A message of
/// another session in the folder is not taken for this one.
#[test]
fn a_damaged_reshare_message_is_rejected_by_name_and_costs_nothing() {
    let w = World::new(4);
    let (key, pk) = keygen_among(&w, "eddsa-ed25519", 2, &[0, 1, 2]);
    let args = w.reshare_args(&key, "alice,bob", None, &[0, 2, 3], &[0, 1, 2]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let plan = w.write_plan(0, "reshare", &args);
    let other = w.write_plan(1, "reshare", &args);
    for p in [0, 1, 2, 3] {
        assert_eq!(code(&w.step(p, "reshare", &plan)), 4);
    }
    // Another session's round 1 from bob, in everyone's folder.
    assert_eq!(code(&w.step(1, "reshare", &other)), 4);
    w.sync(&[0, 1, 2, 3]);
    // Alice's round-1 commitments of this session, damaged in dave's folder.
    let session = mpc::plan::Plan::from_json(&std::fs::read(&plan).unwrap())
        .unwrap()
        .session_id();
    let name = mpc::envelope::file_name(&session, mpc::envelope::Protocol::Reshare, 1, 1, None);
    let file = w.parties[3].dir.join(name);
    let good = std::fs::read(&file).unwrap();
    let mut bad = good.clone();
    *bad.last_mut().unwrap() ^= 1;
    std::fs::write(&file, &bad).unwrap();
    w.rejects(3, "reshare", &plan, &file, 2, "signature does not verify");
    std::fs::write(&file, &good).unwrap();
    let results = w.run_all("reshare", &plan, &[0, 1, 2, 3]);
    assert!(results.iter().all(|r| r["public_key"] == pk.as_str()));
}

/// The key's public key at HD path m/0/1 (non-hardened, from the xpub): it depends on
/// the public key and the chain code only.
fn child_key(w: &World, p: usize, key: &str) -> serde_json::Value {
    let (c, e, j) = run(
        &w.parties[p].home,
        &["keys", "export", key, "--path", "m/0/1"],
    );
    assert_eq!(c, 0, "{e}");
    j.unwrap()["public_key"].clone()
}

fn presignatures(w: &World, p: usize) -> usize {
    let (c, e, j) = run(&w.parties[p].home, &["presign", "list"]);
    assert_eq!(c, 0, "{e}");
    j.unwrap()["presignatures"].as_array().unwrap().len()
}

/// A 2-of-3 ECDSA key grows to 3-of-5 (new aux info generated among the five), shrinks
/// back to 2-of-3 with a party replaced, is reshared among the same three reusing
/// their aux info, and is refreshed with `mpc refresh` (a reshare to the same parties, new Paillier keys):
/// the public key and its HD children never change, signatures by several subsets
/// verify with k256, leaving holders keep no share, presignatures of old shares are
/// destroyed, and an old share never signs with new ones.
#[test]
fn an_ecdsa_key_is_reshared_refreshed_and_keeps_its_addresses() {
    let scheme = "ecdsa-secp256k1";
    let w = World::new(5);
    for p in 0..3 {
        w.import_primes(p, p);
    }
    let relay = RelayProc::start("127.0.0.1:0", &[]);
    let live = |kind: &str, plan: &Path, who: &[usize]| {
        finish_all(w.spawn_relay_run(who, kind, plan, &relay.addr))
    };
    let keygen = w.keygen_plan_among(scheme, 2, &[0, 1, 2]);
    let key = live("keygen", &keygen, &[0, 1, 2])[0]["key_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, _, j) = run(&w.parties[0].home, &["keys", "export", &key]);
    let pk = j.unwrap()["public_key"].as_str().unwrap().to_string();
    let child = child_key(&w, 0, &key);
    let live_signs = |signers: &[usize], msg: &[u8]| {
        let names: Vec<&str> = signers
            .iter()
            .map(|&p| w.parties[p].name.as_str())
            .collect();
        let plan = w.sign_plan(signers[0], &key, &names.join(","), msg);
        let sig = live("sign", &plan, signers)[0]["signature"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            verify_independently(
                scheme,
                &hex::decode(&pk).unwrap(),
                msg,
                &hex::decode(sig).unwrap()
            ),
            "a signature by {signers:?} does not verify under the unchanged key"
        );
    };
    let presign = w.write_plan(0, "presign", &["--key", &key, "--signers", "alice,bob"]);
    live("presign", &presign, &[0, 1]);
    assert_eq!(presignatures(&w, 0), 1);

    // 2-of-3 → 3-of-5: alice and bob deal; carol stays without dealing; dave and erin
    // join. Aux info for the five is generated in the session (a prime set each).
    for (p, k) in [(0, 3), (1, 4), (2, 5), (3, 0), (4, 1)] {
        w.import_primes(p, k);
    }
    let args = w.reshare_args(&key, "alice,bob", Some(3), &[0, 1, 2, 3, 4], &[0, 1, 2]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let plan = w.write_plan(0, "reshare", &args);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    assert_eq!(v["aux"], "generate");
    shows(
        &w,
        3,
        &plan,
        &[
            "2-of-3 -> 3-of-5",
            "join:        dave, erin",
            "(kept: the same xpub and HD children)",
            "aux info:    generated in this session by the new holders",
        ],
    );
    let results = live("reshare", &plan, &[0, 1, 2, 3, 4]);
    for (p, r) in results.iter().enumerate() {
        assert_eq!(r["public_key"], pk.as_str(), "the public key changed");
        assert_eq!(r["transcript_words"], results[0]["transcript_words"]);
        assert_eq!(r["new_index"], p as u64 + 1);
        assert_eq!(child_key(&w, p, &key), child, "the HD child key changed");
    }
    assert_eq!(presignatures(&w, 0), 0, "an old presignature survived");
    let alice_old = w.path("alice-3of5-home");
    copy_dir(&w.parties[0].home, &alice_old);
    live_signs(&[1, 3, 4], b"bob, dave and erin");
    live_signs(&[0, 2, 4], b"alice, carol and erin");

    // 3-of-5 → 2-of-3 among alice, bob and dave (carol's laptop is lost: dave takes
    // her place); alice, dave and erin deal; carol and erin leave.
    for (p, k) in [(0, 5), (1, 0), (3, 2)] {
        w.import_primes(p, k);
    }
    let args = w.reshare_args(
        &key,
        "alice,dave,erin",
        Some(2),
        &[0, 1, 3],
        &[0, 1, 2, 3, 4],
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let plan = w.write_plan(0, "reshare", &args);
    let results = live("reshare", &plan, &[0, 1, 3, 4]);
    assert!(results.iter().all(|r| r["public_key"] == pk.as_str()));
    assert_eq!(
        results[3]["new_index"],
        serde_json::Value::Null,
        "erin left"
    );
    left(&w, 4, &key);
    live_signs(&[0, 3], b"alice and dave");
    live_signs(&[1, 3], b"bob and dave");
    assert_eq!(child_key(&w, 3, &key), child);

    // The same three again, reusing the aux info they just generated.
    let mut args = w.reshare_args(&key, "bob,dave", None, &[0, 1, 3], &[0, 1, 3]);
    args.extend(["--aux".into(), "reuse".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    reshare(&w, 1, &args, &[0, 1, 3], &key, &pk);
    live_signs(&[0, 1], b"alice and bob");

    // A refresh of the 2-of-3 key is a reshare to the same parties with new aux info.
    for (p, k) in [(0, 1), (1, 2), (3, 3)] {
        w.import_primes(p, k);
    }
    let plan = w.write_plan(0, "refresh", &["--key", &key]);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    assert_eq!(
        (v["kind"].as_str(), v["aux"].as_str()),
        (Some("reshare"), Some("generate")),
        "{v}"
    );
    let results = w.run_all("refresh", &plan, &[0, 1, 3]);
    assert!(results.iter().all(|r| r["public_key"] == pk.as_str()));
    signs(&w, scheme, &key, &pk, &[1, 3], b"after the refresh");

    // Alice's 3-of-5 share with bob's new one never gives a signature.
    let sign_plan = w.sign_plan(1, &key, "alice,bob", b"old and new");
    let codes = w.sign_with_old_alice(&alice_old, &sign_plan, 6);
    assert!(
        codes.iter().all(|(a, b, _, _)| *a != 0 && *b != 0),
        "an old ECDSA share signed with a new one: {codes:?}"
    );
}
