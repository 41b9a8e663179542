//! The client: `--connections N` from one thread, every echo checked, and a clear line for
//! every way a server can fail it; and the interactive connection, on a Poll.

use std::io::Read;
use std::net::TcpListener;
use std::thread;
use std::time::Duration;

use predicates::prelude::*;
use predicates::str::contains;
use test_support::testing::refused_port;

use crate::support::{client, server};

#[test]
fn connections_checks_every_echo_and_prints_one_summary_line() {
    let mut server = server(&[]);
    client(server.addr(), &["--connections", "50", "--messages", "4"])
        .assert()
        .success()
        .stdout(predicates::function::function(|out: &str| {
            out.strip_prefix("50 connections, 200 replies checked, 0 errors, ")
                .and_then(|rest| rest.strip_suffix(" s\n"))
                .is_some_and(is_decimal)
        }));
    server.wait_for("(50 active)");
}

#[test]
fn idle_connections_are_held_while_the_others_talk_for_a_duration() {
    let server = server(&["--quiet"]);
    client(
        server.addr(),
        &["--connections", "5", "--idle", "20", "--duration", "0.3"],
    )
    .assert()
    .success()
    .stdout(contains("20 idle connections held open\n"))
    .stdout(contains("5 connections, "))
    .stdout(predicates::function::function(|out: &str| {
        // The last line: `N requests/s, p50 X ms, p99 Y ms`.
        let last = out
            .strip_suffix(" ms\n")
            .and_then(|out| out.rsplit_once('\n'));
        last.and_then(|(_, line)| line.split_once(" requests/s, p50 "))
            .and_then(|(rate, rest)| {
                let (p50, p99) = rest.split_once(" ms, p99 ")?;
                Some(rate.bytes().all(|b| b.is_ascii_digit()) && is_decimal(p50) && is_decimal(p99))
            })
            .unwrap_or(false)
    }));
}

/// `12`, `0.25`: digits, and dots, at least one digit.
fn is_decimal(text: &str) -> bool {
    text.bytes().any(|b| b.is_ascii_digit())
        && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

#[test]
fn connections_against_a_server_that_refuses_exits_1_with_a_clear_line() {
    let refused = refused_port();
    let port = refused.port().to_string();
    client(
        format!("127.0.0.1:{port}").parse().unwrap(),
        &["--connections", "3"],
    )
    .assert()
    .code(1)
    .stdout(contains("3 connections, 0 replies checked, 3 errors"))
    .stderr(contains(format!("connection refused by 127.0.0.1:{port}")))
    .stderr(contains("error: 3 of 3 connections failed"));
}

#[test]
fn connections_against_a_server_that_resets_exits_1_with_a_clear_line() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let resetter = thread::spawn(move || {
        for _ in 0..2 {
            let (stream, _) = listener.accept().unwrap();
            // Wait for the request, then close with linger 0: a reset instead of an echo.
            let mut byte = [0u8; 1];
            let _ = (&stream).read(&mut byte);
            socket2::SockRef::from(&stream)
                .set_linger(Some(Duration::ZERO))
                .unwrap();
        }
    });
    client(addr, &["--connections", "2"])
        .assert()
        .code(1)
        .stdout(contains("2 connections, 0 replies checked, 2 errors"))
        .stderr(contains("reset").or(contains("closed the connection")))
        .stderr(contains("error: 2 of 2 connections failed"));
    resetter.join().unwrap();
}

#[test]
fn connections_against_a_server_that_never_answers_exits_1_after_the_timeout() {
    // Accepted by the kernel (the backlog), never read, never answered.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    client(
        listener.local_addr().unwrap(),
        &["--connections", "2", "--timeout", "0.5"],
    )
    .assert()
    .code(1)
    .stderr(contains("no reply within 0.5 s (--timeout)"))
    .stderr(contains("error: 2 of 2 connections failed"));
}

#[test]
fn connections_against_a_busy_server_shows_what_came_instead_of_the_echo() {
    let mut server = server(&["--max-connections", "1"]);
    let _first = crate::support::Peer::connect(server.addr());
    // Connected is not yet admitted: wait until the server has counted it.
    server.wait_for("(1 active)");
    client(server.addr(), &["--connections", "1"])
        .assert()
        .code(1)
        .stderr(contains("wrong echo").or(contains("closed the connection")))
        .stderr(contains("busy, try again later"));
}

#[test]
fn the_interactive_client_sends_lines_and_prints_what_arrives() {
    let mut server = server(&[]);
    client(server.addr(), &["--message", "one", "--message", "你好"])
        .assert()
        .success()
        .stdout(contains("sent: one\n"))
        .stdout(contains("received: one\n"))
        .stdout(contains("received: 你好\n"))
        .stdout(contains("end of input: waiting for the server to finish\n"))
        .stdout(contains("the server closed the connection\n"));
    server.wait_for("closed the connection (0 active)");
}

#[test]
fn the_interactive_client_reads_stdin() {
    let server = server(&["--upper"]);
    client(server.addr(), &[])
        .write_stdin("hello\nworld\n")
        .assert()
        .success()
        .stdout(contains("received: HELLO\nreceived: WORLD\n").or(contains("received: HELLO\n")))
        .stdout(contains("received: WORLD\n"));
}

#[test]
fn the_interactive_client_says_when_the_server_does_not_close() {
    // A server that never answers and never closes.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    client(
        listener.local_addr().unwrap(),
        &["--message", "hi", "--timeout", "0.5"],
    )
    .assert()
    .success()
    .stdout(contains(
        "the server did not close the connection within 0.5 s: closing it",
    ))
    .stdout(contains("received:").not());
}
