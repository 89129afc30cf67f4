//! The QR transport: a party's round messages as one fountain-coded stream of QR codes.
//!
//! A *stream* carries one sender's messages of one round: the broadcast and every
//! private message (each already encrypted to its recipient), so each party scans n-1
//! streams per round instead of one per pair. The messages travel as a *bundle*:
//!
//! ```text
//! "MPCB" | version 1 (u8) | count (u16 BE) | count × ( length (u32 BE) | envelope )
//! ```
//!
//! A stream can also carry the public files a ceremony needs before its first round,
//! cards and plans, so that a QR-only ceremony needs no USB stick at all. Such a bundle
//! is version 2, every item tagged with its kind (0 a round message, 1 a card, 2 a plan,
//! as JSON):
//!
//! ```text
//! "MPCB" | version 2 (u8) | count (u16 BE) | count × ( kind (u8) | length (u32 BE) | bytes )
//! ```
//!
//! The bundle is split into fragments and fountain-coded as BC-UR parts
//! (`ur:mpc-msgs/<seq>-<fragments>/<bytewords>`, the `ur` crate). Every part carries the
//! length and CRC-32 of the whole bundle, so parts of two streams never combine, and a
//! camera that misses frames completes from later ones. The envelopes inside are signed
//! and bound to their session, round, sender and recipient as in files; the scanner only
//! checks that they decode, and the ceremony validates them as it does every file.

use crate::envelope::{Envelope, MAX_ENVELOPE_LEN};
use crate::identity::Card;
use crate::plan::Plan;
use image::Luma;
use std::path::Path;

/// The BC-UR type of a stream.
pub const UR_TYPE: &str = "mpc-msgs";

const BUNDLE_MAGIC: &[u8; 4] = b"MPCB";
/// Round messages only.
const BUNDLE_VERSION: u8 = 1;
/// Tagged items: round messages, cards and plans.
const BUNDLE_VERSION_ITEMS: u8 = 2;
/// Largest bundle accepted from a scan (a stream of aux-info messages is about 1 MB).
pub const MAX_BUNDLE: usize = 64 << 20;
/// Quiet zone around every code, in modules (the QR specification asks for 4).
const QUIET: u32 = 4;

/// How much of a message each QR code carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Density {
    /// 200 bytes per code: small codes for poor cameras or small screens
    Low,
    /// 400 bytes per code (the default)
    Normal,
    /// 800 bytes per code: fewer, denser codes for good cameras
    High,
}

impl Density {
    /// Bundle bytes per part.
    pub fn fragment_len(self) -> usize {
        match self {
            Density::Low => 200,
            Density::Normal => 400,
            Density::High => 800,
        }
    }
}

/// What went wrong reading or writing QR data.
#[derive(Debug, thiserror::Error)]
pub enum QrError {
    /// A bundle that is not well formed.
    #[error("not a message bundle: {0}")]
    Bundle(String),
    /// A part that is not a valid `ur:mpc-msgs` part.
    #[error("not a valid ur:{UR_TYPE} part: {0}")]
    Part(String),
    /// A part of another stream.
    #[error(
        "this part belongs to another stream than the parts read before it (a different message or sender); scan each stream on its own"
    )]
    OtherStream,
    /// An image that could not be read.
    #[error("cannot read the image: {0}")]
    Image(String),
    /// Encoding failed.
    #[error("cannot encode: {0}")]
    Encode(String),
}

/// One thing a stream carries.
pub enum Item {
    /// A round message.
    Message(Envelope),
    /// A party's card (its JSON as given).
    Card(Card, Vec<u8>),
    /// A ceremony plan (its JSON as given).
    Plan(Box<Plan>, Vec<u8>),
}

