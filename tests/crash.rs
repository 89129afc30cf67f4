//! Crash liveness: a party killed with SIGKILL at any crash point of a step (between any
//! two durable writes), then simply run again, finishes the ceremony with everyone else;
//! all parties agree on the key or signature, and no party ever emits two different
//! messages for one slot.
//!
//! The crash points are `mpc::fault::point` calls, armed by `MPC_FAULT_AT=NAME` in debug
//! builds only. Each party is a separate `mpc` process with its own home, as users run it.

mod common;

use common::*;
use serde_json::Value;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Output;

/// Every crash point a FROST step passes, in the order a step passes them.
const FROST_POINTS: &[&str] = &[
    "nonce-claimed",
    "journal-saved",
    "sent-recorded",
    "state-recorded",
    "share-written",
    "completed",
];

/// SIGKILL.
const KILL: i32 = 9;

fn killed(out: &Output) -> bool {
    out.status.signal() == Some(KILL)
}

/// How a crashing party's messages travel.
#[derive(Clone, Copy)]
enum Link<'a> {
    Files,
    Relay(&'a str),
}

/// One `--step` run of party `p`, killed at crash point `fault` if it passes it.
fn step(w: &World, p: usize, kind: &str, plan: &Path, link: Link, fault: Option<&str>) -> Output {
    let mut cmd = w.mpc(p);
    if let Some(f) = fault {
        cmd.env("MPC_FAULT_AT", f);
    }
    cmd.args([kind, "run"]).arg(plan);
    match link {
        Link::Files => cmd.arg("--dir").arg(&w.parties[p].dir),
        Link::Relay(addr) => cmd.args(["--relay", addr]),
    };
    cmd.args(["--step", "--yes", "--json"]).output().unwrap()
}

/// Runs a ceremony among `who`; each step of `victim` is first run with a crash at
/// `point` and, if that killed it, run again. Returns every party's result and how many
/// times the victim was killed.
fn run_with_crashes(
    w: &World,
    kind: &str,
    plan: &Path,
    who: &[usize],
    victim: usize,
    point: &str,
    link: Link,
) -> (Vec<Value>, usize) {
    let mut done: Vec<Option<Value>> = vec![None; who.len()];
    let mut crashes = 0;
    for _ in 0..16 {
        for (i, &p) in who.iter().enumerate() {
            if done[i].is_some() {
                continue;
            }
            let fault = (p == victim).then_some(point);
            let mut out = step(w, p, kind, plan, link, fault);
            if killed(&out) {
                crashes += 1;
                out = step(w, p, kind, plan, link, None);
            }
            match code(&out) {
                0 => done[i] = Some(json(&out)),
                4 => {}
                c => panic!(
                    "{} {kind} step (crash point {point}) exited {c}: {}",
                    w.parties[p].name,
                    stderr(&out)
                ),
            }
        }
        if let Link::Files = link {
            w.sync(who);
            assert_one_message_per_slot(w, who);
        }
        if done.iter().all(Option::is_some) {
            return (done.into_iter().flatten().collect(), crashes);
        }
    }
    panic!("{kind} with crash point {point} did not finish");
}

/// No party's directory holds two different messages under one slot name: every copy of
/// a message file is the same bytes, and no file was placed beside a different one.
fn assert_one_message_per_slot(w: &World, who: &[usize]) {
    let mut seen: std::collections::HashMap<String, Vec<u8>> = Default::default();
    for &p in who {
        for entry in std::fs::read_dir(&w.parties[p].dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.ends_with(".mpcmsg") {
                continue;
            }
            assert_eq!(
                name.matches('.').count(),
                1,
                "a second, different message for one slot: {name}"
            );
            let bytes = std::fs::read(&path).unwrap();
            let first = seen.entry(name.clone()).or_insert_with(|| bytes.clone());
            assert_eq!(*first, bytes, "two different messages named {name}");
        }
    }
}

