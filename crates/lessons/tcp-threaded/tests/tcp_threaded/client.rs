//! The client's two threads: one sends, one prints what arrives; and every way the conversation
//! can end gets its own clear line.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;

use crate::support::{client, live_client, server};
use predicates::prelude::*;
use predicates::str::contains;

#[test]
fn client_sends_lines_prints_replies_and_ends_after_the_last_one() {
    let mut server = server(&[]);
    client(server.addr(), &["--message", "hello", "--message", "你好"])
        .assert()
        .success()
        .stdout(contains(format!("connecting to {}\n", server.addr())))
        .stdout(contains("sent: hello\n"))
        .stdout(contains("received: hello\n"))
        .stdout(contains("received: 你好\n"))
        // The replies come before the server closes: the client waited for them.
        .stdout(predicate::function(|out: &str| {
            out.split_once("received: 你好\n")
                .is_some_and(|(_, after)| after.ends_with("the server closed the connection\n"))
        }));
    server.wait_for("closed the connection (0 active)");
}

#[test]
fn client_reads_stdin_crlf_included_without_prompts() {
    let server = server(&[]);
    client(server.addr(), &[])
        .write_stdin("first\r\nsecond\n")
        .assert()
        .success()
        .stdout(contains("received: first\n"))
        .stdout(contains("received: second\n"))
        .stderr(predicate::str::contains(">").not());
}

#[test]
fn client_exits_cleanly_when_the_server_closes_while_it_waits_for_input() {
    let mut server = server(&["--idle-timeout", "0.5"]);
    let mut waiting = live_client(server.addr(), &[]);
    // Nothing typed: the server times the connection out; the client says so and exits 0,
    // although its stdin is still open.
    server.wait_for("timed out");
    waiting.wait_for("the server closed the connection");
    assert!(waiting.wait_for_exit());
}

#[test]
fn client_gives_up_on_a_server_that_never_closes() {
    // Like seed 002's Python server: it reads, never replies, never closes.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let (done, client_done) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let (stream, _) = silent.accept().unwrap();
        let mut line = String::new();
        BufReader::new(&stream).read_line(&mut line).unwrap();
        // Keep the connection open until the client has given up.
        let _ = client_done.recv();
        line
    });
    client(addr, &["--message", "anyone?", "--timeout", "0.5"])
        .assert()
        .success()
        .stdout(contains(
            "the server did not close the connection within 0.5 s: closing it\n",
        ));
    done.send(()).unwrap();
    assert_eq!(holder.join().unwrap(), "anyone?\n");
}

#[test]
fn client_prints_a_reply_that_has_no_newline() {
    // Like the seeds' servers: send("我是一个服务器"), no newline, then close.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let replier = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut line = String::new();
        BufReader::new(&stream).read_line(&mut line).unwrap();
        std::io::Write::write_all(&mut stream, "我是一个服务器".as_bytes()).unwrap();
        // Stay open: the reply must show after a short silence, not only at the close.
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
    });
    client(addr, &["--message", "我是一个客户端", "--timeout", "1"])
        .assert()
        .success()
        .stdout(contains("received: 我是一个服务器\n"));
    replier.join().unwrap();
}
