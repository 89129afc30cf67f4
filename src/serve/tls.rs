//! TLS for `mpc serve` (`--tls-cert`, `--tls-key`): rustls on the ring provider, so the
//! build needs no cmake or aws-lc. The certificate chain and key are PEM files, read
//! once at start.
//!
//! Handshakes run in each connection's task, within the connection caps and a time
//! limit (see [`super::http`]).

use crate::error::{Failure, Result};
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types};

/// The server's TLS configuration from a PEM certificate chain and a PEM private key.
pub fn load(cert: &Path, key: &Path) -> Result<TlsAcceptor> {
    use pki_types::pem::PemObject;
    let certs: Vec<pki_types::CertificateDer<'static>> =
        pki_types::CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect())
            .map_err(|e| {
                Failure::input(format!(
                    "--tls-cert {}: not a PEM certificate chain",
                    cert.display()
                ))
                .cause(e)
            })?;
    if certs.is_empty() {
        return Err(Failure::input(format!(
            "--tls-cert {}: no certificate in it",
            cert.display()
        ))
        .hint("give the PEM file with the server's certificate first, then its chain"));
    }
    let private = pki_types::PrivateKeyDer::from_pem_file(key).map_err(|e| {
        Failure::input(format!(
            "--tls-key {}: not a PEM private key",
            key.display()
        ))
        .cause(e)
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
        .map_err(|e| Failure::internal("TLS cannot be set up").cause(e))?
        .with_no_client_auth()
        .with_single_cert(certs, private)
        .map_err(|e| {
            Failure::input(format!(
                "--tls-cert {} and --tls-key {} do not make a usable pair",
                cert.display(),
                key.display()
            ))
            .cause(e)
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
