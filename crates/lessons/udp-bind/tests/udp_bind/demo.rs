//! `udp-bind demo`: what a student runs first.

use assert_cmd::cargo::cargo_bin_cmd;
use test_support::testing::WAIT;

fn run_demo(args: &[&str]) -> std::process::Output {
    let output = cargo_bin_cmd!("udp-bind")
        .arg("demo")
        .args(args)
        .timeout(WAIT)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the demo: {e}"));
    assert!(output.status.success(), "{output:?}");
    output
}

#[test]
fn demo_runs_the_seeds_exchange_with_two_unbound_clients() {
    let stdout = String::from_utf8(run_demo(&[]).stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("[server] ") || l.starts_with("[client] ")),
        "{stdout}"
    );
    assert!(
        lines[0].starts_with("[server] bound to 127.0.0.1:"),
        "{stdout}"
    );
    assert!(
        !lines[0].ends_with(":0"),
        "the real port is shown: {stdout}"
    );

    // Each client's port, as it saw it and as the server saw it.
    let client_ports: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("[client] bound to 0.0.0.0:"))
        .collect();
    assert_eq!(client_ports.len(), 2, "{stdout}");
    for port in &client_ports {
        let seen = format!("[server] received from 127.0.0.1:{port}: BBB");
        assert!(lines.contains(&seen.as_str()), "no {seen:?} in\n{stdout}");
    }
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("[client] received from 127.0.0.1:") && l.ends_with(": AAA"))
            .count(),
        2,
        "{stdout}"
    );
    let summary = lines.last().unwrap();
    assert!(
        summary.starts_with(&format!(
            "[client] two runs, two sockets: ports {} and {} (",
            client_ports[0], client_ports[1]
        )),
        "{stdout}"
    );
}

#[test]
fn demo_trace_shows_the_socket_calls() {
    let stderr = String::from_utf8(run_demo(&["--trace"]).stderr).unwrap();
    for call in [
        "[server] trace: socket(AF_INET, SOCK_DGRAM)",
        "[server] trace: bind(127.0.0.1:0)",
        "[server] trace: recvfrom(65535) -> 3 bytes from 127.0.0.1:",
        "[server] trace: sendto(3 bytes, 127.0.0.1:",
        "[client] trace: no bind(): the OS will pick our port at the first sendto",
        "[client] trace: getsockname() -> 0.0.0.0:",
    ] {
        assert!(stderr.contains(call), "no {call:?} in\n{stderr}");
    }
}

#[test]
fn no_subcommand_prints_usage_suggesting_demo() {
    cargo_bin_cmd!("udp-bind")
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("server"))
        .stderr(predicates::str::contains("client"))
        .stderr(predicates::str::contains("cargo run -p udp-bind -- demo"));
}

#[test]
fn the_books_demo_transcript_matches_a_real_run() {
    let stdout = String::from_utf8(run_demo(&[]).stdout).unwrap();
    test_support::testing::assert_transcript(
        &stdout,
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts/demo.txt"),
    );
}
