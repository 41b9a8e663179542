//! Checks for the chapter's exercises that change the code (docs/src/tcp-nonblocking.md,
//! "Exercises"). They fail until the exercise is done, so they are ignored in the normal run.
//! Check your work:
//!
//! ```text
//! cargo test -p tcp-nonblocking --test exercises -- --ignored
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "tcp_nonblocking/support.rs"]
mod support;

use support::{Peer, server};

#[test]
#[ignore = "exercise 5: answer /who with the number of connected clients, then run with --ignored"]
fn exercise_5_who_answers_with_the_number_of_connected_clients() {
    let mut server = server(&[]);
    let mut alice = Peer::connect(server.addr());
    server.wait_for("(1 active)");
    assert_eq!(alice.ask("/who"), "1 connected");

    let mut bob = Peer::connect(server.addr());
    let carol = Peer::connect(server.addr());
    server.wait_for("(3 active)");
    assert_eq!(bob.ask("/who"), "3 connected");

    drop(carol);
    server.wait_for("(2 active)");
    assert_eq!(alice.ask("/who"), "2 connected");
    // Every other line is still echoed.
    assert_eq!(alice.ask("who"), "who");
    assert_eq!(bob.ask("/who is there"), "/who is there");
}
