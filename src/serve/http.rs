//! The HTTP server of a node: the accept loop, TLS handshakes, and HTTP/1.1 over
//! hyper with the limits a node keeps against clients that connect and then stall
//! (SECURITY.md "Hardening").
//!
//! Written here rather than `axum::serve`, which sets no timer, so hyper enforces no
//! header-read timeout, and which has no connection caps:
//! - a connection that has not sent a whole request head within `header_read` is
//!   closed (hyper's `header_read_timeout`), and so is one that moves no byte for
//!   `idle` while no request of it is being answered;
//! - at most `per_address` connections from one client address and `total` in all
//!   (below the process's file-descriptor limit): a connection over either cap is
//!   closed at once, so a flood of idle connections cannot take the descriptors that
//!   other clients, the database and the bus need;
//! - TLS handshakes run inside the connection's task, under the same caps, within
//!   `handshake`; a failed one is counted (`mpc_tls_handshake_failures_total`), not
//!   logged, so a port scanner cannot fill the log.
//!
//! Each request carries the client's address as `ConnectInfo<SocketAddr>`, which the
//! API's limit on requests without a valid token is keyed by.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// What a node allows each connection.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// A request head must arrive whole within this.
    pub header_read: Duration,
    /// A connection with no request being answered that moves no byte for this long
    /// is closed.
    pub idle: Duration,
    /// A TLS handshake must finish within this.
    pub handshake: Duration,
    /// Connections at once from one client address.
    pub per_address: usize,
    /// Connections at once in all.
    pub total: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read: Duration::from_secs(10),
            idle: Duration::from_secs(60),
            handshake: Duration::from_secs(10),
            per_address: 256,
            total: default_total(),
        }
    }
}

/// Connections in all by default: 4096, or fewer where the process may open fewer
/// files (128 are kept for the database, the bus, share files and sessions).
pub fn default_total() -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct it is given and nothing else.
    let soft = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
        usize::try_from(lim.rlim_cur).unwrap_or(usize::MAX)
    } else {
        1024
    };
    soft.saturating_sub(128).clamp(16, 4096)
}

/// Serves `app` on `listener` (over TLS with `tls`) until `shutdown` completes; then
/// stops accepting, lets the connections finish what they are answering, within
/// `drain`, and closes the rest.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
    drain: Duration,
) {
    let open = Arc::new(Mutex::new(Open::default()));
    let (stop, stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(_) => {
                    // Out of descriptors and the like: wait, as axum's own loop does.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(admitted) = Admitted::new(&open, peer.ip(), &limits) else {
            super::metrics::connection_refused();
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        tasks.spawn(connection(
            stream,
            peer,
            tls.clone(),
            app.clone(),
            limits,
            stopped.clone(),
            admitted,
        ));
    }
    drop(listener);
    let _ = stop.send(true);
    let _ = tokio::time::timeout(drain, async { while tasks.join_next().await.is_some() {} }).await;
    tasks.shutdown().await;
}

/// Connections open now, per address and in all.
#[derive(Default)]
struct Open {
    per: HashMap<IpAddr, usize>,
    total: usize,
}

/// A connection counted against the caps until it is dropped.
struct Admitted {
    open: Arc<Mutex<Open>>,
    ip: IpAddr,
}

impl Admitted {
    fn new(open: &Arc<Mutex<Open>>, ip: IpAddr, limits: &Limits) -> Option<Admitted> {
        let mut o = super::lock(open);
        let mine = o.per.get(&ip).copied().unwrap_or(0);
        if o.total >= limits.total || mine >= limits.per_address {
            return None;
        }
        o.total += 1;
        o.per.insert(ip, mine + 1);
        Some(Admitted {
            open: Arc::clone(open),
            ip,
        })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut o = super::lock(&self.open);
        o.total = o.total.saturating_sub(1);
        if let Some(n) = o.per.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                o.per.remove(&self.ip);
            }
        }
    }
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    app: Router,
    limits: Limits,
    stopped: watch::Receiver<bool>,
    _admitted: Admitted,
) {
    match tls {
        None => http(stream, peer, app, limits, stopped).await,
        Some(acceptor) => {
            match tokio::time::timeout(limits.handshake, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => http(tls, peer, app, limits, stopped).await,
                _ => metrics::counter!("mpc_tls_handshake_failures_total").increment(1),
            }
        }
    }
}

/// What a connection is doing: when it last moved a byte, and how many of its requests
/// are being answered.
struct Activity {
    since: Instant,
    last_ms: AtomicU64,
    answering: AtomicUsize,
}

impl Activity {
    fn touch(&self) {
        let ms = u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        self.since
            .elapsed()
            .saturating_sub(Duration::from_millis(self.last_ms.load(Ordering::Relaxed)))
    }
}

/// A request being answered, counted until its response is made.
struct Answering(Arc<Activity>);

impl Answering {
    fn new(a: &Arc<Activity>) -> Answering {
        a.answering.fetch_add(1, Ordering::SeqCst);
        Answering(Arc::clone(a))
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.answering.fetch_sub(1, Ordering::SeqCst);
        self.0.touch();
    }
}

async fn http<I>(
    io: I,
    peer: SocketAddr,
    app: Router,
    limits: Limits,
    mut stopped: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity {
        since: Instant::now(),
        last_ms: AtomicU64::new(0),
        answering: AtomicUsize::new(0),
    });
    let io = TokioIo::new(Watched {
        inner: io,
        activity: Arc::clone(&activity),
    });
    let service = {
        let activity = Arc::clone(&activity);
        tower::service_fn(move |req: hyper::Request<Incoming>| {
            let mut req = req.map(Body::new);
            req.extensions_mut().insert(ConnectInfo(peer));
            let answering = Answering::new(&activity);
            let app = app.clone();
            async move {
                let res = app.oneshot(req).await;
                drop(answering);
                res
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true);
    let conn = builder.serve_connection(io, TowerToHyperService::new(service));
    tokio::pin!(conn);
    let mut tick = tokio::time::interval((limits.idle / 4).max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stopping = *stopped.borrow();
    if stopping {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            ended = conn.as_mut() => {
                if ended.is_err_and(|e| e.is_timeout()) {
                    super::metrics::connection_timed_out();
                }
                return;
            }
            changed = stopped.changed(), if !stopping => {
                stopping = changed.is_err() || *stopped.borrow();
                if stopping {
                    conn.as_mut().graceful_shutdown();
                }
            }
            _ = tick.tick() => {
                if activity.answering.load(Ordering::SeqCst) == 0
                    && activity.idle_for() >= limits.idle
                {
                    // Nothing is being answered: closing loses no response.
                    super::metrics::connection_timed_out();
                    return;
                }
            }
        }
    }
}

/// A connection's I/O that notes when it last moved a byte.
struct Watched<I> {
    inner: I,
    activity: Arc<Activity>,
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        r
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
