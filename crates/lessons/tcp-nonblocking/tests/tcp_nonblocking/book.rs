//! The chapter's other transcripts: every block of program output the book shows, besides the
//! demo's, is a file in `tests/transcripts/` that a test here produces by running the programs.

use std::io::{Read, Write};
use std::path::Path;

use test_support::testing::{assert_transcript, connect};

use crate::support::server;

/// "Run it": two clients connect, the second says hello, the first leaves. The server's
/// lines are tcp-threaded's, one per event, with the number of connected clients.
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

/// "The client side": a hundred connections from one thread, three lines each, every echo
/// checked; one summary line.
#[test]
fn the_books_client_summary_line() {
    let server = server(&["--quiet"]);
    let output =
        crate::support::client(server.addr(), &["--connections", "100", "--messages", "3"])
            .output()
            .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_transcript(
        &String::from_utf8(output.stdout).unwrap(),
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts/client-connections.txt"),
    );
}
