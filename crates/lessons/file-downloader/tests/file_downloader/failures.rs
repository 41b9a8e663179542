//! Downloads that go wrong: a server that dies mid-transfer, stalls, lies about the length or
//! speaks another protocol; a client that vanishes; bad arguments. The client never leaves a
//! file under the final name that is not the whole file, says how much arrived, and `--resume`
//! finishes the job.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::thread::{self, JoinHandle};

use crate::support::{Scratch, assert_same_file, client, names_in, random_bytes, server};
use assert_cmd::cargo::cargo_bin_cmd;
use predicates::str::contains;
use test_support::hostile::dripping_server;
use test_support::testing::{WAIT, connect, refused_port};

/// How a fake server ends the conversation after its answer.
#[derive(Clone, Copy)]
enum Then {
    /// Close at once, like a server that crashed.
    Close,
    /// Keep the connection open and silent until the client gives up.
    Stall,
}

/// A fake server for one connection: reads the request line, sends `answer`, then closes or
/// stalls. Returns its address and, when joined, the request it got.
fn fake_server(answer: Vec<u8>, then: Then) -> (SocketAddr, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut request = String::new();
        BufReader::new(&stream).read_line(&mut request).unwrap();
        stream.write_all(&answer).unwrap();
        if let Then::Stall = then {
            // Until the client closes (or WAIT passes).
            let _ = stream.read_to_end(&mut Vec::new());
        }
        request
    });
    (addr, handle)
}

#[test]
fn the_server_dies_mid_transfer_then_resume_completes_the_file() {
    let scratch = Scratch::new();
    let contents = random_bytes(1000, 7);
    let original = scratch.file("root/data.bin", &contents);
    let downloads = scratch.dir("downloads");

    // The server promises 1000 bytes, sends 10, and is gone.
    let mut answer = b"OK 1000\n".to_vec();
    answer.extend_from_slice(&contents[..10]);
    let (addr, fake) = fake_server(answer, Then::Close);
    client(addr, &downloads, &["data.bin"])
        .assert()
        .code(1)
        .stdout(contains("received: OK 1000\n"))
        .stderr(contains(
            "error: the server closed the connection after 10 of 1000 bytes of data.bin; \
             they are kept in data.bin.part: run the same command with --resume to continue",
        ));
    assert_eq!(fake.join().unwrap(), "GET data.bin\n");
    // No file under the final name: only the partial one, with exactly what arrived.
    assert_eq!(names_in(&downloads), ["data.bin.part"]);
    assert_eq!(
        std::fs::read(downloads.join("data.bin.part")).unwrap(),
        &contents[..10]
    );

    // A real server now: --resume asks for the rest only.
    let mut server = server(&scratch.path().join("root"), &[]);
    client(server.addr(), &downloads, &["data.bin", "--resume"])
        .assert()
        .success()
        .stdout(contains("sent: GET data.bin 10\n"))
        .stdout(contains("received: OK 990 10\n"))
        .stdout(contains("resuming data.bin at byte 10: 990 bytes to go\n"))
        .stdout(contains("downloaded data.bin: 990 bytes in "));
    assert_same_file(&original, &downloads.join("data.bin"));
    assert_eq!(names_in(&downloads), ["data.bin"]);
    server.wait_for("sent data.bin (990 bytes from byte 10) to 127.0.0.1:");
}

#[test]
fn without_resume_a_new_try_starts_over() {
    let scratch = Scratch::new();
    let original = scratch.file("root/a.txt", b"the real contents");
    let downloads = scratch.dir("downloads");
    scratch.file(
        "downloads/a.txt.part",
        b"junk from an earlier try, longer than the file",
    );
    let server = server(&scratch.path().join("root"), &[]);
    client(server.addr(), &downloads, &["a.txt"])
        .assert()
        .success()
        .stdout(contains(
            "found a.txt.part (46 bytes) from an earlier try: starting again",
        ))
        .stdout(contains("sent: GET a.txt\n"));
    assert_same_file(&original, &downloads.join("a.txt"));
    assert_eq!(names_in(&downloads), ["a.txt"]);
}

