//! SIGTERM and Ctrl-C wake the loop through its Waker: no new clients, a grace period for the
//! connected ones, then a summary and exit status 0. Unix only (the `kill` command); Ctrl-C on
//! Windows goes through the same Waker.

use std::time::{Duration, Instant};

use crate::support::{Peer, send_signal, server};

#[test]
fn sigterm_lets_a_connected_client_finish_then_summarises_and_exits_0() {
    let mut server = server(&["--grace", "10"]);
    let mut peer = Peer::connect(server.addr());
    assert_eq!(peer.ask("before"), "before");

    send_signal("TERM", server.id());
    let stopping = server.wait_for("stopping");
    assert!(
        stopping
            .starts_with("stopping: no new connections; 1 connected client(s) have 10 s to finish"),
        "{stopping}"
    );
    assert_eq!(peer.ask("during"), "during");
    // A probe that connects in the moment before the socket closes may be served too.
    let deadline = Instant::now() + test_support::testing::WAIT;
    let mut probes_let_in = 0;
    while std::net::TcpStream::connect(server.addr()).is_ok() {
        probes_let_in += 1;
        assert!(Instant::now() < deadline, "still accepting connections");
        std::thread::sleep(Duration::from_millis(20));
    }

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

    send_signal("TERM", server.id());
    server.wait_for("have 0.5 s to finish");
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
    send_signal("TERM", server.id());
    server.wait_for("have 60 s to finish");
    send_signal("INT", server.id());
    server.wait_for("closing the remaining 1 connection(s) now");
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
        (&["--broadcast"], "INT"),
        (&["--busy-poll"], "TERM"),
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
