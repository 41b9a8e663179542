//! Clients that misbehave, and a server that copes: one line says what happened, and the other
//! clients are served all along. (A client that says nothing is in `threads.rs` and `limits.rs`,
//! one that resets mid-line in `threads.rs`, one that reads nothing in the chat room in
//! `broadcast.rs`.)
// Test helpers: a panic here is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use common::hostile::{NonReader, connect_and_close, lines};
use predicates::str::contains;
use support::{Peer, client, server};

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
fn a_client_that_never_reads_holds_up_nobody_and_is_dropped_after_the_write_timeout() {
    let mut server = server(&["--write-timeout", "1"]);
    // 16 MiB of lines to echo, and not one byte read back: its thread's write_all blocks.
    let stuck = NonReader::start(server.addr(), lines(512, 32 * 1024));
    // Meanwhile another client is served at once, on a thread of its own.
    let mut other = Peer::connect(server.addr());
    assert_eq!(other.ask("meanwhile"), "meanwhile");
    server.wait_for(&format!("received from {}: meanwhile", other.addr()));
    // Only then, a second after its writes stopped moving, the stuck one is dropped.
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
fn a_client_that_never_reads_frees_its_pool_worker_after_the_write_timeout() {
    // One worker: while the stuck client holds it, the next one waits; not for ever.
    let mut server = server(&["--pool", "1", "--write-timeout", "1"]);
    let stuck = NonReader::start(server.addr(), lines(512, 32 * 1024));
    server.wait_for("worker 1 serves");
    let mut next = Peer::connect(server.addr());
    assert_eq!(next.ask("my turn"), "my turn");
    server.wait_for("stopped reading");
    stuck.assert_closed();
}
