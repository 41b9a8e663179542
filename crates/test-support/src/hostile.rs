//! Peers that misbehave, for the fault tests (`tests/hostile_peers.rs` of each TCP lesson): what
//! a port scanner, a crashed client or a client that never reads does to a server. Each one is
//! a few socket calls; the tests then check that the server said something sensible and still
//! serves a well-behaved client. And text that would take over a terminal printed raw, for the
//! tests that every lesson shows a peer's text escaped (`tests/terminal.rs`).
//!
//! Like [`crate::testing`], these helpers panic on failure: they run only inside tests.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockRef, Socket, Type};

use crate::testing::{Running, WAIT, connect, skip_under_wine, under_wine};

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
    reset(stream);
}

/// Closes `stream` with RST instead of FIN: SO_LINGER set to 0, then close().
pub fn reset(stream: TcpStream) {
    SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(stream);
}

/// Why a reset-client test is skipped under Wine.
const WINE_RESET_IN_BACKLOG: &str = "Wine's accept() fails with WSAENOTCONN for a connection \
    reset while in the listen backlog, an error Windows' accept() does not return";

/// Under Wine only: whether `line` is the server's `accept() failed: …` for a client that reset
/// while it waited in the listen backlog (WSAENOTCONN, os error 10057). That client never
/// becomes a connection.
pub fn wine_failed_to_accept_a_reset(line: &str) -> bool {
    under_wine() && line.contains("accept() failed: ") && line.contains("(os error 10057)")
}

/// After [`send_and_reset`]: waits for the server's line about the reset connection,
/// `connection with PEER failed: …` (its recv failed), and returns it. Under Wine only, returns
/// `None` (the test is skipped) when the server's accept() failed instead with WSAENOTCONN,
/// which Wine returns for a connection reset while it waited in the listen backlog, and passes
/// over the WSAEWOULDBLOCK that Wine's accept() shared by several threads now and then returns.
pub fn reset_line(server: &mut Running) -> Option<String> {
    // Bounded: each wait has its own time limit, and a server that only ever prints accept
    // errors fails the test after these many.
    for _ in 0..100 {
        let line = server.wait_for(" failed: ");
        if line.contains("accept() failed: ") && under_wine() && line.contains("(os error 10035)") {
            continue;
        }
        if wine_failed_to_accept_a_reset(&line) && skip_under_wine(WINE_RESET_IN_BACKLOG) {
            return None;
        }
        assert!(line.contains("connection with "), "{line}");
        return Some(line);
    }
    panic!("the server printed only accept() errors")
}

/// After [`send_and_reset`]: waits for the server's line containing `text` (e.g. `(2 active)`,
/// the reset connection accepted) and returns true. Under Wine only, returns false (the test is
/// skipped) when the server's accept() failed instead with WSAENOTCONN, which Wine returns for a
/// connection reset while it waited in the listen backlog.
pub fn accepted_before_reset(server: &mut Running, text: &str) -> bool {
    // Bounded: each line has its own time limit, and a server that prints only other lines
    // fails the test after these many.
    for _ in 0..100 {
        let line = server.next_line();
        if line.contains(text) {
            return true;
        }
        if wine_failed_to_accept_a_reset(&line) && skip_under_wine(WINE_RESET_IN_BACKLOG) {
            return false;
        }
    }
    panic!("no line containing {text:?}")
}

/// A client that sends a request and then reads nothing, however much the server sends back.
pub struct NonReader {
    stream: TcpStream,
    writer: Option<JoinHandle<()>>,
    /// When the last piece of the request went out, in microseconds after `started`.
    last_sent: Arc<AtomicU64>,
    started: Instant,
}

impl NonReader {
    /// Connects with a small receive buffer, so that the server's writes block sooner, and
    /// sends `request` from a thread of its own: a big request blocks too, once the server has
    /// stopped reading because its own writes are stuck. That thread ends when everything is
    /// sent or when the server closes the connection.
    pub fn start(addr: SocketAddr, request: Vec<u8>) -> NonReader {
        let stream = small_window_connection(addr);
        let mut sending = stream.try_clone().unwrap();
        let last_sent = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let progress_at = Arc::clone(&last_sent);
        let writer = thread::spawn(move || {
            for piece in request.chunks(64 * 1024) {
                // An error here is the server giving up on us: what the test waits for.
                if sending.write_all(piece).is_err() {
                    return;
                }
                progress_at.store(started.elapsed().as_micros() as u64, Ordering::SeqCst);
            }
        });
        NonReader {
            stream,
            writer: Some(writer),
            last_sent,
            started,
        }
    }

