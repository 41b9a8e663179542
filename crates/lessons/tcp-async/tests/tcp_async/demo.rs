//! `tcp-async demo`: what a student runs first.

use assert_cmd::cargo::cargo_bin_cmd;
use test_support::testing::WAIT;

fn demo(args: &[&str]) -> std::process::Output {
    let output = cargo_bin_cmd!("tcp-async")
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

    // The times are [..] in the transcript. Not a benchmark, only checks that cannot be flaky:
    // behind a blocking 500 ms sleep that started 100 ms before it, B waits well over 200 ms;
    // with spawn_blocking it must wait less than that.
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("[demo] B waited "))
        .unwrap_or_else(|| panic!("no summary in\n{stdout}"));
    let numbers: Vec<u64> = line
        .split(' ')
        .filter_map(|word| word.parse().ok())
        .collect();
    let [stalled, unstalled] = numbers[..] else {
        panic!("two numbers expected in {line:?}");
    };
    assert!(stalled >= 200, "{line}");
    assert!(unstalled < stalled, "{line}");
}

#[test]
fn demo_trace_shows_the_tasks_and_the_socket_calls() {
    let stderr = String::from_utf8(demo(&["--trace"]).stderr).unwrap();
    for call in [
        "[server] trace: listen(1024)",
        "[server] trace: accept() -> 127.0.0.1:",
        "[server] trace: tokio::spawn() a task to serve 127.0.0.1:",
        "[server] trace: recv(1024) -> ",
        "[server] trace: close() the listening socket",
    ] {
        assert!(stderr.contains(call), "no {call:?} in\n{stderr}");
    }
}

#[test]
fn no_subcommand_prints_usage_suggesting_demo() {
    cargo_bin_cmd!("tcp-async")
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("server"))
        .stderr(predicates::str::contains("client"))
        .stderr(predicates::str::contains("cargo run -p tcp-async -- demo"));
}
