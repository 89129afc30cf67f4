//! TLS for `mpc serve` (`--tls-cert`, `--tls-key`): rustls on the ring provider, so the
//! build needs no cmake or aws-lc. The certificate chain and key are PEM files, read
//! once at start.
//!
//! Handshakes run on their own tasks with a time limit, so a client that connects and
//! says nothing holds neither the accept loop nor other clients; only finished
//! handshakes reach the HTTP server. A failed handshake is counted
//! (`mpc_tls_handshake_failures_total`), not logged, so a port scanner cannot fill the
//! log.

use crate::error::{Failure, Result};
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types};
use tokio_rustls::server::TlsStream;

/// How long a client may take to finish its handshake.
const HANDSHAKE: Duration = Duration::from_secs(10);

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

/// A listener whose connections have finished a TLS handshake.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Accepts on `tcp` and shakes hands with `acceptor`; must be called on a tokio
    /// runtime. The accept loop ends when the listener is dropped.
    pub fn new(tcp: TcpListener, acceptor: TlsAcceptor) -> io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(accepted) => accepted,
                    Err(_) => {
                        // Out of descriptors and the like: wait, as axum's own loop does.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                if tx.is_closed() {
                    return;
                }
                let _ = stream.set_nodelay(true);
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        _ => metrics::counter!("mpc_tls_handshake_failures_total").increment(1),
                    }
                });
            }
        });
        Ok(TlsListener { ready, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept loop ended (it only does when this listener is gone).
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}
