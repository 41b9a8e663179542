//! Bad arguments and failures: one clear line on stderr, exit 2 for usage and 1 at run time.

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::str::contains;
use test_support::testing::WAIT;

/// `relay ARGS…` with a deadline.
fn relay(args: &[&str]) -> assert_cmd::assert::Assert {
    cargo_bin_cmd!("relay").args(args).timeout(WAIT).assert()
}

#[test]
fn bad_values_exit_2_naming_the_value_and_what_would_do() {
    let udp = ["udp", "--listen", "0", "--to", "7788"];
    for (option, value, expected) in [
        (
            "--loss",
            "1.5",
            r#"invalid loss "1.5": use a fraction from 0 to 1"#,
        ),
        ("--loss", "30%", r#"invalid loss "30%""#),
        (
            "--delay",
            "50",
            r#"invalid delay "50": use 0 or a time with its unit, such as 50ms"#,
        ),
        ("--duration", "0s", r#"invalid duration "0s""#),
        ("--seed", "lucky", "invalid value 'lucky' for '--seed <N>'"),
    ] {
        relay(&[&udp[..], &[option, value]].concat())
            .code(2)
            .stderr(contains(expected));
    }
}

#[test]
fn bad_addresses_exit_2() {
    relay(&["udp", "--listen", "127.0.0.1:99999", "--to", "7788"])
        .code(2)
        .stderr(contains(
            r#"invalid port "99999" in "127.0.0.1:99999": ports are 0–65535"#,
        ));
    relay(&["tcp", "--listen", "0", "--to", "::1:8899"])
        .code(2)
        .stderr(contains("put an IPv6 address in brackets"));
    relay(&["tcp", "--listen", "0"])
        .code(2)
        .stderr(contains("--to <ADDR>"));
}

#[test]
fn tcp_has_no_loss_and_says_why() {
    relay(&["tcp", "--listen", "0", "--to", "8899", "--loss", "0.1"])
        .code(2)
        .stderr(contains("--loss"));
    cargo_bin_cmd!("relay")
        .args(["tcp", "--help"])
        .timeout(WAIT)
        .assert()
        .success()
        .stdout(contains(
            "There is no --loss: TCP resends what the network loses",
        ));
}

#[test]
fn no_subcommand_shows_the_usage() {
    relay(&[])
        .code(2)
        .stderr(contains("udp"))
        .stderr(contains("tcp"));
}

#[test]
fn a_port_in_use_exits_1_with_advice() {
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    relay(&["udp", "--listen", &addr, "--to", "7788"])
        .code(1)
        .stderr(contains(format!("error: {addr} is already in use")))
        .stderr(contains("port 0"));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    relay(&["tcp", "--listen", &addr, "--to", "8899"])
        .code(1)
        .stderr(contains(format!("error: {addr} is already in use")));
}

#[test]
fn an_unknown_host_exits_1() {
    relay(&["udp", "--listen", "0", "--to", "no-such-host.invalid:7788"])
        .code(1)
        .stderr(contains("error: cannot resolve no-such-host.invalid:7788"));
}

#[test]
fn a_relay_that_would_relay_to_itself_refuses() {
    for mode in ["udp", "tcp"] {
        let itself = format!("127.0.0.1:{}", test_support::testing::free_port());
        relay(&[mode, "--listen", &itself, "--to", &itself])
            .code(1)
            .stderr(contains(format!(
                "error: --to {itself} is the relay itself"
            )));
    }
}
