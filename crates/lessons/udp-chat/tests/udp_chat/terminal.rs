//! A peer must not decide what the terminal shows: every datagram is printed on one line, its
//! control characters escaped. A datagram may contain a newline; printed raw,
//! `…\nreceived from 6.6.6.6:666: …` would be a forged line of its own in the conversation.

use crate::support::{Chat, udp_socket};
use test_support::hostile::{TERMINAL_ATTACK, TERMINAL_ATTACK_SHOWN, assert_no_terminal_control};

#[test]
fn a_datagrams_control_characters_show_escaped_on_one_line() {
    let mut chat = Chat::start(&["--trace"]);
    let attacker = udp_socket();
    attacker.send_to(TERMINAL_ATTACK, chat.addr()).unwrap();
    attacker
        .send_to("after, 你好".as_bytes(), chat.addr())
        .unwrap();
    let peer = attacker.local_addr().unwrap();
    let line = chat.wait_for(&format!("received from {peer}: \\x1b"));
    assert_eq!(
        line,
        format!(
            r"received from {peer}: {TERMINAL_ATTACK_SHOWN}\nreceived from 6.6.6.6:666: forged too"
        )
    );
    // Ordinary text, Chinese included, is shown as it is.
    chat.wait_for(&format!("received from {peer}: after, 你好"));
    assert_no_terminal_control(&chat.running.seen().join("\n"));
    assert_no_terminal_control(&chat.running.stderr());
}
