//! Bad arguments: one clear line on stderr, exit 2 for usage and 1 at run time.

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::str::contains;
use test_support::testing::WAIT;

#[test]
fn port_already_in_use() {
    let holder = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let taken = holder.local_addr().unwrap().to_string();
    cargo_bin_cmd!("udp-chat")
        .args(["--bind", &taken])
        .timeout(WAIT)
        .assert()
        .code(1)
        .stderr(contains(format!("error: {taken} is already in use")))
        .stderr(contains("port 0"));
}

#[test]
fn bad_addresses_exit_2_naming_the_value() {
    cargo_bin_cmd!("udp-chat")
        .args(["--bind", "127.0.0.1:99999"])
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(contains(r#"invalid port "99999" in "127.0.0.1:99999""#));
    cargo_bin_cmd!("udp-chat")
        .args(["--bind", "127.0.0.1:0", "--peer", "::1:7788"])
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(contains("[::1]:8899"));
}

#[test]
fn a_peer_of_the_other_family_is_refused() {
    cargo_bin_cmd!("udp-chat")
        .args(["--bind", "127.0.0.1:0", "--peer", "[::1]:7788"])
        .timeout(WAIT)
        .assert()
        .code(1)
        .stderr(contains("one is IPv4, the other IPv6"));
}

#[test]
fn bad_encoding_label_exits_2_naming_the_value() {
    cargo_bin_cmd!("udp-chat")
        .args(["--encoding", "klingon"])
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(contains(r#"unknown encoding "klingon""#));
}
