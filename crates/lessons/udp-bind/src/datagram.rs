//! What the server and the client both do with datagrams: receive one and learn whether
//! `recvfrom`'s buffer cut it, and recognise the errors that only UDP has.

use std::io;
use std::net::{SocketAddr, UdpSocket};

use common::Console;
use socket2::SockRef;

/// No UDP datagram carries more than this: 65,507 bytes over IPv4, 65,527 over IPv6. A receive
/// buffer this big can never cut one.
pub const MAX_DATAGRAM: usize = 65_535;

/// The most a program can put into one UDP datagram to `to`: 65,535 bytes minus the UDP header
/// (8) and, over IPv4, the IP header (20). Larger data must be split by the program itself.
pub fn max_payload(to: SocketAddr) -> usize {
    if to.is_ipv4() { 65_507 } else { 65_527 }
}

/// A datagram as `recvfrom` returned it.
#[derive(Debug)]
pub struct Received {
    /// Who sent it: every UDP datagram carries its sender's address.
    pub peer: SocketAddr,
    /// How many bytes of it fit into the buffer.
    pub kept: usize,
    /// Its real length, when the buffer was too small to hold it all.
    pub cut_from: Option<usize>,
}

// ANCHOR: recv_datagram
/// Step ③, `recvfrom(bufsize)`: waits for one datagram and copies at most `buffer.len()` bytes
/// of it into `buffer`. What does not fit is gone: the next call returns the next datagram.
pub fn recv_datagram(
    socket: &UdpSocket,
    buffer: &mut [u8],
    console: Console,
) -> io::Result<Received> {
    let size = buffer.len();
    // On Linux and macOS, recvfrom cuts a datagram that does not fit *without saying so*. To
    // tell the student how much was lost, a smaller buffer first peeks (MSG_PEEK: look, leave
    // the datagram queued) with a buffer big enough for any datagram, to learn its length.
    let waiting = if size < MAX_DATAGRAM {
        let mut whole = vec![0u8; MAX_DATAGRAM];
        let (length, peer) = socket.peek_from(&mut whole)?;
        console.trace(format_args!(
            "recvfrom({MAX_DATAGRAM}, MSG_PEEK) -> {length} bytes waiting from {peer}"
        ));
        Some((length, peer))
    } else {
        None
    };
    let (kept, peer) = match socket.recv_from(buffer) {
        Ok(received) => received,
        // Windows does say so: it fills the buffer, then fails with WSAEMSGSIZE (10040).
        #[cfg(windows)]
        Err(error) if error.raw_os_error() == Some(10040) => match waiting {
            Some((_, peer)) => (size, peer),
            None => return Err(error),
        },
        Err(error) => return Err(error),
    };
    console.trace(format_args!("recvfrom({size}) -> {kept} bytes from {peer}"));
    let cut_from = waiting
        .map(|(length, _)| length)
        .filter(|&length| length > kept);
    Ok(Received {
        peer,
        kept,
        cut_from,
    })
}
// ANCHOR_END: recv_datagram

impl Received {
    /// `datagram cut: received 4 of 12 bytes; …`, when the buffer was too small.
    pub fn cut_notice(&self) -> Option<String> {
        self.cut_from.map(|length| {
            let lost = length - self.kept;
            let lost = if lost == 1 {
                "the other byte is lost".to_owned()
            } else {
                format!("the other {lost} bytes are lost")
            };
            format!(
                "datagram cut: received {} of {length} bytes; {lost} (use a larger --recv-buffer)",
                self.kept
            )
        })
    }
}

/// Makes sure the socket may send a datagram of the largest size. macOS allows only 9,216 bytes
/// per UDP datagram unless the send buffer is raised; Linux and Windows allow more already.
pub fn allow_largest_datagrams(socket: SockRef<'_>) -> io::Result<()> {
    const ENOUGH: usize = 2 * MAX_DATAGRAM;
    if socket.send_buffer_size()? < ENOUGH {
        socket.set_send_buffer_size(ENOUGH)?;
    }
    Ok(())
}

/// Parses `--recv-buffer`: a buffer size in bytes, 1 to 65,535.
pub fn parse_recv_buffer(text: &str) -> Result<usize, String> {
    text.trim()
        .parse::<usize>()
        .ok()
        .filter(|size| (1..=MAX_DATAGRAM).contains(size))
        .ok_or_else(|| {
            format!(
                "invalid buffer size {text:?}: use 1 to {MAX_DATAGRAM} bytes ({MAX_DATAGRAM} holds any datagram)"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::net::is_port_unreachable;
    use std::time::Duration;

    fn socket() -> UdpSocket {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        socket
    }

    #[test]
    fn a_small_buffer_says_how_much_was_lost() {
        let receiver = socket();
        let sender = socket();
        sender
            .send_to(b"hello, world", receiver.local_addr().unwrap())
            .unwrap();
        let mut buffer = [0u8; 4];
        let received = recv_datagram(&receiver, &mut buffer, Console::new(false)).unwrap();
        assert_eq!(&buffer, b"hell");
        assert_eq!(received.kept, 4);
        assert_eq!(received.cut_from, Some(12));
        assert_eq!(received.peer, sender.local_addr().unwrap());
        assert!(
            received
                .cut_notice()
                .unwrap()
                .starts_with("datagram cut: received 4 of 12 bytes; the other 8 bytes are lost")
        );
    }

    #[test]
    fn a_datagram_that_fits_is_not_cut_and_the_next_one_follows() {
        let receiver = socket();
        let sender = socket();
        let to = receiver.local_addr().unwrap();
        sender.send_to(b"four", to).unwrap();
        sender.send_to(b"", to).unwrap();
        let mut buffer = [0u8; 4];
        let first = recv_datagram(&receiver, &mut buffer, Console::new(false)).unwrap();
        assert_eq!((first.kept, first.cut_from), (4, None));
        // An empty datagram is a datagram, not "the peer closed" as in TCP.
        let empty = recv_datagram(&receiver, &mut buffer, Console::new(false)).unwrap();
        assert_eq!((empty.kept, empty.cut_from), (0, None));
    }

    #[test]
    fn port_unreachable_is_recognised() {
        // A connected UDP socket hears the ICMP answer on Linux and macOS; Windows reports
        // it even without connect. Which port is free: bind one, then let it go.
        let closed = socket().local_addr().unwrap();
        let socket = socket();
        socket.connect(closed).unwrap();
        socket.send(b"anyone?").unwrap();
        let error = socket.recv(&mut [0u8; 16]).unwrap_err();
        if common::net::is_timeout(&error)
            && test_support::testing::skip_under_wine(
                "Wine does not report ICMP port unreachable to a UDP socket (Windows: \
                 WSAECONNRESET at the next recv); the recv waits out its timeout",
            )
        {
            return;
        }
        assert!(is_port_unreachable(&error), "{error:?}");
    }

    #[test]
    fn buffer_sizes() {
        assert_eq!(parse_recv_buffer("4"), Ok(4));
        assert_eq!(parse_recv_buffer("65535"), Ok(65_535));
        for bad in ["0", "65536", "-1", "big", ""] {
            let error = parse_recv_buffer(bad).unwrap_err();
            assert!(
                error.starts_with(&format!("invalid buffer size {bad:?}")),
                "{error}"
            );
        }
    }
}
