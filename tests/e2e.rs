//! End-to-end ceremonies: separate `mpc` processes, separate homes, files only.

mod common;
use common::*;

const SCHEMES: [&str; 3] = ["eddsa-ed25519", "schnorr-secp256k1-tr", "schnorr-secp256k1"];

fn check_signature(w: &World, scheme: &str, pk_hex: &str, msg: &[u8], sig: &[u8]) {
    let pk = hex::decode(pk_hex).unwrap();
    let want = if scheme == "schnorr-secp256k1" {
        65
    } else {
        64
    };
    assert_eq!(sig.len(), want, "{scheme} signature length");
    assert!(
        verify_independently(scheme, &pk, msg, sig),
        "{scheme}: independent verifier rejects"
    );
    let mut bad = msg.to_vec();
    bad.push(b'!');
    assert!(
        !verify_independently(scheme, &pk, &bad, sig),
        "{scheme}: verifier accepts a different message"
    );

    // `mpc verify` with no home: 0 valid, 1 invalid, 2 bad input.
    let m = w.path(&format!("verify-msg-{}", rand_suffix()));
    std::fs::write(&m, msg).unwrap();
    let run = |message: &std::path::Path, sig: &str| {
        let mut c = assert_cmd::Command::cargo_bin("mpc").unwrap();
        c.env_remove("MPC_HOME")
            .args([
                "verify",
                "--scheme",
                scheme,
                "--public-key",
                pk_hex,
                "--message",
            ])
            .arg(message)
            .args(["--signature", sig]);
        c.output().unwrap()
    };
    assert_eq!(code(&run(&m, &hex::encode(sig))), 0);
    let mut flipped = sig.to_vec();
    flipped[40] ^= 1;
    assert_eq!(code(&run(&m, &hex::encode(&flipped))), 1);
    let bad_m = w.path(&format!("verify-bad-{}", rand_suffix()));
    std::fs::write(&bad_m, &bad).unwrap();
    assert_eq!(code(&run(&bad_m, &hex::encode(sig))), 1);
    assert_eq!(code(&run(&m, "zz-not-a-signature")), 2);
}

#[test]
fn two_of_three_every_scheme_with_two_signer_sets() {
    let w = World::new(3);
    for scheme in SCHEMES {
        let (key, pk) = w.keygen(scheme, 2);
        for signers in [[0usize, 1], [1, 2], [2, 0]] {
            let msg = format!("pay 1 BTC to {signers:?} with {scheme}").into_bytes();
            let sig = w.sign(&key, &signers, &msg);
            check_signature(&w, scheme, &pk, &msg, &sig);
        }
        // Every party lists the same key and public key.
        for p in 0..3 {
            let out = w
                .mpc(p)
                .args(["keys", "show", &key, "--json"])
                .output()
                .unwrap();
            let v = json(&out);
            assert_eq!(v["public_key"], pk.as_str());
            assert_eq!(v["status"], "active");
            assert_eq!(v["my_index"], p as u64 + 1);
        }
    }
}

#[test]
fn three_of_five_every_scheme() {
    let w = World::new(5);
    for scheme in SCHEMES {
        let (key, pk) = w.keygen(scheme, 3);
        for signers in [[0usize, 2, 4], [1, 2, 3]] {
            let msg = format!("3-of-5 {scheme} {signers:?}").into_bytes();
            let sig = w.sign(&key, &signers, &msg);
            check_signature(&w, scheme, &pk, &msg, &sig);
        }
    }
}

