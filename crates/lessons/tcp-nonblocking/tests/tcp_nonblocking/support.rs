//! Starting the lesson's server and client the way a student would, from the built binary, and
//! playing clients by hand.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::process::Command;

use assert_cmd::cargo::{cargo_bin, cargo_bin_cmd};
use test_support::testing::{Running, WAIT};

// Not every test binary that includes this module uses each of these.
#[allow(unused_imports)]
pub use test_support::peer::Peer;
#[cfg(unix)]
#[allow(unused_imports)]
pub use test_support::peer::send_signal;

/// `tcp-nonblocking server --listen 127.0.0.1:0 ARGS…`, running until dropped.
pub fn server(args: &[&str]) -> Running {
    let mut command = Command::new(cargo_bin!("tcp-nonblocking"));
    command
        .args(["server", "--listen", "127.0.0.1:0"])
        .args(args);
    Running::start(command)
}

/// `tcp-nonblocking client --connect ADDR ARGS…`, with a deadline.
pub fn client(addr: SocketAddr, args: &[&str]) -> assert_cmd::Command {
    let mut command = cargo_bin_cmd!("tcp-nonblocking");
    command
        .args(["client", "--connect", &addr.to_string()])
        .args(args)
        .timeout(WAIT);
    command
}

/// A line from `/proc/PID/status`, such as `Threads:` or `VmRSS:`, as a number (kB for sizes).
#[cfg(target_os = "linux")]
pub fn proc_status(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// The names of a process's threads, sorted, from `/proc/PID/task/*/comm`.
#[cfg(target_os = "linux")]
pub fn thread_names(pid: u32) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .map(|task| {
            let comm = task.unwrap().path().join("comm");
            std::fs::read_to_string(comm).unwrap().trim().to_owned()
        })
        .collect();
    names.sort();
    names
}
