//! The chapter's other transcripts: every block of program output the book shows, besides the
//! demo's, is a file in `tests/transcripts/` that a test here produces by running the programs.
//! Change what a program prints and these fail until the book says the same.
// In tests a panic is a failed test, with its message: unwrap is the clearest way to say so.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::support::{client, server};
use test_support::testing::{assert_transcript, connect};

fn transcript(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/transcripts")
        .join(name)
}

/// "One client at a time": while the server is busy with a first client, a second one gets no
/// reply and gives up. The book's block is this client's stderr (`[..]` for its `--timeout`).
#[test]
fn the_books_second_client_gives_up_while_the_first_is_served() {
    let mut server = server(&[]);
    let mut first = connect(server.addr());
    first.write_all(b"one\n").unwrap();
    let mut echo = [0u8; 4];
    first.read_exact(&mut echo).unwrap();
    server.wait_for("received from");

    let output = client(server.addr(), &["--message", "two", "--timeout", "1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_transcript(
        &String::from_utf8(output.stderr).unwrap(),
        &transcript("second-client.txt"),
    );
}
