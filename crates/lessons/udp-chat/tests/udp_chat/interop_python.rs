//! The seed's chat in Python (`interop/001_udp_chat.py`, menu-driven, GBK) and this chat,
//! exchanging Chinese text both ways. Python is found on PATH; without it the tests print
//! `skipped:` (and fail in CI, where SOCKETS_REQUIRE_TOOLS=1).

use std::path::Path;

use crate::support::Chat;
use test_support::external::{External, python3, seed};

/// The seed's chat bound to 127.0.0.1, on a port the OS picks.
fn python_chat(python: &Path) -> External {
    seed(python, "001_udp_chat.py", &["127.0.0.1", "0"])
}

#[test]
fn chinese_goes_both_ways_between_the_python_chat_and_the_rust_chat_in_gbk() {
    let Some(python) = python3() else { return };
    let mut rust = Chat::start(&["--encoding", "gbk"]);
    let mut seed = python_chat(&python);
    let seed_addr = seed.addr();
    let rust_addr = rust.addr();

    // Python: menu choice 1 (send), the peer's IP and port, the message.
    seed.type_line("1");
    seed.type_line("127.0.0.1");
    seed.type_line(&rust_addr.port().to_string());
    seed.type_line("你好，我是 Python");
    rust.wait_for(&format!("received from {seed_addr}: 你好，我是 Python"));

    // Rust answers whoever spoke last; Python's choice 2 receives it. (Typed before the
    // answer is sent: the seed blocks in recvfrom, and the datagram wakes it.)
    seed.type_line("2");
    rust.type_line("你好，我是 Rust");
    rust.wait_for(&format!("sent to {seed_addr}: 你好，我是 Rust"));
    seed.wait_for(&format!(
        "('127.0.0.1', {}):你好，我是 Rust",
        rust_addr.port()
    ));

    // And once more from Python, then choice 0 ends the seed's chat.
    seed.type_line("1");
    seed.type_line("127.0.0.1");
    seed.type_line(&rust_addr.port().to_string());
    seed.type_line("再见");
    rust.wait_for(&format!("received from {seed_addr}: 再见"));
    seed.type_line("0");
    seed.finish().assert_success();
}

#[test]
fn the_rust_chat_shows_gbk_it_was_not_told_about_in_hex_and_goes_on() {
    // Without --encoding gbk the Rust chat cannot read the seed's GBK: it says so, with a hint,
    // and keeps running. The seed, given the Rust chat's UTF-8, stops with UnicodeDecodeError.
    let Some(python) = python3() else { return };
    let mut rust = Chat::start(&[]);
    let mut seed = python_chat(&python);
    let seed_addr = seed.addr();

    seed.type_line("1");
    seed.type_line("127.0.0.1");
    seed.type_line(&rust.addr().port().to_string());
    seed.type_line("你好");
    rust.wait_for(&format!(
        "received from {seed_addr}: <4 bytes not valid UTF-8: c4 e3 ba c3> (valid GBK: try --encoding gbk)"
    ));

    seed.type_line("2");
    rust.type_line("再见");
    rust.wait_for(&format!("sent to {seed_addr}: 再见"));
    let finished = seed.finish();
    assert!(!finished.status.success());
    assert!(
        finished.stderr.contains("UnicodeDecodeError"),
        "{}",
        finished.stderr
    );
    // The Rust chat is still there.
    rust.type_line("/quit");
    let (status, _) = rust.running.wait_for_exit();
    assert!(status.success());
}
