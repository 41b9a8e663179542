//! Clients nobody here wrote: netcat-openbsd's `nc` and `socat`, against the threaded server
//! and its chat room. Each test says the shell commands it plays. The tools are found on PATH;
//! without them the tests print `skipped:` (and fail in CI, where SOCKETS_REQUIRE_TOOLS=1).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use crate::support::server;
use test_support::external::{External, openbsd_nc};
use test_support::testing::{Running, tool};

/// `nc -N -w 5 HOST PORT`: at the end of its input, `-N` shuts down the sending half (the
/// server's recv returns 0); `-w 5` bounds the connection and any silence.
fn nc(nc: &Path, addr: SocketAddr) -> External {
    let mut command = Command::new(nc);
    command
        .args(["-N", "-w", "5"])
        .arg(addr.ip().to_string())
        .arg(addr.port().to_string());
    External::start(command)
}

/// `socat -t 5 - TCP:ADDR`: at the end of its input it shuts down the sending half and waits
/// (up to 5 s) for the server to close.
fn socat(socat: &Path, addr: SocketAddr) -> External {
    let mut command = Command::new(socat);
    command.args(["-t", "5", "-", &format!("TCP:{addr}")]);
    External::start(command)
}

/// The address in the server's `connection from ADDR (N active)` line for the `active`-th client.
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
    // nc -N 127.0.0.1 PORT in one terminal, typing; printf 'second\n' | nc -N … in another.
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

    // The first one was connected all along.
    first.type_line("still here");
    assert_eq!(first.next_line(), "still here");
    first.finish().assert_success();
    server.wait_for("closed the connection (0 active)");
}

#[test]
fn socat_gets_the_fixed_reply() {
    // printf '我是一个客户端\n' | socat - TCP:127.0.0.1:PORT
    let Some(socat_path) = tool("socat") else {
        return;
    };
    let server = server(&["--reply", "我是一个服务器"]);
    let mut client = socat(&socat_path, server.addr());
    client.write("我是一个客户端\n".as_bytes());
    let finished = client.finish();
    finished.assert_success();
    assert_eq!(finished.stdout_text(), "我是一个服务器\n");
}

#[test]
fn in_the_chat_room_nc_and_socat_hear_each_other() {
    // nc -N 127.0.0.1 PORT in one terminal, socat - TCP:127.0.0.1:PORT in another, both typing.
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

    // Nobody hears itself: each one's output holds only the other's line.
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
