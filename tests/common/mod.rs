//! Test harness: every party is a separate `mpc` process with its own home directory and
//! its own message directory. The harness moves only files between the directories, the
//! way a USB stick would.
#![allow(dead_code)]

pub mod nats;
pub mod openapi;

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

pub const PASS: &str = "correct horse battery staple";

pub struct Party {
    pub name: String,
    pub home: PathBuf,
    pub dir: PathBuf,
    pub card: PathBuf,
}

pub struct World {
    pub tmp: tempfile::TempDir,
    pub parties: Vec<Party>,
}

pub fn mpc(home: &Path) -> Command {
    let mut c = Command::cargo_bin("mpc").unwrap();
    c.env("MPC_HOME", home)
        .env("MPC_PASSPHRASE", PASS)
        .env_remove("MPC_PASSPHRASE_FILE")
        .arg("--no-input");
    c
}

pub fn json(out: &Output) -> Value {
    let s = String::from_utf8_lossy(&out.stdout);
    let line = s.lines().last().unwrap_or_else(|| {
        panic!(
            "no stdout; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// How a test moves messages between the parties.
#[derive(Clone, Copy)]
pub enum Via<'a> {
    /// Copying message files between their directories.
    Files,
    /// `mpc qr show --png`, then `mpc qr scan`; no file copied.
    Qr,
    /// `mpc qr show --text` (`ur:` parts), then `mpc qr scan`; no file copied.
    QrText,
    /// Through the relay at this address; nothing copied.
    Relay(&'a str),
}

/// Every party's keygen result names the same key.
pub fn assert_same_key(results: &[Value]) {
    for r in results {
        assert_eq!(r["key_id"], results[0]["key_id"]);
        assert_eq!(r["public_key"], results[0]["public_key"]);
    }
}

/// Alice and carol sign with the key of `keygen` (every party's keygen result), moving
/// messages `via`; the signatures agree and verify with another implementation.
pub fn frost_sign_and_check(w: &World, scheme: &str, keygen: &[Value], via: Via) {
    assert_same_key(keygen);
    let key = keygen[0]["key_id"].as_str().unwrap();
    let pk = hex::decode(keygen[0]["public_key"].as_str().unwrap()).unwrap();
    let msg = format!("signed with {scheme}").into_bytes();
    let plan = w.sign_plan(0, key, "alice,carol", &msg);
    let sigs = w.run_all_via("sign", &plan, &[0, 2], via);
    assert_eq!(sigs[0]["signature"], sigs[1]["signature"]);
    let sig = hex::decode(sigs[0]["signature"].as_str().unwrap()).unwrap();
    assert!(verify_independently(scheme, &pk, &msg, &sig), "{scheme}");
}

pub const NAMES: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

impl World {
    pub fn new(n: usize) -> World {
        let tmp = tempfile::tempdir().unwrap();
        let mut parties = Vec::new();
        for name in &NAMES[..n] {
            let home = tmp.path().join(format!("home-{name}"));
            let dir = tmp.path().join(format!("usb-{name}"));
            std::fs::create_dir_all(&dir).unwrap();
            let card = tmp.path().join(format!("{name}.card"));
            let out = mpc(&home)
                .args(["init", "--name", name, "--kdf-log-n", "10"])
                .output()
                .unwrap();
            assert_eq!(code(&out), 0, "init {name}: {}", stderr(&out));
            let out = mpc(&home)
                .args(["id", "--out"])
                .arg(&card)
                .output()
                .unwrap();
            assert_eq!(code(&out), 0, "id {name}: {}", stderr(&out));
            parties.push(Party {
                name: name.to_string(),
                home,
                dir,
                card,
            });
        }
        World { tmp, parties }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// Party `p` (0-based) runs a command with its home.
    pub fn mpc(&self, p: usize) -> Command {
        mpc(&self.parties[p].home)
    }

    /// Party `p` imports the pregenerated Paillier primes `testdata/primes/primes-K.json`.
    pub fn import_primes(&self, p: usize, k: usize) {
        let file =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("testdata/primes/primes-{k}.json"));
        let out = self
            .mpc(p)
            .args(["primes", "import"])
            .arg(file)
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "primes import: {}", stderr(&out));
    }

    /// The first of `among` (0-based) writes a keygen plan for a `t`-of-n key among
    /// `among` only.
    pub fn keygen_plan_among(&self, scheme: &str, t: u16, among: &[usize]) -> PathBuf {
        let plan = self.path(&format!("keygen-{scheme}-{t}-{}.plan.json", rand_suffix()));
        let mut cmd = self.mpc(among[0]);
        cmd.args(["keygen", "plan", "--scheme", scheme, "-t", &t.to_string()])
            .args(["--label", "treasury", "--out"])
            .arg(&plan);
        for &p in among {
            cmd.arg("--party").arg(&self.parties[p].card);
        }
        let out = cmd.output().unwrap();
        assert_eq!(code(&out), 0, "plan: {}", stderr(&out));
        plan
    }

    /// Party 0 writes a keygen plan listing every party.
    pub fn keygen_plan(&self, scheme: &str, t: u16) -> PathBuf {
        let plan = self.path(&format!("keygen-{scheme}-{t}-{}.plan.json", rand_suffix()));
        let mut cmd = self.mpc(0);
        cmd.args([
            "keygen",
            "plan",
            "--scheme",
            scheme,
            "-t",
            &t.to_string(),
            "--label",
            "test key",
            "--out",
        ])
        .arg(&plan);
        for p in &self.parties {
            cmd.arg("--party").arg(&p.card);
        }
        let out = cmd.output().unwrap();
        assert_eq!(code(&out), 0, "plan: {}", stderr(&out));
        plan
    }

    /// `mpc sign plan` by party `by` over `message` (written to a file first), with
    /// `extra` arguments; returned unrun, so a test can also expect it to fail.
    pub fn sign_plan_cmd(
        &self,
        by: usize,
        key: &str,
        signers: &str,
        message: &[u8],
        extra: &[&str],
    ) -> Command {
        let msg = self.path(&format!("msg-{}", rand_suffix()));
        std::fs::write(&msg, message).unwrap();
        let mut cmd = self.mpc(by);
        cmd.args([
            "sign",
            "plan",
            "--key",
            key,
            "--signers",
            signers,
            "--message",
        ])
        .arg(&msg)
        .args(extra);
        cmd
    }

    /// Party `by` writes a signing plan (with `extra` arguments) and returns its path.
    pub fn sign_plan_with(
        &self,
        by: usize,
        key: &str,
        signers: &str,
        message: &[u8],
        extra: &[&str],
    ) -> PathBuf {
        let plan = self.path(&format!("sign-{}.plan.json", rand_suffix()));
        let out = self
            .sign_plan_cmd(by, key, signers, message, extra)
            .arg("--out")
            .arg(&plan)
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "sign plan: {}", stderr(&out));
        plan
    }

    /// `mpc reshare plan` arguments: `key` dealt by the holders `from` (names,
    /// comma-separated) to the parties `to` (0-based, in the new key's order; those in
    /// `old`, the key's holders, by name, the others by card), with threshold `t` if
    /// given.
    pub fn reshare_args(
        &self,
        key: &str,
        from: &str,
        t: Option<u16>,
        to: &[usize],
        old: &[usize],
    ) -> Vec<String> {
        let mut v: Vec<String> = vec!["--key".into(), key.into(), "--from".into(), from.into()];
        if let Some(t) = t {
            v.extend(["-t".into(), t.to_string()]);
        }
        for &p in to {
            let party = match old.contains(&p) {
                true => self.parties[p].name.clone(),
                false => self.parties[p].card.to_str().unwrap().to_string(),
            };
            v.extend(["--party".into(), party]);
        }
        v
    }

    /// Party `by` writes a plan with `mpc KIND plan ARGS --out FILE`; returns FILE.
    pub fn write_plan(&self, by: usize, kind: &str, args: &[&str]) -> PathBuf {
        let file = self.path(&format!("{kind}-{}.plan.json", rand_suffix()));
        let out = self
            .mpc(by)
            .args([kind, "plan"])
            .args(args)
            .arg("--out")
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{kind} plan: {}", stderr(&out));
        file
    }

    /// Party `by` writes a signing plan.
    pub fn sign_plan(&self, by: usize, key: &str, signers: &str, message: &[u8]) -> PathBuf {
        self.sign_plan_with(by, key, signers, message, &[])
    }

    /// One step of party `p` in `mpc <kind> run PLAN --step`.
    pub fn step(&self, p: usize, kind: &str, plan: &Path) -> Output {
        step_in(&self.parties[p].home, &self.parties[p].dir, kind, plan)
    }

    /// `mpc keygen plan` by party `by` for an eddsa-ed25519 2-of-n key over `parties`
    /// (card paths, contact names or `me`), plus `extra` arguments.
    pub fn keygen_plan_cmd(
        &self,
        by: usize,
        parties: &[&std::ffi::OsStr],
        extra: &[&str],
    ) -> Command {
        let mut cmd = self.mpc(by);
        cmd.args([
            "keygen",
            "plan",
            "--scheme",
            "eddsa-ed25519",
            "-t",
            "2",
            "--label",
            "test",
        ]);
        for p in parties {
            cmd.arg("--party").arg(p);
        }
        cmd.args(extra);
        cmd
    }

    /// Copies every message file from each party's directory to every other's.
    pub fn sync(&self, who: &[usize]) {
        for &from in who {
            for entry in std::fs::read_dir(&self.parties[from].dir).unwrap() {
                let entry = entry.unwrap();
                let name = entry.file_name();
                if !name.to_string_lossy().ends_with(".mpcmsg") {
                    continue;
                }
                for &to in who {
                    if to != from {
                        let dest = self.parties[to].dir.join(&name);
                        if !dest.exists() {
                            std::fs::copy(entry.path(), dest).unwrap();
                        }
                    }
                }
            }
        }
    }

    /// Moves every party's latest round to the others as QR codes only: `mpc qr show
    /// --png` into a folder of frames (or `--text` into a file of `ur:` parts), then
    /// `mpc qr scan` of that by each other party. No message file is copied.
    pub fn qr_sync(&self, plan: &Path, who: &[usize], form: &str) {
        for &from in who {
            let frames = self.path(&format!("frames-{}", rand_suffix()));
            let out = self
                .mpc(from)
                .args(["qr", "show", "--plan"])
                .arg(plan)
                .arg("--dir")
                .arg(&self.parties[from].dir)
                .arg(form)
                .arg(&frames)
                .output()
                .unwrap();
            if stderr(&out).contains("has no messages of yours") {
                continue;
            }
            assert_eq!(code(&out), 0, "qr show: {}", stderr(&out));
            for &to in who {
                if to != from {
                    let out = self
                        .mpc(to)
                        .args(["qr", "scan"])
                        .arg(&frames)
                        .arg("--dir")
                        .arg(&self.parties[to].dir)
                        .output()
                        .unwrap();
                    assert_eq!(code(&out), 0, "qr scan: {}", stderr(&out));
                }
            }
        }
    }

    /// Steps the parties in `who` round-robin, syncing files between steps, until each
    /// exits 0. Returns each party's final JSON.
    pub fn run_all(&self, kind: &str, plan: &Path, who: &[usize]) -> Vec<Value> {
        self.run_all_via(kind, plan, who, Via::Files)
    }

    /// As [`World::run_all`], moving messages as `via` says.
    pub fn run_all_via(&self, kind: &str, plan: &Path, who: &[usize], via: Via) -> Vec<Value> {
        self.run_all_logged(kind, plan, who, via).0
    }

    /// As [`World::run_all_via`], also returning everything the steps wrote on stderr.
    pub fn run_all_logged(
        &self,
        kind: &str,
        plan: &Path,
        who: &[usize],
        via: Via,
    ) -> (Vec<Value>, String) {
        let mut done: Vec<Option<Value>> = vec![None; who.len()];
        let mut log = String::new();
        for _ in 0..12 {
            for (i, &p) in who.iter().enumerate() {
                if done[i].is_some() {
                    continue;
                }
                let out = match via {
                    Via::Relay(addr) => self.relay_step(p, kind, plan, addr),
                    Via::Files | Via::Qr | Via::QrText => self.step(p, kind, plan),
                };
                log.push_str(&stderr(&out));
                match code(&out) {
                    0 => done[i] = Some(json(&out)),
                    4 => {}
                    c => panic!(
                        "{} {kind} step exited {c}: {}",
                        self.parties[p].name,
                        stderr(&out)
                    ),
                }
            }
            match via {
                Via::Files => self.sync(who),
                Via::Qr => self.qr_sync(plan, who, "--png"),
                Via::QrText => self.qr_sync(plan, who, "--text"),
                Via::Relay(_) => {}
            }
            if done.iter().all(Option::is_some) {
                return (done.into_iter().flatten().collect(), log);
            }
        }
        panic!("ceremony did not finish: {log}");
    }

    /// Runs a keygen among all parties; asserts agreement; returns (key id, public key).
    pub fn keygen(&self, scheme: &str, t: u16) -> (String, String) {
        let plan = self.keygen_plan(scheme, t);
        let all: Vec<usize> = (0..self.parties.len()).collect();
        let results = self.run_all("keygen", &plan, &all);
        for r in &results {
            assert_eq!(r["key_id"], results[0]["key_id"]);
            assert_eq!(r["public_key"], results[0]["public_key"]);
            assert_eq!(r["transcript"], results[0]["transcript"]);
        }
        (
            results[0]["key_id"].as_str().unwrap().to_string(),
            results[0]["public_key"].as_str().unwrap().to_string(),
        )
    }

    /// Signs `message` with the 0-based `signers`; asserts agreement; returns the signature.
    pub fn sign(&self, key: &str, signers: &[usize], message: &[u8]) -> Vec<u8> {
        let list: Vec<String> = signers
            .iter()
            .map(|s| self.parties[*s].name.clone())
            .collect();
        let plan = self.sign_plan(signers[0], key, &list.join(","), message);
        let results = self.run_all("sign", &plan, signers);
        for r in &results {
            assert_eq!(r["signature"], results[0]["signature"]);
            assert_eq!(r["transcript"], results[0]["transcript"]);
        }
        hex::decode(results[0]["signature"].as_str().unwrap()).unwrap()
    }
}

impl World {
    /// A new home `name` for party `p` holding only its identity, as on a new laptop
    /// set up from a copy of identity.age and card.json.
    pub fn new_laptop(&self, p: usize, name: &str) -> PathBuf {
        let home = self.path(name);
        std::fs::create_dir_all(&home).unwrap();
        for f in ["identity.age", "card.json"] {
            std::fs::copy(self.parties[p].home.join(f), home.join(f)).unwrap();
        }
        home
    }

    /// Starts `mpc ARGS` for every party in `who` at once, each with its own home, waits
    /// for all of them and requires that each succeeded.
    pub fn together(&self, who: &[usize], args: &[&std::ffi::OsStr]) -> Vec<Output> {
        let children: Vec<_> = who
            .iter()
            .map(|&p| {
                std::process::Command::new(assert_cmd::cargo::cargo_bin("mpc"))
                    .env("MPC_HOME", &self.parties[p].home)
                    .env("MPC_PASSPHRASE", PASS)
                    .arg("--no-input")
                    .args(args)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outs: Vec<Output> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        for o in &outs {
            assert_eq!(code(o), 0, "{}", stderr(o));
        }
        outs
    }

    /// Party `p`'s step fails with exit `want`, naming `file` and saying `reason`.
    pub fn rejects(&self, p: usize, kind: &str, plan: &Path, file: &Path, want: i32, reason: &str) {
        let out = self.step(p, kind, plan);
        let err = stderr(&out);
        assert_eq!(code(&out), want, "{err}");
        assert!(
            err.contains(&file.display().to_string()),
            "error does not name {}: {err}",
            file.display()
        );
        assert!(err.contains(reason), "error does not say `{reason}`: {err}");
        if want == 2 {
            assert!(err.contains("hint: remove or replace this file"), "{err}");
        }
    }
}

impl World {
    /// Alice from `alice_old` (a copy of her home taken before a refresh, with its own
    /// message directory) and bob (party 1, as he is now) take `rounds` turns at signing
    /// `plan`, files copied between them after each turn. Returns each turn's exit
    /// codes and stderr: (alice's, bob's).
    pub fn sign_with_old_alice(
        &self,
        alice_old: &Path,
        plan: &Path,
        rounds: usize,
    ) -> Vec<(i32, i32, String, String)> {
        let old_dir = self.path(&format!("usb-alice-old-{}", rand_suffix()));
        std::fs::create_dir_all(&old_dir).unwrap();
        let bob_dir = &self.parties[1].dir;
        let mut turns = Vec::new();
        for _ in 0..rounds {
            let a = step_in(alice_old, &old_dir, "sign", plan);
            let b = self.step(1, "sign", plan);
            turns.push((code(&a), code(&b), stderr(&a), stderr(&b)));
            for (from, to) in [(&old_dir, bob_dir), (bob_dir, &old_dir)] {
                for f in files_matching(from, ".mpcmsg") {
                    let dest = to.join(f.file_name().unwrap());
                    if !dest.exists() {
                        std::fs::copy(&f, dest).unwrap();
                    }
                }
            }
        }
        turns
    }
}

/// Copies a directory tree (a party's home, to make a twin of it).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// One `--step` run of a ceremony by the party whose home and message directory are given.
pub fn step_in(home: &Path, dir: &Path, kind: &str, plan: &Path) -> Output {
    step_cmd(home, dir, kind, plan).output().unwrap()
}

/// The command of [`step_in`], to add to before it runs.
pub fn step_cmd(home: &Path, dir: &Path, kind: &str, plan: &Path) -> Command {
    let mut c = mpc(home);
    c.args([kind, "run"])
        .arg(plan)
        .arg("--dir")
        .arg(dir)
        .args(["--step", "--yes", "--json"]);
    c
}

pub fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Independent verification: ed25519-dalek, k256 BIP340; frost-secp256k1 for RFC 9591;
/// k256 ECDSA over the message's SHA-256 (a compact `r || s` signature).
pub fn verify_independently(scheme: &str, public_key: &[u8], message: &[u8], sig: &[u8]) -> bool {
    match scheme {
        "eddsa-ed25519" => {
            let vk =
                ed25519_dalek::VerifyingKey::from_bytes(public_key.try_into().unwrap()).unwrap();
            let sig = ed25519_dalek::Signature::from_slice(sig).unwrap();
            vk.verify_strict(message, &sig).is_ok()
        }
        "schnorr-secp256k1-tr" => {
            let vk = k256::schnorr::VerifyingKey::from_bytes(public_key).unwrap();
            let sig = k256::schnorr::Signature::try_from(sig).unwrap();
            vk.verify_raw(message, &sig).is_ok()
        }
        "schnorr-secp256k1" => {
            let vk = frost_secp256k1::VerifyingKey::deserialize(public_key).unwrap();
            let sig = frost_secp256k1::Signature::deserialize(sig).unwrap();
            vk.verify(message, &sig).is_ok()
        }
        "ecdsa-secp256k1" => {
            use k256::ecdsa::signature::hazmat::PrehashVerifier;
            use sha2::Digest;
            let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(public_key).unwrap();
            let sig = k256::ecdsa::Signature::from_slice(sig).unwrap();
            vk.verify_prehash(&sha2::Sha256::digest(message), &sig)
                .is_ok()
        }
        other => panic!("unknown scheme {other}"),
    }
}

/// The files in a directory whose names contain `pat`.
pub fn files_matching(dir: &Path, pat: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains(pat))
        .collect();
    v.sort();
    v
}

/// An `mpc relay` process on 127.0.0.1, killed when dropped. Its JSON event log is read
/// by a thread and handed over line by line.
pub struct RelayProc {
    pub child: std::process::Child,
    pub addr: String,
    pub events: std::sync::mpsc::Receiver<Value>,
}

impl RelayProc {
    /// Starts a relay on `listen` (`127.0.0.1:0` for a free port) with `extra` options
    /// and waits until it listens.
    pub fn start(listen: &str, extra: &[&str]) -> RelayProc {
        use std::io::BufRead;
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("mpc"))
            .args(["--json", "relay", "--listen", listen])
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let Ok(v) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let first = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("the relay did not start");
        assert_eq!(first["event"], "listening", "{first}");
        let addr = first["detail"].as_str().unwrap().to_string();
        RelayProc {
            child,
            addr,
            events: rx,
        }
    }

    /// Waits for `n` events of kind `event`; returns them.
    pub fn wait_for(&self, event: &str, n: usize) -> Vec<Value> {
        let mut got = Vec::new();
        while got.len() < n {
            let e = self
                .events
                .recv_timeout(std::time::Duration::from_secs(60))
                .unwrap_or_else(|_| {
                    panic!("the relay logged {} of {n} `{event}` events", got.len())
                });
            if e["event"] == event {
                got.push(e);
            }
        }
        got
    }

    /// Every event logged so far (waiting up to a second for stragglers).
    pub fn drain(&self) -> Vec<Value> {
        let mut got = Vec::new();
        while let Ok(e) = self.events.recv_timeout(std::time::Duration::from_secs(1)) {
            got.push(e);
        }
        got
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for RelayProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl World {
    /// One `--step` run of party `p` through the relay at `addr` (no message directory).
    pub fn relay_step(&self, p: usize, kind: &str, plan: &Path, addr: &str) -> Output {
        self.mpc(p)
            .args([kind, "run"])
            .arg(plan)
            .args(["--relay", addr, "--step", "--yes", "--json"])
            .output()
            .unwrap()
    }

    /// Starts `mpc <kind> run PLAN --relay ADDR` as a waiting process for each party in
    /// `who`, without waiting for them.
    pub fn spawn_relay_run(
        &self,
        who: &[usize],
        kind: &str,
        plan: &Path,
        addr: &str,
    ) -> Vec<std::process::Child> {
        self.spawn_signed_in(who, kind, plan, addr, &[])
    }

    /// As [`World::spawn_relay_run`], party `p` signing in to NATS with `creds[p]`
    /// (`MPC_NATS_CREDS`) where given.
    pub fn spawn_signed_in(
        &self,
        who: &[usize],
        kind: &str,
        plan: &Path,
        addr: &str,
        creds: &[PathBuf],
    ) -> Vec<std::process::Child> {
        who.iter()
            .map(|&p| {
                let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("mpc"));
                if let Some(c) = creds.get(p) {
                    cmd.env("MPC_NATS_CREDS", c);
                }
                cmd.env("MPC_HOME", &self.parties[p].home)
                    .env("MPC_PASSPHRASE", PASS)
                    .args(["--no-input", "--json", kind, "run"])
                    .arg(plan)
                    .args(["--relay", addr, "--yes", "--timeout", "120s"])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect()
    }
}

/// Waits for processes started by [`World::spawn_relay_run`]; each must succeed.
pub fn finish_all(children: Vec<std::process::Child>) -> Vec<Value> {
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert_eq!(code(&out), 0, "{}", stderr(&out));
            json(&out)
        })
        .collect()
}

impl World {
    /// Party `liar` takes its first step twice, from its home and from a copy of it made
    /// just before: two different round-1 broadcasts under one slot, both signed by it.
    /// Its real message goes to the parties in `face_a`, the copy's to those in `face_b`.
    pub fn split_view(
        &self,
        kind: &str,
        plan: &Path,
        liar: usize,
        face_a: &[usize],
        face_b: &[usize],
    ) {
        let twin_home = self.path(&format!("twin-{}", rand_suffix()));
        let twin_dir = self.path(&format!("twin-usb-{}", rand_suffix()));
        std::fs::create_dir_all(&twin_dir).unwrap();
        copy_dir(&self.parties[liar].home, &twin_home);
        assert_eq!(code(&self.step(liar, kind, plan)), 4);
        assert_eq!(code(&step_in(&twin_home, &twin_dir, kind, plan)), 4);
        let session = mpc::plan::Plan::from_json(&std::fs::read(plan).unwrap())
            .unwrap()
            .session_id();
        let first = format!("{}-{kind}-r1-", hex::encode(&session[..8]));
        let a = files_matching(&self.parties[liar].dir, &first);
        let b = files_matching(&twin_dir, &first);
        assert_eq!((a.len(), b.len()), (1, 1), "one round-1 broadcast each");
        let name = a[0].file_name().unwrap();
        assert_eq!(name, b[0].file_name().unwrap());
        assert_ne!(
            std::fs::read(&a[0]).unwrap(),
            std::fs::read(&b[0]).unwrap(),
            "the two faces must differ"
        );
        for (group, file) in [(face_a, &a[0]), (face_b, &b[0])] {
            for &p in group {
                std::fs::copy(file, self.parties[p].dir.join(name)).unwrap();
            }
        }
    }
}

impl World {
    /// Starts `mpc --json KIND run PLAN --dir DIR --yes EXTRA` as party `p` (its home and
    /// message directory) without waiting for it.
    pub fn spawn_run(
        &self,
        p: usize,
        kind: &str,
        plan: &Path,
        extra: &[&str],
    ) -> std::process::Child {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("mpc"))
            .env("MPC_HOME", &self.parties[p].home)
            .env("MPC_PASSPHRASE", PASS)
            .args(["--no-input", "--json", kind, "run"])
            .arg(plan)
            .arg("--dir")
            .arg(&self.parties[p].dir)
            .arg("--yes")
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }
}
