//! `tcp-threaded demo`: what a student runs first.
// The helpers below panic on failure: in a test, that is a failed test.

use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;
use test_support::testing::WAIT;

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
    // The book shows a recorded run, with its real ports and times: the times are the point of
    // the demo. A new run must print the same lines, with its own ports and times.
    let recorded = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts/demo.txt");
    let recorded = std::fs::read_to_string(&recorded).unwrap();
    let pattern = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tcp-threaded-demo-pattern.txt");
    std::fs::write(&pattern, as_pattern(&recorded)).unwrap();
    let stdout = String::from_utf8(demo(&[]).stdout).unwrap();
    test_support::testing::assert_transcript(&stdout, &pattern);

    // Not a benchmark, only a check that cannot be flaky, of the new run and of the recorded one
    // the book shows: served one after another, five clients that each stay 200 ms take at least
    // 1 s, and the threaded run must beat that.
    for run in [&stdout, &recorded] {
        let totals = seconds(run, "[demo]   all 5 done after ");
        let [sequential, threaded] = totals[..] else {
            panic!("two runs expected in\n{run}");
        };
        assert!(sequential >= 1.0, "{run}");
        assert!(threaded < sequential, "{run}");
    }
}

#[test]
fn a_pattern_keeps_the_words_and_leaves_out_ports_and_times() {
    assert_eq!(
        as_pattern("[server] connection from 127.0.0.1:41472 (1 active)\n"),
        "[server] connection from 127.0.0.1:[..] (1 active)\n"
    );
    assert_eq!(
        as_pattern("[demo]   echoes after 0.00, 0.20 s; 5 clients, 5.0 times\n"),
        "[demo]   echoes after [..], [..] s; 5 clients, [..] times\n"
    );
}

/// The recorded run as a transcript pattern: each port after `127.0.0.1:` and each number with a
/// decimal point (a time, a ratio) becomes `[..]`; everything else must be printed as it is.
fn as_pattern(recorded: &str) -> String {
    let mut pattern = String::new();
    let mut rest = recorded;
    while let Some(first) = rest.find(|c: char| c.is_ascii_digit()) {
        let (before, from) = rest.split_at(first);
        pattern.push_str(before);
        let digits = |text: &str| {
            text.find(|c: char| !c.is_ascii_digit())
                .unwrap_or(text.len())
        };
        let whole = digits(from);
        let decimals = from[whole..].strip_prefix('.').map_or(0, digits);
        let port = pattern.ends_with("127.0.0.1:");
        let number = if decimals > 0 {
            &from[..whole + 1 + decimals]
        } else {
            &from[..whole]
        };
        // An IP address such as 127.0.0.1 is digits and dots too: only a single dot counts.
        let time =
            decimals > 0 && !from[number.len()..].starts_with('.') && !pattern.ends_with('.');
        if port || time {
            pattern.push_str("[..]");
        } else {
            pattern.push_str(number);
        }
        rest = &from[number.len()..];
    }
    pattern.push_str(rest);
    pattern
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
