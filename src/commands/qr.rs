//! `mpc qr show` and `mpc qr scan`: round messages (and the cards and plans a ceremony
//! starts from) as streams of QR codes, for machines with no USB (see `transport::qr`
//! for the format).
//!
//! The ceremony itself is unchanged: steps write their messages to a directory as
//! always; `qr show` turns this party's latest round there into one stream, and
//! `qr scan` turns a scanned stream back into message files in the receiver's directory,
//! which its next step validates like any other file.

use super::{Ctx, read_input, run::load_plan};
use crate::error::{Failure, Result};
use crate::transport::dir::{DirTransport, Placed};
use crate::transport::qr::{self, Item, QrError, Scanner, Stream};
use clap::{Args, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `mpc qr`
#[derive(Debug, Subcommand)]
pub enum QrCommand {
    /// Show your round messages (or cards and plans) as one stream of QR codes (terminal, PNG, SVG or text)
    Show(QrShowArgs),
    /// Read a stream of QR codes (images, folders of frames, ur: text) into a message folder (cards and plans too)
    Scan(QrScanArgs),
}

/// `mpc qr show`
#[derive(Debug, Args)]
pub struct QrShowArgs {
    /// Files to put in the stream: round messages, cards or plans [default: with --plan, what
    /// your latest step wrote to --dir]
    pub files: Vec<PathBuf>,
    /// The ceremony's plan: show the messages your latest step wrote to --dir
    #[arg(long, value_name = "PLAN", conflicts_with = "files")]
    pub plan: Option<PathBuf>,
    /// The message directory your steps write to
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// With --plan: every message of yours in the session, not only the latest round
    #[arg(long, requires = "plan")]
    pub all: bool,
    /// Bytes of message per QR code
    #[arg(long, value_enum, default_value = "normal")]
    pub density: crate::transport::qr::Density,
    /// Frames per second in the terminal
    #[arg(long, default_value_t = 4.0, value_parser = parse_fps)]
    pub fps: f64,
    /// Write the codes as PNG files into DIR instead of the terminal
    #[arg(long, value_name = "DIR")]
    pub png: Option<PathBuf>,
    /// Write the codes as SVG files into DIR instead of the terminal
    #[arg(long, value_name = "DIR")]
    pub svg: Option<PathBuf>,
    /// Write the parts as ur: text, one per line, to FILE (- for stdout)
    #[arg(long, value_name = "FILE")]
    pub text: Option<PathBuf>,
    /// Parts to write to files [default: as many as rebuild the stream, the number of
    /// fragments unless a picture was left out]; more parts are fountain-coded mixes that
    /// make up for lost ones
    #[arg(long, value_name = "N")]
    pub parts: Option<usize>,
}

/// `mpc qr scan`
#[derive(Debug, Args)]
pub struct QrScanArgs {
    /// PNG or JPEG images, folders of frames, text files of ur: parts, or - for pasted parts
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The message directory to write the messages into (the one your steps read)
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
}

/// Runs `mpc qr`.
pub fn run(ctx: &Ctx, cmd: QrCommand) -> Result<()> {
    match cmd {
        QrCommand::Show(a) => show(ctx, a),
        QrCommand::Scan(a) => scan(ctx, a),
    }
}

fn qr_failure(what: &str, e: QrError) -> Failure {
    Failure::input(what.to_string()).cause(e)
}

/// Files of one step are written together; those of the step before, at least a round
/// trip earlier. Files of yours written this close to your newest are one step.
const STEP_WINDOW: Duration = Duration::from_secs(2);

/// The message files to show: those given, or what this party's latest step wrote (a
/// step may send more than one round).
fn selected(ctx: &Ctx, args: &QrShowArgs) -> Result<Vec<PathBuf>> {
    let Some(plan_path) = &args.plan else {
        if args.files.is_empty() {
            return Err(Failure::input(
                "give message files, or --plan PLAN --dir DIR",
            ));
        }
        return Ok(args.files.clone());
    };
    let plan = load_plan(plan_path)?;
    let me = plan
        .index_of(&ctx.home.card()?)
        .ok_or_else(|| Failure::input(format!("you are not a party of {}", plan_path.display())))?;
    let cannot_read = |p: &Path, e: std::io::Error| {
        Failure::input(format!("cannot read {}", p.display())).cause(e)
    };
    let sent = DirTransport::new(&args.dir)
        .and_then(|d| d.sent_by(&plan.session_id(), me))
        .map_err(|e| cannot_read(&args.dir, e))?;
    let mut mine = Vec::new();
    for path in sent {
        let modified = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .map_err(|e| cannot_read(&path, e))?;
        mine.push((modified, path));
    }
    let newest = mine.iter().map(|(m, _)| *m).max().ok_or_else(|| {
        Failure::input(format!(
            "{} has no messages of yours for this session",
            args.dir.display()
        ))
        .hint("run your step of the ceremony first; it writes your messages there")
    })?;
    Ok(mine
        .into_iter()
        .filter(|(m, _)| args.all || newest.duration_since(*m).unwrap_or_default() <= STEP_WINDOW)
        .map(|(_, p)| p)
        .collect())
}

fn show(ctx: &Ctx, args: QrShowArgs) -> Result<()> {
    let files = selected(ctx, &args)?;
    let mut envelopes = Vec::new();
    for f in &files {
        let bytes = read_input(f)?;
        envelopes.push(Item::from_bytes(&bytes).map_err(|e| {
            Failure::input(format!("cannot show {}", f.display()))
                .cause(e)
                .hint("a stream carries round messages, cards (`mpc id --out`) and plans")
        })?);
    }
    let bundle = qr::bundle(&envelopes);
    let mut stream =
        Stream::new(&bundle, args.density).map_err(|e| qr_failure("cannot make the stream", e))?;
    let fragments = stream.fragments();
    let to_files = args.png.is_some() || args.svg.is_some() || args.text.is_some();
    let summary = format!(
        "{} file(s), {} bytes: {fragments} QR code(s) at {:?} density",
        envelopes.len(),
        bundle.len(),
        args.density
    )
    .to_lowercase();
    if to_files {
        for dir in [&args.png, &args.svg].into_iter().flatten() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Failure::input(format!("cannot create {}", dir.display())).cause(e))?;
        }
        // Pictures are checked against this program's own scanner; text needs no check.
        let pictures = args.png.is_some() || args.svg.is_some();
        let bar = ctx.printer.spinner("choosing parts".to_string());
        let (parts, left_out) = stream
            .parts_to_write(
                args.parts,
                |p| if pictures { qr::readable(p) } else { Ok(true) },
                |n| {
                    if let Some(b) = &bar {
                        b.set_message(format!("choosing parts: {n}"));
                    }
                },
            )
            .map_err(|e| qr_failure("cannot draw the stream", e))?;
        let count = parts.len();
        let mut lines = String::new();
        for (i, part) in parts.iter().enumerate() {
            let name = format!("part-{:05}", i + 1);
            if let Some(dir) = &args.png {
                let png = qr::png(part, qr::PNG_SCALE).map_err(|e| qr_failure("cannot draw", e))?;
                super::write_output(Some(&dir.join(format!("{name}.png"))), &png)?;
            }
            if let Some(dir) = &args.svg {
                let svg = qr::svg(part).map_err(|e| qr_failure("cannot draw", e))?;
                super::write_output(Some(&dir.join(format!("{name}.svg"))), svg.as_bytes())?;
            }
            lines.push_str(part);
            lines.push('\n');
            if let Some(b) = &bar {
                b.set_message(format!("writing parts {}/{count}", i + 1));
            }
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        if let Some(t) = &args.text {
            let target = (t != Path::new("-")).then_some(t.as_path());
            super::write_output(target, lines.as_bytes())?;
        }
        ctx.printer
            .status(format!("wrote {count} parts of {summary}"));
        if left_out > 0 {
            ctx.printer.status(format!(
                "{left_out} part(s) left out: mpc's own scanner could not read them back from \
                 their pictures; the parts written make up for them"
            ));
        }
        return ctx.printer.json(&serde_json::json!({
            "messages": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
            "bundle_bytes": bundle.len(),
            "fragments": fragments,
            "parts": count,
            "unreadable_left_out": left_out,
        }));
    }
    if !std::io::stdout().is_terminal() {
        return Err(
            Failure::input("stdout is not a terminal to show QR codes on")
                .hint("write them with --png DIR, --svg DIR or --text FILE"),
        );
    }
    play(&mut stream, fragments, &summary, args.fps)
}

