//! The embeddable core without files: three parties in one process run a FROST 2-of-3
//! keygen and signing through the in-memory board and in-memory stores, and the same
//! admission that guards message files rejects bad input there.

use mpc::ceremony::{Advice, Ceremony, Error, ErrorKind, Outcome, Progress, Report};
use mpc::envelope::Envelope;
use mpc::identity::Identity;
use mpc::plan::{KeygenPlan, Plan, SignPlan, Valid, fresh_nonce, now};
use mpc::scheme::Scheme;
use mpc::store::Store;
use mpc::store::db::{Mark, SingleUse};
use mpc::transport::Carrier;
use mpc::transport::dir::DirTransport;
use mpc::transport::memory::{Board, MemoryCarrier};
use std::sync::Arc;

fn parties() -> Vec<Arc<Identity>> {
    ["alice", "bob", "carol"]
        .map(|n| Arc::new(Identity::generate(n)))
        .to_vec()
}

fn keygen_plan(ids: &[Arc<Identity>]) -> Valid<Plan> {
    Plan::Keygen(KeygenPlan {
        version: 1,
        scheme: Scheme::EddsaEd25519,
        threshold: 2,
        parties: ids.iter().map(|i| i.card()).collect(),
        label: "in memory".into(),
        expires_at: now() + 3600,
        nonce: fresh_nonce(),
        aux: None,
    })
    .validated()
    .unwrap()
}

fn open(
    store: Store,
    id: &Arc<Identity>,
    plan: &Valid<Plan>,
    carrier: Box<dyn Carrier>,
) -> Ceremony {
    Ceremony::open(store, id.clone(), plan.clone(), vec![carrier], |_, _| {
        Ok::<_, Error>(true)
    })
    .unwrap()
}

/// Steps every ceremony in turn until all are done; returns their outcomes.
fn run_all(cs: &mut [Ceremony]) -> Vec<Outcome> {
    let mut done: Vec<Option<Outcome>> = vec![None; cs.len()];
    for _ in 0..10 {
        for (i, c) in cs.iter_mut().enumerate() {
            if done[i].is_none()
                && let Progress::Done(o) = c.step().unwrap()
            {
                done[i] = Some(o);
            }
        }
        if done.iter().all(Option::is_some) {
            return done.into_iter().map(Option::unwrap).collect();
        }
    }
    panic!("the ceremony did not finish in 10 passes");
}

/// Keygen among all three on `board`; returns each party's store and the key id and
/// public key.
fn keygen(ids: &[Arc<Identity>], board: &Board) -> (Vec<Store>, String, String) {
    let plan = keygen_plan(ids);
    let mut cs: Vec<Ceremony> = ids
        .iter()
        .map(|id| {
            open(
                Store::memory().unwrap(),
                id,
                &plan,
                Box::new(MemoryCarrier::new(board.clone())),
            )
        })
        .collect();
    let outcomes = run_all(&mut cs);
    let keys: Vec<(String, String)> = outcomes
        .iter()
        .map(|o| match o {
            Outcome::Keygen {
                key_id, public_key, ..
            } => (key_id.clone(), public_key.clone()),
            other => panic!("not a keygen outcome: {other:?}"),
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] == w[1]), "{keys:?}");
    let stores = cs.into_iter().map(Ceremony::into_store).collect();
    let (key_id, public_key) = keys[0].clone();
    (stores, key_id, public_key)
}

fn sign_plan(ids: &[Arc<Identity>], store: &Store, key_id: &str, message: &[u8]) -> Valid<Plan> {
    let key = store.db.key(key_id).unwrap().unwrap();
    use base64::Engine as _;
    Plan::Sign(SignPlan {
        version: 1,
        scheme: Scheme::EddsaEd25519,
        key_id: key_id.into(),
        group_public_key: key.public_key,
        threshold: 2,
        parties: ids.iter().map(|i| i.card()).collect(),
        signers: vec![1, 3],
        message: base64::engine::general_purpose::STANDARD.encode(message),
        label: "in memory".into(),
        expires_at: now() + 3600,
        nonce: fresh_nonce(),
        hash: None,
        path: None,
        presign: None,
    })
    .validated()
    .unwrap()
}

