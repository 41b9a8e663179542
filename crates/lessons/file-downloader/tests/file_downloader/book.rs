//! The chapter's other transcripts: every block of program output the book shows, besides the
//! demo's, is a file in `tests/transcripts/` that a test here produces by running the programs.
//! Change what a program prints and these fail until the book says the same.
// In tests a panic is a failed test, with its message: unwrap is the clearest way to say so.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;

use crate::support::{Scratch, client, names_in};
use test_support::testing::{Running, WAIT, assert_transcript, tool};

fn transcript(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/transcripts")
        .join(name)
}

/// "The seed's downloader, and the cut file": the tutorial's Python pair, run exactly as the
/// book says (serving `docs/src`, asking for `tcp-echo.md`), saves 1024 bytes of a file of more
/// than ten thousand, and says nothing is wrong.
#[test]
fn the_books_seed_client_saves_a_cut_copy() {
    let Some(python) = tool("python3") else {
        return;
    };
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..");
    let original = repository.join("docs/src/tcp-echo.md");
    assert!(
        std::fs::metadata(&original).unwrap().len() > 10_000,
        "the book says the original has more than ten thousand bytes"
    );
    let script = repository.join("scripts/seed_downloader.py");
    let mut command = Command::new(&python);
    command
        .arg(&script)
        .args(["seed-server", "--port", "0", "--root"])
        .arg(repository.join("docs/src"));
    let server = Running::start(command);

    let scratch = Scratch::new();
    let output = Command::new(&python)
        .arg(&script)
        .args(["seed-client", "tcp-echo.md", "--port"])
        .arg(server.addr().port().to_string())
        .current_dir(scratch.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_transcript(
        &String::from_utf8(output.stdout).unwrap(),
        &transcript("seed-client.txt"),
    );
    let copy = scratch.path().join("[新]tcp-echo.md");
    assert_eq!(std::fs::metadata(copy).unwrap().len(), 1024);
}

/// "Exactly `length` bytes": a server promises 1000 bytes, sends 10 and hangs up. The book
/// shows the client's one error line.
#[test]
fn the_books_interrupted_download_says_what_arrived_and_where() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let fake = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut request = String::new();
        BufReader::new(&stream).read_line(&mut request).unwrap();
        stream.write_all(b"OK 1000\n0123456789").unwrap();
        request
    });

    let scratch = Scratch::new();
    let output = client(addr, scratch.path(), &["data.bin"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(fake.join().unwrap(), "GET data.bin\n");
    assert_transcript(
        &String::from_utf8(output.stderr).unwrap(),
        &transcript("interrupted.txt"),
    );
    assert_eq!(names_in(scratch.path()), ["data.bin.part"]);
}

/// "Resume": a server that ignores the offset answers `OK 1000` and the whole file; the client
/// refuses it, and the 10 bytes it had are still all there is.
#[test]
fn the_books_resume_refused_when_the_server_ignores_the_offset() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let fake = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut request = String::new();
        BufReader::new(&stream).read_line(&mut request).unwrap();
        stream.write_all(b"OK 1000\n").unwrap();
        stream.write_all(&[b'x'; 1000]).unwrap();
        request
    });

    let scratch = Scratch::new();
    std::fs::write(scratch.path().join("data.bin.part"), b"0123456789").unwrap();
    let output = client(addr, scratch.path(), &["data.bin", "--resume"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(fake.join().unwrap(), "GET data.bin 10\n");
    assert_transcript(
        &String::from_utf8(output.stderr).unwrap(),
        &transcript("resume-refused.txt"),
    );
    assert_eq!(names_in(scratch.path()), ["data.bin.part"]);
    assert_eq!(
        std::fs::read(scratch.path().join("data.bin.part")).unwrap(),
        b"0123456789"
    );
}
