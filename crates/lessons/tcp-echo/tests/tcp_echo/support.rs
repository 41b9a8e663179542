//! Starting the lesson's server and client the way a student would, from the built binary.

use std::net::SocketAddr;
use std::process::Command;

use assert_cmd::cargo::{cargo_bin, cargo_bin_cmd};
use test_support::testing::{Running, WAIT};

/// `tcp-echo server --listen 127.0.0.1:0 ARGS…`, running until dropped.
pub fn server(args: &[&str]) -> Running {
    let mut command = Command::new(cargo_bin!("tcp-echo"));
    command
        .args(["server", "--listen", "127.0.0.1:0"])
        .args(args);
    Running::start(command)
}

/// `tcp-echo client --connect ADDR ARGS…`, with a deadline.
pub fn client(addr: SocketAddr, args: &[&str]) -> assert_cmd::Command {
    let mut command = cargo_bin_cmd!("tcp-echo");
    command
        .args(["client", "--connect", &addr.to_string()])
        .args(args)
        .timeout(WAIT);
    command
}
