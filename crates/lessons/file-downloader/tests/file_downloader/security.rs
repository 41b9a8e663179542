//! Hostile requests: names that try to leave the root, oversized and never-ending requests, and
//! connections that say nothing. Each gets `ERR`, nothing outside the root is ever read, and
//! the server goes on serving everyone else.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{Scratch, client, names_in, server};
use predicates::str::contains;
use test_support::testing::{WAIT, connect};

/// What sits outside the root, in every test: if these bytes ever come back, the server leaked.
const CANARY: &[u8] = b"CANARY: a secret outside the root";

/// A scratch folder with `root/` (a.txt and a folder) and `canary.txt` beside it.
fn scratch_with_canary() -> Scratch {
    let scratch = Scratch::new();
    scratch.file("canary.txt", CANARY);
    scratch.file("root/a.txt", b"inside the root");
    scratch.dir("root/docs");
    scratch
}

/// Sends raw request bytes and returns everything the server answered before closing.
fn ask(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = connect(addr);
    stream.write_all(request).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

/// Asserts an `ERR` line and nothing else, and no canary.
fn assert_refused(answer: &str, reason: &str, request: &str) {
    assert!(
        answer.starts_with("ERR ") && answer.ends_with('\n') && answer.lines().count() == 1,
        "{request:?} got {answer:?}"
    );
    assert!(
        answer.contains(reason),
        "{request:?} got {answer:?}, expected {reason:?}"
    );
    assert!(!answer.contains("CANARY"), "{request:?} leaked the canary");
}

#[test]
fn refuses_paths_outside_the_root() {
    let scratch = scratch_with_canary();
    let canary = scratch.path().join("canary.txt");
    let canary = canary.to_str().unwrap();
    let mut server = server(&scratch.path().join("root"), &[]);

    let attempts: Vec<(String, &str)> = vec![
        ("../canary.txt".into(), "outside the root"),
        ("a/../../canary.txt".into(), "outside the root"),
        ("docs/../../canary.txt".into(), "outside the root"),
        ("./../canary.txt".into(), "outside the root"),
        ("..".into(), "outside the root"),
        ("docs/..".into(), "outside the root"),
        (canary.into(), "absolute path"),
        ("/etc/passwd".into(), "absolute path"),
        ("//etc/passwd".into(), "absolute path"),
        ("..\\canary.txt".into(), "backslash"),
        ("docs\\..\\..\\canary.txt".into(), "backslash"),
        ("\\\\server\\share\\canary.txt".into(), "absolute path"),
        ("C:\\Windows\\win.ini".into(), "absolute path"),
        ("C:canary.txt".into(), "absolute path"),
        ("a.txt:stream".into(), "colon"),
        ("a.txt\0../../canary.txt".into(), "control character"),
        ("\u{1b}[2J../canary.txt".into(), "control character"),
        ("..%2fcanary.txt".into(), "no such file"),
        ("~/canary.txt".into(), "no such file"),
        ("x".repeat(2000), "name too long"),
    ];
    assert!(attempts.len() >= 12);
    for (name, reason) in &attempts {
        let answer = ask(server.addr(), format!("GET {name}\n").as_bytes());
        assert_refused(&answer, reason, name);
    }
    // Each one is logged with its reason, and the server still serves what it should.
    server.wait_for(r#"refused "../canary.txt" from 127.0.0.1:"#);
    server.wait_for(": outside the root");
    assert_eq!(ask(server.addr(), b"GET a.txt\n"), "OK 15\ninside the root");
}

#[test]
fn the_log_shows_the_refused_name_and_why() {
    let scratch = scratch_with_canary();
    let mut server = server(&scratch.path().join("root"), &[]);
    ask(server.addr(), b"GET ../x\n");
    let line = server.wait_for("refused");
    assert!(
        line.starts_with(r#"refused "../x" from 127.0.0.1:"#)
            && line.ends_with(": outside the root"),
        "{line}"
    );
    // Control characters cannot forge log lines: they are shown escaped.
    ask(server.addr(), b"GET a\x1b[31mred\n");
    let line = server.wait_for("refused");
    assert!(line.contains(r#""a\u{1b}[31mred""#), "{line}");
}

#[test]
fn a_client_naming_a_file_outside_the_root_gets_an_error_and_no_file() {
    let scratch = scratch_with_canary();
    let downloads = scratch.dir("downloads");
    let server = server(&scratch.path().join("root"), &[]);
    client(server.addr(), &downloads, &["../canary.txt"])
        .assert()
        .code(1)
        .stdout(contains("received: ERR outside the root\n"))
        .stderr(contains(
            r#"error: the server refused "../canary.txt": outside the root"#,
        ));
    client(server.addr(), &downloads, &["/etc/passwd"])
        .assert()
        .code(1)
        .stderr(contains("absolute path"));
    assert!(
        names_in(&downloads).is_empty(),
        "{:?}",
        names_in(&downloads)
    );
}

#[test]
fn a_missing_file_is_an_error_and_creates_nothing() {
    let scratch = scratch_with_canary();
    let downloads = scratch.dir("downloads");
    let mut server = server(&scratch.path().join("root"), &[]);
    client(server.addr(), &downloads, &["missing.txt"])
        .assert()
        .code(1)
        .stdout(contains("received: ERR no such file\n"))
        .stderr(contains(
            r#"error: the server refused "missing.txt": no such file"#,
        ));
    assert!(
        names_in(&downloads).is_empty(),
        "{:?}",
        names_in(&downloads)
    );
    server.wait_for(r#"refused "missing.txt" from 127.0.0.1:"#);
}

#[test]
fn directories_are_not_files() {
    let scratch = scratch_with_canary();
    let server = server(&scratch.path().join("root"), &[]);
    for name in ["docs", "docs/", ".", "./"] {
        assert_refused(
            &ask(server.addr(), format!("GET {name}\n").as_bytes()),
            "not a file",
            name,
        );
    }
}

#[test]
fn malformed_requests_get_err() {
    let scratch = scratch_with_canary();
    let server = server(&scratch.path().join("root"), &[]);
    for (request, reason) in [
        (&b"PUT a.txt\n"[..], "unknown request"),
        (b"get a.txt\n", "unknown request"),
        (b"\n", "unknown request"),
        (b"GET \n", "empty name"),
        (b"GET \xff\xfe\n", "not UTF-8"),
        (b"GET a.txt 99999999999999999999999\n", "bad offset"),
        (b"GET a.txt 16\n", "offset 16 is past the end (15 bytes)"),
    ] {
        let shown = String::from_utf8_lossy(request);
        assert_refused(&ask(server.addr(), request), reason, &shown);
    }
    // A request line may end in \r\n (telnet), and an offset at the very end is an empty body.
    assert_eq!(ask(server.addr(), b"GET a.txt 15\r\n"), "OK 0 15\n");
    assert_eq!(ask(server.addr(), b"GET a.txt 11\n"), "OK 4 11\nroot");
}

#[test]
fn a_request_over_4_kib_is_refused() {
    let scratch = scratch_with_canary();
    let mut server = server(&scratch.path().join("root"), &[]);
    let request = format!("GET {}\n", "a".repeat(5 * 1024));
    assert_refused(
        &ask(server.addr(), request.as_bytes()),
        "request too long (over 4096 bytes)",
        "5 KiB",
    );
    // Even without any newline at all.
    let endless = vec![b'a'; 64 * 1024];
    assert_refused(
        &ask(server.addr(), &endless),
        "request too long",
        "64 KiB, no newline",
    );
    server.wait_for("refused a request from 127.0.0.1:");
}

#[test]
fn a_silent_connection_is_closed_after_the_request_timeout() {
    let scratch = scratch_with_canary();
    let mut server = server(&scratch.path().join("root"), &["--request-timeout", "0.5"]);
    let started = Instant::now();
    let answer = ask(server.addr(), b"");
    assert_refused(&answer, "no complete request within 0.5 s", "nothing");
    assert!(started.elapsed() < WAIT);
    server.wait_for("no complete request within 0.5 s");
}

#[test]
fn a_request_dripped_byte_by_byte_is_cut_at_the_deadline() {
    let scratch = scratch_with_canary();
    let server = server(&scratch.path().join("root"), &["--request-timeout", "0.5"]);
    let mut stream = connect(server.addr());
    let mut writer = stream.try_clone().unwrap();
    // A byte every 100 ms: each read succeeds, but the line never completes in time.
    let dripping = thread::spawn(move || {
        for _ in 0..50 {
            if writer.write_all(b"G").is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(100));
        }
    });
    let started = Instant::now();
    let mut answer = Vec::new();
    // The server may reset the connection after its ERR, as the dripping goes on.
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("ERR no complete request within 0.5 s"),
        "{answer:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    drop(stream);
    dripping.join().unwrap();
}

#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_root_is_refused() {
    use std::os::unix::fs::symlink;
    let scratch = scratch_with_canary();
    let root = scratch.path().join("root");
    symlink(scratch.path().join("canary.txt"), root.join("innocent.txt")).unwrap();
    symlink(scratch.path(), root.join("door")).unwrap();
    symlink("/etc/passwd", root.join("passwd")).unwrap();
    let mut server = server(&root, &[]);
    for name in ["innocent.txt", "door/canary.txt", "passwd"] {
        assert_refused(
            &ask(server.addr(), format!("GET {name}\n").as_bytes()),
            "outside the root",
            name,
        );
    }
    server.wait_for(r#"refused "innocent.txt" from 127.0.0.1:"#);
    // LIST does not show them either.
    let listing = ask(server.addr(), b"LIST\n");
    assert_eq!(listing, "OK 9\n15\ta.txt\n");
}

#[cfg(unix)]
#[test]
fn a_symlink_that_stays_inside_the_root_is_served() {
    use std::os::unix::fs::symlink;
    let scratch = scratch_with_canary();
    let root = scratch.path().join("root");
    symlink("a.txt", root.join("alias.txt")).unwrap();
    symlink("../a.txt", root.join("docs/up.txt")).unwrap();
    let server = server(&root, &[]);
    assert_eq!(
        ask(server.addr(), b"GET alias.txt\n"),
        "OK 15\ninside the root"
    );
    assert_eq!(
        ask(server.addr(), b"GET docs/up.txt\n"),
        "OK 15\ninside the root"
    );
}

#[test]
fn a_silent_connection_does_not_hold_up_a_download() {
    let scratch = scratch_with_canary();
    let downloads = scratch.dir("downloads");
    // The default request timeout: 5 s.
    let server = server(&scratch.path().join("root"), &[]);
    let _silent = connect(server.addr());
    let started = Instant::now();
    client(server.addr(), &downloads, &["a.txt"])
        .assert()
        .success();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the download waited for the silent client: {:?}",
        started.elapsed()
    );
}

#[test]
fn past_max_clients_the_server_says_busy_then_recovers() {
    let scratch = scratch_with_canary();
    let downloads = scratch.dir("downloads");
    let mut server = server(&scratch.path().join("root"), &["--max-clients", "1"]);
    let silent = connect(server.addr());
    client(server.addr(), &downloads, &["a.txt"])
        .assert()
        .code(1)
        .stderr(contains("busy: 1 downloads running, try again later"));
    server.wait_for("busy");
    drop(silent);
    server.wait_for("closed the connection without a request");
    // Its place is given back just after that line: until then, the answer is still busy.
    let deadline = std::time::Instant::now() + test_support::testing::WAIT;
    loop {
        let output = client(server.addr(), &downloads, &["a.txt"])
            .output()
            .unwrap();
        if output.status.success() {
            break;
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("busy: 1 downloads running"), "{stderr}");
        assert!(Instant::now() < deadline, "still busy: {stderr}");
    }
}
