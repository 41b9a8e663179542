#![cfg(target_os = "linux")]
//! Thousands of clients on a few threads: a connection costs a task and a socket, not a thread.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

use test_support::testing::connect;

use crate::support::server;

#[test]
fn two_thousand_clients_at_once_on_two_worker_threads() {
    const CLIENTS: usize = 2000;
    let server = server(&["--workers", "2", "--quiet"]);
    let addr = server.addr();
    let mut streams: Vec<TcpStream> = (0..CLIENTS).map(|_| connect(addr)).collect();
    // Every client speaks, then every client reads its own echo: all 2000 are connected and
    // waiting at the same time.
    for (number, stream) in streams.iter_mut().enumerate() {
        stream
            .write_all(format!("client {number}\n").as_bytes())
            .unwrap();
    }
    for (number, stream) in streams.iter().enumerate() {
        let mut echo = String::new();
        BufReader::new(stream).read_line(&mut echo).unwrap();
        assert_eq!(echo, format!("client {number}\n"));
    }
    // The server's threads: two workers, whatever the number of clients.
    #[cfg(target_os = "linux")]
    {
        let threads = std::fs::read_dir(format!("/proc/{}/task", server.id()))
            .unwrap()
            .filter_map(Result::ok)
            .filter(|task| {
                std::fs::read_to_string(task.path().join("comm"))
                    .is_ok_and(|name| name.starts_with("tcp-async worke"))
            })
            .count();
        assert_eq!(threads, 2);
    }
    drop(streams);
    // Quiet: no line per connection; the summary still counts them all.
    crate::support::send_signal("TERM", server.id());
    let (status, rest) = server.wait_for_exit();
    assert!(status.success());
    assert_eq!(
        rest.last().map(String::as_str),
        Some("served 2000 connections")
    );
}
