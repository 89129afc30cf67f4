//! Ceremonies through `mpc relay` on 127.0.0.1, each party a separate process with its
//! own home and no shared directory; a relay that restarts mid-ceremony; a hostile relay
//! that replays, reflects, misaddresses and tampers; and clients that misbehave towards
//! the relay. (ECDSA through a relay is in tests/ecdsa.rs, which has aux info.)

mod common;
use common::*;
use mpc::identity::Identity;
use mpc::relay::wire::{self, Kind};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

#[test]
fn frost_keygen_and_signing_through_a_relay() {
    let relay = RelayProc::start("127.0.0.1:0", &[]);
    for scheme in ["eddsa-ed25519", "schnorr-secp256k1-tr", "schnorr-secp256k1"] {
        let w = World::new(3);
        // Keygen: three waiting processes started together.
        let plan = w.keygen_plan(scheme, 2);
        let results = finish_all(w.spawn_relay_run(&[0, 1, 2], "keygen", &plan, &relay.addr));
        // Signing: one step at a time, as from a script.
        frost_sign_and_check(&w, scheme, &results, Via::Relay(&relay.addr));
        // No message directory was needed: the downloads sit in the home.
        for p in &w.parties {
            assert!(files_matching(&p.dir, ".mpcmsg").is_empty());
            assert!(p.home.join("relay").is_dir());
        }
    }
}

/// A share refresh (three waiting processes) and a repair onto a new laptop through the
/// relay: the maintenance ceremonies use the relay as keygen and signing do.
#[test]
fn refresh_and_repair_through_a_relay() {
    let relay = RelayProc::start("127.0.0.1:0", &[]);
    let mut w = World::new(3);
    let plan = w.keygen_plan("eddsa-ed25519", 2);
    let keygen = finish_all(w.spawn_relay_run(&[0, 1, 2], "keygen", &plan, &relay.addr));
    let key = keygen[0]["key_id"].as_str().unwrap().to_string();
    let refresh = w.write_plan(0, "refresh", &["--key", &key]);
    let refreshed = finish_all(w.spawn_relay_run(&[0, 1, 2], "refresh", &refresh, &relay.addr));
    assert_eq!(
        refreshed[0]["transcript_words"],
        refreshed[2]["transcript_words"]
    );
    let repair = w.write_plan(
        1,
        "repair",
        &["--key", &key, "--lost", "alice", "--helpers", "bob,carol"],
    );
    w.parties[0].home = w.new_laptop(0, "alice-new-laptop");
    let repaired = finish_all(w.spawn_relay_run(&[0, 1, 2], "repair", &repair, &relay.addr));
    assert_eq!(repaired[0]["repaired"], 1);
    frost_sign_and_check(&w, "eddsa-ed25519", &keygen, Via::Relay(&relay.addr));
}

/// The relay is killed after alice and bob have sent round 1 and a new, empty one starts
/// on the same port. Their waiting processes reconnect, notice the new relay, upload
/// again, and the keygen finishes when carol joins.
#[test]
fn a_relay_restart_mid_ceremony_is_survived() {
    let w = World::new(3);
    let relay = RelayProc::start("127.0.0.1:0", &[]);
    let addr = relay.addr.clone();
    let plan = w.keygen_plan("eddsa-ed25519", 2);
    let early = w.spawn_relay_run(&[0, 1], "keygen", &plan, &addr);
    relay.wait_for("stored", 2);
    drop(relay);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let relay = RelayProc::start(&addr, &[]);
    let late = w.spawn_relay_run(&[2], "keygen", &plan, &addr);
    let mut results = finish_all(early);
    results.extend(finish_all(late));
    assert_same_key(&results);
    // Alice and bob uploaded their round-1 messages again to the new relay.
    let log = relay.drain();
    for p in ["-r1-p1-", "-r1-p2-"] {
        assert!(
            log.iter()
                .any(|e| e["event"] == "stored" && e["detail"].as_str().unwrap().contains(p)),
            "{log:?}"
        );
    }
}

