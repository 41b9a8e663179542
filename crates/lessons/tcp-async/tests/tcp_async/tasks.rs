//! A task per connection: every client is served at once, and none of them can hold up the
//! others — with one worker thread as with many.

use std::io::{Read, Write};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use predicates::str::contains;
use test_support::hostile::{accepted_before_reset, send_and_reset};
use test_support::testing::WAIT;

use crate::support::{Peer, client, server};

#[test]
fn twenty_clients_at_once_on_one_worker_all_get_their_own_echoes_intact() {
    let mut server = server(&["--workers", "1"]);
    let addr = server.addr();
    let all_connected = Arc::new(Barrier::new(20));
    let clients: Vec<_> = (0..20)
        .map(|number| {
            let all_connected = Arc::clone(&all_connected);
            thread::spawn(move || {
                let mut peer = Peer::connect(addr);
                assert_eq!(peer.ask("hello"), "hello");
                // Everyone is connected and has been answered once: now all talk at once.
                all_connected.wait();
                for round in 0..5 {
                    // Long enough to arrive in several pieces, and different for every client.
                    let line = format!("client {number} round {round} ").repeat(300);
                    assert_eq!(
                        peer.ask(&line),
                        line,
                        "client {number} got someone else's echo"
                    );
                }
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    server.wait_for("(20 active)");
}

#[test]
fn an_idle_client_does_not_delay_others() {
    let mut server = server(&["--workers", "1"]);
    let _idle = Peer::connect(server.addr());
    server.wait_for("connection from");
    let mut busy = Peer::connect(server.addr());
    busy.stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    assert_eq!(busy.ask("anyone there?"), "anyone there?");
    server.wait_for("(2 active)");
}

#[test]
fn a_client_that_resets_mid_line_does_not_disturb_others() {
    let mut server = server(&[]);
    let mut steady = Peer::connect(server.addr());
    assert_eq!(steady.ask("before"), "before");
    send_and_reset(server.addr(), b"half a li");
    if !accepted_before_reset(&mut server, "(2 active)") {
        return;
    }
    let line = server.wait_for("(1 active)");
    assert!(
        line.contains("failed") || line.contains("closed the connection"),
        "{line}"
    );
    assert_eq!(steady.ask("after"), "after");
    client(server.addr(), &["--message", "newcomer"])
        .assert()
        .success()
        .stdout(contains("received: newcomer\n"));
}

#[test]
fn upper_case_replies_as_in_tcp_echo() {
    let upper = server(&["--upper"]);
    client(upper.addr(), &["--message", "straße"])
        .assert()
        .success()
        .stdout(contains("received: STRASSE\n"));
}

#[test]
fn gbk_on_both_sides() {
    let mut server = server(&["--encoding", "gbk"]);
    client(server.addr(), &["--encoding", "gbk", "--message", "你好"])
        .assert()
        .success()
        .stdout(contains("received: 你好\n"));
    server.wait_for(": 你好");
}

#[test]
fn invalid_bytes_are_shown_and_echoed_and_the_server_goes_on() {
    let mut server = server(&[]);
    let mut peer = Peer::connect(server.addr());
    // 你好 in GBK: not UTF-8.
    peer.stream
        .write_all(&[0xc4, 0xe3, 0xba, 0xc3, b'\n'])
        .unwrap();
    let mut echo = [0u8; 5];
    peer.stream.read_exact(&mut echo).unwrap();
    assert_eq!(echo, [0xc4, 0xe3, 0xba, 0xc3, b'\n']);
    let line = server.wait_for("not valid");
    assert!(line.ends_with("(valid GBK: try --encoding gbk)"), "{line}");
    assert_eq!(peer.ask("still here"), "still here");
}

#[test]
fn control_characters_are_printed_escaped() {
    let mut server = server(&[]);
    let mut peer = Peer::connect(server.addr());
    // An escape sequence that would clear the server's terminal.
    assert_eq!(peer.ask("a\u{1b}[2Jb"), "a\u{1b}[2Jb");
    let line = server.wait_for("received from");
    assert!(line.ends_with(": a\\x1b[2Jb"), "{line}");
}

#[test]
fn garbage_bytes_of_every_value_are_echoed_byte_for_byte() {
    let mut server = server(&[]);
    let mut peer = Peer::connect(server.addr());
    // Every byte value but the newline, many times: one "line" of garbage.
    let mut garbage: Vec<u8> = (0..=255u8)
        .filter(|&b| b != b'\n')
        .cycle()
        .take(20_000)
        .collect();
    garbage.push(b'\n');
    peer.stream.write_all(&garbage).unwrap();
    let mut echo = vec![0u8; garbage.len()];
    peer.stream.read_exact(&mut echo).unwrap();
    assert_eq!(echo, garbage);
    server.wait_for("not valid UTF-8");
    assert_eq!(peer.ask("still here"), "still here");
}

#[test]
fn a_message_without_a_newline_is_answered_after_a_short_silence() {
    // Like the seeds' Python clients: send("我是一个客户端"), no newline, connection kept open.
    let mut server = server(&[]);
    let mut peer = Peer::connect(server.addr());
    peer.stream.write_all("我是一个客户端".as_bytes()).unwrap();
    let mut echo = vec![0u8; "我是一个客户端".len()];
    peer.stream.read_exact(&mut echo).unwrap();
    assert_eq!(echo, "我是一个客户端".as_bytes());
    server.wait_for(": 我是一个客户端");
}

#[test]
fn trace_shows_a_task_per_connection_and_the_socket_calls() {
    let mut server = server(&["--trace", "--workers", "3"]);
    client(server.addr(), &["--message", "hi"])
        .assert()
        .success();
    server.wait_for("closed the connection");
    for call in [
        "trace: runtime with 3 worker thread(s)",
        "trace: listen(1024)",
        "trace: accept() -> 127.0.0.1:",
        "trace: tokio::spawn() a task to serve 127.0.0.1:",
        "trace: recv(1024) -> 3 bytes from 127.0.0.1:",
        "trace: sendall(3 bytes) to 127.0.0.1:",
        "trace: close() the socket of 127.0.0.1:",
    ] {
        server.wait_for_stderr(call);
    }
}

#[test]
fn lines_sent_together_are_echoed_without_waiting_for_an_acknowledgement() {
    // Nagle's algorithm would hold the second reply until the first is acknowledged, and the
    // client delays that by 40 ms: 20 rounds would take 800 ms.
    let server = server(&[]);
    let mut peer = Peer::connect(server.addr());
    peer.stream.set_nodelay(true).unwrap();
    let started = Instant::now();
    for _ in 0..20 {
        peer.stream.write_all(b"one\ntwo\n").unwrap();
        assert_eq!(peer.line(), "one");
        assert_eq!(peer.line(), "two");
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_millis(400),
        "20 rounds took {elapsed:?}"
    );
    assert!(elapsed < WAIT);
}
