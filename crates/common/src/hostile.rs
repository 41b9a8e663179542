//! Peers that misbehave, for the fault tests (`tests/hostile_peers.rs` of each TCP lesson): what
//! a port scanner, a crashed client or a client that never reads does to a server. Each one is
//! a few socket calls; the tests then check that the server said something sensible and still
//! serves a well-behaved client.
//!
//! Like [`crate::testing`], these helpers panic on failure: they run only inside tests.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockRef, Socket, Type};

use crate::testing::{WAIT, connect};

/// Connects and closes at once, without sending a byte: what a port scanner or a load
/// balancer's health check does. The server's first recv returns 0.
pub fn connect_and_close(addr: SocketAddr) {
    drop(connect(addr));
}

/// Connects, sends `bytes` (half a line, say) and resets the connection, as a client that
/// crashes does: with SO_LINGER set to 0, close() sends RST instead of FIN, and the server's
/// next recv or send fails with ECONNRESET ("Connection reset by peer").
pub fn send_and_reset(addr: SocketAddr, bytes: &[u8]) {
    let mut stream = connect(addr);
    stream.write_all(bytes).unwrap();
    SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(stream);
}

/// A client that sends a request and then reads nothing, however much the server sends back.
pub struct NonReader {
    stream: TcpStream,
    writer: Option<JoinHandle<()>>,
    started: Instant,
}

impl NonReader {
    /// Connects with a small receive buffer, so that the server's writes block sooner, and
    /// sends `request` from a thread of its own: a big request blocks too, once the server has
    /// stopped reading because its own writes are stuck. That thread ends when everything is
    /// sent or when the server closes the connection.
    pub fn start(addr: SocketAddr, request: Vec<u8>) -> NonReader {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
            .expect("socket()");
        socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
        socket
            .connect_timeout(&addr.into(), WAIT)
            .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
        let stream = TcpStream::from(socket);
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream.set_write_timeout(Some(WAIT)).unwrap();
        let mut sending = stream.try_clone().unwrap();
        let writer = thread::spawn(move || {
            // An error here is the server giving up on us: what the test waits for.
            let _ = sending.write_all(&request);
        });
        NonReader {
            stream,
            writer: Some(writer),
            started: Instant::now(),
        }
    }

    /// How long since it connected.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Asserts that the server has closed the connection: reading now, at last, finds the end
    /// of the stream or a reset within the time limit. Call it only after the server said it
    /// gave up: reading earlier would unblock the server. Returns how many bytes were waiting.
    pub fn assert_closed(mut self) -> u64 {
        if let Some(writer) = self.writer.take() {
            writer.join().unwrap();
        }
        let deadline = Instant::now() + WAIT;
        let mut waiting = 0u64;
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return waiting,
                Ok(n) => waiting += n as u64,
                Err(e)
                    if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) =>
                {
                    return waiting;
                }
                Err(e) => panic!("the connection is still open after the server gave up: {e}"),
            }
            assert!(
                Instant::now() < deadline,
                "the server still sends after it gave up"
            );
        }
    }
}

/// A server that lies in wait for clients: for one connection, it reads the request line, then
/// drips `answer` one byte every `every`, and closes; it stops early when the client goes.
/// Against it, a client that times out each read but not the whole answer waits as long as the
/// server likes. Returns its address and, when joined, the request line it got.
pub fn dripping_server(answer: Vec<u8>, every: Duration) -> (SocketAddr, JoinHandle<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind(127.0.0.1:0)");
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut request = Vec::new();
        let mut byte = [0u8; 1];
        while !request.ends_with(b"\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
            request.push(byte[0]);
        }
        for byte in answer {
            thread::sleep(every);
            if stream.write_all(&[byte]).is_err() {
                break;
            }
        }
        String::from_utf8_lossy(&request).into_owned()
    });
    (addr, handle)
}

/// `lines` lines of `length` bytes each (the last one a newline), for a non-reader to send to
/// an echo server: enough of them, and the echo fills every buffer between the two.
pub fn lines(lines: usize, length: usize) -> Vec<u8> {
    let mut line = vec![b'x'; length - 1];
    line.push(b'\n');
    line.repeat(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn listener() -> (TcpListener, SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        (listener, addr)
    }

    #[test]
    fn connect_and_close_sends_nothing_and_ends_the_stream() {
        let (listener, addr) = listener();
        connect_and_close(addr);
        let (mut stream, _) = listener.accept().unwrap();
        let mut received = Vec::new();
        assert_eq!(stream.read_to_end(&mut received).unwrap(), 0);
    }

    #[test]
    fn a_dripping_server_sends_its_answer_a_byte_at_a_time() {
        let (addr, server) = dripping_server(b"OK 2\nhi".to_vec(), Duration::from_millis(200));
        let mut stream = connect(addr);
        stream.write_all(b"GET a\n").unwrap();
        let mut first = [0u8; 8];
        // The first read finds one byte: the rest is not sent yet.
        assert_eq!(stream.read(&mut first).unwrap(), 1);
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).unwrap();
        assert_eq!([&first[..1], &rest].concat(), b"OK 2\nhi");
        assert_eq!(server.join().unwrap(), "GET a\n");
    }

    #[test]
    fn send_and_reset_ends_in_a_reset() {
        let (listener, addr) = listener();
        send_and_reset(addr, b"half a li");
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut received = Vec::new();
        let error = stream.read_to_end(&mut received).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionReset);
    }

    #[test]
    fn a_non_reader_leaves_what_it_is_sent_unread_until_the_server_gives_up() {
        let (listener, addr) = listener();
        let stuck = NonReader::start(addr, lines(4, 1024));
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_write_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut received = [0u8; 4096];
        stream.read_exact(&mut received).unwrap();
        assert_eq!(received.to_vec(), lines(4, 1024));
        // Nobody reads: the writes time out once the buffers are full.
        let mut sent = 0u64;
        let error = loop {
            match stream.write(&[b'y'; 64 * 1024]) {
                Ok(n) => sent += n as u64,
                Err(error) => break error,
            }
        };
        assert!(crate::net::is_timeout(&error), "{error}");
        drop(stream);
        let waiting = stuck.assert_closed();
        assert!(waiting > 0 && waiting <= sent, "{waiting} of {sent}");
    }
}
