//! Clients nobody here wrote: netcat-openbsd's `nc` and `socat`, against the one-thread server
//! and its chat room. Each test says the shell commands it plays.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use test_support::external::{External, openbsd_nc};
use test_support::testing::{Running, tool};

use crate::support::server;

/// `nc -N -w 5 HOST PORT`.
fn nc(nc: &Path, addr: SocketAddr) -> External {
    let mut command = Command::new(nc);
    command
        .args(["-N", "-w", "5"])
        .arg(addr.ip().to_string())
        .arg(addr.port().to_string());
    External::start(command)
}

/// `socat -t 5 - TCP:ADDR`.
fn socat(socat: &Path, addr: SocketAddr) -> External {
    let mut command = Command::new(socat);
    command.args(["-t", "5", "-", &format!("TCP:{addr}")]);
    External::start(command)
}

/// The address in the server's `connection from ADDR (N active)` line.
fn joined(server: &mut Running, active: usize) -> String {
    let suffix = format!(" ({active} active)");
    let line = server.wait_for(&suffix);
    line.strip_prefix("connection from ")
        .and_then(|rest| rest.strip_suffix(&suffix))
        .unwrap_or_else(|| panic!("unexpected line {line:?}"))
        .to_owned()
}

#[test]
fn a_second_nc_is_answered_while_the_first_stays_connected() {
    let Some(nc_path) = openbsd_nc() else { return };
    let mut server = server(&[]);
    let mut first = nc(&nc_path, server.addr());
    first.type_line("first");
    assert_eq!(first.next_line(), "first");

    let mut second = nc(&nc_path, server.addr());
    second.write("second, 你好\n".as_bytes());
    let finished = second.finish();
    finished.assert_success();
    assert_eq!(finished.stdout_text(), "second, 你好\n");

    first.type_line("still here");
    assert_eq!(first.next_line(), "still here");
    first.finish().assert_success();
    server.wait_for("closed the connection (0 active)");
}

#[test]
fn socat_gets_the_upper_case_echo() {
    let Some(socat_path) = tool("socat") else {
        return;
    };
    let server = server(&["--upper"]);
    let mut client = socat(&socat_path, server.addr());
    client.write("hello, 世界\n".as_bytes());
    let finished = client.finish();
    finished.assert_success();
    assert_eq!(finished.stdout_text(), "HELLO, 世界\n");
}

#[test]
fn in_the_chat_room_nc_and_socat_hear_each_other() {
    let Some(nc_path) = openbsd_nc() else { return };
    let Some(socat_path) = tool("socat") else {
        return;
    };
    let mut server = server(&["--broadcast"]);
    let mut netcat = nc(&nc_path, server.addr());
    let netcat_addr = joined(&mut server, 1);
    let mut socat = socat(&socat_path, server.addr());
    let socat_addr = joined(&mut server, 2);

    socat.type_line("你好 from socat");
    assert_eq!(netcat.next_line(), format!("{socat_addr}: 你好 from socat"));
    netcat.type_line("hello from nc");
    assert_eq!(socat.next_line(), format!("{netcat_addr}: hello from nc"));

    let netcat = netcat.finish();
    netcat.assert_success();
    assert_eq!(
        netcat.stdout_text(),
        format!("{socat_addr}: 你好 from socat\n")
    );
    let socat = socat.finish();
    socat.assert_success();
    assert_eq!(
        socat.stdout_text(),
        format!("{netcat_addr}: hello from nc\n")
    );
}
