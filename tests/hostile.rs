//! A hostile environment: a disk that fills up or turns read-only in the middle of a
//! ceremony, and a database held by another process. A step fails with a clear error
//! naming the path, loses nothing (no half-written share, journal or record), and
//! succeeds once the disk has room again. Write failures are injected with
//! `MPC_FAULT_WRITE=ENOSPC:TEXT` (debug builds), which fails exactly the writes a full
//! file system would fail, under the paths that contain TEXT.

mod common;

use common::*;
use std::path::Path;
use std::process::Output;

/// One `--step` of party `p` with the write fault `fault` armed.
fn step_failing(w: &World, p: usize, plan: &Path, fault: &str) -> Output {
    let party = &w.parties[p];
    step_cmd(&party.home, &party.dir, "keygen", plan)
        .env("MPC_FAULT_WRITE", fault)
        .output()
        .unwrap()
}

/// Temporary files of atomic writes left in a folder (there must be none).
fn leftovers(dir: &Path) -> Vec<std::path::PathBuf> {
    files_matching(dir, ".tmp-")
}

fn keys_held(w: &World, p: usize) -> usize {
    let out = w.mpc(p).args(["--json", "keys", "list"]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    json(&out)["keys"].as_array().unwrap().len()
}

#[test]
fn a_full_disk_stops_a_step_cleanly_and_the_step_succeeds_once_there_is_room() {
    let w = World::new(3);
    let plan = w.keygen_plan("eddsa-ed25519", 2);
    let home = &w.parties[0].home;
    let sessions = home.join("sessions");

    // The first step commits the journal before anything is sent: it cannot.
    let out = step_failing(&w, 0, &plan, &format!("ENOSPC:{}", sessions.display()));
    assert_eq!(code(&out), 5, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("the disk is full"), "{err}");
    assert!(
        err.contains(&sessions.display().to_string()),
        "names the path: {err}"
    );
    assert!(err.contains("run the same command again"), "{err}");
    assert!(
        std::fs::read_dir(&w.parties[0].dir)
            .unwrap()
            .next()
            .is_none(),
        "nothing was sent without a journal"
    );
    assert!(leftovers(&sessions).is_empty());
    assert!(files_matching(&sessions, ".age").is_empty(), "no journal");

    // Room again: the same step goes on, and the ceremony finishes.
    let out = w.step(0, "keygen", &plan);
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    assert_eq!(
        std::fs::read_dir(&w.parties[0].dir).unwrap().count(),
        1,
        "round 1 sent"
    );
    let results = w.run_all("keygen", &plan, &[0, 1, 2]);
    assert_same_key(&results);
}

#[test]
fn a_full_disk_when_the_share_is_stored_loses_nothing() {
    let w = World::new(3);
    let plan = w.keygen_plan("eddsa-ed25519", 2);
    let shares = w.parties[0].home.join("shares");
    let fault = format!("ENOSPC:{}", shares.display());
    // Everyone steps, alice with no room for her share, until her last step fails.
    let mut failed = None;
    for _ in 0..6 {
        for p in 0..3 {
            let out = if p == 0 {
                step_failing(&w, 0, &plan, &fault)
            } else {
                w.step(p, "keygen", &plan)
            };
            if p == 0 && code(&out) == 5 {
                failed = Some(stderr(&out));
            } else {
                assert!([0, 4].contains(&code(&out)), "{}", stderr(&out));
            }
        }
        w.sync(&[0, 1, 2]);
        if failed.is_some() {
            break;
        }
    }
    let err = failed.expect("alice's share write failed");
    assert!(err.contains("the disk is full"), "{err}");
    assert!(err.contains(&shares.display().to_string()), "{err}");
    assert!(leftovers(&shares).is_empty(), "no half-written share");
    assert!(files_matching(&shares, ".age").is_empty(), "no share");
    assert_eq!(keys_held(&w, 0), 0, "no key record without its share");

    // With room, the same step stores the share and reports the same key as the others.
    let results = w.run_all("keygen", &plan, &[0, 1, 2]);
    assert_same_key(&results);
    assert_eq!(files_matching(&shares, ".age").len(), 1);
    assert_eq!(keys_held(&w, 0), 1);
}

#[test]
fn a_read_only_home_is_named_as_such() {
    let w = World::new(2);
    let plan = w.keygen_plan("eddsa-ed25519", 2);
    let home = w.parties[0].home.display().to_string();
    let out = step_failing(&w, 0, &plan, &format!("EROFS:{home}"));
    assert_eq!(code(&out), 5, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the file system is read-only"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains(&home), "{}", stderr(&out));
    let out = w.step(0, "keygen", &plan);
    assert_eq!(code(&out), 4, "writable again: {}", stderr(&out));
}

#[test]
fn a_database_held_by_another_process_is_waited_for_then_refused_clearly() {
    let w = World::new(2);
    let plan = w.keygen_plan("eddsa-ed25519", 2);
    let db_path = w.parties[0].home.join("mpc.db");

    // Another process holds the write lock for a moment: the step waits, then runs.
    let holder = rusqlite::Connection::open(&db_path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(1500));
        holder.execute_batch("COMMIT").unwrap();
    });
    let out = w.step(0, "keygen", &plan);
    release.join().unwrap();
    assert_eq!(code(&out), 4, "waited for the lock: {}", stderr(&out));

    // Held for longer than the bounded wait: a clear refusal, nothing changed.
    let plan2 = w.keygen_plan("eddsa-ed25519", 2);
    let holder = rusqlite::Connection::open(&db_path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let out = w.step(0, "keygen", &plan2);
    assert_eq!(code(&out), 5, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the home's database is busy: another mpc process is using it"),
        "{}",
        stderr(&out)
    );
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    let check: String = rusqlite::Connection::open(&db_path)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    // Both sessions finish.
    assert_same_key(&w.run_all("keygen", &plan, &[0, 1]));
    assert_same_key(&w.run_all("keygen", &plan2, &[0, 1]));
}
