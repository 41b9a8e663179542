//! Bad arguments and failures: one clear line on stderr, exit 2 for usage and 1 at run time.

use crate::support::server;
use assert_cmd::cargo::cargo_bin_cmd;
use predicates::str::contains;
use test_support::testing::{WAIT, refused_port};

fn tcp_threaded(args: &[&str]) -> assert_cmd::assert::Assert {
    cargo_bin_cmd!("tcp-threaded")
        .args(args)
        .timeout(WAIT)
        .assert()
}

#[test]
fn port_already_in_use() {
    let running = server(&[]);
    let taken = running.addr().to_string();
    tcp_threaded(&["server", "--listen", &taken])
        .code(1)
        .stderr(contains(format!("error: {taken} is already in use")))
        .stderr(contains("port 0"));
}

#[test]
fn connection_refused() {
    let refused = refused_port();
    let port = refused.port().to_string();
    tcp_threaded(&["client", "--connect", &port, "--message", "x"])
        .code(1)
        .stderr(contains(format!(
            "error: connection refused by 127.0.0.1:{port}"
        )))
        .stderr(contains("start the server first"));
}

#[test]
fn bad_address_exits_2_naming_the_value() {
    tcp_threaded(&["server", "--listen", "127.0.0.1:99999"])
        .code(2)
        .stderr(contains(r#"invalid port "99999""#));
    tcp_threaded(&["client", "--connect", "nowhere:"]).code(2);
}

#[test]
fn bad_numbers_exit_2_naming_the_value() {
    for (option, value) in [
        ("--pool", "0"),
        ("--pool", "many"),
        ("--max-connections", "0"),
        ("--idle-timeout", "-1"),
        ("--grace", "forever"),
    ] {
        tcp_threaded(&["server", &format!("{option}={value}")])
            .code(2)
            .stderr(contains(value))
            .stderr(contains(option));
    }
}

#[test]
fn modes_that_do_not_mix_exit_2() {
    for pair in [
        ["--broadcast", "--pool=2"],
        ["--sequential", "--pool=2"],
        ["--seed-002", "--sequential"],
        ["--seed-002", "--pool=2"],
        ["--broadcast", "--seed-002"],
        ["--broadcast", "--upper"],
    ] {
        tcp_threaded(&["server", pair[0], pair[1]])
            .code(2)
            .stderr(contains("cannot be used with"));
    }
}

#[test]
fn bad_encoding_label_exits_2() {
    tcp_threaded(&["server", "--encoding", "klingon"])
        .code(2)
        .stderr(contains(r#"unknown encoding "klingon""#));
}

#[test]
fn reply_the_encoding_cannot_carry_exits_2() {
    tcp_threaded(&["server", "--encoding", "gbk", "--reply", "bye 😀"])
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
