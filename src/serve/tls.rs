//! TLS for `mpc serve` (`--tls-cert`, `--tls-key`): rustls on the ring provider, so the
//! build needs no cmake or aws-lc. The certificate chain and key are PEM files, read
//! once at start.
//!
//! Handshakes run in each connection's task, within the connection caps and a time
//! limit (see [`super::http`]).

use std::path::Path;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types};

/// Why the TLS configuration cannot be made: the files given are not usable (the
/// operator's to fix; `hint` says how where it can), or rustls refused to set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file is not what it should be.
    #[error("{what}")]
    Files {
        /// What is wrong, naming the option and the file.
        what: String,
        /// The parser's or rustls's words.
        cause: Option<String>,
        /// How to fix it, where there is something to say.
        hint: Option<&'static str>,
    },
    /// rustls cannot be set up at all.
    #[error("TLS cannot be set up: {0}")]
    Setup(String),
}

fn files(what: String, cause: impl std::fmt::Display) -> TlsError {
    TlsError::Files {
        what,
        cause: Some(cause.to_string()),
        hint: None,
    }
}

/// The server's TLS configuration from a PEM certificate chain and a PEM private key.
pub fn load(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    use pki_types::pem::PemObject;
    let certs: Vec<pki_types::CertificateDer<'static>> =
        pki_types::CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect())
            .map_err(|e| {
                files(
                    format!("--tls-cert {}: not a PEM certificate chain", cert.display()),
                    e,
                )
            })?;
    if certs.is_empty() {
        return Err(TlsError::Files {
            what: format!("--tls-cert {}: no certificate in it", cert.display()),
            cause: None,
            hint: Some("give the PEM file with the server's certificate first, then its chain"),
        });
    }
    let private = pki_types::PrivateKeyDer::from_pem_file(key).map_err(|e| {
        files(
            format!("--tls-key {}: not a PEM private key", key.display()),
            e,
        )
    })?;
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(key) {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            super::log(&format!(
                "warning: the TLS key {} can be read by other users (chmod 600 it)",
                key.display()
            ));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, private)
        .map_err(|e| {
            files(
                format!(
                    "--tls-cert {} and --tls-key {} do not make a usable pair",
                    cert.display(),
                    key.display()
                ),
                e,
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
