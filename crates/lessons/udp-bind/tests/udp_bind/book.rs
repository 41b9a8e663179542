//! The chapter's other transcripts: every block of program output the book shows, besides the
//! demo's, is a file in `tests/transcripts/` that a test here produces by running the programs.
//! Change what a program prints and these fail until the book says the same.
// In tests a panic is a failed test, with its message: unwrap is the clearest way to say so.

use std::path::Path;

use crate::support::{server, udp_socket};
use test_support::testing::assert_transcript;

/// "How much of a datagram you get": a server with `--recv-buffer 4` gets `hello, world` and
/// says what was lost. The book shows the server's lines after its `bound to` line.
#[test]
fn the_books_cut_datagram_is_reported_with_what_was_lost() {
    let mut server = server(&["--recv-buffer", "4"]);
    udp_socket()
        .send_to(b"hello, world", server.addr())
        .unwrap();
    server.wait_for("datagram cut");

    assert_transcript(
        &(server.seen()[1..].join("\n") + "\n"),
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts/datagram-cut.txt"),
    );
}
