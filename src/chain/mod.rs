//! Addresses on chains, from a key's public key. Encoders come from established crates
//! (`bech32` for bech32/bech32m, `bs58` for base58, `sha3` for Keccak-256, `ripemd` and
//! `sha2` for HASH160); this module only chooses what to encode.
//!
//! | chain | scheme | address |
//! |---|---|---|
//! | bitcoin, bitcoin-testnet | ecdsa-secp256k1 | P2WPKH: bech32, witness v0, HASH160 of the compressed key |
//! | bitcoin, bitcoin-testnet | schnorr-secp256k1-tr | P2TR: bech32m, witness v1, the x-only output key |
//! | ethereum | ecdsa-secp256k1 | the last 20 bytes of Keccak-256 of the uncompressed key, EIP-55 checksummed |
//! | cosmos | ecdsa-secp256k1 | bech32 of HASH160 of the compressed key, with a prefix (`cosmos`, `osmo`, ...) |
//! | solana | eddsa-ed25519 | base58 of the 32-byte key |
//!
//! A `schnorr-secp256k1-tr` key is already the BIP341 output key: frost-secp256k1-tr
//! tweaks the DKG's group key P to Q = P + H_TapTweak(P)·G (no script path) and signs for
//! Q, so the P2TR address commits to exactly the key the signatures verify under. A
//! watch-only wallet must import it as `rawtr(Q)`, not `tr(Q)` (which would tweak again).

use crate::scheme::Scheme;
use bech32::{Bech32, Hrp};
use sha2::{Digest, Sha256};
use sha3::Keccak256;

/// A chain (or family of chains) whose addresses `mpc` can show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Chain {
    /// Bitcoin mainnet (bc1...)
    Bitcoin,
    /// Bitcoin testnet and signet (tb1...)
    BitcoinTestnet,
    /// Ethereum and EVM chains (0x..., EIP-55)
    Ethereum,
    /// Cosmos SDK chains (bech32 with --prefix, default cosmos)
    Cosmos,
    /// Solana (base58)
    Solana,
}

/// Why no address could be made.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The scheme cannot sign for that chain.
    #[error("a {scheme} key has no {chain} address; {hint}")]
    Unsupported {
        /// The key's scheme.
        scheme: Scheme,
        /// The chain asked for.
        chain: &'static str,
        /// Which scheme would.
        hint: &'static str,
    },
    /// The public key is not a valid key of its scheme.
    #[error("the public key is not a valid {0} key")]
    BadKey(Scheme),
    /// A bad bech32 prefix.
    #[error("`{0}` is not a usable bech32 prefix (lowercase letters and digits)")]
    BadPrefix(String),
}

/// An address and what kind it is.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Address {
    /// The chain.
    pub chain: Chain,
    /// `p2wpkh`, `p2tr`, `eip55`, `bech32` or `base58`.
    pub kind: &'static str,
    /// The address text.
    pub address: String,
}

