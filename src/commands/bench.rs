//! `mpc bench ecdsa`: what threshold ECDSA costs on this machine.
//!
//! In-process: every party's cggmp21 state machine driven directly in this process (the
//! library alone, no envelopes, no replay), one after another on one core. End to end
//! (`--e2e`), this binary with each party in its own temporary home, exchanging files:
//!
//! - one waiting process per party, all started together, as a ceremony on one machine
//!   or a lab cluster runs: the CPU time of all of them (user + system, from
//!   `getrusage`), comparable to the in-process total, and the wall time;
//! - step mode (`--step`), one process per party per step, as an air-gapped ceremony
//!   runs: the sum of the wall times of all steps, run one after another.
//!
//! Primes come from `--primes-dir` (files `primes-K.json`, as in testdata/primes) or are
//! generated first, which is then measured too.

use super::Ctx;
use crate::engine::cggmp::{self, Primes, simulate};
use crate::error::{Failure, Result};
use clap::Args;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// `mpc bench`
#[cfg(feature = "bench")]
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    /// Another benchmark than threshold ECDSA
    #[command(subcommand)]
    pub command: Option<BenchCommand>,
    /// Number of parties
    #[arg(short = 'n', long, default_value_t = 3)]
    pub parties: u16,
    /// Signers required
    #[arg(short = 't', long, default_value_t = 2)]
    pub threshold: u16,
    /// Use pregenerated primes `primes-K.json` from DIR (e.g. testdata/primes) instead of
    /// generating them (which is then measured)
    #[arg(long, value_name = "DIR")]
    pub primes_dir: Option<PathBuf>,
    /// Also run every ceremony through mpc processes over files
    #[arg(long)]
    pub e2e: bool,
}

/// `mpc bench serve`
#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Load a 3-node `mpc serve` cluster on loopback and compare it with the library
    /// (built with `--features load`)
    #[cfg(feature = "load")]
    Serve(super::bench_serve::BenchServeArgs),
    /// A 2-of-3 → 3-of-5 reshare (and FROST keygen and refresh), in process and end to
    /// end
    Reshare(BenchReshareArgs),
}

/// `mpc bench reshare`
#[derive(Debug, Args)]
pub struct BenchReshareArgs {
    /// The scheme
    #[arg(long, value_enum, default_value = "eddsa-ed25519")]
    pub scheme: crate::scheme::Scheme,
    /// In-process runs of each operation (the median is shown)
    #[arg(long, default_value_t = 9)]
    pub runs: usize,
    /// ecdsa-secp256k1: pregenerated primes `primes-K.json` (five sets) from DIR, e.g.
    /// testdata/primes
    #[arg(long, value_name = "DIR")]
    pub primes_dir: Option<PathBuf>,
}

struct Row {
    what: String,
    in_process: Option<Duration>,
    e2e: Option<EndToEnd>,
}

/// One operation end to end.
#[derive(Clone, Copy, Default)]
struct EndToEnd {
    /// One waiting process per party: CPU time of all of them.
    cpu: Duration,
    /// One waiting process per party: wall time until the last finished.
    wall: Duration,
    /// Step mode: summed wall time of every step.
    steps: Duration,
}

impl std::ops::Sub for EndToEnd {
    type Output = EndToEnd;
    fn sub(self, o: EndToEnd) -> EndToEnd {
        EndToEnd {
            cpu: self.cpu.saturating_sub(o.cpu),
            wall: self.wall.saturating_sub(o.wall),
            steps: self.steps.saturating_sub(o.steps),
        }
    }
}

/// CPU time (user + system) of every child process waited for so far.
fn children_cpu() -> Duration {
    // SAFETY: getrusage only writes into the zeroed struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn timed<T>(f: impl FnOnce() -> Result<T>) -> Result<(T, Duration)> {
    let start = Instant::now();
    let v = f()?;
    Ok((v, start.elapsed()))
}

fn engine(e: crate::engine::EngineError) -> Failure {
    Failure::internal("benchmark protocol run failed").cause(e)
}

