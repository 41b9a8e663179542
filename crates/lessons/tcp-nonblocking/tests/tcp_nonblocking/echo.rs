//! Every client is served at once, by one thread: what tcp-threaded's threads proved, proved
//! again for the readiness loop.

use std::io::{Read, Write};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use predicates::str::contains;

use crate::support::{Peer, client, server};

/// `clients` clients connect, are answered once, then all talk at once with long lines.
fn all_at_once(clients: usize, rounds: usize) {
    // Two descriptors per client in this process (the socket and its reader's clone): more
    // than macOS's default limit of 256 at 200 clients.
    #[cfg(unix)]
    let _ = rlimit::increase_nofile_limit(4 * clients as u64 + 256);
    let server = server(&["--quiet"]);
    let addr = server.addr();
    let all_connected = Arc::new(Barrier::new(clients));
    let threads: Vec<_> = (0..clients)
        .map(|number| {
            let all_connected = Arc::clone(&all_connected);
            thread::spawn(move || {
                let mut peer = Peer::connect(addr);
                assert_eq!(peer.ask("hello"), "hello");
                all_connected.wait();
                for round in 0..rounds {
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
    for thread in threads {
        thread.join().unwrap();
    }
    // All of them were connected at the same time, to one thread.
    #[cfg(unix)]
    {
        crate::support::send_signal("TERM", server.id());
        let (status, rest) = server.wait_for_exit();
        assert!(status.success(), "{status:?}");
        let peak = format!("at most {clients} connections at once, on one thread");
        assert!(rest.contains(&peak), "{rest:?}");
    }
}

#[test]
fn twenty_clients_at_once_all_get_their_own_echoes_intact() {
    all_at_once(20, 5);
}

#[test]
fn two_hundred_clients_at_once_all_get_their_own_echoes_intact() {
    all_at_once(200, 2);
}

#[test]
fn the_event_lines_count_the_connected_clients() {
    let mut server = server(&[]);
    let mut peers: Vec<Peer> = (1..=3)
        .map(|count| {
            let peer = Peer::connect(server.addr());
            server.wait_for(&format!("connection from {} ({count} active)", peer.addr()));
            peer
        })
        .collect();
    assert_eq!(peers[1].ask("hi"), "hi");
    server.wait_for(&format!("received from {}: hi", peers[1].addr()));
    let gone = peers.remove(0);
    let gone_addr = gone.addr();
    drop(gone);
    server.wait_for(&format!("{gone_addr} closed the connection (2 active)"));
}

#[test]
fn an_idle_client_does_not_delay_others() {
    let mut server = server(&[]);
    let _idle = Peer::connect(server.addr());
    server.wait_for("(1 active)");
    let mut busy = Peer::connect(server.addr());
    busy.stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    assert_eq!(busy.ask("anyone there?"), "anyone there?");
}

#[test]
fn a_client_that_resets_does_not_disturb_others() {
    let mut server = server(&[]);
    let mut steady = Peer::connect(server.addr());
    assert_eq!(steady.ask("before"), "before");
    test_support::hostile::send_and_reset(server.addr(), b"half a li");
    if !test_support::hostile::accepted_before_reset(&mut server, "(2 active)") {
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
fn a_message_without_a_newline_is_answered_after_a_short_silence() {
    let mut server = server(&[]);
    let mut peer = Peer::connect(server.addr());
    peer.stream.write_all(b"no newline").unwrap();
    let mut echo = [0u8; 10];
    peer.stream.read_exact(&mut echo).unwrap();
    assert_eq!(&echo, b"no newline");
    server.wait_for("received from");
}

#[test]
fn what_is_sent_before_the_client_closes_its_half_is_still_answered() {
    let server = server(&[]);
    let mut peer = Peer::connect(server.addr());
    peer.stream.write_all(b"one\ntwo").unwrap();
    peer.stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut echo = Vec::new();
    peer.stream.read_to_end(&mut echo).unwrap();
    assert_eq!(echo, b"one\ntwo");
}

#[test]
fn lines_sent_together_are_echoed_without_waiting_for_an_acknowledgement() {
    // With Nagle's algorithm on, 20 rounds of two replies would take 800 ms.
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

#[test]
fn trace_shows_the_poll_and_the_non_blocking_calls() {
    let mut server = server(&["--trace"]);
    client(server.addr(), &["--message", "hi"])
        .assert()
        .success();
    server.wait_for("closed the connection");
    for call in [
        "trace: listen(1024)",
        "trace: set_nonblocking(true)",
        "trace: poll() -> 1 ready",
        "trace: accept() -> 127.0.0.1:",
        "trace: recv(65536) -> 3 bytes from 127.0.0.1:",
        "trace: send(3 bytes) -> 3 to 127.0.0.1:",
        "trace: close() the socket of 127.0.0.1:",
    ] {
        server.wait_for_stderr(call);
    }
}
