//! Threads are not free: the server bounds them. `--pool N` serves N clients at a time and lets
//! the others wait; `--max-connections N` turns the next one away; `--idle-timeout` frees the
//! thread of a client that says nothing.

use std::time::{Duration, Instant};

use crate::support::{Peer, client, server};
use predicates::str::contains;

#[test]
fn pool_of_two_serves_the_third_client_once_one_leaves() {
    let mut server = server(&["--pool", "2"]);
    let mut first = Peer::connect(server.addr());
    assert_eq!(first.ask("one"), "one");
    let mut second = Peer::connect(server.addr());
    assert_eq!(second.ask("two"), "two");

    // Accepted and counted, but both workers are busy: it waits in the pool's channel.
    let mut third = Peer::connect(server.addr());
    server.wait_for("(3 active)");
    third.send("three");
    assert!(third.stays_silent(), "the third client was served at once");
    assert!(
        !server.seen().iter().any(|line| line.contains(": three")),
        "{:?}",
        server.seen()
    );

    // The first leaves: its worker takes the third.
    drop(first);
    assert_eq!(third.line(), "three");
    let worker = server.wait_for(&format!("serves {}", third.addr()));
    assert!(worker.starts_with("worker "), "{worker}");
    // The second was never disturbed.
    assert_eq!(second.ask("still two"), "still two");
}

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
fn the_client_shows_the_busy_reply() {
    let server = server(&["--max-connections", "1"]);
    let _first = Peer::connect(server.addr());
    // Its own client: the line and the close both show.
    client(server.addr(), &[])
        .write_stdin("")
        .assert()
        .success()
        .stdout(contains("received: busy, try again later\n"))
        .stdout(contains("the server closed the connection\n"));
}

#[test]
fn a_turned_away_client_that_already_sent_a_line_still_reads_busy() {
    let server = server(&["--max-connections", "1"]);
    let _first = Peer::connect(server.addr());
    // The line arrives before the server reads anything: closing with it unread would make the
    // kernel send a reset, which can destroy the busy line before the client reads it.
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
    // The server closes it: end of stream.
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
    // 1.2 s of conversation, a line every 0.2 s: never 0.8 s of silence.
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
fn idle_timeout_frees_a_pool_worker() {
    // With one worker, a silent client would hold the pool forever; the timeout frees it.
    let mut server = server(&["--pool", "1", "--idle-timeout", "0.5"]);
    let _silent = Peer::connect(server.addr());
    server.wait_for("worker 1 serves");
    let mut next = Peer::connect(server.addr());
    assert_eq!(next.ask("my turn"), "my turn");
    server.wait_for("timed out");
}
