//! The directory transport: a shared folder or a USB stick.
//!
//! Each envelope is a file named `<session8>-<protocol>-r<round>-p<sender>-to-<k|all>.mpcmsg`
//! (see [`crate::envelope::file_name`]). A party reads the files of its session that are
//! broadcast or addressed to it, and skips files that are named as addressed to someone
//! else or sent by itself. Names are only a filter: the content decides, and a file whose
//! content does not match its name is rejected.

use crate::envelope::{Envelope, NameInfo, looks_like_envelope, parse_name, session_prefix};
use crate::store::fsutil::{write_atomic, write_new};
use std::path::{Path, PathBuf};

/// A file as it was when this process last read or wrote it: length and modification
/// time. A waiting process polls the directory several times a second; a file whose
/// stamp has not changed since it was accepted or delivered is not read again.
type Stamp = (u64, std::time::SystemTime);

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.len(), m.modified().ok()?))
}

/// Where [`DirTransport::place`] put an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// Written to this new file.
    Written(PathBuf),
    /// This file already held the same envelope.
    Present(PathBuf),
    /// This file holds a different envelope; nothing was written.
    Occupied(PathBuf),
}

/// A message directory.
#[derive(Debug)]
pub struct DirTransport {
    dir: PathBuf,
    /// Files known to hold what was accepted from them or delivered to them.
    known: std::cell::RefCell<std::collections::HashMap<PathBuf, Stamp>>,
}

impl DirTransport {
    /// Uses `dir`, which must exist.
    pub fn new(dir: &Path) -> std::io::Result<DirTransport> {
        if !dir.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{} is not a directory", dir.display()),
            ));
        }
        Ok(DirTransport {
            dir: dir.to_path_buf(),
            known: Default::default(),
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Whether `path` is unchanged since [`DirTransport::remember`] was called for it.
    pub fn unchanged(&self, path: &Path) -> bool {
        let known = self.known.borrow().get(path).copied();
        known.is_some() && known == stamp(path)
    }

    /// Records that `path`, as it is now, has been dealt with.
    pub fn remember(&self, path: &Path) {
        if let Some(s) = stamp(path) {
            self.known.borrow_mut().insert(path.to_path_buf(), s);
        }
    }

    /// The message files of `session`, sorted by name, with what their names say (if the
    /// name is canonical).
    fn session_files(
        &self,
        session: &[u8; 32],
    ) -> std::io::Result<Vec<(PathBuf, Option<NameInfo>)>> {
        let prefix = format!("{}-", session_prefix(session));
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(&prefix)
                && name.ends_with(".mpcmsg")
                && entry.file_type()?.is_file()
            {
                out.push((entry.path(), parse_name(&name)));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Files of `session` that may be for party `me`: all but those named as sent by `me`
    /// or addressed to someone else.
    pub fn candidates(
        &self,
        session: &[u8; 32],
        me: u16,
    ) -> std::io::Result<Vec<(PathBuf, Option<NameInfo>)>> {
        let mut out = self.session_files(session)?;
        out.retain(|(_, info)| {
            !info
                .as_ref()
                .is_some_and(|i| i.sender == me || i.recipient.is_some_and(|r| r != me))
        });
        Ok(out)
    }

    /// Files of `session` named as sent by `me`, sorted by name.
    pub fn sent_by(&self, session: &[u8; 32], me: u16) -> std::io::Result<Vec<PathBuf>> {
        let files = self.session_files(session)?;
        Ok(files
            .into_iter()
            .filter(|(_, info)| info.as_ref().is_some_and(|i| i.sender == me))
            .map(|(path, _)| path)
            .collect())
    }

    /// Stores an incoming envelope under its canonical name, never overwriting a
    /// different message: a file that holds another envelope is left as it is.
    ///
    /// The new file is linked into place only if the name is free, so a message written
    /// by a concurrent process between the check and the write is never replaced; only a
    /// file that is not an envelope at all (damaged, truncated) is overwritten.
    pub fn place(&self, env: &Envelope) -> std::io::Result<Placed> {
        let path = self.dir.join(env.file_name());
        if write_new(&path, env.as_bytes())? {
            return Ok(Placed::Written(path));
        }
        match std::fs::read(&path) {
            Ok(existing) if existing == env.as_bytes() => Ok(Placed::Present(path)),
            Ok(existing) if looks_like_envelope(&existing) => Ok(Placed::Occupied(path)),
            _ => {
                write_atomic(&path, env.as_bytes())?;
                Ok(Placed::Written(path))
            }
        }
    }

    /// Writes an envelope under its canonical name unless an identical file is there.
    /// Returns whether it wrote.
    pub fn deliver(&self, env: &Envelope) -> std::io::Result<bool> {
        let path = self.dir.join(env.file_name());
        if self.unchanged(&path) || std::fs::read(&path).is_ok_and(|b| b == env.as_bytes()) {
            self.remember(&path);
            return Ok(false);
        }
        write_atomic(&path, env.as_bytes())?;
        self.remember(&path);
        Ok(true)
    }
}

impl super::Carrier for DirTransport {
    fn incoming(
        &mut self,
        session: &[u8; 32],
        me: u16,
    ) -> Result<Vec<super::Incoming>, super::CarrierError> {
        let candidates = self
            .candidates(session, me)
            .map_err(|e| super::CarrierError::Read {
                place: self.dir.display().to_string(),
                reason: e.to_string(),
            })?;
        Ok(candidates
            .into_iter()
            .filter(|(path, _)| !self.unchanged(path))
            .map(|(path, name)| super::Incoming {
                origin: path.display().to_string(),
                bytes: std::fs::read(&path).map_err(|e| e.to_string()),
                name,
                stops: true,
            })
            .collect())
    }

    fn handled(&mut self, incoming: &super::Incoming) {
        self.remember(Path::new(&incoming.origin));
    }

    fn deliver(&mut self, envelope: &Envelope) -> Result<(), super::CarrierError> {
        DirTransport::deliver(self, envelope)
            .map(|_| ())
            .map_err(|e| super::CarrierError::Write {
                place: self.dir.display().to_string(),
                reason: e.to_string(),
            })
    }
}
