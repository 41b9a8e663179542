//! Clients that misbehave, and a loop that copes: one line says what happened, and the others
//! are served all along. (Flooders, non-readers and garbage are in `event_loop.rs`; the
//! chat room's non-reader in `broadcast.rs`.)

use predicates::str::contains;
use test_support::hostile::{connect_and_close, send_and_reset};

use crate::support::{client, server};

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
fn a_hundred_clients_that_reset_mid_line_leave_nothing_behind() {
    let mut server = server(&[]);
    for _ in 0..100 {
        send_and_reset(server.addr(), b"half a li");
    }
    // Each one ends, one way or another, and the count comes back to zero.
    let mut ended = 0;
    while ended < 100 {
        let line = server.next_line();
        // Under Wine, a client that reset in the listen backlog ends at a failed accept().
        let closed = line.ends_with(" active)") && !line.starts_with("connection from");
        if closed || test_support::hostile::wine_failed_to_accept_a_reset(&line) {
            ended += 1;
        }
    }
    let last = server
        .seen()
        .iter()
        .rev()
        .find(|line| line.ends_with(" active)"));
    assert!(
        last.is_some_and(|line| line.ends_with("(0 active)")),
        "{last:?}"
    );
    assert_still_serving(server.addr());
}
