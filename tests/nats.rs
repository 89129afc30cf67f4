//! Ceremonies over NATS JetStream (`--relay nats://...`): a real `nats-server` with
//! JetStream on a free loopback port, each party a separate `mpc` process with its own
//! home (the server: `common::nats`).

mod common;
use common::nats::*;
use common::*;
use std::time::{Duration, Instant};

#[test]
fn frost_keygen_and_signing_over_nats() {
    let Some(bin) = nats_server() else { return };
    let nats = NatsProc::fresh(&bin, &[]);
    for (i, scheme) in ["eddsa-ed25519", "schnorr-secp256k1-tr", "schnorr-secp256k1"]
        .into_iter()
        .enumerate()
    {
        let w = World::new(3);
        let plan = w.keygen_plan(scheme, 2);
        let results = if i == 1 {
            // One `--step` process at a time, as from a script.
            w.run_all_via("keygen", &plan, &[0, 1, 2], Via::Relay(&nats.addr))
        } else {
            // Three waiting processes started together.
            finish_all(w.spawn_relay_run(&[0, 1, 2], "keygen", &plan, &nats.addr))
        };
        assert_same_key(&results);
        // Signing by `--step` processes...
        frost_sign_and_check(&w, scheme, &results, Via::Relay(&nats.addr));
        // ... and by waiting ones.
        let key = results[0]["key_id"].as_str().unwrap();
        let msg = format!("{scheme} signed by waiting processes");
        let plan = w.sign_plan(0, key, "alice,carol", msg.as_bytes());
        let sigs = finish_all(w.spawn_relay_run(&[0, 2], "sign", &plan, &nats.addr));
        assert_eq!(sigs[0]["signature"], sigs[1]["signature"]);
        let pk = hex::decode(results[0]["public_key"].as_str().unwrap()).unwrap();
        let sig = hex::decode(sigs[0]["signature"].as_str().unwrap()).unwrap();
        assert!(verify_independently(scheme, &pk, msg.as_bytes(), &sig));
    }
}

