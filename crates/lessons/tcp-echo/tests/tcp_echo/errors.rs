//! Bad arguments and failures: one clear line on stderr, exit 2 for usage and 1 at run time.

use crate::support::{client, server};
use assert_cmd::cargo::cargo_bin_cmd;
use predicates::str::contains;
use test_support::testing::{WAIT, refused_port};

#[test]
fn port_already_in_use() {
    let running = server(&[]);
    let taken = running.addr().to_string();
    cargo_bin_cmd!("tcp-echo")
        .args(["server", "--listen", &taken])
        .timeout(WAIT)
        .assert()
        .code(1)
        .stderr(contains(format!("error: {taken} is already in use")))
        .stderr(contains("port 0"));
}

#[test]
fn connection_refused() {
    let refused = refused_port();
    let port = refused.port();
    cargo_bin_cmd!("tcp-echo")
        .args(["client", "--connect", &port.to_string(), "--message", "x"])
        .timeout(WAIT)
        .assert()
        .code(1)
        .stderr(contains(format!(
            "error: connection refused by 127.0.0.1:{port}"
        )))
        .stderr(contains("start the server first"));
}

#[test]
fn unknown_host() {
    cargo_bin_cmd!("tcp-echo")
        .args([
            "client",
            "--connect",
            "no-such-host.invalid:8899",
            "--message",
            "x",
        ])
        .timeout(WAIT)
        .assert()
        .code(1)
        .stderr(contains("error: cannot resolve no-such-host.invalid:8899"));
}

#[test]
fn bad_address_exits_2_naming_the_value() {
    cargo_bin_cmd!("tcp-echo")
        .args(["server", "--listen", "127.0.0.1:99999"])
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(contains(
            r#"invalid port "99999" in "127.0.0.1:99999": ports are 0–65535"#,
        ));
    cargo_bin_cmd!("tcp-echo")
        .args(["client", "--connect", "::1:8899"])
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(contains("[::1]:8899"));
}

#[test]
fn bad_encoding_label_exits_2_naming_the_value() {
    cargo_bin_cmd!("tcp-echo")
        .args(["server", "--encoding", "klingon"])
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(contains(r#"unknown encoding "klingon""#))
        .stderr(contains("gbk"));
}

#[test]
fn reply_the_encoding_cannot_carry_exits_2() {
    cargo_bin_cmd!("tcp-echo")
        .args(["server", "--encoding", "gbk", "--reply", "bye 😀"])
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(contains("--reply"))
        .stderr(contains("cannot be encoded in GBK"));
}

#[test]
fn message_the_encoding_cannot_carry_is_not_sent() {
    let mut server = server(&["--encoding", "gbk"]);
    client(
        server.addr(),
        &["--encoding", "gbk", "--message", "😀", "--message", "好"],
    )
    .assert()
    .code(1)
    .stderr(contains(
        "error: not sent: '😀' (U+1F600) cannot be encoded in GBK",
    ))
    .stdout(contains("received: 好\n"));
    // The server saw only the message that could be encoded.
    let line = server.wait_for("received from");
    assert!(line.ends_with(": 好"), "{line}");
}
