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
    Serve(super::bench_serve::BenchServeArgs),
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
    if let Some(BenchCommand::Serve(a)) = args.command {
        return super::bench_serve::run(ctx, a);
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
        Some(dir) => (0..n)
            .map(|i| {
                let path = dir.join(format!("primes-{i}.json"));
                let bytes = std::fs::read(&path).map_err(|e| {
                    Failure::input(format!("cannot read {}", path.display())).cause(e)
                })?;
                serde_json::from_slice(&bytes).map_err(|e| {
                    Failure::input(format!("{} is not a prime set", path.display())).cause(e)
                })
            })
            .collect::<Result<_>>()?,
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
    report(ctx, n, t, &rows)
}

fn check(pk: &[u8], digest: &[u8; 32], sig: &[u8; 64]) -> Result<()> {
    if crate::pubkey::verify_ecdsa_prehash(pk, digest, sig)? {
        Ok(())
    } else {
        Err(Failure::internal("benchmark signature does not verify"))
    }
}

/// The same ceremonies through `mpc` processes over files.
fn e2e(ctx: &Ctx, n: u16, t: u16, primes: Vec<Primes>, rows: &mut [Row]) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path();
    let exe = std::env::current_exe()?;
    let mpc = |home: &Path| {
        let mut c = Command::new(&exe);
        c.env("MPC_HOME", home)
            .env("MPC_PASSPHRASE", "bench")
            .arg("--no-input")
            .arg("-q");
        c
    };
    let run = |c: &mut Command| -> Result<std::process::Output> {
        let out = c.output()?;
        match out.status.code() {
            Some(0) | Some(4) => Ok(out),
            _ => Err(Failure::internal("a benchmark step failed")
                .cause(String::from_utf8_lossy(&out.stderr).trim())),
        }
    };
    let homes: Vec<_> = (0..n).map(|i| root.join(format!("p{i}"))).collect();
    let dir = root.join("msgs");
    std::fs::create_dir_all(&dir)?;
    for (i, (home, primes)) in homes.iter().zip(primes).enumerate() {
        let name = format!("p{i}");
        run(mpc(home).args(["init", "--name", &name, "--kdf-log-n", "10"]))?;
        run(mpc(home)
            .args(["id", "--out"])
            .arg(root.join(format!("{name}.card"))))?;
        let file = root.join(format!("primes-{i}.json"));
        std::fs::write(
            &file,
            serde_json::to_vec(&primes).map_err(|e| Failure::internal("encode").cause(e))?,
        )?;
        // Aux info runs twice (waiting processes, then step mode): the same throwaway
        // set goes into the pool twice, which only a benchmark may do.
        for _ in 0..2 {
            run(mpc(home).args(["primes", "import"]).arg(&file))?;
        }
    }
    // Runs every party in `who` as one waiting process, all at once; returns (CPU, wall).
    let together = |kind: &str, plan: &Path, who: &[usize]| -> Result<(Duration, Duration)> {
        let (cpu, start) = (children_cpu(), Instant::now());
        let children = who
            .iter()
            .map(|&i| {
                mpc(&homes[i])
                    .args([kind, "run"])
                    .arg(plan)
                    .arg("--dir")
                    .arg(&dir)
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
    };
    // Steps every party in `who` until all exit 0; returns the summed step time.
    let stepped = |kind: &str, plan: &Path, who: &[usize]| -> Result<Duration> {
        let mut total = Duration::ZERO;
        let mut done = vec![false; who.len()];
        for _ in 0..40 {
            for (k, &i) in who.iter().enumerate() {
                if done[k] {
                    continue;
                }
                let start = Instant::now();
                let out = run(mpc(&homes[i])
                    .args([kind, "run"])
                    .arg(plan)
                    .arg("--dir")
                    .arg(&dir)
                    .args(["--step", "--yes"]))?;
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
    };
    let plan = |name: &str, args: &[String]| -> Result<std::path::PathBuf> {
        let path = root.join(name);
        run(mpc(&homes[0]).args(args).arg("--out").arg(&path))?;
        Ok(path)
    };
    // Each operation both ways, each with a plan of its own.
    let both = |kind: &str, name: &str, args: &[String], who: &[usize]| -> Result<EndToEnd> {
        let (cpu, wall) = together(kind, &plan(&format!("{name}-w.json"), args)?, who)?;
        let steps = stepped(kind, &plan(&format!("{name}-s.json"), args)?, who)?;
        Ok(EndToEnd { cpu, wall, steps })
    };
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
    for i in 0..n {
        keygen_args.push("--party".into());
        keygen_args.push(root.join(format!("p{i}.card")).display().to_string());
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
    let key = {
        let out = run(mpc(&homes[0]).args(["--json", "keys", "list"]))?;
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| Failure::internal("keys list").cause(e))?;
        v["keys"][0]["id"].as_str().unwrap_or_default().to_string()
    };
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

fn report(ctx: &Ctx, n: u16, t: u16, rows: &[Row]) -> Result<()> {
    let secs = |d: Duration| format!("{:.3} s", d.as_secs_f64());
    let fmt = |d: Option<Duration>| d.map(secs).unwrap_or_else(|| "-".into());
    let ratio = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
        (Some(a), Some(b)) if !a.is_zero() => format!("{:.2}", b.as_secs_f64() / a.as_secs_f64()),
        _ => "-".into(),
    };
    ctx.printer.data(format!(
        "ecdsa-secp256k1 {t}-of-{n}; CPU time of all parties, and wall time"
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
        .json(&serde_json::json!({ "scheme": "ecdsa-secp256k1", "n": n, "t": t, "results": json }))
}