/// A relay that stores and forwards, but also hands every party the messages of an
/// earlier ceremony, its own messages back, messages addressed to others, and a tampered
/// copy of each message before the real one. Every party rejects what is wrong with a
/// warning, stores nothing from it, and the keygen finishes.
#[test]
fn a_hostile_relay_cannot_make_parties_accept_replays_or_forgeries() {
    let w = World::new(3);
    w.keygen("eddsa-ed25519", 2);
    let mut old = Vec::new();
    for p in &w.parties {
        for f in files_matching(&p.dir, ".mpcmsg") {
            old.push(std::fs::read(f).unwrap());
        }
    }
    assert!(!old.is_empty());
    let addr = hostile_relay(old);
    let plan = w.keygen_plan("eddsa-ed25519", 2);
    let (results, warnings) = w.run_all_logged("keygen", &plan, &[0, 1, 2], Via::Relay(&addr));
    assert_same_key(&results);
    for reason in [
        "a message from another ceremony",
        "claims to be from you",
        "is addressed to party",
        "signature",
    ] {
        assert!(
            warnings.contains(reason),
            "no warning saying `{reason}`: {warnings}"
        );
    }
    assert!(
        warnings.contains("warning: rejected a message from the relay at"),
        "{warnings}"
    );
    assert!(
        warnings.contains("ignored, nothing was stored"),
        "{warnings}"
    );
}

/// Serves the relay protocol without checking anything, and misbehaves as described
/// above. Returns its address.
fn hostile_relay(old: Vec<Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let store: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { continue };
            let store = Arc::clone(&store);
            let old = old.clone();
            std::thread::spawn(move || {
                let challenge = wire::Challenge {
                    v: wire::VERSION,
                    relay: "ab".repeat(16),
                    nonce: "11".repeat(32),
                    max_message: None,
                };
                wire::write_json(&mut s, Kind::Challenge, &challenge).unwrap();
                let _auth = wire::read_frame(&mut s, wire::MAX_CONTROL).unwrap();
                let welcome = wire::Welcome {
                    held: 0,
                    max_message: 1 << 20,
                    max_messages: 100,
                    expires_in: 3600,
                };
                wire::write_json(&mut s, Kind::Ok, &welcome).unwrap();
                while let Ok(f) = wire::read_frame(&mut s, 1 << 24) {
                    match f.kind {
                        Kind::Put => {
                            store.lock().unwrap().push(f.body);
                            wire::write_json(&mut s, Kind::Ok, &wire::Stored { new: true })
                                .unwrap();
                        }
                        _ => {
                            let send = |s: &mut TcpStream, m: &[u8]| {
                                let mut body = 1u64.to_be_bytes().to_vec();
                                body.extend_from_slice(m);
                                wire::write_frame(s, Kind::Msg, &body).unwrap();
                            };
                            for m in &old {
                                send(&mut s, m);
                            }
                            for m in store.lock().unwrap().iter() {
                                let mut bad = m.clone();
                                let i = bad.len() / 2;
                                bad[i] ^= 1;
                                send(&mut s, &bad);
                                send(&mut s, m);
                            }
                            wire::write_json(&mut s, Kind::End, &wire::End { next: 0 }).unwrap();
                        }
                    }
                }
            });
        }
    });
    addr
}

/// Reads the relay's challenge on a fresh connection.
fn connect(addr: &str) -> (TcpStream, [u8; 32]) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let c: wire::Challenge = wire::read_frame(&mut s, wire::MAX_CONTROL)
        .unwrap()
        .expect(Kind::Challenge)
        .unwrap()
        .json()
        .unwrap();
    (s, wire::hex_array(&c.nonce).unwrap())
}