/// The address of `public_key` (as stored: SEC1 for secp256k1, 32 bytes for Ed25519)
/// on `chain`. `prefix` is the Cosmos bech32 prefix.
pub fn address(
    chain: Chain,
    scheme: Scheme,
    public_key: &[u8],
    prefix: Option<&str>,
) -> Result<Address, ChainError> {
    let unsupported = |chain: &'static str, hint: &'static str| ChainError::Unsupported {
        scheme,
        chain,
        hint,
    };
    let (kind, address) = match (chain, scheme) {
        (Chain::Bitcoin | Chain::BitcoinTestnet, Scheme::EcdsaSecp256k1) => {
            let program = hash160(&compressed(scheme, public_key)?);
            let a = bech32::segwit::encode_v0(bitcoin_hrp(chain), &program)
                .map_err(|_| ChainError::BadKey(scheme))?;
            ("p2wpkh", a)
        }
        (Chain::Bitcoin | Chain::BitcoinTestnet, Scheme::SchnorrSecp256k1Tr) => {
            let q = compressed(scheme, public_key)?;
            let a = bech32::segwit::encode_v1(bitcoin_hrp(chain), &q[1..])
                .map_err(|_| ChainError::BadKey(scheme))?;
            ("p2tr", a)
        }
        (Chain::Bitcoin | Chain::BitcoinTestnet, _) => {
            return Err(unsupported(
                "bitcoin",
                "use ecdsa-secp256k1 (P2WPKH) or schnorr-secp256k1-tr (P2TR)",
            ));
        }
        (Chain::Ethereum, Scheme::EcdsaSecp256k1) => {
            let point = k256::PublicKey::from_sec1_bytes(public_key)
                .map_err(|_| ChainError::BadKey(scheme))?;
            let uncompressed =
                k256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&point, false);
            let hash = Keccak256::digest(&uncompressed.as_bytes()[1..]);
            ("eip55", eip55(&hash[12..]))
        }
        (Chain::Ethereum, _) => return Err(unsupported("ethereum", "use ecdsa-secp256k1")),
        (Chain::Cosmos, Scheme::EcdsaSecp256k1) => {
            let prefix = prefix.unwrap_or("cosmos");
            let hrp = Hrp::parse(prefix)
                .ok()
                .filter(|_| {
                    prefix
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                })
                .ok_or_else(|| ChainError::BadPrefix(prefix.to_string()))?;
            let program = hash160(&compressed(scheme, public_key)?);
            let a = bech32::encode::<Bech32>(hrp, &program)
                .map_err(|_| ChainError::BadPrefix(prefix.to_string()))?;
            ("bech32", a)
        }
        (Chain::Cosmos, _) => return Err(unsupported("cosmos", "use ecdsa-secp256k1")),
        (Chain::Solana, Scheme::EddsaEd25519) => {
            let key: [u8; 32] = public_key
                .try_into()
                .map_err(|_| ChainError::BadKey(scheme))?;
            ed25519_dalek::VerifyingKey::from_bytes(&key)
                .map_err(|_| ChainError::BadKey(scheme))?;
            ("base58", bs58::encode(key).into_string())
        }
        (Chain::Solana, _) => return Err(unsupported("solana", "use eddsa-ed25519")),
    };
    Ok(Address {
        chain,
        kind,
        address,
    })
}

fn bitcoin_hrp(chain: Chain) -> Hrp {
    if chain == Chain::Bitcoin {
        bech32::hrp::BC
    } else {
        bech32::hrp::TB
    }
}

/// The 33-byte compressed SEC1 form of a secp256k1 key, after checking it is on the curve.
fn compressed(scheme: Scheme, public_key: &[u8]) -> Result<Vec<u8>, ChainError> {
    let point =
        k256::PublicKey::from_sec1_bytes(public_key).map_err(|_| ChainError::BadKey(scheme))?;
    Ok(
        k256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&point, true)
            .as_bytes()
            .to_vec(),
    )
}

/// RIPEMD-160 of SHA-256.
fn hash160(data: &[u8]) -> [u8; 20] {
    ripemd::Ripemd160::digest(Sha256::digest(data)).into()
}

/// The EIP-712 signing hash (`keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(message))`)
/// of typed data in the JSON form of `eth_signTypedData_v4`, computed by `alloy-dyn-abi`.
pub fn eip712_digest(json: &[u8]) -> Result<[u8; 32], String> {
    let typed: alloy_dyn_abi::TypedData = serde_json::from_slice(json).map_err(|e| {
        format!("the message is not EIP-712 typed data (eth_signTypedData_v4 JSON): {e}")
    })?;
    let hash = typed
        .eip712_signing_hash()
        .map_err(|e| format!("the EIP-712 typed data cannot be hashed: {e}"))?;
    Ok(hash.0)
}

