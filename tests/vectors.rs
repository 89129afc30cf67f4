//! mpc's deterministic test vectors (testdata/vectors/, format in its README): they are
//! regenerated from their seed and must match the files byte for byte; `mpc verify`
//! accepts every positive signature and rejects every negative one; every recorded
//! envelope decodes to its payload, and every negative envelope is refused.
//! `MPC_UPDATE_GENERATED=1 cargo test --test vectors` rewrites the files after a
//! deliberate change (say so in the CHANGELOG: other implementations pin them).

mod common;
use common::*;
use mpc::envelope::{Envelope, Payload};
use mpc::scheme::Scheme;
use mpc::vectors::{self, Vectors};
use std::path::Path;

const SCHEMES: [Scheme; 4] = [
    Scheme::EddsaEd25519,
    Scheme::SchnorrSecp256k1Tr,
    Scheme::SchnorrSecp256k1,
    Scheme::EcdsaSecp256k1,
];

fn testdata(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

/// The ECDSA vector parties' aux info (a fixture: see `ecdsa_aux_info_fixture`).
fn ecdsa_aux() -> Vec<mpc::engine::cggmp::AuxInfo> {
    serde_json::from_slice(&std::fs::read(testdata("vectors/ecdsa-aux-info.json")).unwrap())
        .unwrap()
}

fn generate(scheme: Scheme) -> Vectors {
    match scheme {
        Scheme::EcdsaSecp256k1 => vectors::generate_ecdsa(seed(), &ecdsa_aux()).unwrap(),
        _ => vectors::generate(scheme, seed()).unwrap(),
    }
}

/// Writes `text` to `path` under MPC_UPDATE_GENERATED=1, then requires the file to hold it.
fn pinned(path: &Path, text: &str) {
    if std::env::var_os("MPC_UPDATE_GENERATED").is_some() {
        std::fs::write(path, text).unwrap();
    }
    let stored = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        stored == text,
        "{} differs from what this build generates; if the change is deliberate, run MPC_UPDATE_GENERATED=1 cargo test --test vectors",
        path.display()
    );
}

/// The aux-info fixture regenerates from the pregenerated primes (Paillier proofs: about
/// half a minute in release, longer in a debug build; hence ignored by default). Run
/// with `cargo test --release --test vectors -- --ignored`.
#[test]
#[ignore]
fn ecdsa_aux_info_fixture() {
    let primes = (0..3)
        .map(|k| {
            serde_json::from_slice(
                &std::fs::read(testdata(&format!("primes/primes-{k}.json"))).unwrap(),
            )
            .unwrap()
        })
        .collect();
    let aux = vectors::ecdsa_aux_info(primes).unwrap();
    let text = serde_json::to_string_pretty(&aux).unwrap() + "\n";
    pinned(&testdata("vectors/ecdsa-aux-info.json"), &text);
}

/// The seed of every scheme's vectors: bytes 0, 1, ..., 31.
fn seed() -> [u8; 32] {
    std::array::from_fn(|i| i as u8)
}

fn file(scheme: Scheme) -> std::path::PathBuf {
    testdata(&format!("vectors/{}.json", scheme.id()))
}

#[test]
fn vectors_regenerate_byte_for_byte() {
    for scheme in SCHEMES {
        let text = serde_json::to_string_pretty(&generate(scheme)).unwrap() + "\n";
        pinned(&file(scheme), &text);
    }
}

fn load(scheme: Scheme) -> Vectors {
    serde_json::from_str(&std::fs::read_to_string(file(scheme)).unwrap()).unwrap()
}

/// `mpc verify` on a signature given in hex; returns the exit code.
fn verify(scheme: Scheme, pk: &str, message_hex: &str, sig: &str) -> i32 {
    let tmp = tempfile::tempdir().unwrap();
    let msg = tmp.path().join("message");
    std::fs::write(&msg, hex::decode(message_hex).unwrap()).unwrap();
    let mut cmd = mpc(tmp.path());
    cmd.args([
        "verify",
        "--scheme",
        scheme.id(),
        "--public-key",
        pk,
        "--signature",
        sig,
    ])
    .arg("--message")
    .arg(&msg);
    if scheme == Scheme::EcdsaSecp256k1 {
        cmd.args(["--hash", "sha256"]);
    }
    let out = cmd.output().unwrap();
    code(&out)
}

#[test]
fn mpc_verify_accepts_every_positive_and_rejects_every_negative_vector() {
    for scheme in SCHEMES {
        let v = load(scheme);
        assert_eq!(v.format, vectors::FORMAT);
        let s = &v.sign;
        assert_eq!(
            verify(scheme, &v.keygen.public_key, &s.message, &s.signature),
            0,
            "{scheme}"
        );
        if scheme != Scheme::EcdsaSecp256k1 {
            assert!(verify_independently(
                scheme.id(),
                &hex::decode(&v.keygen.public_key).unwrap(),
                &hex::decode(&s.message).unwrap(),
                &hex::decode(&s.signature).unwrap(),
            ));
        }
        assert_eq!(v.negative_signatures.len(), 4);
        for n in &v.negative_signatures {
            let want = if n.expect == "invalid" { 1 } else { 2 };
            assert_eq!(
                verify(scheme, &n.public_key, &n.message, &n.signature),
                want,
                "{scheme}: {}",
                n.case
            );
        }
    }
}

#[test]
fn plans_name_their_sessions_and_envelopes_open_to_their_payloads() {
    for scheme in SCHEMES {
        let v = load(scheme);
        for (plan, session, messages) in [
            (&v.keygen.plan, &v.keygen.session_id, &v.keygen.messages),
            (&v.sign.plan, &v.sign.session_id, &v.sign.messages),
        ] {
            assert_eq!(&hex::encode(plan.session_id()), session, "{scheme}");
            assert_eq!(plan.parties(), &v.parties[..]);
            let mut broadcasts = 0;
            for m in messages {
                let Some(env) = &m.envelope else {
                    assert!(m.recipient.is_some(), "a broadcast without its envelope");
                    continue;
                };
                broadcasts += 1;
                let env = Envelope::decode(&hex::decode(env).unwrap()).unwrap();
                assert_eq!(hex::encode(env.header.session), *session);
                assert_eq!((env.header.round, env.header.sender), (m.round, m.sender));
                assert_eq!(env.header.protocol.name(), m.protocol);
                let card = &v.parties[m.sender as usize - 1];
                assert_eq!(
                    env.header.sender_key,
                    card.verifying_key().unwrap().to_bytes()
                );
                match &env.payload {
                    // mpc DEFLATE-compresses ECDSA payloads inside the envelope.
                    Payload::Public(p) if scheme == Scheme::EcdsaSecp256k1 => assert_eq!(
                        hex::encode(miniz_oxide::inflate::decompress_to_vec(p).unwrap()),
                        m.payload
                    ),
                    Payload::Public(p) => assert_eq!(hex::encode(p), m.payload),
                    Payload::Sealed(_) => panic!("a broadcast is sealed"),
                }
            }
            assert!(broadcasts >= 2, "{scheme}: no broadcasts recorded");
        }
        assert_eq!(v.negative_envelopes.len(), 3);
        for n in &v.negative_envelopes {
            assert!(
                Envelope::decode(&hex::decode(&n.envelope).unwrap()).is_err(),
                "{scheme}: {} decodes",
                n.case
            );
        }
    }
}