/// Runs `mpc bench ecdsa`.
pub fn run(ctx: &Ctx, args: BenchArgs) -> Result<()> {
    match args.command {
        #[cfg(feature = "load")]
        Some(BenchCommand::Serve(a)) => return super::bench_serve::run(ctx, a),
        Some(BenchCommand::Reshare(a)) => return reshare(ctx, a),
        None => {}
    }
    let (n, t) = (args.parties, args.threshold);
    if t < 2 || t > n {
        return Err(Failure::input(format!(
            "threshold must be between 2 and {n}"
        )));
    }
    let p = &ctx.printer;
    let mut rows = Vec::new();
    p.status(format!("benchmarking ecdsa-secp256k1 {t}-of-{n}"));
    let primes: Vec<Primes> = match &args.primes_dir {
        Some(dir) => read_primes(dir, n)?,
        None => {
            let mut out = Vec::new();
            let mut times = Vec::new();
            for i in 0..n {
                let spinner = p.spinner(format!("generating Paillier primes {}/{n}", i + 1));
                let (primes, d) = timed(|| Ok(Primes::generate(&mut rand::rngs::OsRng)))?;
                if let Some(s) = spinner {
                    s.finish_and_clear();
                }
                times.push(d);
                out.push(primes);
            }
            times.sort();
            rows.push(Row {
                what: "prime generation, one party (median)".into(),
                in_process: Some(times[times.len() / 2]),
                e2e: None,
            });
            out
        }
    };
    let e2e_primes = primes.clone();
    let signers: Vec<u16> = (0..t).collect();
    let digest: [u8; 32] = Sha256::digest(b"mpc bench").into();

    p.status("in-process: aux info");
    let (aux, d) = timed(|| simulate::aux_info(n, primes).map_err(engine))?;
    rows.push(Row {
        what: "aux info (primes pregenerated)".into(),
        in_process: Some(d),
        e2e: None,
    });
    p.status("in-process: keygen");
    let (shares, d) = timed(|| simulate::keygen(t, &aux).map_err(engine))?;
    rows.push(Row {
        what: "keygen (aux info reused)".into(),
        in_process: Some(d),
        e2e: None,
    });
    let pk = cggmp::public_key(&shares[0]);
    p.status("in-process: signing");
    let (sig, d) = timed(|| simulate::sign(&shares, &signers, &digest).map_err(engine))?;
    check(&pk, &digest, &sig)?;
    rows.push(Row {
        what: format!("full signing, {t} signers"),
        in_process: Some(d),
        e2e: None,
    });
    p.status("in-process: presigning");
    let (presigs, d) = timed(|| simulate::presign(&shares, &signers).map_err(engine))?;
    rows.push(Row {
        what: format!("presigning, {t} signers"),
        in_process: Some(d),
        e2e: None,
    });
    let (sig, d) = timed(|| simulate::sign_presigned(presigs, &digest).map_err(engine))?;
    check(&pk, &digest, &sig)?;
    rows.push(Row {
        what: "signing from presignatures".into(),
        in_process: Some(d),
        e2e: None,
    });

    if args.e2e {
        e2e(ctx, n, t, e2e_primes, &mut rows)?;
    }
    report(ctx, "ecdsa-secp256k1", &format!("{t}-of-{n}"), &rows)
}

/// The pregenerated prime sets `primes-0.json` .. `primes-{n-1}.json` in `dir`.
fn read_primes(dir: &Path, n: u16) -> Result<Vec<Primes>> {
    (0..n)
        .map(|i| {
            let path = dir.join(format!("primes-{i}.json"));
            let bytes = std::fs::read(&path)
                .map_err(|e| Failure::input(format!("cannot read {}", path.display())).cause(e))?;
            serde_json::from_slice(&bytes).map_err(|e| {
                Failure::input(format!("{} is not a prime set", path.display())).cause(e)
            })
        })
        .collect()
}

fn check(pk: &[u8], digest: &[u8; 32], sig: &[u8; 64]) -> Result<()> {
    if crate::pubkey::verify_ecdsa_prehash(pk, digest, sig)? {
        Ok(())
    } else {
        Err(Failure::internal("benchmark signature does not verify"))
    }
}

/// Parties in temporary homes (`p0`, `p1`, ...; their cards beside them), run as
/// processes of this binary exchanging files in one directory, as a ceremony on one
/// machine does.
struct Lab {
    tmp: tempfile::TempDir,
    exe: PathBuf,
    homes: Vec<PathBuf>,
    dir: PathBuf,
}

