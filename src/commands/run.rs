//! The part of `mpc keygen|sign|presign|refresh|repair run` they share: load
//! the plan, unlock, open the session, and step until done (or once, with `--step`).
//!
//! With `--relay` the same loop runs over a local message directory
//! (`HOME/relay/SESSION` unless `--dir` is given) that is kept in step with the relay:
//! before each step the party uploads everything it has sent and downloads what is new;
//! downloads are checked like files before they are stored, and one that fails the check
//! is reported and ignored, so a faulty or hostile relay cannot stop the session with a
//! bad message. A lost connection is retried until `--timeout`; in `--step` mode it ends
//! the step with exit 4, as waiting does.

use super::{Ctx, read_input};
use crate::ceremony::{Ceremony, Outcome, Progress};
use crate::cli::RunArgs;
use crate::error::{Exit, Failure, Result};
use crate::identity::Identity;
use crate::output::Printer;
use crate::plan::Plan;
use crate::transport::relay::{RelayClient, RelayError};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often a waiting process looks for new messages.
const POLL: Duration = Duration::from_millis(250);
/// How long a waiting process leaves an unreachable relay alone before trying again.
const RETRY: Duration = Duration::from_secs(1);
/// Connection attempts a `--step` run makes before giving up.
const STEP_ATTEMPTS: u32 = 3;

/// Loads and validates a plan file.
pub fn load_plan(path: &Path) -> Result<Plan> {
    let bytes = read_input(path)?;
    Plan::from_json(&bytes)
        .map_err(|e| Failure::input(format!("{} is not a usable plan", path.display())).cause(e))
}

/// A finished ceremony, as this party ran it.
pub struct Ran {
    /// What it produced.
    pub outcome: Outcome,
    /// The session id, hex.
    pub session: String,
    /// The plan it ran.
    pub plan: Plan,
    /// This party's 1-based index in the plan.
    pub me: u16,
}

/// Runs this party's side of the ceremony in `args.plan`, which must be of `kind`.
pub fn run_ceremony(ctx: &Ctx, args: &RunArgs, kind: &str) -> Result<Ran> {
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
    let session_id = plan.session_id();
    let dir = message_dir(ctx, args, &session_id)?;
    let members = plan
        .parties()
        .iter()
        .map(|card| Ok(card.verifying_key()?.to_bytes()))
        .collect::<Result<Vec<_>>>()?;
    let mut c = Ceremony::open(
        &ctx.home,
        &identity,
        plan.clone(),
        &dir,
        &ctx.printer,
        args.yes,
    )?;
    let session = c.session_hex().to_string();
    let mut relay = args
        .relay
        .as_deref()
        .map(|addr| RelayLink::new(RelayClient::new(addr, session_id, c.index(), members)));
    if c.needs_primes()? {
        super::primes::generate_into_pool(&ctx.printer, &ctx.home, &identity, (1, 1))?;
    }
    let deadline = Instant::now() + args.timeout;
    let mut wait = Wait::new(&ctx.printer);
    loop {
        if let Some(r) = relay.as_mut() {
            r.sync(&c, &identity, &ctx.printer, args.step)?;
        }
        match c.step()? {
            Progress::Done(outcome) => {
                if let Some(r) = relay.as_mut() {
                    r.finish(&c, &identity, &mut wait, args.step, deadline)?;
                }
                wait.clear();
                return Ok(Ran {
                    outcome,
                    session,
                    plan,
                    me: c.index(),
                });
            }
            Progress::Waiting { round, missing } => {
                let leaving = args.step || Instant::now() >= deadline;
                // A process that goes on waiting uploads what this step sent at the top
                // of the next poll; one that leaves must upload it now.
                if leaving && let Some(r) = relay.as_mut() {
                    r.sync(&c, &identity, &ctx.printer, args.step)?;
                }
                let who: Vec<String> = missing.iter().map(|&m| c.party_label(m)).collect();
                let mut msg = format!("waiting for round {round} from {}", who.join(", "));
                if let Some(down) = relay.as_ref().and_then(|r| r.down.as_ref()) {
                    msg.push_str(&format!(" ({down}; retrying)"));
                }
                if leaving {
                    wait.clear();
                    let hint = match &relay {
                        Some(r) => format!(
                            "your messages are on the relay at {}; run this again later",
                            r.client.addr()
                        ),
                        None => format!(
                            "your messages are in {}; bring theirs there and run this again",
                            dir.display()
                        ),
                    };
                    let mut f = Failure::new(Exit::Waiting, msg).hint(hint);
                    if !args.step {
                        f = f.cause(format!(
                            "gave up after {}",
                            humantime::format_duration(args.timeout)
                        ));
                    }
                    return Err(f);
                }
                wait.show(msg);
                std::thread::sleep(POLL);
            }
        }
    }
}

/// `--dir`, or with only `--relay` the home's folder for this session's downloads.
fn message_dir(ctx: &Ctx, args: &RunArgs, session_id: &[u8; 32]) -> Result<PathBuf> {
    if let Some(d) = &args.dir {
        return Ok(d.clone());
    }
    let dir = ctx
        .home
        .root()
        .join("relay")
        .join(&hex::encode(session_id)[..16]);
    std::fs::create_dir_all(&dir)
        .map_err(|e| Failure::internal(format!("cannot create {}", dir.display())).cause(e))?;
    Ok(dir)
}

