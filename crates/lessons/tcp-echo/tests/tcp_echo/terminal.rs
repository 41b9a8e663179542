//! A peer must not decide what the terminal shows: the text it sends is printed with its control
//! characters escaped, one received message per line, on the server and on the client. Printed
//! raw, `ESC[2J` would clear the screen, an OSC sequence would retitle the window, and a `\r`
//! or `\n` would let it write a `received from` line of its own choosing.

use std::io::{Read, Write};

use crate::support::{client, server};
use test_support::hostile::{
    TERMINAL_ATTACK, TERMINAL_ATTACK_SHOWN, answer_once, assert_no_terminal_control,
};
use test_support::testing::connect;

#[test]
fn the_server_shows_a_clients_control_characters_escaped_and_forges_no_line() {
    let mut server = server(&["--trace"]);
    let mut stream = connect(server.addr());
    stream.write_all(TERMINAL_ATTACK).unwrap();
    stream.write_all(b"after\n").unwrap();
    // The echo comes back unchanged: escaping is for the screen, not for the wire.
    let mut echo = vec![0u8; TERMINAL_ATTACK.len() + b"after\n".len()];
    stream.read_exact(&mut echo).unwrap();
    assert_eq!(echo, [TERMINAL_ATTACK, b"after\n"].concat());

    let peer = stream.local_addr().unwrap();
    let first = server.wait_for(&format!("received from {peer}: \\x1b"));
    assert_eq!(
        first,
        format!("received from {peer}: {TERMINAL_ATTACK_SHOWN}")
    );
    // The line after the newline is the same client's second message, and says so.
    let second = server.next_line();
    assert_eq!(
        second,
        format!("received from {peer}: received from 6.6.6.6:666: forged too")
    );
    server.wait_for(&format!("received from {peer}: after"));
    assert_no_terminal_control(&server.seen().join("\n"));
    assert_no_terminal_control(&server.stderr());
}

#[test]
fn the_client_shows_a_servers_control_characters_escaped() {
    let addr = answer_once(TERMINAL_ATTACK.to_vec());
    let output = client(addr, &["--message", "hi", "--trace"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout.contains(&format!("\nreceived: {TERMINAL_ATTACK_SHOWN}\n")),
        "{stdout}"
    );
    assert_no_terminal_control(&stdout);
    assert_no_terminal_control(&String::from_utf8_lossy(&output.stderr));
}

#[test]
fn undecodable_bytes_with_control_characters_show_as_hex() {
    let mut server = server(&[]);
    let mut stream = connect(server.addr());
    stream
        .write_all(b"\xff\x1b[2J\rreceived from 6.6.6.6:666: x\n")
        .unwrap();
    let line = server.wait_for("not valid UTF-8");
    assert!(
        line.ends_with(": <34 bytes not valid UTF-8: ff 1b 5b 32 4a 0d 72 65 63 65 69 76 65 64 20 66 …> (try another --encoding)"),
        "{line}"
    );
    assert_no_terminal_control(&server.seen().join("\n"));
}
