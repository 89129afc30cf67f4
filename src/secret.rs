//! A wrapper for secret values.
//!
//! `Secret<T>` has a redacted `Debug`, no `Display`, no `Serialize` and no `Clone`, and
//! zeroizes its contents when dropped. Everything secret that this crate holds in memory
//! (share bytes, session journals, identity keys in their serialized form) lives in one.

use std::fmt;
use zeroize::Zeroize;

/// A secret value, zeroized on drop and never printed.
pub struct Secret<T: Zeroize>(T);

impl<T: Zeroize> Secret<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// Borrows the secret. Callers must not copy it anywhere that outlives the borrow.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Borrows the secret mutably (to fill it in place, so no copy is left behind).
    pub fn expose_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

/// Secret bytes.
pub type SecretBytes = Secret<Vec<u8>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new(b"hunter2".to_vec());
        assert_eq!(format!("{s:?}"), "Secret([REDACTED])");
        assert_eq!(s.expose(), b"hunter2");
    }
}
