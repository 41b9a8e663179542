//! Starting the lesson's server and client the way a student would, from the built binary.
#![allow(dead_code)] // Each test file uses its own part of this module.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::Command;

use assert_cmd::cargo::{cargo_bin, cargo_bin_cmd};
use test_support::testing::{Running, WAIT};

/// `long-short server --listen 127.0.0.1:0 ARGS…`, running until dropped.
pub fn server(args: &[&str]) -> Running {
    server_on("127.0.0.1:0", args)
}

/// `long-short server --listen ADDR ARGS…`, running until dropped.
pub fn server_on(addr: &str, args: &[&str]) -> Running {
    let mut command = Command::new(cargo_bin!("long-short"));
    command.args(["server", "--listen", addr]).args(args);
    Running::start(command)
}

/// `long-short client --connect ADDR ARGS…`, with a deadline.
pub fn client(addr: SocketAddr, args: &[&str]) -> assert_cmd::Command {
    let mut command = cargo_bin_cmd!("long-short");
    command
        .args(["client", "--connect", &addr.to_string()])
        .args(args)
        .timeout(WAIT);
    command
}

/// The `key=value` fields of the client's summary line, which must be in `stdout`.
pub fn summary(stdout: &[u8]) -> BTreeMap<String, String> {
    let stdout = String::from_utf8_lossy(stdout);
    let line = stdout
        .lines()
        .find(|line| line.starts_with("mode="))
        .unwrap_or_else(|| panic!("no summary line in\n{stdout}"));
    line.split(' ')
        .map(|field| {
            let (key, value) = field
                .split_once('=')
                .unwrap_or_else(|| panic!("{field:?} in {line:?} is not key=value"));
            (key.to_owned(), value.to_owned())
        })
        .collect()
}

/// Asserts the summary's counts: `[("mode", "long"), ("requests", "50"), …]`.
pub fn assert_counts(stdout: &[u8], expected: &[(&str, &str)]) {
    let fields = summary(stdout);
    for (key, value) in expected {
        assert_eq!(
            fields.get(*key).map(String::as_str),
            Some(*value),
            "{key} in {fields:?}"
        );
    }
    // The times are numbers, whatever they are.
    for key in ["elapsed_ms", "mean_us", "p99_us"] {
        assert!(
            fields.get(key).is_some_and(|v| v.parse::<u64>().is_ok()),
            "{key} in {fields:?}"
        );
    }
}
