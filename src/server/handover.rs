//! How a long-lived event stream leaves hyper once its head is written.
//!
//! hyper keeps two 8 KiB buffers and its connection state for as long as a response streams. An
//! event stream (`GET /api/v1/events`) stays open as long as the visitor's page does and writes a
//! few hundred bytes a minute, so it is handed over: its body parks the frames in the
//! connection's [`Handover`] instead of yielding them, the connection task waits until hyper has
//! flushed everything it had (the response head included), lets hyper's connection go, and
//! [`write`] sends the rest straight to the socket, framed as hyper began (HTTP/1.1 chunks, or
//! plain bytes until the close for HTTP/1.0). The response says `connection: close`, so the
//! socket closes when the stream ends.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use axum::body::Body;
use axum::extract::OptionalFromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, Version};
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::stream::{Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::sse::Frames;
use crate::sync::lock;

/// A body that gives its frames to the connection instead of to hyper: hyper writes the head,
/// finds no body to write yet, and flushes.
struct Parked {
    frames: Option<Frames>,
    handover: Handover,
}

impl Stream for Parked {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(frames) = self.frames.take() {
            self.handover.park(frames);
        }
        // No waker is kept: the connection drops this body once hyper has flushed.
        Poll::Pending
    }
}

/// One connection's place for a stream leaving hyper: a request extension, set by `serve`.
#[derive(Clone, Default)]
pub struct Handover {
    slot: Arc<Slot>,
    /// How hyper frames the body of the request at hand.
    framing: Framing,
}

/// How a streamed body is delimited on an HTTP/1 connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Framing {
    /// HTTP/1.1: chunks, and a last empty one.
    #[default]
    Chunked,
    /// HTTP/1.0: the bytes themselves, ended by closing the connection.
    UntilClose,
}

#[derive(Default)]
struct Slot {
    frames: Mutex<Option<(Frames, Framing)>>,
    parked: AtomicBool,
    /// hyper flushed the socket after the frames were parked, so it had written everything.
    flushed: AtomicBool,
}

impl Handover {
    /// A body that parks `frames` here for the connection to write once hyper lets go.
    pub fn body(self, frames: Frames) -> Body {
        Body::from_stream(Parked {
            frames: Some(frames),
            handover: self,
        })
    }

    fn park(&self, frames: Frames) {
        *lock(&self.slot.frames) = Some((frames, self.framing));
        self.slot.parked.store(true, Ordering::Release);
    }

    /// Whether a stream is waiting to leave hyper.
    pub fn parked(&self) -> bool {
        self.slot.parked.load(Ordering::Acquire)
    }

    /// The parked frames and how to delimit them, once hyper has written everything before.
    pub fn take(&self) -> Option<(Frames, Framing)> {
        if !self.slot.flushed.load(Ordering::Acquire) {
            return None;
        }
        lock(&self.slot.frames).take()
    }
}

/// A `GET` over HTTP/1 on a connection `serve` accepted.
impl<S: Send + Sync> OptionalFromRequestParts<S> for Handover {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Infallible> {
        let framing = match parts.version {
            Version::HTTP_11 => Framing::Chunked,
            Version::HTTP_10 => Framing::UntilClose,
            _ => return Ok(None),
        };
        if parts.method != Method::GET {
            return Ok(None);
        }
        Ok(parts.extensions.get::<Handover>().map(|h| Handover {
            slot: h.slot.clone(),
            framing,
        }))
    }
}

/// The socket as hyper sees it, shared with the connection task so a stream can go on after
/// hyper lets go. hyper calls `poll_flush` only once its own write buffer is empty, which is
/// how the [`Handover`] learns that the head of a parked stream is out.
pub struct Io {
    tcp: Arc<TcpStream>,
    handover: Handover,
}

impl Io {
    pub fn new(tcp: Arc<TcpStream>, handover: Handover) -> Io {
        Io { tcp, handover }
    }
}

impl Io {
    /// Waits until the socket is ready (`wait`) and runs `op` until it does not block, as tokio's
    /// own socket does.
    fn poll_io<T>(
        &self,
        cx: &mut Context<'_>,
        wait: fn(&TcpStream, &mut Context<'_>) -> Poll<io::Result<()>>,
        mut op: impl FnMut(&TcpStream) -> io::Result<T>,
    ) -> Poll<io::Result<T>> {
        loop {
            ready!(wait(&self.tcp, cx))?;
            match op(&self.tcp) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                done => return Poll::Ready(done),
            }
        }
    }
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let read = self.poll_io(cx, TcpStream::poll_read_ready, |tcp| tcp.try_read_buf(buf));
        read.map_ok(drop)
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_io(cx, TcpStream::poll_write_ready, |tcp| tcp.try_write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_io(cx, TcpStream::poll_write_ready, |tcp| {
            tcp.try_write_vectored(bufs)
        })
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // TCP has nothing to flush; the writes above went straight to the socket.
        if self.handover.parked() {
            self.handover.slot.flushed.store(true, Ordering::Release);
        }
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(shut_write(&self.tcp))
    }
}

fn shut_write(tcp: &TcpStream) -> io::Result<()> {
    socket2::SockRef::from(tcp).shutdown(std::net::Shutdown::Write)
}

/// Writes a handed-over stream's frames until the stream ends (then the last chunk) or the client
/// hangs up, and closes the connection.
pub async fn write(tcp: Arc<TcpStream>, mut frames: Frames, framing: Framing) {
    let streamed: io::Result<()> = async {
        loop {
            let frame = tokio::select! {
                frame = frames.next() => frame,
                () = hung_up(&tcp) => return Ok(()),
            };
            match (frame, framing) {
                (Some(frame), Framing::UntilClose) => write_all(&tcp, &frame).await?,
                (Some(frame), Framing::Chunked) => {
                    let mut chunk = BytesMut::with_capacity(frame.len() + 12);
                    let _ = write!(chunk, "{:x}\r\n", frame.len());
                    chunk.put_slice(&frame);
                    chunk.put_slice(b"\r\n");
                    write_all(&tcp, &chunk).await?;
                }
                (None, Framing::UntilClose) => return Ok(()),
                (None, Framing::Chunked) => return write_all(&tcp, b"0\r\n\r\n").await,
            }
        }
    }
    .await;
    if streamed.is_ok() {
        let _ = shut_write(&tcp);
    }
}

async fn write_all(tcp: &TcpStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        tcp.writable().await?;
        match tcp.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Resolves when the client closes its side or the socket fails. Whatever it sends meanwhile is
/// dropped: the stream's response said the connection closes after it.
async fn hung_up(tcp: &TcpStream) {
    let mut discard = [0u8; 64];
    loop {
        if tcp.readable().await.is_err() {
            return;
        }
        match tcp.try_read(&mut discard) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => return,
        }
    }
}
