//! `tcp-threaded demo`: what a student runs first.
// The helpers below panic on failure: in a test, that is a failed test.
#![allow(clippy::unwrap_used)]

use assert_cmd::cargo::cargo_bin_cmd;
use common::testing::WAIT;

fn demo(args: &[&str]) -> std::process::Output {
    let output = cargo_bin_cmd!("tcp-threaded")
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
    common::testing::assert_transcript(
        &stdout,
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts/demo.txt"),
    );

    // The times are [..] in the transcript. Not a benchmark, only a check that cannot be
    // flaky: served one after another, five clients that each stay 200 ms take at least 1 s,
    // and the threaded run must beat that.
    let totals = seconds(&stdout, "[demo]   all 5 done after ");
    let [sequential, threaded] = totals[..] else {
        panic!("two runs expected in\n{stdout}");
    };
    assert!(sequential >= 1.0, "{stdout}");
    assert!(threaded < sequential, "{stdout}");
}

/// The seconds in the line that starts with `prefix`, in order of appearance.
fn seconds(stdout: &str, prefix: &str) -> Vec<f64> {
    stdout
        .lines()
        .filter_map(|line| line.strip_prefix(prefix))
        .map(|rest| {
            rest.trim_end_matches(" s")
                .parse()
                .unwrap_or_else(|e| panic!("{rest:?}: {e}"))
        })
        .collect()
}

#[test]
fn demo_trace_shows_the_threads_and_the_socket_calls() {
    let stderr = String::from_utf8(demo(&["--trace"]).stderr).unwrap();
    for call in [
        "[server] trace: listen(128)",
        "[server] trace: accept() -> 127.0.0.1:",
        "[server] trace: thread::spawn() to serve 127.0.0.1:",
        "[server] trace: recv(1024) -> 20 bytes from 127.0.0.1:",
        "[server] trace: close() the listening socket",
        "[alice] trace: recv(1024) -> ",
    ] {
        assert!(stderr.contains(call), "no {call:?} in\n{stderr}");
    }
}

#[test]
fn no_subcommand_prints_usage_suggesting_demo() {
    cargo_bin_cmd!("tcp-threaded")
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("server"))
        .stderr(predicates::str::contains("client"))
        .stderr(predicates::str::contains(
            "cargo run -p tcp-threaded -- demo",
        ));
}
