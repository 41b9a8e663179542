//! Both kinds of connection, against both kinds of server: every request answered and counted.
//! Counts stay small: every short connection leaves a socket in TIME_WAIT for a minute.

use std::io::{Read, Write};

use crate::support::{assert_counts, client, server};
use predicates::prelude::PredicateBooleanExt;
use test_support::testing::connect;

#[test]
fn long_mode_sends_every_request_over_one_connection() {
    let server = server(&[]);
    let output = client(server.addr(), &["--mode", "long", "--count", "50"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_counts(
        &output.stdout,
        &[
            ("mode", "long"),
            ("requests", "50"),
            ("connections", "1"),
            ("errors", "0"),
        ],
    );
}

#[test]
fn short_mode_opens_a_connection_per_request() {
    let server = server(&[]);
    let output = client(server.addr(), &["--mode", "short", "--count", "50"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_counts(
        &output.stdout,
        &[
            ("mode", "short"),
            ("requests", "50"),
            ("connections", "50"),
            ("errors", "0"),
        ],
    );
}

#[test]
fn long_mode_with_concurrency_opens_one_connection_per_worker() {
    let server = server(&[]);
    let output = client(
        server.addr(),
        &["--mode", "long", "--count", "30", "--concurrency", "4"],
    )
    .output()
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_counts(
        &output.stdout,
        &[("requests", "30"), ("connections", "4"), ("errors", "0")],
    );
}

#[test]
fn more_workers_than_requests_still_sends_each_request_once() {
    let server = server(&[]);
    let output = client(
        server.addr(),
        &["--mode", "long", "--count", "3", "--concurrency", "8"],
    )
    .output()
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_counts(
        &output.stdout,
        &[("requests", "3"), ("connections", "3"), ("errors", "0")],
    );
}

#[test]
fn spawn_per_connection_server_answers_short_connections_too() {
    let server = server(&["--threads", "spawn"]);
    let output = client(
        server.addr(),
        &["--mode", "short", "--count", "40", "--concurrency", "4"],
    )
    .output()
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_counts(
        &output.stdout,
        &[("requests", "40"), ("connections", "40"), ("errors", "0")],
    );
}

#[test]
fn requests_of_the_largest_size_come_back_intact() {
    let server = server(&[]);
    for mode in ["long", "short"] {
        let output = client(
            server.addr(),
            &["--mode", mode, "--count", "3", "--size", "65536"],
        )
        .output()
        .unwrap();
        assert!(output.status.success(), "{output:?}");
        assert_counts(&output.stdout, &[("requests", "3"), ("errors", "0")]);
    }
}

#[test]
fn the_pool_grows_when_long_connections_hold_every_worker() {
    let mut server = server(&["--workers", "2", "--verbose"]);
    // Three long connections open at once, for a pool of two: the third is served only if the
    // pool starts another worker.
    let mut connections: Vec<_> = (0..3).map(|_| connect(server.addr())).collect();
    for (number, stream) in connections.iter_mut().enumerate() {
        let request = format!("request {number}\n");
        stream.write_all(request.as_bytes()).unwrap();
        let mut echo = vec![0u8; request.len()];
        stream.read_exact(&mut echo).unwrap();
        assert_eq!(echo, request.as_bytes());
    }
    server.wait_for(": request 2");
}

#[test]
fn the_server_reports_what_it_served_each_second() {
    let mut server = server(&[]);
    client(server.addr(), &["--mode", "short", "--count", "5"])
        .assert()
        .success();
    // Usually one line; two if the run straddled the turn of a second.
    let (mut requests, mut connections) = (0, 0);
    while requests < 5 {
        let line = server.wait_for("last second: ");
        let numbers: Vec<u64> = line
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse().ok())
            .collect();
        assert!(
            line.contains(" requests, ") && line.contains(" new connections; "),
            "{line}"
        );
        requests += numbers[0];
        connections += numbers[1];
    }
    assert_eq!((requests, connections), (5, 5));
}

#[cfg(target_os = "linux")]
#[test]
fn short_connections_leave_time_wait_on_the_client_side() {
    let server = server(&[]);
    let output = client(server.addr(), &["--mode", "short", "--count", "20"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("TIME_WAIT after the run: "))
        .unwrap_or_else(|| panic!("no TIME_WAIT line in\n{stdout}"));
    // The client closed first, so the client's sockets wait: one per connection.
    let client_side: usize = line
        .split_once(" sockets on the client's side")
        .and_then(|(count, _)| count.parse().ok())
        .unwrap_or_else(|| panic!("no client-side count in {line:?}"));
    assert!(client_side >= 20, "{line}");
    assert!(
        line.ends_with(&format!("(connections with {})", server.addr())),
        "{line}"
    );
}

#[cfg(not(target_os = "linux"))]
#[test]
fn elsewhere_time_wait_is_not_counted_but_explained() {
    let server = server(&[]);
    client(server.addr(), &["--mode", "short", "--count", "3"])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "TIME_WAIT after the run: not counted on this system",
        ));
}

#[test]
fn long_mode_prints_no_time_wait_line() {
    let server = server(&[]);
    client(server.addr(), &["--mode", "long", "--count", "3"])
        .assert()
        .success()
        .stdout(predicates::str::contains("TIME_WAIT").not());
}
