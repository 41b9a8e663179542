//! Checks for the chapter's exercises that change the code (docs/src/tcp-async.md,
//! "Exercises"). They fail until the exercise is done, so they are ignored in the normal run.
//! Check your work:
//!
//! ```text
//! cargo test -p tcp-async --test exercises -- --ignored
//! ```
// In tests a panic is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

#[path = "tcp_async/support.rs"]
mod support;

use support::{Peer, server};

#[test]
#[ignore = "exercise 6: answer /who in the chat room, then run with --ignored"]
fn exercise_6_who_answers_only_the_asker() {
    let mut server = server(&["--broadcast"]);
    let mut alice = Peer::connect(server.addr());
    let mut bob = Peer::connect(server.addr());
    server.wait_for("(2 active)");

    alice.send("/who");
    assert_eq!(alice.line(), "* 2 in the room");
    // Not said to the others: bob's next line is alice's next chat line.
    alice.send("hello");
    assert_eq!(bob.line(), format!("{}: hello", alice.addr()));

    // The count follows who is there.
    let carol = Peer::connect(server.addr());
    server.wait_for("(3 active)");
    bob.send("/who");
    assert_eq!(bob.line(), "* 3 in the room");
    drop(carol);
    server.wait_for("(2 active)");
    bob.send("/who");
    assert_eq!(bob.line(), "* 2 in the room");
    assert!(alice.stays_silent(), "alice heard a /who");
}