#[test]
fn frost_keygen_and_signing_run_in_memory_without_files() {
    // No home, no message directory: every store and carrier here is in memory.
    let ids = parties();
    let board = Board::new();
    let (mut stores, key_id, public_key) = keygen(&ids, &board);

    let message = b"signed in memory";
    let plan = sign_plan(&ids, &stores[0], &key_id, message);
    let sign_board = Board::new();
    let carol = stores.pop().unwrap();
    let _bob = stores.pop().unwrap();
    let alice = stores.pop().unwrap();
    let mut cs = vec![
        open(
            alice,
            &ids[0],
            &plan,
            Box::new(MemoryCarrier::new(sign_board.clone())),
        ),
        open(
            carol,
            &ids[2],
            &plan,
            Box::new(MemoryCarrier::new(sign_board.clone())),
        ),
    ];
    let outcomes = run_all(&mut cs);
    for o in &outcomes {
        let Outcome::Sign { signature, .. } = o else {
            panic!("not a signature: {o:?}")
        };
        // An independent verifier: ed25519-dalek, from the public key alone.
        let pk: [u8; 32] = hex::decode(&public_key).unwrap().try_into().unwrap();
        let sig: [u8; 64] = hex::decode(signature).unwrap().try_into().unwrap();
        ed25519_dalek::VerifyingKey::from_bytes(&pk)
            .unwrap()
            .verify_strict(message, &ed25519_dalek::Signature::from_bytes(&sig))
            .expect("the signature verifies");
    }
    // Each signer's store used its nonces once: the ledger has them consumed.
    for c in cs {
        let sid = c.session_hex().to_string();
        let store = c.into_store();
        assert_eq!(
            store.db.ledger(&sid, SingleUse::Nonce).unwrap(),
            Some(Mark::Consumed)
        );
    }
}

/// Bad inputs, each made from a real round-1 message `good` of `plan`'s session.
fn bad_inputs(
    ids: &[Arc<Identity>],
    good: &Envelope,
) -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let mut tampered = good.as_bytes().to_vec();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let truncated = good.as_bytes()[..good.as_bytes().len() / 2].to_vec();
    let mut foreign_header = good.header.clone();
    foreign_header.session = [9; 32];
    let foreign = Envelope::create(&ids[1], foreign_header, b"x", None).unwrap();
    let outsider = Identity::generate("mallory");
    let mut forged_header = good.header.clone();
    forged_header.sender_key = outsider.card().verifying_key().unwrap().to_bytes();
    let forged = Envelope::create(&outsider, forged_header, b"x", None).unwrap();
    let mut future_header = good.header.clone();
    future_header.round = 7;
    let future = Envelope::create(&ids[1], future_header, b"x", None).unwrap();
    vec![
        ("tampered", tampered, "signature"),
        ("truncated", truncated, "truncated"),
        (
            "foreign",
            foreign.as_bytes().to_vec(),
            "a message from another ceremony",
        ),
        (
            "forged",
            forged.as_bytes().to_vec(),
            "is signed by a key that is not party",
        ),
        (
            "future round",
            future.as_bytes().to_vec(),
            "does not exist in this protocol",
        ),
    ]
}

fn round1_from_bob(ids: &[Arc<Identity>], plan: &Valid<Plan>) -> Envelope {
    let board = Board::new();
    let mut bob = open(
        Store::memory().unwrap(),
        &ids[1],
        plan,
        Box::new(MemoryCarrier::new(board.clone())),
    );
    assert!(matches!(bob.step().unwrap(), Progress::Waiting { .. }));
    Envelope::decode(&board.snapshot()[0]).unwrap()
}

