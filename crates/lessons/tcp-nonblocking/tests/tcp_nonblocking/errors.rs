//! Bad arguments and failures: one clear line on stderr, exit 2 for usage and 1 at run time.

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::str::contains;
use test_support::testing::{WAIT, refused_port};

use crate::support::server;

fn tcp_nonblocking(args: &[&str]) -> assert_cmd::assert::Assert {
    cargo_bin_cmd!("tcp-nonblocking")
        .args(args)
        .timeout(WAIT)
        .assert()
}

#[test]
fn port_already_in_use() {
    let running = server(&[]);
    let taken = running.addr().to_string();
    tcp_nonblocking(&["server", "--listen", &taken])
        .code(1)
        .stderr(contains(format!("error: {taken} is already in use")))
        .stderr(contains("port 0"));
}

#[test]
fn connection_refused() {
    let refused = refused_port();
    let port = refused.port().to_string();
    tcp_nonblocking(&["client", "--connect", &port, "--message", "x"])
        .code(1)
        .stderr(contains(format!(
            "error: connection refused by 127.0.0.1:{port}"
        )))
        .stderr(contains("start the server first"));
}

#[test]
fn bad_address_exits_2_naming_the_value() {
    tcp_nonblocking(&["server", "--listen", "127.0.0.1:99999"])
        .code(2)
        .stderr(contains(r#"invalid port "99999""#));
    tcp_nonblocking(&["client", "--connect", "nowhere:"]).code(2);
}

#[test]
fn bad_numbers_exit_2_naming_the_value() {
    for (command, option, value) in [
        ("server", "--max-connections", "0"),
        ("server", "--idle-timeout", "-1"),
        ("server", "--grace", "forever"),
        ("server", "--write-timeout", "0"),
        ("client", "--connections", "0"),
        ("client", "--connections", "many"),
    ] {
        tcp_nonblocking(&[command, &format!("{option}={value}")])
            .code(2)
            .stderr(contains(value))
            .stderr(contains(option));
    }
}

#[test]
fn options_that_do_not_mix_exit_2() {
    for args in [
        &["server", "--broadcast", "--upper"][..],
        &["server", "--busy-poll", "--broadcast"],
        &["client", "--connections", "2", "--message", "x"],
    ] {
        tcp_nonblocking(args)
            .code(2)
            .stderr(contains("cannot be used with"));
    }
    tcp_nonblocking(&["client", "--messages", "3"])
        .code(2)
        .stderr(contains("--connections"));
}

#[test]
fn bad_encoding_label_exits_2() {
    tcp_nonblocking(&["server", "--encoding", "klingon"])
        .code(2)
        .stderr(contains(r#"unknown encoding "klingon""#));
}

#[test]
fn reply_the_encoding_cannot_carry_exits_2() {
    tcp_nonblocking(&["server", "--encoding", "gbk", "--reply", "bye 😀"])
        .code(2)
        .stderr(contains("--reply"))
        .stderr(contains("cannot be encoded in GBK"));
}

#[test]
fn message_the_encoding_cannot_carry_is_not_sent() {
    let mut server = server(&["--encoding", "gbk"]);
    crate::support::client(
        server.addr(),
        &["--encoding", "gbk", "--message", "😀", "--message", "好"],
    )
    .assert()
    .code(1)
    .stderr(contains(
        "error: not sent: '😀' (U+1F600) cannot be encoded in GBK",
    ))
    .stdout(contains("received: 好\n"));
    let line = server.wait_for("received from");
    assert!(line.ends_with(": 好"), "{line}");
}
