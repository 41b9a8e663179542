//! Starting the lesson's server and client the way a student would, from the built binary, and
//! playing clients by hand. Shared by the lesson's test binary and `tests/exercises.rs`.
// Test helpers: a panic here is a failed test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::process::Command;

use assert_cmd::cargo::{cargo_bin, cargo_bin_cmd};
use test_support::testing::{Running, WAIT};

// Not every test binary that includes this module uses each of these.
#[cfg(unix)]
#[allow(unused_imports)]
pub use test_support::peer::send_signal;
#[allow(unused_imports)]
pub use test_support::peer::{LiveClient, Peer};

/// `tcp-async server --listen 127.0.0.1:0 ARGS…`, running until dropped.
pub fn server(args: &[&str]) -> Running {
    let mut command = Command::new(cargo_bin!("tcp-async"));
    command
        .args(["server", "--listen", "127.0.0.1:0"])
        .args(args);
    Running::start(command)
}

/// `tcp-async client --connect ADDR ARGS…`, with a deadline.
pub fn client(addr: SocketAddr, args: &[&str]) -> assert_cmd::Command {
    let mut command = cargo_bin_cmd!("tcp-async");
    command
        .args(["client", "--connect", &addr.to_string()])
        .args(args)
        .timeout(WAIT);
    command
}

/// The server's resident memory in KiB (VmRSS), on Linux; `None` elsewhere.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// `tcp-async client --connect ADDR ARGS…` with its stdin kept open: see [`LiveClient`].
pub fn live_client(addr: SocketAddr, args: &[&str]) -> LiveClient {
    LiveClient::start(cargo_bin!("tcp-async"), addr, args)
}
