//! The relay's wire format: length-prefixed frames over TCP.
//!
//! A frame is a 4-byte big-endian length `L`, then `L` bytes: one kind byte and the body.
//! Control bodies are JSON; envelopes travel as their raw bytes (already signed, with
//! private payloads already encrypted), so the relay never needs to trust or be trusted.
//!
//! A session on the relay:
//! 1. relay → client `Challenge` `{"v":1,"relay":hex16,"nonce":hex32}`
//! 2. client → relay `Auth` `{"session","party","members","signature"}`: the party's
//!    Ed25519 identity key signs [`auth_message`] (the nonce, the session, its index and
//!    the list of the session's members' keys). The relay answers `Ok` or `Error`.
//! 3. Then any number of `Put` (an envelope; answered `Ok {"new":bool}` or `Error`) and
//!    `Fetch {"after":n}` (answered by one `Msg` per waiting envelope, 8-byte sequence
//!    number then the envelope, and `End {"next":n}`).
//!
//! A serve node's link (node mode), one connection for all of a node's sessions:
//! 1. relay → node `Challenge`, as above.
//! 2. node → relay `NodeAuth` `{"key","signature"}`: the node's identity key signs
//!    [`node_auth_message`]. The relay answers `Ok` or `Error`.
//! 3. Then the node sends `Post` frames ([`post_body`]: flags, recipient keys, payload)
//!    without answers, and the relay pushes each payload to its recipients as a `Push`
//!    frame (the sender's key, then the payload) as soon as it arrives, holding it a
//!    short while for a recipient that is not connected. The relay vouches for nothing:
//!    payloads are envelopes or node messages signed by their senders.
//!
//! An `Error` answer to a frame the relay could not read (too large, unknown kind, bad
//! JSON, wrong order) is followed by closing the connection; an `Error` answer to a
//! readable `Put` (a bad envelope, a limit) leaves the connection open.

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};
use std::io::{self, Read, Write};

/// The protocol version in `Challenge`.
pub const VERSION: u8 = 1;

/// The largest control frame either side accepts.
pub const MAX_CONTROL: usize = 64 * 1024;

/// What a frame is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// relay → client: a fresh nonce to sign.
    Challenge = 1,
    /// client → relay: who I am, signed.
    Auth = 2,
    /// relay → client: the last request succeeded.
    Ok = 3,
    /// relay → client: the last request failed, with the reason.
    Error = 4,
    /// client → relay: store this envelope.
    Put = 5,
    /// client → relay: send what is for me after this sequence number.
    Fetch = 6,
    /// relay → client: one envelope.
    Msg = 7,
    /// relay → client: no more envelopes for now.
    End = 8,
    /// node → relay: authenticate a serve node's long-lived link (node mode).
    NodeAuth = 9,
    /// node → relay: forward a payload to these nodes (node mode).
    Post = 10,
    /// relay → node: a payload another node posted (node mode).
    Push = 11,
}

impl Kind {
    fn from_byte(b: u8) -> Option<Kind> {
        Some(match b {
            1 => Kind::Challenge,
            2 => Kind::Auth,
            3 => Kind::Ok,
            4 => Kind::Error,
            5 => Kind::Put,
            6 => Kind::Fetch,
            7 => Kind::Msg,
            8 => Kind::End,
            9 => Kind::NodeAuth,
            10 => Kind::Post,
            11 => Kind::Push,
            _ => return None,
        })
    }
}

/// A frame that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The peer closed the connection between frames.
    #[error("the connection was closed")]
    Closed,
    /// Reading failed, or the peer closed the connection inside a frame.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The announced length is over the limit.
    #[error("a frame of {len} bytes is over the limit of {max}")]
    TooLarge {
        /// Announced length.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// A zero-length frame (no kind byte).
    #[error("an empty frame")]
    Empty,
    /// An unknown kind byte.
    #[error("unknown frame kind {0}")]
    UnknownKind(u8),
    /// A control body that is not the expected JSON.
    #[error("a malformed {kind:?} frame: {reason}")]
    Malformed {
        /// The frame kind.
        kind: Kind,
        /// What was wrong.
        reason: String,
    },
    /// A frame of a kind not expected here.
    #[error("expected a {expected:?} frame, got {got:?}")]
    Unexpected {
        /// What was expected.
        expected: Kind,
        /// What came.
        got: Kind,
    },
}

