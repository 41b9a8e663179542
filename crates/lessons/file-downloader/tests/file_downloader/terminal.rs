//! A peer must not decide what the terminal shows. The server's log shows a client's request
//! and the names it asked for escaped; the client shows the server's header line, its `ERR`
//! reason and the names in its `LIST` escaped, one per line. Printed raw, `ESC[2J` would clear
//! the screen, an OSC sequence would retitle the window, and a `\r` would let the peer write a
//! line of its own over the real one.

use std::io::{Read, Write};

use crate::support::{Scratch, client, server};
use test_support::hostile::{
    TERMINAL_ATTACK, TERMINAL_ATTACK_SHOWN, answer_once, assert_no_terminal_control,
};
use test_support::testing::connect;

/// `TERMINAL_ATTACK` up to its first newline: what fits in one request or header line.
fn attack_line() -> &'static [u8] {
    let end = TERMINAL_ATTACK.iter().position(|&b| b == b'\n').unwrap();
    &TERMINAL_ATTACK[..end]
}

#[test]
fn the_server_log_shows_a_requests_control_characters_escaped() {
    let scratch = Scratch::new();
    let mut server = server(&scratch.dir("root"), &["--trace"]);
    let mut stream = connect(server.addr());
    stream
        .write_all(&[b"GET ", attack_line(), b"\n"].concat())
        .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    assert_eq!(answer, b"ERR control character in the name\n");
    let peer = stream.local_addr().unwrap();
    let line = server.wait_for(&format!("received from {peer}"));
    assert_eq!(
        line,
        format!("received from {peer}: GET {TERMINAL_ATTACK_SHOWN}")
    );
    server.wait_for(&format!("from {peer}: control character in the name"));
    assert_no_terminal_control(&server.seen().join("\n"));
    assert_no_terminal_control(&server.stderr());
}

#[test]
fn the_server_log_shows_a_served_names_bidi_override_escaped() {
    // A right-to-left override makes "x\u{202e}txt.exe" read as "xexe.txt" on many screens.
    let scratch = Scratch::new();
    scratch.file("root/x\u{202e}txt.exe", b"MZ");
    let downloads = scratch.dir("downloads");
    let mut server = server(&scratch.path().join("root"), &[]);
    client(server.addr(), &downloads, &["x\u{202e}txt.exe"])
        .assert()
        .success();
    let line = server.wait_for("sent ");
    assert!(
        line.starts_with(r"sent x\u{202e}txt.exe (2 bytes) to "),
        "{line}"
    );
}

#[test]
fn the_client_shows_an_err_reasons_control_characters_escaped() {
    let scratch = Scratch::new();
    let addr = answer_once([b"ERR ", attack_line(), b"\n"].concat());
    let output = client(addr, scratch.path(), &["a.txt", "--trace"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stdout.contains(&format!("received: ERR {TERMINAL_ATTACK_SHOWN}\n")),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!(
            "error: the server refused \"a.txt\": {TERMINAL_ATTACK_SHOWN}\n"
        )),
        "{stderr}"
    );
    assert_no_terminal_control(&stdout);
    assert_no_terminal_control(&stderr);
}

#[test]
fn the_client_shows_listed_names_escaped_one_per_line() {
    let scratch = Scratch::new();
    let listing = [b"5\t", attack_line(), b"\n7\tok.txt\n"].concat();
    let addr = answer_once([format!("OK {}\n", listing.len()).as_bytes(), &listing].concat());
    let output = client(addr, scratch.path(), &["--list"]).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!(
            "\n           5  {TERMINAL_ATTACK_SHOWN}\n           7  ok.txt\n2 files\n"
        )),
        "{stdout}"
    );
    assert_no_terminal_control(&stdout);
    assert_no_terminal_control(&String::from_utf8_lossy(&output.stderr));
}