#[test]
fn admission_rejects_the_same_bad_input_from_memory_as_from_files() {
    let ids = parties();
    let plan = keygen_plan(&ids);
    let good = round1_from_bob(&ids, &plan);
    for (what, bytes, expected) in bad_inputs(&ids, &good) {
        // Through the board: reported, ignored, nothing stored.
        let board = Board::new();
        board.post(bytes.clone());
        let mut alice = open(
            Store::memory().unwrap(),
            &ids[0],
            &plan,
            Box::new(MemoryCarrier::new(board.clone())),
        );
        let progress = alice.step().unwrap();
        assert!(
            matches!(&progress, Progress::Waiting { round: 1, missing } if missing == &[2, 3]),
            "{what}: nothing from the bad message counts"
        );
        let reports = alice.take_reports();
        let [Report::Ignored(from_memory)] = &reports[..] else {
            panic!("{what}: expected one ignored message, got {reports:?}")
        };
        let store = alice.into_store();
        let sid = hex::encode(plan.session_id());
        assert!(
            store.db.messages(&sid).unwrap().is_empty(),
            "{what}: stored"
        );

        // As a file: the step stops, names the file, and stores nothing; the reason is
        // the same.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(good.file_name());
        std::fs::write(&path, &bytes).unwrap();
        let mut alice = open(
            Store::memory().unwrap(),
            &ids[0],
            &plan,
            Box::new(DirTransport::new(dir.path()).unwrap()),
        );
        let Err(from_file) = alice.step() else {
            panic!("{what}: a bad file must stop the step")
        };
        assert_eq!(from_file.kind(), ErrorKind::Rejected, "{what}");
        assert_eq!(from_file.message(), format!("rejected {}", path.display()));
        assert_eq!(from_file.advice(), Some(Advice::ReplaceFile));
        assert_eq!(from_memory.kind(), ErrorKind::Rejected, "{what}");
        assert_eq!(
            from_memory.causes(),
            from_file.causes(),
            "{what}: same reason"
        );
        // The same checks as a pure function, as a server calls them on a request body.
        let direct = mpc::ceremony::admit_check(&plan, 1, &ids[0], &bytes, "a request", None)
            .expect_err(what);
        assert_eq!(direct.message(), "rejected a request");
        assert_eq!(direct.causes(), from_file.causes(), "{what}: same reason");
        let cause = from_file.causes().join("; ");
        assert!(cause.contains(expected), "{what}: {cause}");
        assert!(alice.into_store().db.messages(&sid).unwrap().is_empty());
    }
}

#[test]
fn an_equivocation_on_the_board_aborts_and_names_the_sender() {
    let ids = parties();
    let plan = keygen_plan(&ids);
    let good = round1_from_bob(&ids, &plan);
    // Bob signs a second, different round-1 broadcast for the same slot.
    let other =
        Envelope::create(&ids[1], good.header.clone(), b"a different package", None).unwrap();
    let board = Board::new();
    board.post(good.as_bytes().to_vec());
    board.post(other.as_bytes().to_vec());
    let mut alice = open(
        Store::memory().unwrap(),
        &ids[0],
        &plan,
        Box::new(MemoryCarrier::new(board)),
    );
    let Err(f) = alice.step() else {
        panic!("an equivocation must abort")
    };
    assert_eq!(f.kind(), ErrorKind::Misbehaved);
    let culprits: Vec<(u16, String)> = f
        .culprits()
        .iter()
        .map(|c| (c.index, c.label.clone()))
        .collect();
    assert_eq!(culprits, [(2, plan.party_label(2))]);
    assert_eq!(f.advice(), Some(Advice::InvestigateEquivocator));
}

/// A ceremony moves into a worker thread: three parties, each stepping on its own
/// thread over one board, finish a keygen.
#[test]
fn ceremonies_move_into_worker_threads() {
    let ids = parties();
    let plan = keygen_plan(&ids);
    let board = Board::new();
    let workers: Vec<_> = ids
        .iter()
        .map(|id| {
            let c = open(
                Store::memory().unwrap(),
                id,
                &plan,
                Box::new(MemoryCarrier::new(board.clone())),
            );
            std::thread::spawn(move || {
                let mut c = c;
                for _ in 0..2000 {
                    match c.step().unwrap() {
                        Progress::Done(o) => return o,
                        Progress::Waiting { .. } => {
                            std::thread::sleep(std::time::Duration::from_millis(2))
                        }
                    }
                }
                panic!("no progress")
            })
        })
        .collect();
    let keys: Vec<String> = workers
        .into_iter()
        .map(|w| match w.join().unwrap() {
            Outcome::Keygen { public_key, .. } => public_key,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] == w[1]), "{keys:?}");
}
