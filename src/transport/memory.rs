//! An in-process carrier: the parties of a session share a [`Board`], an append-only
//! list of envelopes, as a relay would hold them, without files or sockets. A server
//! whose nodes run in one process, and tests that run three parties in one process,
//! use it. Every message still goes through admission.

use super::{Carrier, CarrierError, Incoming};
use crate::envelope::Envelope;
use std::sync::{Arc, Mutex};

/// The shared list of envelopes of one session (or of several: admission sorts them).
#[derive(Clone, Default)]
pub struct Board {
    envelopes: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Board {
    /// An empty board.
    pub fn new() -> Board {
        Board::default()
    }

    /// Posts raw bytes, as anyone on a relay could (tests post forgeries this way).
    pub fn post(&self, bytes: Vec<u8>) {
        self.list().push(bytes);
    }

    /// Everything posted, in order.
    pub fn snapshot(&self) -> Vec<Vec<u8>> {
        self.list().clone()
    }

    fn list(&self) -> std::sync::MutexGuard<'_, Vec<Vec<u8>>> {
        self.envelopes.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One party's view of a [`Board`].
pub struct MemoryCarrier {
    board: Board,
    /// How much of the board this party has dealt with.
    cursor: usize,
}

impl MemoryCarrier {
    /// Party's carrier on `board`.
    pub fn new(board: Board) -> MemoryCarrier {
        MemoryCarrier { board, cursor: 0 }
    }
}

impl Carrier for MemoryCarrier {
    fn incoming(&mut self, session: &[u8; 32], me: u16) -> Result<Vec<Incoming>, CarrierError> {
        let list = self.board.list();
        let new = list[self.cursor.min(list.len())..].to_vec();
        drop(list);
        self.cursor += new.len();
        Ok(new
            .into_iter()
            .filter(|bytes| {
                // As a directory filters by file name: what says it is ours, or
                // addressed to someone else, is not for us. Everything else (another
                // session's, undecodable, forged) goes to admission, which names what
                // is wrong with it. Routing reads the claimed header only; the
                // signature is checked once, by admission.
                Envelope::decode_for_inspection(bytes).map_or(true, |(e, _)| {
                    let h = &e.header;
                    h.session != *session
                        || (h.sender != me && h.recipient().is_none_or(|r| r == me))
                })
            })
            .map(|bytes| Incoming::download("a message from the in-memory board", bytes))
            .collect())
    }

    fn handled(&mut self, _: &Incoming) {}

    fn deliver(&mut self, envelope: &Envelope) -> Result<(), CarrierError> {
        let mut list = self.board.list();
        if !list.iter().any(|b| b == envelope.as_bytes()) {
            list.push(envelope.as_bytes().to_vec());
        }
        Ok(())
    }
}
