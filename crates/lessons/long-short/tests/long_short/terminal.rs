//! A client must not decide what the server's terminal shows: with `--verbose`, the server
//! prints every request with its control characters escaped, one request per line.

use std::io::{Read, Write};

use crate::support::server;
use test_support::hostile::{TERMINAL_ATTACK, TERMINAL_ATTACK_SHOWN, assert_no_terminal_control};
use test_support::testing::connect;

#[test]
fn the_verbose_server_shows_a_clients_control_characters_escaped_and_forges_no_line() {
    let mut server = server(&["--verbose", "--trace"]);
    let mut stream = connect(server.addr());
    stream.write_all(TERMINAL_ATTACK).unwrap();
    stream.write_all(b"after\n").unwrap();
    // Every request is answered with its echo, unchanged.
    let mut echo = vec![0u8; TERMINAL_ATTACK.len() + b"after\n".len()];
    stream.read_exact(&mut echo).unwrap();
    assert_eq!(echo, [TERMINAL_ATTACK, b"after\n"].concat());

    let peer = stream.local_addr().unwrap();
    let first = server.wait_for(&format!("received from {peer}: \\x1b"));
    assert_eq!(
        first,
        format!("received from {peer}: {TERMINAL_ATTACK_SHOWN}")
    );
    server.wait_for(&format!(
        "received from {peer}: received from 6.6.6.6:666: forged too"
    ));
    server.wait_for(&format!("received from {peer}: after"));
    assert_no_terminal_control(&server.seen().join("\n"));
    assert_no_terminal_control(&server.stderr());
}
