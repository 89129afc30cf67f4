//! The fuzz targets (`tests/fuzz/targets.rs`) on stable Rust, inside the test suite: each
//! runs its corpus (`testdata/fuzz/<target>/`, every crash ever found among it) and
//! then a bounded number of structure-aware mutations of valid inputs, from a fixed seed
//! so a failure reproduces. A panic fails the test; so does a hang (a watchdog) and any
//! single allocation larger than the cap (the allocator below refuses it, which aborts).
//!
//! `MPC_FUZZ_ITERS=N` (default 4000 per target) and `MPC_FUZZ_SEED=N` (default 1) change
//! the run; `cargo fuzz run <target>` in `fuzz/` runs the same targets for hours on
//! nightly (README "Development").

#[path = "fuzz/targets.rs"]
mod targets;

use mpc::envelope::{Envelope, Header, Protocol};
use mpc::identity::Identity;
use mpc::plan::{KeygenPlan, Plan, SignPlan, fresh_nonce, now};
use mpc::scheme::Scheme;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::time::Duration;

/// The largest single allocation any parser may make on hostile input. The biggest
/// legitimate one is a QR bundle (`qr::MAX_BUNDLE`, 64 MiB).
const ALLOCATION_CAP: usize = 80 << 20;

struct Capped;

unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > ALLOCATION_CAP {
            return std::ptr::null_mut(); // the process aborts: "memory allocation failed"
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > ALLOCATION_CAP {
            return std::ptr::null_mut();
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Capped = Capped;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Valid inputs of every target, the starting points of mutation.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let alice = Identity::generate("alice");
    let bob = Identity::generate("bob");
    let keygen = Plan::Keygen(KeygenPlan {
        version: 1,
        scheme: Scheme::EcdsaSecp256k1,
        threshold: 2,
        parties: vec![alice.card(), bob.card()],
        label: "fuzz".into(),
        expires_at: now() + 3600,
        nonce: fresh_nonce(),
        aux: Some(mpc::plan::AuxMode::Generate),
    });
    let eip712 = std::fs::read(root().join("testdata/eip712-mail.json")).unwrap();
    let envelope = |recipient: u16, seal: bool| {
        let header = Header {
            scheme: Scheme::EddsaEd25519.tag(),
            session: [7; 32],
            protocol: Protocol::Sign,
            round: 2,
            sender: 1,
            sender_key: alice.card().verifying_key().unwrap().to_bytes(),
            recipient,
        };
        let to = seal.then(|| bob.recipient());
        Envelope::create(&alice, header, b"a payload of some length", to.as_ref()).unwrap()
    };
    match target {
        "envelope" => {
            let public = envelope(0, false);
            let private = envelope(2, true);
            vec![
                public.as_bytes().to_vec(),
                private.as_bytes().to_vec(),
                public.armored().into_bytes(),
            ]
        }
        "plan" => {
            use base64::Engine as _;
            let sign = Plan::Sign(SignPlan {
                version: 1,
                scheme: Scheme::EcdsaSecp256k1,
                key_id: "k".into(),
                group_public_key: "02".repeat(33),
                threshold: 2,
                parties: vec![alice.card(), bob.card()],
                signers: vec![1, 2],
                message: base64::engine::general_purpose::STANDARD.encode(&eip712),
                label: "fuzz".into(),
                expires_at: now() + 3600,
                nonce: fresh_nonce(),
                hash: Some(mpc::plan::HashMode::Eip712),
                path: Some("m/0/1".into()),
                presign: None,
            });
            vec![keygen.to_json().into_bytes(), sign.to_json().into_bytes()]
        }
        "card" => vec![alice.card().to_json().into_bytes()],
        "qr_bundle" | "ur_parts" => {
            let items = vec![
                mpc::transport::qr::Item::Message(envelope(0, false)),
                mpc::transport::qr::Item::Card(alice.card(), alice.card().to_json().into_bytes()),
            ];
            let bundle = mpc::transport::qr::bundle(&items);
            if target == "qr_bundle" {
                return vec![bundle];
            }
            let mut stream =
                mpc::transport::qr::Stream::new(&bundle, mpc::transport::qr::Density::Low).unwrap();
            let parts: Vec<String> = (0..stream.fragments() + 1)
                .map(|_| stream.next_part().unwrap())
                .collect();
            vec![parts.join("\n").into_bytes()]
        }
        "wire_frames" => {
            use mpc::transport::wire::{Kind, write_frame, write_json};
            let mut frames = Vec::new();
            write_json(
                &mut frames,
                Kind::Challenge,
                &serde_json::json!({"v": 1, "relay": "00".repeat(8), "nonce": "11".repeat(32)}),
            )
            .unwrap();
            write_json(&mut frames, Kind::Fetch, &serde_json::json!({"after": 3})).unwrap();
            write_frame(&mut frames, Kind::Put, envelope(0, false).as_bytes()).unwrap();
            vec![frames]
        }
        "backup_header" => {
            let encrypted = age::encrypt(&bob.recipient(), b"not really a share").unwrap();
            let mut armored = Vec::new();
            let mut w = age::armor::ArmoredWriter::wrap_output(
                &mut armored,
                age::armor::Format::AsciiArmor,
            )
            .unwrap();
            std::io::Write::write_all(&mut w, &encrypted).unwrap();
            w.finish().unwrap();
            vec![encrypted, armored]
        }
        "eip712" => vec![eip712],
        "hd_path" => vec![b"m/0/1/2147483647".to_vec(), b"m".to_vec()],
        other => panic!("no seeds for {other}"),
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Values that tend to sit on boundaries: lengths, counts, signs, JSON syntax.
const INTERESTING: &[&[u8]] = &[
    b"\x00",
    b"\xff",
    b"\x7f",
    b"\x80",
    b"\xff\xff\xff\xff",
    b"\x00\x00\x00\x00",
    b"\x7f\xff\xff\xff",
    b"\x00\x01\x00\x00",
    b"\xff\xff",
    b"-1",
    b"18446744073709551616",
    b"1e999",
    b"\"\"",
    b"null",
    b"[",
    b"{",
    b"\\u0000",
    b"/",
    b"'",
    b"\n",
];

/// One structure-aware mutation: byte and range edits, boundary values, and for JSON
/// texts deep nesting and huge numbers.
fn mutate(rng: &mut ChaCha20Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    let n = |rng: &mut ChaCha20Rng, max: usize| (rng.next_u64() as usize) % max.max(1);
    for _ in 0..1 + n(rng, 4) {
        let len = v.len();
        match n(rng, 9) {
            0 if len > 0 => {
                let i = n(rng, len);
                v[i] ^= 1 << n(rng, 8);
            }
            1 if len > 0 => {
                let i = n(rng, len);
                v[i] = rng.next_u32() as u8;
            }
            2 if len > 0 => v.truncate(n(rng, len)),
            3 if len > 1 => {
                let a = n(rng, len);
                let b = (a + 1 + n(rng, 64)).min(len);
                v.drain(a..b);
            }
            4 if len > 0 => {
                let a = n(rng, len);
                let b = (a + 1 + n(rng, 64)).min(len);
                let chunk = v[a..b].to_vec();
                let at = n(rng, len);
                v.splice(at..at, chunk);
            }
            5 => {
                let value = INTERESTING[n(rng, INTERESTING.len())];
                let at = n(rng, len + 1);
                if len > 0 && rng.next_u32().is_multiple_of(2) {
                    let end = (at + value.len()).min(len);
                    v.splice(at..end, value.iter().copied());
                } else {
                    v.splice(at..at, value.iter().copied());
                }
            }
            6 => {
                let at = n(rng, len + 1);
                let extra: Vec<u8> = (0..1 + n(rng, 16)).map(|_| rng.next_u32() as u8).collect();
                v.splice(at..at, extra);
            }
            7 if v.first() == Some(&b'{') || v.first() == Some(&b'[') => {
                // Deep nesting, for recursive parsers.
                let depth = 1 + n(rng, 4096);
                let at = n(rng, len + 1);
                let nested: Vec<u8> = std::iter::repeat_n(b'[', depth)
                    .chain(std::iter::repeat_n(b']', depth))
                    .collect();
                v.splice(at..at, nested);
            }
            8 if len > 0 => {
                // A long run of one byte (huge numbers, long strings).
                let at = n(rng, len);
                let byte = v[at];
                v.splice(at..at, std::iter::repeat_n(byte, 1 + n(rng, 10_000)));
            }
            _ => {}
        }
    }
    v
}

/// Runs `target` on its corpus and on mutations, in a thread with a watchdog.
fn fuzz(name: &'static str) {
    let target = targets::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .expect("a target")
        .1;
    let iters = env_num("MPC_FUZZ_ITERS", 4000);
    let seed = env_num("MPC_FUZZ_SEED", 1);
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let corpus = root().join("testdata/fuzz").join(name);
        let mut inputs = seeds(name);
        if let Ok(rd) = std::fs::read_dir(&corpus) {
            let mut files: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
            files.sort();
            for f in files {
                let bytes = std::fs::read(&f).unwrap();
                target(&bytes); // a regression must stay fixed
                inputs.push(bytes);
            }
        }
        for s in &inputs {
            target(s);
        }
        let mut rng = ChaCha20Rng::seed_from_u64(seed ^ name.len() as u64);
        for i in 0..iters {
            let base = &inputs[(i as usize) % inputs.len()];
            let input = mutate(&mut rng, base);
            let outcome = std::panic::catch_unwind(|| target(&input));
            if outcome.is_err() {
                let path = std::env::temp_dir().join(format!("mpc-fuzz-{name}-{seed}-{i}.bin"));
                std::fs::write(&path, &input).unwrap();
                panic!(
                    "{name} panicked on mutation {i} of seed {seed}; input saved to {} (add it to testdata/fuzz/{name}/)",
                    path.display()
                );
            }
        }
        let _ = done.send(());
    });
    // A generous bound: a parser that loops on some input never finishes.
    match finished.recv_timeout(Duration::from_secs(300)) {
        Ok(()) => {}
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{name} did not finish in 300 s: a hang on some input")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            panic!("{name} panicked (see above)")
        }
    }
}

#[test]
fn fuzz_envelope() {
    fuzz("envelope");
}

#[test]
fn fuzz_plan() {
    fuzz("plan");
}

#[test]
fn fuzz_card() {
    fuzz("card");
}

#[test]
fn fuzz_qr_bundle() {
    fuzz("qr_bundle");
}

#[test]
fn fuzz_ur_parts() {
    fuzz("ur_parts");
}

#[test]
fn fuzz_wire_frames() {
    fuzz("wire_frames");
}

#[test]
fn fuzz_backup_header() {
    fuzz("backup_header");
}

#[test]
fn fuzz_eip712() {
    fuzz("eip712");
}

#[test]
fn fuzz_hd_path() {
    fuzz("hd_path");
}

/// The mutator does change its inputs, and reproducibly.
#[test]
fn mutations_are_seeded_and_change_the_input() {
    let input = b"{\"a\": [1, 2, 3]}".to_vec();
    let run = |seed| {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        (0..50)
            .map(|_| mutate(&mut rng, &input))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(7), run(7));
    assert!(run(7).iter().filter(|m| **m != input).count() > 40);
}
