//! The chapter's other transcripts. The book's two-terminal run shows figures measured once on
//! one machine, in a release build: no test can reproduce those numbers, but a test can check
//! that today's client still prints those lines, field for field. `tests/transcripts/` keeps
//! the measured lines; the test runs the same commands (with fewer requests) and compares them
//! with every number in the measured lines read as `[..]`.
// In tests a panic is a failed test, with its message: unwrap is the clearest way to say so.

use std::path::Path;

use crate::support::{client, server};
use test_support::testing::assert_transcript;

/// `text` with every number replaced by the wildcard `[..]`: a run of digits that does not
/// continue a word, so that `p99_us` stays a name.
fn numbers_as_wildcards(text: &str) -> String {
    let mut shape = String::new();
    let mut previous = ' ';
    let mut in_number = false;
    for c in text.chars() {
        let word = previous.is_alphanumeric() || previous == '_';
        if c.is_ascii_digit() && (in_number || !word) {
            if !in_number {
                shape.push_str("[..]");
            }
            in_number = true;
        } else {
            shape.push(c);
            in_number = false;
        }
        previous = c;
    }
    shape
}

#[test]
fn numbers_become_wildcards() {
    assert_eq!(
        numbers_as_wildcards("elapsed_ms=134 p99_us=15 (127.0.0.1:8081)\n"),
        "elapsed_ms=[..] p99_us=[..] ([..].[..].[..].[..]:[..])\n"
    );
}

/// "Run it first": `client --mode long`, then `--mode short`, against one server. The TIME_WAIT
/// count is Linux's (`/proc/net/tcp`); elsewhere the client prints how to look yourself.
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "the book's run counts TIME_WAIT sockets, which only Linux lists in /proc"
)]
fn the_books_measured_run_has_the_lines_the_client_prints() {
    let server = server(&[]);
    let mut stdout = String::new();
    for mode in ["long", "short"] {
        let output = client(server.addr(), &["--mode", mode, "--count", "20"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        stdout.push_str(&String::from_utf8(output.stdout).unwrap());
    }

    let measured = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts/measured-run.txt");
    let shape = Path::new(env!("CARGO_TARGET_TMPDIR")).join("long-short-measured-run-shape.txt");
    std::fs::write(
        &shape,
        numbers_as_wildcards(&std::fs::read_to_string(&measured).unwrap()),
    )
    .unwrap();
    eprintln!(
        "comparing with {}, numbers read as [..]",
        measured.display()
    );
    assert_transcript(&stdout, &shape);
}