/// One frame.
#[derive(Debug)]
pub struct Frame {
    /// The kind.
    pub kind: Kind,
    /// The body.
    pub body: Vec<u8>,
}

impl Frame {
    /// The body as JSON of type `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, FrameError> {
        serde_json::from_slice(&self.body).map_err(|e| FrameError::Malformed {
            kind: self.kind,
            reason: e.to_string(),
        })
    }

    /// The frame whose kind byte and body are `bytes` (what follows the length, as a
    /// length-delimited codec hands it over).
    pub fn from_bytes(bytes: &[u8]) -> Result<Frame, FrameError> {
        let (&kind, body) = bytes.split_first().ok_or(FrameError::Empty)?;
        Ok(Frame {
            kind: Kind::from_byte(kind).ok_or(FrameError::UnknownKind(kind))?,
            body: body.to_vec(),
        })
    }

    /// Requires the kind to be `expected`.
    pub fn expect(self, expected: Kind) -> Result<Frame, FrameError> {
        if self.kind == expected {
            Ok(self)
        } else {
            Err(FrameError::Unexpected {
                expected,
                got: self.kind,
            })
        }
    }
}

/// Writes one frame.
pub fn write_frame(w: &mut impl Write, kind: Kind, body: &[u8]) -> io::Result<()> {
    let len = u32::try_from(body.len() + 1)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    // One write: a frame goes out as one segment, and its reader wakes once for it.
    let mut frame = Vec::with_capacity(5 + body.len());
    frame.extend_from_slice(&len.to_be_bytes());
    frame.push(kind as u8);
    frame.extend_from_slice(body);
    w.write_all(&frame)?;
    w.flush()
}

/// A frame's kind byte and body, without the length (for a length-delimited codec,
/// which writes the length).
pub fn frame_bytes(kind: Kind, body: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(body.len() + 1);
    frame.push(kind as u8);
    frame.extend_from_slice(body);
    frame
}

/// tokio-util's codec for these frames, taking bodies of at most `max` bytes: a frame
/// is that codec's 4-byte big-endian length, then [`frame_bytes`].
pub fn codec(max: usize) -> tokio_util::codec::LengthDelimitedCodec {
    tokio_util::codec::LengthDelimitedCodec::builder()
        .length_field_length(4)
        .big_endian()
        .max_frame_length(max + 1)
        .new_codec()
}

/// Writes one JSON control frame.
pub fn write_json(w: &mut impl Write, kind: Kind, value: &impl Serialize) -> io::Result<()> {
    let body = serde_json::to_vec(value).map_err(io::Error::other)?;
    write_frame(w, kind, &body)
}

/// Reads one frame whose body is at most `max` bytes. The length is checked before
/// anything else is read, so an oversized frame costs the reader nothing.
pub fn read_frame(r: &mut impl Read, max: usize) -> Result<Frame, FrameError> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match r.read(&mut len[got..]) {
            Ok(0) if got == 0 => return Err(FrameError::Closed),
            Ok(0) => return Err(FrameError::Io(io::ErrorKind::UnexpectedEof.into())),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    let len = u32::from_be_bytes(len) as usize;
    if len == 0 {
        return Err(FrameError::Empty);
    }
    if len - 1 > max {
        return Err(FrameError::TooLarge { len: len - 1, max });
    }
    let mut kind = [0u8; 1];
    r.read_exact(&mut kind)?;
    let kind = Kind::from_byte(kind[0]).ok_or(FrameError::UnknownKind(kind[0]))?;
    let mut body = vec![0u8; len - 1];
    r.read_exact(&mut body)?;
    Ok(Frame { kind, body })
}

/// `Challenge`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Challenge {
    /// [`VERSION`].
    pub v: u8,
    /// This relay process's random id, hex: a client that sees it change knows the relay
    /// restarted and lost what it held.
    pub relay: String,
    /// 32 random bytes, hex.
    pub nonce: String,
    /// The largest message (node mode: payload) the relay takes, bytes; a client
    /// refuses a larger one itself rather than have the relay close its connection.
    /// Absent from relays before 0.1.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_message: Option<u64>,
}

