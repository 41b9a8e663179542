//! `udp-chat demo`: what a student runs first.

use assert_cmd::cargo::cargo_bin_cmd;
use test_support::testing::WAIT;

fn run_demo(args: &[&str]) -> std::process::Output {
    let output = cargo_bin_cmd!("udp-chat")
        .arg("demo")
        .args(args)
        .timeout(WAIT)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the demo: {e}"));
    assert!(output.status.success(), "{output:?}");
    output
}

#[test]
fn demo_shows_a_conversation_in_both_directions() {
    let stdout = String::from_utf8(run_demo(&[]).stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    let address = |who: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(&format!("[{who}] bound to ")))
            .unwrap_or_else(|| panic!("{who} is not bound in\n{stdout}"))
    };
    let (alice, bob) = (address("alice"), address("bob"));
    for (from, to, text) in [
        (alice, "bob", "hi bob, are you there?"),
        (bob, "alice", "在的！收到了。"),
    ] {
        let line = format!("[{to}] received from {from}: {text}");
        assert!(lines.contains(&line.as_str()), "no {line:?} in\n{stdout}");
    }
    // Bob had no peer: he answered whoever wrote last.
    let line = format!("[bob] peer: {alice} (the last to write to us)");
    assert!(lines.contains(&line.as_str()), "no {line:?} in\n{stdout}");
}

#[test]
fn demo_trace_shows_the_socket_calls() {
    let stderr = String::from_utf8(run_demo(&["--trace"]).stderr).unwrap();
    for call in [
        "[alice] trace: bind(127.0.0.1:0)",
        "[alice] trace: sendto(22 bytes, 127.0.0.1:",
        "[bob] trace: recvfrom(65535) -> 22 bytes from 127.0.0.1:",
        "[bob] trace: close()",
    ] {
        assert!(stderr.contains(call), "no {call:?} in\n{stderr}");
    }
}

#[test]
fn the_books_demo_transcript_matches_a_real_run() {
    let stdout = String::from_utf8(run_demo(&[]).stdout).unwrap();
    test_support::testing::assert_transcript(
        &stdout,
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts/demo.txt"),
    );
}

#[test]
fn help_names_the_demo_and_the_two_terminals() {
    cargo_bin_cmd!("udp-chat")
        .arg("--help")
        .timeout(WAIT)
        .assert()
        .success()
        .stdout(predicates::str::contains("cargo run -p udp-chat -- demo"))
        .stdout(predicates::str::contains("--peer"));
}
