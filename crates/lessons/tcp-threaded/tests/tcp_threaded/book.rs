//! The chapter's other transcripts: every block of program output the book shows, besides the
//! demo's, is a file in `tests/transcripts/` that a test here produces by running the programs.
//! Change what a program prints and these fail until the book says the same.
// In tests a panic is a failed test, with its message: unwrap is the clearest way to say so.

use std::io::{Read, Write};
use std::path::Path;

use crate::support::server;
use test_support::testing::{assert_transcript, connect};

/// "Two terminals, and more": two clients connect, the second says hello, the first leaves.
/// The book shows the server's lines, one per event, with the number of connected clients.
#[test]
fn the_books_server_lines_count_the_connected_clients() {
    let mut server = server(&[]);
    let first = connect(server.addr());
    server.wait_for("(1 active)");
    let mut second = connect(server.addr());
    server.wait_for("(2 active)");
    second.write_all(b"hello\n").unwrap();
    let mut echo = [0u8; 6];
    second.read_exact(&mut echo).unwrap();
    server.wait_for("received from");
    drop(first);
    server.wait_for("closed the connection (1 active)");

    assert_transcript(
        &(server.seen().join("\n") + "\n"),
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts/server-events.txt"),
    );
}