impl Item {
    /// Reads a file's bytes as a round message, a card or a plan.
    pub fn from_bytes(bytes: &[u8]) -> Result<Item, String> {
        if let Ok(env) = Envelope::decode(bytes) {
            return Ok(Item::Message(env));
        }
        if let Ok(card) = Card::from_json(bytes) {
            return Ok(Item::Card(card, bytes.to_vec()));
        }
        match Plan::from_json(bytes) {
            Ok(plan) => Ok(Item::Plan(Box::new(plan.into_inner()), bytes.to_vec())),
            Err(_) => Err("not a round message, a card or a plan".into()),
        }
    }

    fn kind(&self) -> u8 {
        match self {
            Item::Message(_) => 0,
            Item::Card(..) => 1,
            Item::Plan(..) => 2,
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Item::Message(e) => e.as_bytes(),
            Item::Card(_, b) | Item::Plan(_, b) => b,
        }
    }
}

/// Packs items into a bundle: version 1 if they are all round messages (the form every
/// round of a ceremony uses), else version 2.
pub fn bundle(items: &[Item]) -> Vec<u8> {
    let tagged = items.iter().any(|i| !matches!(i, Item::Message(_)));
    let mut out = BUNDLE_MAGIC.to_vec();
    out.push(if tagged {
        BUNDLE_VERSION_ITEMS
    } else {
        BUNDLE_VERSION
    });
    out.extend_from_slice(&(items.len() as u16).to_be_bytes());
    for item in items {
        if tagged {
            out.push(item.kind());
        }
        out.extend_from_slice(&(item.bytes().len() as u32).to_be_bytes());
        out.extend_from_slice(item.bytes());
    }
    out
}

/// Unpacks a bundle into its items: envelopes decoded (not yet validated for a
/// session), cards and plans parsed and validated.
pub fn unbundle(bytes: &[u8]) -> Result<Vec<Item>, QrError> {
    let bad = |m: &str| QrError::Bundle(m.into());
    // The next `N` bytes of `rest`, which moves past them.
    fn take<'a, const N: usize>(rest: &mut &'a [u8]) -> Result<&'a [u8; N], QrError> {
        let (head, tail) = rest
            .split_first_chunk::<N>()
            .ok_or_else(|| QrError::Bundle("truncated".into()))?;
        *rest = tail;
        Ok(head)
    }
    let mut rest = bytes
        .strip_prefix(BUNDLE_MAGIC)
        .ok_or_else(|| bad("wrong magic"))?;
    let [version] = *take::<1>(&mut rest)?;
    if version != BUNDLE_VERSION && version != BUNDLE_VERSION_ITEMS {
        return Err(bad(&format!("version {version} is not supported")));
    }
    let count = u16::from_be_bytes(*take(&mut rest)?);
    let mut out = Vec::with_capacity(count as usize);
    for i in 0..count {
        let [kind] = match version {
            BUNDLE_VERSION => [0],
            _ => *take::<1>(&mut rest)?,
        };
        let len = u32::from_be_bytes(*take(&mut rest)?) as usize;
        if len > MAX_ENVELOPE_LEN {
            return Err(bad("an item is too large"));
        }
        let (body, tail) = rest.split_at_checked(len).ok_or_else(|| bad("truncated"))?;
        let item = |e: String| QrError::Bundle(format!("item {}: {e}", i + 1));
        out.push(match kind {
            0 => Item::Message(Envelope::decode(body).map_err(|e| item(e.to_string()))?),
            1 => Item::Card(
                Card::from_json(body).map_err(|e| item(e.to_string()))?,
                body.to_vec(),
            ),
            2 => Item::Plan(
                Box::new(
                    Plan::from_json(body)
                        .map_err(|e| item(e.to_string()))?
                        .into_inner(),
                ),
                body.to_vec(),
            ),
            k => return Err(item(format!("unknown kind {k}"))),
        });
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(bad("trailing bytes"));
    }
    Ok(out)
}

/// A fountain-coded stream of parts for one bundle.
pub struct Stream {
    encoder: ur::Encoder<'static>,
}

