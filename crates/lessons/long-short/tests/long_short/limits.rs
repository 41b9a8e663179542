//! A thread per connection needs a limit: held connections must not make the server start
//! threads without end. Past `--max-connections`, a client reads `busy, try again later` and
//! the end of the stream, in both thread models.
// The helpers below panic like the tests do: in a test, a panic is a failure.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};

use crate::support::{assert_counts, client, server};
use test_support::testing::connect;

/// A connection the server has taken in: it answered a request on it.
fn held_connection(addr: SocketAddr) -> BufReader<TcpStream> {
    let mut stream = connect(addr);
    stream.write_all(b"hold\n").unwrap();
    let mut reader = BufReader::new(stream);
    assert_eq!(next_line(&mut reader), "hold\n");
    reader
}

fn next_line(reader: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    line
}

/// How many threads the process runs now (Linux only: elsewhere `None`).
fn threads_of(pid: u32) -> Option<usize> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|count| count.trim().parse().ok())
}

#[test]
fn past_max_connections_a_client_reads_busy_then_the_end_in_both_thread_models() {
    for threads in ["pool", "spawn"] {
        let mut server = server(&["--threads", threads, "--max-connections", "3", "--verbose"]);
        let held: Vec<_> = (0..3).map(|_| held_connection(server.addr())).collect();
        // Thirty more, each sending a request at once: every one is turned away, and none of
        // them loses the busy line to a reset.
        for _ in 0..30 {
            let mut stream = connect(server.addr());
            stream.write_all(b"me too\n").unwrap();
            let mut reader = BufReader::new(stream);
            assert_eq!(
                next_line(&mut reader),
                "busy, try again later\n",
                "{threads}"
            );
            assert_eq!(
                next_line(&mut reader),
                "",
                "{threads}: then the end of the stream"
            );
        }
        let line = server.wait_for("busy: turned");
        assert!(
            line.ends_with("away (3 open, --max-connections 3)"),
            "{threads}: {line}"
        );
        // Held connections cost a thread each, turned-away ones none for long: the main
        // thread, the reporter, 8 idle workers (pool), and the three held.
        if let Some(count) = threads_of(server.id()) {
            let most = 2 + 8 + 3;
            let deadline = std::time::Instant::now() + test_support::testing::WAIT;
            let mut now = count;
            while now > most && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(50));
                now = threads_of(server.id()).unwrap_or(0);
            }
            assert!(
                now <= most,
                "{threads}: {now} threads for 3 held connections"
            );
        }
        // They leave: there is room again, once the server has seen them go.
        drop(held);
        for _ in 0..3 {
            server.wait_for("closed the connection after 1 request(s)");
        }
        // Each place is given back just after that line: until then, the answer is busy.
        let deadline = std::time::Instant::now() + test_support::testing::WAIT;
        let output = loop {
            let output = client(server.addr(), &["--mode", "short", "--count", "3"])
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            if output.status.success() || !stderr.contains("busy, try again later") {
                break output;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{threads}: still busy"
            );
        };
        assert!(output.status.success(), "{threads}: {output:?}");
        assert_counts(&output.stdout, &[("errors", "0")]);
    }
}

#[test]
fn the_client_names_the_busy_reply() {
    let server = server(&["--max-connections", "1"]);
    let _held = held_connection(server.addr());
    let output = client(server.addr(), &["--mode", "long", "--count", "2"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("busy, try again later"), "{stderr}");
}
