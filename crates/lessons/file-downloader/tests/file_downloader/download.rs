//! Downloads that work: every byte arrives, under the right name, and nothing else is touched.

use std::fs;

use crate::support::{Scratch, assert_same_file, client, names_in, random_bytes, server};
use predicates::prelude::*;
use predicates::str::contains;

/// Serves one file of `contents`, downloads it and checks the copy byte for byte.
/// Returns the client's stdout.
fn round_trip(name: &str, contents: &[u8]) -> String {
    let scratch = Scratch::new();
    let original = scratch.file(&format!("root/{name}"), contents);
    let downloads = scratch.dir("downloads");
    let mut server = server(&scratch.path().join("root"), &[]);
    let assert = client(server.addr(), &downloads, &[name])
        .assert()
        .success()
        .stdout(contains(format!("sent: GET {name}")))
        .stdout(contains(format!("received: OK {}\n", contents.len())))
        .stdout(contains(format!(
            "downloaded {name}: {} bytes in ",
            contents.len()
        )))
        .stdout(contains(format!("-> {name}\n")));
    assert_same_file(&original, &downloads.join(name));
    assert_eq!(names_in(&downloads), [name], "no .part file is left");
    server.wait_for(&format!(
        "sent {name} ({} bytes) to 127.0.0.1:",
        contents.len()
    ));
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

#[test]
fn an_empty_file_arrives_empty() {
    round_trip("empty.txt", b"");
}

#[test]
fn a_one_byte_file_arrives() {
    round_trip("one.txt", b"x");
}

#[test]
fn a_file_of_exactly_1024_bytes_arrives_whole() {
    round_trip("exact.bin", &random_bytes(1024, 1));
}

#[test]
fn twenty_mib_of_random_bytes_arrive_identical() {
    // Seed 001's one recv(1024) would keep 1024 of these 20,971,520 bytes.
    round_trip("big.bin", &random_bytes(20 * 1024 * 1024, 2));
}

#[test]
fn a_chinese_file_name_works_both_ways() {
    round_trip("你好，世界.txt", "文件下载器\n".as_bytes());
}

#[test]
fn a_name_with_spaces_and_a_trailing_number() {
    // The request reads `GET report 2024 0`: the client adds the offset so that 2024 is not
    // taken for one.
    let stdout = round_trip("report 2024", b"annual");
    assert!(stdout.contains("sent: GET report 2024 0\n"), "{stdout}");
}

#[test]
fn a_file_in_a_subfolder_is_saved_under_its_last_part() {
    let scratch = Scratch::new();
    let original = scratch.file("root/docs/notes.txt", b"notes");
    let downloads = scratch.dir("downloads");
    let server = server(&scratch.path().join("root"), &[]);
    client(server.addr(), &downloads, &["docs/notes.txt"])
        .assert()
        .success();
    assert_same_file(&original, &downloads.join("notes.txt"));
}

#[test]
fn output_chooses_the_path_or_the_folder() {
    let scratch = Scratch::new();
    let original = scratch.file("root/a.txt", b"aaa");
    let downloads = scratch.dir("downloads");
    let elsewhere = scratch.dir("elsewhere");
    let server = server(&scratch.path().join("root"), &[]);
    client(
        server.addr(),
        &downloads,
        &["a.txt", "--output", "renamed.txt"],
    )
    .assert()
    .success()
    .stdout(contains("-> renamed.txt\n"));
    assert_same_file(&original, &downloads.join("renamed.txt"));
    client(server.addr(), &downloads, &["a.txt", "-o"])
        .arg(&elsewhere)
        .assert()
        .success();
    assert_same_file(&original, &elsewhere.join("a.txt"));
}

#[test]
fn an_existing_file_is_left_alone_without_force() {
    let scratch = Scratch::new();
    scratch.file("root/a.txt", b"new contents");
    let downloads = scratch.dir("downloads");
    let mine = scratch.file("downloads/a.txt", b"my precious work");
    let mut server = server(&scratch.path().join("root"), &[]);
    client(server.addr(), &downloads, &["a.txt"])
        .assert()
        .code(1)
        .stderr(contains(
            "error: a.txt already exists: add --force to replace it",
        ));
    assert_eq!(fs::read(&mine).unwrap(), b"my precious work");
    assert_eq!(names_in(&downloads), ["a.txt"]);

    client(server.addr(), &downloads, &["a.txt", "--force"])
        .assert()
        .success();
    assert_eq!(fs::read(&mine).unwrap(), b"new contents");
    // The refused try never even connected: the server saw one request.
    server.wait_for("sent a.txt (12 bytes)");
    let requests = server.seen().iter().filter(|l| l.contains("received from"));
    assert_eq!(requests.count(), 1, "{:?}", server.seen());
}

#[test]
fn list_shows_sizes_and_names_including_subfolders() {
    let scratch = Scratch::new();
    scratch.file("root/a.txt", b"aaa");
    scratch.file("root/docs/b.txt", b"bbbbb");
    scratch.file("root/你好.txt", "你好".as_bytes());
    scratch.dir("root/empty-dir");
    let downloads = scratch.dir("downloads");
    let mut server = server(&scratch.path().join("root"), &[]);
    client(server.addr(), &downloads, &["--list"])
        .assert()
        .success()
        .stdout(contains("sent: LIST\n"))
        .stdout(contains("           3  a.txt\n"))
        .stdout(contains("           5  docs/b.txt\n"))
        .stdout(contains("           6  你好.txt\n"))
        .stdout(contains("3 files\n"))
        .stdout(contains("empty-dir").not());
    server.wait_for("listed 3 files for 127.0.0.1:");
    assert!(names_in(&downloads).is_empty());
}

#[test]
fn list_on_the_wire_is_size_tab_name_lines_framed_by_ok() {
    use std::io::{Read, Write};
    let scratch = Scratch::new();
    scratch.file("root/a.txt", b"aaa");
    scratch.file("root/b/c.txt", b"");
    let server = server(&scratch.path().join("root"), &[]);
    let mut stream = test_support::testing::connect(server.addr());
    stream.write_all(b"LIST\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert_eq!(answer, "OK 18\n3\ta.txt\n0\tb/c.txt\n");
}

#[test]
fn the_progress_bar_stays_off_when_stderr_is_not_a_terminal() {
    let scratch = Scratch::new();
    scratch.file("root/big.bin", &random_bytes(1024 * 1024, 3));
    let downloads = scratch.dir("downloads");
    let server = server(&scratch.path().join("root"), &[]);
    client(server.addr(), &downloads, &["big.bin"])
        .assert()
        .success()
        .stderr(predicate::str::is_empty());
}