/// What a killed process can leave behind is gone once the session is over: no session
/// journal (its secrets), no lock and no temporary file in the party's home.
fn assert_no_leftovers(w: &World, p: usize) {
    let sessions = w.parties[p].home.join("sessions");
    let left: Vec<String> = std::fs::read_dir(&sessions)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        left.is_empty(),
        "{} left in {}: {left:?}",
        w.parties[p].name,
        sessions.display()
    );
}

fn assert_agree(results: &[Value], fields: &[&str]) {
    for r in results {
        for f in fields {
            assert_eq!(r[f], results[0][f], "{f}");
        }
    }
}

/// Keygen, signing and refresh of a 2-of-3 FROST key with alice (and, in signing, carol)
/// killed at `point` in every step that passes it.
fn frost_ceremonies_survive(w: &World, scheme: &str, point: &str, link: Link) -> usize {
    let mut crashes = 0;
    let plan = w.keygen_plan(scheme, 2);
    let (keys, c) = run_with_crashes(w, "keygen", &plan, &[0, 1, 2], 0, point, link);
    crashes += c;
    assert_agree(&keys, &["key_id", "public_key", "transcript"]);
    let key = keys[0]["key_id"].as_str().unwrap();
    let pk = hex::decode(keys[0]["public_key"].as_str().unwrap()).unwrap();

    for (victim, signers) in [(0, "alice,carol"), (2, "alice,carol")] {
        let msg = format!("crash at {point}, victim {victim}").into_bytes();
        let plan = w.sign_plan(0, key, signers, &msg);
        let (sigs, c) = run_with_crashes(w, "sign", &plan, &[0, 2], victim, point, link);
        crashes += c;
        assert_agree(&sigs, &["signature", "transcript"]);
        let sig = hex::decode(sigs[0]["signature"].as_str().unwrap()).unwrap();
        assert!(
            verify_independently(scheme, &pk, &msg, &sig),
            "{scheme} at {point}"
        );
    }

    let refresh = w.write_plan(0, "refresh", &["--key", key]);
    let (refreshed, c) = run_with_crashes(w, "refresh", &refresh, &[0, 1, 2], 1, point, link);
    crashes += c;
    assert_agree(&refreshed, &["public_key", "transcript"]);
    // The refreshed shares sign.
    let msg = format!("after a refresh crashed at {point}").into_bytes();
    let plan = w.sign_plan(0, key, "alice,bob", &msg);
    let (sigs, c) = run_with_crashes(w, "sign", &plan, &[0, 1], 1, point, link);
    crashes += c;
    let sig = hex::decode(sigs[0]["signature"].as_str().unwrap()).unwrap();
    assert!(verify_independently(scheme, &pk, &msg, &sig));
    for p in 0..3 {
        assert_no_leftovers(w, p);
    }
    crashes
}

#[test]
fn frost_ceremonies_finish_after_a_crash_at_every_point_over_files() {
    let w = World::new(3);
    for point in FROST_POINTS {
        let crashes = frost_ceremonies_survive(&w, "eddsa-ed25519", point, Link::Files);
        assert!(crashes > 0, "crash point {point} was never reached");
    }
}

#[test]
fn frost_ceremonies_finish_after_a_crash_at_every_point_through_a_relay() {
    let relay = RelayProc::start("127.0.0.1:0", &[]);
    let w = World::new(3);
    for point in FROST_POINTS {
        let crashes =
            frost_ceremonies_survive(&w, "schnorr-secp256k1-tr", point, Link::Relay(&relay.addr));
        assert!(crashes > 0, "crash point {point} was never reached");
    }
}

