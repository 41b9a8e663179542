//! The limits tcp-threaded needed for its threads, kept for the loop's sockets: past
//! `--max-connections` the busy line; a silent client times out (`--idle-timeout`), without a
//! thread or a timer of its own.

use std::time::{Duration, Instant};

use predicates::str::contains;

use crate::support::{Peer, client, server};

#[test]
fn max_connections_turns_the_third_client_away_with_busy() {
    let mut server = server(&["--max-connections", "2"]);
    let mut first = Peer::connect(server.addr());
    assert_eq!(first.ask("one"), "one");
    let mut second = Peer::connect(server.addr());
    assert_eq!(second.ask("two"), "two");

    let mut third = Peer::connect(server.addr());
    assert_eq!(third.line(), "busy, try again later");
    assert_eq!(third.line(), "", "then the server closes the connection");
    let line = server.wait_for("busy: turned");
    assert!(
        line.ends_with(&format!(
            "busy: turned {} away (2 active, --max-connections 2)",
            third.addr()
        )),
        "{line}"
    );

    // Once one leaves, there is room again.
    drop(first);
    server.wait_for("(1 active)");
    client(server.addr(), &["--message", "my turn"])
        .assert()
        .success()
        .stdout(contains("received: my turn\n"));
    assert_eq!(second.ask("still two"), "still two");
}

#[test]
fn a_turned_away_client_that_already_sent_a_line_still_reads_busy() {
    let server = server(&["--max-connections", "1"]);
    let _first = Peer::connect(server.addr());
    for _ in 0..20 {
        client(server.addr(), &["--message", "hello"])
            .assert()
            .success()
            .stdout(contains("received: busy, try again later\n"))
            .stdout(contains("the server closed the connection\n"));
    }
}

#[test]
fn idle_timeout_closes_a_silent_client() {
    let mut server = server(&["--idle-timeout", "0.5"]);
    let mut silent = Peer::connect(server.addr());
    let started = Instant::now();
    assert_eq!(silent.line(), "");
    assert!(started.elapsed() >= Duration::from_millis(400));
    let line = server.wait_for("timed out");
    assert!(
        line.ends_with(&format!(
            "{} timed out: silent for 0.5 s (--idle-timeout) (0 active)",
            silent.addr()
        )),
        "{line}"
    );
}

#[test]
fn a_client_that_keeps_talking_is_not_idle() {
    let server = server(&["--idle-timeout", "0.8"]);
    let mut talker = Peer::connect(server.addr());
    for round in 0..6 {
        let line = format!("line {round}");
        assert_eq!(talker.ask(&line), line);
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        !server.seen().iter().any(|line| line.contains("timed out")),
        "{:?}",
        server.seen()
    );
}

#[test]
fn each_idle_client_times_out_on_its_own_deadline() {
    // One deadline set for all: the early one goes first, the talker stays.
    let mut server = server(&["--idle-timeout", "0.6"]);
    let first = Peer::connect(server.addr());
    server.wait_for("(1 active)");
    std::thread::sleep(Duration::from_millis(300));
    let mut second = Peer::connect(server.addr());
    server.wait_for("(2 active)");
    let line = server.wait_for("timed out");
    assert!(line.starts_with(&first.addr().to_string()), "{line}");
    assert_eq!(second.ask("still here"), "still here");
}
