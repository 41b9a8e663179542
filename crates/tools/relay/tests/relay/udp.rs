//! `relay udp`: losses chosen by the seed, a delay at least as long as asked, and every reply
//! back to the client it belongs to.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{relay, udp_echo_server, udp_socket};
use assert_cmd::cargo::cargo_bin;
use test_support::testing::Running;

/// Sends `count` numbered datagrams through a lossy relay to a server that only listens, one
/// at a time, and reads the relay's `--verbose` line about each: which ones were lost.
fn lost_with_seed(seed: u64, count: usize) -> Vec<usize> {
    let server = udp_socket();
    let server_addr = server.local_addr().unwrap();
    let seed = seed.to_string();
    let mut relay = relay(
        "udp",
        server_addr,
        &["--loss", "0.3", "--seed", &seed, "--verbose"],
    );
    let client = udp_socket();
    let mut lost = Vec::new();
    for number in 0..count {
        client
            .send_to(number.to_string().as_bytes(), relay.addr())
            .unwrap();
        // Waiting for the relay's line keeps the datagrams in order, one in flight at a time.
        let line = relay.next_line();
        if line.starts_with("dropped ") {
            lost.push(number);
        } else {
            assert!(line.starts_with("forwarded "), "{line}");
        }
    }
    // The server got exactly the others, in order.
    let mut arrived = Vec::new();
    let mut buffer = [0u8; 64];
    while arrived.len() < count - lost.len() {
        let (size, _) = server.recv_from(&mut buffer).unwrap();
        arrived.push(
            String::from_utf8_lossy(&buffer[..size])
                .parse::<usize>()
                .unwrap(),
        );
    }
    let expected: Vec<usize> = (0..count).filter(|n| !lost.contains(n)).collect();
    assert_eq!(arrived, expected);
    lost
}

#[test]
fn the_same_seed_loses_the_same_datagrams() {
    let first = lost_with_seed(7, 200);
    let again = lost_with_seed(7, 200);
    let other_seed = lost_with_seed(8, 200);
    assert_eq!(
        first, again,
        "seed 7 lost different datagrams on a second run"
    );
    assert_ne!(first, other_seed, "seeds 7 and 8 lost the same datagrams");
    // About 30 % of 200, as asked: 60, give or take a few.
    for lost in [&first, &other_seed] {
        assert!((40..=80).contains(&lost.len()), "{} lost", lost.len());
    }
}

#[test]
fn each_round_trip_takes_at_least_twice_the_delay() {
    let server = udp_echo_server();
    let relay = relay("udp", server, &["--delay", "150ms"]);
    let client = udp_socket();
    for attempt in 0..3 {
        let started = Instant::now();
        client
            .send_to(format!("ping {attempt}").as_bytes(), relay.addr())
            .unwrap();
        let mut buffer = [0u8; 256];
        // A bounded wait (the socket's WAIT), but no upper limit asserted: a loaded machine
        // may be slow, never fast.
        let (size, from) = client.recv_from(&mut buffer).unwrap();
        let round_trip = started.elapsed();
        assert_eq!(from, relay.addr());
        assert!(String::from_utf8_lossy(&buffer[..size]).ends_with(&format!("ping {attempt}")));
        assert!(
            round_trip >= Duration::from_millis(300),
            "the reply came back after {round_trip:?}, before 2 × 150 ms"
        );
    }
}

#[test]
fn replies_reach_the_client_they_belong_to() {
    let server = udp_echo_server();
    let relay = relay("udp", server, &[]);
    let alice = udp_socket();
    let bob = udp_socket();
    let mut seen_by_server = HashSet::new();
    for round in 0..3 {
        for (name, socket) in [("alice", &alice), ("bob", &bob)] {
            socket
                .send_to(format!("{name} {round}").as_bytes(), relay.addr())
                .unwrap();
        }
        for (name, socket) in [("alice", &alice), ("bob", &bob)] {
            let mut buffer = [0u8; 256];
            let (size, from) = socket.recv_from(&mut buffer).unwrap();
            let reply = String::from_utf8_lossy(&buffer[..size]).into_owned();
            assert_eq!(from, relay.addr(), "the reply comes from the relay");
            let (sender, text) = reply.split_once(" says ").unwrap();
            assert_eq!(
                text,
                format!("{name} {round}"),
                "{name} got someone else's reply"
            );
            seen_by_server.insert(sender.parse::<SocketAddr>().unwrap());
        }
    }
    // The server saw two senders, one per client, and neither is the client itself: the
    // relay speaks for each from a socket of its own.
    assert_eq!(seen_by_server.len(), 2, "{seen_by_server:?}");
    for client in [&alice, &bob] {
        assert!(!seen_by_server.contains(&client.local_addr().unwrap()));
    }
}

#[test]
fn it_stops_after_duration_with_a_summary() {
    let server = udp_echo_server();
    let mut command = Command::new(cargo_bin!("relay"));
    command.args([
        "udp",
        "--listen",
        "127.0.0.1:0",
        "--to",
        &server.to_string(),
        "--loss",
        "1",
        "--duration",
        "1s",
    ]);
    let mut relay = Running::start(command);
    relay.wait_for("losing 1 of the datagrams each way (seed 1), delaying each by 0 ms");
    let client = udp_socket();
    client
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    for _ in 0..3 {
        client.send_to(b"lost", relay.addr()).unwrap();
    }
    // --loss 1 loses everything: nothing comes back.
    assert!(client.recv_from(&mut [0u8; 64]).is_err());
    // wait_for_exit fails the test if the relay is still running after WAIT.
    let (status, rest) = relay.wait_for_exit();
    assert!(status.success(), "{status:?}");
    assert_eq!(
        rest,
        [
            "summary: forwarded=0 dropped=3 delayed=0 (to upstream: forwarded=0 dropped=3; to clients: forwarded=0 dropped=0)"
        ]
    );
}
