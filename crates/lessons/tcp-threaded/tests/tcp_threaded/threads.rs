//! Many clients at once: every client is served at the same time, and none of them can hold up
//! the others — unlike `--sequential`, which makes them take turns, and seed 002's "concurrent"
//! server (`--seed-002`), which answers each client once and lets a silent one block everyone.

use std::io::{ErrorKind, Read, Write};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{Peer, client, server};
use predicates::str::contains;
use test_support::testing::{WAIT, connect};

#[test]
fn twenty_clients_at_once_all_get_their_own_echoes_intact() {
    let mut server = server(&[]);
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
    // All twenty were connected at the same time: the count went up to 20.
    server.wait_for("(20 active)");
}

#[test]
fn an_idle_client_does_not_delay_others() {
    let mut server = server(&[]);
    // Connects and says nothing: with one thread for everything, it would block the server.
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
fn a_client_that_resets_does_not_disturb_others() {
    let mut server = server(&[]);
    let mut steady = Peer::connect(server.addr());
    assert_eq!(steady.ask("before"), "before");
    {
        let crashing = Peer::connect(server.addr());
        server.wait_for("(2 active)");
        let socket = socket2::SockRef::from(&crashing.stream);
        // Linger 0: close() sends RST instead of FIN, like a crashed client.
        socket.set_linger(Some(Duration::ZERO)).unwrap();
        (&crashing.stream).write_all(b"half a li").unwrap();
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
fn sequential_server_makes_the_second_client_wait() {
    // On purpose: one thread accepts and serves each client until it leaves.
    let mut server = server(&["--sequential"]);
    let mut first = Peer::connect(server.addr());
    assert_eq!(first.ask("one"), "one");

    // The second connection succeeds (the kernel queues it), but nobody reads it.
    let mut second = Peer::connect(server.addr());
    second.send("two");
    second
        .stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut byte = [0u8; 1];
    let waited = second.stream.read(&mut byte).unwrap_err();
    assert!(
        matches!(waited.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{waited:?}"
    );
    assert!(
        !server.seen().iter().any(|line| line.contains("(2 active)")),
        "{:?}",
        server.seen()
    );

    // As soon as the first client leaves, the second one is served.
    drop(first);
    second.stream.set_read_timeout(Some(WAIT)).unwrap();
    assert_eq!(second.line(), "two");
    server.wait_for("(1 active)");
}

#[test]
fn seed_002_server_answers_each_client_once_and_never_again() {
    let mut server = server(&["--seed-002", "--reply", "我是一个服务器"]);
    let mut first = Peer::connect(server.addr());
    assert_eq!(first.ask("one"), "我是一个服务器");
    // Straight back to accept(): the first client's second line is never read.
    first.send("two");
    assert!(first.stays_silent());
    assert!(
        !server.seen().iter().any(|line| line.contains(": two")),
        "{:?}",
        server.seen()
    );

    // The next client is served at once, and its accept() closes the first one's socket.
    let mut second = Peer::connect(server.addr());
    assert_eq!(second.ask("three"), "我是一个服务器");
    server.wait_for(&format!(
        "closed {}: the next accept() replaced its socket (0 active)",
        first.addr()
    ));
    // No answer to "two", ever: its socket is closed with the line unread, which on most
    // systems sends a reset instead of the end of the stream.
    let mut rest = Vec::new();
    match first.stream.read_to_end(&mut rest) {
        Ok(_) => assert!(rest.is_empty(), "{rest:?}"),
        Err(error) => assert_eq!(error.kind(), ErrorKind::ConnectionReset, "{error:?}"),
    }
}

#[test]
fn seed_002_server_is_blocked_by_a_client_that_says_nothing() {
    let mut server = server(&["--seed-002"]);
    let mut silent = Peer::connect(server.addr());
    server.wait_for(&format!("connection from {}", silent.addr()));

    // Accepted by the kernel, but the one thread waits in the silent client's recv.
    let mut waiting = Peer::connect(server.addr());
    waiting.send("anyone there?");
    assert!(waiting.stays_silent());

    // The silent client speaks: it is answered, and only then is the other one served.
    assert_eq!(silent.ask("now"), "now");
    assert_eq!(waiting.line(), "anyone there?");
}

#[test]
fn seed_002_server_ends_at_its_first_error() {
    // Python's `decode("UTF-8")` raises, and the bare `except: break` ends the only thread.
    let mut server = server(&["--seed-002"]);
    let mut bad = connect(server.addr());
    bad.write_all(b"\xff\xfe not UTF-8\n").unwrap();
    let addr = server.addr();
    let stderr = server.wait_for_stderr("error: seed 002's only thread ended");
    assert!(stderr.contains("not UTF-8"), "{stderr}");
    let (status, _) = server.wait_for_exit();
    assert_eq!(status.code(), Some(1));
    // Nobody listens any more.
    assert!(std::net::TcpStream::connect(addr).is_err());
}

#[test]
fn upper_and_fixed_replies_work_as_in_tcp_echo() {
    let upper = server(&["--upper"]);
    client(upper.addr(), &["--message", "straße"])
        .assert()
        .success()
        .stdout(contains("received: STRASSE\n"));
    let fixed = server(&["--reply", "我是一个服务器"]);
    client(fixed.addr(), &["--message", "我是一个客户端"])
        .assert()
        .success()
        .stdout(contains("received: 我是一个服务器\n"));
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
fn trace_shows_a_thread_per_connection() {
    let mut server = server(&["--trace"]);
    client(server.addr(), &["--message", "hi"])
        .assert()
        .success();
    server.wait_for("closed the connection");
    for call in [
        "trace: listen(128)",
        "trace: accept() -> 127.0.0.1:",
        "trace: thread::spawn() to serve 127.0.0.1:",
        "trace: recv(1024) -> 3 bytes from 127.0.0.1:",
        "trace: sendall(3 bytes) to 127.0.0.1:",
        "trace: close() the socket of 127.0.0.1:",
    ] {
        // stderr is collected by a background thread: give it a moment to catch up.
        let deadline = std::time::Instant::now() + WAIT;
        while !server.stderr().contains(call) {
            assert!(
                std::time::Instant::now() < deadline,
                "no {call:?} in\n{}",
                server.stderr()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn lines_sent_together_are_echoed_without_waiting_for_an_acknowledgement() {
    // Two lines in one write get two replies in two writes. With Nagle's algorithm on, the
    // second reply would wait for the client to acknowledge the first, and the client delays
    // its acknowledgement (40 ms on Linux, up to 200 ms elsewhere): 20 rounds would take 800 ms.
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
}
