//! API tokens for `mpc serve`.
//!
//! A token is `mpc_<id>_<secret>`: a public id (8 random bytes, hex) that names its
//! record, and 256 random bits. The node stores only SHA-256 of the whole token. A slow
//! password hash protects guessable passwords; a 256-bit random token cannot be guessed,
//! and a slow hash would only cap how many requests a node can check per second. The
//! stored hash is compared in constant time.

use crate::clock::now;
use crate::store::StoreError;
use crate::store::db::Db;
use rand::RngCore;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// What a token may do. Each scope includes the ones before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read keys, sessions, nodes; verify signatures.
    Read,
    /// Also sign (with the keys the token is limited to, if any).
    Sign,
    /// Also create, change and delete keys, approve sessions, manage nodes.
    Admin,
}

impl Scope {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Sign => "sign",
            Scope::Admin => "admin",
        }
    }

    fn parse(s: &str) -> Option<Scope> {
        Some(match s {
            "read" => Scope::Read,
            "sign" => Scope::Sign,
            "admin" => Scope::Admin,
            _ => return None,
        })
    }
}

/// A token's record (never its secret).
#[derive(Clone, Debug, Serialize)]
pub struct TokenRecord {
    /// Public id.
    pub id: String,
    /// A name for people.
    pub name: String,
    /// Scope.
    pub scope: Scope,
    /// The key ids a sign token is limited to; `None` for any key.
    pub keys: Option<Vec<String>>,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds, if it expires.
    pub expires_at: Option<u64>,
    /// Unix seconds, if revoked.
    pub revoked_at: Option<u64>,
}

impl TokenRecord {
    /// Whether the token may be used now.
    pub fn usable(&self, at: u64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| at < e)
    }

    /// Whether the token may act on `key_id`.
    pub fn allows_key(&self, key_id: &str) -> bool {
        self.keys
            .as_ref()
            .is_none_or(|ks| ks.iter().any(|k| k == key_id))
    }
}

/// Why a presented token is not accepted. The message never repeats the token.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefused {
    /// Not of the token's form, unknown, or the secret does not match.
    #[error("the bearer token is not valid")]
    Invalid,
    /// Revoked.
    #[error("the bearer token was revoked")]
    Revoked,
    /// Expired.
    #[error("the bearer token expired")]
    Expired,
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Creates a token and returns its record and the token itself, which is shown once.
pub fn create(
    db: &Db,
    name: &str,
    scope: Scope,
    keys: Option<Vec<String>>,
    expires_in: Option<std::time::Duration>,
) -> Result<(TokenRecord, Zeroizing<String>), StoreError> {
    let mut id = [0u8; 8];
    let mut secret = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(&mut id);
    rand::rngs::OsRng.fill_bytes(&mut secret[..]);
    let id = hex::encode(id);
    let token = Zeroizing::new(format!("mpc_{id}_{}", hex::encode(&secret[..])));
    let at = now();
    let rec = TokenRecord {
        id: id.clone(),
        name: name.to_string(),
        scope,
        keys,
        created_at: at,
        expires_at: expires_in.map(|d| at + d.as_secs()),
        revoked_at: None,
    };
    let keys_json = rec.keys.as_ref().map(|k| serde_json::json!(k).to_string());
    db.audited(
        "token create",
        &id,
        serde_json::json!({"name": name, "scope": scope.as_str(), "keys": rec.keys, "expires_at": rec.expires_at}),
        |c| {
            c.execute(
                "INSERT INTO api_tokens (id, name, hash, scope, keys, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    id,
                    name,
                    hex::encode(hash(&token)),
                    scope.as_str(),
                    keys_json,
                    at as i64,
                    rec.expires_at.map(|e| e as i64)
                ],
            )?;
            Ok(())
        },
    )?;
    Ok((rec, token))
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(TokenRecord, String)> {
    let scope: String = r.get(3)?;
    let keys: Option<String> = r.get(4)?;
    Ok((
        TokenRecord {
            id: r.get(0)?,
            name: r.get(1)?,
            scope: Scope::parse(&scope).unwrap_or(Scope::Read),
            keys: keys.and_then(|k| serde_json::from_str(&k).ok()),
            created_at: r.get::<_, i64>(5)? as u64,
            expires_at: r.get::<_, Option<i64>>(6)?.map(|v| v as u64),
            revoked_at: r.get::<_, Option<i64>>(7)?.map(|v| v as u64),
        },
        r.get(2)?,
    ))
}