/// The spinner (or status line) of a waiting process.
struct Wait<'p> {
    printer: &'p Printer,
    spinner: Option<indicatif::ProgressBar>,
    last: Option<String>,
}

impl<'p> Wait<'p> {
    fn new(printer: &'p Printer) -> Wait<'p> {
        Wait {
            printer,
            spinner: None,
            last: None,
        }
    }

    fn show(&mut self, msg: String) {
        if self.last.as_ref() == Some(&msg) {
            return;
        }
        match &self.spinner {
            Some(s) => s.set_message(msg.clone()),
            None => {
                self.spinner = self.printer.spinner(msg.clone());
                if self.spinner.is_none() {
                    self.printer.status(&msg);
                }
            }
        }
        self.last = Some(msg);
    }

    fn clear(&mut self) {
        if let Some(s) = self.spinner.take() {
            s.finish_and_clear();
        }
    }
}

/// A ceremony's link to a relay.
struct RelayLink {
    client: RelayClient,
    /// Why the relay is unreachable, while it is.
    down: Option<String>,
    /// When to try an unreachable relay again.
    retry_at: Instant,
    /// Downloads already dealt with (stored or rejected), by digest.
    seen: HashSet<[u8; 32]>,
}

impl RelayLink {
    fn new(client: RelayClient) -> RelayLink {
        RelayLink {
            client,
            down: None,
            retry_at: Instant::now(),
            seen: HashSet::new(),
        }
    }

    /// Uploads what this party has sent and stores what is new for it. An unreachable
    /// relay is remembered and retried later, except in `--step` mode, where it ends the
    /// step after a few attempts.
    fn sync(
        &mut self,
        c: &Ceremony,
        identity: &Identity,
        printer: &Printer,
        step: bool,
    ) -> Result<()> {
        let mut attempt = 0;
        loop {
            if !step && Instant::now() < self.retry_at {
                return Ok(());
            }
            match self.exchange(c, identity, printer)? {
                Ok(()) => {
                    if self.down.take().is_some() {
                        printer.status(format!("relay at {} reachable again", self.client.addr()));
                    }
                    return Ok(());
                }
                Err(RelayError::Unreachable { reason, .. }) => {
                    attempt += 1;
                    self.retry_at = Instant::now() + RETRY;
                    if !step {
                        self.down = Some(format!("relay unreachable: {reason}"));
                        return Ok(());
                    }
                    if attempt >= STEP_ATTEMPTS {
                        return Err(Failure::new(
                            Exit::Waiting,
                            format!("cannot reach the relay at {}", self.client.addr()),
                        )
                        .cause(reason)
                        .hint("nothing was lost; check that `mpc relay` runs there, then run this step again"));
                    }
                    std::thread::sleep(RETRY);
                }
                Err(e @ RelayError::Refused { .. }) => {
                    return Err(Failure::input(e.to_string()).hint(
                        "nothing was lost; fix the relay (its limits, or a session it expired) or use another, then run this again",
                    ));
                }
            }
        }
    }

    /// One round trip: upload, download, store. The outer error is ours (the database,
    /// the disk), the inner one the relay's.
    fn exchange(
        &mut self,
        c: &Ceremony,
        identity: &Identity,
        printer: &Printer,
    ) -> Result<std::result::Result<(), RelayError>> {
        let outbox = c.outbox()?;
        if let Err(e) = self.client.push(identity, &outbox) {
            return Ok(Err(e));
        }
        let downloads = match self.client.fetch(identity) {
            Ok(d) => d,
            Err(e) => return Ok(Err(e)),
        };
        for bytes in downloads {
            let digest: [u8; 32] = Sha256::digest(&bytes).into();
            if !self.seen.insert(digest) {
                continue;
            }
            let origin = format!("a message from the relay at {}", self.client.addr());
            match c.receive(&bytes, &origin) {
                Ok(Some(path)) => printer.detail(format!("received {}", path.display())),
                Ok(None) => {}
                Err(f) if f.exit == Exit::Usage => {
                    let why = f.causes.join("; ");
                    printer.warn(format!("{}: {why}; ignored, nothing was stored", f.message));
                }
                Err(f) => return Err(f),
            }
        }
        Ok(Ok(()))
    }

    /// After the ceremony is done here: make sure its last messages reached the relay,
    /// since the others may still need them.
    fn finish(
        &mut self,
        c: &Ceremony,
        identity: &Identity,
        wait: &mut Wait,
        step: bool,
        deadline: Instant,
    ) -> Result<()> {
        loop {
            self.retry_at = Instant::now();
            self.sync(c, identity, wait.printer, step)?;
            let Some(down) = &self.down else {
                return Ok(());
            };
            if Instant::now() >= deadline {
                return Err(Failure::new(
                    Exit::Waiting,
                    "done here, but your last messages have not reached the relay",
                )
                .cause(down.clone())
                .hint("run the same command again to send them; the others need them to finish"));
            }
            wait.show(format!("sending your last messages ({down}; retrying)"));
            std::thread::sleep(RETRY);
        }
    }
}
