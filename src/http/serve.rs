//! The server loop: the router on hyper's HTTP/1.1, with the limits a port
//! open to a network needs.
//!
//! - A client must send its request head within [`HEADER_READ_TIMEOUT`],
//!   and an idle keep-alive connection is closed after it: a half-open or
//!   trickling client cannot hold a connection.
//! - A client that stops reading a response (a search, an export, the alert
//!   stream) for [`WRITE_STALL_TIMEOUT`] is disconnected. Nothing is queued
//!   for it meanwhile: the response waits in its socket, an export's reader
//!   thread waits on a bounded channel, and the alert stream skips what a
//!   lagging subscriber missed. So one reader that never reads slows
//!   nobody else and holds a bounded amount of memory.
//! - The request head is at most [`MAX_HEAD_BYTES`]; bodies are limited in
//!   the router (`super::limits`).
//!
//! On shutdown it stops accepting, lets each connection finish its current
//! response, and returns once they are closed.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Time to send a request head, and the longest idle keep-alive.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(15);
/// Time a client may leave a response unread before it is disconnected.
pub const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest request line and headers, together: room for the longest
/// URL an HTTP client sends (under 64 KiB) and its headers, so a long query gets the
/// API's 400 that says what to fix rather than a bare 431.
pub const MAX_HEAD_BYTES: usize = 80 * 1024;

/// Serves `router` on `listener` until `shutdown` resolves, then drains.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send,
) {
    let (closing_tx, closing_rx) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (tcp, _) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before
                    // accept: wait a moment rather than spin.
                    tracing::warn!("cannot accept an HTTP connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let io = TokioIo::new(StallGuard::new(tcp, WRITE_STALL_TIMEOUT));
        let service = TowerToHyperService::new(router.clone());
        let mut closing = closing_rx.clone();
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .max_buf_size(MAX_HEAD_BYTES);
            let conn = builder.serve_connection(io, service);
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!("http connection ended: {e}");
                    }
                }
                () = async { let _ = closing.wait_for(|c| *c).await; } => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop(closing);
        });
    }
    drop(listener);
    drop(closing_rx);
    let _ = closing_tx.send(true);
    // Every connection task holds a receiver: this resolves when all ended.
    closing_tx.closed().await;
}

/// A TCP stream whose writes fail once the peer has left them pending for
/// `limit`: the peer stopped reading.
struct StallGuard {
    io: TcpStream,
    limit: Duration,
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl StallGuard {
    fn new(io: TcpStream, limit: Duration) -> StallGuard {
        StallGuard {
            io,
            limit,
            stalled: None,
        }
    }

    /// Passes a write's result through; a pending write starts (or checks)
    /// the stall clock.
    fn guard<T>(&mut self, cx: &mut Context<'_>, r: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match r {
            Poll::Ready(r) => {
                self.stalled = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let limit = self.limit;
                let clock = self
                    .stalled
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                match clock.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client stopped reading",
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl AsyncRead for StallGuard {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for StallGuard {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        self.guard(cx, r)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.guard(cx, r)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let r = Pin::new(&mut self.io).poll_flush(cx);
        self.guard(cx, r)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
