//! Unfinished sessions: `mpc sessions list` shows them with what they wait for, `mpc
//! sessions abandon` ends one and destroys its secret state, and a plan's expiry ends a
//! session that has not finished (so nonces do not linger in a journal). Each party is a
//! separate `mpc` process with its own home.

mod common;
use common::*;

fn journals(w: &World, p: usize) -> Vec<String> {
    std::fs::read_dir(w.parties[p].home.join("sessions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".age"))
        .collect()
}

fn list(w: &World, p: usize, extra: &[&str]) -> serde_json::Value {
    let out = w
        .mpc(p)
        .args(["--json", "sessions", "list"])
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    json(&out)
}

#[test]
fn an_unfinished_signing_session_is_listed_and_abandoned() {
    let w = World::new(3);
    let (key, _) = w.keygen("eddsa-ed25519", 2);
    assert_eq!(list(&w, 0, &[])["sessions"], serde_json::json!([]));
    let plan = w.sign_plan(0, &key, "alice,carol", b"never finished");
    assert_eq!(code(&w.step(0, "sign", &plan)), 4);
    let listed = list(&w, 0, &[]);
    let sessions = listed["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{listed}");
    let s = &sessions[0];
    assert_eq!(s["kind"], "sign");
    assert_eq!(s["status"], "running");
    assert_eq!(s["waiting_for"], "round 1 from 3 (carol)");
    let id = s["session_id"].as_str().unwrap().to_string();
    assert_eq!(journals(&w, 0).len(), 1, "the nonces are in the journal");
    let nonce = || {
        let db = mpc::store::Home::resolve(Some(w.parties[0].home.clone()))
            .db()
            .unwrap();
        db.ledger(&id, mpc::store::db::SingleUse::Nonce).unwrap()
    };
    assert_eq!(nonce(), Some(mpc::store::db::Mark::Armed));
    // Every session, finished ones too, with --all.
    assert_eq!(
        list(&w, 0, &["--all"])["sessions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Without --yes (and no terminal) nothing is abandoned.
    let out = w
        .mpc(0)
        .args(["sessions", "abandon", &id[..12]])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert_eq!(journals(&w, 0).len(), 1);

    let out = w
        .mpc(0)
        .args(["--json", "sessions", "abandon", &id[..12], "--yes"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json(&out)["session_id"], id.as_str());
    assert!(journals(&w, 0).is_empty(), "the nonces must be destroyed");
    // ...and the ledger says so: an aborted session's nonce is never shown as usable.
    assert_eq!(nonce(), Some(mpc::store::db::Mark::Consumed));
    assert_eq!(list(&w, 0, &[])["sessions"], serde_json::json!([]));

    // The abandoned session never runs again; that is alice's own doing (exit 2).
    let out = w.step(0, "sign", &plan);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("abandoned"), "{}", stderr(&out));
    let out = w
        .mpc(0)
        .args(["sessions", "abandon", &id, "--yes"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("already aborted"), "{}", stderr(&out));
    let out = w
        .mpc(0)
        .args(["sessions", "abandon", "00000000", "--yes"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);

    // The audit log says so.
    let out = w.mpc(0).args(["--json", "audit", "log"]).output().unwrap();
    let actions: Vec<String> = json(&out)["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(actions.last().unwrap(), "session.abandon");
}

#[test]
fn a_signing_round_after_the_plan_expired_is_refused_and_its_nonces_destroyed() {
    let w = World::new(2);
    let (key, _) = w.keygen("eddsa-ed25519", 2);
    let plan = w.sign_plan_with(0, &key, "alice,bob", b"too late", &["--expires", "2s"]);
    assert_eq!(code(&w.step(0, "sign", &plan)), 4);
    assert_eq!(code(&w.step(1, "sign", &plan)), 4);
    w.sync(&[0, 1]);
    assert_eq!(journals(&w, 0).len(), 1);
    // Expiry has a one-second granularity: past `expires_at` means a whole second later.
    std::thread::sleep(std::time::Duration::from_millis(3100));
    let out = w.step(0, "sign", &plan);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the plan expired at"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("secret state destroyed"),
        "{}",
        stderr(&out)
    );
    assert!(journals(&w, 0).is_empty());
    assert!(
        files_matching(&w.parties[0].dir, "-sign-r2-").is_empty(),
        "no signature share after the expiry"
    );
    assert_eq!(list(&w, 0, &[])["sessions"], serde_json::json!([]));

    // A waiting process is stopped by the expiry too.
    let plan = w.sign_plan_with(0, &key, "alice,bob", b"waits", &["--expires", "2s"]);
    let out = w
        .mpc(0)
        .args(["sign", "run"])
        .arg(&plan)
        .arg("--dir")
        .arg(&w.parties[0].dir)
        .args(["--yes", "--timeout", "30s"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the plan expired at"),
        "{}",
        stderr(&out)
    );
    assert!(journals(&w, 0).is_empty());
}
