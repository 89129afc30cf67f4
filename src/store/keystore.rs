//! The key store: this party's shares, presignatures, aux info and primes (in a
//! [`Vault`]) with their records (in the [`Db`]). Whatever reads or changes a key goes
//! through here, the ceremony, the lifecycle commands and a server alike.

use super::StoreError;
use super::db::{Db, KeyRecord, KeyStatus, Mark, SingleUse};
use super::vault::{Item, Vault};
use crate::identity::Identity;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A key share file's contents (secret).
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct ShareFile {
    /// Format version (1).
    pub version: u8,
    /// Scheme id.
    pub scheme: String,
    /// Key id.
    pub key_id: String,
    /// Party index.
    pub index: u16,
    /// frost `KeyPackage` (or the cggmp21 key share's JSON), hex.
    pub key_package: String,
    /// frost `PublicKeyPackage` (or the ECDSA group key), hex.
    pub public_key_package: String,
}

/// Reads and decrypts this party's share of `key_id`.
pub fn read_share(
    vault: &dyn Vault,
    identity: &Identity,
    key_id: &str,
) -> Result<ShareFile, StoreError> {
    let item = Item::Share(key_id);
    let bytes = vault
        .read(item, identity)?
        .ok_or_else(|| StoreError::NoShare {
            key_id: key_id.into(),
            place: vault.locate(item),
        })?;
    serde_json::from_slice(bytes.expose()).map_err(|e| StoreError::Corrupt {
        what: format!("share file {} is damaged", vault.locate(item)),
        reason: e.to_string(),
    })
}

/// Writes this party's share (sealed, atomically replacing any previous share).
pub fn write_share(
    vault: &dyn Vault,
    identity: &Identity,
    share: &ShareFile,
) -> Result<(), StoreError> {
    let bytes =
        crate::secret::Secret::new(serde_json::to_vec(share).map_err(|e| StoreError::Corrupt {
            what: "cannot encode a share".into(),
            reason: e.to_string(),
        })?);
    vault.write(Item::Share(&share.key_id), identity, bytes.expose())
}

/// What a key lookup by id prefix found.
#[derive(Debug)]
pub enum Lookup {
    /// Exactly one key.
    Found(Box<KeyRecord>),
    /// No key.
    None,
    /// This many keys: the prefix is too short.
    Ambiguous(usize),
}

/// The key whose id starts with `prefix` (an exact id is a prefix of itself).
pub fn lookup(db: &Db, prefix: &str) -> Result<Lookup, StoreError> {
    let mut found = db.keys_matching(prefix)?;
    Ok(match found.len() {
        0 => Lookup::None,
        1 => Lookup::Found(Box::new(found.remove(0))),
        n => Lookup::Ambiguous(n),
    })
}

/// Refuses unless `key` may sign now (only an active key signs).
pub fn ensure_signs(key: &KeyRecord) -> Result<(), StoreError> {
    if key.status.may_sign() {
        return Ok(());
    }
    Err(StoreError::CannotSign {
        key_id: key.id.clone(),
        status: key.status,
        delete_after: key.delete_after,
    })
}

/// An unused presignature in this home: its presigning session, key and signers.
pub struct UnusedPresignature {
    /// The presigning session id, hex.
    pub session: String,
    /// The key.
    pub key_id: String,
    /// The signers, 1-based plan indices.
    pub signers: Vec<u16>,
}

/// The part of a presigning session's stored result that names its presignature.
#[derive(Deserialize)]
struct PresignResult {
    kind: String,
    #[serde(default)]
    key_id: String,
    #[serde(default)]
    signers: Vec<u16>,
}

/// This home's presignatures whose ledger entry is still armed, oldest first.
pub fn unused_presignatures(db: &Db) -> Result<Vec<UnusedPresignature>, StoreError> {
    let mut out = Vec::new();
    for (session, result) in db.completed_sessions()? {
        let r: PresignResult = serde_json::from_str(&result).map_err(|e| StoreError::Corrupt {
            what: format!(
                "the stored result of session {} is unreadable",
                &session[..16.min(session.len())]
            ),
            reason: e.to_string(),
        })?;
        if r.kind != "presign" {
            continue;
        }
        if db.ledger(&session, SingleUse::Presignature)? == Some(Mark::Armed) {
            out.push(UnusedPresignature {
                session,
                key_id: r.key_id,
                signers: r.signers,
            });
        }
    }
    Ok(out)
}

/// Destroys this party's unused presignatures of `key_id` (marked consumed first, so
/// none is used while it goes); returns where they were.
pub fn destroy_presignatures(
    vault: &dyn Vault,
    db: &Db,
    key_id: &str,
) -> Result<Vec<String>, StoreError> {
    let mut destroyed = Vec::new();
    for p in unused_presignatures(db)? {
        if p.key_id != key_id {
            continue;
        }
        db.set_ledger(&p.session, SingleUse::Presignature, Mark::Consumed)?;
        let item = Item::Presignature(&p.session);
        vault.remove(item)?;
        destroyed.push(vault.locate(item));
    }
    Ok(destroyed)
}

impl KeyStatus {
    /// Whether a key in this status may sign (or make presignatures): only an active one.
    pub fn may_sign(self) -> bool {
        self == KeyStatus::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_active_key_signs() {
        use KeyStatus::*;
        for s in [Creating, Suspended, PendingDeletion, Deleted, Rotating] {
            assert!(!s.may_sign(), "{s:?}");
        }
        assert!(Active.may_sign());
    }
}
