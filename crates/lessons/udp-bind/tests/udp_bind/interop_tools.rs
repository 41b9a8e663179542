//! Clients nobody here wrote: netcat-openbsd's `nc -u` and `socat - UDP:…`, against the UDP
//! server. Each stdin line they read leaves as one datagram, newline included; each datagram
//! that comes back is printed as it is. The tools are found on PATH; without them the tests
//! print `skipped:` (and fail in CI, where SOCKETS_REQUIRE_TOOLS=1).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use crate::support::server;
use test_support::external::{External, openbsd_nc};
use test_support::testing::tool;

/// `nc -u HOST PORT`: a UDP socket connected to the server (so it hears only the server).
/// UDP has no end of stream to wait for: the tests stop it once they have seen the replies.
fn nc_udp(nc: &Path, addr: SocketAddr) -> External {
    let mut command = Command::new(nc);
    command
        .arg("-u")
        .arg(addr.ip().to_string())
        .arg(addr.port().to_string());
    External::start(command)
}

/// `socat - UDP:ADDR`.
fn socat_udp(socat: &Path, addr: SocketAddr) -> External {
    let mut command = Command::new(socat);
    command.args(["-", &format!("UDP:{addr}")]);
    External::start(command)
}

#[test]
fn nc_u_gets_each_datagram_echoed() {
    // nc -u 127.0.0.1 PORT, typing two lines
    let Some(nc_path) = openbsd_nc() else { return };
    let mut server = server(&[]);
    let mut client = nc_udp(&nc_path, server.addr());
    client.type_line("hello");
    assert_eq!(client.next_line(), "hello");
    client.type_line("你好");
    assert_eq!(client.next_line(), "你好");
    assert_eq!(client.stop().stdout_text(), "hello\n你好\n");
    // The server shows each datagram without its newline.
    let from = server.wait_for(": hello");
    server.wait_for(&format!("{}: 你好", from.trim_end_matches(": hello")));
}

#[test]
fn nc_u_gets_the_fixed_reply_aaa() {
    // echo BBB | nc -u 127.0.0.1 PORT   (seed 000's exchange)
    let Some(nc_path) = openbsd_nc() else { return };
    let mut server = server(&["--reply", "AAA"]);
    let mut client = nc_udp(&nc_path, server.addr());
    client.type_line("BBB");
    server.wait_for(": BBB");
    // The fixed reply is the text alone, without a newline, like the seed's.
    client.wait_for_stdout("AAA");
    assert_eq!(client.stop().stdout, b"AAA");
}

#[test]
fn socat_gets_upper_case_replies() {
    // socat - UDP:127.0.0.1:PORT, typing
    let Some(socat_path) = tool("socat") else {
        return;
    };
    let server = server(&["--upper"]);
    let mut client = socat_udp(&socat_path, server.addr());
    client.type_line("input lowercase sentence");
    assert_eq!(client.next_line(), "INPUT LOWERCASE SENTENCE");
    client.type_line("straße");
    assert_eq!(client.next_line(), "STRASSE");
}

#[test]
fn gbk_bytes_from_socat_are_read_as_chinese_with_encoding_gbk_and_echoed_unchanged() {
    // printf '\xc4\xe3\xba\xc3\n' | socat - UDP:127.0.0.1:PORT   (你好 in GBK)
    let Some(socat_path) = tool("socat") else {
        return;
    };
    let mut server = server(&["--encoding", "gbk"]);
    let mut client = socat_udp(&socat_path, server.addr());
    client.write(b"\xc4\xe3\xba\xc3\n");
    server.wait_for(": 你好");
    client.next_line();
    assert_eq!(client.stop().stdout, b"\xc4\xe3\xba\xc3\n");
}
