//! `server --sendfile`: the body goes from the file to the socket by sendfile(2) on Linux (the
//! copy loop elsewhere). Whatever the path, the client must see the same bytes, resume must
//! start where it asked, and a file that shrinks or a client that leaves must end the same way
//! as with the copy loop.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};

use crate::support::{Scratch, assert_same_file, client, random_bytes, server};
use predicates::str::contains;
use test_support::testing::connect;

/// The line `--trace` prints for the body: which path sent it.
#[cfg(target_os = "linux")]
const BODY_TRACE: &str = " × sendfile(), nothing copied through our memory";
#[cfg(not(target_os = "linux"))]
const BODY_TRACE: &str = "sendfile() is Linux only: copying through a 64 KiB buffer instead";

#[test]
fn a_whole_file_arrives_byte_for_byte_with_sendfile() {
    let scratch = Scratch::new();
    let original = scratch.file("root/big.bin", &random_bytes(5 * 1024 * 1024 + 17, 21));
    let downloads = scratch.dir("downloads");
    let mut server = server(&scratch.path().join("root"), &["--sendfile", "--trace"]);
    client(server.addr(), &downloads, &["big.bin"])
        .assert()
        .success()
        .stdout(contains("received: OK 5242897\n"));
    assert_same_file(&original, &downloads.join("big.bin"));
    server.wait_for("sent big.bin (5242897 bytes) to 127.0.0.1:");
    server.wait_for_stderr(BODY_TRACE);
}

#[test]
fn resume_with_sendfile_sends_the_rest_from_the_offset() {
    let scratch = Scratch::new();
    let contents = random_bytes(300_000, 22);
    let original = scratch.file("root/data.bin", &contents);
    let downloads = scratch.dir("downloads");
    scratch.file("downloads/data.bin.part", &contents[..123_457]);
    let mut server = server(&scratch.path().join("root"), &["--sendfile"]);
    client(server.addr(), &downloads, &["data.bin", "--resume"])
        .assert()
        .success()
        .stdout(contains("received: OK 176543 123457\n"));
    assert_same_file(&original, &downloads.join("data.bin"));
    server.wait_for("sent data.bin (176543 bytes from byte 123457) to 127.0.0.1:");
    // And an offset at the very end: an empty body.
    let mut stream = connect(server.addr());
    stream.write_all(b"GET data.bin 300000\n").unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    assert_eq!(answer, b"OK 0 300000\n");
}

#[test]
fn a_file_that_shrinks_while_it_is_sent_ends_short_and_the_server_says_so() {
    let scratch = Scratch::new();
    let size = 64 * 1024 * 1024;
    let path = scratch.file("root/big.bin", &random_bytes(size, 23));
    let mut server = server(&scratch.path().join("root"), &["--sendfile"]);
    let mut stream = connect(server.addr());
    stream.write_all(b"GET big.bin\n").unwrap();
    // Read the header and a little: the server is now blocked with most of the file unsent,
    // the socket buffers full. Then the file is cut to 1 MiB under it.
    let mut start = vec![0u8; 64 * 1024];
    stream.read_exact(&mut start).unwrap();
    assert!(start.starts_with(b"OK 67108864\n"));
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(1024 * 1024)
        .unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    let body = start.len() - "OK 67108864\n".len() + rest.len();
    assert!(body < size, "{body} bytes arrived of a file cut to 1 MiB");
    let line = server.wait_for(" shrank while being sent: sent ");
    assert!(
        line.starts_with("big.bin shrank while being sent: sent "),
        "{line}"
    );
    assert!(line.contains(" of 67108864 bytes to 127.0.0.1:"), "{line}");
    assert_eq!(fs::metadata(&path).unwrap().len(), 1024 * 1024);
}

#[test]
fn a_client_that_vanishes_mid_file_is_logged_and_the_server_goes_on() {
    let scratch = Scratch::new();
    scratch.file("root/big.bin", &random_bytes(32 * 1024 * 1024, 24));
    scratch.file("root/a.txt", b"still here");
    let downloads = scratch.dir("downloads");
    let mut server = server(&scratch.path().join("root"), &["--sendfile"]);
    {
        let mut stream = connect(server.addr());
        stream.write_all(b"GET big.bin\n").unwrap();
        let mut start = vec![0u8; 100 * 1024];
        stream.read_exact(&mut start).unwrap();
        assert!(start.starts_with(b"OK 33554432\n"));
        // Gone, with megabytes unread: the next sendfile fails with a reset or a broken pipe.
    }
    let line = server.wait_for(" left after ");
    assert!(line.contains(" of 33554432 bytes of big.bin: "), "{line}");
    client(server.addr(), &downloads, &["a.txt"])
        .assert()
        .success();
}

#[test]
fn a_client_that_stops_reading_is_dropped_after_the_write_timeout_with_sendfile() {
    let scratch = Scratch::new();
    scratch.file("root/big.bin", &vec![7; 32 * 1024 * 1024]);
    let mut server = server(
        &scratch.path().join("root"),
        &["--sendfile", "--write-timeout", "0.5"],
    );
    let stuck = test_support::hostile::NonReader::start(server.addr(), b"GET big.bin\n".to_vec());
    let line = server.wait_for(" left after ");
    assert!(
        line.contains(" of 33554432 bytes of big.bin: the client stopped reading: nothing could be sent for 0.5 s (--write-timeout)"),
        "{line}"
    );
    stuck.assert_closed();
}