/// `Auth`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    /// The session id, hex.
    pub session: String,
    /// The party's 1-based index in the plan.
    pub party: u16,
    /// Every party's Ed25519 key in plan order, hex.
    pub members: Vec<String>,
    /// Ed25519 signature over [`auth_message`], hex.
    pub signature: String,
}

/// `Ok` after `Auth`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Welcome {
    /// Messages the relay holds for the session.
    pub held: usize,
    /// The largest envelope the relay accepts.
    pub max_message: usize,
    /// How many envelopes one session may hold.
    pub max_messages: usize,
    /// Seconds until the relay forgets the session.
    pub expires_in: u64,
}

/// `Ok` after `Put`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Stored {
    /// False when the relay already had this exact envelope.
    pub new: bool,
}

/// `Fetch`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fetch {
    /// Send envelopes with sequence numbers above this.
    pub after: u64,
}

/// `End`.
#[derive(Debug, Serialize, Deserialize)]
pub struct End {
    /// The sequence number to ask after next time.
    pub next: u64,
}

/// `Error`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Refusal {
    /// Why.
    pub error: String,
}

/// What a party signs to authenticate: domain-separated from envelope signatures (which
/// start with the envelope magic), and bound to the relay's nonce, the session, the
/// party's index and the exact member list.
pub fn auth_message(
    nonce: &[u8; 32],
    session: &[u8; 32],
    party: u16,
    members: &[[u8; 32]],
) -> Vec<u8> {
    let mut h = Sha256::new();
    for m in members {
        h.update(m);
    }
    let mut msg = b"mpc relay auth v1\0".to_vec();
    msg.extend_from_slice(nonce);
    msg.extend_from_slice(session);
    msg.extend_from_slice(&party.to_be_bytes());
    msg.extend_from_slice(&h.finalize());
    msg
}

/// `NodeAuth`: a serve node's link, authenticated once for all its sessions.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeAuth {
    /// The node's Ed25519 identity key, hex.
    pub key: String,
    /// Ed25519 signature over [`node_auth_message`], hex.
    pub signature: String,
}

/// What a serve node signs to open its link: domain-separated from session
/// authentication and envelopes, and bound to the relay's nonce.
pub fn node_auth_message(nonce: &[u8; 32], key: &[u8; 32]) -> Vec<u8> {
    let mut msg = b"mpc relay node v1\0".to_vec();
    msg.extend_from_slice(nonce);
    msg.extend_from_slice(key);
    msg
}

/// `Post` flag: drop the payload for a node that is not connected instead of holding
/// it (presence beats, which are stale by the time anyone reads them).
pub const POST_EPHEMERAL: u8 = 1;

/// A `Post` body: flags, the number of recipients, their keys, then the payload.
pub fn post_body(flags: u8, to: &[[u8; 32]], payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(2 + 32 * to.len() + payload.len());
    body.push(flags);
    body.push(u8::try_from(to.len()).unwrap_or(u8::MAX));
    for k in to.iter().take(255) {
        body.extend_from_slice(k);
    }
    body.extend_from_slice(payload);
    body
}

/// A `Post` body's parts.
pub struct Post<'a> {
    /// Flags ([`POST_EPHEMERAL`]).
    pub flags: u8,
    /// The recipients' keys.
    pub to: Vec<[u8; 32]>,
    /// The payload.
    pub payload: &'a [u8],
}

/// A `Post` body's parts. `None` if it is too short.
pub fn parse_post(body: &[u8]) -> Option<Post<'_>> {
    let (&flags, rest) = body.split_first()?;
    let (&n, rest) = rest.split_first()?;
    let keys_len = 32 * usize::from(n);
    if rest.len() < keys_len {
        return None;
    }
    let (keys, payload) = rest.split_at(keys_len);
    let to = keys
        .chunks_exact(32)
        .map(|c| c.try_into().expect("32-byte chunk"))
        .collect();
    Some(Post { flags, to, payload })
}

