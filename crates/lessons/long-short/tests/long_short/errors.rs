//! Failures: a dead port, a server that goes away mid-run, wrong replies, bad arguments, and a
//! restarted server binding its port while TIME_WAIT lasts.
// The helpers below panic like the tests do: in a test, a panic is a failure.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::thread;

use crate::support::{assert_counts, client, server};
use assert_cmd::cargo::cargo_bin_cmd;
use predicates::str::contains;
use test_support::testing::{WAIT, refused_port};

#[test]
fn a_client_pointed_at_a_dead_port_exits_1_saying_so() {
    let refused = refused_port();
    let port = refused.port().to_string();
    for mode in ["long", "short"] {
        let output = cargo_bin_cmd!("long-short")
            .args(["client", "--connect", &port, "--mode", mode, "--count", "5"])
            .timeout(WAIT)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        assert_counts(
            &output.stdout,
            &[("requests", "5"), ("connections", "0"), ("errors", "5")],
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.starts_with(&format!(
                "error: 5 of 5 requests failed; the first: connection refused by 127.0.0.1:{port}"
            )),
            "{stderr}"
        );
        assert!(stderr.contains("start the server first"), "{stderr}");
    }
}

/// A server that echoes `answered` lines, then stops listening and closes the connection(s).
fn server_that_quits_after(
    answered: usize,
    connections: usize,
) -> (
    std::net::SocketAddr,
    thread::JoinHandle<Option<test_support::testing::RefusedPort>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let quitter = thread::spawn(move || {
        let mut open = Vec::new();
        let mut left = answered;
        for _ in 0..connections {
            let (stream, _) = listener.accept().unwrap();
            stream.set_read_timeout(Some(WAIT)).unwrap();
            let mut reader = BufReader::new(stream);
            let per_connection = answered / connections;
            for _ in 0..per_connection {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                reader.get_mut().write_all(line.as_bytes()).unwrap();
                left -= 1;
            }
            open.push(reader);
        }
        assert_eq!(left, 0);
        // Stop listening first, so that the client's next connect is refused, and keep the
        // port refusing until the test joins this thread: no test running beside this one may
        // take it meanwhile.
        test_support::testing::stop_listening(listener);
        let refusing = test_support::testing::keep_refusing(addr.port());
        drop(open);
        refusing
    });
    (addr, quitter)
}

#[test]
fn a_server_that_quits_mid_run_makes_a_long_client_report_errors() {
    let (addr, quitter) = server_that_quits_after(5, 1);
    let output = client(addr, &["--mode", "long", "--count", "20"])
        .output()
        .unwrap();
    let _still_refusing = quitter.join().unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    // Five answered; the sixth lost with the connection; the reconnection refused.
    assert_counts(
        &output.stdout,
        &[("requests", "20"), ("connections", "1"), ("errors", "15")],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: 15 of 20 requests failed; the first: request 5: "),
        "{stderr}"
    );
}

#[test]
fn a_server_that_quits_mid_run_makes_a_short_client_report_errors() {
    let (addr, quitter) = server_that_quits_after(5, 5);
    let output = client(addr, &["--mode", "short", "--count", "20"])
        .output()
        .unwrap();
    let _still_refusing = quitter.join().unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_counts(&output.stdout, &[("requests", "20"), ("errors", "15")]);
    client(addr, &["--mode", "short", "--count", "1"])
        .assert()
        .code(1)
        .stderr(contains("connection refused"));
}

#[test]
fn a_reply_that_is_not_the_echo_is_an_error() {
    // An upper-casing server, like seed 004's: every reply differs from its request.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let upper = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            let reply = line.to_uppercase();
            if reader.get_mut().write_all(reply.as_bytes()).is_err() {
                break;
            }
            line.clear();
        }
    });
    client(addr, &["--mode", "long", "--count", "1", "--size", "4"])
        .assert()
        .code(1)
        .stdout(contains("errors=1"))
        .stderr(contains(
            r#"the first: request 0: the reply is not the echo of the 4-byte request: got 4 bytes: "ABC\n""#,
        ));
    upper.join().unwrap();
}

#[test]
fn a_server_that_never_replies_times_out() {
    // Connections wait in the listen queue; nobody accepts or answers them.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    client(
        silent.local_addr().unwrap(),
        &["--mode", "long", "--count", "2", "--timeout", "0.2"],
    )
    .assert()
    .code(1)
    .stdout(contains("errors=2"))
    .stderr(contains("request 0: no reply within 0.2 s"));
}

#[test]
fn port_already_in_use() {
    let running = server(&[]);
    let taken = running.addr().to_string();
    cargo_bin_cmd!("long-short")
        .args(["server", "--listen", &taken])
        .timeout(WAIT)
        .assert()
        .code(1)
        .stderr(contains(format!("error: {taken} is already in use")));
}

