//! The part of `mpc keygen|sign|presign|refresh|repair run` they share: load
//! the plan, unlock, open the session, and step until done (or once, with `--step`).
//!
//! Messages travel through the message directory (`--dir`, or `HOME/relay/SESSION` when
//! only `--relay` is given, where this party's own messages are kept) and, with
//! `--relay`, through the relay as well: each step uploads everything this party has
//! sent and admits what is new for it, checked exactly as a file is. A download that
//! fails the check is reported and ignored, so a faulty or hostile relay cannot stop the
//! session with a bad message. A lost connection is retried until `--timeout`; in
//! `--step` mode it ends the step with exit 4, as waiting does.

use super::{Ctx, read_input};
use crate::ceremony::{Ceremony, Outcome, Progress, Report, describe_plan};
use crate::error::{Exit, Failure, Result};
use crate::output::Printer;
use crate::plan::{Plan, Valid};
use crate::store::Store;
use crate::transport::Carrier;
use crate::transport::dir::DirTransport;
use crate::transport::relay::{RelayCarrier, RelayClient};
use clap::Args;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `mpc keygen run` and `mpc sign run`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The plan file
    pub plan: PathBuf,
    /// The message directory shared with the other parties (a USB stick, a shared folder).
    /// With --relay, where downloaded messages are kept [default: HOME/relay/SESSION]
    #[arg(long, value_name = "DIR", required_unless_present = "relay")]
    pub dir: Option<PathBuf>,
    /// Exchange messages through an `mpc relay` at HOST:PORT, or NATS JetStream at nats://HOST:PORT[,HOST:PORT...], instead of a shared directory
    #[arg(long, value_name = "ADDR")]
    pub relay: Option<String>,
    /// With --relay nats://...: the NATS credentials file (user JWT and seed, as `nsc` writes) or a file holding an NKEY user seed
    #[arg(long, value_name = "FILE", env = "MPC_NATS_CREDS")]
    pub nats_creds: Option<PathBuf>,
    /// Do what can be done now, then exit (4 if still waiting); run again after copying files
    #[arg(long)]
    pub step: bool,
    /// Confirm the plan without asking (only after comparing its fingerprint)
    #[arg(long, short)]
    pub yes: bool,
    /// How long to wait for the other parties without --step
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub timeout: std::time::Duration,
}

/// How often a waiting process looks for new messages.
const POLL: Duration = Duration::from_millis(250);
/// How long a waiting process leaves an unreachable relay alone before trying again.
const RETRY: Duration = Duration::from_secs(1);
/// Connection attempts a `--step` run makes before giving up.
const STEP_ATTEMPTS: u32 = 3;