/// A repair with a helper killed at every crash point: the lost share comes back.
#[test]
fn frost_repair_finishes_after_a_crash_at_every_point() {
    let mut w = World::new(3);
    let (key, _) = w.keygen("schnorr-secp256k1", 2);
    for (n, point) in FROST_POINTS.iter().enumerate() {
        // Each repair starts from a new laptop holding only carol's identity.
        let fresh = w.new_laptop(2, &format!("carol-laptop-{n}"));
        w.parties[2].home = fresh;
        let repair = w.write_plan(
            0,
            "repair",
            &["--key", &key, "--lost", "carol", "--helpers", "alice,bob"],
        );
        // The repaired party and a helper, in turn, are the ones killed.
        let victim = [2, 0][n % 2];
        let (results, _) = run_with_crashes(
            &w,
            "repair",
            &repair,
            &[0, 1, 2],
            victim,
            point,
            Link::Files,
        );
        assert_agree(&results, &["key_id", "transcript_words"]);
        let msg = format!("repaired after a crash at {point}").into_bytes();
        w.sign(&key, &[0, 2], &msg);
    }
}

/// A reshare (2-of-3 → 2-of-3 with bob leaving and dave joining; alice deals and stays,
/// carol stays without dealing) with each kind of party killed at every crash point it
/// passes, over files: it finishes, everyone reads the same transcript, bob's share is
/// gone only at the end, and the new holders sign under the same key.
#[test]
fn a_reshare_finishes_after_a_crash_at_every_point() {
    // Every point but the signing nonce's, and the leaving dealer's share removal.
    let points: Vec<&str> = FROST_POINTS
        .iter()
        .copied()
        .filter(|&p| p != "nonce-claimed")
        .chain(["share-removed"])
        .collect();
    for point in points {
        // The leaving dealer is the only one that passes `share-removed`.
        let victims: &[usize] = if point == "share-removed" {
            &[1]
        } else {
            &[1, 0, 3, 2]
        };
        let mut reached = 0;
        for &victim in victims {
            let w = World::new(4);
            let plan = w.keygen_plan_among("eddsa-ed25519", 2, &[0, 1, 2]);
            let keys = w.run_all("keygen", &plan, &[0, 1, 2]);
            let key = keys[0]["key_id"].as_str().unwrap();
            let pk = hex::decode(keys[0]["public_key"].as_str().unwrap()).unwrap();
            let dave = w.parties[3].card.to_str().unwrap().to_string();
            let reshare = w.write_plan(
                0,
                "reshare",
                &[
                    "--key",
                    key,
                    "--from",
                    "alice,bob",
                    "--party",
                    "alice",
                    "--party",
                    "carol",
                    "--party",
                    &dave,
                ],
            );
            let (results, c) = run_with_crashes(
                &w,
                "reshare",
                &reshare,
                &[0, 1, 2, 3],
                victim,
                point,
                Link::Files,
            );
            reached += c;
            assert_agree(&results, &["key_id", "public_key", "transcript_words"]);
            assert!(
                !w.parties[1]
                    .home
                    .join("shares")
                    .join(format!("{key}.age"))
                    .exists()
            );
            let msg = format!("after a reshare crashed at {point}, victim {victim}").into_bytes();
            let sig = w.sign(key, &[2, 3], &msg);
            assert!(verify_independently("eddsa-ed25519", &pk, &msg, &sig));
            for p in 0..4 {
                assert_no_leftovers(&w, p);
            }
        }
        assert!(
            reached > 0,
            "crash point {point} was never reached in a reshare"
        );
    }
}

/// Waiting processes killed at random moments and started again, through a relay:
/// the ceremony finishes and the signatures agree.
#[test]
fn waiting_processes_killed_at_random_times_finish() {
    let relay = RelayProc::start("127.0.0.1:0", &[]);
    let w = World::new(3);
    let mut rng = rand::thread_rng();
    let plan = w.keygen_plan("eddsa-ed25519", 2);
    let results = run_killing_at_random(&w, "keygen", &plan, &[0, 1, 2], &relay.addr, &mut rng);
    assert_agree(&results, &["key_id", "public_key", "transcript"]);
    let key = results[0]["key_id"].as_str().unwrap();
    let pk = hex::decode(results[0]["public_key"].as_str().unwrap()).unwrap();
    for round in 0..4 {
        let msg = format!("random kills, round {round}").into_bytes();
        let plan = w.sign_plan(0, key, "alice,bob", &msg);
        let sigs = run_killing_at_random(&w, "sign", &plan, &[0, 1], &relay.addr, &mut rng);
        assert_agree(&sigs, &["signature"]);
        let sig = hex::decode(sigs[0]["signature"].as_str().unwrap()).unwrap();
        assert!(verify_independently("eddsa-ed25519", &pk, &msg, &sig));
    }
}

