//! A client that stops reading. A server's `write_all` returns only once the kernel has taken
//! every byte, and a client that reads nothing lets its receive window and the server's send
//! buffer fill up: from then on the write waits, for ever unless the socket has a write timeout.
//! The TCP servers give every reply a deadline (`--write-timeout`, 10 s unless told otherwise)
//! and, when it passes, drop the client and say why in words rather than as "Resource
//! temporarily unavailable".
//!
//! The socket's own write timeout (SO_SNDTIMEO) is not that deadline: it bounds each send()
//! call, and a send() that took a few bytes before its time ran out returns them as a success.
//! `write_all` then calls send() again, with a fresh timeout: a client that reads a trickle, or
//! a kernel that frees a little buffer space, makes one `write_all` last two, three or many
//! times the timeout. [`Deadline`] sets the time *left* before every send() instead.

use std::io::{self, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use clap::Args;

use crate::cli::parse_seconds;
use crate::net::is_timeout;

/// `--write-timeout SECONDS`: how long a server's reply may take to reach a client that reads
/// too little.
#[derive(Args, Clone, Copy, Debug)]
pub struct WriteTimeoutArg {
    /// Drop a client that has not taken a reply this many seconds after it was sent
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = parse_seconds)]
    pub write_timeout: Duration,
}

impl Default for WriteTimeoutArg {
    fn default() -> Self {
        WriteTimeoutArg {
            write_timeout: Duration::from_secs(10),
        }
    }
}

/// A write with a deadline: `deadline(stream, limit).write_all(&reply)` sends all of `reply`
/// within `limit`, or fails with "the client stopped reading" once `limit` has passed, however
/// the bytes trickled out in between.
pub fn deadline(stream: &TcpStream, limit: Duration) -> Deadline<'_> {
    Deadline {
        stream,
        limit,
        until: Instant::now() + limit,
        sent: 0,
    }
}

/// See [`deadline`]: a writer on a socket that fails once its time is up.
pub struct Deadline<'a> {
    stream: &'a TcpStream,
    limit: Duration,
    until: Instant,
    /// Bytes sent so far, for the error message.
    sent: u64,
}

impl Write for Deadline<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let left = self.until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.too_late());
        }
        // The time left, not the whole limit: each send() may use only what remains of it.
        self.stream.set_write_timeout(Some(left))?;
        match (&mut &*self.stream).write(bytes) {
            Ok(count) => {
                self.sent += count as u64;
                Ok(count)
            }
            Err(error) if is_timeout(&error) => Err(self.too_late()),
            Err(error) => Err(error),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Deadline<'_> {
    fn too_late(&self) -> io::Error {
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "the client stopped reading: a reply was not taken within {} s (--write-timeout; {} bytes of it sent)",
                self.limit.as_secs_f64(),
                self.sent
            ),
        )
    }
}

/// The error of a failed write on `stream`, reworded when it failed because the socket's write
/// timeout passed: the client stopped reading.
pub fn explain(stream: &TcpStream, error: io::Error) -> io::Error {
    let timeout = stream.write_timeout().ok().flatten();
    match timeout {
        Some(timeout) if is_timeout(&error) => io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "the client stopped reading: nothing could be sent for {} s (--write-timeout)",
                timeout.as_secs_f64()
            ),
        ),
        _ => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    fn stream_with_write_timeout(timeout: Duration) -> TcpStream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        stream.set_write_timeout(Some(timeout)).unwrap();
        stream
    }

    #[test]
    fn a_timed_out_write_says_the_client_stopped_reading() {
        let stream = stream_with_write_timeout(Duration::from_millis(1500));
        // Unix reports a write timeout as WouldBlock, Windows as TimedOut.
        for kind in [io::ErrorKind::WouldBlock, io::ErrorKind::TimedOut] {
            let error = explain(&stream, io::Error::from(kind));
            assert_eq!(error.kind(), io::ErrorKind::TimedOut);
            assert_eq!(
                error.to_string(),
                "the client stopped reading: nothing could be sent for 1.5 s (--write-timeout)"
            );
        }
    }

    #[test]
    fn a_deadline_covers_the_whole_write_not_each_send() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut far, _) = listener.accept().unwrap();
        // The far side reads a little every 50 ms: every send() takes something before its
        // timeout, so a per-send timeout would never end this write. The deadline does.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let trickle = std::thread::spawn(move || {
            let mut sip = [0u8; 512];
            let until = Instant::now() + Duration::from_secs(3);
            while Instant::now() < until && !stopped.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
                if matches!(far.read(&mut sip), Ok(0) | Err(_)) {
                    break;
                }
            }
        });
        let limit = Duration::from_millis(400);
        let started = Instant::now();
        let error = deadline(&stream, limit)
            .write_all(&vec![b'x'; 64 * 1024 * 1024])
            .unwrap_err();
        let took = started.elapsed();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(
            error
                .to_string()
                .starts_with("the client stopped reading: a reply was not taken within 0.4 s"),
            "{error}"
        );
        assert!(took >= limit && took < limit * 3, "{took:?}");
        drop(stream);
        // What is still buffered would take the trickle seconds to read: stop it now.
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        trickle.join().unwrap();
    }

    #[test]
    fn other_errors_are_left_as_they_are() {
        let stream = stream_with_write_timeout(Duration::from_secs(10));
        let error = explain(&stream, io::Error::from(io::ErrorKind::BrokenPipe));
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn the_default_is_ten_seconds() {
        assert_eq!(
            WriteTimeoutArg::default().write_timeout,
            Duration::from_secs(10)
        );
    }
}
