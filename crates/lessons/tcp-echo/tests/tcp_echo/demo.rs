//! `tcp-echo demo`: what a student runs first.
// In tests a panic is a failed test, with its message: unwrap is the clearest way to say so.

use assert_cmd::cargo::cargo_bin_cmd;
use test_support::testing::WAIT;

/// Runs `tcp-echo demo ARGS…`, checks it ends well, and returns its stdout and stderr.
fn demo(args: &[&str]) -> (String, String) {
    let output = cargo_bin_cmd!("tcp-echo")
        .arg("demo")
        .args(args)
        .timeout(WAIT)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn demo_shows_both_sides_of_the_conversation_in_order() {
    let (stdout, _) = demo(&[]);
    let lines: Vec<&str> = stdout.lines().collect();

    // Every line belongs to one side.
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("[server] ") || l.starts_with("[client] ")),
        "{stdout}"
    );
    assert!(
        lines[0].starts_with("[server] listening on 127.0.0.1:"),
        "{stdout}"
    );
    assert!(
        !lines[0].ends_with(":0"),
        "the real port is shown: {stdout}"
    );

    // The conversation happens in causal order: sent, then received by the server, then echoed.
    let position = |wanted: &str| {
        lines
            .iter()
            .position(|l| l.contains(wanted))
            .unwrap_or_else(|| panic!("no line with {wanted:?} in\n{stdout}"))
    };
    let mut last = 0;
    for message in ["hello, server", "你好，服务器", "bye"] {
        let sent = position(&format!("[client] sent: {message}"));
        let server_got = lines
            .iter()
            .position(|l| {
                l.starts_with("[server] received from 127.0.0.1:")
                    && l.ends_with(&format!(": {message}"))
            })
            .unwrap_or_else(|| panic!("the server never got {message:?}\n{stdout}"));
        let echoed = position(&format!("[client] received: {message}"));
        assert!(
            last <= sent && sent < server_got && server_got < echoed,
            "{stdout}"
        );
        last = echoed;
    }
    assert!(
        lines.last().unwrap().contains("served one client (--once)"),
        "{stdout}"
    );
}

#[test]
fn demo_trace_shows_the_socket_calls() {
    let (_, stderr) = demo(&["--trace"]);
    for call in [
        "[server] trace: socket(AF_INET, SOCK_STREAM)",
        "[server] trace: bind(127.0.0.1:0)",
        "[server] trace: listen(128)",
        "[server] trace: accept() -> 127.0.0.1:",
        "[server] trace: recv(1024) -> 14 bytes",
        "[server] trace: recv(1024) -> 0 bytes",
        "[client] trace: connect(127.0.0.1:",
        "[client] trace: sendall(14 bytes)",
    ] {
        assert!(stderr.contains(call), "no {call:?} in\n{stderr}");
    }
}

#[test]
fn no_subcommand_prints_usage_suggesting_demo() {
    cargo_bin_cmd!("tcp-echo")
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("server"))
        .stderr(predicates::str::contains("client"))
        .stderr(predicates::str::contains("cargo run -p tcp-echo -- demo"));
}

#[test]
fn the_books_demo_transcript_matches_a_real_run() {
    let (stdout, _) = demo(&[]);
    test_support::testing::assert_transcript(
        &stdout,
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts/demo.txt"),
    );
}
