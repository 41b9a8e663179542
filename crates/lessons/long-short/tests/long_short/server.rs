//! The server frames requests by newline, not by recv(), and clients that misbehave do not
//! stop it.
// The helpers below panic like the tests do: in a test, a panic is a failure.

use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::time::Duration;

use crate::support::{assert_counts, client, server};
use test_support::testing::{WAIT, connect};

/// The server still answers a whole run after whatever a test did to it.
fn assert_still_serving(addr: std::net::SocketAddr) {
    let output = client(addr, &["--mode", "short", "--count", "5"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_counts(&output.stdout, &[("errors", "0")]);
}

#[test]
fn two_requests_in_one_packet_get_two_replies() {
    let mut server = server(&["--verbose"]);
    let mut stream = connect(server.addr());
    stream.set_nodelay(true).unwrap();
    // One write: both lines leave in one segment and arrive in one recv.
    stream.write_all(b"one\ntwo\n").unwrap();
    let mut replies = [0u8; 8];
    stream.read_exact(&mut replies).unwrap();
    assert_eq!(&replies, b"one\ntwo\n");
    server.wait_for(": one");
    server.wait_for(": two");
}

#[test]
fn a_request_split_over_two_writes_is_answered_once_whole() {
    let server = server(&[]);
    let mut stream = connect(server.addr());
    stream.set_nodelay(true).unwrap();
    stream.write_all(b"hal").unwrap();
    // Half a request is not a request: no reply comes.
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut byte = [0u8; 1];
    let waited = stream.read(&mut byte).unwrap_err();
    assert!(
        matches!(waited.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{waited:?}"
    );
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.write_all(b"f\n").unwrap();
    let mut reply = [0u8; 5];
    stream.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"half\n");
}

#[test]
fn clients_that_send_and_close_without_reading_do_not_disturb_the_server() {
    let server = server(&[]);
    for _ in 0..10 {
        let mut stream = connect(server.addr());
        // Big enough that the echo is still being written when the client is gone.
        stream.write_all(&[b'x'; 60_000]).unwrap();
        stream.write_all(b"\n").unwrap();
    }
    // And one that resets (linger 0: close sends RST), like a crashed client.
    test_support::hostile::send_and_reset(server.addr(), b"never read this\n");
    assert_still_serving(server.addr());
}

#[test]
fn an_over_long_request_is_refused_and_the_server_goes_on() {
    let mut server = server(&[]);
    let mut stream = connect(server.addr());
    let mut request = vec![b'x'; 70_000];
    request.push(b'\n');
    stream.write_all(&request).unwrap();
    // The error line, then the end of the stream: the server closed, cleanly.
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&reply),
        "error: request over 65536 bytes; closing the connection\n"
    );
    // Our close ends the server's wait for the rest of what we might still send.
    drop(stream);
    server.wait_for("sent a request over 65536 bytes: refused, connection closed");
    assert_still_serving(server.addr());
}

#[test]
fn a_half_closed_client_gets_its_last_line_answered() {
    // `printf last | nc -N`: a last line without newline, then the sending half closed.
    let server = server(&[]);
    let mut stream = connect(server.addr());
    stream.write_all(b"first\nlast").unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    let mut replies = Vec::new();
    stream.read_to_end(&mut replies).unwrap();
    assert_eq!(replies, b"first\nlast");
}

#[test]
fn an_idle_connection_is_closed_after_the_idle_time() {
    let mut server = server(&["--idle", "0.3"]);
    let mut stream = connect(server.addr());
    let mut byte = [0u8; 1];
    // Read returns 0: the server closed it. (WAIT bounds this read if it never does.)
    assert_eq!(stream.read(&mut byte).unwrap(), 0);
    server.wait_for("sent nothing for 0.3 s: connection closed");
    assert_still_serving(server.addr());
}

#[test]
fn half_a_request_is_never_answered_and_the_idle_close_says_why() {
    // The tutorials' clients (seed 001's, on this lesson's port 8081) send text without a
    // newline and wait: requests are lines here, so no answer comes, and the server's line
    // says what was missing rather than "sent nothing".
    let mut server = server(&["--idle", "0.3"]);
    let mut stream = connect(server.addr());
    stream.write_all(b"no newline").unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).unwrap();
    assert_eq!(reply, b"", "closed without an answer");
    server.wait_for(
        "sent part of a request, no newline, then nothing for 0.3 s: connection closed (requests end with a newline)",
    );
    assert_still_serving(server.addr());
}

#[test]
fn invalid_utf8_is_echoed_unchanged_and_shown_in_hex() {
    let mut server = server(&["--verbose"]);
    let mut stream = connect(server.addr());
    // 你好 in GBK: not UTF-8.
    stream.write_all(&[0xc4, 0xe3, 0xba, 0xc3, b'\n']).unwrap();
    let mut echo = [0u8; 5];
    stream.read_exact(&mut echo).unwrap();
    assert_eq!(echo, [0xc4, 0xe3, 0xba, 0xc3, b'\n']);
    server.wait_for("<4 bytes not valid UTF-8: c4 e3 ba c3>");
}

#[test]
fn a_request_that_trickles_in_without_a_newline_is_closed_after_the_idle_time() {
    // A byte every 100 ms, never a newline: never silent for --idle, so an idle timeout per
    // recv would never fire and this connection would hold its thread for ever.
    let mut server = server(&["--idle", "1"]);
    let mut stream = connect(server.addr());
    let started = std::time::Instant::now();
    let mut closed = false;
    while started.elapsed() < WAIT {
        if stream.write_all(b"a").is_err() {
            closed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        if server_closed(&mut stream) {
            closed = true;
            break;
        }
    }
    assert!(closed, "still open after {:?}", started.elapsed());
    server.wait_for(
        "sent part of a request, and no newline within 1 s of its first byte: connection closed",
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_still_serving(server.addr());
}

/// Whether the server has closed the connection: a read that does not wait finds the end.
fn server_closed(stream: &mut std::net::TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let mut byte = [0u8; 1];
    let closed = match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(error) => error.kind() != ErrorKind::WouldBlock,
    };
    stream.set_nonblocking(false).unwrap();
    closed
}
