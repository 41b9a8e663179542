//! The seed's downloader in Python (`interop/001_file_downloader_*.py`) against this lesson,
//! both ways. The two speak different protocols — the seed a bare name and bare bytes, the
//! lesson `GET NAME` and `OK LENGTH` — so these tests pin down how each side fails, cleanly.
//! Then `scripts/seed_downloader.py`, the seed fixed to speak the lesson's protocol, which works
//! with the Rust programs both ways. Python is found on PATH; without it the tests print
//! `skipped:` (and fail in CI, where SOCKETS_REQUIRE_TOOLS=1).

use std::fs;
use std::net::SocketAddr;
use std::path::Path;

use crate::support::{Scratch, assert_same_file, client, names_in, random_bytes, server};
use predicates::str::contains;
use test_support::external::{External, python_script, python3};

/// `python3 SCRIPT ARGS…` run in `dir`, until dropped.
fn python_in(python: &Path, dir: &Path, script: &str, args: &[&str]) -> External {
    let mut command = python_script(python, script, args);
    command.current_dir(dir);
    External::start(command)
}

/// A Python server run in `dir`, and its address.
fn python_server(python: &Path, dir: &Path, script: &str, args: &[&str]) -> (External, SocketAddr) {
    let mut server = python_in(python, dir, script, args);
    let addr = server.addr();
    (server, addr)
}

#[test]
fn the_seed_client_saves_the_rust_server_s_err_line_as_the_file() {
    // The seed sends `hello.txt` with no newline and waits: the server wants a whole request
    // line, gives up after --request-timeout and says why; the seed saves that as the file.
    let Some(python) = python3() else { return };
    let scratch = Scratch::new();
    let root = scratch.dir("root");
    scratch.file("root/hello.txt", b"hello\n");
    let downloads = scratch.dir("downloads");
    let mut server = server(&root, &["--request-timeout", "0.3"]);

    let mut seed = python_in(
        &python,
        &downloads,
        "interop/001_file_downloader_client.py",
        &[],
    );
    seed.type_line("127.0.0.1");
    seed.type_line(&server.addr().port().to_string());
    seed.type_line("hello.txt");
    seed.finish().assert_success();

    assert_eq!(
        fs::read_to_string(downloads.join("[新]hello.txt")).unwrap(),
        "ERR no complete request within 0.3 s\n"
    );
    server.wait_for("no complete request within 0.3 s");
}

#[test]
fn the_rust_client_reports_the_seed_server_s_silence_and_saves_nothing() {
    // The seed's server takes `GET hello.txt\n` for a file name, finds no such file, and
    // closes the connection without a word.
    let Some(python) = python3() else { return };
    let scratch = Scratch::new();
    let root = scratch.dir("root");
    scratch.file("root/hello.txt", b"hello\n");
    let downloads = scratch.dir("downloads");
    let (seed, addr) = python_server(
        &python,
        &root,
        "interop/001_file_downloader_server.py",
        &["127.0.0.1", "0"],
    );

    client(addr, &downloads, &["hello.txt"])
        .assert()
        .failure()
        .stderr("error: the server closed the connection without answering\n");
    assert!(
        names_in(&downloads).is_empty(),
        "{:?}",
        names_in(&downloads)
    );

    let stdout = seed.stop().stdout_text();
    assert!(
        stdout.contains("需要下载文件是:GET hello.txt\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("没有要下载的文件(GET hello.txt\n)"),
        "{stdout}"
    );
}

#[test]
fn the_fixed_python_client_downloads_a_file_over_1_kib_whole_from_the_rust_server() {
    let Some(python) = python3() else { return };
    let scratch = Scratch::new();
    let root = scratch.dir("root");
    let original = scratch.file("root/big.bin", &random_bytes(3000, 8));
    let downloads = scratch.dir("downloads");
    let server = server(&root, &[]);
    let port = server.addr().port().to_string();

    let finished = python_in(
        &python,
        &downloads,
        "scripts/seed_downloader.py",
        &["client", "big.bin", "--port", &port],
    )
    .finish();
    finished.assert_success();
    assert!(
        finished
            .stdout_text()
            .starts_with("downloaded big.bin: 3000 bytes in "),
        "{}",
        finished.stdout_text()
    );
    assert_same_file(&original, &downloads.join("big.bin"));

    let refused = python_in(
        &python,
        &downloads,
        "scripts/seed_downloader.py",
        &["client", "nope.txt", "--port", &port],
    )
    .finish();
    assert!(!refused.status.success());
    assert_eq!(
        refused.stderr,
        "error: the server refused 'nope.txt': no such file\n"
    );
}

#[test]
fn the_rust_client_downloads_whole_from_the_fixed_python_server() {
    let Some(python) = python3() else { return };
    let scratch = Scratch::new();
    let original = scratch.file("root/big.bin", &random_bytes(3000, 9));
    let downloads = scratch.dir("downloads");
    let (mut seed, addr) = python_server(
        &python,
        scratch.path(),
        "scripts/seed_downloader.py",
        &["server", "--port", "0", "--root", "root"],
    );

    client(addr, &downloads, &["big.bin"]).assert().success();
    assert_same_file(&original, &downloads.join("big.bin"));
    seed.wait_for("sent big.bin (3000 bytes) to 127.0.0.1:");

    client(addr, &downloads, &["nope.txt"])
        .assert()
        .failure()
        .stderr(contains("no such file"));
    assert_eq!(names_in(&downloads), ["big.bin"]);
}
