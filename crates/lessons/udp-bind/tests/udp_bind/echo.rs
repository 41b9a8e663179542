//! The server and the client talking, as a student would run them in two terminals.

use crate::support::{bound_port, client, server, udp_socket};
use predicates::prelude::*;
use predicates::str::contains;

#[test]
fn client_and_server_echo_datagrams() {
    let mut server = server(&[]);
    let output = client(server.addr(), &["--message", "hello", "--message", "你好"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let addr = server.addr();
    assert!(
        stdout.contains(&format!(
            "sent to {addr}: hello\nreceived from {addr}: hello\n"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "sent to {addr}: 你好\nreceived from {addr}: 你好\n"
        )),
        "{stdout}"
    );
    assert!(stdout.ends_with("closing the socket\n"), "{stdout}");
    // The server saw the client's port: the one the OS gave it at its first send.
    let port = bound_port(&stdout);
    server.wait_for(&format!("received from 127.0.0.1:{port}: hello"));
    server.wait_for(&format!("received from 127.0.0.1:{port}: 你好"));
}

#[test]
fn unbound_client_learns_its_port_after_the_first_send() {
    let server = server(&[]);
    let output = client(server.addr(), &["--message", "hi"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    // The very first line, printed once sendto has made the OS bind the socket.
    let first = stdout.lines().next().unwrap_or_default();
    assert!(first.starts_with("bound to 0.0.0.0:"), "{stdout}");
    assert_ne!(bound_port(&stdout), 0, "{stdout}");
}

#[test]
fn each_run_of_an_unbound_client_gets_a_port_from_the_os() {
    let server = server(&[]);
    let ports: Vec<u16> = (0..3)
        .map(|_| {
            let output = client(server.addr(), &["--message", "who am I?"])
                .output()
                .unwrap();
            assert!(output.status.success(), "{output:?}");
            bound_port(&String::from_utf8(output.stdout).unwrap())
        })
        .collect();
    // The OS picks ports at random: three runs on one port would be a 1 in 10^9 coincidence.
    assert!(ports.iter().any(|&port| port != ports[0]), "{ports:?}");
}

#[test]
fn client_bound_with_bind_sends_from_that_port() {
    let mut server = server(&[]);
    let mine = crate::support::unused_udp_addr();
    client(
        server.addr(),
        &[
            "--bind",
            &mine.to_string(),
            "--message",
            "from a port I chose",
        ],
    )
    .assert()
    .success()
    .stdout(predicate::str::starts_with(format!("bound to {mine}\n")));
    server.wait_for(&format!("received from {mine}: from a port I chose"));
}

#[test]
fn client_reads_lines_from_stdin_crlf_included() {
    let server = server(&[]);
    client(server.addr(), &[])
        .write_stdin("first\r\nsecond\n")
        .assert()
        .success()
        .stdout(contains(": first\n"))
        .stdout(contains(": second\n"))
        // No prompt when stdin is not a terminal.
        .stderr(predicate::str::contains(">").not());
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
    .stdout(contains(": INPUT LOWERCASE SENTENCE, STRASSE\n"));
}

#[test]
fn the_seeds_exchange_bbb_gets_aaa() {
    let mut server = server(&["--reply", "AAA"]);
    client(server.addr(), &["--message", "BBB"])
        .assert()
        .success()
        .stdout(contains(format!("received from {}: AAA\n", server.addr())));
    server.wait_for(": BBB");
}

#[test]
fn gbk_client_and_gbk_server() {
    let mut server = server(&["--encoding", "gbk", "--reply", "再见"]);
    client(server.addr(), &["--encoding", "gbk", "--message", "你好"])
        .assert()
        .success()
        .stdout(contains(": 再见\n"));
    server.wait_for(": 你好");
}

#[test]
fn gbk_on_the_wire_really_is_gbk_both_ways() {
    let mut server = server(&["--encoding", "gbk", "--reply", "你好"]);
    let socket = udp_socket();
    socket
        .send_to(&[0xd4, 0xd9, 0xbc, 0xfb], server.addr())
        .unwrap(); // 再见 in GBK
    server.wait_for(": 再见");
    let mut reply = [0u8; 16];
    let (size, from) = socket.recv_from(&mut reply).unwrap();
    assert_eq!(from, server.addr());
    assert_eq!(reply[..size], [0xc4, 0xe3, 0xba, 0xc3]);
}

#[test]
fn invalid_bytes_are_shown_echoed_and_the_server_goes_on() {
    let mut server = server(&[]);
    let socket = udp_socket();
    // 你好 in GBK: not UTF-8.
    socket
        .send_to(&[0xc4, 0xe3, 0xba, 0xc3], server.addr())
        .unwrap();
    let line = server.wait_for("not valid");
    assert!(
        line.ends_with("<4 bytes not valid UTF-8: c4 e3 ba c3> (valid GBK: try --encoding gbk)"),
        "{line}"
    );
    let mut echo = [0u8; 16];
    let (size, _) = socket.recv_from(&mut echo).unwrap();
    assert_eq!(
        echo[..size],
        [0xc4, 0xe3, 0xba, 0xc3],
        "echoed as they came"
    );
    client(server.addr(), &["--message", "still there?"])
        .assert()
        .success()
        .stdout(contains(": still there?\n"));
}

#[test]
fn an_empty_datagram_is_a_message_not_an_end() {
    // In TCP, recv returning 0 bytes means "closed". In UDP it is an empty datagram.
    let mut server = server(&[]);
    let socket = udp_socket();
    socket.send_to(b"", server.addr()).unwrap();
    let mut echo = [0u8; 16];
    let (size, from) = socket.recv_from(&mut echo).unwrap();
    assert_eq!((size, from), (0, server.addr()));
    let peer = socket.local_addr().unwrap();
    assert_eq!(
        server.wait_for("received from"),
        format!("received from {peer}: ")
    );
    // And the client sends an empty line as an empty datagram.
    client(server.addr(), &["--message", ""])
        .assert()
        .success()
        .stdout(contains(format!("received from {}: \n", server.addr())));
}

#[test]
fn the_largest_datagram_comes_back_whole() {
    let server = server(&[]);
    let line: String = (0..65_507)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let output = client(server.addr(), &[])
        .write_stdin(format!("{line}\n"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let prefix = format!("received from {}: ", server.addr());
    let received = stdout
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .expect("a received line");
    assert_eq!(received.len(), line.len());
    assert!(received == line, "the echo differs from what was sent");
}

#[test]
fn a_small_server_buffer_cuts_the_datagram_and_says_so() {
    let mut server = server(&["--recv-buffer", "4"]);
    client(server.addr(), &["--message", "hello, world"])
        .assert()
        .success()
        // The server echoes what it got: the first 4 bytes.
        .stdout(contains(format!("received from {}: hell\n", server.addr())));
    server.wait_for(": hell");
    let notice = server.next_line();
    assert!(
        notice.starts_with("datagram cut: received 4 of 12 bytes; the other 8 bytes are lost"),
        "{notice}"
    );
}

#[test]
fn a_small_client_buffer_cuts_the_reply_and_says_so() {
    let server = server(&[]);
    client(
        server.addr(),
        &["--recv-buffer", "5", "--message", "hello, world"],
    )
    .assert()
    .success()
    .stdout(contains(": hello\ndatagram cut: received 5 of 12 bytes;"));
}

#[test]
fn a_reply_from_a_stranger_is_not_taken_for_the_answer() {
    // The test plays the server, and a stranger who writes to the client first.
    let fake_server = udp_socket();
    let stranger = udp_socket();
    let addr = fake_server.local_addr().unwrap();
    let answering = std::thread::spawn(move || {
        let mut request = [0u8; 64];
        let (size, client) = fake_server.recv_from(&mut request).unwrap();
        assert_eq!(&request[..size], b"question");
        stranger.send_to(b"I am not the server", client).unwrap();
        fake_server.send_to(b"answer", client).unwrap();
        stranger.local_addr().unwrap()
    });
    let output = client(addr, &["--message", "question", "--timeout", "10"])
        .output()
        .unwrap();
    let stranger = answering.join().unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains(&format!(
            "ignored a datagram from {stranger}, not from the server: I am not the server\n"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("received from {addr}: answer\n")),
        "{stdout}"
    );
    assert!(
        !stdout.contains(&format!("received from {stranger}")),
        "{stdout}"
    );
}

#[test]
fn once_exits_after_one_datagram() {
    let server = server(&["--once"]);
    client(server.addr(), &["--message", "only me"])
        .assert()
        .success();
    let (status, rest) = server.wait_for_exit();
    assert!(status.success(), "{status:?}");
    assert!(
        rest.iter()
            .any(|l| l == "answered 1 datagram: closing the socket"),
        "{rest:?}"
    );
}

#[test]
fn trace_shows_recvfrom_and_sendto() {
    let mut server = server(&["--trace"]);
    let addr = server.addr();
    let output = client(addr, &["--trace", "--message", "hi"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    for call in [
        "trace: socket(AF_INET, SOCK_DGRAM)",
        "trace: no bind(): the OS will pick our port at the first sendto",
        &format!("trace: sendto(2 bytes, {addr})"),
        "trace: getsockname() -> 0.0.0.0:",
        &format!("trace: recvfrom(65535) -> 2 bytes from {addr}"),
        "trace: close()",
    ] {
        assert!(stderr.contains(call), "no {call:?} in\n{stderr}");
    }
    let stderr = server.wait_for_stderr("trace: sendto(2 bytes, 127.0.0.1:");
    for call in [
        "trace: socket(AF_INET, SOCK_DGRAM)",
        "trace: bind(127.0.0.1:0)",
        "trace: recvfrom(65535) -> 2 bytes from 127.0.0.1:",
    ] {
        assert!(stderr.contains(call), "no {call:?} in\n{stderr}");
    }
}
