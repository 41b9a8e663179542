//! `long-short demo`: what a student runs first.

use assert_cmd::cargo::cargo_bin_cmd;
use test_support::testing::WAIT;

#[test]
fn the_books_demo_transcript_matches_a_real_run() {
    let output = cargo_bin_cmd!("long-short")
        .arg("demo")
        .timeout(WAIT)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    // WSAEWOULDBLOCK, os error 10035.
    if stdout.contains("accept() failed: ")
        && stdout.contains("(os error 10035)")
        && test_support::testing::skip_under_wine(
            "Wine's blocking accept() on one socket shared by the pool's threads now and \
             then fails with WSAEWOULDBLOCK (the server says so and goes on)",
        )
    {
        return;
    }
    test_support::testing::assert_transcript(
        &stdout,
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts/demo.txt"),
    );
}

#[test]
fn demo_compares_both_modes_with_the_same_count_on_a_spawning_server() {
    let output = cargo_bin_cmd!("long-short")
        .args(["demo", "--count", "20", "--threads", "spawn"])
        .timeout(WAIT)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let row = |mode: &str| {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(&format!("[client] {mode} ")))
            .filter(|row| row.trim_start().starts_with(|c: char| c.is_ascii_digit()))
            .unwrap_or_else(|| panic!("no {mode} row in\n{stdout}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    // requests, connections
    assert_eq!(row("long")[..2], ["20", "1"], "{stdout}");
    assert_eq!(row("short")[..2], ["20", "20"], "{stdout}");
    assert!(
        stdout.contains("[server] served 40 requests on 21 connections"),
        "{stdout}"
    );
}

#[test]
fn demo_trace_shows_the_socket_calls_of_both_sides() {
    let output = cargo_bin_cmd!("long-short")
        .args(["demo", "--count", "2", "--trace"])
        .timeout(WAIT)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    // On Windows SO_REUSEADDR would let a second server take the port, so the lesson leaves it
    // off there (as std's TcpListener::bind does): the trace must not claim it was set.
    let reuse = "[server] trace: setsockopt(SO_REUSEADDR, 1)";
    assert_eq!(
        stderr.contains(reuse),
        cfg!(not(windows)),
        "{reuse:?} in\n{stderr}"
    );
    for call in [
        "[server] trace: socket(SOCK_STREAM)",
        "[server] trace: listen(128)",
        "[server] trace: accept() -> 127.0.0.1:",
        "[server] trace: sendall(64 bytes)",
        "[client] trace: connect(127.0.0.1:",
        "[client] trace: sendall(64 bytes)",
        "[client] trace: recv(16384) -> 64 bytes",
        "[client] trace: close()",
    ] {
        assert!(stderr.contains(call), "no {call:?} in\n{stderr}");
    }
}

#[test]
fn no_subcommand_prints_usage_suggesting_demo() {
    cargo_bin_cmd!("long-short")
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("server"))
        .stderr(predicates::str::contains("client"))
        .stderr(predicates::str::contains("cargo run -p long-short -- demo"));
}