#[test]
fn resume_with_a_partial_file_longer_than_the_original_says_what_to_do() {
    let scratch = Scratch::new();
    scratch.file("root/a.txt", b"short");
    let downloads = scratch.dir("downloads");
    scratch.file("downloads/a.txt.part", b"this is longer than five bytes");
    let server = server(&scratch.path().join("root"), &[]);
    client(server.addr(), &downloads, &["a.txt", "--resume"])
        .assert()
        .code(1)
        .stderr(contains(r#"the server refused to resume "a.txt" at byte 30: offset 30 is past the end (5 bytes); to start again, delete a.txt.part"#));
    assert_eq!(names_in(&downloads), ["a.txt.part"]);
}

#[test]
fn a_server_that_ignores_the_resume_offset_is_refused_and_the_part_file_is_untouched() {
    let scratch = Scratch::new();
    let contents = random_bytes(1000, 11);
    let downloads = scratch.dir("downloads");
    scratch.file("downloads/data.bin.part", &contents[..10]);

    // Asked for `GET data.bin 10`, it sends the whole file, as if no offset had been asked.
    let mut answer = b"OK 1000\n".to_vec();
    answer.extend_from_slice(&contents);
    let (addr, fake) = fake_server(answer, Then::Close);
    client(addr, &downloads, &["data.bin", "--resume"])
        .assert()
        .code(1)
        .stdout(contains("sent: GET data.bin 10\n"))
        .stderr(contains(
            r#"error: the server did not resume "data.bin" at byte 10: its answer starts at byte 0; data.bin.part is left as it was (to start again, delete it)"#,
        ));
    assert_eq!(fake.join().unwrap(), "GET data.bin 10\n");
    assert_eq!(names_in(&downloads), ["data.bin.part"]);
    assert_eq!(
        std::fs::read(downloads.join("data.bin.part")).unwrap(),
        &contents[..10]
    );

    // One that resumes, but somewhere else, is refused the same way.
    let mut answer = b"OK 995 5\n".to_vec();
    answer.extend_from_slice(&contents[5..]);
    let (addr, fake) = fake_server(answer, Then::Close);
    client(addr, &downloads, &["data.bin", "--resume"])
        .assert()
        .code(1)
        .stderr(contains(
            "did not resume \"data.bin\" at byte 10: its answer starts at byte 5",
        ));
    fake.join().unwrap();
    assert_eq!(
        std::fs::read(downloads.join("data.bin.part")).unwrap(),
        &contents[..10]
    );

    // And a whole-file request answered with a part of it.
    let (addr, fake) = fake_server(b"OK 5 995\nabcde".to_vec(), Then::Close);
    client(addr, &downloads, &["other.bin"])
        .assert()
        .code(1)
        .stderr(contains("from byte 995, but we asked for the whole file"));
    fake.join().unwrap();
    assert_eq!(names_in(&downloads), ["data.bin.part"]);
}

#[test]
fn a_server_that_stalls_mid_transfer_times_out_with_what_arrived() {
    let scratch = Scratch::new();
    let downloads = scratch.dir("downloads");
    let (addr, fake) = fake_server(b"OK 100\n0123456789".to_vec(), Then::Stall);
    client(addr, &downloads, &["slow.bin", "--timeout", "0.5"])
        .assert()
        .code(1)
        .stderr(contains(
            "error: the server sent nothing for 0.5 s while we waited for the file after 10 of 100 bytes of slow.bin",
        ));
    fake.join().unwrap();
    assert_eq!(names_in(&downloads), ["slow.bin.part"]);
}

#[test]
fn a_server_that_never_answers_times_out_and_nothing_is_saved() {
    let scratch = Scratch::new();
    let downloads = scratch.dir("downloads");
    let (addr, fake) = fake_server(Vec::new(), Then::Stall);
    client(addr, &downloads, &["a.txt", "--timeout", "0.5"])
        .assert()
        .code(1)
        .stderr(contains(
            "error: the server sent nothing for 0.5 s while we waited for the answer",
        ));
    fake.join().unwrap();
    assert!(names_in(&downloads).is_empty());
}

#[test]
fn a_server_that_sends_more_than_it_announced_is_not_trusted() {
    let scratch = Scratch::new();
    let downloads = scratch.dir("downloads");
    let (addr, fake) = fake_server(b"OK 5\nhello, and more".to_vec(), Then::Close);
    client(addr, &downloads, &["a.txt"])
        .assert()
        .code(1)
        .stderr(contains(
            "the server sent more than the 5 bytes it announced",
        ));
    fake.join().unwrap();
    assert!(!downloads.join("a.txt").exists());
}

#[test]
fn an_answer_in_another_protocol_is_reported() {
    let scratch = Scratch::new();
    let downloads = scratch.dir("downloads");
    let (addr, fake) = fake_server(b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec(), Then::Close);
    client(addr, &downloads, &["a.txt"])
        .assert()
        .code(1)
        .stderr(contains(
            r#"error: the server's answer makes no sense: expected "OK <length>" or "ERR <reason>", got "HTTP/1.1 400 Bad Request""#,
        ));
    fake.join().unwrap();
    assert!(names_in(&downloads).is_empty());
}

#[test]
fn a_client_that_vanishes_mid_transfer_is_logged_and_the_server_goes_on() {
    let scratch = Scratch::new();
    scratch.file("root/big.bin", &random_bytes(20 * 1024 * 1024, 9));
    scratch.file("root/a.txt", b"still here");
    let downloads = scratch.dir("downloads");
    let mut server = server(&scratch.path().join("root"), &[]);
    {
        let mut stream = connect(server.addr());
        stream.write_all(b"GET big.bin\n").unwrap();
        let mut start = vec![0u8; 100 * 1024];
        stream.read_exact(&mut start).unwrap();
        assert!(start.starts_with(b"OK 20971520\n"));
        // Gone, with megabytes unread.
    }
    let line = server.wait_for(" left after ");
    assert!(line.contains(" of 20971520 bytes of big.bin: "), "{line}");
    client(server.addr(), &downloads, &["a.txt"])
        .assert()
        .success();
}

#[test]
fn connection_refused_names_the_address() {
    let scratch = Scratch::new();
    let refused = refused_port();
    let port = refused.port();
    client(
        format!("127.0.0.1:{port}").parse().unwrap(),
        scratch.path(),
        &["a.txt"],
    )
    .assert()
    .code(1)
    .stderr(contains(format!(
        "error: connection refused by 127.0.0.1:{port}"
    )));
    assert!(names_in(scratch.path()).is_empty());
}

#[test]
fn bad_arguments_exit_2_naming_the_value() {
    cargo_bin_cmd!("file-downloader")
        .args(["client", "--connect", "nowhere", "a.txt"])
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(contains("nowhere"));
    cargo_bin_cmd!("file-downloader")
        .args(["client", "a\nb"])
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(contains(
            r#"invalid NAME "a\nb": names cannot contain control characters"#,
        ));
    cargo_bin_cmd!("file-downloader")
        .args(["client"])
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(contains("<NAME>"));
    cargo_bin_cmd!("file-downloader")
        .args(["client", "--list", "a.txt"])
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(contains("cannot be used with"));
    cargo_bin_cmd!("file-downloader")
        .args(["server", "--max-clients", "0"])
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(contains("--max-clients"));
    cargo_bin_cmd!("file-downloader")
        .args(["server", "--request-timeout", "soon"])
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(contains(r#"invalid duration "soon""#));
}

#[test]
fn a_root_that_is_not_a_directory_is_an_error() {
    let scratch = Scratch::new();
    let file = scratch.file("file.txt", b"x");
    cargo_bin_cmd!("file-downloader")
        .args(["server", "--listen", "127.0.0.1:0", "--root"])
        .arg(&file)
        .timeout(WAIT)
        .assert()
        .code(1)
        .stderr(contains("error: cannot use --root"))
        .stderr(contains("not a directory"));
    cargo_bin_cmd!("file-downloader")
        .args(["server", "--listen", "127.0.0.1:0", "--root"])
        .arg(scratch.path().join("missing"))
        .timeout(WAIT)
        .assert()
        .code(1)
        .stderr(contains("error: cannot use --root"));
}

#[test]
fn port_already_in_use() {
    let scratch = Scratch::new();
    let running = server(scratch.path(), &[]);
    let taken = running.addr().to_string();
    cargo_bin_cmd!("file-downloader")
        .args(["server", "--listen", &taken])
        .timeout(WAIT)
        .assert()
        .code(1)
        .stderr(contains(format!("error: {taken} is already in use")));
}

#[test]
fn a_server_that_drips_its_header_is_cut_off_after_the_timeout() {
    // A byte every 0.3 s: each read succeeds within --timeout 1, the line never comes in time.
    let scratch = Scratch::new();
    let downloads = scratch.dir("downloads");
    let (addr, dripping) = dripping_server(
        b"OK 5\nhello".to_vec(),
        std::time::Duration::from_millis(300),
    );
    let started = std::time::Instant::now();
    client(addr, &downloads, &["a.txt", "--timeout", "1"])
        .assert()
        .code(1)
        .stderr("error: the server sent no complete answer line within 1 s\n");
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    assert_eq!(dripping.join().unwrap(), "GET a.txt\n");
    assert!(names_in(&downloads).is_empty());
}

#[test]
fn control_characters_from_the_server_are_shown_escaped_never_sent_to_the_terminal() {
    let scratch = Scratch::new();
    let downloads = scratch.dir("downloads");
    // An ERR line that would retitle the terminal, ring its bell and clear the screen.
    let (addr, fake) = fake_server(b"ERR \x1b]0;pwned\x07\x1b[2Jgone\r\n".to_vec(), Then::Close);
    let output = client(addr, &downloads, &["a.txt"]).output().unwrap();
    fake.join().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let (stdout, stderr) = (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    );
    assert!(
        !stdout.contains('\x1b') && !stderr.contains('\x1b'),
        "{stdout:?} {stderr:?}"
    );
    assert!(
        stdout.contains(r"received: ERR \x1b]0;pwned\x07\x1b[2Jgone"),
        "{stdout:?}"
    );
    assert_eq!(
        stderr,
        "error: the server refused \"a.txt\": \\x1b]0;pwned\\x07\\x1b[2Jgone\n"
    );

    // The names in a LIST answer too.
    let listing = b"5\tev\x1b[2Jil\n";
    let mut answer = format!("OK {}\n", listing.len()).into_bytes();
    answer.extend_from_slice(listing);
    let (addr, fake) = fake_server(answer, Then::Close);
    let output = client(addr, &downloads, &["--list"]).output().unwrap();
    fake.join().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains(r"5  ev\x1b[2Jil"), "{stdout:?}");
    assert!(!stdout.contains('\x1b'));
}

#[test]
fn a_list_longer_than_any_real_list_is_refused_at_once() {
    // 1 TiB of "list": kept in memory, it would take the client's memory down with it.
    let scratch = Scratch::new();
    let (addr, fake) = fake_server(b"OK 1099511627776\n".to_vec(), Then::Stall);
    let started = std::time::Instant::now();
    client(addr, scratch.path(), &["--list", "--timeout", "5"])
        .assert()
        .code(1)
        .stderr(contains(
            "error: the server announced a list of 1099511627776 bytes, more than any list can be",
        ));
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    fake.join().unwrap();
}
