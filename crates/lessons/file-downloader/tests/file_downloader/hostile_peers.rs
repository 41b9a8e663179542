//! Clients that misbehave, and a server that copes: one line says what happened, and the other
//! clients are served all along. (A client that connects and closes without a request is in
//! `security.rs`, `past_max_clients_the_server_says_busy_then_recovers`; one that says nothing
//! in `a_silent_connection_*`; one that vanishes mid-download in `failures.rs`.)
// Test helpers: a panic here is a failed test.

use std::io::{Read, Write};

use crate::support::{Scratch, client, server};
use test_support::hostile::{NonReader, send_and_reset};
use test_support::testing::connect;

#[test]
fn a_client_that_resets_in_the_middle_of_its_request_is_logged_and_the_next_is_served() {
    let scratch = Scratch::new();
    scratch.file("root/a.txt", b"hello");
    let downloads = scratch.dir("downloads");
    let mut server = server(&scratch.path().join("root"), &[]);
    send_and_reset(server.addr(), b"GET a.t");
    // Its recv fails with ECONNRESET: one line, and the thread for that client ends.
    if test_support::hostile::reset_line(&mut server).is_none() {
        return;
    }
    client(server.addr(), &downloads, &["a.txt"])
        .assert()
        .success();
}

#[test]
fn a_client_that_never_reads_holds_up_nobody_and_is_dropped_after_the_write_timeout() {
    let scratch = Scratch::new();
    scratch.file("root/big.bin", &vec![0; 32 * 1024 * 1024]);
    scratch.file("root/a.txt", b"hello");
    let downloads = scratch.dir("downloads");
    let mut server = server(&scratch.path().join("root"), &["--write-timeout", "0.5"]);
    // Asks for 32 MiB and reads none of it: its thread's write_all blocks.
    let stuck = NonReader::start(server.addr(), b"GET big.bin\n".to_vec());
    server.wait_for("received from");
    // Meanwhile another client downloads, on a thread of its own.
    let mut other = connect(server.addr());
    other.write_all(b"GET a.txt\n").unwrap();
    let mut answer = Vec::new();
    other.read_to_end(&mut answer).unwrap();
    assert_eq!(answer, b"OK 5\nhello");
    server.wait_for("sent a.txt (5 bytes)");
    // Only then, half a second after its writes stopped moving, the stuck one is dropped.
    let line = server.wait_for(" left after ");
    assert!(
        line.contains(
            " of 33554432 bytes of big.bin: the client stopped reading: nothing could be sent for 0.5 s (--write-timeout)"
        ),
        "{line}"
    );
    stuck.assert_closed();
    client(server.addr(), &downloads, &["a.txt"])
        .assert()
        .success();
}
