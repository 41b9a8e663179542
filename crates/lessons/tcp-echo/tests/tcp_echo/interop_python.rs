//! The seeds' own Python programs (`interop/`) against this lesson, both ways: a Rust client and
//! a Python server, a Python client and a Rust server. Python is found on PATH; without it the
//! tests print `skipped:` (and fail in CI, where SOCKETS_REQUIRE_TOOLS=1).

use crate::support::{client, server};
use predicates::str::contains;
use test_support::external::{python3, seed, seed_server};

#[test]
fn rust_client_gets_its_echo_from_the_seed_000_server() {
    let Some(python) = python3() else { return };
    let (mut server, addr) = seed_server(&python, "000_tcp_server.py");
    client(addr, &["--message", "你好, hhh"])
        .assert()
        .success()
        .stdout(contains("sent: 你好, hhh\nreceived: 你好, hhh\n"));
    server.wait_for("已连接服务器--> ('127.0.0.1', ");
    server.wait_for("服务端收到>>> 你好, hhh");
    server.wait_for("服务端发送消息到客户端>>> 你好, hhh");
}

#[test]
fn the_seed_000_server_answers_only_the_first_message_of_a_connection() {
    // One recv(1024) per client: the second line is never read, let alone answered.
    let Some(python) = python3() else { return };
    let (_server, addr) = seed_server(&python, "000_tcp_server.py");
    client(
        addr,
        &["--message", "one", "--message", "two", "--timeout", "0.5"],
    )
    .assert()
    .failure()
    .stdout(contains("sent: one\nreceived: one\nsent: two\n"))
    .stderr(contains("error: no reply within 0.5 s"));
}

#[test]
fn python_000_client_gets_its_echo_from_the_rust_server() {
    // The seed sends no newline (input() removed it): the server answers after a short silence.
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
    server.wait_for("closed the connection");
}

#[test]
fn python_001_client_asks_for_ip_and_port_and_gets_the_fixed_reply() {
    let Some(python) = python3() else { return };
    let mut server = server(&["--once", "--reply", "再见,欢迎再次光临"]);
    let mut python = seed(&python, "001_tcp_client.py", &[]);
    python.type_line("127.0.0.1");
    python.type_line(&server.addr().port().to_string());
    python.type_line("我要一杯茶");
    let finished = python.finish();
    finished.assert_success();
    // The prompts, answered from stdin, have no newline of their own.
    assert_eq!(
        finished.stdout_text(),
        "请输入要链接的服务器的ip地址:请输入要链接的服务器的端口:请输入要发送的信息:\
         接受到的数据为:再见,欢迎再次光临\n\n"
    );
    server.wait_for(": 我要一杯茶");
    let (status, _) = server.wait_for_exit();
    assert!(status.success(), "--once: the server ends after one client");
}

#[test]
fn rust_client_gets_the_fixed_reply_of_the_seed_001_server() {
    let Some(python) = python3() else { return };
    let (server, addr) = seed_server(&python, "001_tcp_server.py");
    client(addr, &["--message", "我要一杯茶"])
        .assert()
        .success()
        .stdout(contains("sent: 我要一杯茶\nreceived: 再见,欢迎再次光临\n"));
    // The seed serves one client and exits.
    let finished = server.finish();
    finished.assert_success();
    let stdout = finished.stdout_text();
    assert!(
        stdout.contains("——链接上了,客户端地址:('127.0.0.1', "),
        "{stdout}"
    );
    assert!(stdout.contains("客人的要求是:我要一杯茶\n"), "{stdout}");
    assert!(stdout.ends_with("———客人离开了———\n"), "{stdout}");
}

#[test]
fn rust_client_and_the_seed_002_server_which_spins_after_the_client_leaves() {
    let Some(python) = python3() else { return };
    let (server, addr) = seed_server(&python, "002_tcp_server.py");
    client(addr, &["--message", "你好", "--message", "再来"])
        .assert()
        .success()
        .stdout(contains("sent: 你好\nreceived: 我是一个服务器\n"))
        .stdout(contains("sent: 再来\nreceived: 我是一个服务器\n"));
    // After our close its recv returns b"" and it prints empty data, until a send fails.
    let finished = server.finish();
    let stdout = finished.stdout_text();
    assert!(stdout.contains("服务器接受的数据: 你好\n"), "{stdout}");
    assert!(stdout.contains("服务器接受的数据: 再来\n"), "{stdout}");
    assert!(
        stdout.lines().any(|line| line == "服务器接受的数据: "),
        "the empty recv of a closed connection: {stdout}"
    );
}

#[test]
fn python_002_client_gets_its_echo_from_the_rust_server() {
    let Some(python) = python3() else { return };
    let mut server = server(&[]);
    let port = server.addr().port().to_string();
    let mut python = seed(&python, "002_tcp_client.py", &["127.0.0.1", &port]);
    python.wait_for("客户端接受的数据: 我是一个客户端");
    server.wait_for(": 我是一个客户端");
    // The seed's loop never ends by itself: stop it as a student would, and the server sees
    // the connection close.
    drop(python);
    server.wait_for("closed the connection");
}

#[test]
fn rust_client_gets_ascii_upper_case_from_the_seed_004_server() {
    // bytes.upper(), like Python 2's str.upper(), changes only ASCII letters.
    let Some(python) = python3() else { return };
    let (mut server, addr) = seed_server(&python, "004_tcp_server.py");
    server.wait_for("The server is ready to receive");
    client(addr, &["--message", "hello, 世界, straße"])
        .assert()
        .success()
        .stdout(contains("received: HELLO, 世界, STRAßE\n"));
}

#[test]
fn python_004_client_gets_upper_case_from_the_rust_server() {
    // The Rust server changes every letter: ß becomes SS.
    let Some(python) = python3() else { return };
    let server = server(&["--upper"]);
    let port = server.addr().port().to_string();
    let mut python = seed(&python, "004_tcp_client.py", &["127.0.0.1", &port]);
    python.type_line("input lowercase sentence, straße");
    let finished = python.finish();
    finished.assert_success();
    assert_eq!(
        finished.stdout_text(),
        "Input lowercase sentence:From Server: INPUT LOWERCASE SENTENCE, STRASSE\n"
    );
}
