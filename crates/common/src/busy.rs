//! Turning a client away when a server is full (`--max-connections`), without losing the line
//! that says so. The threaded lessons share it; the lesson is the limit, not this care.

use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use crate::net::close_gently;

/// What a client gets when the server is full.
pub const BUSY: &str = "busy, try again later";

/// How many turned-away clients may be waited for at once; past that they are closed at once.
const MAX_TURNING_AWAY: usize = 64;
static TURNING_AWAY: AtomicUsize = AtomicUsize::new(0);

/// Sends `line` (the busy line, in the wire encoding, with its newline) and closes, without
/// losing it: a client may have sent a line before it was turned away, and closing with that
/// line unread would reset the connection (see [`close_gently`]). The gentle close waits up to
/// 2 s for the client, on a short-lived thread, so that the accepting thread never waits for it.
/// At most 64 such threads at once: a flood of connections past the limit is closed at once.
pub fn turn_away(stream: TcpStream, line: &[u8]) {
    let taken = TURNING_AWAY.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
        (n < MAX_TURNING_AWAY).then_some(n + 1)
    });
    // A new socket's send buffer is empty, so this cannot block; the timeout is a second
    // guarantee.
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let _ = (&stream).write_all(line);
    if taken.is_err() {
        // Too many at once: end our side and close now, as `stream` is dropped.
        let _ = stream.shutdown(Shutdown::Write);
        return;
    }
    let close = move || {
        let _ = close_gently(stream, Duration::from_secs(2));
        TURNING_AWAY.fetch_sub(1, Ordering::AcqRel);
    };
    if thread::Builder::new()
        .name("turning away".into())
        .spawn(close)
        .is_err()
    {
        TURNING_AWAY.fetch_sub(1, Ordering::AcqRel);
    }
}