/// A reshare over NATS, by waiting processes: a 2-of-3 key gets dave as a fourth holder
/// (3-of-4) and keeps its public key; the new set signs.
#[test]
fn a_reshare_over_nats_moves_the_key_to_a_new_holder() {
    let Some(bin) = nats_server() else { return };
    let nats = NatsProc::fresh(&bin, &[]);
    let w = World::new(4);
    let plan = w.keygen_plan_among("eddsa-ed25519", 2, &[0, 1, 2]);
    let keys = finish_all(w.spawn_relay_run(&[0, 1, 2], "keygen", &plan, &nats.addr));
    let key = keys[0]["key_id"].as_str().unwrap();
    let args = w.reshare_args(key, "alice,bob", Some(3), &[0, 1, 2, 3], &[0, 1, 2]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let reshare = w.write_plan(0, "reshare", &args);
    let results = finish_all(w.spawn_relay_run(&[0, 1, 2, 3], "reshare", &reshare, &nats.addr));
    for r in &results {
        assert_eq!(r["public_key"], keys[0]["public_key"]);
        assert_eq!(r["transcript_words"], results[0]["transcript_words"]);
    }
    let msg = b"bob, carol and dave, after a reshare over NATS";
    let sig = w.sign(key, &[1, 2, 3], msg);
    let pk = hex::decode(keys[0]["public_key"].as_str().unwrap()).unwrap();
    assert!(verify_independently("eddsa-ed25519", &pk, msg, &sig));
}

/// Bob's process is killed after his round 1 is on the stream, and started again: his
/// durable consumer resumes where it was (what arrived meanwhile is delivered, nothing
/// is sent again by hand), and the keygen finishes.
#[test]
fn a_party_killed_and_restarted_resumes_from_its_consumer() {
    let Some(bin) = nats_server() else { return };
    let nats = NatsProc::fresh(&bin, &[]);
    let w = World::new(3);
    let plan = w.keygen_plan("eddsa-ed25519", 2);
    let mut bob = w.spawn_relay_run(&[1], "keygen", &plan, &nats.addr);
    wait_stored(&nats, 1);
    for c in &mut bob {
        c.kill().unwrap();
        c.wait().unwrap();
    }
    // Alice and carol go on without him; his consumer holds their messages meanwhile.
    let others = w.spawn_relay_run(&[0, 2], "keygen", &plan, &nats.addr);
    wait_stored(&nats, 3);
    let bob = w.spawn_relay_run(&[1], "keygen", &plan, &nats.addr);
    let mut results = finish_all(others);
    results.extend(finish_all(bob));
    assert_same_key(&results);
}

/// What a test publisher puts straight into a session's subjects: bytes that are no
/// envelope, an envelope signed by a stranger, and a real envelope of another session
/// (a replay). Every party reports and ignores each, stores none of them, and the
/// keygen finishes.
#[test]
fn garbage_strangers_and_replays_injected_into_the_stream_are_ignored() {
    let Some(bin) = nats_server() else { return };
    let nats = NatsProc::fresh(&bin, &[]);
    let w = World::new(3);
    // An earlier session among the same parties, whose messages will be replayed.
    let earlier = w.keygen_plan("eddsa-ed25519", 2);
    finish_all(w.spawn_relay_run(&[0, 1, 2], "keygen", &earlier, &nats.addr));
    let old = std::fs::read_dir(w.parties[0].home.join("relay"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|f| std::fs::read(f.unwrap().path()).unwrap())
        .find(|b| mpc::envelope::Envelope::decode(b).is_ok())
        .expect("a message of the earlier session");
    let plan = w.keygen_plan("eddsa-ed25519", 2);
    let session = mpc::plan::Plan::from_json(&std::fs::read(&plan).unwrap())
        .unwrap()
        .session_id();
    let stranger = mpc::identity::Identity::generate("mallory");
    let header = mpc::envelope::Header {
        scheme: mpc::scheme::Scheme::EddsaEd25519.tag(),
        session,
        protocol: mpc::envelope::Protocol::Keygen,
        round: 1,
        sender: 2,
        sender_key: stranger.card().verifying_key().unwrap().to_bytes(),
        recipient: 0,
    };
    let forged = mpc::envelope::Envelope::create(&stranger, header, b"round one", None)
        .unwrap()
        .as_bytes()
        .to_vec();
    let injected = [b"not an envelope".to_vec(), forged, old];
    publish(&nats.addr, &session, &injected);
    let children = w.spawn_relay_run(&[0, 1, 2], "keygen", &plan, &nats.addr);
    let outs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for (p, out) in outs.iter().enumerate() {
        assert_eq!(code(out), 0, "{}", stderr(out));
        let warned = stderr(out)
            .lines()
            .filter(|l| l.contains("ignored, nothing was stored"))
            .count();
        assert!(warned >= 3, "party {p} ignored {warned}: {}", stderr(out));
        let dir = w.parties[p]
            .home
            .join("relay")
            .join(&hex::encode(session)[..16]);
        for f in std::fs::read_dir(dir).unwrap() {
            let bytes = std::fs::read(f.unwrap().path()).unwrap();
            assert!(
                !injected.contains(&bytes),
                "party {p} stored an injected message"
            );
        }
    }
    let results: Vec<_> = outs.iter().map(json).collect();
    assert_same_key(&results);
}

/// Publishes `messages` as broadcasts of `session`, as any client of the server could.
fn publish(addr: &str, session: &[u8; 32], messages: &[Vec<u8>]) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = async_nats::connect(addr.trim_start_matches("nats://"))
            .await
            .unwrap();
        let js = async_nats::jetstream::new(client);
        js.get_or_create_stream(mpc::transport::nats::stream_config(1))
            .await
            .unwrap();
        for m in messages {
            js.publish(
                mpc::transport::nats::subject(session, None),
                m.clone().into(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
        }
    });
}

/// The server is killed after alice and bob have published round 1, and started again
/// on the same port and store. Nothing is sent again by hand: their messages are on the
/// stream, their consumers resume, and the keygen finishes when carol joins. (With the
/// built-in relay, which keeps messages in memory, the parties upload again.)
#[test]
fn a_nats_restart_mid_ceremony_loses_nothing() {
    let Some(bin) = nats_server() else { return };
    let mut nats = NatsProc::fresh(&bin, &[]);
    let addr = nats.addr.clone();
    let w = World::new(3);
    let plan = w.keygen_plan("eddsa-ed25519", 2);
    let early = w.spawn_relay_run(&[0, 1], "keygen", &plan, &addr);
    // Round 1 of alice and bob (two broadcasts) is on the stream.
    wait_stored(&nats, 2);
    nats.stop();
    std::thread::sleep(Duration::from_millis(1500));
    nats.start_again();
    // The restarted server kept them.
    assert!(nats.stored() >= 2);
    let late = w.spawn_relay_run(&[2], "keygen", &plan, &addr);
    let mut results = finish_all(early);
    results.extend(finish_all(late));
    assert_same_key(&results);
}

/// Waits until the stream of round messages holds at least `n`.
fn wait_stored(nats: &NatsProc, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while nats.stored() < n {
        assert!(
            Instant::now() < deadline,
            "the messages never reached the stream"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The example server configuration (`contrib/nats/lab.conf`), run as shipped with NKEY
/// users made here: parties with their seeds (`--nats-creds`, or `MPC_NATS_CREDS`) make
/// a key and sign with it; a party without credentials, or with a file that holds none,
/// is told so and gets nowhere.
#[test]
fn the_example_server_config_lets_parties_in_by_nkey_and_keeps_strangers_out() {
    let Some(bin) = nats_server() else { return };
    // No serve nodes here: any keys fill the nodes' places.
    let (nats, users) = NatsProc::lab(&bin, [&"a1".repeat(32), &"b2".repeat(32), &"c3".repeat(32)]);
    let w = World::new(3);
    let plan = w.keygen_plan("eddsa-ed25519", 2);
    // Without credentials: refused by the server, and said.
    let out = w.relay_step(0, "keygen", &plan, &nats.addr);
    assert_ne!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).to_lowercase().contains("authorization"),
        "{}",
        stderr(&out)
    );
    // A file that holds no credentials.
    let bad = w.path("bad.seed");
    std::fs::write(&bad, "hello").unwrap();
    let out = w
        .mpc(0)
        .args(["keygen", "run"])
        .arg(&plan)
        .args(["--relay", &nats.addr, "--step", "--yes", "--nats-creds"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_ne!(code(&out), 0);
    assert!(
        stderr(&out).contains("neither a NATS credentials file nor an NKEY user seed"),
        "{}",
        stderr(&out)
    );
    // Each party with its own seed.
    let run = |kind: &str, plan: &std::path::Path, who: &[usize]| {
        finish_all(w.spawn_signed_in(who, kind, plan, &nats.addr, &users.parties))
    };
    let results = run("keygen", &plan, &[0, 1, 2]);
    assert_same_key(&results);
    let key = results[0]["key_id"].as_str().unwrap();
    let msg = b"signed by nkey users";
    let plan = w.sign_plan(0, key, "alice,bob", msg);
    let sigs = run("sign", &plan, &[0, 1]);
    let pk = hex::decode(results[0]["public_key"].as_str().unwrap()).unwrap();
    let sig = hex::decode(sigs[0]["signature"].as_str().unwrap()).unwrap();
    assert!(verify_independently("eddsa-ed25519", &pk, msg, &sig));
}
