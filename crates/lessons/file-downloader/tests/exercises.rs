//! Checks for the chapter's exercises that change the code (docs/src/file-downloader.md,
//! "Exercises"). They fail until the exercise is done, so they are ignored in the normal run.
//! Check your work:
//!
//! ```text
//! cargo test -p file-downloader --test exercises -- --ignored
//! ```

#![allow(clippy::unwrap_used)] // helper functions in tests: a panic is a failed test

#[path = "file_downloader/support.rs"]
mod support;

use std::io::{Read, Write};
use std::net::SocketAddr;

use support::{Scratch, random_bytes, server};
use test_support::testing::connect;

/// Plays the client by hand: sends one request line, returns the whole answer (the server
/// closes after it).
fn ask(addr: SocketAddr, request: &str) -> Vec<u8> {
    let mut stream = connect(addr);
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    answer
}

#[test]
#[ignore = "exercise 5: make the server check GET name offset/total, then run with --ignored"]
fn exercise_5_resume_refuses_a_file_whose_size_changed() {
    let scratch = Scratch::new();
    // The first try was promised 1000 bytes and got 10; since then the file has grown to 1200.
    let contents = random_bytes(1200, 5);
    scratch.file("root/data.bin", &contents);
    let mut server = server(&scratch.path().join("root"), &[]);

    let answer = ask(server.addr(), "GET data.bin 10/1000\n");
    assert_eq!(
        String::from_utf8_lossy(&answer),
        "ERR the file changed: it has 1200 bytes, not 1000\n"
    );
    let logged = server.wait_for(": the file changed: it has 1200 bytes, not 1000");
    assert!(
        logged.starts_with(r#"refused "data.bin" from 127.0.0.1:"#),
        "{logged}"
    );

    // The size the client expects: the rest of the file, as for GET data.bin 10.
    let answer = ask(server.addr(), "GET data.bin 10/1200\n");
    let mut expected = b"OK 1190 10\n".to_vec();
    expected.extend_from_slice(&contents[10..]);
    assert!(
        answer == expected,
        "expected OK 1190 10 and the file from byte 10, got {:?}",
        String::from_utf8_lossy(&answer[..answer.len().min(40)])
    );
}
