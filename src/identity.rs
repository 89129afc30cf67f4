//! A party's identity and its public card.
//!
//! The identity is two keys: an Ed25519 key that signs every envelope the party emits,
//! and an X25519 age identity that private payloads, shares and session journals are
//! encrypted to. Both are secret; they are stored together in `identity.age`, encrypted
//! under the party's passphrase with age's scrypt (the one slow KDF run per invocation).
//! The **card** is the public half plus a name, and its fingerprint is what people
//! compare aloud.

use crate::secret::Secret;
use age::secrecy::{ExposeSecret, SecretString};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::str::FromStr;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Errors about identities and cards.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The passphrase does not open the identity.
    #[error("wrong passphrase (or the identity file is damaged)")]
    WrongPassphrase,
    /// The identity file could not be parsed after decryption.
    #[error("identity file is damaged: {0}")]
    Damaged(String),
    /// A card is malformed.
    #[error("not a valid card: {0}")]
    BadCard(String),
}

/// A party's public card: what other parties import and what plans list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    /// Card format version (1).
    pub version: u8,
    /// A human name, unique within a plan.
    pub name: String,
    /// Ed25519 verifying key (hex) that checks this party's envelopes.
    pub ed25519: String,
    /// age X25519 recipient (`age1...`) for private payloads to this party.
    pub x25519: String,
}

impl Card {
    /// Parses a card from JSON and checks that its keys are well formed.
    pub fn from_json(bytes: &[u8]) -> Result<Card, IdentityError> {
        let card: Card =
            serde_json::from_slice(bytes).map_err(|e| IdentityError::BadCard(e.to_string()))?;
        card.validate()?;
        Ok(card)
    }

    /// Checks the card's fields.
    pub fn validate(&self) -> Result<(), IdentityError> {
        if self.version != 1 {
            return Err(IdentityError::BadCard(format!(
                "unsupported card version {}",
                self.version
            )));
        }
        validate_name(&self.name).map_err(IdentityError::BadCard)?;
        self.verifying_key()?;
        self.recipient()?;
        Ok(())
    }

    /// The Ed25519 verifying key.
    pub fn verifying_key(&self) -> Result<VerifyingKey, IdentityError> {
        let bytes: [u8; 32] = hex::decode(&self.ed25519)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| IdentityError::BadCard("ed25519 key is not 32 hex bytes".into()))?;
        VerifyingKey::from_bytes(&bytes)
            .map_err(|_| IdentityError::BadCard("ed25519 key is not a valid point".into()))
    }

    /// The age recipient.
    pub fn recipient(&self) -> Result<age::x25519::Recipient, IdentityError> {
        age::x25519::Recipient::from_str(&self.x25519)
            .map_err(|_| IdentityError::BadCard("x25519 recipient is not an age1... key".into()))
    }

    /// The card's fingerprint: SHA-256 over its name and both keys, domain-separated.
    pub fn fingerprint(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"mpc-card-v1\0");
        for part in [&self.name, &self.ed25519, &self.x25519] {
            h.update((part.len() as u32).to_be_bytes());
            h.update(part.as_bytes());
        }
        h.finalize().into()
    }

    /// The card as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a card always serializes")
    }
}

/// Checks a party name: 1 to 32 characters of letters, digits, `-`, `_`, `.`.
pub fn validate_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "party name `{name}` must be 1-32 characters of letters, digits, '-', '_' or '.'"
        ))
    }
}

/// Renders a 32-byte digest in the form people compare aloud: four BIP39 words (44 bits)
/// and eight hex digits from further bytes, e.g. `oyster-garage-mule-tumble 3fa9c2d1`.
pub fn words(digest: &[u8; 32]) -> String {
    let list = bip39::Language::English.word_list();
    let bits = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    let w: Vec<&str> = (0..4)
        .map(|i| list[((bits >> (53 - 11 * i)) & 0x7ff) as usize])
        .collect();
    format!("{} {}", w.join("-"), hex::encode(&digest[8..12]))
}

/// The secret half of a party: both private keys. Zeroized on drop.
pub struct Identity {
    name: String,
    signing: SigningKey,
    age: age::x25519::Identity,
}

/// The serialized identity, inside the encrypted file.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct IdentityFile {
    version: u8,
    name: String,
    ed25519_secret: String,
    x25519_secret: String,
}

impl Identity {
    /// Generates a new identity.
    pub fn generate(name: &str) -> Identity {
        Identity {
            name: name.to_string(),
            signing: SigningKey::generate(&mut rand::rngs::OsRng),
            age: age::x25519::Identity::generate(),
        }
    }