#[test]
fn bad_arguments_exit_2_naming_the_value() {
    for (args, named) in [
        (
            &["client", "--mode", "medium", "--count", "1"][..],
            "medium",
        ),
        (&["client", "--mode", "long", "--count", "0"], "0"),
        (&["client", "--mode", "long", "--count", "many"], "many"),
        (
            &[
                "client", "--mode", "long", "--count", "1", "--size", "65537",
            ],
            "65537",
        ),
        (
            &["client", "--mode", "long", "--count", "1", "--size", "0"],
            "--size",
        ),
        (
            &[
                "client",
                "--mode",
                "long",
                "--count",
                "1",
                "--concurrency",
                "0",
            ],
            "--concurrency",
        ),
        (
            &[
                "client",
                "--mode",
                "long",
                "--count",
                "1",
                "--connect",
                "127.0.0.1:99999",
            ],
            "99999",
        ),
        (&["client", "--count", "1"], "--mode"),
        (&["server", "--workers", "0"], "--workers"),
        (&["server", "--idle", "soon"], "soon"),
        (&["server", "--threads", "fork"], "fork"),
        (&["demo", "--count", "0"], "--count"),
    ] {
        cargo_bin_cmd!("long-short")
            .args(args)
            .timeout(WAIT)
            .assert()
            .code(2)
            .stderr(contains(named));
    }
}

/// A connection that the server closes first (an over-long request), so that the server's
/// side of it waits in TIME_WAIT on the server's port after the server is gone. (Its tests do not
/// run on Windows, where the lesson leaves SO_REUSEADDR off.)
#[cfg(not(windows))]
fn leave_time_wait_on_the_server_side(server: &mut test_support::testing::Running) {
    use std::io::Read;
    let mut stream = test_support::testing::connect(server.addr());
    stream.write_all(&vec![b'x'; 70_000]).unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).unwrap();
    assert!(reply.starts_with(b"error: request over"));
    drop(stream);
    server.wait_for("refused, connection closed");
}

#[cfg(not(windows))]
#[test]
fn with_so_reuseaddr_a_restarted_server_binds_despite_time_wait() {
    let mut first = server(&[]);
    let addr = first.addr().to_string();
    leave_time_wait_on_the_server_side(&mut first);
    drop(first);
    // The same port at once: a server started with port 0 keeps it across restarts here.
    let second = crate::support::server_on(&addr, &[]);
    assert_eq!(second.addr().to_string(), addr);
}

#[cfg(target_os = "linux")]
#[test]
fn without_so_reuseaddr_a_restarted_server_cannot_bind_while_time_wait_lasts() {
    let mut first = server(&["--no-reuseaddr"]);
    let addr = first.addr().to_string();
    leave_time_wait_on_the_server_side(&mut first);
    drop(first);
    cargo_bin_cmd!("long-short")
        .args(["server", "--no-reuseaddr", "--listen", &addr])
        .timeout(WAIT)
        .assert()
        .code(1)
        .stderr(contains(format!("error: {addr} is already in use")));
}

#[test]
fn a_silent_server_costs_one_timeout_per_worker_not_one_per_request() {
    // A server that accepts and reads but never answers; it closes when the client does, so
    // the client's count of TIME_WAIT after the run need not wait for a FIN that never comes.
    // Waiting 0.5 s for each of 100 requests would take 50 s: the first silence gives up the
    // rest.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let listening = silent.try_clone().unwrap();
    thread::spawn(move || {
        for mut stream in listening.incoming().flatten() {
            thread::spawn(move || std::io::copy(&mut stream, &mut std::io::sink()));
        }
    });
    // Both modes side by side, against the same silent server.
    let silent = &silent;
    std::thread::scope(|modes| {
        for mode in ["long", "short"] {
            modes.spawn(move || {
                let started = std::time::Instant::now();
                client(
                    silent.local_addr().unwrap(),
                    &["--mode", mode, "--count", "100", "--timeout", "0.5"],
                )
                .assert()
                .code(1)
                .stdout(contains("errors=100"))
                .stderr(contains(
                    "100 of 100 requests failed; the first: request 0: no reply within 0.5 s",
                ));
                assert!(
                    started.elapsed() < std::time::Duration::from_secs(5),
                    "{mode}: {:?}",
                    started.elapsed()
                );
            });
        }
    });
}

#[test]
fn a_server_that_trickles_its_reply_costs_one_timeout_not_one_per_byte() {
    // A byte every 100 ms, never a newline: every read returns before --timeout, so only a
    // deadline for the whole reply ends the wait.
    let trickling =
        test_support::hostile::TricklingServer::start(std::time::Duration::from_millis(100));
    let started = std::time::Instant::now();
    client(
        trickling.addr(),
        &["--mode", "long", "--count", "100", "--timeout", "1"],
    )
    .assert()
    .code(1)
    .stdout(contains("errors=100"))
    .stderr(contains("the first: request 0: no reply within 1 s"));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
