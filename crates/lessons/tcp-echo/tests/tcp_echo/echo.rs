//! The server and the client talking, as a student would run them in two terminals.

use std::io::{Read, Write};
use std::net::Shutdown;

use crate::support::{client, server};
use predicates::prelude::*;
use predicates::str::contains;
use test_support::testing::{WAIT, connect};

#[test]
fn client_and_server_echo_lines() {
    let mut server = server(&[]);
    client(server.addr(), &["--message", "hello", "--message", "你好"])
        .assert()
        .success()
        .stdout(contains(format!("connecting to {}", server.addr())))
        .stdout(contains("sent: hello\nreceived: hello\n"))
        .stdout(contains("sent: 你好\nreceived: 你好\n"))
        .stdout(contains("closing the connection"));
    let peer = server.wait_for("connection from ");
    let peer = peer.trim_start_matches("connection from ");
    server.wait_for(&format!("received from {peer}: hello"));
    server.wait_for(&format!("received from {peer}: 你好"));
    server.wait_for(&format!("{peer} closed the connection"));
}

#[test]
fn client_reads_lines_from_stdin_crlf_included() {
    let server = server(&[]);
    client(server.addr(), &[])
        .write_stdin("first\r\nsecond\n")
        .assert()
        .success()
        .stdout(contains("received: first\n"))
        .stdout(contains("received: second\n"))
        // No prompt when stdin is not a terminal.
        .stderr(predicate::str::contains(">").not());
}

#[test]
fn lines_ending_in_crlf_are_shown_without_it_and_echoed_as_sent() {
    // Windows clients (nc, PowerShell) end lines with \r\n.
    let mut server = server(&[]);
    let mut stream = connect(server.addr());
    stream.write_all(b"from windows\r\n").unwrap();
    let mut echo = [0u8; 14];
    stream.read_exact(&mut echo).unwrap();
    assert_eq!(&echo, b"from windows\r\n");
    let line = server.wait_for("received from");
    assert!(line.ends_with(": from windows"), "{line:?}");
}

#[test]
fn upper_replies_in_upper_case() {
    let server = server(&["--upper"]);
    client(
        server.addr(),
        &["--message", "Input lowercase sentence, straße"],
    )
    .assert()
    .success()
    .stdout(contains("received: INPUT LOWERCASE SENTENCE, STRASSE\n"));
}

#[test]
fn fixed_reply_in_chinese() {
    let mut server = server(&["--reply", "再见,欢迎再次光临"]);
    client(
        server.addr(),
        &["--message", "我要一杯茶", "--message", "再来一杯"],
    )
    .assert()
    .success()
    .stdout(contains("sent: 我要一杯茶\nreceived: 再见,欢迎再次光临\n"))
    .stdout(contains("sent: 再来一杯\nreceived: 再见,欢迎再次光临\n"));
    server.wait_for(": 我要一杯茶");
}

#[test]
fn gbk_client_and_gbk_server() {
    let mut server = server(&["--encoding", "gbk"]);
    client(server.addr(), &["--encoding", "gbk", "--message", "你好"])
        .assert()
        .success()
        .stdout(contains("received: 你好\n"));
    server.wait_for(": 你好");
}

#[test]
fn gbk_on_the_wire_really_is_gbk() {
    let server = server(&["--encoding", "gbk", "--reply", "你好"]);
    let mut stream = connect(server.addr());
    stream.write_all(b"hi\n").unwrap();
    let mut reply = [0u8; 5];
    stream.read_exact(&mut reply).unwrap();
    assert_eq!(reply, [0xc4, 0xe3, 0xba, 0xc3, b'\n']);
}

#[test]
fn invalid_utf8_is_shown_and_the_server_serves_the_next_client() {
    let mut server = server(&[]);
    {
        let mut stream = connect(server.addr());
        // 你好 in GBK: not UTF-8.
        stream.write_all(&[0xc4, 0xe3, 0xba, 0xc3, b'\n']).unwrap();
        let mut echo = [0u8; 5];
        stream.read_exact(&mut echo).unwrap();
        assert_eq!(
            echo,
            [0xc4, 0xe3, 0xba, 0xc3, b'\n'],
            "bytes are echoed as they came"
        );
    }
    let line = server.wait_for("not valid");
    assert!(
        line.ends_with("<4 bytes not valid UTF-8: c4 e3 ba c3> (valid GBK: try --encoding gbk)"),
        "{line}"
    );
    client(server.addr(), &["--message", "still here?"])
        .assert()
        .success()
        .stdout(contains("received: still here?\n"));
}

#[test]
fn once_exits_after_one_client() {
    let server = server(&["--once"]);
    client(server.addr(), &["--message", "only me"])
        .assert()
        .success();
    let (status, rest) = server.wait_for_exit();
    assert!(status.success(), "{status:?}");
    assert!(
        rest.iter()
            .any(|l| l.contains("served one client (--once)")),
        "{rest:?}"
    );
}

