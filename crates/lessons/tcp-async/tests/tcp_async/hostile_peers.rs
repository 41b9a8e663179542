//! Clients that misbehave, and a server that copes: one line says what happened, and the other
//! clients are served all along.

use std::io::{Read, Write};
use std::thread;

use predicates::str::contains;
use test_support::hostile::{NonReader, connect_and_close, lines};

use crate::support::{Peer, client, rss_kib, server};

/// The server answers a well-behaved client, whatever came before.
fn assert_still_serving(addr: std::net::SocketAddr) {
    client(addr, &["--message", "still there?"])
        .assert()
        .success()
        .stdout(contains("received: still there?\n"));
}

#[test]
fn a_client_that_connects_and_closes_at_once_is_logged_and_the_next_is_served() {
    let mut server = server(&[]);
    connect_and_close(server.addr());
    let line = server.wait_for("closed the connection");
    assert!(line.ends_with("closed the connection (0 active)"), "{line}");
    assert_still_serving(server.addr());
}

#[test]
fn a_flooding_non_reader_does_not_delay_another_clients_echo_and_is_dropped() {
    // One worker thread for both: the stuck client's task waits in write_all().await, which
    // gives the thread back, so the other client is answered at once.
    let mut server = server(&["--workers", "1", "--write-timeout", "1"]);
    // 16 MiB of lines to echo, and not one byte read back.
    let stuck = NonReader::start(server.addr(), lines(512, 32 * 1024));
    let mut other = Peer::connect(server.addr());
    for round in 0..20 {
        let line = format!("meanwhile {round}");
        assert_eq!(other.ask(&line), line);
    }
    // Every echo came back while the flooder was still connected and stuck: a server that
    // waited for the flooder would have answered only after dropping it.
    let dropped = server
        .printed_so_far()
        .iter()
        .any(|line| line.contains("stopped reading"));
    assert!(!dropped, "the echoes waited for the flooder to be dropped");
    // A second after its writes stopped moving, the stuck one is dropped.
    let line = server.wait_for("stopped reading");
    assert!(
        line.contains(
            " failed: the client stopped reading: nothing could be sent for 1 s (--write-timeout)"
        ),
        "{line}"
    );
    stuck.assert_closed();
    assert_eq!(other.ask("still here"), "still here");
    assert_still_serving(server.addr());
}

#[test]
fn a_50_mib_line_is_echoed_in_pieces_with_memory_bounded() {
    let server = server(&["--quiet"]);
    let pid = server.id();
    let before = rss_kib(pid);
    let mut peer = Peer::connect(server.addr());
    // 50 MiB without a newline, written by one thread while this one reads the echo back.
    const TOTAL: usize = 50 * 1024 * 1024;
    let mut writer = peer.stream.try_clone().unwrap();
    let sending = thread::spawn(move || {
        let chunk = vec![b'x'; 1024 * 1024];
        for _ in 0..TOTAL / chunk.len() {
            writer.write_all(&chunk).unwrap();
        }
        writer.write_all(b"\n").unwrap();
    });
    let mut echoed = 0usize;
    let mut chunk = vec![0u8; 256 * 1024];
    let mut peak = 0u64;
    while echoed < TOTAL + 1 {
        let n = peer.stream.read(&mut chunk).unwrap();
        assert!(n > 0, "the server closed after {echoed} bytes");
        assert!(chunk[..n].iter().all(|&b| b == b'x' || b == b'\n'));
        echoed += n;
        if let Some(now) = rss_kib(pid) {
            peak = peak.max(now);
        }
    }
    sending.join().unwrap();
    assert_eq!(echoed, TOTAL + 1);
    // The server held 64 KiB of the line at a time, never the line: a few MiB of growth at
    // most, against the 50 MiB a line-at-once reader would need.
    if let Some(before) = before {
        assert!(
            peak < before + 16 * 1024,
            "RSS grew from {before} KiB to {peak} KiB"
        );
    }
    drop(peer);
    assert_still_serving(server.addr());
}
