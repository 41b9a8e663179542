//! A peer must not decide what the terminal shows: the text it sends is printed with its control
//! characters escaped, one received message per line, by the server (in every mode) and by the
//! client's receive thread. Printed raw, `ESC[2J` would clear the screen, an OSC sequence would
//! retitle the window, and a `\r` or `\n` would let it write a line of its own choosing.

use std::io::{Read, Write};

use crate::support::{client, server};
use test_support::hostile::{
    TERMINAL_ATTACK, TERMINAL_ATTACK_SHOWN, answer_once, assert_no_terminal_control,
};
use test_support::testing::connect;

fn the_server_shows_a_clients_control_characters_escaped(args: &[&str]) {
    let mut server = server(args);
    let mut stream = connect(server.addr());
    stream.write_all(TERMINAL_ATTACK).unwrap();
    stream.write_all(b"after\n").unwrap();
    let peer = stream.local_addr().unwrap();
    let first = server.wait_for(&format!("received from {peer}: \\x1b"));
    assert_eq!(
        first,
        format!("received from {peer}: {TERMINAL_ATTACK_SHOWN}")
    );
    // The line after the newline is the same client's second message, and says so.
    server.wait_for(&format!(
        "received from {peer}: received from 6.6.6.6:666: forged too"
    ));
    server.wait_for(&format!("received from {peer}: after"));
    assert_no_terminal_control(&server.seen().join("\n"));
    assert_no_terminal_control(&server.stderr());
    // In echo mode the bytes come back unchanged: escaping is for the screen, not the wire.
    if !args.contains(&"--broadcast") {
        let mut echo = vec![0u8; TERMINAL_ATTACK.len()];
        stream.read_exact(&mut echo).unwrap();
        assert_eq!(echo, TERMINAL_ATTACK);
    }
}

#[test]
fn the_server_shows_a_clients_control_characters_escaped_and_forges_no_line() {
    the_server_shows_a_clients_control_characters_escaped(&["--trace"]);
}

#[test]
fn the_chat_room_server_shows_them_escaped_too() {
    the_server_shows_a_clients_control_characters_escaped(&["--broadcast", "--trace"]);
}

#[test]
fn the_client_shows_a_servers_control_characters_escaped_one_line_each() {
    let addr = answer_once(TERMINAL_ATTACK.to_vec());
    let output = client(addr, &["--message", "hi", "--trace"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout.contains(&format!(
            "\nreceived: {TERMINAL_ATTACK_SHOWN}\nreceived: received from 6.6.6.6:666: forged too\n"
        )),
        "{stdout}"
    );
    assert_no_terminal_control(&stdout);
    assert_no_terminal_control(&String::from_utf8_lossy(&output.stderr));
}
