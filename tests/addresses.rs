//! Chain addresses of FROST keys made in a ceremony, checked against the signatures the
//! keys make: the P2TR address of a `schnorr-secp256k1-tr` key holds the very key its
//! BIP340 signatures verify under (checked with k256), and the Solana address of an
//! `eddsa-ed25519` key decodes to the key. (ECDSA addresses are in tests/ecdsa.rs.)

mod common;
use common::*;

fn address(w: &World, key: &str, args: &[&str]) -> std::process::Output {
    w.mpc(0)
        .args(["--json", "keys", "address", key])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn taproot_and_solana_addresses_match_what_the_keys_sign() {
    let w = World::new(3);
    let (key, pk_tr) = w.keygen("schnorr-secp256k1-tr", 2);
    let out = address(&w, &key, &["--chain", "bitcoin"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let a = json(&out);
    assert_eq!(a["kind"], "p2tr");
    let (hrp, version, program) = bech32::segwit::decode(a["address"].as_str().unwrap()).unwrap();
    assert_eq!((hrp.as_str(), version.to_u8()), ("bc", 1));
    let msg = b"spend from a taproot output";
    let sig = w.sign(&key, &[0, 1], msg);
    assert_eq!(
        hex::encode(&program),
        pk_tr,
        "the P2TR program is not the key"
    );
    let vk = k256::schnorr::VerifyingKey::from_bytes(&program).unwrap();
    let sig = k256::schnorr::Signature::try_from(sig.as_slice()).unwrap();
    vk.verify_raw(msg, &sig)
        .expect("the signature does not verify under the P2TR output key");
    let out = address(&w, &key, &["--chain", "bitcoin-testnet"]);
    assert!(json(&out)["address"].as_str().unwrap().starts_with("tb1p"));
    // A -tr key signs BIP340, not ECDSA: no Ethereum address.
    let out = address(&w, &key, &["--chain", "ethereum"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("has no ethereum address"),
        "{}",
        stderr(&out)
    );

    let (key, pk) = w.keygen("eddsa-ed25519", 2);
    let out = address(&w, &key, &["--chain", "solana"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let a = json(&out);
    assert_eq!(a["kind"], "base58");
    let decoded = bs58::decode(a["address"].as_str().unwrap())
        .into_vec()
        .unwrap();
    assert_eq!(hex::encode(decoded), pk);
    // --path is for ECDSA HD keys only.
    let out = address(&w, &key, &["--chain", "solana", "--path", "m/0"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("--path applies only to ecdsa-secp256k1"),
        "{}",
        stderr(&out)
    );
}