/// EIP-712 typed data as a signer should read it before confirming: the domain, the
/// primary type, and every field of the message as `path = value`, one per line.
pub fn describe_typed_data(json: &[u8]) -> Option<String> {
    let typed: alloy_dyn_abi::TypedData = serde_json::from_slice(json).ok()?;
    let d = &typed.domain;
    let mut out = String::from("EIP-712 typed data\n");
    let mut field = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            out.push_str(&format!("      domain.{k} = {v}\n"));
        }
    };
    field("name", d.name.as_ref().map(|s| s.to_string()));
    field("version", d.version.as_ref().map(|s| s.to_string()));
    field("chainId", d.chain_id.map(|c| c.to_string()));
    field(
        "verifyingContract",
        d.verifying_contract.map(|a| a.to_checksum(None)),
    );
    field("salt", d.salt.map(|s| s.to_string()));
    out.push_str(&format!("      primaryType = {}\n", typed.primary_type));
    let mut lines = Vec::new();
    flatten("message", &typed.message, &mut lines);
    for l in lines.iter().take(60) {
        out.push_str(&format!("      {l}\n"));
    }
    if lines.len() > 60 {
        out.push_str(&format!("      ... and {} more fields\n", lines.len() - 60));
    }
    Some(out.trim_end().to_string())
}

fn flatten(path: &str, v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                flatten(&format!("{path}.{k}"), v, out);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                flatten(&format!("{path}[{i}]"), v, out);
            }
        }
        serde_json::Value::String(s) => out.push(format!("{path} = {s:?}")),
        other => out.push(format!("{path} = {other}")),
    }
}

