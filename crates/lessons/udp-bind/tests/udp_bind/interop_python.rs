//! The seeds' own Python programs (`interop/`) against this lesson, both ways: the Rust client
//! and the seeds' UDP servers, the seeds' UDP clients and the Rust server; in UTF-8, and in GBK
//! where seed 001 speaks it. Python is found on PATH; without it the tests print `skipped:`
//! (and fail in CI, where SOCKETS_REQUIRE_TOOLS=1).

use crate::support::{client, server};
use predicates::str::contains;
use test_support::external::{python3, seed, seed_server};

#[test]
fn rust_client_sends_bbb_to_the_seed_000_server_and_gets_aaa() {
    let Some(python) = python3() else { return };
    let (server, addr) = seed_server(&python, "000_udp_server.py");
    let output = client(addr, &["--message", "BBB"])
        .assert()
        .success()
        .stdout(contains(format!("sent to {addr}: BBB\n")))
        .stdout(contains(format!("received from {addr}: AAA\n")))
        .get_output()
        .stdout
        .clone();
    // The client was not bound: the OS gave it a port at its first send, which the seed saw.
    let port = crate::support::bound_port(&String::from_utf8_lossy(&output));
    let finished = server.finish();
    finished.assert_success();
    assert_eq!(
        finished.stdout_text(),
        format!(
            "-----server------\nbound to {addr}\n服务端收到>>> BBB ('127.0.0.1', {port})\n服务端发送>>> AAA\n"
        )
    );
}

#[test]
fn python_000_client_sends_bbb_to_the_rust_server_and_gets_aaa() {
    let Some(python) = python3() else { return };
    let mut server = server(&["--once", "--reply", "AAA"]);
    let addr = server.addr();
    let port = addr.port().to_string();
    let finished = seed(&python, "000_udp_client.py", &["127.0.0.1", &port]).finish();
    finished.assert_success();
    assert_eq!(
        finished.stdout_text(),
        format!("-----client------\n客户端发送>>> BBB\n客户端发送>>> AAA ('127.0.0.1', {port})\n")
    );
    server.wait_for(": BBB");
    let (status, _) = server.wait_for_exit();
    assert!(
        status.success(),
        "--once: the server ends after one datagram"
    );
}

#[test]
fn rust_client_in_gbk_is_read_by_the_seed_001_receiver_which_never_answers() {
    let Some(python) = python3() else { return };
    let (receiver, addr) = seed_server(&python, "001_udp_receiver.py");
    client(
        addr,
        &["--encoding", "gbk", "--message", "你好", "--timeout", "0.3"],
    )
    .assert()
    .failure()
    .stdout(contains(format!("sent to {addr}: 你好\n")))
    .stderr(contains(format!(
        "error: no reply from {addr} within 0.3 s"
    )));
    let finished = receiver.finish();
    finished.assert_success();
    assert_eq!(finished.stdout_text(), format!("bound to {addr}\n你好\n"));
}

#[test]
fn the_seed_001_receiver_stops_on_utf8_that_is_not_gbk() {
    // A strict decode('gbk') of UTF-8 bytes: the seed's bug, which the Rust side never has.
    let Some(python) = python3() else { return };
    let (receiver, addr) = seed_server(&python, "001_udp_receiver.py");
    client(addr, &["--message", "再见", "--timeout", "0.3"])
        .assert()
        .failure();
    let finished = receiver.finish();
    assert!(!finished.status.success());
    assert!(
        finished.stderr.contains("UnicodeDecodeError"),
        "{}",
        finished.stderr
    );
}

#[test]
fn python_001_sender_gets_a_gbk_answer_from_the_rust_server() {
    // The seed sends UTF-8 and decodes the answer as GBK, as if its peer were a Windows tool.
    let Some(python) = python3() else { return };
    let mut server = server(&["--encoding", "gbk", "--reply", "收到"]);
    let addr = server.addr();
    let port = addr.port().to_string();
    let mut sender = seed(&python, "001_udp_sender.py", &["127.0.0.1", &port]);
    sender.type_line("hello");
    let finished = sender.finish();
    finished.assert_success();
    assert_eq!(
        finished.stdout_text(),
        format!("请输入要发送的数据:收到\n('127.0.0.1', {port})\n")
    );
    server.wait_for(": hello");
}

#[test]
fn python_001_sender_s_utf8_chinese_reads_as_mojibake_in_gbk() {
    // 你好 in UTF-8 (e4 bd a0 e5 a5 bd) is also valid GBK, for other characters: the classic
    // garbled text of a mismatched encoding. Nothing fails; the text is simply wrong.
    let Some(python) = python3() else { return };
    let mut server = server(&["--encoding", "gbk", "--reply", "收到"]);
    let port = server.addr().port().to_string();
    let mut sender = seed(&python, "001_udp_sender.py", &["127.0.0.1", &port]);
    sender.type_line("你好");
    sender.finish().assert_success();
    server.wait_for(": 浣犲ソ");
}

#[test]
fn rust_client_gets_ascii_upper_case_from_the_seed_004_server() {
    // bytes.upper(), like Python 2's str.upper(), changes only ASCII letters.
    let Some(python) = python3() else { return };
    let (mut server, addr) = seed_server(&python, "004_udp_server.py");
    server.wait_for("The server is ready to receive");
    client(addr, &["--message", "hello, 世界", "--message", "straße"])
        .assert()
        .success()
        .stdout(contains(format!("received from {addr}: HELLO, 世界\n")))
        .stdout(contains(format!("received from {addr}: STRAßE\n")));
}

#[test]
fn python_004_client_gets_upper_case_from_the_rust_server() {
    // The Rust server changes every letter: ß becomes SS.
    let Some(python) = python3() else { return };
    let server = server(&["--upper"]);
    let port = server.addr().port().to_string();
    let mut python = seed(&python, "004_udp_client.py", &["127.0.0.1", &port]);
    python.type_line("input lowercase sentence, straße");
    let finished = python.finish();
    finished.assert_success();
    assert_eq!(
        finished.stdout_text(),
        format!(
            "Input lowercase sentence:INPUT LOWERCASE SENTENCE, STRASSE ('127.0.0.1', {port})\n"
        )
    );
}
