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
        .args(["--json", "qr", "show", "--plan"])
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
    // What it says it wrote is what is there; every picture was read back first.
    let said = json(&out);
    let parts = said["parts"].as_u64().unwrap() as usize;
    assert_eq!(files_matching(&out_dir, ".png").len(), parts, "{said}");
    let text = std::fs::read_to_string(out_dir.join("parts.txt")).unwrap();
    assert_eq!(text.lines().count(), parts);
    assert!(said["unreadable_left_out"].is_u64(), "{said}");
    if extra.is_empty() {
        assert!(parts >= said["fragments"].as_u64().unwrap() as usize);
    }
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

/// A ceremony with no USB stick at all: cards and the plan travel as QR codes too.
/// Bob and carol scan alice's card and her plan (PNG frames); alice scans theirs; the
/// cards import with `contacts add`, and the scanned plan runs the keygen.
#[test]
fn cards_and_plans_over_qr_images() {
    let w = World::new(3);
    let show = |p: usize, files: &[&std::path::Path]| {
        let frames = w.path(&format!("frames-{}", rand_suffix()));
        let out = w
            .mpc(p)
            .args(["qr", "show"])
            .args(files)
            .arg("--png")
            .arg(&frames)
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        frames
    };
    let scan = |p: usize, frames: &std::path::Path| {
        let out = w
            .mpc(p)
            .args(["--json", "qr", "scan"])
            .arg(frames)
            .arg("--dir")
            .arg(&w.parties[p].dir)
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        json(&out)
    };
    // Cards: each party shows its own; the others scan it and import it.
    for from in 0..3 {
        let frames = show(from, &[&w.parties[from].card]);
        for to in (0..3).filter(|&to| to != from) {
            scan(to, &frames);
            let name = &w.parties[from].name;
            let scanned = w.parties[to].dir.join(format!("{name}.card"));
            assert_eq!(
                std::fs::read(&scanned).unwrap(),
                std::fs::read(&w.parties[from].card).unwrap()
            );
            let out = w
                .mpc(to)
                .args(["contacts", "add", "--yes"])
                .arg(&scanned)
                .output()
                .unwrap();
            assert_eq!(code(&out), 0, "{}", stderr(&out));
        }
    }
    // Alice writes the plan from her contacts and shows it; bob and carol scan it.
    let plan = w.path("qr.plan.json");
    let parties = ["me", "bob", "carol"].map(std::ffi::OsStr::new);
    let out = w
        .keygen_plan_cmd(0, &parties, &["--out"])
        .arg(&plan)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let frames = show(0, &[&plan]);
    let parts = w.path("plan-parts.txt");
    let out = w
        .mpc(0)
        .args(["qr", "show"])
        .arg(&plan)
        .arg("--text")
        .arg(&parts)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = w.mpc(1).arg("inspect").arg(&parts).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("FINGERPRINT"));
    for to in [1, 2] {
        let j = scan(to, &frames);
        let scanned = std::path::PathBuf::from(j["messages"][0]["file"].as_str().unwrap());
        assert!(scanned.starts_with(&w.parties[to].dir));
        let out = w.step(to, "keygen", &scanned);
        assert_eq!(code(&out), 4, "{}", stderr(&out));
    }
    // A stream of a different card under the same name is not written over the first.
    let other = World::new(1);
    let frames = show(0, &[&w.parties[0].card]);
    scan(1, &frames);
    let out = other
        .mpc(0)
        .args(["qr", "show"])
        .arg(&other.parties[0].card)
        .arg("--png")
        .arg(w.path("other-alice"))
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = w
        .mpc(1)
        .args(["qr", "scan"])
        .arg(w.path("other-alice"))
        .arg("--dir")
        .arg(&w.parties[1].dir)
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("not overwritten"), "{}", stderr(&out));
    // The rest of the ceremony over QR images, every party using its own copy of the plan.
    let results = w.run_all_via("keygen", &plan, &[0, 1, 2], Via::Qr);
    assert_same_key(&results);
}