/// `m:ss`.
fn clock(seconds: f64) -> String {
    let s = seconds.ceil() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

/// Plays the stream in the terminal until interrupted.
fn play(stream: &mut Stream, fragments: usize, summary: &str, fps: f64) -> Result<()> {
    let fragments = fragments.max(1);
    let (rows, cols) = console::Term::stdout().size();
    let first = stream
        .next_part()
        .map_err(|e| qr_failure("cannot encode", e))?;
    let (size, _) = qr::terminal(&first).map_err(|e| qr_failure("cannot draw", e))?;
    if size > cols as u32 || size.div_ceil(2) + 2 > rows as u32 {
        return Err(Failure::input(format!(
            "the QR codes need {size} columns and {} lines; this terminal has {cols} and {rows}",
            size.div_ceil(2) + 2
        ))
        .hint("enlarge the terminal or make the font smaller, use --density low, or write --png files"));
    }
    let seconds = fragments as f64 / fps;
    let mut out = std::io::stdout().lock();
    let mut part = first;
    for shown in 1usize.. {
        let (_, text) = qr::terminal(&part).map_err(|e| qr_failure("cannot draw", e))?;
        // The first pass shows every fragment once; a camera that missed some needs
        // part of another pass, made of mixed parts.
        let pass = (shown - 1) / fragments + 1;
        let left = (fragments - (shown - 1) % fragments) as f64 / fps;
        writeln!(
            out,
            "\x1b[H\x1b[2J{text}frame {shown} · {summary} · pass {pass}: {} left (one pass ≈ {}) at {fps} fps · Ctrl-C to stop",
            clock(left),
            clock(seconds)
        )?;
        out.flush()?;
        std::thread::sleep(Duration::from_secs_f64(1.0 / fps));
        part = stream
            .next_part()
            .map_err(|e| qr_failure("cannot encode", e))?;
    }
    Ok(())
}

/// One place parts come from, for progress and errors.
enum Source {
    Image(PathBuf),
    Text(PathBuf),
}

/// Expands the inputs into sources; frames in a folder are taken in name order.
fn sources(inputs: &[PathBuf]) -> Result<Vec<(Source, bool)>> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(input)
                .map_err(|e| Failure::input(format!("cannot read {}", input.display())).cause(e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            entries.sort();
            for p in entries {
                out.push((classify(&p), true));
            }
        } else {
            out.push((classify(input), false));
        }
    }
    Ok(out)
}

