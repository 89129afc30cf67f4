//! Stored formats are pinned: every file under `testdata/v1` (made by
//! `mpc demo --keep testdata/v1`, passphrase `demo passphrase`) must still load: homes,
//! identities, shares, the database, plans (and their session ids), envelopes and
//! signatures. See testdata/README.md.

use age::secrecy::SecretString;
use mpc::envelope::{Envelope, Payload};
use mpc::plan::Plan;
use mpc::store::Home;
use std::path::{Path, PathBuf};

const PASS: &str = "demo passphrase";
const SCHEMES: [&str; 3] = ["eddsa-ed25519", "schnorr-secp256k1-tr", "schnorr-secp256k1"];

fn fixture() -> (tempfile::TempDir, PathBuf) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/v1");
    let tmp = tempfile::tempdir().unwrap();
    copy(&src, tmp.path());
    let root = tmp.path().to_path_buf();
    (tmp, root)
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn v1_homes_identities_shares_and_database_load() {
    let (_tmp, root) = fixture();
    let pass = SecretString::from(PASS.to_string());
    for (i, name) in ["alice", "bob", "carol"].iter().enumerate() {
        let home = Home::resolve(Some(root.join(name)));
        let card = home.card().unwrap();
        assert_eq!(card.name, *name);
        let id = home.unlock(&pass).unwrap();
        assert_eq!(id.card(), card);
        let db = home.db().unwrap();
        // Opening a v1 database migrates it forward; everything below must survive that.
        assert_eq!(db.schema_version().unwrap(), 7);
        let keys = db.keys().unwrap();
        assert_eq!(keys.len(), 3);
        for k in &keys {
            assert_eq!(k.my_index as usize, i + 1);
            let share = mpc::ceremony::load_share(&home, &id, &k.id).unwrap();
            let stored = hex::decode(&k.public_key).unwrap();
            let group = match k.scheme.id() {
                "eddsa-ed25519" => {
                    frost_ed25519::keys::PublicKeyPackage::deserialize(&share.public_key_package)
                        .unwrap()
                        .verifying_key()
                        .serialize()
                        .unwrap()
                }
                "schnorr-secp256k1-tr" => frost_secp256k1_tr::keys::PublicKeyPackage::deserialize(
                    &share.public_key_package,
                )
                .unwrap()
                .verifying_key()
                .serialize()
                .unwrap(),
                _ => {
                    frost_secp256k1::keys::PublicKeyPackage::deserialize(&share.public_key_package)
                        .unwrap()
                        .verifying_key()
                        .serialize()
                        .unwrap()
                }
            };
            assert_eq!(group, stored, "share of {} does not match its key", k.id);
            // The v1 accepted messages moved into the v2 table: 3 round-1 broadcasts and
            // 2 private round-2 messages from the other two parties.
            assert_eq!(db.messages(&k.session_id).unwrap().len(), 4, "{}", k.id);
        }
        // 3 keygens (confirm + complete); alice and carol also signed 3 times.
        let entries = if *name == "bob" { 6 } else { 12 };
        assert_eq!(
            db.audit_verify().unwrap(),
            Ok(entries),
            "{name}'s audit chain"
        );
    }
}

#[test]
fn v1_plans_messages_and_signatures_load() {
    let (_tmp, root) = fixture();
    let pass = SecretString::from(PASS.to_string());
    let ids: Vec<_> = ["alice", "bob", "carol"]
        .iter()
        .map(|n| Home::resolve(Some(root.join(n))).unlock(&pass).unwrap())
        .collect();
    for scheme in SCHEMES {
        let dir = root.join(format!("messages-{scheme}"));
        let kplan = Plan::from_json(&std::fs::read(dir.join("keygen.plan.json")).unwrap()).unwrap();
        let splan = Plan::from_json(&std::fs::read(dir.join("sign.plan.json")).unwrap()).unwrap();
        let mut count = 0;
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.ends_with(".mpcmsg") {
                continue;
            }
            count += 1;
            let env = Envelope::decode(&std::fs::read(&path).unwrap()).unwrap();
            assert_eq!(
                env.file_name(),
                name,
                "session id derivation or naming changed"
            );
            let plan = if name.contains("-keygen-") {
                &kplan
            } else {
                &splan
            };
            assert_eq!(env.header.session, plan.session_id());
            let sender = plan.party(env.header.sender).unwrap();
            assert_eq!(
                env.header.sender_key,
                sender.verifying_key().unwrap().to_bytes()
            );
            let reader =
                env.header
                    .recipient()
                    .unwrap_or(if env.header.sender == 1 { 2 } else { 1 });
            let opened = env.open(&ids[reader as usize - 1]).unwrap();
            assert!(!opened.is_empty());
            assert_eq!(
                matches!(env.payload, Payload::Sealed(_)),
                env.header.recipient().is_some()
            );
        }
        assert_eq!(count, 9 + 4, "{scheme}: 9 keygen and 4 signing messages");
        let sig = hex::decode(
            std::fs::read_to_string(dir.join("signature.hex"))
                .unwrap()
                .trim(),
        )
        .unwrap();
        let Plan::Sign(sp) = &*splan else {
            panic!("sign plan")
        };
        let pk = mpc::pubkey::standard_form(sp.scheme, &hex::decode(&sp.group_public_key).unwrap());
        assert!(mpc::pubkey::verify(sp.scheme, &pk, &splan.message().unwrap(), &sig).unwrap());
    }
}
