//! Checks for the chapter's exercises that change the code (docs/src/tcp-threaded.md,
//! "Exercises"). They fail until the exercise is done, so they are ignored in the normal run.
//! Check your work:
//!
//! ```text
//! cargo test -p tcp-threaded --test exercises -- --ignored
//! ```

#[path = "tcp_threaded/support.rs"]
mod support;

use support::{Peer, server};

#[test]
#[ignore = "exercise 6: announce joins and leaves in the chat room, then run with --ignored"]
fn exercise_6_the_room_hears_who_joins_and_who_leaves() {
    let mut server = server(&["--broadcast"]);
    let mut alice = Peer::connect(server.addr());
    server.wait_for("(1 active)");

    let bob = Peer::connect(server.addr());
    let bob_addr = bob.addr();
    assert_eq!(alice.line(), format!("* {bob_addr} joined"));

    drop(bob);
    assert_eq!(alice.line(), format!("* {bob_addr} left"));

    // Notices are not chat lines: the room still works as before.
    let mut carol = Peer::connect(server.addr());
    let carol_addr = carol.addr();
    assert_eq!(alice.line(), format!("* {carol_addr} joined"));
    carol.send("hi");
    assert_eq!(alice.line(), format!("{carol_addr}: hi"));
}
