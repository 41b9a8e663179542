//! Turning the operating system's socket errors into sentences that say what to do next, and
//! telling what an error means. The calls that fail stay in the lessons; only the wording, and
//! the care several lessons need but none teaches (closing without losing a last line), live here.

use std::io::{self, Read};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Explains a failed `bind()`: the most common wall students hit first.
pub fn bind_error(addr: SocketAddr, error: io::Error) -> io::Error {
    let advice = match error.kind() {
        io::ErrorKind::AddrInUse => format!(
            "{addr} is already in use: is another server still running? Stop it, or use port 0 to let the OS choose a free port"
        ),
        io::ErrorKind::AddrNotAvailable => format!(
            "cannot bind {addr}: this machine has no such address; use 127.0.0.1 for this machine only, or 0.0.0.0 for every interface"
        ),
        io::ErrorKind::PermissionDenied => format!(
            "permission denied binding {addr}: ports below 1024 need administrator rights; use a port from 1024 to 65535, or 0"
        ),
        _ => format!("cannot bind {addr}: {error}"),
    };
    io::Error::new(error.kind(), advice)
}

/// Explains a failed `connect()`.
pub fn connect_error(addr: SocketAddr, error: io::Error) -> io::Error {
    let advice = match error.kind() {
        io::ErrorKind::ConnectionRefused => format!(
            "connection refused by {addr}: nothing is listening there; start the server first, or check the port"
        ),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => format!(
            "no answer from {addr}: the host may be down, or a firewall drops the connection"
        ),
        io::ErrorKind::AddrNotAvailable | io::ErrorKind::NetworkUnreachable => {
            format!("cannot reach {addr}: {error}; check the address")
        }
        _ => format!("cannot connect to {addr}: {error}"),
    };
    io::Error::new(error.kind(), advice)
}

/// Whether a read ended because its timeout passed (`WouldBlock` on Unix, `TimedOut` on Windows).
pub fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

// ANCHOR: port_unreachable
/// Whether a failed `recvfrom` reports an ICMP "port unreachable" that came back for an earlier
/// `sendto`: nothing was bound to the port we sent to. UDP has no connection to break, so the
/// error surfaces on whatever call comes next: `ConnectionRefused` (ECONNREFUSED) on Linux and
/// macOS, and only for a `connect`ed socket (an unconnected one is never told);
/// `ConnectionReset` (WSAECONNRESET) on Windows, even for an unconnected socket. It is news about
/// the past, not a broken socket: the program goes on.
pub fn is_port_unreachable(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset
    )
}
// ANCHOR_END: port_unreachable

// ANCHOR: close_gently
/// Closes a connection whose peer may still be sending, without losing what we sent last (an
/// error line, say): first our sending half, so that our FIN goes after it, then read and
/// discard whatever still comes, until the peer closes too or `linger` has passed. Closing a
/// socket that has unread data makes the kernel send RST instead of FIN, and an RST may destroy
/// our last line before the peer has read it. A failed read ends the wait: the peer is gone.
pub fn close_gently(stream: TcpStream, linger: Duration) -> io::Result<()> {
    stream.shutdown(Shutdown::Write)?;
    let deadline = Instant::now() + linger;
    let mut discard = [0u8; 16 * 1024];
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        // A zero timeout would mean "wait for ever".
        stream.set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
        match (&stream).read(&mut discard) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    Ok(())
}
// ANCHOR_END: close_gently

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_in_use_suggests_port_zero() {
        let addr = "127.0.0.1:8899".parse().unwrap();
        let err = bind_error(addr, io::Error::from(io::ErrorKind::AddrInUse));
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert!(
            err.to_string()
                .starts_with("127.0.0.1:8899 is already in use"),
            "{err}"
        );
        assert!(err.to_string().contains("port 0"), "{err}");
    }

    #[test]
    fn refused_connection_says_to_start_the_server() {
        let addr = "127.0.0.1:1".parse().unwrap();
        let err = connect_error(addr, io::Error::from(io::ErrorKind::ConnectionRefused));
        assert!(err.to_string().contains("start the server"), "{err}");
    }
}
