//! The seeds' own Python programs (`interop/`) against this lesson, both ways: Rust clients and
//! the seeds' threaded and "concurrent" servers, the seeds' clients and the Rust server (its
//! chat room too). Python is found on PATH; without it the tests print `skipped:` (and fail in
//! CI, where SOCKETS_REQUIRE_TOOLS=1).

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use crate::support::{client, server};
use assert_cmd::cargo::cargo_bin;
use predicates::prelude::*;
use predicates::str::contains;
use test_support::external::{External, python3, seed, seed_server};
use test_support::testing::connect;

/// `tcp-threaded client --connect ADDR --trace`, typed into by the test; returns once connected.
fn typing_client(addr: SocketAddr) -> External {
    let mut command = Command::new(cargo_bin!("tcp-threaded"));
    command.args(["client", "--trace", "--connect", &addr.to_string()]);
    let mut client = External::start(command);
    client.wait_for_stderr(&format!("trace: connect({addr}) -> from "));
    client
}

#[test]
fn the_seed_000_threaded_server_answers_a_second_client_while_the_first_is_silent() {
    let Some(python) = python3() else { return };
    let (mut server, addr) = seed_server(&python, "000_tcp_server_threaded.py");
    let mut first = typing_client(addr);
    server.wait_for("已连接服务器-->");

    // The first client's thread waits in recv; the second client's thread answers it.
    client(addr, &["--message", "你好, second", "--timeout", "0.5"])
        .assert()
        .success()
        .stdout(contains("received: 你好, second\n"));
    server.wait_for("服务端收到>>> 你好, second");

    first.type_line("first");
    first.wait_for("received: first");
    server.wait_for("服务端收到>>> first");
}

#[test]
fn the_seed_002_concurrent_server_makes_the_second_client_wait_for_the_first() {
    // One thread accepts the clients one after another: while it waits for the first one's
    // message, the second one's stays unread.
    let Some(python) = python3() else { return };
    let (mut server, addr) = seed_server(&python, "002_tcp_server_concurrent.py");
    let mut first = typing_client(addr);

    client(addr, &["--message", "second", "--timeout", "0.5"])
        .assert()
        .success()
        .stdout(contains("received:").not())
        .stdout(contains(
            "the server did not close the connection within 0.5 s",
        ));

    first.type_line("first");
    first.wait_for("received: 我是一个服务器");
    server.wait_for("服务器接受的数据: first");
    // Only now is the second client accepted, long after it gave up.
    server.wait_for("服务器接受的数据: second");
}

#[test]
fn the_seed_002_concurrent_server_and_server_seed_002_both_answer_each_client_once() {
    // The same steps against the seed's Python server and against its model: a silent client
    // blocks the next one; each client gets one answer, and its second line none.
    let Some(python) = python3() else { return };
    let (_python_server, python_addr) = seed_server(&python, "002_tcp_server_concurrent.py");
    let rust_server = server(&["--seed-002", "--reply", "我是一个服务器"]);
    for addr in [python_addr, rust_server.addr()] {
        let silent = connect(addr);
        let waiting = connect(addr);
        (&waiting).write_all("我是一个客户端\n".as_bytes()).unwrap();
        assert_eq!(
            answer(&waiting),
            None,
            "{addr}: answered while the first client is silent"
        );
        (&silent).write_all(b"now\n").unwrap();
        assert_eq!(answer(&silent).as_deref(), Some("我是一个服务器"), "{addr}");
        assert_eq!(
            answer(&waiting).as_deref(),
            Some("我是一个服务器"),
            "{addr}"
        );
        (&waiting).write_all(b"and again\n").unwrap();
        assert_eq!(answer(&waiting), None, "{addr}: a second answer");
    }
}

/// What one `recv` brings within half a second, without its newline; `None` if nothing came.
fn answer(mut stream: &TcpStream) -> Option<String> {
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buffer = [0u8; 256];
    match stream.read(&mut buffer) {
        Ok(count) => Some(
            String::from_utf8_lossy(&buffer[..count])
                .trim_end()
                .to_owned(),
        ),
        Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => None,
        Err(error) => panic!("{error}"),
    }
}

#[test]
fn python_000_client_gets_its_echo_from_the_rust_server() {
    let Some(python) = python3() else { return };
    let mut server = server(&[]);
    let port = server.addr().port().to_string();
    let mut python = seed(&python, "000_tcp_client.py", &["127.0.0.1", &port]);
    python.type_line("你好");
    let finished = python.finish();
    finished.assert_success();
    assert_eq!(
        finished.stdout_text(),
        "客户端发送的内容>>> 你好\n客户端收到>>> 你好\n"
    );
    server.wait_for(": 你好");
}

#[test]
fn two_python_002_clients_are_served_at_once_by_the_rust_server() {
    let Some(python) = python3() else { return };
    let mut server = server(&["--reply", "我是一个服务器"]);
    let port = server.addr().port().to_string();
    let args = ["127.0.0.1", port.as_str()];
    let mut one = seed(&python, "002_tcp_client_threaded.py", &args);
    let mut two = seed(&python, "002_tcp_client_threaded.py", &args);
    one.wait_for("客户端接受的数据: 我是一个服务器");
    two.wait_for("客户端接受的数据: 我是一个服务器");
    // Both still connected: neither had to leave for the other to be served.
    server.wait_for("(2 active)");
}

#[test]
fn in_the_chat_room_one_python_002_client_hears_the_other() {
    let Some(python) = python3() else { return };
    let mut server = server(&["--broadcast"]);
    let port = server.addr().port().to_string();
    let args = ["127.0.0.1", port.as_str()];
    let mut listener = seed(&python, "002_tcp_client_threaded.py", &args);
    server.wait_for("(1 active)");
    let _speaker = seed(&python, "002_tcp_client_threaded.py", &args);
    let joined = server.wait_for("(2 active)");
    let speaker = joined
        .strip_prefix("connection from ")
        .and_then(|rest| rest.strip_suffix(" (2 active)"))
        .unwrap_or_else(|| panic!("unexpected line {joined:?}"));
    // The seed's message has no newline: the server ends it after a short silence, and the
    // room adds one.
    listener.wait_for(&format!("客户端接受的数据: {speaker}: 我是一个客户端"));
}