/// The relay's answer is an `Error` saying `reason`, and then the connection is closed.
fn refused_and_closed(s: &mut TcpStream, reason: &str) {
    let f = wire::read_frame(s, wire::MAX_CONTROL).unwrap();
    assert_eq!(f.kind, Kind::Error);
    let r: wire::Refusal = f.json().unwrap();
    assert!(
        r.error.contains(reason),
        "{} does not say `{reason}`",
        r.error
    );
    assert!(matches!(
        wire::read_frame(s, wire::MAX_CONTROL),
        Err(wire::FrameError::Closed | wire::FrameError::Io(_))
    ));
}

/// Authenticates `me` as party 1 of a two-member session.
fn authenticate(
    s: &mut TcpStream,
    nonce: &[u8; 32],
    me: &Identity,
    other: &Identity,
    session: [u8; 32],
) {
    let members = [me, other].map(|i| i.card().verifying_key().unwrap().to_bytes());
    let auth = wire::Auth {
        session: hex::encode(session),
        party: 1,
        members: members.iter().map(hex::encode).collect(),
        signature: hex::encode(me.sign(&wire::auth_message(nonce, &session, 1, &members))),
    };
    wire::write_json(s, Kind::Auth, &auth).unwrap();
}

#[test]
fn the_relay_survives_bad_clients_and_enforces_its_limits() {
    let mut relay = RelayProc::start("127.0.0.1:0", &["--max-message-size", "1K"]);
    let addr = relay.addr.clone();
    let (alice, bob) = (Identity::generate("alice"), Identity::generate("bob"));

    // Not the relay protocol at all: the first four bytes read as a huge length.
    let (mut s, _) = connect(&addr);
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    refused_and_closed(&mut s, "over the limit");
    // An empty frame, an unknown kind, and JSON that is not an Auth.
    let (mut s, _) = connect(&addr);
    s.write_all(&[0, 0, 0, 0]).unwrap();
    refused_and_closed(&mut s, "empty frame");
    let (mut s, _) = connect(&addr);
    wire::write_frame(&mut s, Kind::Challenge, b"{}").unwrap();
    refused_and_closed(&mut s, "authenticate first");
    let (mut s, _) = connect(&addr);
    s.write_all(&[0, 0, 0, 2, 99, 0]).unwrap();
    refused_and_closed(&mut s, "unknown frame kind 99");
    let (mut s, _) = connect(&addr);
    wire::write_frame(&mut s, Kind::Auth, b"{\"session\": 5}").unwrap();
    refused_and_closed(&mut s, "malformed Auth frame");
    // An unauthenticated client asks for messages.
    let (mut s, _) = connect(&addr);
    wire::write_json(&mut s, Kind::Fetch, &wire::Fetch { after: 0 }).unwrap();
    refused_and_closed(&mut s, "authenticate first");
    // A signature over the wrong nonce (a replayed authentication).
    let (mut s, _) = connect(&addr);
    authenticate(&mut s, &[7; 32], &alice, &bob, [1; 32]);
    refused_and_closed(&mut s, "does not verify");
    // A client that disconnects in the middle of a frame, before and after authenticating.
    let (mut s, _) = connect(&addr);
    s.write_all(&[0, 0, 1, 0, Kind::Auth as u8, b'{']).unwrap();
    drop(s);
    let (mut s, nonce) = connect(&addr);
    authenticate(&mut s, &nonce, &alice, &bob, [1; 32]);
    assert_eq!(
        wire::read_frame(&mut s, wire::MAX_CONTROL).unwrap().kind,
        Kind::Ok
    );
    s.write_all(&[0, 0, 2, 0, Kind::Put as u8, 1, 2, 3])
        .unwrap();
    drop(s);
    // Authenticated: a frame that is not an envelope is refused and the connection
    // stays usable; an oversize one is refused before it is read, and closes it.
    let (mut s, nonce) = connect(&addr);
    authenticate(&mut s, &nonce, &alice, &bob, [1; 32]);
    let welcome: wire::Welcome = wire::read_frame(&mut s, wire::MAX_CONTROL)
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(welcome.max_message, 1024);
    wire::write_frame(&mut s, Kind::Put, &[0x55; 100]).unwrap();
    let f = wire::read_frame(&mut s, wire::MAX_CONTROL).unwrap();
    assert_eq!(f.kind, Kind::Error);
    assert!(
        f.json::<wire::Refusal>()
            .unwrap()
            .error
            .contains("not a valid envelope")
    );
    wire::write_json(&mut s, Kind::Fetch, &wire::Fetch { after: 0 }).unwrap();
    assert_eq!(
        wire::read_frame(&mut s, wire::MAX_CONTROL).unwrap().kind,
        Kind::End
    );
    // The relay may close before the body is written.
    let _ = wire::write_frame(&mut s, Kind::Put, &[0x55; 2000]);
    refused_and_closed(&mut s, "a frame of 2000 bytes is over the limit of 1024");
    // Bob joins the same session with a different list of parties.
    let (mut s, nonce) = connect(&addr);
    let carol = Identity::generate("carol");
    let members = [&alice, &carol].map(|i| i.card().verifying_key().unwrap().to_bytes());
    let auth = wire::Auth {
        session: hex::encode([1; 32]),
        party: 1,
        members: members.iter().map(hex::encode).collect(),
        signature: hex::encode(alice.sign(&wire::auth_message(&nonce, &[1; 32], 1, &members))),
    };
    wire::write_json(&mut s, Kind::Auth, &auth).unwrap();
    refused_and_closed(&mut s, "different list of parties");

    // After all that, the relay still runs a ceremony.
    assert!(relay.alive());
    let w = World::new(3);
    let plan = w.keygen_plan("eddsa-ed25519", 2);
    let results = finish_all(w.spawn_relay_run(&[0, 1, 2], "keygen", &plan, &addr));
    assert_same_key(&results);
}

