//! Two chats talking, as a student would run them in two terminals, and a peer that misbehaves.

use crate::support::{Chat, udp_socket};

#[test]
fn two_chats_exchange_lines_both_ways() {
    let mut first = Chat::start(&[]);
    let mut second = Chat::start(&["--peer", &first.addr().to_string()]);
    let (one, two) = (first.addr(), second.addr());

    second.type_line("hello from the second terminal");
    second.wait_for(&format!("sent to {one}: hello from the second terminal"));
    first.wait_for(&format!(
        "received from {two}: hello from the second terminal"
    ));

    // The first chat has no --peer: it answers whoever wrote last.
    first.wait_for(&format!("peer: {two} (the last to write to us)"));
    first.type_line("你好，第二个终端");
    second.wait_for(&format!("received from {one}: 你好，第二个终端"));
}

#[test]
fn without_a_peer_replies_go_to_whoever_wrote_last() {
    let mut chat = Chat::start(&[]);
    let (alice, bob) = (udp_socket(), udp_socket());
    let mut datagram = [0u8; 64];

    alice.send_to(b"I am alice", chat.addr()).unwrap();
    chat.wait_for("I am alice");
    chat.type_line("hi alice");
    let (size, from) = alice.recv_from(&mut datagram).unwrap();
    assert_eq!((&datagram[..size], from), (&b"hi alice"[..], chat.addr()));

    bob.send_to(b"I am bob", chat.addr()).unwrap();
    chat.wait_for(&format!(
        "peer: {} (the last to write to us)",
        bob.local_addr().unwrap()
    ));
    chat.type_line("hi bob");
    let (size, _) = bob.recv_from(&mut datagram).unwrap();
    assert_eq!(&datagram[..size], b"hi bob");
}

#[test]
fn a_chosen_peer_stays_when_someone_else_writes() {
    let friend = udp_socket();
    let stranger = udp_socket();
    let mut chat = Chat::start(&["--peer", &friend.local_addr().unwrap().to_string()]);
    stranger.send_to(b"psst", chat.addr()).unwrap();
    chat.wait_for("psst");
    chat.type_line("for my friend");
    let mut datagram = [0u8; 64];
    let (size, _) = friend.recv_from(&mut datagram).unwrap();
    assert_eq!(&datagram[..size], b"for my friend");
}

#[test]
fn slash_peer_changes_whom_lines_go_to() {
    let mut chat = Chat::start(&[]);
    let friend = udp_socket();
    let friend_addr = friend.local_addr().unwrap();

    // Nobody has written yet, and no peer is chosen: the line cannot go anywhere.
    chat.type_line("hello?");
    chat.running.wait_for_stderr("error: not sent: no peer yet");

    chat.type_line(&format!("/peer {friend_addr}"));
    chat.wait_for(&format!("peer: {friend_addr}"));
    chat.type_line("now you");
    chat.type_line("//slash is text");
    let mut datagram = [0u8; 64];
    let (size, _) = friend.recv_from(&mut datagram).unwrap();
    assert_eq!(&datagram[..size], b"now you");
    let (size, _) = friend.recv_from(&mut datagram).unwrap();
    assert_eq!(&datagram[..size], b"/slash is text");

    chat.type_line("/peer nowhere:99999");
    chat.running
        .wait_for_stderr(r#"error: invalid port "99999" in "nowhere:99999""#);
    chat.type_line("/qiut");
    chat.running
        .wait_for_stderr(r#"error: unknown command "/qiut": use /peer ADDR or /quit"#);
}

#[test]
fn slash_quit_exits_0() {
    let mut chat = Chat::start(&[]);
    chat.type_line("/quit");
    let (status, rest) = chat.running.wait_for_exit();
    assert!(status.success(), "{status:?}");
    assert_eq!(rest.last().map(String::as_str), Some("closing the socket"));
}

#[test]
fn end_of_input_exits_0() {
    let mut chat = Chat::start(&[]);
    chat.end_input();
    let (status, rest) = chat.running.wait_for_exit();
    assert!(status.success(), "{status:?}");
    assert_eq!(rest.last().map(String::as_str), Some("closing the socket"));
}

#[test]
fn gbk_between_two_chats_and_on_the_wire() {
    let mut first = Chat::start(&["--encoding", "gbk"]);
    let mut second = Chat::start(&["--encoding", "gbk", "--peer", &first.addr().to_string()]);
    second.type_line("你好");
    first.wait_for(&format!("received from {}: 你好", second.addr()));

    // What the seed's Python chat sends: "你好".encode("gbk").
    let python = udp_socket();
    python
        .send_to(&[0xc4, 0xe3, 0xba, 0xc3], first.addr())
        .unwrap();
    first.wait_for(&format!(
        "received from {}: 你好",
        python.local_addr().unwrap()
    ));
    first.type_line("再见");
    let mut datagram = [0u8; 64];
    let (size, _) = python.recv_from(&mut datagram).unwrap();
    assert_eq!(&datagram[..size], [0xd4, 0xd9, 0xbc, 0xfb]);
}

#[test]
fn a_line_gbk_cannot_carry_is_refused_and_not_sent() {
    let friend = udp_socket();
    let mut chat = Chat::start(&[
        "--encoding",
        "gbk",
        "--peer",
        &friend.local_addr().unwrap().to_string(),
    ]);
    chat.type_line("smile 😀");
    chat.type_line("ok");
    let mut datagram = [0u8; 64];
    let (size, _) = friend.recv_from(&mut datagram).unwrap();
    assert_eq!(&datagram[..size], b"ok", "the emoji line was not sent");
    chat.running
        .wait_for_stderr("error: not sent: '😀' (U+1F600) cannot be encoded in GBK");
}

#[test]
fn an_undecodable_datagram_is_shown_and_the_chat_goes_on() {
    let mut chat = Chat::start(&[]);
    let peer = udp_socket();
    let from = peer.local_addr().unwrap();
    // GBK bytes for 你好, then bytes valid in no encoding, then an empty datagram.
    peer.send_to(&[0xc4, 0xe3, 0xba, 0xc3], chat.addr())
        .unwrap();
    peer.send_to(&[0xff, 0xff], chat.addr()).unwrap();
    peer.send_to(b"", chat.addr()).unwrap();
    peer.send_to(b"still talking", chat.addr()).unwrap();
    assert_eq!(
        chat.wait_for("received from"),
        format!(
            "received from {from}: <4 bytes not valid UTF-8: c4 e3 ba c3> (valid GBK: try --encoding gbk)"
        )
    );
    chat.wait_for(&format!(
        "received from {from}: <2 bytes not valid UTF-8: ff ff> (try another --encoding)"
    ));
    assert_eq!(
        chat.wait_for("received from"),
        format!("received from {from}: ")
    );
    chat.wait_for(&format!("received from {from}: still talking"));
    chat.type_line("/quit");
    let (status, _) = chat.running.wait_for_exit();
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_peer_that_vanished_does_not_stop_the_chat() {
    // Nothing is bound at the peer's address: on Windows the next recvfrom reports the ICMP
    // "port unreachable"; elsewhere nobody notices. Either way the chat keeps working.
    let gone = udp_socket().local_addr().unwrap();
    let mut chat = Chat::start(&["--peer", &gone.to_string()]);
    chat.type_line("are you there?");
    chat.wait_for(&format!("sent to {gone}: are you there?"));
    let friend = udp_socket();
    friend.send_to(b"I am here", chat.addr()).unwrap();
    chat.wait_for("received from");
    chat.type_line("/quit");
    let (status, _) = chat.running.wait_for_exit();
    assert!(status.success(), "{status:?}");
}
