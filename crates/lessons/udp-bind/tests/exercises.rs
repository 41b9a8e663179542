//! Checks for the chapter's exercises that change the code (docs/src/udp-bind.md, "Exercises").
//! They fail until the exercise is done, so they are ignored in the normal run. Check your work:
//!
//! ```text
//! cargo test -p udp-bind --test exercises -- --ignored
//! ```

#[path = "udp_bind/support.rs"]
mod support;

use std::thread;
use std::time::{Duration, Instant};

use predicates::str::contains;
use support::{client, udp_socket, unused_udp_addr};

#[test]
#[ignore = "exercise 5: add --connect to the client, then run with --ignored"]
fn exercise_5_connect_hears_port_unreachable_and_filters_strangers() {
    // No server: a connected socket hears the ICMP "port unreachable", on every system, and the
    // client says so at once instead of waiting out its 10 s.
    let nobody = unused_udp_addr();
    let started = Instant::now();
    client(
        nobody,
        &["--connect", "--message", "anyone?", "--timeout", "10"],
    )
    .assert()
    .code(1)
    .stderr(contains(format!("error: no reply from {nobody}")))
    .stderr(contains("ICMP port unreachable"));
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(5),
        "the client took {waited:?}: a connected socket should hear the ICMP error at once"
    );

    // A stranger writes to the client before the server answers: the kernel drops the
    // stranger's datagram, so the client never sees it.
    let fake_server = udp_socket();
    let stranger = udp_socket();
    let addr = fake_server.local_addr().unwrap();
    let answering = thread::spawn(move || {
        let mut request = [0u8; 64];
        let (size, client) = fake_server.recv_from(&mut request).unwrap();
        assert_eq!(&request[..size], b"question");
        stranger.send_to(b"I am not the server", client).unwrap();
        fake_server.send_to(b"answer", client).unwrap();
    });
    let output = client(
        addr,
        &["--connect", "--message", "question", "--timeout", "10"],
    )
    .output()
    .unwrap();
    answering.join().unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains(&format!("received from {addr}: answer\n")),
        "{stdout}"
    );
    assert!(!stdout.contains("ignored a datagram"), "{stdout}");
    assert!(!stdout.contains("I am not the server"), "{stdout}");
}

#[test]
#[ignore = "exercise 6: add --retries to the client, then run with --ignored"]
fn exercise_6_retries_resend_the_datagram_after_each_timeout() {
    // A server that loses the first two datagrams (it reads and ignores them) and answers the
    // third: with --retries the client sends again after each timeout and gets its reply.
    let lossy = udp_socket();
    let addr = lossy.local_addr().unwrap();
    let server = thread::spawn(move || {
        let mut datagrams = Vec::new();
        let mut buffer = [0u8; 64];
        for _ in 0..3 {
            let (size, client) = lossy.recv_from(&mut buffer).unwrap();
            datagrams.push((buffer[..size].to_vec(), client));
        }
        let client = datagrams[2].1;
        lossy.send_to(b"hello", client).unwrap();
        // Nothing more should come: the client has its reply.
        lossy
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let more = lossy.recv_from(&mut buffer).is_ok();
        (datagrams, more)
    });
    let output = client(
        addr,
        &["--retries", "10", "--timeout", "0.5", "--message", "hello"],
    )
    .output()
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        stdout
            .matches(&format!("received from {addr}: hello\n"))
            .count(),
        1,
        "{stdout}"
    );
    let (datagrams, more) = server.join().unwrap();
    let first_sender = datagrams[0].1;
    for (datagram, sender) in &datagrams {
        assert_eq!(datagram, b"hello", "every try sends the same datagram");
        assert_eq!(
            *sender, first_sender,
            "every try comes from the same socket"
        );
    }
    assert!(!more, "the client sent again after it got its reply");

    // A server that never answers: --retries 2 means 2 more tries, 3 datagrams in all, then the
    // client gives up as before.
    let silent = udp_socket();
    let addr = silent.local_addr().unwrap();
    client(
        addr,
        &["--retries", "2", "--timeout", "0.3", "--message", "hello?"],
    )
    .assert()
    .code(1)
    .stderr(contains(format!("error: no reply from {addr}")));
    // The datagrams wait in the silent socket's queue: count them.
    silent
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buffer = [0u8; 64];
    let mut tries = 0;
    while let Ok((size, _)) = silent.recv_from(&mut buffer) {
        assert_eq!(&buffer[..size], b"hello?");
        tries += 1;
    }
    assert_eq!(tries, 3, "--retries 2: the first send and 2 more");
}
