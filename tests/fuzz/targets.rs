//! The fuzz targets: every parser of untrusted bytes, each a function that must return
//! (with any result) for any input, without panicking, hanging or allocating beyond its
//! documented cap. Shared by the in-suite fuzzer (`tests/fuzz.rs`, stable Rust) and the
//! `cargo fuzz` targets in `fuzz/` (nightly, for long runs).

#![allow(dead_code)]

use mpc::envelope::Envelope;
use mpc::identity::Card;
use mpc::plan::{HashMode, Plan};
use mpc::transport::qr;
use mpc::transport::wire;

/// A round message, binary or armored, as from a file or a download; the inspection
/// decoder too.
pub fn envelope(data: &[u8]) {
    if let Ok(env) = Envelope::decode(data) {
        let _ = env.file_name();
        let _ = env.digest();
    }
    let _ = Envelope::decode_for_inspection(data);
    let _ = mpc::envelope::looks_like_envelope(data);
}

/// A plan file.
pub fn plan(data: &[u8]) {
    if let Ok(plan) = Plan::from_json(data) {
        let _ = plan.session_id();
        let _ = plan.fingerprint();
        let _ = plan.digest();
        let _ = mpc::ceremony::describe_plan(&plan, 1);
    }
}

/// A card.
pub fn card(data: &[u8]) {
    if let Ok(card) = Card::from_json(data) {
        let _ = card.validate();
        let _ = card.verifying_key();
        let _ = card.recipient();
    }
}

/// A QR bundle (what a scan reassembles) and the items in it.
pub fn qr_bundle(data: &[u8]) {
    let _ = qr::unbundle(data);
    let _ = qr::Item::from_bytes(data);
}

/// `ur:` parts as typed or scanned, one per line.
pub fn ur_parts(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut scanner = qr::Scanner::default();
    for line in text.lines() {
        let _ = scanner.add(line);
    }
    let _ = scanner.bundle();
}

/// The relay's wire frames, as a client or the relay reads them.
pub fn wire_frames(data: &[u8]) {
    let mut r = data;
    for _ in 0..8 {
        match wire::read_frame(&mut r, wire::MAX_CONTROL) {
            Ok(f) => {
                let _ = f.json::<wire::Auth>();
                let _ = f.json::<wire::Fetch>();
                let _ = f.json::<wire::Challenge>();
            }
            Err(_) => break,
        }
    }
}

/// A backup's age header, as `inspect` and `keys restore` read it first.
pub fn backup_header(data: &[u8]) {
    let _ = mpc::lifecycle::backup::needs_passphrase(data);
}

/// EIP-712 typed data, whose signing hash a plan signs.
pub fn eip712(data: &[u8]) {
    let _ = mpc::plan::digest_of(HashMode::Eip712, data);
}

/// A BIP32 derivation path.
pub fn hd_path(data: &[u8]) {
    let _ = mpc::plan::parse_path(&String::from_utf8_lossy(data));
}

/// A fuzz target: any bytes in, no result out.
pub type Target = fn(&[u8]);

/// Every target by name.
pub const TARGETS: &[(&str, Target)] = &[
    ("envelope", envelope),
    ("plan", plan),
    ("card", card),
    ("qr_bundle", qr_bundle),
    ("ur_parts", ur_parts),
    ("wire_frames", wire_frames),
    ("backup_header", backup_header),
    ("eip712", eip712),
    ("hd_path", hd_path),
];
