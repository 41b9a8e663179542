//! Starting the lesson's server and client the way a student would, from the built binary, and
//! playing clients by hand.
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

/// `tcp-threaded server --listen 127.0.0.1:0 ARGS…`, running until dropped.
pub fn server(args: &[&str]) -> Running {
    let mut command = Command::new(cargo_bin!("tcp-threaded"));
    command
        .args(["server", "--listen", "127.0.0.1:0"])
        .args(args);
    Running::start(command)
}

/// `tcp-threaded client --connect ADDR ARGS…`, with a deadline.
pub fn client(addr: SocketAddr, args: &[&str]) -> assert_cmd::Command {
    let mut command = cargo_bin_cmd!("tcp-threaded");
    command
        .args(["client", "--connect", &addr.to_string()])
        .args(args)
        .timeout(WAIT);
    command
}

/// `tcp-threaded client --connect ADDR ARGS…` with its stdin kept open: see [`LiveClient`].
pub fn live_client(addr: SocketAddr, args: &[&str]) -> LiveClient {
    LiveClient::start(cargo_bin!("tcp-threaded"), addr, args)
}