impl Lab {
    /// `n` new homes, each with its card written.
    fn new(n: u16) -> Result<Lab> {
        let tmp = tempfile::tempdir()?;
        let dir = tmp.path().join("msgs");
        std::fs::create_dir_all(&dir)?;
        let lab = Lab {
            homes: (0..n).map(|i| tmp.path().join(format!("p{i}"))).collect(),
            exe: std::env::current_exe()?,
            dir,
            tmp,
        };
        for i in 0..lab.homes.len() {
            let name = format!("p{i}");
            Lab::run(
                lab.mpc(i)
                    .args(["init", "--name", &name, "--kdf-log-n", "10"]),
            )?;
            Lab::run(lab.mpc(i).args(["id", "--out"]).arg(lab.card(i)))?;
        }
        Ok(lab)
    }

    fn root(&self) -> &Path {
        self.tmp.path()
    }

    /// Party `i`'s card file.
    fn card(&self, i: usize) -> PathBuf {
        self.root().join(format!("p{i}.card"))
    }

    /// `mpc` as party `i`.
    fn mpc(&self, i: usize) -> Command {
        let mut c = Command::new(&self.exe);
        c.env("MPC_HOME", &self.homes[i])
            .env("MPC_PASSPHRASE", "bench")
            .arg("--no-input")
            .arg("-q");
        c
    }

    /// Runs `c`; a step that waits (exit 4) is not a failure.
    fn run(c: &mut Command) -> Result<std::process::Output> {
        let out = c.output()?;
        match out.status.code() {
            Some(0) | Some(4) => Ok(out),
            _ => Err(Failure::internal("a benchmark step failed")
                .cause(String::from_utf8_lossy(&out.stderr).trim())),
        }
    }

