//! The part of `mpc keygen run` and `mpc sign run` they share: load the plan, unlock,
//! open the session, and step until done (or once, with `--step`).

use super::{Ctx, read_input};
use crate::ceremony::{Ceremony, Outcome, Progress};
use crate::cli::RunArgs;
use crate::error::{Exit, Failure, Result};
use crate::plan::Plan;
use std::path::Path;
use std::time::{Duration, Instant};

/// Loads and validates a plan file.
pub fn load_plan(path: &Path) -> Result<Plan> {
    let bytes = read_input(path)?;
    Plan::from_json(&bytes)
        .map_err(|e| Failure::input(format!("{} is not a usable plan", path.display())).cause(e))
}

/// Runs this party's side of the ceremony in `args.plan`, which must be of `kind`.
pub fn run_ceremony(ctx: &Ctx, args: &RunArgs, kind: &str) -> Result<(Outcome, String)> {
    let plan = load_plan(&args.plan)?;
    if plan.kind() != kind {
        return Err(Failure::input(format!(
            "{} is a {} plan; use `mpc {} run`",
            args.plan.display(),
            plan.kind(),
            plan.kind()
        )));
    }
    let identity = ctx.unlock()?;
    let mut c = Ceremony::open(
        &ctx.home,
        &identity,
        plan,
        &args.dir,
        &ctx.printer,
        args.yes,
    )?;
    let session = c.session_hex().to_string();
    if c.needs_primes()? {
        super::primes::generate_into_pool(&ctx.printer, &ctx.home, &identity, (1, 1))?;
    }
    let deadline = Instant::now() + args.timeout;
    let mut spinner = None;
    let mut last = None;
    loop {
        match c.step()? {
            Progress::Done(outcome) => {
                if let Some(s) = spinner.take() {
                    indicatif::ProgressBar::finish_and_clear(&s);
                }
                return Ok((outcome, session));
            }
            Progress::Waiting { round, missing } => {
                let who: Vec<String> = missing.iter().map(|&m| c.party_label(m)).collect();
                let msg = format!("waiting for round {round} from {}", who.join(", "));
                if args.step || Instant::now() >= deadline {
                    if let Some(s) = spinner.take() {
                        indicatif::ProgressBar::finish_and_clear(&s);
                    }
                    let mut f = Failure::new(Exit::Waiting, msg).hint(format!(
                        "your messages are in {}; bring theirs there and run this again",
                        args.dir.display()
                    ));
                    if !args.step {
                        f = f.cause(format!(
                            "gave up after {}",
                            humantime::format_duration(args.timeout)
                        ));
                    }
                    return Err(f);
                }
                if last.as_ref() != Some(&msg) {
                    match &spinner {
                        Some(s) => indicatif::ProgressBar::set_message(s, msg.clone()),
                        None => {
                            spinner = ctx.printer.spinner(msg.clone());
                            if spinner.is_none() {
                                ctx.printer.status(&msg);
                            }
                        }
                    }
                    last = Some(msg);
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        }
    }
}