/// Starts every party of `who` as a waiting process through the relay; kills the first
/// one three times after a random delay (0 to 120 ms) and starts it again; then waits.
fn run_killing_at_random(
    w: &World,
    kind: &str,
    plan: &Path,
    who: &[usize],
    relay: &str,
    rng: &mut impl rand::Rng,
) -> Vec<Value> {
    let mut children = w.spawn_relay_run(who, kind, plan, relay);
    for _ in 0..3 {
        std::thread::sleep(std::time::Duration::from_millis(rng.gen_range(0..120)));
        let victim = &mut children[0];
        let _ = victim.kill(); // SIGKILL; it may have finished already
        let _ = victim.wait();
        children[0] = w.spawn_relay_run(&who[..1], kind, plan, relay).remove(0);
    }
    finish_all(children)
}

/// Every crash point a CGGMP21 step passes, with the ceremonies that pass it (keygen,
/// full signing, presigning, signing from a presignature); the first keygen generates
/// aux info, the later ones reuse it.
const ECDSA_POINTS: &[(&str, [bool; 4])] = &[
    ("aux-written", [true, false, false, false]),
    ("journal-saved", [true, true, true, true]),
    ("sent-recorded", [true, true, true, true]),
    ("share-written", [true, false, false, false]),
    ("presignature-written", [false, false, true, false]),
    ("presignature-claimed", [false, false, false, true]),
    ("completed", [true, true, true, true]),
];

