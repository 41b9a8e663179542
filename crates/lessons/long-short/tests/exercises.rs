//! Checks for the chapter's exercises that change the code (docs/src/long-short.md,
//! "Exercises"). They fail until the exercise is done, so they are ignored in the normal run.
//! Check your work:
//!
//! ```text
//! cargo test -p long-short --test exercises -- --ignored
//! ```

#![allow(clippy::unwrap_used)] // helper functions in tests: a panic is a failed test

#[path = "long_short/support.rs"]
mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;

use support::{assert_counts, client, server};
use test_support::testing::{WAIT, connect};

#[test]
#[ignore = "exercise 2: add --close-after-reply to the server, then run with --ignored"]
fn exercise_2_close_after_reply_closes_the_connection_after_answering() {
    let server = server(&["--close-after-reply"]);
    // Like an HTTP/1.0 client: one request per connection, then read until the server closes.
    // We never close first (WAIT bounds the read if the server never does), so the server's
    // side of every one of these connections must end in TIME_WAIT.
    for number in 0..20 {
        let request = format!("request {number}\n");
        let mut stream = connect(server.addr());
        stream.write_all(request.as_bytes()).unwrap();
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).unwrap();
        assert_eq!(String::from_utf8_lossy(&reply), request);
    }

    // The lesson's short client still works; its TIME_WAIT line counts all connections with
    // this server, ours above included.
    let output = client(server.addr(), &["--mode", "short", "--count", "5"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_counts(
        &output.stdout,
        &[("requests", "5"), ("connections", "5"), ("errors", "0")],
    );
    #[cfg(target_os = "linux")]
    {
        let stdout = String::from_utf8(output.stdout).unwrap();
        let (client_side, server_side) = time_wait_counts(&stdout);
        assert!(server_side >= 20 && client_side <= 5, "{stdout}");
    }
}

/// The two numbers in `TIME_WAIT after the run: N sockets on the client's side, M on the
/// server's side (…)`.
#[cfg(target_os = "linux")]
fn time_wait_counts(stdout: &str) -> (usize, usize) {
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("TIME_WAIT after the run: "))
        .unwrap_or_else(|| panic!("no TIME_WAIT line in\n{stdout}"));
    let numbers: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    match numbers[..] {
        [client_side, server_side, ..] => (client_side, server_side),
        _ => panic!("no counts in {line:?}"),
    }
}

#[test]
#[ignore = "exercise 5: add --pipeline to the client's long mode, then run with --ignored"]
fn exercise_5_pipeline_sends_k_requests_before_reading_the_replies() {
    // Against the real server: every request answered, over one connection, 50 = 12 × 4 + 2.
    let server = server(&[]);
    let output = client(
        server.addr(),
        &["--mode", "long", "--count", "50", "--pipeline", "4"],
    )
    .output()
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_counts(
        &output.stdout,
        &[
            ("mode", "long"),
            ("requests", "50"),
            ("connections", "1"),
            ("errors", "0"),
        ],
    );

    // A server that answers nothing until 5 requests have arrived: only a client that sends 5
    // before it reads gets any reply.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let batches = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut answered = 0;
        for _ in 0..2 {
            let requests = read_lines(&mut stream, 5);
            if requests.iter().filter(|&&b| b == b'\n').count() < 5 {
                break;
            }
            stream.write_all(&requests).unwrap();
            answered += 5;
        }
        answered
    });
    let output = client(
        addr,
        &[
            "--mode",
            "long",
            "--count",
            "10",
            "--pipeline",
            "5",
            "--timeout",
            "2",
        ],
    )
    .output()
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_counts(
        &output.stdout,
        &[("requests", "10"), ("connections", "1"), ("errors", "0")],
    );
    assert_eq!(batches.join().unwrap(), 10);
}

/// Reads until `lines` newlines have arrived, or the client closes or goes silent; returns the
/// bytes read.
fn read_lines(stream: &mut impl Read, lines: usize) -> Vec<u8> {
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    while received.iter().filter(|&&b| b == b'\n').count() < lines {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(count) => received.extend_from_slice(&chunk[..count]),
        }
    }
    received
}
