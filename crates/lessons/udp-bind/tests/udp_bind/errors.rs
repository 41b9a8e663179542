//! Bad arguments and failures: one clear line on stderr, exit 2 for usage and 1 at run time.

use crate::support::{client, server, udp_socket, unused_udp_addr};
use assert_cmd::cargo::cargo_bin_cmd;
use predicates::str::contains;
use test_support::testing::WAIT;

#[test]
fn no_server_no_reply_and_the_client_says_why() {
    if test_support::testing::skip_under_wine(
        "Wine does not report ICMP port unreachable to a UDP socket (Windows: WSAECONNRESET at \
         the next recvfrom); the client waits out its timeout",
    ) {
        return;
    }
    let nobody = unused_udp_addr();
    let assert = client(nobody, &["--message", "anyone?", "--timeout", "0.5"])
        .assert()
        .code(1)
        .stderr(contains(format!("error: no reply from {nobody}")));
    // Linux and macOS never tell an unconnected socket about the ICMP "port unreachable":
    // the client waits out its timeout. Windows tells it, and the client says so at once.
    if cfg!(windows) {
        assert.stderr(contains("ICMP port unreachable"));
    } else {
        assert.stderr(contains(
            "within 0.5 s: UDP does not retransmit, so a lost datagram stays lost; is the server running?",
        ));
    }
}

#[test]
fn a_server_that_never_answers_times_out() {
    // Bound, so no ICMP error anywhere: the datagram arrives and nobody replies.
    let silent = udp_socket();
    client(
        silent.local_addr().unwrap(),
        &["--message", "hello?", "--timeout", "0.5"],
    )
    .assert()
    .code(1)
    .stderr(contains("within 0.5 s: UDP does not retransmit"));
}

#[test]
fn port_already_in_use() {
    let taken = udp_socket().local_addr().unwrap();
    let _holder = std::net::UdpSocket::bind(taken).unwrap();
    cargo_bin_cmd!("udp-bind")
        .args(["server", "--bind", &taken.to_string()])
        .timeout(WAIT)
        .assert()
        .code(1)
        .stderr(contains(format!("error: {taken} is already in use")))
        .stderr(contains("port 0"));
}

#[test]
fn bad_addresses_exit_2_naming_the_value() {
    cargo_bin_cmd!("udp-bind")
        .args(["server", "--bind", "127.0.0.1:99999"])
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(contains(
            r#"invalid port "99999" in "127.0.0.1:99999": ports are 0–65535"#,
        ));
    cargo_bin_cmd!("udp-bind")
        .args(["client", "--server", "::1:7788"])
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(contains("[::1]:8899"));
    cargo_bin_cmd!("udp-bind")
        .args(["client", "--bind", "nowhere:", "--message", "x"])
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(contains(r#"no port in "nowhere:""#));
}

#[test]
fn unknown_host() {
    cargo_bin_cmd!("udp-bind")
        .args([
            "client",
            "--server",
            "no-such-host.invalid:7788",
            "--message",
            "x",
        ])
        .timeout(WAIT)
        .assert()
        .code(1)
        .stderr(contains("error: cannot resolve no-such-host.invalid:7788"));
}

#[test]
fn bad_encoding_label_exits_2_naming_the_value() {
    cargo_bin_cmd!("udp-bind")
        .args(["server", "--encoding", "klingon"])
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(contains(r#"unknown encoding "klingon""#))
        .stderr(contains("gbk"));
}

#[test]
fn bad_buffer_size_exits_2_naming_the_value() {
    for bad in ["0", "65536", "lots"] {
        cargo_bin_cmd!("udp-bind")
            .args(["client", "--recv-buffer", bad])
            .timeout(WAIT)
            .assert()
            .code(2)
            .stderr(contains(format!(
                "invalid buffer size {bad:?}: use 1 to 65535"
            )));
    }
}

#[test]
fn reply_the_encoding_cannot_carry_exits_2() {
    cargo_bin_cmd!("udp-bind")
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
    .stdout(contains(": 好\n"));
    // The server saw only the message that could be encoded.
    let line = server.wait_for("received from");
    assert!(line.ends_with(": 好"), "{line}");
}

#[test]
fn a_message_too_big_for_one_datagram_is_not_sent() {
    let server = server(&[]);
    let too_big = "x".repeat(65_508);
    client(server.addr(), &[])
        .write_stdin(format!("{too_big}\nsmall\n"))
        .assert()
        .code(1)
        .stderr(contains(
            "error: not sent: 65508 bytes do not fit in one UDP datagram",
        ))
        .stdout(contains(": small\n"));
}
