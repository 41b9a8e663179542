//! Clients nobody here wrote: netcat-openbsd's `nc` and `socat`, against the echo server. Each
//! test says the shell command it plays. The tools are found on PATH; without them the tests
//! print `skipped:` (and fail in CI, where SOCKETS_REQUIRE_TOOLS=1).

#[allow(dead_code)] // only the server is needed here
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

/// `socat -t 5 - TCP:ADDR`: stdin to the connection and the connection to stdout; at the end
/// of its input it shuts down the sending half and waits (up to 5 s) for the server to close.
fn socat(socat: &Path, addr: SocketAddr) -> External {
    let mut command = Command::new(socat);
    command.args(["-t", "5", "-", &format!("TCP:{addr}")]);
    External::start(command)
}

#[test]
fn nc_gets_every_line_back_byte_for_byte() {
    // printf 'hello\n你好\n' | nc -N 127.0.0.1 PORT
    let Some(nc_path) = openbsd_nc() else { return };
    let mut server = server(&[]);
    let mut client = nc(&nc_path, server.addr());
    client.write("hello\n你好\n".as_bytes());
    let finished = client.finish();
    finished.assert_success();
    assert_eq!(finished.stdout_text(), "hello\n你好\n");
    server.wait_for(": hello");
    server.wait_for(": 你好");
    server.wait_for("closed the connection");
}

#[test]
fn nc_gets_a_last_line_without_newline_back_when_it_shuts_down() {
    // printf 'no newline' | nc -N 127.0.0.1 PORT
    let Some(nc_path) = openbsd_nc() else { return };
    let mut server = server(&[]);
    let mut client = nc(&nc_path, server.addr());
    client.write(b"no newline");
    let finished = client.finish();
    finished.assert_success();
    assert_eq!(finished.stdout, b"no newline");
    server.wait_for(": no newline");
}

#[test]
fn nc_types_line_by_line_and_each_echo_comes_back_at_once() {
    // nc -N 127.0.0.1 PORT, typing
    let Some(nc_path) = openbsd_nc() else { return };
    let server = server(&[]);
    let mut client = nc(&nc_path, server.addr());
    client.type_line("first");
    assert_eq!(client.next_line(), "first");
    client.type_line("second");
    assert_eq!(client.next_line(), "second");
    client.finish().assert_success();
}

#[test]
fn gbk_bytes_from_nc_are_read_as_chinese_with_encoding_gbk_and_echoed_unchanged() {
    // printf '\xc4\xe3\xba\xc3\n' | nc -N 127.0.0.1 PORT   (你好 in GBK)
    let Some(nc_path) = openbsd_nc() else { return };
    let mut server = server(&["--encoding", "gbk"]);
    let mut client = nc(&nc_path, server.addr());
    client.write(b"\xc4\xe3\xba\xc3\n");
    let finished = client.finish();
    finished.assert_success();
    assert_eq!(finished.stdout, b"\xc4\xe3\xba\xc3\n");
    server.wait_for(": 你好");
}

#[test]
fn socat_gets_upper_case_replies() {
    // printf 'hello, world\nstraße\n' | socat - TCP:127.0.0.1:PORT
    let Some(socat_path) = tool("socat") else {
        return;
    };
    let server = server(&["--upper"]);
    let mut client = socat(&socat_path, server.addr());
    client.write("hello, world\nstraße\n".as_bytes());
    let finished = client.finish();
    finished.assert_success();
    assert_eq!(finished.stdout_text(), "HELLO, WORLD\nSTRASSE\n");
}

#[test]
fn socat_gets_the_fixed_reply_for_each_line() {
    // printf '我要一杯茶\n再来一杯\n' | socat - TCP:127.0.0.1:PORT
    let Some(socat_path) = tool("socat") else {
        return;
    };
    let mut server = server(&["--reply", "再见,欢迎再次光临"]);
    let mut client = socat(&socat_path, server.addr());
    client.write("我要一杯茶\n再来一杯\n".as_bytes());
    let finished = client.finish();
    finished.assert_success();
    assert_eq!(
        finished.stdout_text(),
        "再见,欢迎再次光临\n再见,欢迎再次光临\n"
    );
    server.wait_for(": 再来一杯");
}

#[test]
fn a_second_nc_waits_until_the_first_has_gone() {
    // One client at a time: the second nc is connected (the kernel accepted it into the listen
    // queue) but gets no echo until the first one leaves.
    let Some(nc_path) = openbsd_nc() else { return };
    let mut server = server(&[]);
    let mut first = nc(&nc_path, server.addr());
    first.type_line("first");
    assert_eq!(first.next_line(), "first");

    let mut second = nc(&nc_path, server.addr());
    second.type_line("second");
    first.type_line("still me");
    assert_eq!(first.next_line(), "still me");
    assert!(second.stdout().is_empty(), "served while the first was");

    first.finish().assert_success();
    assert_eq!(second.next_line(), "second");
    second.finish().assert_success();
    server.wait_for(": second");
}
