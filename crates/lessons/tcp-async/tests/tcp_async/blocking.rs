//! What async gets wrong, shown: a blocking call inside a task stalls every other task on its
//! worker thread; the same call in `spawn_blocking` stalls nobody.

use std::time::{Duration, Instant};

use crate::support::{Peer, server};

/// With one worker: A asks for a 1 s sleep, B speaks 200 ms later. Returns B's wait.
fn b_waits_behind_a(how: &str) -> Duration {
    let mut server = server(&["--workers", "1", "--sleep-command", how]);
    let mut a = Peer::connect(server.addr());
    let mut b = Peer::connect(server.addr());
    server.wait_for("(2 active)");
    let a_started = Instant::now();
    a.send("sleep 1000");
    server.wait_for("sleep 1000");
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    assert_eq!(b.ask("hello"), "hello");
    let b_waited = started.elapsed();
    assert_eq!(a.line(), "sleep 1000");
    assert!(
        a_started.elapsed() >= Duration::from_millis(1000),
        "A did not sleep"
    );
    b_waited
}

#[test]
fn a_blocking_sleep_in_one_task_stalls_another_client_on_the_same_worker() {
    let waited = b_waits_behind_a("blocking");
    // A's sleep had 800 ms to go when B spoke.
    assert!(
        waited >= Duration::from_millis(500),
        "B waited only {waited:?}"
    );
}

#[test]
fn spawn_blocking_does_not_stall_the_other_client() {
    let waited = b_waits_behind_a("spawn-blocking");
    // An echo's round trip, however busy the machine: well under the 800 ms of a stall.
    assert!(waited < Duration::from_millis(500), "B waited {waited:?}");
}

#[test]
fn without_the_option_sleep_is_an_ordinary_line() {
    let server = server(&["--workers", "1"]);
    let mut peer = Peer::connect(server.addr());
    let started = Instant::now();
    assert_eq!(peer.ask("sleep 1000"), "sleep 1000");
    assert!(started.elapsed() < Duration::from_millis(900));
}