/// The EIP-55 mixed-case checksum form of a 20-byte address, with `0x`.
pub fn eip55(address: &[u8]) -> String {
    let lower = hex::encode(address);
    let hash = Keccak256::digest(lower.as_bytes());
    let mut out = String::from("0x");
    for (i, c) in lower.chars().enumerate() {
        let nibble = (hash[i / 2] >> if i % 2 == 0 { 4 } else { 0 }) & 0xf;
        out.push(if nibble >= 8 {
            c.to_ascii_uppercase()
        } else {
            c
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(chain: Chain, scheme: Scheme, key_hex: &str, prefix: Option<&str>) -> String {
        address(chain, scheme, &hex::decode(key_hex).unwrap(), prefix)
            .unwrap()
            .address
    }

    /// BIP173: the P2WPKH examples for the generator point's key.
    #[test]
    fn bip173_p2wpkh() {
        let g = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
        assert_eq!(
            addr(Chain::Bitcoin, Scheme::EcdsaSecp256k1, g, None),
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
        );
        assert_eq!(
            addr(Chain::BitcoinTestnet, Scheme::EcdsaSecp256k1, g, None),
            "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"
        );
    }

    /// BIP86 (and BIP350's bech32m): the first key-path vector. frost-secp256k1-tr's
    /// tweak of the internal key gives the BIP86 output key, and the address of that
    /// output key (what a -tr key stores) is the BIP86 address.
    #[test]
    fn bip86_p2tr_and_the_frost_tweak() {
        use frost_secp256k1_tr::keys::{PublicKeyPackage, Tweak};
        let internal = "cc8a4bc64d897bddc5fbc2f670f7a8ba0b386779106cf1223c6fc5d7cd6fc115";
        let output = "a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c";
        let vk = frost_secp256k1_tr::VerifyingKey::deserialize(
            &hex::decode(format!("02{internal}")).unwrap(),
        )
        .unwrap();
        let tweaked = PublicKeyPackage::new(Default::default(), vk, None).tweak::<&[u8]>(None);
        let q = tweaked.verifying_key().serialize().unwrap();
        assert_eq!(hex::encode(&q[1..]), output);
        assert_eq!(
            addr(
                Chain::Bitcoin,
                Scheme::SchnorrSecp256k1Tr,
                &hex::encode(&q),
                None
            ),
            "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr"
        );
    }

    /// EIP-55's examples (all-caps, all-lower and mixed), and the address of the key of
    /// private key 1.
    #[test]
    fn eip55_examples_and_an_address() {
        for a in [
            "0x52908400098527886E0F7030069857D2E4169EE7",
            "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
            "0xde709f2102306220921060314715629080e2fb77",
            "0x27b1fdb04752bbc536007a920d24acb045561c26",
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        ] {
            assert_eq!(eip55(&hex::decode(a[2..].to_lowercase()).unwrap()), a);
        }
        let g = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
        assert_eq!(
            addr(Chain::Ethereum, Scheme::EcdsaSecp256k1, g, None),
            "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
        );
        assert_eq!(
            addr(
                Chain::Ethereum,
                Scheme::EcdsaSecp256k1,
                "0205e780acb0ae40c49deb690683cd3d1a619f998ada63aaf3330d7d59700a5156",
                None
            ),
            "0xe720947F2A6Faf66d639E11D4466B61D637587af"
        );
    }

    /// The EIP-712 specification's example (Mail from Cow to Bob): its signing hash, and
    /// how it is shown before confirming.
    #[test]
    fn eip712_mail_example() {
        let json = include_bytes!("../../testdata/eip712-mail.json");
        assert_eq!(
            hex::encode(eip712_digest(json).unwrap()),
            "be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"
        );
        let shown = describe_typed_data(json).unwrap();
        for line in [
            "domain.name = Ether Mail",
            "domain.chainId = 1",
            "domain.verifyingContract = 0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC",
            "primaryType = Mail",
            "message.from.name = \"Cow\"",
            "message.to.wallet = \"0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB\"",
            "message.contents = \"Hello, Bob!\"",
        ] {
            assert!(shown.contains(line), "`{line}` not in:\n{shown}");
        }
        assert!(eip712_digest(b"{}").is_err());
        assert!(eip712_digest(b"not json").is_err());
    }

    /// cosmjs's pubkeyToAddress example, and Zondax's ledger-cosmos-js with prefix terra.
    #[test]
    fn cosmos_with_prefixes() {
        use base64::Engine;
        let pk = base64::engine::general_purpose::STANDARD
            .decode("AtQaCqFnshaZQp6rIkvAPyzThvCvXSDO+9AzbxVErqJP")
            .unwrap();
        assert_eq!(
            addr(
                Chain::Cosmos,
                Scheme::EcdsaSecp256k1,
                &hex::encode(pk),
                None
            ),
            "cosmos1h806c7khnvmjlywdrkdgk2vrayy2mmvf9rxk2r"
        );
        assert_eq!(
            addr(
                Chain::Cosmos,
                Scheme::EcdsaSecp256k1,
                "034fef9cd7c4c63588d3b03feb5281b9d232cba34d6f3d71aee59211ffbfe1fe87",
                Some("terra")
            ),
            "terra1w34k53py5v5xyluazqpq65agyajavep29d9qch"
        );
        let g = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
        for bad in ["Cosmos", "", "cos mos"] {
            assert!(matches!(
                address(
                    Chain::Cosmos,
                    Scheme::EcdsaSecp256k1,
                    &hex::decode(g).unwrap(),
                    Some(bad)
                ),
                Err(ChainError::BadPrefix(_))
            ));
        }
    }

    /// A Solana address (bip_utils' vector) is the base58 of the Ed25519 key.
    #[test]
    fn solana() {
        assert_eq!(
            addr(
                Chain::Solana,
                Scheme::EddsaEd25519,
                "f98bc0832e705e2ba354fb4df4e521e622480fa08663280d3992e57df21001db",
                None
            ),
            "Ho87cuS3aSRgUMCeMrV7uNCCWx6Fj2ytnufYQ1W7KCLr"
        );
    }

    #[test]
    fn schemes_that_cannot_hold_a_chain_are_refused() {
        let g = hex::decode("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
            .unwrap();
        for (chain, scheme) in [
            (Chain::Bitcoin, Scheme::SchnorrSecp256k1),
            (Chain::Ethereum, Scheme::SchnorrSecp256k1Tr),
            (Chain::Cosmos, Scheme::SchnorrSecp256k1),
            (Chain::Solana, Scheme::EcdsaSecp256k1),
        ] {
            assert!(matches!(
                address(chain, scheme, &g, None),
                Err(ChainError::Unsupported { .. })
            ));
        }
        assert!(matches!(
            address(Chain::Bitcoin, Scheme::EcdsaSecp256k1, &[5; 33], None),
            Err(ChainError::BadKey(_))
        ));
    }
}