/// A party whose message is over the relay's limit gets a clear error naming the relay
/// and the limit, exit 2, and loses nothing: the same step works through a relay that
/// accepts it.
#[test]
fn a_message_over_the_relays_limit_is_a_clear_error() {
    let small = RelayProc::start("127.0.0.1:0", &["--max-message-size", "64"]);
    let w = World::new(3);
    let plan = w.keygen_plan("eddsa-ed25519", 2);
    let out = w.relay_step(0, "keygen", &plan, &small.addr);
    let err = stderr(&out);
    assert_eq!(code(&out), 2, "{err}");
    assert!(
        err.contains(&format!("the relay at {} refused", small.addr)),
        "{err}"
    );
    assert!(err.contains("over the limit of 64"), "{err}");
    let big = RelayProc::start("127.0.0.1:0", &[]);
    let results = w.run_all_via("keygen", &plan, &[0, 1, 2], Via::Relay(&big.addr));
    assert_same_key(&results);
}

/// Nothing listens at the address: a step ends with exit 4 (run it again later), and a
/// waiting process keeps trying until its timeout.
#[test]
fn an_unreachable_relay_means_waiting() {
    let w = World::new(3);
    let plan = w.keygen_plan("eddsa-ed25519", 2);
    let free = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let out = w.relay_step(0, "keygen", &plan, &free);
    let err = stderr(&out);
    assert_eq!(code(&out), 4, "{err}");
    assert!(
        err.contains(&format!("cannot reach the relay at {free}")),
        "{err}"
    );
    assert!(err.contains("nothing was lost"), "{err}");
    let out = w
        .mpc(0)
        .args(["keygen", "run"])
        .arg(&plan)
        .args(["--relay", &free, "--yes", "--timeout", "3s"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(code(&out), 4, "{err}");
    assert!(err.contains("gave up after 3s"), "{err}");
    assert!(err.contains("relay unreachable"), "{err}");
}
