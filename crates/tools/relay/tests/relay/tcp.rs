//! `relay tcp`: every byte arrives, in order, later; the end of each stream is passed on.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{relay, tcp_connect, tcp_echo_then_bye};

/// A mebibyte of bytes that are not all alike, so that a byte out of place shows.
fn pattern() -> Vec<u8> {
    (0..1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect()
}

#[test]
fn a_mebibyte_arrives_whole_and_in_order_and_the_half_close_is_passed_on() {
    let server = tcp_echo_then_bye();
    let mut relay = relay("tcp", server, &["--delay", "20ms"]);
    let stream = tcp_connect(relay.addr());
    let sent = pattern();
    let mut writer = stream.try_clone().unwrap();
    let to_send = sent.clone();
    // Send on another thread while this one reads the echo, or both sides' buffers fill up.
    let sending = thread::spawn(move || {
        writer.write_all(&to_send).unwrap();
        // Done sending: the server must see the end of the stream, through the relay.
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut received = Vec::new();
    (&stream).read_to_end(&mut received).unwrap();
    sending.join().unwrap();
    assert_eq!(received.len(), sent.len() + 3, "bytes lost or added");
    assert!(
        received[..sent.len()] == sent[..],
        "bytes out of order or changed"
    );
    // The server says bye only after its recv returned 0: the half-close reached it, and
    // it could still answer on its own half.
    assert_eq!(&received[sent.len()..], b"bye");
    relay.wait_for("connection from");
    relay.wait_for("closed");
}

#[test]
fn each_round_trip_takes_at_least_twice_the_delay() {
    let server = tcp_echo_then_bye();
    let relay = relay("tcp", server, &["--delay", "150ms"]);
    let mut stream = tcp_connect(relay.addr());
    for attempt in 0..3u8 {
        let started = Instant::now();
        stream.write_all(&[attempt]).unwrap();
        let mut reply = [0u8; 1];
        // Bounded by the stream's read timeout; no upper limit asserted.
        stream.read_exact(&mut reply).unwrap();
        let round_trip = started.elapsed();
        assert_eq!(reply, [attempt]);
        assert!(
            round_trip >= Duration::from_millis(300),
            "the echo came back after {round_trip:?}, before 2 × 150 ms"
        );
    }
}

#[test]
fn no_server_closes_the_clients_connection_and_says_why() {
    // Bound but never listening: a free port on which connecting is refused.
    let nobody = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut relay = relay("tcp", nobody, &[]);
    let mut stream = tcp_connect(relay.addr());
    let mut anything = Vec::new();
    // The relay accepted, could not reach the server, and closed: end of stream, no bytes.
    let _ = stream.read_to_end(&mut anything);
    assert!(anything.is_empty());
    let stderr = relay.wait_for_stderr("closing the connection from");
    assert!(
        stderr.contains(&format!("connection refused by {nobody}")),
        "{stderr}"
    );
    // And it goes on relaying.
    let _again = tcp_connect(relay.addr());
}
