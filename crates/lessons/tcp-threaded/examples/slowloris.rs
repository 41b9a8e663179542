//! Slowloris against a thread-per-connection server, for the chapter's measurement, not part of
//! the lesson: it opens CONNECTIONS connections and holds them, sending nothing, or one byte
//! every TRICKLE seconds (never a newline: never a whole request), and once a second a fresh
//! client asks `probe` and waits up to 2 s for the answer. One line per second:
//!
//! ```text
//! t=3s held=256 probe=busy
//! ```
//!
//! `held` counts the connections the server has neither closed nor answered with a busy line;
//! `probe` is `answered in MS ms`, `busy`, `no answer in 2 s` or `refused`.
//!
//! Usage: `slowloris ADDR CONNECTIONS SECONDS [TRICKLE]`, built by
//! `cargo build --release -p tcp-threaded --example slowloris`. It ends by itself after
//! SECONDS (at most 600), and talks only to the address it is given: use it on 127.0.0.1.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

const PROBE_WAIT: Duration = Duration::from_secs(2);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = (|| -> Option<(SocketAddr, usize, u64, Option<u64>)> {
        let trickle = match args.get(3) {
            Some(seconds) => Some(seconds.parse().ok().filter(|&s| s > 0)?),
            None => None,
        };
        Some((
            args.first()?.parse().ok()?,
            args.get(1)?.parse().ok().filter(|&n| n <= 20_000)?,
            args.get(2)?.parse().ok().filter(|&s| s <= 600)?,
            trickle,
        ))
    })();
    let Some((addr, connections, seconds, trickle)) = parsed else {
        eprintln!(
            "usage: slowloris ADDR CONNECTIONS SECONDS [TRICKLE]   (CONNECTIONS ≤ 20000, SECONDS ≤ 600)"
        );
        return ExitCode::from(2);
    };

    // Open them all, one after another, as fast as the server accepts.
    let mut held: Vec<TcpStream> = Vec::with_capacity(connections);
    for _ in 0..connections {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            Ok(stream) if stream.set_nonblocking(true).is_ok() => held.push(stream),
            Ok(_) => {}
            Err(error) => {
                eprintln!("connect failed after {} connections: {error}", held.len());
                break;
            }
        }
    }

    let started = Instant::now();
    for second in 0..=seconds {
        // Drop the connections the server closed or turned away.
        held.retain_mut(still_held);
        if let Some(every) = trickle
            && second > 0
            && second % every == 0
        {
            held.retain_mut(|stream| stream.write(b"x").is_ok());
        }
        println!("t={second}s held={} probe={}", held.len(), probe(addr));
        let next = Duration::from_secs(second + 1);
        if let Some(wait) = next.checked_sub(started.elapsed()) {
            thread::sleep(wait);
        }
    }
    ExitCode::SUCCESS
}

/// Whether the server still holds this connection open without having sent it anything but
/// the echo of our trickle: a busy line or the end of the stream means it let go.
fn still_held(stream: &mut TcpStream) -> bool {
    let mut arrived = [0u8; 256];
    match stream.read(&mut arrived) {
        Ok(0) => false,
        Ok(count) => !arrived[..count].starts_with(b"busy"),
        Err(error) => error.kind() == ErrorKind::WouldBlock,
    }
}

/// A well-behaved client: connect, ask `probe`, wait for the answer.
fn probe(addr: SocketAddr) -> String {
    let started = Instant::now();
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, PROBE_WAIT) else {
        return "refused".into();
    };
    let _ = stream.set_read_timeout(Some(PROBE_WAIT));
    if stream.write_all(b"probe\n").is_err() {
        return "refused".into();
    }
    let mut reply = [0u8; 64];
    match stream.read(&mut reply) {
        Ok(count) if reply[..count].starts_with(b"probe") => {
            format!(
                "answered in {:.1} ms",
                started.elapsed().as_secs_f64() * 1e3
            )
        }
        Ok(count) if reply[..count].starts_with(b"busy") => "busy".into(),
        Ok(_) => "closed".into(),
        Err(_) => format!("no answer in {} s", PROBE_WAIT.as_secs()),
    }
}
