//! Share backups: one party's share of one key, with the key's metadata, in an
//! ASCII-armored age file encrypted to a passphrase (age scrypt) or to age recipients.
//!
//! A backup holds a secret share and is written with mode 0600 like a share file. It
//! does not hold the party's identity: a share is used by the identity named in the
//! key's party list, so a new machine needs that identity too (`identity.age` and
//! `card.json` from the old home, themselves encrypted under the passphrase). Restoring
//! checks, before anything is written, that the share is whole (its public share is its
//! secret share's), that it is this home's party's, and that it belongs to the key's
//! public key.

use super::{Error, Result};
use crate::identity::{Card, Identity};
use crate::secret::Secret;
use crate::store::Home;
use crate::store::db::{Db, KeyRecord, KeyStatus};
use crate::store::keystore::{ShareFile, read_share};
use age::secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The `format` field of a backup.
const FORMAT: &str = "mpc-share-backup";

/// A backup's contents (secret).
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct BackupFile {
    format: String,
    version: u8,
    key_id: String,
    scheme: String,
    public_key: String,
    threshold: u16,
    n: u16,
    my_index: u16,
    /// The parties' cards, JSON.
    parties: String,
    label: String,
    session_id: String,
    transcript: String,
    created_at: u64,
    share: ShareFile,
}

/// Who can open a backup.
pub enum Seal {
    /// Whoever knows this passphrase (age scrypt).
    Passphrase(SecretString),
    /// The holders of these age identities.
    Recipients(Vec<age::x25519::Recipient>),
}

/// Whether `key`'s share can be backed up now: not once deleted, nor in the middle of
/// a refresh (the share is about to be replaced). Checked before any passphrase is asked.
pub fn ensure_backupable(key: &KeyRecord) -> Result<()> {
    match key.status {
        KeyStatus::Deleted | KeyStatus::Rotating | KeyStatus::Reshared => {
            Err(Error::NotBackupable {
                key_id: key.id.clone(),
                status: key.status,
            })
        }
        _ => Ok(()),
    }
}

/// Why a key in `status` cannot be backed up.
pub(super) fn not_backupable(key_id: &str, status: KeyStatus) -> String {
    match status {
        KeyStatus::Rotating => format!(
            "key {key_id} is in the middle of a refresh; a backup now would hold the share that is about to be replaced"
        ),
        _ => format!("key {key_id} was deleted; there is no share to back up"),
    }
}

/// Makes the armored, encrypted backup of this party's share of `key`.
pub fn create(home: &Home, identity: &Identity, key: &KeyRecord, seal: &Seal) -> Result<String> {
    ensure_backupable(key)?;
    let share = read_share(home, identity, &key.id)?;
    for part in [&share.key_package, &share.public_key_package] {
        hex::decode(part).map_err(|e| Error::bug("share file is damaged", e))?;
    }
    let file = BackupFile {
        format: FORMAT.into(),
        version: 1,
        key_id: key.id.clone(),
        scheme: key.scheme.id().into(),
        public_key: key.public_key.clone(),
        threshold: key.threshold,
        n: key.n,
        my_index: key.my_index,
        parties: key.parties_json.clone(),
        label: key.label.clone(),
        session_id: key.session_id.clone(),
        transcript: key.transcript.clone(),
        created_at: key.created_at,
        share: ShareFile {
            version: 1,
            scheme: key.scheme.id().into(),
            key_id: key.id.clone(),
            index: key.my_index,
            key_package: share.key_package.clone(),
            public_key_package: share.public_key_package.clone(),
        },
    };
    let plain = Secret::new(serde_json::to_vec(&file).map_err(|e| Error::bug("encode", e))?);
    let failed = |e: &dyn std::fmt::Display| Error::bug("cannot encrypt the backup", e);
    let scrypt;
    let recipients: Vec<&dyn age::Recipient> = match seal {
        Seal::Passphrase(p) => {
            scrypt = age::scrypt::Recipient::new(p.clone());
            vec![&scrypt]
        }
        Seal::Recipients(rs) => rs.iter().map(|r| r as &dyn age::Recipient).collect(),
    };
    let encryptor =
        age::Encryptor::with_recipients(recipients.into_iter()).map_err(|e| failed(&e))?;
    let mut out = Vec::new();
    let armor = age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
        .map_err(|e| failed(&e))?;
    let mut w = encryptor.wrap_output(armor).map_err(|e| failed(&e))?;
    w.write_all(plain.expose()).map_err(|e| failed(&e))?;
    w.finish()
        .and_then(|a| a.finish())
        .map_err(|e| failed(&e))?;
    String::from_utf8(out).map_err(|e| failed(&e))
}

/// Whether a backup is encrypted to a passphrase (else to age recipients).
pub fn needs_passphrase(bytes: &[u8]) -> Result<bool> {
    let d = age::Decryptor::new_buffered(age::armor::ArmoredReader::new(bytes))
        .map_err(|e| Error::NotABackup(e.to_string()))?;
    Ok(d.is_scrypt())
}