/// Loads and validates a plan file.
pub fn load_plan(path: &Path) -> Result<Valid<Plan>> {
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

/// The confirmation a new session asks for: the plan's details, then the question
/// (answered yes by `--yes`).
pub fn confirm_plan(
    printer: &Printer,
    assume_yes: bool,
) -> impl FnOnce(&Plan, u16) -> Result<bool> {
    move |plan, me| {
        printer.status(describe_plan(plan, me));
        printer.confirm(
            "Do the plan fingerprint and details match what the other parties read aloud?",
            assume_yes,
        )
    }
}

/// The message directory as a carrier.
pub fn dir_carrier(dir: &Path) -> Result<Box<dyn Carrier>> {
    let transport = DirTransport::new(dir).map_err(|e| {
        Failure::input(format!("cannot use message directory {}", dir.display())).cause(e)
    })?;
    Ok(Box::new(transport))
}

/// Runs this party's side of the ceremony in `args.plan`, which must be of `kind`.
pub fn run_ceremony(ctx: &Ctx, args: &RunArgs, kind: &str) -> Result<Ran> {
    let plan = load_plan(&args.plan)?;
    // A threshold ECDSA key's refresh is a reshare to the same parties.
    if plan.kind() != kind && !(kind == "refresh" && plan.is_rotation()) {
        return Err(Failure::input(format!(
            "{} is a {} plan; use `mpc {} run`",
            args.plan.display(),
            plan.kind(),
            plan.kind()
        )));
    }
    let identity = Arc::new(ctx.unlock()?);
    let session_id = plan.session_id();
    let dir = message_dir(ctx, args, &session_id)?;
    let mut carriers = vec![dir_carrier(&dir)?];
    let creds = crate::transport::nats::Credentials::for_bus(
        args.relay.as_deref(),
        args.nats_creds.clone(),
    )
    .map_err(Failure::input)?;
    if let (Some(addr), Some(me)) = (args.relay.as_deref(), plan.index_of(&identity.card())) {
        if crate::transport::nats::is_nats(addr) {
            let carrier = crate::transport::nats::NatsCarrier::new(addr, creds, session_id, me)
                .map_err(Failure::input)?;
            carriers.push(Box::new(carrier));
        } else {
            let members = plan
                .parties()
                .iter()
                .map(|card| Ok(card.verifying_key()?.to_bytes()))
                .collect::<Result<Vec<_>>>()?;
            let client = RelayClient::new(addr, session_id, me, members);
            carriers.push(Box::new(RelayCarrier::new(client, identity.clone())));
        }
    }
    let mut c = Ceremony::open(
        Store::home(&ctx.home)?,
        identity.clone(),
        plan.clone(),
        carriers,
        confirm_plan(&ctx.printer, args.yes),
    )?;
    let session = c.session_hex().to_string();
    if c.needs_primes()? {
        super::primes::generate_into_pool(&ctx.printer, &ctx.home, &identity, (1, 1))?;
    }
    let relay = args.relay.as_deref();
    let deadline = Instant::now() + args.timeout;
    let mut wait = Wait::new(&ctx.printer);
    let mut link = Link::default();
    loop {
        let progress = c.step()?;
        link.check(&mut c, &ctx.printer, relay);
        match progress {
            Progress::Done(outcome) => {
                // The others may still need this party's last messages.
                while let Some(down) = c.trouble() {
                    link.give_up_in_step(args.step, relay, &down)?;
                    if !args.step && Instant::now() >= deadline {
                        wait.clear();
                        return Err(Failure::new(
                            Exit::Waiting,
                            "done here, but your last messages have not reached the relay",
                        )
                        .cause(down)
                        .hint("run the same command again to send them; the others need them to finish"));
                    }
                    wait.show(format!("sending your last messages ({down}; retrying)"));
                    std::thread::sleep(RETRY);
                    c.step()?;
                    link.check(&mut c, &ctx.printer, relay);
                }
                wait.clear();
                return Ok(Ran {
                    outcome,
                    session,
                    plan: plan.into_inner(),
                    me: c.index(),
                });
            }
            Progress::Waiting { round, missing } => {
                if let Some(down) = c.trouble()
                    && link.give_up_in_step(args.step, relay, &down)?
                {
                    std::thread::sleep(RETRY);
                    continue;
                }
                let leaving = args.step || Instant::now() >= deadline;
                let who: Vec<String> = missing.iter().map(|&m| c.party_label(m)).collect();
                let mut msg = format!("waiting for round {round} from {}", who.join(", "));
                if let Some(down) = c.trouble() {
                    msg.push_str(&format!(" ({down}; retrying)"));
                }
                if leaving {
                    wait.clear();
                    let hint = match relay {
                        Some(addr) => format!(
                            "your messages are on the relay at {addr}; run this again later"
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

/// What the run loop knows about its relay between steps.
#[derive(Default)]
struct Link {
    /// Whether the relay was unreachable after the last step.
    down: bool,
    /// Failed attempts of a `--step` run.
    attempts: u32,
}

impl Link {
    /// Shows what the last step noticed: messages received (details), bad downloads
    /// skipped (warnings), the relay coming back.
    fn check(&mut self, c: &mut Ceremony, printer: &Printer, relay: Option<&str>) {
        for report in c.take_reports() {
            match report {
                Report::Received(what) => printer.detail(format!("received {what}")),
                Report::Ignored(e) => {
                    let f = Failure::from(e);
                    let why = f.causes.join("; ");
                    printer.warn(format!("{}: {why}; ignored, nothing was stored", f.message));
                }
            }
        }
        let down = c.trouble().is_some();
        if self.down
            && !down
            && let Some(addr) = relay
        {
            printer.status(format!("relay at {addr} reachable again"));
        }
        self.down = down;
    }

    /// In `--step` mode an unreachable relay is tried a few times (`Ok(true)`: try
    /// again), then the step ends with exit 4. A waiting process goes on (`Ok(false)`).
    fn give_up_in_step(&mut self, step: bool, relay: Option<&str>, down: &str) -> Result<bool> {
        if !step {
            return Ok(false);
        }
        self.attempts += 1;
        if self.attempts < STEP_ATTEMPTS {
            return Ok(true);
        }
        Err(Failure::new(
            Exit::Waiting,
            format!("cannot reach the relay at {}", relay.unwrap_or("?")),
        )
        .cause(down.strip_prefix("relay unreachable: ").unwrap_or(down))
        .hint("nothing was lost; check that `mpc relay` runs there, then run this step again"))
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
