//! A client that stops reading. A server's `write_all` returns only once the kernel has taken
//! every byte, and a client that reads nothing lets its receive window and the server's send
//! buffer fill up: from then on the write waits, for ever unless the socket has a write timeout.
//! The TCP servers set one (`--write-timeout`, 10 s unless told otherwise) and, when it passes,
//! drop the client and say why in words rather than as "Resource temporarily unavailable".

use std::io;
use std::net::TcpStream;
use std::time::Duration;

use clap::Args;

use crate::cli::parse_seconds;
use crate::net::is_timeout;

/// `--write-timeout SECONDS`: how long a server's write may wait for a client that reads
/// nothing.
#[derive(Args, Clone, Copy, Debug)]
pub struct WriteTimeoutArg {
    /// Drop a client that reads none of what we send for this many seconds
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
