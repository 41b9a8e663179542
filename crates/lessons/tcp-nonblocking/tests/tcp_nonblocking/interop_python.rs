//! The seeds' own Python clients (`interop/`) against the one-thread server, its chat room
//! too. Python is found on PATH; without it the tests print `skipped:` (and fail in CI, where
//! SOCKETS_REQUIRE_TOOLS=1).

use test_support::external::{python3, seed};

use crate::support::server;

#[test]
fn python_000_client_gets_its_echo_from_the_one_thread_server() {
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
fn two_python_002_clients_are_served_at_once_by_one_thread() {
    let Some(python) = python3() else { return };
    let mut server = server(&["--reply", "我是一个服务器"]);
    let port = server.addr().port().to_string();
    let args = ["127.0.0.1", port.as_str()];
    let mut one = seed(&python, "002_tcp_client_threaded.py", &args);
    let mut two = seed(&python, "002_tcp_client_threaded.py", &args);
    one.wait_for("客户端接受的数据: 我是一个服务器");
    two.wait_for("客户端接受的数据: 我是一个服务器");
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
    // The seed's message has no newline: the loop's silence deadline ends it.
    listener.wait_for(&format!("客户端接受的数据: {speaker}: 我是一个客户端"));
}