/// What a restore did.
pub struct Restored {
    /// The key.
    pub key_id: String,
    /// Its scheme.
    pub scheme: String,
    /// This party's index.
    pub index: u16,
}

/// Decrypts a backup (with the passphrase, or else with this party's own age identity
/// and any of `extra` identities), checks it, and stores the share and the key.
pub fn restore(
    home: &Home,
    identity: &Identity,
    db: &Db,
    bytes: &[u8],
    passphrase: Option<SecretString>,
    extra: &[age::x25519::Identity],
) -> Result<Restored> {
    let d = age::Decryptor::new_buffered(age::armor::ArmoredReader::new(bytes))
        .map_err(|e| Error::NotABackup(e.to_string()))?;
    let scrypt = passphrase.map(|p| {
        let mut id = age::scrypt::Identity::new(p);
        id.set_max_work_factor(24);
        id
    });
    let mut ids: Vec<&dyn age::Identity> = vec![identity.age_identity()];
    ids.extend(extra.iter().map(|i| i as &dyn age::Identity));
    if let Some(s) = &scrypt {
        ids = vec![s];
    }
    let mut reader = d.decrypt(ids.into_iter()).map_err(|e| match e {
        age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => {
            Error::CannotOpen
        }
        other => Error::Damaged(other.to_string()),
    })?;
    let mut plain = Secret::new(Vec::new());
    reader
        .read_to_end(plain.expose_mut())
        .map_err(|e| Error::Damaged(e.to_string()))?;
    let file: BackupFile =
        serde_json::from_slice(plain.expose()).map_err(|_| Error::NotShareBackup)?;
    if file.format != FORMAT || file.version != 1 {
        return Err(Error::Unsupported {
            format: file.format.clone(),
            version: file.version,
        });
    }
    let scheme = check(db, identity, &file)?;
    let plain_share =
        Secret::new(serde_json::to_vec(&file.share).map_err(|e| Error::bug("encode", e))?);
    home.write_sealed(
        &home.share_path(&file.key_id),
        identity,
        plain_share.expose(),
    )?;
    if db.key(&file.key_id)?.is_none() {
        let now = crate::clock::now();
        db.insert_key(&KeyRecord {
            id: file.key_id.clone(),
            scheme,
            public_key: file.public_key.clone(),
            threshold: file.threshold,
            n: file.n,
            my_index: file.my_index,
            parties_json: file.parties.clone(),
            label: file.label.clone(),
            status: KeyStatus::Active,
            session_id: file.session_id.clone(),
            transcript: file.transcript.clone(),
            created_at: file.created_at,
            updated_at: now,
            delete_after: None,
        })?;
    }
    db.audit(
        "key.restore",
        &file.key_id,
        serde_json::json!({ "index": file.my_index }),
    )?;
    Ok(Restored {
        key_id: file.key_id.clone(),
        scheme: file.scheme.clone(),
        index: file.my_index,
    })
}

/// Everything a restore checks before it writes; the backup's scheme.
fn check(db: &Db, identity: &Identity, file: &BackupFile) -> Result<crate::scheme::Scheme> {
    let bad = |why: String| Error::Refused {
        key_id: file.key_id.clone(),
        why,
        foreign_share: false,
    };
    let scheme: crate::scheme::Scheme = file.scheme.parse().map_err(bad)?;
    let parties: Vec<Card> = serde_json::from_str(&file.parties).map_err(|e| bad(e.to_string()))?;
    let mine = parties
        .get(usize::from(file.my_index).wrapping_sub(1))
        .ok_or_else(|| bad("its party index is not in its party list".into()))?;
    if *mine != identity.card() {
        return Err(Error::Refused {
            key_id: file.key_id.clone(),
            why: format!(
                "it is party {} ({})'s share, and this home's identity is not that party",
                file.my_index, mine.name
            ),
            foreign_share: true,
        });
    }
    if let Some(existing) = db.key(&file.key_id)? {
        if existing.status == KeyStatus::Deleted {
            return Err(bad(
                "that key was deleted in this home; its share stays destroyed".into(),
            ));
        }
        if existing.status == KeyStatus::Reshared {
            return Err(bad(
                "that key was reshared away from this home; its old share stays destroyed (old shares still combine with each other)".into(),
            ));
        }
        if existing.public_key != file.public_key || existing.my_index != file.my_index {
            return Err(bad(
                "this home holds a different key or share under that id".into(),
            ));
        }
    }
    let material = crate::engine::KeyMaterial {
        key_package: Secret::new(
            hex::decode(&file.share.key_package).map_err(|e| bad(e.to_string()))?,
        ),
        public_key_package: hex::decode(&file.share.public_key_package)
            .map_err(|e| bad(e.to_string()))?,
    };
    let group = crate::engine::share_group_key(scheme, &material, file.my_index).map_err(bad)?;
    if hex::encode(&group) != file.public_key
        || crate::pubkey::key_id(scheme, &group) != file.key_id
    {
        return Err(bad(
            "the share belongs to a different public key than the backup names".into(),
        ));
    }
    Ok(scheme)
}
