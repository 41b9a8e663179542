//! Ctrl-C and SIGTERM stop the server gently: no new clients, a grace period for the connected
//! ones, then a summary and exit status 0. The tests send SIGTERM with the `kill` command, so
//! they run on Unix only; Ctrl-C on Windows goes through the same `Server::stop`.

use std::time::{Duration, Instant};

use crate::support::{Peer, send_signal, server};
use test_support::hostile::{NonReader, lines};

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
        (&["--pool", "3"], "TERM"),
        (&["--sequential"], "TERM"),
        (&["--seed-002"], "INT"),
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
fn seed_002_server_stops_at_the_end_of_the_grace_period_while_a_silent_client_blocks_it() {
    let mut server = server(&["--seed-002", "--grace", "1"]);
    let mut silent = Peer::connect(server.addr());
    server.wait_for("connection from");
    // Its one thread waits in the silent client's recv, where a signal alone does not reach it.
    send_sigterm(server.id());
    server.wait_for("1 connected client(s) have 1 s to finish");
    let stopping = Instant::now();
    assert_eq!(silent.line(), "", "the server closes the silent client");
    let (status, rest) = server.wait_for_exit();
    let took = stopping.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(
        took < Duration::from_millis(2500),
        "exited {took:?} after a 1 s grace period"
    );
    assert!(
        rest.iter()
            .any(|line| line.contains(": the server is stopping (0 active)")),
        "{rest:?}"
    );
    assert_eq!(rest.last().map(String::as_str), Some("served 1 connection"));
}

#[test]
fn a_pool_lets_waiting_clients_in_during_the_grace_period() {
    let mut server = server(&["--pool", "1", "--grace", "10"]);
    let mut first = Peer::connect(server.addr());
    assert_eq!(first.ask("one"), "one");
    // Connected before the signal, waiting for the only worker.
    let mut second = Peer::connect(server.addr());
    server.wait_for("(2 active)");
    second.send("two");

    send_sigterm(server.id());
    server.wait_for("2 connected client(s) have 10 s to finish");
    drop(first);
    assert_eq!(second.line(), "two");
    drop(second);
    let (status, rest) = server.wait_for_exit();
    assert!(status.success(), "{status:?}");
    assert_eq!(
        rest.last().map(String::as_str),
        Some("served 2 connections")
    );
}

/// Two clients that send lines to echo and never read the echoes: their threads soon block in a
/// write, where they see no grace period and no signal.
fn two_non_readers(server: &mut test_support::testing::Running) -> [NonReader; 2] {
    let stuck = [(); 2].map(|()| NonReader::start(server.addr(), lines(512, 32 * 1024)));
    server.wait_for("(2 active)");
    for client in &stuck {
        client.wait_until_the_server_is_stuck();
    }
    stuck
}

#[test]
fn the_grace_period_ends_on_time_for_clients_that_do_not_read_in_every_mode() {
    // The modes run side by side: each has its own server.
    std::thread::scope(|modes| {
        for mode in [&[][..], &["--pool", "4"], &["--sequential"]] {
            modes.spawn(move || {
                // A write timeout far beyond the grace period: only the grace period can end them.
                let mut server =
                    server(&[mode, &["--grace", "1", "--write-timeout", "60"]].concat());
                let stuck = if mode == ["--sequential"] {
                    // One at a time: the second would wait in the listen queue, not in a write.
                    let stuck = NonReader::start(server.addr(), lines(512, 32 * 1024));
                    stuck.wait_until_the_server_is_stuck();
                    vec![stuck]
                } else {
                    two_non_readers(&mut server).into()
                };
                send_sigterm(server.id());
                server.wait_for("s to finish");
                let stopping = Instant::now();
                let (status, rest) = server.wait_for_exit();
                let took = stopping.elapsed();
                assert!(status.success(), "{mode:?}: {status:?}");
                assert!(
                    took < Duration::from_millis(2500),
                    "{mode:?}: exited {took:?} after a 1 s grace period"
                );
                let closed = rest
                    .iter()
                    .filter(|line| line.contains(": the server is stopping"))
                    .count();
                assert_eq!(closed, stuck.len(), "{mode:?}: {rest:?}");
                for client in stuck {
                    client.assert_closed();
                }
            });
        }
    });
}

#[test]
fn a_second_signal_closes_clients_that_do_not_read_at_once() {
    let mut server = server(&["--grace", "60", "--write-timeout", "60"]);
    let stuck = two_non_readers(&mut server);
    send_sigterm(server.id());
    server.wait_for("have 60 s to finish");
    send_signal("INT", server.id());
    server.wait_for("closing the remaining 2 connection(s) now");
    let closing = Instant::now();
    let (status, rest) = server.wait_for_exit();
    let took = closing.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(
        took < Duration::from_millis(1500),
        "exited {took:?} after the second signal"
    );
    assert_eq!(
        rest.last().map(String::as_str),
        Some("served 2 connections")
    );
    for client in stuck {
        client.assert_closed();
    }
}
