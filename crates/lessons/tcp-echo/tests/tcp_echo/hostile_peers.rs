//! Clients that misbehave, and a server that copes: it says what happened in one line and goes
//! on to serve the next client. (A client that resets mid-line is in `echo.rs`; one that
//! connects and says nothing holds this one-at-a-time server until it leaves, which is the
//! lesson of `second_client_waits_for_the_first`.)

use std::time::Duration;

use crate::support::{client, server};
use predicates::str::contains;
use test_support::hostile::{NonReader, TrickleReader, TricklingServer, connect_and_close, lines};

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
    // recv returned 0 at once: an ordinary end of a connection, not an error.
    let line = server.wait_for("closed the connection");
    assert!(!line.contains("failed"), "{line}");
    assert_still_serving(server.addr());
}

#[test]
fn a_client_that_never_reads_is_dropped_after_the_write_timeout() {
    let mut server = server(&["--write-timeout", "1"]);
    // 16 MiB of lines to echo, and not one byte read back: the server's write_all blocks once
    // the client's receive buffer and the server's send buffer are full.
    let stuck = NonReader::start(server.addr(), lines(512, 32 * 1024));
    let line = server.wait_for("stopped reading");
    assert!(
        line.contains(
            "failed: the client stopped reading: a reply was not taken within 1 s (--write-timeout"
        ),
        "{line}"
    );
    // Dropped after about a second of no progress, not after the whole 16 MiB or never.
    assert!(
        stuck.elapsed() < Duration::from_secs(10),
        "{:?}",
        stuck.elapsed()
    );
    stuck.assert_closed();
    assert_still_serving(server.addr());
}

#[test]
fn a_client_that_reads_a_trickle_is_dropped_at_the_write_timeout() {
    // 512 bytes every 50 ms: a per-send() timeout would never fire, and this one-at-a-time
    // server would belong to the client for as long as it liked.
    let mut server = server(&["--write-timeout", "1"]);
    let sipper = TrickleReader::start(
        server.addr(),
        lines(512, 32 * 1024),
        512,
        Duration::from_millis(50),
    );
    let line = server.wait_for("stopped reading");
    assert!(
        line.contains("failed: the client stopped reading: a reply was not taken within 1 s"),
        "{line}"
    );
    sipper.assert_closed();
    assert_still_serving(server.addr());
}

#[test]
fn the_client_gives_up_on_a_server_that_trickles_its_reply() {
    // A byte every 100 ms, never a newline, never a 250 ms silence: the reply never ends.
    let trickling = TricklingServer::start(Duration::from_millis(100));
    let started = std::time::Instant::now();
    client(trickling.addr(), &["--message", "hi", "--timeout", "1"])
        .assert()
        .code(1)
        .stderr(contains(
            "error: the reply did not end within 1 s: the server sends it without a newline and without a pause",
        ));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