fn classify(path: &Path) -> Source {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if ["png", "jpg", "jpeg"].contains(&ext.as_str()) {
        Source::Image(path.to_path_buf())
    } else {
        Source::Text(path.to_path_buf())
    }
}

/// Reads parts from `inputs` until one stream is complete; returns its bundle.
pub fn read_stream(ctx: &Ctx, inputs: &[PathBuf]) -> Result<Vec<u8>> {
    let mut scanner = Scanner::default();
    let mut skipped = 0usize;
    let bar = ctx.printer.spinner("reading parts");
    for (source, in_folder) in sources(inputs)? {
        let (name, texts) = match &source {
            Source::Image(p) => match qr::read_image(p) {
                Ok(t) => (p.display().to_string(), t),
                // A blurred frame among many is normal; a named image must be readable.
                Err(e) if in_folder => {
                    ctx.printer.warn(format!("skipped {}: {e}", p.display()));
                    skipped += 1;
                    continue;
                }
                Err(e) => return Err(qr_failure(&format!("cannot use {}", p.display()), e)),
            },
            Source::Text(p) => {
                let bytes = read_input(p)?;
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let parts = text
                    .split_whitespace()
                    .filter(|w| w.to_lowercase().starts_with("ur:"))
                    .map(str::to_string)
                    .collect::<Vec<_>>();
                if parts.is_empty() && !in_folder {
                    return Err(Failure::input(format!("{} has no ur: parts", p.display())));
                }
                (p.display().to_string(), parts)
            }
        };
        for text in texts {
            let done = scanner
                .add(&text)
                .map_err(|e| qr_failure(&format!("rejected a part in {name}"), e))?;
            if let Some(b) = &bar {
                b.set_message(format!(
                    "parts decoded {}/{}",
                    scanner.parts,
                    scanner.fragments.unwrap_or(0)
                ));
            }
            if done {
                if let Some(b) = bar {
                    b.finish_and_clear();
                }
                return scanner
                    .bundle()
                    .map_err(|e| qr_failure("the stream does not decode", e))?
                    .ok_or_else(|| Failure::internal("a complete stream has no message"));
            }
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut f = Failure::input(match scanner.fragments {
        Some(n) => format!(
            "the stream is incomplete: {} part(s) read, at least {n} needed",
            scanner.parts
        ),
        None => "no QR parts were found".to_string(),
    })
    .hint("scan more frames of the same stream (any frames: lost ones need not be repeated)");
    if skipped > 0 {
        f = f.cause(format!("{skipped} unreadable frame(s) skipped"));
    }
    Err(f)
}

fn scan(ctx: &Ctx, args: QrScanArgs) -> Result<()> {
    if !args.dir.is_dir() {
        return Err(Failure::input(format!(
            "{} is not a directory",
            args.dir.display()
        )));
    }
    let bundle = read_stream(ctx, &args.inputs)?;
    let items =
        qr::unbundle(&bundle).map_err(|e| qr_failure("the stream holds nothing usable", e))?;
    let mut written = Vec::new();
    let transport = DirTransport::new(&args.dir)
        .map_err(|e| Failure::input(format!("cannot use {}", args.dir.display())).cause(e))?;
    let not_overwritten = |p: &Path| {
        Failure::input(format!(
            "{} already holds a different file; not overwritten",
            p.display()
        ))
    };
    let cannot_write = |e: std::io::Error| {
        Failure::input(format!("cannot write to {}", args.dir.display())).cause(e)
    };
    for item in &items {
        let env = match item {
            Item::Message(env) => env,
            Item::Card(card, bytes) => {
                // The name comes from the card (validated: letters, digits, - _ .).
                let path = args.dir.join(format!("{}.card", card.name));
                write_new(&path, bytes)
                    .map_err(|e| e.map_or_else(|| not_overwritten(&path), cannot_write))?;
                ctx.printer.status(format!(
                    "{}: card of {} (fingerprint {}); compare it before `mpc contacts add`",
                    path.display(),
                    card.name,
                    crate::identity::words(&card.fingerprint())
                ));
                written.push(
                    serde_json::json!({ "file": path.display().to_string(), "card": card.name }),
                );
                continue;
            }
            Item::Plan(plan, bytes) => {
                let session = hex::encode(plan.session_id());
                let path = args.dir.join(format!("{}.plan.json", &session[..16]));
                write_new(&path, bytes)
                    .map_err(|e| e.map_or_else(|| not_overwritten(&path), cannot_write))?;
                ctx.printer.status(format!(
                    "{}: {} plan, fingerprint {}",
                    path.display(),
                    plan.kind(),
                    plan.fingerprint()
                ));
                written.push(serde_json::json!({ "file": path.display().to_string(), "plan": plan.kind(), "session_id": session }));
                continue;
            }
        };
        let path = match transport.place(env) {
            Ok(Placed::Written(p) | Placed::Present(p)) => p,
            Ok(Placed::Occupied(p)) => {
                return Err(Failure::input(format!(
                    "{} already holds a different message; not overwritten",
                    p.display()
                ))
                .hint("if the sender sent two different messages, show both to the ceremony: it names the culprit"));
            }
            Err(e) => return Err(cannot_write(e)),
        };
        let h = &env.header;
        ctx.printer.status(format!(
            "{}: round {} from party {} to {}",
            path.display(),
            h.round,
            h.sender,
            h.recipient()
                .map_or("everyone".to_string(), |r| format!("party {r}"))
        ));
        written.push(serde_json::json!({
            "file": path.display().to_string(),
            "protocol": h.protocol.name(),
            "round": h.round,
            "sender": h.sender,
            "recipient": h.recipient(),
        }));
    }
    ctx.printer.status(format!(
        "{} file(s) in {}; run your next step",
        written.len(),
        args.dir.display()
    ));
    ctx.printer
        .json(&serde_json::json!({ "messages": written, "bundle_bytes": bundle.len() }))
}

/// Writes `bytes` to a new file at `path` (atomically); an existing file with the same
/// bytes is left as it is. `Err(None)`: a different file is there.
fn write_new(path: &Path, bytes: &[u8]) -> std::result::Result<(), Option<std::io::Error>> {
    match std::fs::read(path) {
        Ok(existing) if existing == bytes => Ok(()),
        Ok(_) => Err(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            crate::store::fsutil::write_atomic(path, bytes).map_err(Some)
        }
        Err(e) => Err(Some(e)),
    }
}

fn parse_fps(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.2..=30.0).contains(&v) => Ok(v),
        _ => Err("a number of frames per second from 0.2 to 30".into()),
    }
}