const COLUMNS: &str = "id, name, hash, scope, keys, created_at, expires_at, revoked_at";

/// Every token's record, oldest first.
pub fn list(db: &Db) -> Result<Vec<TokenRecord>, StoreError> {
    let conn = db.read();
    let mut st = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM api_tokens ORDER BY created_at, id"
    ))?;
    let rows = st.query_map([], row)?;
    Ok(rows.map(|r| r.map(|(t, _)| t)).collect::<Result<_, _>>()?)
}

/// Revokes the token with id `id` (or a unique prefix of at least 4 digits); returns
/// its record, `None` when no token matches.
pub fn revoke(db: &Db, id: &str) -> Result<Option<TokenRecord>, StoreError> {
    let matching: Vec<TokenRecord> = list(db)?
        .into_iter()
        .filter(|t| id.len() >= 4 && t.id.starts_with(id))
        .collect();
    let [rec] = matching.as_slice() else {
        return Ok(None);
    };
    let at = now();
    db.audited(
        "token revoke",
        &rec.id,
        serde_json::json!({"name": rec.name}),
        |c| {
            c.execute(
                "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![rec.id, at as i64],
            )?;
            Ok(())
        },
    )?;
    let mut rec = rec.clone();
    rec.revoked_at.get_or_insert(at);
    Ok(Some(rec))
}

/// Checks a presented token and returns its record.
pub fn check(db: &Db, presented: &str) -> Result<TokenRecord, TokenRefused> {
    let id = presented
        .strip_prefix("mpc_")
        .and_then(|rest| rest.split_once('_'))
        .map(|(id, _)| id)
        .filter(|id| id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or(TokenRefused::Invalid)?;
    let found = db
        .read()
        .prepare_cached(&format!("SELECT {COLUMNS} FROM api_tokens WHERE id = ?1"))
        .and_then(|mut st| st.query_row([id], row).optional())
        .map_err(|_| TokenRefused::Invalid)?;
    let Some((rec, stored)) = found else {
        return Err(TokenRefused::Invalid);
    };
    let stored = hex::decode(stored).map_err(|_| TokenRefused::Invalid)?;
    if !bool::from(stored.ct_eq(&hash(presented))) {
        return Err(TokenRefused::Invalid);
    }
    if rec.revoked_at.is_some() {
        return Err(TokenRefused::Revoked);
    }
    if !rec.usable(now()) {
        return Err(TokenRefused::Expired);
    }
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_checked_by_its_hash_and_refused_once_revoked() {
        let db = Db::memory().unwrap();
        let (rec, token) = create(&db, "ci", Scope::Sign, None, None).unwrap();
        assert_eq!(check(&db, &token).unwrap().id, rec.id);
        // Only the hash is stored: the secret appears nowhere in the table.
        let stored: String = db
            .conn()
            .query_row("SELECT hash FROM api_tokens", [], |r| r.get(0))
            .unwrap();
        let secret = token.rsplit('_').next().unwrap();
        assert!(!stored.contains(secret));
        // One flipped character, a foreign token, garbage.
        let mut bad = token.to_string();
        let last = bad.pop().unwrap();
        bad.push(if last == '0' { '1' } else { '0' });
        assert_eq!(check(&db, &bad).err(), Some(TokenRefused::Invalid));
        assert_eq!(
            check(&db, "mpc_0011223344556677_00").err(),
            Some(TokenRefused::Invalid)
        );
        assert_eq!(
            check(&db, "Bearer nonsense").err(),
            Some(TokenRefused::Invalid)
        );
        assert!(revoke(&db, &rec.id[..6]).unwrap().is_some());
        assert_eq!(check(&db, &token).err(), Some(TokenRefused::Revoked));
        assert!(revoke(&db, "zzzz").unwrap().is_none());
    }

    #[test]
    fn an_expired_token_is_refused_and_key_limits_hold() {
        let db = Db::memory().unwrap();
        let (_, token) = create(
            &db,
            "old",
            Scope::Read,
            None,
            Some(std::time::Duration::ZERO),
        )
        .unwrap();
        assert_eq!(check(&db, &token).err(), Some(TokenRefused::Expired));
        let (rec, _) = create(&db, "one", Scope::Sign, Some(vec!["k1".into()]), None).unwrap();
        assert!(rec.allows_key("k1") && !rec.allows_key("k2"));
        assert!(Scope::Admin > Scope::Sign && Scope::Sign > Scope::Read);
    }
}