#[test]
fn second_client_waits_for_the_first() {
    let mut server = server(&[]);
    let mut first = connect(server.addr());
    first.write_all(b"one\n").unwrap();
    let mut echo = [0u8; 4];
    first.read_exact(&mut echo).unwrap();
    server.wait_for("received from");

    // The second connection succeeds (the kernel queues it), but nobody reads it yet.
    let mut second = connect(server.addr());
    second.write_all(b"two\n").unwrap();
    second
        .set_read_timeout(Some(std::time::Duration::from_millis(500)))
        .unwrap();
    let mut byte = [0u8; 1];
    let waited = second.read(&mut byte).unwrap_err();
    assert!(
        matches!(
            waited.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{waited:?}"
    );

    // As soon as the first client leaves, the second one is served.
    drop(first);
    second.set_read_timeout(Some(WAIT)).unwrap();
    let mut echo = [0u8; 4];
    second.read_exact(&mut echo).unwrap();
    assert_eq!(&echo, b"two\n");
}

#[test]
fn a_message_without_newline_is_answered_after_a_silence() {
    // Like the tutorials' Python clients: send("hhh"), then recv(1024), no newline anywhere.
    let server = server(&[]);
    let mut stream = connect(server.addr());
    stream.write_all(b"hhh").unwrap();
    let mut echo = [0u8; 3];
    stream.read_exact(&mut echo).unwrap();
    assert_eq!(&echo, b"hhh");
}

#[test]
fn half_closed_client_still_gets_its_answer() {
    // `nc -N` and `printf … | nc` send, then close their sending half.
    let server = server(&[]);
    let mut stream = connect(server.addr());
    stream.write_all(b"last words").unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).unwrap();
    assert_eq!(reply, b"last words");
}

#[test]
fn a_client_that_resets_mid_line_does_not_stop_the_server() {
    let mut server = server(&[]);
    // Linger 0: close() sends RST instead of FIN, like a crashed client.
    test_support::hostile::send_and_reset(server.addr(), b"half a li");
    // Accepted ("connection from"), then the next recv fails with ECONNRESET: logged in one
    // line, and the server goes on.
    if test_support::hostile::reset_line(&mut server).is_none() {
        return;
    }
    assert!(
        server
            .seen()
            .iter()
            .any(|line| line.contains("connection from"))
    );
    client(server.addr(), &["--message", "next"])
        .assert()
        .success()
        .stdout(contains("received: next\n"));
}

#[test]
fn a_line_of_one_mebibyte_comes_back_intact() {
    let server = server(&[]);
    let line: String = (0..1024 * 1024)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    // Through stdin: one command-line argument may hold at most 128 KiB on Linux.
    let output = client(server.addr(), &[])
        .write_stdin(format!("{line}\n"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{:?}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let received = stdout
        .lines()
        .find_map(|l| l.strip_prefix("received: "))
        .expect("a received line");
    assert_eq!(received.len(), line.len());
    assert!(received == line, "the echo differs from what was sent");
}

#[test]
fn client_against_a_server_that_never_replies_times_out() {
    // A listener that accepts (in the kernel's queue) but never reads or answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    client(
        silent.local_addr().unwrap(),
        &["--message", "anyone?", "--timeout", "0.5"],
    )
    .assert()
    .code(1)
    .stderr(contains("error: no reply within 0.5 s"));
}

#[test]
fn server_that_closes_before_replying_is_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let closer = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut line = [0u8; 6];
        stream.read_exact(&mut line).unwrap();
    });
    client(addr, &["--message", "hello"])
        .assert()
        .code(1)
        .stderr(contains(
            "error: the server closed the connection without replying to \"hello\"",
        ));
    closer.join().unwrap();
}

#[test]
fn lines_sent_together_are_echoed_without_waiting_for_an_acknowledgement() {
    // Two lines in one write get two replies in two writes. With Nagle's algorithm on, the
    // second reply would wait for the client to acknowledge the first, and the client delays
    // its acknowledgement (40 ms on Linux, up to 200 ms elsewhere): 20 rounds would take 800 ms.
    let server = server(&[]);
    let mut stream = connect(server.addr());
    stream.set_nodelay(true).unwrap();
    let started = std::time::Instant::now();
    for _ in 0..20 {
        stream.write_all(b"one\ntwo\n").unwrap();
        let mut echo = [0u8; 8];
        stream.read_exact(&mut echo).unwrap();
        assert_eq!(&echo, b"one\ntwo\n");
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < std::time::Duration::from_millis(400),
        "20 rounds took {elapsed:?}"
    );
}
