//! A peer must not decide what the terminal shows: every datagram is printed on one line, its
//! control characters escaped, by the server and by the client. A datagram may contain a
//! newline; printed raw, `…\nreceived from 6.6.6.6:666: …` would be a forged line of its own.

use std::thread;

use crate::support::{client, server, udp_socket};
use test_support::hostile::{TERMINAL_ATTACK, TERMINAL_ATTACK_SHOWN, assert_no_terminal_control};

/// The whole of `TERMINAL_ATTACK` as one datagram shows: its inner newline escaped too.
fn whole_attack_shown() -> String {
    format!(r"{TERMINAL_ATTACK_SHOWN}\nreceived from 6.6.6.6:666: forged too")
}

#[test]
fn the_server_shows_a_datagrams_control_characters_escaped_on_one_line() {
    let mut server = server(&["--trace"]);
    let attacker = udp_socket();
    attacker.send_to(TERMINAL_ATTACK, server.addr()).unwrap();
    attacker.send_to(b"after", server.addr()).unwrap();
    let peer = attacker.local_addr().unwrap();
    let line = server.wait_for(&format!("received from {peer}: \\x1b"));
    assert_eq!(
        line,
        format!("received from {peer}: {}", whole_attack_shown())
    );
    server.wait_for(&format!("received from {peer}: after"));
    assert_no_terminal_control(&server.seen().join("\n"));
    assert_no_terminal_control(&server.stderr());
    // The echo is the datagram unchanged: escaping is for the screen, not for the wire.
    let mut echo = [0u8; 1024];
    let (size, _) = attacker.recv_from(&mut echo).unwrap();
    assert_eq!(&echo[..size], TERMINAL_ATTACK);
}

#[test]
fn the_client_shows_a_replys_control_characters_escaped_on_one_line() {
    // A hostile server: it answers the client's datagram with the attack.
    let hostile = udp_socket();
    let addr = hostile.local_addr().unwrap();
    let answering = thread::spawn(move || {
        let mut request = [0u8; 1024];
        let (_, client) = hostile.recv_from(&mut request).unwrap();
        hostile.send_to(TERMINAL_ATTACK, client).unwrap();
    });
    let output = client(addr, &["--message", "hi", "--trace"])
        .output()
        .unwrap();
    answering.join().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout.contains(&format!(
            "\nreceived from {addr}: {}\n",
            whole_attack_shown()
        )),
        "{stdout}"
    );
    assert_no_terminal_control(&stdout);
    assert_no_terminal_control(&String::from_utf8_lossy(&output.stderr));
}
