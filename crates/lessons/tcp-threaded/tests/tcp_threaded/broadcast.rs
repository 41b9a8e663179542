//! `--broadcast`: a chat room. Each line goes to every other client as `PEER: TEXT`; a client
//! that stops reading is dropped, and the room goes on without it.

use std::thread;
use std::time::Duration;

use crate::support::{Peer, live_client, server};

#[test]
fn three_clients_one_speaks_the_other_two_receive_the_speaker_does_not() {
    let mut server = server(&["--broadcast"]);
    let mut alice = Peer::connect(server.addr());
    let mut bob = Peer::connect(server.addr());
    let mut carol = Peer::connect(server.addr());
    server.wait_for("(3 active)");

    alice.send("hello, everyone");
    let heard = format!("{}: hello, everyone", alice.addr());
    assert_eq!(bob.line(), heard);
    assert_eq!(carol.line(), heard);
    assert!(alice.stays_silent(), "the speaker heard itself");
    server.wait_for(&format!("received from {}: hello, everyone", alice.addr()));

    bob.send("你好");
    let heard = format!("{}: 你好", bob.addr());
    assert_eq!(alice.line(), heard);
    assert_eq!(carol.line(), heard);
    assert!(bob.stays_silent());

    // A leaver is out of the room; the others go on.
    drop(carol);
    server.wait_for("(2 active)");
    alice.send("still here?");
    assert_eq!(bob.line(), format!("{}: still here?", alice.addr()));
}

#[test]
fn a_client_that_never_reads_does_not_block_the_room() {
    let mut server = server(&["--broadcast"]);
    let mut speaker = Peer::connect(server.addr());
    let mut listener = Peer::connect(server.addr());
    // Connected, but never reads a byte: its buffers fill, then its queue.
    let deaf = Peer::connect(server.addr());
    server.wait_for("(3 active)");

    let deaf_addr = deaf.addr();
    let watcher = thread::spawn(move || {
        let line = server.wait_for(&format!("dropped {deaf_addr}"));
        (server, line)
    });
    let filler = "x".repeat(8 * 1024);
    let mut sent = 0;
    // Each line reaches the listener at once, however full the deaf client is.
    while !watcher.is_finished() {
        assert!(sent < 10_000, "the deaf client was never dropped");
        let line = format!("{sent} {filler}");
        speaker.send(&line);
        assert_eq!(listener.line(), format!("{}: {line}", speaker.addr()));
        sent += 1;
    }
    let (mut server, dropped) = watcher.join().expect("the server dropped the deaf client");
    assert!(
        dropped.ends_with("not reading, 64 lines waiting for it (2 active)"),
        "{dropped}"
    );
    speaker.send("and on we go");
    assert_eq!(listener.line(), format!("{}: and on we go", speaker.addr()));
    server.wait_for("received from");
    drop(deaf);
}

#[test]
fn a_client_that_only_listens_is_not_idle() {
    let mut server = server(&["--broadcast", "--idle-timeout", "0.8"]);
    let mut speaker = Peer::connect(server.addr());
    let mut listener = Peer::connect(server.addr());
    server.wait_for("(2 active)");
    // Longer than the idle timeout: the listener hears a line every 0.15 s, and never says a
    // word.
    for round in 0..7 {
        speaker.send(&format!("line {round}"));
        assert_eq!(listener.line(), format!("{}: line {round}", speaker.addr()));
        thread::sleep(Duration::from_millis(150));
    }
    assert!(
        !server.seen().iter().any(|line| line.contains("timed out")),
        "{:?}",
        server.seen()
    );
    // Then silence all round: both time out.
    assert_eq!(listener.line(), "");
    server.wait_for("timed out");
    server.wait_for("timed out: silent for 0.8 s (--idle-timeout) (0 active)");
}

#[test]
fn the_client_prints_what_arrives_while_it_waits_for_input() {
    let mut server = server(&["--broadcast"]);
    let mut typist = live_client(server.addr(), &[]);
    server.wait_for("(1 active)");
    let mut other = Peer::connect(server.addr());
    server.wait_for("(2 active)");

    // The typist has typed nothing, yet the other's line shows up.
    other.send("hi there");
    typist.wait_for(&format!("received: {}: hi there", other.addr()));

    typist.type_line("hello back");
    typist.wait_for("sent: hello back");
    let heard = other.line();
    assert!(heard.ends_with(": hello back"), "{heard}");

    typist.close_stdin();
    typist.wait_for("end of input: waiting for the server to finish");
    typist.wait_for("the server closed the connection");
    assert!(typist.wait_for_exit());
}