impl Stream {
    /// A stream of `bundle` at `density`.
    pub fn new(bundle: &[u8], density: Density) -> Result<Stream, QrError> {
        let encoder = ur::Encoder::new(bundle, density.fragment_len(), UR_TYPE)
            .map_err(|e| QrError::Encode(e.to_string()))?;
        Ok(Stream { encoder })
    }

    /// How many fragments the bundle has: the fewest parts that can rebuild it.
    pub fn fragments(&self) -> usize {
        self.encoder.fragment_count()
    }

    /// The next part: the fragments in order first, then fountain mixes of them.
    pub fn next_part(&mut self) -> Result<String, QrError> {
        self.encoder
            .next_part()
            .map_err(|e| QrError::Encode(e.to_string()))
    }

    /// The parts to write to files: `count` of them when given, otherwise as many as a
    /// scanner needs to rebuild the bundle from them (the fragment count, unless parts
    /// were left out). A part that `readable` refuses is left out: later parts make up
    /// for it, as they do for a frame a camera misses. Returns the parts and how many
    /// were left out; `progress` hears of each part kept.
    pub fn parts_to_write(
        &mut self,
        count: Option<usize>,
        mut readable: impl FnMut(&str) -> Result<bool, QrError>,
        mut progress: impl FnMut(usize),
    ) -> Result<(Vec<String>, usize), QrError> {
        let fragments = self.fragments();
        let mut check = Scanner::default();
        let (mut parts, mut left_out, mut in_a_row) = (Vec::new(), 0, 0);
        let mut complete = false;
        while match count {
            Some(n) => parts.len() < n.max(1),
            None => !complete,
        } {
            let part = self.next_part()?;
            if !readable(&part)? {
                left_out += 1;
                in_a_row += 1;
                if in_a_row > MAX_UNREADABLE {
                    return Err(QrError::Encode(format!(
                        "{in_a_row} parts in a row do not read back from their own pictures"
                    )));
                }
                continue;
            }
            in_a_row = 0;
            // Only a stream of no set length needs to know when it is complete.
            if count.is_none() {
                complete = check.add(&part)?;
            }
            parts.push(part);
            progress(parts.len());
            if count.is_none() && parts.len() > 2 * fragments + MAX_UNREADABLE {
                return Err(QrError::Encode(format!(
                    "{} parts do not rebuild a stream of {fragments} fragments",
                    parts.len()
                )));
            }
        }
        Ok((parts, left_out))
    }
}

/// Parts in a row [`Stream::parts_to_write`] leaves out before it gives up.
pub const MAX_UNREADABLE: usize = 8;

/// Pixels per module of a PNG frame.
pub const PNG_SCALE: u32 = 4;

/// Whether this program's own scanner reads `part` back from its picture (a frame as
/// `mpc qr show --png` draws it). The scanner misreads a very few codes it is shown
/// perfectly (it fits the grid wrong: "version information corrupt"), whatever the
/// camera; such a frame is better not shown at all.
pub fn readable(part: &str) -> Result<bool, QrError> {
    let img = picture(modules(part)?, PNG_SCALE);
    Ok(matches!(scan(img), Ok(texts) if texts == [part.to_uppercase()]))
}

/// The QR code of one part. Parts are upper-cased so the code uses the compact
/// alphanumeric mode; error correction level L (the fountain code is the redundancy).
fn code(part: &str) -> Result<qrcode::QrCode, QrError> {
    qrcode::QrCode::with_error_correction_level(part.to_uppercase(), qrcode::EcLevel::L)
        .map_err(|e| QrError::Encode(e.to_string()))
}

