//! Checks for the chapter's exercises that change the code (docs/src/udp-chat.md, "Exercises").
//! They fail until the exercise is done, so they are ignored in the normal run. Check your work:
//!
//! ```text
//! cargo test -p udp-chat --test exercises -- --ignored
//! ```

#[path = "udp_chat/support.rs"]
mod support;

use support::{Chat, udp_socket};

#[test]
#[ignore = "exercise 5: add the /who command, then run with --ignored"]
fn exercise_5_who_prints_the_current_peer() {
    let mut chat = Chat::start(&[]);
    let friend = udp_socket();
    let friend_addr = friend.local_addr().unwrap();
    chat.wait_for("peer: none yet;");

    // No peer yet. The /peer after it makes the next lines come at once, even if /who printed
    // nothing.
    chat.type_line("/who");
    chat.type_line(&format!("/peer {friend_addr}"));
    assert_eq!(chat.running.next_line(), "peer: none yet");
    assert_eq!(chat.running.next_line(), format!("peer: {friend_addr}"));

    // A chosen peer.
    chat.type_line("/who");
    assert_eq!(chat.running.next_line(), format!("peer: {friend_addr}"));

    // The last to write to us, in a chat without a chosen peer.
    let mut open = Chat::start(&[]);
    let writer = udp_socket();
    let writer_addr = writer.local_addr().unwrap();
    writer.send_to(b"hi", open.addr()).unwrap();
    open.wait_for(&format!("peer: {writer_addr} (the last to write to us)"));
    open.type_line("/who");
    assert_eq!(open.running.next_line(), format!("peer: {writer_addr}"));
}
