//! `mpc contacts`: import and list other parties' cards.

use super::{Ctx, read_input};
use crate::error::{Failure, Result};
use crate::identity::{Card, words};
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `mpc contacts`
#[derive(Debug, Subcommand)]
pub enum ContactsCommand {
    /// Import cards (after comparing their fingerprints with their owners)
    Add(ContactsAddArgs),
    /// List imported cards
    List,
}

/// `mpc contacts add`
#[derive(Debug, Args)]
pub struct ContactsAddArgs {
    /// Card files
    #[arg(required = true, value_name = "CARD")]
    pub cards: Vec<PathBuf>,
    /// Do not ask to confirm the fingerprints
    #[arg(long, short)]
    pub yes: bool,
}

/// Runs `mpc contacts ...`.
pub fn run(ctx: &Ctx, cmd: ContactsCommand) -> Result<()> {
    match cmd {
        ContactsCommand::Add(a) => add(ctx, a),
        ContactsCommand::List => list(ctx),
    }
}

fn add(ctx: &Ctx, args: ContactsAddArgs) -> Result<()> {
    let db = ctx.home.db()?;
    let own = ctx.home.card()?;
    let mut added = Vec::new();
    for path in &args.cards {
        let card = Card::from_json(&read_input(path)?).map_err(|e| {
            Failure::input(format!("{} is not a valid card", path.display())).cause(e)
        })?;
        if card.ed25519 == own.ed25519 {
            return Err(Failure::input(format!(
                "{} is your own card",
                path.display()
            )));
        }
        let fp = words(&card.fingerprint());
        ctx.printer.status(format!(
            "{}: {}  fingerprint {fp}",
            path.display(),
            card.name
        ));
        if !ctx.printer.confirm(
            &format!(
                "Does {}'s fingerprint match what they read aloud?",
                card.name
            ),
            args.yes,
        )? {
            return Err(Failure::input(format!(
                "card {} not confirmed; nothing imported",
                path.display()
            )));
        }
        db.upsert_contact(&card.name, &card.to_json(), &fp)?;
        db.audit(
            "contacts.add",
            &card.name,
            serde_json::json!({ "fingerprint": fp }),
        )?;
        added.push(serde_json::json!({ "name": card.name, "fingerprint": fp }));
    }
    ctx.printer
        .status(format!("imported {} card(s)", added.len()));
    ctx.printer.json(&serde_json::json!({ "added": added }))
}

fn list(ctx: &Ctx) -> Result<()> {
    let db = ctx.home.db()?;
    let mut rows = Vec::new();
    for json in db.contacts()? {
        let card = Card::from_json(json.as_bytes())?;
        let fp = words(&card.fingerprint());
        ctx.printer.data(format!("{:<16} {fp}", card.name));
        rows.push(serde_json::json!({ "name": card.name, "fingerprint": fp, "card": card }));
    }
    ctx.printer.json(&serde_json::json!({ "contacts": rows }))
}