/// The modules of a code with its quiet zone, row by row (`true` is dark).
fn modules(part: &str) -> Result<(u32, Vec<bool>), QrError> {
    let c = code(part)?;
    let w = c.width() as u32;
    let colors = c.to_colors();
    let size = w + 2 * QUIET;
    let mut out = vec![false; (size * size) as usize];
    for y in 0..w {
        for x in 0..w {
            if colors[(y * w + x) as usize] == qrcode::Color::Dark {
                out[((y + QUIET) * size + x + QUIET) as usize] = true;
            }
        }
    }
    Ok((size, out))
}

/// A part drawn for a terminal with Unicode half blocks (two module rows per line,
/// light modules as background), quiet zone included; returns (columns, text).
pub fn terminal(part: &str) -> Result<(u32, String), QrError> {
    let (size, m) = modules(part)?;
    let dark = |x: u32, y: u32| y < size && m[(y * size + x) as usize];
    let mut s = String::new();
    for y in (0..size).step_by(2) {
        for x in 0..size {
            // Light-on-dark terminals are the common case: draw light modules.
            s.push(match (!dark(x, y), !dark(x, y + 1) && y + 1 < size) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        s.push('\n');
    }
    Ok((size, s))
}

/// A part as a grayscale PNG, `scale` pixels per module.
pub fn png(part: &str, scale: u32) -> Result<Vec<u8>, QrError> {
    let img = picture(modules(part)?, scale);
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| QrError::Encode(e.to_string()))?;
    Ok(out.into_inner())
}

/// Modules (side, row by row) as a black-on-white image, `scale` pixels per module.
fn picture((size, m): (u32, Vec<bool>), scale: u32) -> image::GrayImage {
    image::GrayImage::from_fn(size * scale, size * scale, |x, y| {
        Luma([if m[((y / scale) * size + x / scale) as usize] {
            0
        } else {
            255
        }])
    })
}

/// A part as an SVG document.
pub fn svg(part: &str) -> Result<String, QrError> {
    Ok(code(part)?
        .render::<qrcode::render::svg::Color>()
        .quiet_zone(true)
        .min_dimensions(400, 400)
        .build())
}

/// Every QR code found in an image file (PNG or JPEG), as text.
pub fn read_image(path: &Path) -> Result<Vec<String>, QrError> {
    let img = image::open(path)
        .map_err(|e| QrError::Image(e.to_string()))?
        .to_luma8();
    scan(img)
}

/// Every QR code in `img`. What the scanner takes for a code but cannot decode (the
/// data modules of a real code can look like a finder pattern) is ignored beside a code
/// that decodes, and named when none does.
fn scan(img: image::GrayImage) -> Result<Vec<String>, QrError> {
    // The scanner asserts on some images (a code of one pixel per module): a refusal,
    // not a crash.
    let found = std::panic::catch_unwind(move || {
        let mut prepared = rqrr::PreparedImage::prepare(img);
        prepared
            .detect_grids()
            .into_iter()
            .map(|g| g.decode().map(|(_, text)| text).map_err(|e| e.to_string()))
            .collect::<Vec<_>>()
    })
    .map_err(|_| {
        QrError::Image("the QR scanner cannot read this image (too small or distorted?)".into())
    })?;
    let (texts, failures): (Vec<_>, Vec<_>) = found.into_iter().partition(Result::is_ok);
    if !texts.is_empty() {
        return Ok(texts.into_iter().flatten().collect());
    }
    match failures.into_iter().find_map(Result::err) {
        Some(e) => Err(QrError::Image(format!("a QR code does not decode: {e}"))),
        None => Err(QrError::Image("no QR code found".into())),
    }
}

/// Collects the parts of one stream until the bundle is complete.
#[derive(Default)]
pub struct Scanner {
    decoder: ur::Decoder,
    /// Parts accepted (duplicates included).
    pub parts: usize,
    /// The stream's fragment count, from the first part.
    pub fragments: Option<usize>,
    /// The bundle of a single-part UR.
    single: Option<Vec<u8>>,
}

impl Scanner {
    /// Takes one part (any case; surrounding whitespace ignored). `Ok(true)` once the
    /// bundle is complete.
    pub fn add(&mut self, text: &str) -> Result<bool, QrError> {
        let part = text.trim().to_lowercase();
        let body = part
            .strip_prefix("ur:")
            .ok_or_else(|| QrError::Part("does not start with ur:".into()))?;
        let mut fields = body.split('/');
        if fields.next() != Some(UR_TYPE) {
            return Err(QrError::Part(format!("the type is not {UR_TYPE}")));
        }
        let fragments = match (fields.next(), fields.next()) {
            (Some(seq), Some(_)) => seq
                .split_once('-')
                .and_then(|(_, n)| n.parse::<usize>().ok())
                .ok_or_else(|| QrError::Part("bad sequence field".into()))?,
            (Some(_), None) => {
                // A single-part UR holds the whole bundle.
                if self.parts > 0 {
                    return Err(QrError::OtherStream);
                }
                let (_, data) = ur::decode(&part).map_err(|e| QrError::Part(e.to_string()))?;
                self.single = Some(data);
                self.parts = 1;
                self.fragments = Some(1);
                return Ok(true);
            }
            _ => return Err(QrError::Part("no payload".into())),
        };
        if self.fragments.is_some_and(|f| f != fragments) || self.single.is_some() {
            return Err(QrError::OtherStream);
        }
        // A part inconsistent with the earlier ones is refused before it changes anything.
        if let Err(e) = self.decoder.receive(&part) {
            let text = e.to_string();
            return Err(if text.contains("nconsistent") {
                QrError::OtherStream
            } else {
                QrError::Part(text)
            });
        }
        self.fragments = Some(fragments);
        self.parts += 1;
        Ok(self.decoder.complete())
    }

    /// The bundle, once complete; refuses one past [`MAX_BUNDLE`].
    pub fn bundle(&self) -> Result<Option<Vec<u8>>, QrError> {
        let m = match &self.single {
            Some(data) => Some(data.clone()),
            None => self
                .decoder
                .message()
                .map_err(|e| QrError::Part(e.to_string()))?,
        };
        if m.as_ref().is_some_and(|m| m.len() > MAX_BUNDLE) {
            return Err(QrError::Bundle("too large".into()));
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::{Header, Protocol};
    use crate::identity::Identity;

    fn envelopes(n: usize, size: usize) -> Vec<Item> {
        let id = Identity::generate("alice");
        (0..n)
            .map(|i| {
                let header = Header {
                    scheme: crate::scheme::Scheme::EddsaEd25519.tag(),
                    session: [7; 32],
                    protocol: Protocol::Keygen,
                    round: 1,
                    sender: 1,
                    sender_key: id.card().verifying_key().unwrap().to_bytes(),
                    recipient: i as u16,
                };
                let payload: Vec<u8> = (0..size).map(|k| (k * 31 + i) as u8).collect();
                Item::Message(Envelope::create(&id, header, &payload, None).unwrap())
            })
            .collect()
    }

    fn scan_all(parts: &[String]) -> Result<Vec<u8>, QrError> {
        let mut s = Scanner::default();
        for p in parts {
            if s.add(p)? {
                return Ok(s.bundle()?.unwrap());
            }
        }
        Err(QrError::Part("incomplete".into()))
    }

    #[test]
    fn bundles_round_trip_and_refuse_damage() {
        let envs = envelopes(3, 100);
        let b = bundle(&envs);
        let back = unbundle(&b).unwrap();
        assert_eq!(back.len(), 3);
        assert_eq!(b[4], 1, "messages alone make a version-1 bundle");
        for (a, b) in envs.iter().zip(&back) {
            assert_eq!(a.bytes(), b.bytes());
        }
        assert!(unbundle(&b[..b.len() - 1]).is_err());
        let mut extra = b.clone();
        extra.push(0);
        assert!(unbundle(&extra).is_err());
        assert!(unbundle(b"MPCB\x03\x00\x00").is_err());
    }

    #[test]
    fn cards_and_plans_travel_tagged_and_are_checked() {
        let card = Identity::generate("bob").card();
        let card_json = serde_json::to_vec(&card).unwrap();
        let plan = Plan::Keygen(crate::plan::KeygenPlan {
            version: 1,
            scheme: crate::scheme::Scheme::EddsaEd25519,
            threshold: 2,
            parties: vec![card.clone(), Identity::generate("carol").card()],
            label: "t".into(),
            expires_at: crate::clock::now() + 60,
            nonce: crate::plan::fresh_nonce(),
            aux: None,
        });
        let plan_json = plan.to_json().into_bytes();
        let mut items = envelopes(1, 10);
        items.push(Item::from_bytes(&card_json).unwrap());
        items.push(Item::from_bytes(&plan_json).unwrap());
        let b = bundle(&items);
        assert_eq!(b[4], 2);
        let back = unbundle(&b).unwrap();
        assert!(matches!(&back[1], Item::Card(c, bytes) if *c == card && *bytes == card_json));
        assert!(matches!(&back[2], Item::Plan(p, _) if **p == plan));
        // A damaged card, or an unknown kind, is refused by name.
        let mut bad_card = b.clone();
        let at = b.windows(4).position(|w| w == b"bob\"").unwrap();
        bad_card[at] = b'!';
        let e = unbundle(&bad_card).err().unwrap().to_string();
        assert!(e.contains("item 2"), "{e}");
        let mut unknown = b.clone();
        unknown[7] = 9;
        assert!(
            unbundle(&unknown)
                .err()
                .unwrap()
                .to_string()
                .contains("unknown kind 9")
        );
        assert!(Item::from_bytes(b"{\"hello\": 1}").is_err());
    }

    #[test]
    fn a_stream_completes_from_a_subset_of_parts_and_refuses_another_stream() {
        let b = bundle(&envelopes(2, 3000));
        let mut stream = Stream::new(&b, Density::Normal).unwrap();
        let n = stream.fragments();
        assert!(n > 10, "{n} fragments");
        // A camera that misses every third frame still completes, from fountain parts
        // (how many it needs varies; ten times the fragments is far more than enough).
        let parts: Vec<String> = (0..10 * n).map(|_| stream.next_part().unwrap()).collect();
        let kept: Vec<String> = parts
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 3 != 1)
            .map(|(_, p)| p.clone())
            .collect();
        assert_eq!(scan_all(&kept).unwrap(), b);
        // Parts of another stream (same size, other content) are refused, and the
        // scanner is unchanged by them.
        let other = bundle(&envelopes(2, 3000));
        let mut other_stream = Stream::new(&other, Density::Normal).unwrap();
        let mut s = Scanner::default();
        s.add(&parts[0]).unwrap();
        let foreign = other_stream.next_part().unwrap();
        assert!(matches!(s.add(&foreign), Err(QrError::OtherStream)));
        assert_eq!(s.parts, 1);
        assert!(matches!(
            s.add("ur:bytes/1-2/lpadaobkcy"),
            Err(QrError::Part(_))
        ));
        assert!(matches!(s.add("hello"), Err(QrError::Part(_))));
    }

    #[test]
    fn parts_survive_png_and_a_damaged_image_is_refused() {
        let b = bundle(&envelopes(1, 500));
        let mut stream = Stream::new(&b, Density::Normal).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut s = Scanner::default();
        let mut done = false;
        for i in 0..stream.fragments() {
            let part = stream.next_part().unwrap();
            let path = dir.path().join(format!("{i}.png"));
            std::fs::write(&path, png(&part, 4).unwrap()).unwrap();
            for text in read_image(&path).unwrap() {
                done = s.add(&text).unwrap();
            }
        }
        assert!(done);
        assert_eq!(s.bundle().unwrap().unwrap(), b);
        let part = Stream::new(&b, Density::Normal)
            .unwrap()
            .next_part()
            .unwrap();
        assert!(svg(&part).unwrap().starts_with("<?xml"));
        let (cols, text) = terminal(&part).unwrap();
        assert_eq!(text.lines().count() as u32, cols.div_ceil(2));
        // A truncated PNG, and a picture without a code.
        let bytes = png(&part, 4).unwrap();
        let bad = dir.path().join("bad.png");
        std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
        assert!(matches!(read_image(&bad), Err(QrError::Image(_))));
        let blank = dir.path().join("blank.png");
        image::GrayImage::from_pixel(50, 50, Luma([255]))
            .save(&blank)
            .unwrap();
        assert!(matches!(read_image(&blank), Err(QrError::Image(m)) if m.contains("no QR code")));
    }

    /// A part that does not read back from its picture is left out, and the parts
    /// written still rebuild the stream: by default as many more as that takes, with
    /// `--parts N` exactly N. A stream whose every part is refused is an error.
    #[test]
    fn unreadable_parts_are_left_out_and_the_rest_still_rebuild_the_stream() {
        let b = bundle(&envelopes(2, 900));
        let fragments = Stream::new(&b, Density::Normal).unwrap().fragments();
        assert!(fragments >= 4);
        let all = |_: &str| Ok(true);
        let (parts, left_out) = Stream::new(&b, Density::Normal)
            .unwrap()
            .parts_to_write(None, all, |_| {})
            .unwrap();
        assert_eq!((parts.len(), left_out), (fragments, 0));
        // The third fragment "does not read back": more parts make up for it.
        let third = |p: &str| Ok(!p.starts_with(&format!("ur:{UR_TYPE}/3-")));
        let mut heard = 0;
        let (parts, left_out) = Stream::new(&b, Density::Normal)
            .unwrap()
            .parts_to_write(None, third, |n| heard = n)
            .unwrap();
        assert_eq!(left_out, 1);
        assert!(parts.len() >= fragments, "{} parts", parts.len());
        assert_eq!(heard, parts.len());
        assert!(parts.iter().all(|p| third(p).unwrap()));
        assert_eq!(scan_all(&parts).unwrap(), b);
        let (parts, left_out) = Stream::new(&b, Density::Normal)
            .unwrap()
            .parts_to_write(Some(2), third, |_| {})
            .unwrap();
        assert_eq!((parts.len(), left_out), (2, 0));
        let none = |_: &str| Ok(false);
        let e = Stream::new(&b, Density::Normal)
            .unwrap()
            .parts_to_write(None, none, |_| {})
            .unwrap_err();
        assert!(e.to_string().contains("in a row"), "{e}");
        // Every part of this stream reads back from its own picture.
        assert!(parts.iter().all(|p| readable(p).unwrap()));
    }

    /// The CI failure of 2026-12-01: a frame of `mpc qr show` whose data modules the
    /// scanner also takes for a second code, which does not decode. The real code is
    /// read; a picture too small for the scanner is refused, not a crash.
    #[test]
    fn a_phantom_code_beside_a_real_one_is_ignored_and_a_tiny_picture_refused() {
        let part = include_str!("../../testdata/qr/misread-part.txt").trim();
        let mut prepared = rqrr::PreparedImage::prepare(picture(modules(part).unwrap(), 4));
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 2, "the scanner sees one code only now");
        assert!(grids.iter().any(|g| g.decode().is_err()));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("part.png");
        std::fs::write(&path, png(part, 4).unwrap()).unwrap();
        assert_eq!(read_image(&path).unwrap(), vec![part.to_uppercase()]);
        let tiny = dir.path().join("tiny.png");
        std::fs::write(&tiny, png(part, 1).unwrap()).unwrap();
        assert!(matches!(read_image(&tiny), Err(QrError::Image(m)) if m.contains("cannot read")));
    }
}
