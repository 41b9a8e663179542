//! Clients that misbehave, and a server that copes: one line says what happened, and the other
//! clients are served all along. (Clients that send and close without reading, or reset after a
//! whole line, are in `server.rs`, and so is one that goes silent: `--idle`.)
// Test helpers: a panic here is a failed test.

use std::io::{Read, Write};
use std::time::Duration;

use crate::support::{assert_counts, client, server};
use test_support::hostile::{NonReader, TrickleReader, connect_and_close, lines, send_and_reset};
use test_support::testing::connect;

/// The server answers a whole run of a well-behaved client, whatever came before.
fn assert_still_serving(addr: std::net::SocketAddr) {
    let output = client(addr, &["--mode", "short", "--count", "5"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_counts(&output.stdout, &[("errors", "0")]);
}

#[test]
fn a_client_that_connects_and_closes_at_once_is_an_ordinary_end() {
    let mut server = server(&["--verbose"]);
    connect_and_close(server.addr());
    let line = server.wait_for("closed the connection");
    assert!(
        line.ends_with(" closed the connection after 0 request(s)"),
        "{line}"
    );
    assert_still_serving(server.addr());
}

#[test]
fn a_client_that_resets_in_the_middle_of_a_request_is_logged() {
    let mut server = server(&[]);
    send_and_reset(server.addr(), b"half a requ");
    // Its recv fails with ECONNRESET: one line, and the worker goes back to accept().
    if test_support::hostile::reset_line(&mut server).is_none() {
        return;
    }
    assert_still_serving(server.addr());
}

#[test]
fn a_client_that_never_reads_holds_up_nobody_and_is_dropped_after_the_write_timeout() {
    let mut server = server(&["--write-timeout", "1", "--verbose"]);
    // 16 MiB of requests, and not one reply read: its worker's write_all blocks.
    let stuck = NonReader::start(server.addr(), lines(512, 32 * 1024));
    // Meanwhile another client is answered, by another worker.
    let mut other = connect(server.addr());
    other.write_all(b"meanwhile\n").unwrap();
    let mut reply = [0u8; 10];
    other.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"meanwhile\n");
    let other = other.local_addr().unwrap();
    server.wait_for(&format!("received from {other}: meanwhile"));
    // Only then, a second after its writes stopped moving, the stuck one is dropped.
    let line = server.wait_for("stopped reading");
    assert!(
        line.contains(
            " failed: the client stopped reading: a reply was not taken within 1 s (--write-timeout"
        ),
        "{line}"
    );
    stuck.assert_closed();
    assert_still_serving(server.addr());
}

#[test]
fn a_client_that_reads_a_trickle_is_dropped_at_the_write_timeout() {
    // 512 bytes every 50 ms: a per-send() timeout would never fire, and the worker would be
    // held for as long as the client likes. A deadline for the whole write ends it.
    let mut server = server(&["--write-timeout", "1", "--verbose"]);
    let sipper = TrickleReader::start(
        server.addr(),
        lines(512, 32 * 1024),
        512,
        Duration::from_millis(50),
    );
    let line = server.wait_for("stopped reading");
    assert!(
        line.contains(" failed: the client stopped reading: a reply was not taken within 1 s"),
        "{line}"
    );
    sipper.assert_closed();
    assert_still_serving(server.addr());
}
