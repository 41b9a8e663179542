//! The seeds' own Python programs (`interop/`) against this lesson, both ways. Seed 000's echo
//! server reads one message per connection: it serves short connections and not long ones.
//! Seed 001's client, made for this lesson's port 8081, sends text without a newline: this
//! server, whose requests are lines, never answers it. Python is found on PATH; without it the
//! tests print `skipped:` (and fail in CI, where SOCKETS_REQUIRE_TOOLS=1).

use std::process::Command;

use crate::support::{assert_counts, client, server};
use assert_cmd::cargo::cargo_bin;
use test_support::external::{External, python3, seed, seed_server};

#[test]
fn short_connections_work_against_the_seed_000_server() {
    let Some(python) = python3() else { return };
    let (mut server, addr) = seed_server(&python, "000_tcp_server.py");
    let mut command = Command::new(cargo_bin!("long-short"));
    command.args(["client", "--connect", &addr.to_string()]);
    command.args(["--mode", "short", "--count", "5", "--size", "16"]);
    let mut client = External::start(command);
    client.wait_for("mode=short requests=5 connections=5 errors=0 ");
    for _ in 0..5 {
        server.wait_for("服务端发送消息到客户端>>> ");
    }
    // The seed never closes a client's socket: the next accept() replaces it. The client, which
    // counts its TIME_WAIT sockets once every connection has closed, would wait (3 s at most)
    // for the last one; stopping the seed closes it.
    drop(server);
    let finished = client.finish();
    finished.assert_success();
    assert_counts(&finished.stdout, &[("errors", "0")]);
}

#[test]
fn a_long_connection_to_the_seed_000_server_gets_only_its_first_request_answered() {
    let Some(python) = python3() else { return };
    let (_server, addr) = seed_server(&python, "000_tcp_server.py");
    let output = client(
        addr,
        &["--mode", "long", "--count", "2", "--timeout", "0.5"],
    )
    .output()
    .unwrap();
    assert!(!output.status.success(), "{output:?}");
    assert_counts(
        &output.stdout,
        &[("mode", "long"), ("requests", "2"), ("errors", "1")],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .contains("error: 1 of 2 requests failed; the first: request 1: no reply within 0.5 s"),
        "{stderr}"
    );
}

#[test]
fn the_seed_001_client_gets_no_answer_without_a_newline() {
    let Some(python) = python3() else { return };
    let mut server = server(&["--idle", "0.3"]);
    let mut seed = seed(&python, "001_tcp_client.py", &[]);
    seed.type_line("127.0.0.1");
    seed.type_line(&server.addr().port().to_string());
    seed.type_line("hello");
    // The server closes the connection after --idle; the seed's recv returns b"".
    let finished = seed.finish();
    finished.assert_success();
    assert!(
        finished.stdout_text().ends_with("接受到的数据为:\n"),
        "{}",
        finished.stdout_text()
    );
    server.wait_for("sent part of a request, no newline, then nothing for 0.3 s");
}
