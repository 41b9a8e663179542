//! The soak against tiny servers written here: a correct one passes, and one that gets a
//! single byte wrong fails, so a green soak means that every reply really was checked.
// Test helpers: a panic here is a failed test.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::thread;
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;
use predicates::str::contains;

/// A thread-per-connection server on 127.0.0.1, each connection handled by `serve`.
fn serve_with(serve: fn(TcpStream)) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || serve(stream));
        }
    });
    addr
}

/// Echoes every byte.
fn echo(stream: TcpStream) {
    let _ = std::io::copy(&mut stream.try_clone().unwrap(), &mut &stream);
}

/// Echoes every byte but the 30,000th of each connection, which it changes.
fn echo_with_one_wrong_byte(mut stream: TcpStream) {
    let mut received = 0usize;
    let mut chunk = [0u8; 4096];
    while let Ok(n) = stream.read(&mut chunk) {
        if n == 0 {
            return;
        }
        if (received..received + n).contains(&30_000) {
            chunk[30_000 - received] ^= 1;
        }
        received += n;
        if stream.write_all(&chunk[..n]).is_err() {
            return;
        }
    }
}

/// `GET name [offset]` → `OK length` (`OK length offset` for a resume) and the bytes, from the
/// soak's folder.
fn file_server(root: PathBuf) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let root = root.clone();
            thread::spawn(move || {
                let mut line = String::new();
                BufReader::new(&stream).read_line(&mut line).unwrap();
                let mut words = line.trim_end().split(' ').skip(1);
                let contents = std::fs::read(root.join(words.next().unwrap())).unwrap();
                let offset: usize = words.next().map_or(0, |o| o.parse().unwrap());
                let mut stream = stream;
                let length = contents.len() - offset;
                let _ = match offset {
                    0 => writeln!(stream, "OK {length}"),
                    _ => writeln!(stream, "OK {length} {offset}"),
                };
                let _ = stream.write_all(&contents[offset..]);
            });
        }
    });
    addr
}

fn soak(args: &[&str]) -> assert_cmd::Command {
    let mut command = cargo_bin_cmd!("soak");
    command.args(args).timeout(Duration::from_secs(60));
    command
}

#[test]
fn a_correct_echo_server_passes_with_every_reply_checked() {
    let addr = serve_with(echo).to_string();
    let args = [
        "--protocol",
        "echo",
        "--connect",
        &addr,
        "--short",
        "200",
        "--long",
        "5",
    ];
    // 200 short (one message each), 5 long × (5 in the warm-up + 30): 375 replies.
    soak(&args).assert().success().stdout(contains(format!(
        "soak {addr}: 210 connections (200 short, 10 long), 375 replies checked, 0 errors, "
    )));
}

#[test]
fn one_wrong_byte_fails_the_soak_and_says_where() {
    let addr = serve_with(echo_with_one_wrong_byte).to_string();
    let args = [
        "--protocol",
        "echo",
        "--connect",
        &addr,
        "--short",
        "0",
        "--long",
        "4",
    ];
    soak(&args)
        .assert()
        .code(1)
        .stdout(contains(" errors, ").and(contains(" 0 errors").not()))
        .stderr(contains("differs from it at byte"))
        .stderr(contains("repeat it with --seed 1"));
}

#[test]
fn a_correct_file_server_passes() {
    let root = std::env::temp_dir().join(format!("soak-test-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    let addr = file_server(root.clone()).to_string();
    let root_arg = root.to_string_lossy().into_owned();
    let args = [
        "--protocol",
        "download",
        "--root",
        &root_arg,
        "--connect",
        &addr,
        "--short",
        "100",
        "--long",
        "3",
    ];
    let assert = soak(&args).assert();
    let _ = std::fs::remove_dir_all(&root);
    assert.success().stdout(contains(
        "106 connections (100 short, 6 long), 106 replies checked, 0 errors",
    ));
}

#[test]
fn a_server_that_does_not_say_where_it_listens_is_an_error() {
    // The soak itself as the "server": it prints its version, not `listening on ADDR`.
    let soak_itself = assert_cmd::cargo::cargo_bin!("soak")
        .to_string_lossy()
        .into_owned();
    soak(&[
        "--protocol",
        "echo",
        "--timeout",
        "5",
        "--",
        &soak_itself,
        "--version",
    ])
    .assert()
    .code(1)
    .stderr(contains("printed no `listening on ADDR` line"));
}