/// CGGMP21 with a party killed at every crash point: aux info and keygen, full
/// signing, presigning, and signing from a presignature. Slow (each step replays its
/// proofs), so it is left out of a plain `cargo test`; the README's test command (and
/// so CI) runs it with `--ignored`.
#[test]
#[ignore]
fn ecdsa_ceremonies_finish_after_a_crash_at_every_point() {
    let w = World::new(3);
    for p in 0..3 {
        w.import_primes(p, p);
    }
    let plan = w.keygen_plan("ecdsa-secp256k1", 2);
    let mut key = String::new();
    let mut pk = Vec::new();
    for (n, (point, [keygen, sign, presign, presigned])) in ECDSA_POINTS.iter().enumerate() {
        let mut crashes = 0;
        if *keygen {
            // The first keygen (aux-written) is the one that generates aux info.
            let plan = if n == 0 {
                plan.clone()
            } else {
                w.keygen_plan("ecdsa-secp256k1", 2)
            };
            let (keys, c) =
                run_with_crashes(&w, "keygen", &plan, &[0, 1, 2], n % 3, point, Link::Files);
            crashes += c;
            assert_agree(&keys, &["key_id", "public_key", "transcript"]);
            key = keys[0]["key_id"].as_str().unwrap().to_string();
            pk = hex::decode(keys[0]["public_key"].as_str().unwrap()).unwrap();
        }
        let check = |sig: &Value, msg: &[u8]| {
            use k256::ecdsa::signature::Verifier;
            let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(&pk).unwrap();
            let s = hex::decode(sig["signature"].as_str().unwrap()).unwrap();
            let s = k256::ecdsa::Signature::from_slice(&s).unwrap();
            assert!(vk.verify(msg, &s).is_ok(), "ECDSA at {point}");
        };
        if *sign {
            let msg = format!("ecdsa, crash at {point}").into_bytes();
            let plan = w.sign_plan(0, &key, "alice,carol", &msg);
            let (sigs, c) = run_with_crashes(&w, "sign", &plan, &[0, 2], 2, point, Link::Files);
            crashes += c;
            assert_agree(&sigs, &["signature"]);
            check(&sigs[0], &msg);
        }
        if *presign || *presigned {
            let plan = w.write_plan(0, "presign", &["--key", &key, "--signers", "alice,carol"]);
            let fault = if *presign { point } else { "none" };
            let (_, c) = run_with_crashes(&w, "presign", &plan, &[0, 2], 0, fault, Link::Files);
            crashes += c;
        }
        if *presigned {
            let msg = format!("presigned, crash at {point}").into_bytes();
            let plan = w.sign_plan_with(0, &key, "alice,carol", &msg, &["--presigned"]);
            let (sigs, c) = run_with_crashes(&w, "sign", &plan, &[0, 2], 0, point, Link::Files);
            crashes += c;
            assert_agree(&sigs, &["signature"]);
            check(&sigs[0], &msg);
        }
        for p in 0..3 {
            assert_no_leftovers(&w, p);
        }
        assert!(crashes > 0, "crash point {point} was never reached");
    }

    // Through a relay: what a killed step committed is uploaded by the next run.
    let relay = RelayProc::start("127.0.0.1:0", &[]);
    let link = Link::Relay(&relay.addr);
    for point in [
        "journal-saved",
        "sent-recorded",
        "presignature-claimed",
        "completed",
    ] {
        let plan = w.keygen_plan("ecdsa-secp256k1", 2);
        let (keys, mut crashes) = run_with_crashes(&w, "keygen", &plan, &[0, 1, 2], 1, point, link);
        assert_agree(&keys, &["key_id", "public_key", "transcript"]);
        let key = keys[0]["key_id"].as_str().unwrap();
        let plan = w.write_plan(0, "presign", &["--key", key, "--signers", "alice,bob"]);
        crashes += run_with_crashes(&w, "presign", &plan, &[0, 1], 1, point, link).1;
        let plan = w.sign_plan_with(0, key, "alice,bob", b"relay", &["--presigned"]);
        let (sigs, c) = run_with_crashes(&w, "sign", &plan, &[0, 1], 1, point, link);
        crashes += c;
        assert_agree(&sigs, &["signature"]);
        assert!(
            crashes > 0,
            "crash point {point} was never reached through the relay"
        );
    }
}

