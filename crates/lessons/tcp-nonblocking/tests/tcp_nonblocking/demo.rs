//! `tcp-nonblocking demo`: what a student runs first.

use assert_cmd::cargo::cargo_bin_cmd;
use test_support::testing::WAIT;

fn demo(args: &[&str]) -> std::process::Output {
    let output = cargo_bin_cmd!("tcp-nonblocking")
        .arg("demo")
        .args(args)
        .timeout(WAIT)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    output
}

#[test]
fn the_books_demo_transcript_matches_a_real_run() {
    let stdout = String::from_utf8(demo(&[]).stdout).unwrap();
    test_support::testing::assert_transcript(
        &stdout,
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts/demo.txt"),
    );
}

#[test]
fn demo_trace_shows_the_poll_and_the_non_blocking_connects() {
    let stderr = String::from_utf8(demo(&["--trace"]).stderr).unwrap();
    for call in [
        "[server] trace: set_nonblocking(true)",
        "[server] trace: poll() -> ",
        "[server] trace: accept() -> 127.0.0.1:",
        "[client] trace: connect(127.0.0.1:",
        ") -> in progress",
        "[client] trace: connection 999 is up",
        "[server] trace: close() the listening socket",
    ] {
        assert!(
            stderr.contains(call),
            "no {call:?} in\n{}",
            &stderr[..stderr.len().min(3000)]
        );
    }
}

#[test]
fn no_subcommand_prints_usage_suggesting_demo() {
    cargo_bin_cmd!("tcp-nonblocking")
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("server"))
        .stderr(predicates::str::contains("client"))
        .stderr(predicates::str::contains(
            "cargo run -p tcp-nonblocking -- demo",
        ));
}