    /// Waits until the server has stopped reading the request: nothing more of it goes out for
    /// a quarter of a second. An echo server stops reading when its own writes are stuck, so
    /// from then on its thread is blocked in a write. Panics if the whole request went out.
    pub fn wait_until_the_server_is_stuck(&self) {
        let deadline = Instant::now() + WAIT;
        loop {
            assert!(
                !self.writer.as_ref().is_some_and(JoinHandle::is_finished),
                "the server read the whole request: it never got stuck"
            );
            if self.stuck_for() >= Duration::from_millis(250) {
                return;
            }
            assert!(Instant::now() < deadline, "the server kept reading");
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// How long since it connected.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// How long since the last of the request went out: an echo server stops reading when its
    /// own write blocks, so this is about how long the server's reply has been stuck, without
    /// the time it took to get there (longer on a loaded machine, or under Wine).
    pub fn stuck_for(&self) -> Duration {
        let last = Duration::from_micros(self.last_sent.load(Ordering::SeqCst));
        self.started.elapsed().saturating_sub(last)
    }

    /// Asserts that the server has closed the connection: reading now, at last, finds the end
    /// of the stream or a reset within the time limit. Call it only after the server said it
    /// gave up: reading earlier would unblock the server. Returns how many bytes were waiting.
    pub fn assert_closed(mut self) -> u64 {
        if let Some(writer) = self.writer.take() {
            writer.join().unwrap();
        }
        read_until_closed(&mut self.stream)
    }
}

/// A client that reads, but only a sip at a time: `sip` bytes every `pause`. Every send() the
/// server makes gets a little room before its timeout, so a per-send timeout never fires and
/// the server's thread is held for as long as the client likes (a "slow read" attack). Only a
/// deadline for the whole reply ends it.
pub struct TrickleReader {
    stream: TcpStream,
    sipping: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    started: Instant,
}

impl TrickleReader {
    /// Connects with a small receive buffer, sends `request` from a thread of its own, and sips
    /// from another until told to stop, for [`WAIT`] at most.
    pub fn start(addr: SocketAddr, request: Vec<u8>, sip: usize, pause: Duration) -> TrickleReader {
        let stream = small_window_connection(addr);
        let mut sending = stream.try_clone().unwrap();
        thread::spawn(move || {
            // An error here is the server giving up on us.
            let _ = sending.write_all(&request);
        });
        let started = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let mut sipper = stream.try_clone().unwrap();
        let stopped = Arc::clone(&stop);
        let sipping = thread::spawn(move || {
            let mut glass = vec![0u8; sip];
            while !stopped.load(Ordering::SeqCst) && started.elapsed() < WAIT {
                thread::sleep(pause);
                if matches!(sipper.read(&mut glass), Ok(0) | Err(_)) {
                    break;
                }
            }
        });
        TrickleReader {
            stream,
            sipping: Some(sipping),
            stop,
            started,
        }
    }

    /// How long since it connected.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Asserts that the server has closed the connection: stops sipping, then reads what is
    /// left at full speed and finds the end of the stream or a reset. Call it only after the
    /// server said it gave up.
    pub fn assert_closed(mut self) -> u64 {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(sipping) = self.sipping.take() {
            sipping.join().unwrap();
        }
        read_until_closed(&mut self.stream)
    }
}

/// A connection with a small receive buffer (4 KiB asked; the kernel may round it up), so that
/// the server's writes block sooner, and timeouts so that a test cannot hang on it.
fn small_window_connection(addr: SocketAddr) -> TcpStream {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .expect("socket()");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    socket
        .connect_timeout(&addr.into(), WAIT)
        .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
    let stream = TcpStream::from(socket);
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    stream
}

/// Reads until the end of the stream or a reset, within [`WAIT`]; how many bytes came first.
fn read_until_closed(stream: &mut TcpStream) -> u64 {
    let deadline = Instant::now() + WAIT;
    let mut waiting = 0u64;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return waiting,
            Ok(n) => waiting += n as u64,
            Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) => {
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

/// A server that answers every connection with a trickle: one byte (`a`, never a newline)
/// every `pause`, so that a client never sees the silence or the newline that ends a reply.
/// It reads and discards what clients send, and stops after [`WAIT`] or when dropped.
pub struct TricklingServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl TricklingServer {
    pub fn start(pause: Duration) -> TricklingServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        thread::spawn(move || {
            let until = Instant::now() + WAIT;
            while !stopped.load(Ordering::SeqCst) && Instant::now() < until {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let stopped = Arc::clone(&stopped);
                        thread::spawn(move || trickle(stream, pause, until, &stopped));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        TricklingServer { addr, stop }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for TricklingServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn trickle(stream: TcpStream, pause: Duration, until: Instant, stopped: &AtomicBool) {
    let _ = stream.set_nonblocking(true);
    let mut discard = [0u8; 4096];
    while !stopped.load(Ordering::SeqCst) && Instant::now() < until {
        // Read what the client sent, so that closing never resets the connection early.
        loop {
            match (&stream).read(&mut discard) {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => return,
            }
        }
        match (&stream).write(b"a") {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => return,
        }
        thread::sleep(pause);
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

/// What a hostile peer sends to whoever prints it raw: `ESC[2J` clears the screen, `ESC]0;…BEL`
/// (an OSC sequence) sets the window title, BEL rings the bell, and CR returns to the start of
/// the line so that a forged `received from` line is written over the real one. After the
/// newline, a second line dressed up as another peer's. Two TCP lines; one UDP datagram.
pub const TERMINAL_ATTACK: &[u8] = b"\x1b[2J\x1b]0;pwned\x07\x07\rreceived from 6.6.6.6:666: forged\nreceived from 6.6.6.6:666: forged too\n";

/// The first line of [`TERMINAL_ATTACK`] as a lesson must show it: every control character
/// escaped, all on one line.
pub const TERMINAL_ATTACK_SHOWN: &str =
    r"\x1b[2J\x1b]0;pwned\x07\x07\rreceived from 6.6.6.6:666: forged";

/// Asserts that a program's output (stdout or stderr) holds no control character but its line
/// ends, and no line that claims to come from 6.6.6.6 (the forger of [`TERMINAL_ATTACK`]).
pub fn assert_no_terminal_control(output: &str) {
    for line in output.lines() {
        assert!(
            !line.chars().any(char::is_control),
            "a control character reached the output: {line:?}\nin:\n{output}"
        );
        let unprefixed = line.strip_prefix("[server] ").unwrap_or(line);
        assert!(
            !unprefixed.starts_with("received from 6.6.6.6"),
            "a forged line: {line:?}\nin:\n{output}"
        );
    }
}

/// A TCP server that answers its first client's first line (or its first silence) with `reply`,
/// then closes: a hostile server for a lesson's client. Runs on a thread of its own, which
/// ends by itself within [`WAIT`] if nobody connects.
pub fn answer_once(reply: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    thread::spawn(move || {
        let deadline = Instant::now() + WAIT;
        let mut stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(10));
                }
                Err(_) => return,
            }
        };
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
        let _ = stream.set_write_timeout(Some(WAIT));
        // The request: up to its newline, or whatever came before half a second of silence.
        let mut request = [0u8; 4096];
        let mut got = 0;
        while let Ok(n @ 1..) = stream.read(&mut request[got..]) {
            got += n;
            if request[..got].contains(&b'\n') || got == request.len() {
                break;
            }
        }
        let _ = stream.write_all(&reply);
        let _ = stream.shutdown(std::net::Shutdown::Write);
        // Let the client read it all and close first, so that no reset destroys the reply.
        let _ = stream.set_read_timeout(Some(WAIT));
        while let Ok(1..) = stream.read(&mut request) {}
    });
    addr
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // The first read finds one byte: the rest is not sent yet. (A signal may interrupt a
        // read before anything arrives: read again.)
        let got = loop {
            match stream.read(&mut first) {
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                got => break got.unwrap(),
            }
        };
        assert_eq!(got, 1);
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).unwrap();
        assert_eq!([&first[..1], &rest].concat(), b"OK 2\nhi");
        assert_eq!(server.join().unwrap(), "GET a\n");
    }

    #[test]
    fn a_reset_ends_the_stream_in_a_reset() {
        // Accepted before the reset: a connection reset while still in the listen backlog is
        // reported differently from one system to another (Wine's accept() fails with
        // WSAENOTCONN), a reset on an accepted connection is not.
        let (listener, addr) = listener();
        let mut client = connect(addr);
        let (mut stream, _) = listener.accept().unwrap();
        client.write_all(b"half a li").unwrap();
        reset(client);
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut received = Vec::new();
        let read = stream.read_to_end(&mut received);
        if read.is_ok()
            && skip_under_wine(
                "Wine sends the RST of SO_LINGER 0, but reports a received one as the end of \
                 the stream, where Windows reports WSAECONNRESET",
            )
        {
            return;
        }
        assert_eq!(read.unwrap_err().kind(), ErrorKind::ConnectionReset);
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
        // WouldBlock on Unix, TimedOut on Windows.
        assert!(
            matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
            "{error}"
        );
        drop(stream);
        let waiting = stuck.assert_closed();
        assert!(waiting > 0 && waiting <= sent, "{waiting} of {sent}");
    }
}