/// An ECDSA reshare back and forth between {alice, bob, carol} and {alice, carol, dave}
/// (alice deals and stays, carol stays without dealing, one dealer leaves and one party
/// joins), each role killed at each crash point it passes, over files and through a
/// relay: every run finishes with the same transcript, the leaver's share is gone, and
/// the holders at the end sign under the same key. The first reshare generates aux info
/// for the new set (and is killed where it stores it); the others reuse the sets'.
/// Slow, like the other ECDSA crash test: run with `--ignored`.
#[test]
#[ignore]
fn an_ecdsa_reshare_finishes_after_a_crash_at_every_point() {
    let w = World::new(4);
    let relay = RelayProc::start("127.0.0.1:0", &[]);
    for p in 0..3 {
        w.import_primes(p, p);
    }
    let plan = w.keygen_plan_among("ecdsa-secp256k1", 2, &[0, 1, 2]);
    let keys = finish_all(w.spawn_relay_run(&[0, 1, 2], "keygen", &plan, &relay.addr));
    let key = keys[0]["key_id"].as_str().unwrap().to_string();
    let pk = keys[0]["public_key"].as_str().unwrap().to_string();
    for (p, k) in [(0, 3), (2, 4), (3, 5)] {
        w.import_primes(p, k);
    }
    let card = |p: usize| w.parties[p].card.to_str().unwrap().to_string();
    // Roles by 0-based party: (leaver, joiner); alice (0) deals and stays, carol (2)
    // stays without dealing.
    let mut at_x = true;
    let steps: &[(&str, &str, Link)] = &[
        ("aux-written", "joiner", Link::Files),
        ("journal-saved", "leaver", Link::Files),
        ("journal-saved", "joiner", Link::Files),
        ("sent-recorded", "dealer", Link::Files),
        ("state-recorded", "stayer", Link::Files),
        ("share-written", "joiner", Link::Files),
        ("share-written", "dealer", Link::Files),
        ("share-removed", "leaver", Link::Files),
        ("completed", "leaver", Link::Files),
        ("completed", "joiner", Link::Files),
        ("journal-saved", "leaver", Link::Relay(&relay.addr)),
        ("completed", "joiner", Link::Relay(&relay.addr)),
    ];
    for (n, &(point, role, link)) in steps.iter().enumerate() {
        let aux = if n == 0 { "generate" } else { "reuse" };
        let (leaver, joiner) = if at_x { (1, 3) } else { (3, 1) };
        let (from, new_set) = if at_x {
            ("alice,bob", ["alice".to_string(), "carol".into(), card(3)])
        } else {
            ("alice,dave", ["alice".to_string(), card(1), "carol".into()])
        };
        let mut args = vec!["--key", &key, "--from", from, "--aux", aux];
        for p in &new_set {
            args.extend(["--party", p.as_str()]);
        }
        let plan = w.write_plan(0, "reshare", &args);
        let victim = match role {
            "leaver" => leaver,
            "joiner" => joiner,
            "dealer" => 0,
            _ => 2,
        };
        let (results, crashes) =
            run_with_crashes(&w, "reshare", &plan, &[0, 1, 2, 3], victim, point, link);
        assert!(crashes > 0, "{point} was never reached by the {role}");
        assert_agree(&results, &["key_id", "public_key", "transcript_words"]);
        assert_eq!(results[0]["public_key"], pk.as_str());
        let share = w.parties[leaver]
            .home
            .join("shares")
            .join(format!("{key}.age"));
        assert!(!share.exists(), "the leaver kept its share ({point})");
        for p in 0..4 {
            assert_no_leftovers(&w, p);
        }
        at_x = !at_x;
    }
    // An even number of reshares ends at {alice, bob, carol}: bob and carol sign.
    assert!(at_x);
    let msg = b"after every crash";
    let plan = w.sign_plan(2, &key, "bob,carol", msg);
    let sigs = finish_all(w.spawn_relay_run(&[1, 2], "sign", &plan, &relay.addr));
    let sig = hex::decode(sigs[0]["signature"].as_str().unwrap()).unwrap();
    assert!(verify_independently(
        "ecdsa-secp256k1",
        &hex::decode(&pk).unwrap(),
        msg,
        &sig
    ));
}

/// Six processes run alice's signing step at once on her one home: none fails (no
/// "database is busy", no conflict), the nonces are consumed for one share only, and
/// exactly one signature share leaves (one file); the signature then completes.
#[test]
fn concurrent_processes_of_one_session_send_one_share() {
    let w = World::new(2);
    let (key, pk) = w.keygen("eddsa-ed25519", 2);
    let msg = b"six at once";
    let plan = w.sign_plan(0, &key, "alice,bob", msg);
    assert_eq!(code(&w.step(0, "sign", &plan)), 4);
    assert_eq!(code(&w.step(1, "sign", &plan)), 4);
    w.sync(&[0, 1]);
    let children: Vec<_> = (0..6)
        .map(|_| w.spawn_run(0, "sign", &plan, &["--step"]))
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_eq!(code(&out), 4, "{}", stderr(&out));
    }
    let shares = files_matching(&w.parties[0].dir, "-sign-r2-p1-");
    assert_eq!(shares.len(), 1, "{shares:?}");
    let sigs = w.run_all("sign", &plan, &[0, 1]);
    assert_agree(&sigs, &["signature"]);
    let sig = hex::decode(sigs[0]["signature"].as_str().unwrap()).unwrap();
    assert!(verify_independently(
        "eddsa-ed25519",
        &hex::decode(pk).unwrap(),
        msg,
        &sig
    ));
}
