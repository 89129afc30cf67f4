//! Atomic, private file writes: temp file in the same directory, mode 0600, fsync, rename,
//! fsync of the directory. A reader sees the old file or the new one, never a mixture,
//! and a crash after return cannot lose the write.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically with mode 0600.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let (dir, tmp) = synced_temp(path, bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// A private temporary file beside `path` holding `bytes`, synced to disk; and the
/// directory it is in.
fn synced_temp<'p>(
    path: &'p Path,
    bytes: &[u8],
) -> std::io::Result<(&'p Path, tempfile::NamedTempFile)> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let Some(e) = crate::fault::write_error(path) {
        return Err(e);
    }
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    set_private(tmp.path())?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    Ok((dir, tmp))
}

/// Writes `bytes` to `path` only if no file is there, atomically and durably (a temp
/// file hard-linked into place, which fails if the name exists). Returns false, writing
/// nothing, if `path` already existed: a concurrent writer is never overwritten.
pub fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    let (dir, tmp) = synced_temp(path, bytes)?;
    let linked = match std::fs::hard_link(tmp.path(), path) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
        Err(e) => return Err(e),
    };
    drop(tmp); // removes the temporary name
    if linked {
        sync_dir(dir)?;
    }
    Ok(linked)
}

/// Creates a directory (and parents) with mode 0700. The parent of a directory it
/// creates is synced, so the new directory survives a crash.
pub fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let existed = path.is_dir();
    if !existed && let Some(e) = crate::fault::write_error(path) {
        return Err(e);
    }
    std::fs::create_dir_all(path)?;
    if !existed && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent)?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

fn set_private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Syncs a directory, so that a rename or removal in it survives a crash.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// Removes a file, then syncs its directory; a missing file is fine.
pub fn remove_durably(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    sync_dir(dir)
}

/// An exclusive advisory lock on a file (`flock`), held until dropped or until the
/// process dies.
#[derive(Debug)]
pub struct FileLock {
    _file: std::fs::File,
}

impl FileLock {
    /// Opens (creating, mode 0600) `path` and waits for its exclusive lock.
    pub fn exclusive(path: &Path) -> std::io::Result<FileLock> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        set_private(path)?;
        #[cfg(unix)]
        {
            use std::os::unix::io::AsRawFd;
            loop {
                // SAFETY: flock on a descriptor this function owns.
                let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
                if rc == 0 {
                    break;
                }
                let err = std::io::Error::last_os_error();
                if err.kind() != std::io::ErrorKind::Interrupted {
                    return Err(err);
                }
            }
        }
        Ok(FileLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_private_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
