//! One connection, from its first request to close(), whichever thread runs it. Seed 001 §5.8
//! from the server's side: the server does not need to know whether the client is long or
//! short; it answers every request line on the connection, one or many, until the client closes.
//! Limits keep one client from holding its thread for ever.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::framing::Pending;
use common::net::{close_gently, is_timeout};
use common::{Console, Encoding, stalled};

use crate::options::Options;
use crate::stats::Stats;

/// The longest request line, newline included. A longer one gets an error line and the
/// connection is closed: a client must not make the server buffer without limit.
pub const MAX_REQUEST: usize = 64 * 1024;

/// After refusing a request, how long we read and discard what the client still sends.
const LINGER: Duration = Duration::from_secs(2);

/// How a connection ended without an error.
pub enum Ending {
    /// The client closed it, after this many requests.
    ClosedByClient(u64),
    /// The client sent nothing for `--idle` seconds; `midway`: after part of a request, with
    /// no newline yet (the tutorials' clients send none).
    Idle { midway: bool },
    /// The client sent part of a request and kept adding to it, but no newline came within
    /// `--idle` seconds of its first byte.
    Slow,
    /// The client sent a line over [`MAX_REQUEST`] bytes.
    Refused,
}

// ANCHOR: serve_connection
/// Seed 001 §5.8 from the server's side: answer each request line with its echo, for as
/// long as the client keeps the connection open, for one request (short) or many (long).
pub fn serve_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    options: &Options,
    stats: &Stats,
    console: Console,
) -> io::Result<Ending> {
    // A long connection may rest between requests, but not forever: a client gone silent
    // would hold a thread and a socket.
    stream.set_read_timeout(Some(options.idle))?;
    // A client that never reads its replies must not block us forever in write_all:
    // every write below has a deadline (--write-timeout).
    // Each reply leaves in one write and the client waits for it: Nagle's algorithm, which
    // holds small segments back to merge them, could only add delay.
    stream.set_nodelay(true)?;

    let mut pending = Pending::default();
    let mut chunk = [0u8; 16 * 1024];
    let mut replies = Vec::new();
    let mut requests = 0;
    // When the request now pending began. A request has --idle seconds from its first byte
    // to its newline: a client that adds a byte now and then, never a newline, would
    // otherwise hold its thread for ever, never idle for long (slowloris).
    let mut request_began: Option<Instant> = None;
    let mut last_heard = Instant::now();
    loop {
        // Whether bytes came after the pending request began: a trickle, not a silence.
        let trickling = request_began.is_some_and(|began| last_heard > began);
        if let Some(began) = request_began {
            let left = options.idle.saturating_sub(began.elapsed());
            if left.is_zero() {
                return Ok(if trickling {
                    Ending::Slow
                } else {
                    Ending::Idle { midway: true }
                });
            }
            stream.set_read_timeout(Some(left))?;
        }
        // ⑤ recv: whatever has arrived, which is not "one request": half of one, or several
        // that the client sent back to back. Requests are framed by newline, not by recv.
        let received = match stream.read(&mut chunk) {
            Ok(count) => count,
            // Not silent, but the request's own time is up.
            Err(error) if is_timeout(&error) && trickling => return Ok(Ending::Slow),
            Err(error) if is_timeout(&error) => {
                return Ok(Ending::Idle {
                    midway: !pending.is_empty(),
                });
            }
            Err(error) => return Err(error),
        };
        console.trace(format_args!("recv({}) -> {received} bytes", chunk.len()));
        // recv returned 0: the client closed its end, after one request or after many.
        if received == 0 {
            // Like `nc -N`, it may have closed only its sending half: answer a last line
            // that has no newline.
            if let Some(rest) = pending.take_rest() {
                requests += 1;
                stats.requests.fetch_add(1, Ordering::Relaxed);
                stalled::deadline(&stream, options.write_timeout.write_timeout).write_all(&rest)?;
            }
            return Ok(Ending::ClosedByClient(requests));
        }
        pending.push(&chunk[..received]);
        last_heard = Instant::now();

        let mut refused = false;
        while let Some(request) = pending.take_line(MAX_REQUEST) {
            // MAX_REQUEST bytes and still no newline: refuse, rather than buffer on.
            if request.last() != Some(&b'\n') {
                replies.extend_from_slice(
                    format!("error: request over {MAX_REQUEST} bytes; closing the connection\n")
                        .as_bytes(),
                );
                refused = true;
                break;
            }
            requests += 1;
            stats.requests.fetch_add(1, Ordering::Relaxed);
            if options.verbose {
                let text = request.strip_suffix(b"\n").unwrap_or(&request);
                let text = Encoding::UTF_8.display(text);
                console.say(format_args!("received from {peer}: {text}"));
            }
            replies.extend_from_slice(&request);
        }
        if !replies.is_empty() {
            // ⑥ sendall: every answer to this recv in one write, one system call.
            // --write-timeout is a deadline for the whole write, however the bytes trickle.
            stalled::deadline(&stream, options.write_timeout.write_timeout).write_all(&replies)?;
            console.trace(format_args!("sendall({} bytes)", replies.len()));
            replies.clear();
        }
        if refused {
            // The server closes first here, so its side of this connection is the one that
            // waits in TIME_WAIT.
            close_gently(stream, LINGER)?;
            return Ok(Ending::Refused);
        }
        // A request begun and not finished starts its clock; none pending, the idle one.
        match (pending.is_empty(), request_began) {
            (false, None) => request_began = Some(Instant::now()),
            (true, Some(_)) => {
                request_began = None;
                stream.set_read_timeout(Some(options.idle))?;
            }
            _ => {}
        }
    }
}
// ANCHOR_END: serve_connection
