//! Turning a client away when a server is full (`--max-connections`), without losing the line
//! that says so. The threaded lessons share it; the lesson is the limit, not this care.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// What a client gets when the server is full.
pub const BUSY: &str = "busy, try again later";

/// How many turned-away clients may be waited for at once; past that they are closed at once.
const MAX_TURNING_AWAY: usize = 64;
static TURNING_AWAY: AtomicUsize = AtomicUsize::new(0);

/// Sends `line` (the busy line, in the wire encoding, with its newline) and closes, without
/// losing it. A client may have sent a line before it was turned away; closing a socket with
/// unread data makes the kernel send a reset (RST) instead of FIN, and the reset can destroy the
/// busy line before the client reads it. So: send, end our side with shutdown(Write), and read
/// what the client sends until it closes too (at most 2 s), on a short-lived thread, so that the
/// accepting thread never waits for it. At most 64 such threads at once: a flood of connections
/// past the limit is closed at once.
pub fn turn_away(stream: TcpStream, line: &[u8]) {
    let taken = TURNING_AWAY.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
        (n < MAX_TURNING_AWAY).then_some(n + 1)
    });
    // A new socket's send buffer is empty, so this cannot block; the timeout is a second
    // guarantee.
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let _ = (&stream).write_all(line);
    let _ = stream.shutdown(Shutdown::Write);
    if taken.is_err() {
        return; // too many at once: close now, as `stream` is dropped
    }
    let drain = move || {
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut sink = [0u8; 4096];
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
                break;
            }
            match (&stream).read(&mut sink) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        TURNING_AWAY.fetch_sub(1, Ordering::AcqRel);
    };
    if thread::Builder::new()
        .name("turning away".into())
        .spawn(drain)
        .is_err()
    {
        TURNING_AWAY.fetch_sub(1, Ordering::AcqRel);
    }
}