/// Decodes fixed-length hex.
pub fn hex_array<const N: usize>(s: &str) -> Option<[u8; N]> {
    hex::decode(s).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_limits_hold() {
        let mut buf = Vec::new();
        write_frame(&mut buf, Kind::Put, b"hello").unwrap();
        write_json(&mut buf, Kind::Fetch, &Fetch { after: 7 }).unwrap();
        let mut r = &buf[..];
        let f = read_frame(&mut r, 10).unwrap();
        assert_eq!((f.kind, f.body.as_slice()), (Kind::Put, &b"hello"[..]));
        let f: Fetch = read_frame(&mut r, 100).unwrap().json().unwrap();
        assert_eq!(f.after, 7);
        assert!(matches!(read_frame(&mut r, 10), Err(FrameError::Closed)));

        let mut r = &buf[..];
        assert!(matches!(
            read_frame(&mut r, 4),
            Err(FrameError::TooLarge { len: 5, max: 4 })
        ));
        let mut r = &[0u8, 0, 0, 0][..];
        assert!(matches!(read_frame(&mut r, 4), Err(FrameError::Empty)));
        let mut r = &[0u8, 0, 0, 1, 99][..];
        assert!(matches!(
            read_frame(&mut r, 4),
            Err(FrameError::UnknownKind(99))
        ));
        let mut r = &buf[..7];
        assert!(matches!(read_frame(&mut r, 10), Err(FrameError::Io(_))));
        let mut r = &buf[..2];
        assert!(matches!(read_frame(&mut r, 10), Err(FrameError::Io(_))));
    }

    #[test]
    fn the_codec_reads_and_writes_these_frames() {
        use tokio_util::codec::{Decoder, Encoder};
        let mut written = Vec::new();
        write_frame(&mut written, Kind::Push, b"payload").unwrap();
        let mut encoded = bytes::BytesMut::new();
        codec(100)
            .encode(&frame_bytes(Kind::Push, b"payload")[..], &mut encoded)
            .unwrap();
        assert_eq!(encoded.as_ref(), written.as_slice());
        let mut buf = bytes::BytesMut::from(written.as_slice());
        let f = Frame::from_bytes(&codec(100).decode(&mut buf).unwrap().unwrap()).unwrap();
        assert_eq!((f.kind, f.body.as_slice()), (Kind::Push, &b"payload"[..]));
        // Over the limit, empty, or of an unknown kind: refused.
        let mut buf = bytes::BytesMut::from(written.as_slice());
        assert!(codec(6).decode(&mut buf).is_err());
        assert!(matches!(Frame::from_bytes(&[]), Err(FrameError::Empty)));
        assert!(matches!(
            Frame::from_bytes(&[99]),
            Err(FrameError::UnknownKind(99))
        ));
    }

    #[test]
    fn post_bodies_round_trip_and_short_ones_are_refused() {
        let body = post_body(POST_EPHEMERAL, &[[1; 32], [2; 32]], b"hi");
        let p = parse_post(&body).unwrap();
        assert_eq!(
            (p.flags, p.to, p.payload),
            (1, vec![[1; 32], [2; 32]], &b"hi"[..])
        );
        assert!(parse_post(&body[..40]).is_none());
        assert!(parse_post(&[]).is_none());
        assert_ne!(
            node_auth_message(&[1; 32], &[2; 32]),
            node_auth_message(&[2; 32], &[2; 32])
        );
    }

    #[test]
    fn auth_message_binds_every_field() {
        let base = auth_message(&[1; 32], &[2; 32], 1, &[[3; 32], [4; 32]]);
        assert_ne!(
            base,
            auth_message(&[9; 32], &[2; 32], 1, &[[3; 32], [4; 32]])
        );
        assert_ne!(
            base,
            auth_message(&[1; 32], &[9; 32], 1, &[[3; 32], [4; 32]])
        );
        assert_ne!(
            base,
            auth_message(&[1; 32], &[2; 32], 2, &[[3; 32], [4; 32]])
        );
        assert_ne!(
            base,
            auth_message(&[1; 32], &[2; 32], 1, &[[4; 32], [3; 32]])
        );
    }
}
