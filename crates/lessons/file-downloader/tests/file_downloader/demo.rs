//! `file-downloader demo`: what a student runs first.

use assert_cmd::cargo::cargo_bin_cmd;
use test_support::testing::WAIT;

#[allow(clippy::unwrap_used)] // a panic is a failed test
fn demo(args: &[&str]) -> std::process::Output {
    let output = cargo_bin_cmd!("file-downloader")
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
    let output = demo(&[]);
    test_support::testing::assert_transcript(
        &String::from_utf8(output.stdout).unwrap(),
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts/demo.txt"),
    );
}

#[test]
fn demo_trace_shows_the_socket_calls() {
    let stderr = String::from_utf8(demo(&["--trace"]).stderr).unwrap();
    for call in [
        "[server] trace: bind(127.0.0.1:0) and listen(128)",
        "[server] trace: accept() -> 127.0.0.1:",
        "[server] trace: sendall(11 bytes) -> OK 4194304",
        "[server] trace: sent the body: 64 × (read, sendall) of up to 65536 bytes",
        "[server] trace: sendall(ERR outside the root)",
        "[client] trace: connect(127.0.0.1:",
        "[client] trace: sendall(14 bytes)",
        "[client] trace: received the body: 4194304 bytes",
    ] {
        assert!(stderr.contains(call), "no {call:?} in\n{stderr}");
    }
}

#[test]
fn demo_cleans_up_its_temporary_folder() {
    let stdout = String::from_utf8(demo(&[]).stdout).unwrap();
    let line = stdout
        .lines()
        .find(|l| l.contains("downloaded hello.txt"))
        .unwrap();
    let path = line.rsplit_once(" -> ").unwrap().1;
    let folder = std::path::Path::new(path)
        .parent()
        .unwrap()
        .parent()
        .unwrap();
    assert!(
        folder.to_string_lossy().contains("file-downloader-demo-"),
        "{folder:?}"
    );
    assert!(!folder.exists(), "{folder:?} was left behind");
}

#[test]
fn no_subcommand_prints_usage_suggesting_demo() {
    cargo_bin_cmd!("file-downloader")
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("server"))
        .stderr(predicates::str::contains("client"))
        .stderr(predicates::str::contains(
            "cargo run -p file-downloader -- demo",
        ));
}