    /// Runs every party in `who` as one waiting process, all at once; returns (CPU of
    /// all of them, wall time).
    fn together(&self, kind: &str, plan: &Path, who: &[usize]) -> Result<(Duration, Duration)> {
        let (cpu, start) = (children_cpu(), Instant::now());
        let children = who
            .iter()
            .map(|&i| {
                self.mpc(i)
                    .args([kind, "run"])
                    .arg(plan)
                    .arg("--dir")
                    .arg(&self.dir)
                    .args(["--yes", "--timeout", "1h"])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        for child in children {
            let out = child.wait_with_output()?;
            if !out.status.success() {
                return Err(
                    Failure::internal(format!("a benchmark {kind} process failed"))
                        .cause(String::from_utf8_lossy(&out.stderr).trim()),
                );
            }
        }
        Ok((children_cpu() - cpu, start.elapsed()))
    }

    /// Steps every party in `who` until all exit 0; returns the summed step time.
    fn stepped(&self, kind: &str, plan: &Path, who: &[usize]) -> Result<Duration> {
        let mut total = Duration::ZERO;
        let mut done = vec![false; who.len()];
        for _ in 0..40 {
            for (k, &i) in who.iter().enumerate() {
                if done[k] {
                    continue;
                }
                let start = Instant::now();
                let out = Lab::run(
                    self.mpc(i)
                        .args([kind, "run"])
                        .arg(plan)
                        .arg("--dir")
                        .arg(&self.dir)
                        .args(["--step", "--yes"]),
                )?;
                total += start.elapsed();
                done[k] = out.status.code() == Some(0);
            }
            if done.iter().all(|d| *d) {
                return Ok(total);
            }
        }
        Err(Failure::internal(format!(
            "benchmark {kind} ceremony did not finish"
        )))
    }

    /// Party `by` writes a plan with `args` into `name`.
    fn plan(&self, by: usize, name: &str, args: &[String]) -> Result<PathBuf> {
        let path = self.root().join(name);
        Lab::run(self.mpc(by).args(args).arg("--out").arg(&path))?;
        Ok(path)
    }

    /// Runs a ceremony both ways, each with a plan of its own that party `by` writes:
    /// waiting processes, then step mode.
    fn both(
        &self,
        by: usize,
        kind: &str,
        name: &str,
        args: &[String],
        who: &[usize],
    ) -> Result<EndToEnd> {
        let (cpu, wall) =
            self.together(kind, &self.plan(by, &format!("{name}-w.json"), args)?, who)?;
        let steps = self.stepped(kind, &self.plan(by, &format!("{name}-s.json"), args)?, who)?;
        Ok(EndToEnd { cpu, wall, steps })
    }

    /// Puts `primes` into party `i`'s pool `times` times: the same throwaway set used
    /// by several aux-info runs, which only a benchmark may do.
    fn import_primes(&self, i: usize, primes: &Primes, times: usize) -> Result<()> {
        let file = self.root().join(format!("primes-{i}.json"));
        std::fs::write(
            &file,
            serde_json::to_vec(primes).map_err(|e| Failure::internal("encode").cause(e))?,
        )?;
        for _ in 0..times {
            Lab::run(self.mpc(i).args(["primes", "import"]).arg(&file))?;
        }
        Ok(())
    }

    /// The ids of the keys in party `i`'s home.
    fn key_ids(&self, i: usize) -> Result<Vec<String>> {
        let out = Lab::run(self.mpc(i).args(["--json", "keys", "list"]))?;
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| Failure::internal("keys list").cause(e))?;
        Ok(v["keys"]
            .as_array()
            .map(|keys| {
                keys.iter()
                    .filter_map(|k| k["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// The same ceremonies through `mpc` processes over files.
fn e2e(ctx: &Ctx, n: u16, t: u16, primes: Vec<Primes>, rows: &mut [Row]) -> Result<()> {
    let lab = Lab::new(n)?;
    let root = lab.root().to_path_buf();
    for (i, primes) in primes.iter().enumerate() {
        // Aux info runs twice (waiting processes, then step mode).
        lab.import_primes(i, primes, 2)?;
    }
    let both =
        |kind: &str, name: &str, args: &[String], who: &[usize]| lab.both(0, kind, name, args, who);
    let mut keygen_args: Vec<String> = [
        "keygen",
        "plan",
        "--scheme",
        "ecdsa-secp256k1",
        "-t",
        &t.to_string(),
        "--label",
        "bench",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for i in 0..n as usize {
        keygen_args.push("--party".into());
        keygen_args.push(lab.card(i).display().to_string());
    }
    let everyone: Vec<usize> = (0..n as usize).collect();
    let signers: Vec<usize> = (0..t as usize).collect();
    let names = signers
        .iter()
        .map(|i| format!("p{i}"))
        .collect::<Vec<_>>()
        .join(",");
    let with_aux = |mode: &str| {
        let mut v = keygen_args.clone();
        v.extend(["--aux".to_string(), mode.to_string()]);
        v
    };
    ctx.printer.status("end to end: aux info + keygen");
    let aux_keygen = both("keygen", "k1", &with_aux("generate"), &everyone)?;
    ctx.printer.status("end to end: keygen reusing aux info");
    let keygen = both("keygen", "k2", &with_aux("reuse"), &everyone)?;
    let key = lab
        .key_ids(0)?
        .into_iter()
        .next()
        .ok_or_else(|| Failure::internal("the benchmark made no key"))?;
    let msg = root.join("msg");
    std::fs::write(&msg, b"mpc bench")?;
    let sign_args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "sign",
            "plan",
            "--key",
            &key,
            "--signers",
            &names,
            "--message",
            &msg.display().to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    ctx.printer.status("end to end: signing");
    let sign = both("sign", "s", &sign_args(&[]), &signers)?;
    ctx.printer.status("end to end: presigning");
    let presign_args: Vec<String> = ["presign", "plan", "--key", &key, "--signers", &names]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let presign = both("presign", "p", &presign_args, &signers)?;
    let presigned = both("sign", "ps", &sign_args(&["--presigned"]), &signers)?;
    // The in-process aux row is aux alone; end to end it is aux plus keygen.
    let aux_only = aux_keygen - keygen;
    for (row, d) in rows
        .iter_mut()
        .skip_while(|r| r.what.starts_with("prime"))
        .zip([aux_only, keygen, sign, presign, presigned])
    {
        row.e2e = Some(d);
    }
    Ok(())
}

/// Prints `rows` (CPU time of all parties, wall time, and their ratios to the library
/// alone) and the same as JSON.
fn report(ctx: &Ctx, scheme: &str, setting: &str, rows: &[Row]) -> Result<()> {
    let secs = |d: Duration| format!("{:.3} s", d.as_secs_f64());
    let fmt = |d: Option<Duration>| d.map(secs).unwrap_or_else(|| "-".into());
    let ratio = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
        (Some(a), Some(b)) if !a.is_zero() => format!("{:.2}", b.as_secs_f64() / a.as_secs_f64()),
        _ => "-".into(),
    };
    ctx.printer.data(format!(
        "{scheme} {setting}; CPU time of all parties, and wall time"
    ));
    ctx.printer.data(format!(
        "{:<38} {:>10} {:>10} {:>6} {:>10} {:>10} {:>6}",
        "operation", "in-proc", "e2e CPU", "ratio", "e2e wall", "step mode", "ratio"
    ));
    for r in rows {
        let cpu = r.e2e.map(|e| e.cpu);
        let steps = r.e2e.map(|e| e.steps);
        ctx.printer.data(format!(
            "{:<38} {:>10} {:>10} {:>6} {:>10} {:>10} {:>6}",
            r.what,
            fmt(r.in_process),
            fmt(cpu),
            ratio(r.in_process, cpu),
            fmt(r.e2e.map(|e| e.wall)),
            fmt(steps),
            ratio(r.in_process, steps),
        ));
    }
    let json: Vec<_> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "operation": r.what,
                "in_process_s": r.in_process.map(|d| d.as_secs_f64()),
                "end_to_end_cpu_s": r.e2e.map(|e| e.cpu.as_secs_f64()),
                "end_to_end_wall_s": r.e2e.map(|e| e.wall.as_secs_f64()),
                "step_mode_s": r.e2e.map(|e| e.steps.as_secs_f64()),
            })
        })
        .collect();
    ctx.printer
        .json(&serde_json::json!({ "scheme": scheme, "setting": setting, "results": json }))
}

/// Runs a protocol among `who` in this process, every message delivered at once (a
/// broadcast to everyone else in `who`), until every party is done; their results.
fn drive<S, R>(
    who: &[u16],
    start: impl Fn() -> S,
    mut step: impl FnMut(
        u16,
        &S,
        &crate::engine::Inbox,
    )
        -> std::result::Result<crate::engine::Step<S, R>, crate::engine::EngineError>,
) -> Result<std::collections::BTreeMap<u16, R>> {
    use crate::engine::{Inbox, Step};
    use std::collections::BTreeMap;
    let mut states: BTreeMap<u16, S> = who.iter().map(|&i| (i, start())).collect();
    let mut inboxes: BTreeMap<u16, Inbox> = who.iter().map(|&i| (i, Inbox::default())).collect();
    let mut done = BTreeMap::new();
    for _ in 0..16 {
        for &i in who {
            if done.contains_key(&i) {
                continue;
            }
            match step(i, &states[&i], &inboxes[&i]).map_err(engine)? {
                Step::Advanced { state, outgoing } => {
                    states.insert(i, state);
                    for o in outgoing {
                        for &r in who {
                            if r != i && o.recipient.is_none_or(|to| to == r) {
                                inboxes
                                    .get_mut(&r)
                                    .expect("every party has an inbox")
                                    .insert(o.round, i, o.data.clone());
                            }
                        }
                    }
                }
                Step::Waiting { .. } => {}
                Step::Done(r) => {
                    done.insert(i, r);
                }
            }
        }
        if done.len() == who.len() {
            return Ok(done);
        }
    }
    Err(Failure::internal(
        "an in-process benchmark run did not finish",
    ))
}

/// The median of `runs` timings of `f`.
fn median<T>(runs: usize, mut f: impl FnMut() -> Result<T>) -> Result<(T, Duration)> {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs.max(1) {
        let (v, d) = timed(&mut f)?;
        times.push(d);
        last = Some(v);
    }
    times.sort();
    Ok((last.expect("at least one run"), times[times.len() / 2]))
}

/// Runs `mpc bench reshare`: FROST keygen and refresh 2-of-3 and a reshare of that key
/// to 3-of-5 (dealers p0 and p2; p1 stays without dealing; p3 and p4 join), each in
/// this process through the engine (the library alone: every party's state machine, no
/// envelopes, no files) and end to end (`mpc` processes over files: waiting processes,
/// and step mode).
fn reshare(ctx: &Ctx, args: BenchReshareArgs) -> Result<()> {
    use crate::engine::frost::reshare::{ReshareParams, ReshareResult, ReshareState};
    use crate::engine::{self, KeyMaterial, KeygenParams, KeygenState, RefreshState};
    use crate::secret::Secret;
    let scheme = args.scheme;
    if !scheme.is_frost() {
        return reshare_ecdsa(ctx, &args);
    }
    let p = &ctx.printer;
    p.status(format!(
        "benchmarking {scheme}: keygen and refresh 2-of-3, reshare to 3-of-5"
    ));
    let params = |me: u16| KeygenParams {
        scheme,
        session: [1; 32],
        me,
        t: 2,
        n: 3,
    };
    let old = [1u16, 2, 3];
    p.status("in-process: keygen, refresh, reshare");
    let (keys, keygen_d) = median(args.runs, || {
        drive(
            &old,
            || KeygenState::Start,
            |i, s, inbox| engine::keygen_step(&params(i), s, inbox),
        )
    })?;
    let material = |i: u16| KeyMaterial {
        key_package: Secret::new(keys[&i].key_package.expose().clone()),
        public_key_package: keys[&i].public_key_package.clone(),
    };
    let (_, refresh_d) = median(args.runs, || {
        drive(
            &old,
            || RefreshState::Start,
            |i, s, inbox| engine::refresh_step(&params(i), &material(i), s, inbox),
        )
    })?;
    let old_of = |i: u16| RESHARE_OLD.iter().find(|(p, _)| *p == i).map(|(_, o)| *o);
    let reshare_params = |me: u16| ReshareParams {
        session: [2; 32],
        me,
        dealers: RESHARE_OLD[..2].to_vec(),
        holders: RESHARE_HOLDERS.to_vec(),
        threshold: 3,
        old_public: keys[&1].public_key_package.clone(),
    };
    let (reshared, reshare_d) = median(args.runs, || {
        drive(
            &RESHARE_HOLDERS,
            || ReshareState::Start,
            |i, s, inbox| {
                let key = old_of(i).filter(|_| i <= 2).map(material);
                engine::reshare_step(scheme, &reshare_params(i), key.as_ref(), s, inbox)
            },
        )
    })?;
    if reshared
        .values()
        .filter(|r| matches!(r, ReshareResult::Holder { .. }))
        .count()
        != 5
    {
        return Err(Failure::internal(
            "the in-process reshare did not give five shares",
        ));
    }

    p.status("end to end: keygen (twice: waiting processes, then step mode)");
    let lab = Lab::new(5)?;
    let mut keygen_args: Vec<String> = ["keygen", "plan", "--scheme", scheme.id(), "-t", "2"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    keygen_args.extend(["--label".into(), "bench".into()]);
    for i in 0..3 {
        keygen_args.extend(["--party".into(), lab.card(i).display().to_string()]);
    }
    let three = [0usize, 1, 2];
    let (cpu, wall) = lab.together("keygen", &lab.plan(0, "k-w.json", &keygen_args)?, &three)?;
    let waiting_key = lab.key_ids(0)?;
    let steps = lab.stepped("keygen", &lab.plan(0, "k-s.json", &keygen_args)?, &three)?;
    let keygen_e2e = EndToEnd { cpu, wall, steps };
    let step_key: Vec<String> = lab
        .key_ids(0)?
        .into_iter()
        .filter(|k| !waiting_key.contains(k))
        .collect();
    let (Some(wk), Some(sk)) = (waiting_key.first(), step_key.first()) else {
        return Err(Failure::internal("the benchmark keygens made no keys"));
    };
    p.status("end to end: refresh");
    let refresh_args = |key: &str| -> Vec<String> {
        ["refresh", "plan", "--key", key]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    let (cpu, wall) = lab.together(
        "refresh",
        &lab.plan(0, "r-w.json", &refresh_args(wk))?,
        &three,
    )?;
    let steps = lab.stepped(
        "refresh",
        &lab.plan(0, "r-s.json", &refresh_args(sk))?,
        &three,
    )?;
    let refresh_e2e = EndToEnd { cpu, wall, steps };
    p.status("end to end: reshare to 3-of-5");
    let reshare_args = |key: &str| reshare_plan_args(&lab, key, &[]);
    let all = [0usize, 1, 2, 3, 4];
    let (cpu, wall) = lab.together(
        "reshare",
        &lab.plan(0, "rs-w.json", &reshare_args(wk))?,
        &all,
    )?;
    let steps = lab.stepped(
        "reshare",
        &lab.plan(0, "rs-s.json", &reshare_args(sk))?,
        &all,
    )?;
    let reshare_e2e = EndToEnd { cpu, wall, steps };
    let rows = [
        ("keygen 2-of-3", keygen_d, keygen_e2e),
        ("refresh 2-of-3", refresh_d, refresh_e2e),
        ("reshare 2-of-3 -> 3-of-5", reshare_d, reshare_e2e),
    ]
    .into_iter()
    .map(|(what, d, e)| Row {
        what: what.into(),
        in_process: Some(d),
        e2e: Some(e),
    })
    .collect::<Vec<_>>();
    report(ctx, scheme.id(), "FROST", &rows)
}

/// Who deals and who holds in the benchmark reshare (FROST and ECDSA alike): the old
/// index of participant 1 = p0 and 2 = p2 (the dealers), 3 = p1; then p3 and p4; the
/// new order is p0, p1, p2, p3, p4.
const RESHARE_OLD: [(u16, u16); 3] = [(1, 1), (2, 3), (3, 2)];
const RESHARE_HOLDERS: [u16; 5] = [1, 3, 2, 4, 5];

/// `mpc reshare plan` arguments of the benchmark reshare of `key` (p0 and p2 deal, to
/// p0..p4, 3-of-5), with `extra`.
fn reshare_plan_args(lab: &Lab, key: &str, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "reshare", "plan", "--key", key, "--from", "p0,p2", "-t", "3",
    ]
    .iter()
    .chain(extra)
    .map(|s| s.to_string())
    .collect();
    for party in ["p0", "p1", "p2"] {
        v.extend(["--party".into(), party.into()]);
    }
    for i in 3..5 {
        v.extend(["--party".into(), lab.card(i).display().to_string()]);
    }
    v
}

/// `mpc bench reshare --scheme ecdsa-secp256k1`: a 2-of-3 ECDSA key reshared to
/// 3-of-5, with the five new holders' aux info generated in the reshare, and reused.
/// In process: cggmp21's aux info among the five and the redistribution of
/// `engine::cggmp::reshare` with cggmp21's validation of each new share, every party in
/// this process (the library alone); end to end as the FROST benchmark.
fn reshare_ecdsa(ctx: &Ctx, args: &BenchReshareArgs) -> Result<()> {
    use crate::engine;
    use crate::engine::frost::reshare::{ReshareParams, ReshareResult, ReshareState};
    use crate::scheme::Scheme;
    let dir = args.primes_dir.as_deref().ok_or_else(|| {
        Failure::input("the ECDSA reshare benchmark needs --primes-dir")
            .hint("five prime sets primes-0.json .. primes-4.json, e.g. testdata/primes")
    })?;
    let primes = read_primes(dir, 5)?;
    let p = &ctx.printer;
    p.status("benchmarking ecdsa-secp256k1: reshare 2-of-3 to 3-of-5");
    p.status("in-process: a 2-of-3 key (aux info and keygen, not measured)");
    let aux3 = simulate::aux_info(3, primes[..3].to_vec()).map_err(engine)?;
    let shares = simulate::keygen(2, &aux3).map_err(engine)?;
    let pk = cggmp::public_key(&shares[0]);
    p.status("in-process: aux info for the five new holders");
    let (aux5, aux_d) = timed(|| simulate::aux_info(5, primes.clone()).map_err(engine))?;
    let old_public = cggmp::reshare::public_side(&shares[0]).map_err(engine)?;
    let params = |me: u16| ReshareParams {
        session: [2; 32],
        me,
        dealers: RESHARE_OLD[..2].to_vec(),
        holders: RESHARE_HOLDERS.to_vec(),
        threshold: 3,
        old_public: old_public.clone(),
    };
    let old_of = |i: u16| RESHARE_OLD.iter().find(|(p, _)| *p == i).map(|(_, o)| *o);
    p.status("in-process: reshare");
    let (new_shares, reshare_d) = median(args.runs, || {
        let done = drive(
            &RESHARE_HOLDERS,
            || ReshareState::Start,
            |i, s, inbox| {
                let key = match old_of(i).filter(|_| i <= 2) {
                    Some(o) => Some(cggmp::reshare::material(&shares[usize::from(o) - 1])?),
                    None => None,
                };
                engine::reshare_step(Scheme::EcdsaSecp256k1, &params(i), key.as_ref(), s, inbox)
            },
        )?;
        // Each new holder's complete key share, in the new order.
        RESHARE_HOLDERS
            .iter()
            .zip(&aux5)
            .map(|(i, aux)| match &done[i] {
                ReshareResult::Holder { key_package, .. } => {
                    cggmp::reshare::complete(key_package.expose(), aux.clone()).map_err(engine)
                }
                ReshareResult::Left { .. } => Err(Failure::internal("a new holder got no share")),
            })
            .collect::<Result<Vec<_>>>()
    })?;
    let digest: [u8; 32] = Sha256::digest(b"mpc bench reshare").into();
    let sig = simulate::sign(&new_shares, &[1, 3, 4], &digest).map_err(engine)?;
    check(&pk, &digest, &sig)?;

    p.status("end to end: four 2-of-3 keys (not measured)");
    let lab = Lab::new(5)?;
    for (i, primes) in primes.iter().enumerate() {
        // The old holders' aux info, then the new holders' twice (waiting processes,
        // then step mode).
        lab.import_primes(i, primes, if i < 3 { 3 } else { 2 })?;
    }
    let three = [0usize, 1, 2];
    let mut keys = Vec::new();
    for (k, aux) in ["generate", "reuse", "reuse", "reuse"].iter().enumerate() {
        let mut v: Vec<String> = ["keygen", "plan", "--scheme", "ecdsa-secp256k1", "-t", "2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.extend([
            "--aux".into(),
            aux.to_string(),
            "--label".into(),
            format!("k{k}"),
        ]);
        for i in 0..3 {
            v.extend(["--party".into(), lab.card(i).display().to_string()]);
        }
        let before = lab.key_ids(0)?;
        lab.together("keygen", &lab.plan(0, &format!("k{k}.json"), &v)?, &three)?;
        let new = lab.key_ids(0)?.into_iter().find(|id| !before.contains(id));
        keys.push(new.ok_or_else(|| Failure::internal("the benchmark keygen made no key"))?);
    }
    let all = [0usize, 1, 2, 3, 4];
    let mut e2e = Vec::new();
    for (k, aux) in ["generate", "reuse"].iter().enumerate() {
        p.status(format!("end to end: reshare, aux info {aux}"));
        let args = |key: &str| reshare_plan_args(&lab, key, &["--aux", aux]);
        let (cpu, wall) = lab.together(
            "reshare",
            &lab.plan(0, &format!("rs{k}-w.json"), &args(&keys[2 * k]))?,
            &all,
        )?;
        let steps = lab.stepped(
            "reshare",
            &lab.plan(0, &format!("rs{k}-s.json"), &args(&keys[2 * k + 1]))?,
            &all,
        )?;
        e2e.push(EndToEnd { cpu, wall, steps });
    }
    let reused = e2e.pop();
    let generated = e2e.pop();
    let rows = [
        (
            "reshare 2-of-3 -> 3-of-5, aux info generated",
            aux_d + reshare_d,
            generated,
        ),
        (
            "reshare 2-of-3 -> 3-of-5, aux info reused",
            reshare_d,
            reused,
        ),
    ]
    .into_iter()
    .map(|(what, d, e)| Row {
        what: what.into(),
        in_process: Some(d),
        e2e: e,
    })
    .collect::<Vec<_>>();
    report(ctx, "ecdsa-secp256k1", "reshare", &rows)
}
