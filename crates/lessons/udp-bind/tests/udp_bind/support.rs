//! Starting the lesson's server and client the way a student would, from the built binary, and
//! plain UDP sockets for tests that play one side by hand.
#![allow(dead_code)] // each test file uses some of these

use std::net::{SocketAddr, UdpSocket};
use std::process::Command;

use assert_cmd::cargo::{cargo_bin, cargo_bin_cmd};
use test_support::testing::{Running, WAIT};

/// `udp-bind server --bind 127.0.0.1:0 ARGS…`, running until dropped.
pub fn server(args: &[&str]) -> Running {
    let mut command = Command::new(cargo_bin!("udp-bind"));
    command.args(["server", "--bind", "127.0.0.1:0"]).args(args);
    Running::start(command)
}

/// `udp-bind client --server ADDR ARGS…`, with a deadline.
pub fn client(addr: SocketAddr, args: &[&str]) -> assert_cmd::Command {
    let mut command = cargo_bin_cmd!("udp-bind");
    command
        .args(["client", "--server", &addr.to_string()])
        .args(args)
        .timeout(WAIT);
    command
}

/// A UDP socket on 127.0.0.1 with a port from the OS, whose receives give up after [`WAIT`].
pub fn udp_socket() -> UdpSocket {
    let socket =
        UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("cannot bind 127.0.0.1:0: {e}"));
    socket
        .set_read_timeout(Some(WAIT))
        .unwrap_or_else(|e| panic!("cannot set a read timeout: {e}"));
    socket
}

/// An address on which no UDP socket is bound (for the moment): bound by the OS, then released.
pub fn unused_udp_addr() -> SocketAddr {
    udp_socket()
        .local_addr()
        .unwrap_or_else(|e| panic!("getsockname failed: {e}"))
}

/// The port in a `bound to ADDR` line.
pub fn bound_port(stdout: &str) -> u16 {
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("bound to "))
        .unwrap_or_else(|| panic!("no `bound to` line in\n{stdout}"));
    line.parse::<SocketAddr>()
        .unwrap_or_else(|e| panic!("bad address in {line:?}: {e}"))
        .port()
}
