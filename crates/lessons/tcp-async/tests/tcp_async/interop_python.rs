//! The seeds' own Python clients (`interop/`) against the async server: it speaks tcp-threaded's
//! protocol, so they cannot tell the difference. And the Rust client against the seed's
//! threaded server. Python is found on PATH; without it the tests print `skipped:` (and fail in
//! CI, where SOCKETS_REQUIRE_TOOLS=1).

use predicates::str::contains;
use test_support::external::{python3, seed, seed_server};

use crate::support::{client, server};

#[test]
fn python_000_client_gets_its_echo_from_the_async_server() {
    let Some(python) = python3() else { return };
    let mut server = server(&["--workers", "1"]);
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
fn two_python_002_clients_are_served_at_once_on_one_worker() {
    // Their message has no newline: the server answers it after a short silence.
    let Some(python) = python3() else { return };
    let mut server = server(&["--workers", "1"]);
    let port = server.addr().port().to_string();
    let args = ["127.0.0.1", port.as_str()];
    let mut one = seed(&python, "002_tcp_client_threaded.py", &args);
    let mut two = seed(&python, "002_tcp_client_threaded.py", &args);
    one.wait_for("客户端接受的数据: 我是一个客户端");
    two.wait_for("客户端接受的数据: 我是一个客户端");
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
    listener.wait_for(&format!("客户端接受的数据: {speaker}: 我是一个客户端"));
}

#[test]
fn the_async_client_talks_to_the_seed_000_threaded_server() {
    let Some(python) = python3() else { return };
    let (mut server, addr) = seed_server(&python, "000_tcp_server_threaded.py");
    client(addr, &["--message", "你好, async", "--timeout", "0.5"])
        .assert()
        .success()
        .stdout(contains("received: 你好, async\n"));
    server.wait_for("服务端收到>>> 你好, async");
}
