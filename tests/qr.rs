//! Ceremonies whose messages move only as QR codes: each party's latest round is drawn
//! as PNG frames by `mpc qr show` and read back by the others with `mpc qr scan`. (ECDSA
//! signing over QR is in tests/ecdsa.rs, which has a key.)

mod common;
use common::*;

#[test]
fn frost_keygen_and_signing_over_qr_images() {
    for scheme in ["eddsa-ed25519", "schnorr-secp256k1-tr", "schnorr-secp256k1"] {
        let w = World::new(3);
        let plan = w.keygen_plan(scheme, 2);
        let results = w.run_all_via("keygen", &plan, &[0, 1, 2], Via::Qr);
        frost_sign_and_check(&w, scheme, &results, Via::Qr);
    }
}

/// Alice's round-1 stream, written as PNG frames and as text.
fn alice_stream(w: &World, plan: &std::path::Path, extra: &[&str]) -> std::path::PathBuf {
    let out_dir = w.path(&format!("stream-{}", rand_suffix()));
    let out = w
        .mpc(0)
        .args(["qr", "show", "--plan"])
        .arg(plan)
        .arg("--dir")
        .arg(&w.parties[0].dir)
        .args(extra)
        .arg("--png")
        .arg(&out_dir)
        .arg("--text")
        .arg(out_dir.join("parts.txt"))
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    out_dir
}

#[test]
fn lost_frames_mixed_streams_and_damaged_images() {
    let w = World::new(3);
    let plan = w.keygen_plan("eddsa-ed25519", 2);
    for p in 0..3 {
        assert_eq!(code(&w.step(p, "keygen", &plan)), 4);
    }
    let scan = |inputs: &[&std::path::Path]| {
        let mut c = w.mpc(1);
        c.args(["--json", "qr", "scan"]);
        for i in inputs {
            c.arg(i);
        }
        c.arg("--dir").arg(&w.parties[1].dir).output().unwrap()
    };
    // Low density and many parts: a receiver that misses every third frame completes.
    let frames = alice_stream(&w, &plan, &["--density", "low", "--parts", "60"]);
    let pngs = files_matching(&frames, ".png");
    assert_eq!(pngs.len(), 60);
    let some = w.path("some-frames");
    std::fs::create_dir_all(&some).unwrap();
    for (i, f) in pngs.iter().enumerate() {
        if i % 3 != 1 {
            std::fs::copy(f, some.join(f.file_name().unwrap())).unwrap();
        }
    }
    let out = scan(&[&some]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let written = json(&out)["messages"].as_array().unwrap().len();
    assert!(written >= 1);
    // Too few frames (the stream has two fragments at low density): a clear error
    // saying how many are needed.
    let one = w.path("one-frame");
    std::fs::create_dir_all(&one).unwrap();
    std::fs::copy(&pngs[0], one.join("frame.png")).unwrap();
    let out = scan(&[&one]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("the stream is incomplete: 1 part(s) read, at least 2 needed"),
        "{}",
        stderr(&out)
    );
    // Frames of two streams (alice's and carol's) in one scan are refused.
    let carol = w.path("carol-frames");
    let out = w
        .mpc(2)
        .args(["qr", "show", "--plan"])
        .arg(&plan)
        .arg("--dir")
        .arg(&w.parties[2].dir)
        .args(["--density", "low", "--png"])
        .arg(&carol)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let carol_first = files_matching(&carol, ".png")[0].clone();
    let out = scan(&[pngs[0].as_path(), carol_first.as_path()]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains(&carol_first.display().to_string()), "{err}");
    assert!(err.contains("belongs to another stream"), "{err}");
    // A damaged image named on the command line is an error naming it.
    let bad = w.path("bad.png");
    let bytes = std::fs::read(&pngs[0]).unwrap();
    std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
    let out = scan(&[bad.as_path()]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains(&bad.display().to_string()),
        "{}",
        stderr(&out)
    );
    // Pasted ur: text works as well as images; inspect reads both.
    let text = frames.join("parts.txt");
    let out = scan(&[text.as_path()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    for input in [&text, &pngs[0]] {
        let out = w
            .mpc(1)
            .args(["--json", "inspect"])
            .arg(input)
            .output()
            .unwrap();
        if input == &text {
            assert_eq!(code(&out), 0, "{}", stderr(&out));
            let v = json(&out);
            assert_eq!(v["type"], "stream");
            assert_eq!(v["messages"][0]["sender"], 1);
            assert_eq!(v["messages"][0]["signature_valid"], true);
        } else {
            // One frame of a many-frame stream is not enough to inspect.
            assert_eq!(code(&out), 2, "{}", stderr(&out));
        }
    }
}
