//! Clients nobody here wrote: netcat-openbsd's `nc` and `socat`, as short and long connections
//! to the echo server. Each test says the shell command it plays. The tools are found on PATH;
//! without them the tests print `skipped:` (and fail in CI, where SOCKETS_REQUIRE_TOOLS=1).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use crate::support::server;
use test_support::external::{External, openbsd_nc};
use test_support::testing::tool;

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

/// `socat -t 5 - TCP:ADDR`.
fn socat(socat: &Path, addr: SocketAddr) -> External {
    let mut command = Command::new(socat);
    command.args(["-t", "5", "-", &format!("TCP:{addr}")]);
    External::start(command)
}

#[test]
fn short_connections_from_nc_one_request_each() {
    // for i in 1 2 3; do echo "request $i" | nc -N 127.0.0.1 PORT; done
    let Some(nc_path) = openbsd_nc() else { return };
    let mut server = server(&["--verbose"]);
    for number in 1..=3 {
        let mut client = nc(&nc_path, server.addr());
        client.type_line(&format!("request {number}"));
        let finished = client.finish();
        finished.assert_success();
        assert_eq!(finished.stdout_text(), format!("request {number}\n"));
        server.wait_for("closed the connection after 1 request(s)");
    }
}

#[test]
fn a_long_connection_from_socat_many_requests_one_connection() {
    // socat - TCP:127.0.0.1:PORT, typing a line and waiting for its echo, three times
    let Some(socat_path) = tool("socat") else {
        return;
    };
    let mut server = server(&["--verbose"]);
    let mut client = socat(&socat_path, server.addr());
    for line in ["one", "two", "你好"] {
        client.type_line(line);
        assert_eq!(client.next_line(), line);
    }
    client.finish().assert_success();
    server.wait_for("closed the connection after 3 request(s)");
}

#[test]
fn pipelined_requests_from_nc_come_back_in_order() {
    // printf 'a\nb\nc\nlast' | nc -N 127.0.0.1 PORT: four requests in one write, the last one
    // answered when nc shuts down its sending half.
    let Some(nc_path) = openbsd_nc() else { return };
    let server = server(&[]);
    let mut client = nc(&nc_path, server.addr());
    client.write(b"a\nb\nc\nlast");
    let finished = client.finish();
    finished.assert_success();
    assert_eq!(finished.stdout, b"a\nb\nc\nlast");
}

#[test]
fn nc_that_sends_no_newline_and_keeps_the_connection_open_gets_nothing() {
    // printf 'no newline' | nc -w 5 127.0.0.1 PORT: without -N nc keeps its sending half open,
    // so the request never ends; the server closes it after --idle.
    let Some(nc_path) = openbsd_nc() else { return };
    let mut server = server(&["--idle", "0.3"]);
    let mut command = Command::new(&nc_path);
    command
        .args(["-w", "5"])
        .arg(server.addr().ip().to_string())
        .arg(server.addr().port().to_string());
    let mut client = External::start(command);
    client.write(b"no newline");
    let finished = client.finish();
    assert_eq!(finished.stdout, b"");
    server.wait_for("sent part of a request, no newline, then nothing for 0.3 s");
}