#[test]
fn signing_with_fewer_than_t_signers_is_refused_at_planning() {
    let w = World::new(3);
    let (key, _) = w.keygen("eddsa-ed25519", 2);
    let out = w
        .sign_plan_cmd(0, &key, "alice", b"x", &[])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("needs between t=2 and n=3 signers"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn whole_ceremony_as_waiting_processes_on_a_shared_directory() {
    let w = World::new(3);
    let plan = w.keygen_plan("schnorr-secp256k1-tr", 2);
    let shared = w.path("shared");
    std::fs::create_dir_all(&shared).unwrap();
    // Start every party at once as a waiting process on the shared directory.
    let together = |who: &[usize], kind: &str, plan: &std::path::Path| {
        let mut args: Vec<&std::ffi::OsStr> = [kind, "run"].map(std::ffi::OsStr::new).to_vec();
        args.extend([
            plan.as_os_str(),
            std::ffi::OsStr::new("--dir"),
            shared.as_os_str(),
        ]);
        args.extend(["--yes", "--json", "--timeout", "60s"].map(std::ffi::OsStr::new));
        w.together(who, &args)
    };
    let outs = together(&[0, 1, 2], "keygen", &plan);
    let key = json(&outs[0])["key_id"].as_str().unwrap().to_string();
    let pk = json(&outs[0])["public_key"].as_str().unwrap().to_string();
    for o in &outs {
        assert_eq!(json(o)["public_key"], pk.as_str());
    }
    let splan = w.sign_plan(1, &key, "bob,carol", b"waiting-mode message");
    let outs = together(&[1, 2], "sign", &splan);
    let sig = hex::decode(json(&outs[0])["signature"].as_str().unwrap()).unwrap();
    assert!(verify_independently(
        "schnorr-secp256k1-tr",
        &hex::decode(&pk).unwrap(),
        b"waiting-mode message",
        &sig
    ));
}

#[test]
fn step_mode_survives_restarts_and_reemits_identical_bytes() {
    let w = World::new(3);
    let plan = w.keygen_plan("eddsa-ed25519", 2);
    // Alice's first step: exit 4 (waiting), one broadcast file.
    let out = w.step(0, "keygen", &plan);
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("waiting for round 1 from 2 (bob), 3 (carol)"),
        "{}",
        stderr(&out)
    );
    let files = files_matching(&w.parties[0].dir, "-p1-");
    assert_eq!(files.len(), 1);
    let first = std::fs::read(&files[0]).unwrap();
    // Running again (a new process) sends the very same bytes, even if the file was lost.
    std::fs::remove_file(&files[0]).unwrap();
    assert_eq!(code(&w.step(0, "keygen", &plan)), 4);
    assert_eq!(std::fs::read(&files[0]).unwrap(), first);

    let all = [0, 1, 2];
    let results = w.run_all("keygen", &plan, &all);
    let key = results[0]["key_id"].as_str().unwrap().to_string();
    // Done is sticky: another run prints the same result.
    let again = w.step(0, "keygen", &plan);
    assert_eq!(code(&again), 0);
    assert_eq!(json(&again)["public_key"], results[0]["public_key"]);

    // Signing: after alice's share is out, rerunning re-emits the same share, never a new one.
    let splan = w.sign_plan(0, &key, "alice,bob", b"one share only");
    assert_eq!(code(&w.step(0, "sign", &splan)), 4);
    assert_eq!(code(&w.step(1, "sign", &splan)), 4);
    w.sync(&[0, 1]);
    assert_eq!(code(&w.step(0, "sign", &splan)), 4); // round 2 share sent
    let share_file = files_matching(&w.parties[0].dir, "-sign-r2-p1-");
    assert_eq!(share_file.len(), 1);
    let share = std::fs::read(&share_file[0]).unwrap();
    std::fs::remove_file(&share_file[0]).unwrap();
    assert_eq!(code(&w.step(0, "sign", &splan)), 4);
    assert_eq!(
        std::fs::read(&share_file[0]).unwrap(),
        share,
        "a second, different share was produced"
    );
    let results = w.run_all("sign", &splan, &[0, 1]);
    assert_eq!(results[0]["signature"], results[1]["signature"]);
}

#[test]
fn secret_files_are_private_and_shares_not_in_clear() {
    let w = World::new(3);
    let (key, _) = w.keygen("schnorr-secp256k1", 2);
    let home = &w.parties[0].home;
    let share = home.join("shares").join(format!("{key}.age"));
    for f in [home.join("identity.age"), share.clone()] {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
                0o600,
                "{}",
                f.display()
            );
        }
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            bytes.starts_with(b"age-encryption.org/v1"),
            "{} is not age-encrypted",
            f.display()
        );
    }
    // Session journals are destroyed when the session ends.
    assert_eq!(std::fs::read_dir(home.join("sessions")).unwrap().count(), 0);
}

#[test]
fn keys_export_pem_parses_with_standard_decoders() {
    use ed25519_dalek::pkcs8::DecodePublicKey as _;
    let w = World::new(3);
    for scheme in SCHEMES {
        let (key, pk) = w.keygen(scheme, 2);
        let out = w
            .mpc(1)
            .args(["keys", "export", &key, "--format", "pem"])
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let pem = String::from_utf8(out.stdout).unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        let pk = hex::decode(&pk).unwrap();
        match scheme {
            "eddsa-ed25519" => {
                let vk = ed25519_dalek::VerifyingKey::from_public_key_pem(&pem).unwrap();
                assert_eq!(vk.to_bytes().as_slice(), pk.as_slice());
            }
            _ => {
                use k256::pkcs8::DecodePublicKey as _;
                let k = k256::PublicKey::from_public_key_pem(&pem).unwrap();
                let sec1 = k256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&k, true);
                let x = &sec1.as_bytes()[1..];
                assert_eq!(x, &pk[pk.len() - 32..]);
            }
        }
        let out = w.mpc(1).args(["keys", "list", "--json"]).output().unwrap();
        let keys = json(&out)["keys"].as_array().unwrap().clone();
        assert!(keys.iter().any(|k| k["id"] == key.as_str()));
    }
}