    /// An identity from given secret keys: for deterministic test vectors only (see
    /// `vectors`, feature `test-vectors`); real identities come from
    /// [`Identity::generate`].
    #[cfg(feature = "test-vectors")]
    pub fn from_secrets(name: &str, ed25519: [u8; 32], x25519: [u8; 32]) -> Identity {
        let hrp = bech32::Hrp::parse("age-secret-key-").expect("a valid HRP");
        let text = bech32::encode::<bech32::Bech32>(hrp, &x25519)
            .expect("32 bytes encode")
            .to_uppercase();
        Identity {
            name: name.to_string(),
            signing: SigningKey::from_bytes(&ed25519),
            age: age::x25519::Identity::from_str(&text).expect("any 32 bytes are an X25519 key"),
        }
    }

    /// The party's public card.
    pub fn card(&self) -> Card {
        Card {
            version: 1,
            name: self.name.clone(),
            ed25519: hex::encode(self.signing.verifying_key().to_bytes()),
            x25519: self.age.to_public().to_string(),
        }
    }

    /// Signs bytes with the envelope key.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.signing.sign(msg).to_bytes()
    }

    /// The age identity, for decrypting what was encrypted to this party.
    pub fn age_identity(&self) -> &age::x25519::Identity {
        &self.age
    }

    /// The party's own age recipient (shares and journals are encrypted to it).
    pub fn recipient(&self) -> age::x25519::Recipient {
        self.age.to_public()
    }

    /// Encrypts the identity under a passphrase with age scrypt, work factor `2^log_n`.
    pub fn seal(&self, passphrase: &SecretString, log_n: u8) -> Result<Vec<u8>, IdentityError> {
        let file = IdentityFile {
            version: 1,
            name: self.name.clone(),
            ed25519_secret: hex::encode(self.signing.to_bytes()),
            x25519_secret: self.age.to_string().expose_secret().to_string(),
        };
        let plain = Secret::new(serde_json::to_vec(&file).expect("identity serializes"));
        let mut r = age::scrypt::Recipient::new(passphrase.clone());
        r.set_work_factor(log_n);
        age::encrypt(&r, plain.expose()).map_err(|e| IdentityError::Damaged(e.to_string()))
    }

    /// Decrypts an identity sealed by [`Identity::seal`].
    pub fn open(sealed: &[u8], passphrase: &SecretString) -> Result<Identity, IdentityError> {
        let mut id = age::scrypt::Identity::new(passphrase.clone());
        id.set_max_work_factor(24);
        let plain = Secret::new(age::decrypt(&id, sealed).map_err(|e| match e {
            age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => {
                IdentityError::WrongPassphrase
            }
            other => IdentityError::Damaged(other.to_string()),
        })?);
        let file: IdentityFile = serde_json::from_slice(plain.expose())
            .map_err(|_| IdentityError::Damaged("not an identity".into()))?;
        if file.version != 1 {
            return Err(IdentityError::Damaged(format!(
                "unsupported identity version {}",
                file.version
            )));
        }
        let sk = Secret::new(
            hex::decode(&file.ed25519_secret)
                .map_err(|_| IdentityError::Damaged("bad ed25519 key".into()))?,
        );
        let mut sk_arr: [u8; 32] = sk
            .expose()
            .as_slice()
            .try_into()
            .map_err(|_| IdentityError::Damaged("bad ed25519 key length".into()))?;
        let signing = SigningKey::from_bytes(&sk_arr);
        sk_arr.zeroize();
        let age = age::x25519::Identity::from_str(&file.x25519_secret)
            .map_err(|_| IdentityError::Damaged("bad x25519 identity".into()))?;
        Ok(Identity {
            name: file.name.clone(),
            signing,
            age,
        })
    }
}

/// A 32-byte digest from its hex form; `None` if it is not exactly that.
pub fn parse_digest(hex_digest: &str) -> Option<[u8; 32]> {
    hex::decode(hex_digest).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_wrong_passphrase() {
        let id = Identity::generate("alice");
        let pass = SecretString::from("correct horse".to_string());
        let sealed = id.seal(&pass, 4).unwrap();
        let back = Identity::open(&sealed, &pass).unwrap();
        assert_eq!(back.card(), id.card());
        let wrong = SecretString::from("wrong".to_string());
        assert!(matches!(
            Identity::open(&sealed, &wrong),
            Err(IdentityError::WrongPassphrase)
        ));
    }

    #[test]
    fn card_validates_and_fingerprint_changes_with_name() {
        let card = Identity::generate("bob").card();
        let parsed = Card::from_json(card.to_json().as_bytes()).unwrap();
        assert_eq!(parsed, card);
        let mut renamed = card.clone();
        renamed.name = "mallory".into();
        assert_ne!(renamed.fingerprint(), card.fingerprint());
        let mut bad = card;
        bad.ed25519 = "00".into();
        assert!(bad.validate().is_err());
    }

    #[test]
    fn words_are_stable() {
        let w = words(&[0u8; 32]);
        assert_eq!(w, "abandon-abandon-abandon-abandon 00000000");
        let w = words(&[0xffu8; 32]);
        assert_eq!(w, "zoo-zoo-zoo-zoo ffffffff");
    }
}
