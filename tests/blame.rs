//! Blame the equivocator, not the messenger: a party that sends two different, validly
//! signed first-round broadcasts to different parties (a split view) is the one named,
//! by every honest party, in FROST keygen and signing with 3 and with 5 parties.
//!
//! The equivocator is made the only way a real one could be: its home is copied before
//! its first step, and the copy takes the step too, so both messages carry its real
//! signature. Each party is a separate `mpc` process with its own home.

mod common;

use common::*;
use std::path::Path;

/// Steps every party in `who` (syncing files between rounds, which never replaces a
/// message a party already has) until each honest one has aborted; each must name
/// exactly the liar. The liar's own home (the one whose copy sent the other face) must
/// end the same way: told that its own key signed a message it never sent, exit 3,
/// naming itself and nobody else, never the honest party that showed the evidence.
fn everyone_names(w: &World, kind: &str, plan: &Path, who: &[usize], liar: usize) {
    let honest: Vec<usize> = who.iter().copied().filter(|&p| p != liar).collect();
    let expected = format!("{} ({})", liar + 1, w.parties[liar].name);
    let mut verdicts: Vec<Option<serde_json::Value>> = vec![None; honest.len()];
    let mut own: Option<serde_json::Value> = None;
    for _ in 0..10 {
        for &p in who {
            if p == liar && own.is_some() {
                continue;
            }
            let out = w.step(p, kind, plan);
            if p == liar {
                match code(&out) {
                    4 => {}
                    3 => own = Some(json(&out)),
                    c => panic!("the liar's home exited {c}: {}", stderr(&out)),
                }
                continue;
            }
            let slot = honest.iter().position(|&h| h == p).unwrap();
            match code(&out) {
                4 => {}
                3 => {
                    verdicts[slot].get_or_insert(json(&out));
                }
                c => panic!(
                    "{} exited {c} in a split view: {}",
                    w.parties[p].name,
                    stderr(&out)
                ),
            }
        }
        w.sync(who);
        if let Some(own) = own
            .as_ref()
            .filter(|_| verdicts.iter().all(Option::is_some))
        {
            assert_eq!(
                own["error"]["culprits"],
                serde_json::json!([expected]),
                "the liar's home blamed another: {own}"
            );
            let message = own["error"]["message"].as_str().unwrap();
            assert!(message.contains("your own identity key signed"), "{own}");
            assert!(
                own["error"]["hint"]
                    .as_str()
                    .unwrap()
                    .contains("compromised"),
                "{own}"
            );
            for (v, &p) in verdicts.iter().zip(&honest) {
                let culprits = &v.as_ref().unwrap()["error"]["culprits"];
                assert_eq!(
                    culprits,
                    &serde_json::json!([expected]),
                    "{} blamed {culprits} for {}'s split view",
                    w.parties[p].name,
                    w.parties[liar].name
                );
            }
            return;
        }
    }
    panic!("the parties did not all abort: {verdicts:?}, the liar's home: {own:?}");
}

#[test]
fn a_split_view_in_a_three_party_keygen_and_signing_names_the_equivocator() {
    let w = World::new(3);
    let plan = w.keygen_plan("eddsa-ed25519", 2);
    w.split_view("keygen", &plan, 1, &[0], &[2]);
    everyone_names(&w, "keygen", &plan, &[0, 1, 2], 1);

    let (key, _) = w.keygen("eddsa-ed25519", 2);
    let plan = w.sign_plan(0, &key, "alice,bob,carol", b"split view");
    w.split_view("sign", &plan, 1, &[0], &[2]);
    everyone_names(&w, "sign", &plan, &[0, 1, 2], 1);
}

#[test]
fn a_split_view_among_five_parties_names_the_equivocator() {
    let w = World::new(5);
    let plan = w.keygen_plan("schnorr-secp256k1-tr", 3);
    w.split_view("keygen", &plan, 2, &[0, 1], &[3, 4]);
    everyone_names(&w, "keygen", &plan, &[0, 1, 2, 3, 4], 2);

    let (key, _) = w.keygen("schnorr-secp256k1-tr", 3);
    let plan = w.sign_plan(0, &key, "alice,bob,carol,dave,erin", b"five-way split");
    w.split_view("sign", &plan, 3, &[0, 1], &[2, 4]);
    everyone_names(&w, "sign", &plan, &[0, 1, 2, 3, 4], 3);
}

/// After an abort, running the session again says it was aborted and names the same
/// culprits (kept with the session), under `--json` too.
#[test]
fn an_aborted_session_keeps_its_culprits() {
    let w = World::new(3);
    let plan = w.keygen_plan("eddsa-ed25519", 2);
    w.split_view("keygen", &plan, 1, &[0], &[2]);
    everyone_names(&w, "keygen", &plan, &[0, 1, 2], 1);
    // Running the aborted session again says so, with the same culprit.
    let out = w.step(0, "keygen", &plan);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert_eq!(
        json(&out)["error"]["culprits"],
        serde_json::json!(["2 (bob)"])
    );
}

/// Carol's signature share tells alice (only) an echo of round 1 that no signed message
/// supports. Alice broadcasts her evidence; carol's mpc, still running the session,
/// answers with its own, which matches alice's view, so the echo is carol's alone to
/// answer for: alice names carol. (A party that has already finished does not answer;
/// then alice waits, as for any missing message.)
#[test]
fn an_echo_no_signed_message_supports_names_its_sender() {
    use mpc::envelope::Envelope;
    let w = World::new(3);
    let (key, _) = w.keygen("eddsa-ed25519", 2);
    let plan = w.sign_plan(0, &key, "alice,bob,carol", b"a lying echo");
    for p in 0..3 {
        assert_eq!(code(&w.step(p, "sign", &plan)), 4);
    }
    w.sync(&[0, 1, 2]);
    // Bob's and carol's signature shares; alice gets bob's, and carol's with a lying echo.
    for p in [1, 2] {
        assert_eq!(code(&w.step(p, "sign", &plan)), 4);
    }
    let give = |from: usize, pat: &str, to: usize| {
        for f in files_matching(&w.parties[from].dir, pat) {
            std::fs::copy(&f, w.parties[to].dir.join(f.file_name().unwrap())).unwrap();
        }
    };
    give(1, "-sign-r2-p2-", 0);
    let real = files_matching(&w.parties[2].dir, "-sign-r2-p3-")[0].clone();
    let env = Envelope::decode(&std::fs::read(&real).unwrap()).unwrap();
    let carol = mpc::store::Home::resolve(Some(w.parties[2].home.clone()))
        .unlock(&age::secrecy::SecretString::from(PASS.to_string()))
        .unwrap();
    let mut payload = env.open(&carol).unwrap();
    payload[0] ^= 1; // the echo hash comes first
    let lie = Envelope::create(&carol, env.header.clone(), &payload, None).unwrap();
    std::fs::write(
        w.parties[0].dir.join(real.file_name().unwrap()),
        lie.as_bytes(),
    )
    .unwrap();
    // Alice sends her share and her evidence, and waits for carol's evidence.
    let out = w.step(0, "sign", &plan);
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("waiting for round 9 from 3 (carol)"),
        "{}",
        stderr(&out)
    );
    // Carol, who has not seen alice's share yet, answers alice's evidence with hers.
    give(0, "-sign-r9-p1-", 2);
    assert_eq!(code(&w.step(2, "sign", &plan)), 4);
    give(2, "-sign-r9-p3-", 0);
    let out = w.step(0, "sign", &plan);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(
        v["error"]["culprits"],
        serde_json::json!(["3 (carol)"]),
        "{v}"
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no signed message supports"),
        "{v}"
    );
}
