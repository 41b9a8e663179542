//! Ctrl-C and SIGTERM, through `tokio::signal`, stop the server gently: no new clients, a grace
//! period for the connected ones (every task watches the server's phase), then a summary and
//! exit status 0. The tests send signals with the `kill` command, so they run on Unix only;
//! Ctrl-C on Windows goes through the same `Server::stop`.
#![cfg(unix)]

use std::time::{Duration, Instant};

use crate::support::{Peer, send_signal, server};

fn send_sigterm(pid: u32) {
    send_signal("TERM", pid);
}

#[test]
fn sigterm_lets_a_connected_client_finish_then_summarises_and_exits_0() {
    let mut server = server(&["--grace", "10"]);
    let mut peer = Peer::connect(server.addr());
    assert_eq!(peer.ask("before"), "before");

    send_sigterm(server.id());
    let stopping = server.wait_for("stopping");
    assert!(
        stopping
            .starts_with("stopping: no new connections; 1 connected client(s) have 10 s to finish"),
        "{stopping}"
    );
    // Still served during the grace period…
    assert_eq!(peer.ask("during"), "during");
    // …but nobody new gets in: the listening socket is closed (at the latest just after the
    // stopping line).
    // A probe that connects in the moment before the socket closes may be served too.
    let deadline = Instant::now() + test_support::testing::WAIT;
    let mut probes_let_in = 0;
    while std::net::TcpStream::connect(server.addr()).is_ok() {
        probes_let_in += 1;
        assert!(Instant::now() < deadline, "still accepting connections");
        std::thread::sleep(Duration::from_millis(20));
    }

    // The client leaves by itself; the server need not wait out the grace period.
    let left = Instant::now();
    drop(peer);
    let (status, rest) = server.wait_for_exit();
    assert!(status.success(), "{status:?} {rest:?}");
    assert!(left.elapsed() < Duration::from_secs(5), "{rest:?}");
    assert!(
        rest.iter()
            .any(|line| line.contains("closed the connection (0 active)")),
        "{rest:?}"
    );
    let mut served = (1..=1 + probes_let_in).map(|n| match n {
        1 => "served 1 connection".to_owned(),
        n => format!("served {n} connections"),
    });
    let last = rest.last().cloned().unwrap_or_default();
    assert!(
        served.any(|line| line == last),
        "{last:?}, {probes_let_in} probe(s) let in"
    );
}

#[test]
fn sigterm_closes_clients_still_connected_after_the_grace_period() {
    let mut server = server(&["--grace", "0.5"]);
    let mut first = Peer::connect(server.addr());
    assert_eq!(first.ask("one"), "one");
    let mut second = Peer::connect(server.addr());
    assert_eq!(second.ask("two"), "two");

    send_sigterm(server.id());
    server.wait_for("have 0.5 s to finish");
    // Neither leaves: the server closes both at the end of the grace period.
    assert_eq!(first.line(), "");
    assert_eq!(second.line(), "");
    let (status, rest) = server.wait_for_exit();
    assert!(status.success(), "{status:?}");
    let closed = rest
        .iter()
        .filter(|line| line.contains(": the server is stopping"))
        .count();
    assert_eq!(closed, 2, "{rest:?}");
    assert_eq!(
        rest.last().map(String::as_str),
        Some("served 2 connections")
    );
}

#[test]
fn a_second_signal_closes_the_clients_at_once() {
    let mut server = server(&["--grace", "60"]);
    let mut peer = Peer::connect(server.addr());
    assert_eq!(peer.ask("hi"), "hi");
    send_sigterm(server.id());
    server.wait_for("have 60 s to finish");
    send_sigterm(server.id());
    server.wait_for("closing the remaining 1 connection(s) now");
    // Well before the 60 s grace period (WAIT is 15 s).
    assert_eq!(peer.line(), "");
    let (status, rest) = server.wait_for_exit();
    assert!(status.success(), "{status:?}");
    assert_eq!(rest.last().map(String::as_str), Some("served 1 connection"));
}

#[test]
fn an_idle_server_stops_at_once_in_every_mode_on_sigterm_or_ctrl_c() {
    for (mode, signal) in [
        (&[][..], "TERM"),
        (&[][..], "INT"),
        (&["--workers", "1"], "TERM"),
        (&["--broadcast"], "INT"),
    ] {
        let mut server = server(mode);
        send_signal(signal, server.id());
        server.wait_for("stopping: no new connections");
        let (status, rest) = server.wait_for_exit();
        assert!(status.success(), "{mode:?}: {status:?}");
        assert_eq!(
            rest.last().map(String::as_str),
            Some("served 0 connections"),
            "{mode:?}"
        );
    }
}

#[test]
fn a_chat_room_closes_its_members_at_the_end_of_the_grace_period() {
    let mut server = server(&["--broadcast", "--grace", "0.5"]);
    let mut alice = Peer::connect(server.addr());
    let mut bob = Peer::connect(server.addr());
    server.wait_for("(2 active)");
    alice.send("hi");
    assert_eq!(bob.line(), format!("{}: hi", alice.addr()));
    send_sigterm(server.id());
    assert_eq!(alice.line(), "");
    assert_eq!(bob.line(), "");
    let (status, rest) = server.wait_for_exit();
    assert!(status.success(), "{status:?}");
    assert_eq!(
        rest.last().map(String::as_str),
        Some("served 2 connections")
    );
}
