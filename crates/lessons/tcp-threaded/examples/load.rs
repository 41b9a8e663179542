//! A load generator for `scripts/bench-threaded.sh`, not part of the lesson: CONNECTIONS clients
//! connect at once, then each sends SIZE-byte lines (default 64) and waits for each echo, until
//! it has sent REQUESTS lines or SECONDS have passed. Prints one line:
//!
//! ```text
//! connections=100 requests=363347 errors=0 seconds=3.01 rps=120905 p50_ms=0.72 p99_ms=1.85 max_ms=27.64
//! ```
//!
//! Usage: `load ADDR CONNECTIONS SECONDS [REQUESTS] [SIZE] [THREADS]`, built by
//! `cargo build --release -p tcp-threaded --example load`. By default every connection has its
//! own thread, like a crowd of independent clients; with fewer THREADS, each thread drives its
//! share of the connections in rounds (still one request in flight per connection), which
//! costs the load generator less CPU. Every wait has a deadline, so it always ends; it talks
//! only to the address it is given (the script gives it 127.0.0.1).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

/// How long one connect or one reply may take before it counts as an error.
const TIMEOUT: Duration = Duration::from_secs(10);

struct Outcome {
    latencies_us: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = (|| -> Option<(SocketAddr, usize, f64, u64, usize, usize)> {
        let connections: usize = args.get(1)?.parse().ok()?;
        Some((
            args.first()?.parse().ok()?,
            connections,
            args.get(2)?.parse().ok()?,
            args.get(3).map_or(Some(u64::MAX), |n| n.parse().ok())?,
            args.get(4).map_or(Some(64), |n| n.parse().ok())?,
            args.get(5).map_or(Some(connections), |n| n.parse().ok())?,
        ))
    })();
    let Some((addr, connections, seconds, requests, size, threads)) = parsed else {
        eprintln!("usage: load ADDR CONNECTIONS SECONDS [REQUESTS] [SIZE] [THREADS]");
        return ExitCode::from(2);
    };
    if connections == 0 || size < 2 || !(0.0..=600.0).contains(&seconds) || threads == 0 {
        eprintln!("error: need CONNECTIONS ≥ 1, SIZE ≥ 2, SECONDS ≤ 600, THREADS ≥ 1");
        return ExitCode::from(2);
    }
    let threads = threads.min(connections);

    let start = Arc::new(Barrier::new(threads + 1));
    let mut handles = Vec::with_capacity(threads);
    for first in 0..threads {
        let start = Arc::clone(&start);
        // Thread `first` drives connections first, first + threads, first + 2 × threads, …
        let numbers: Vec<usize> = (first..connections).step_by(threads).collect();
        // Small stacks: a thousand of these threads need little memory.
        let spawned = thread::Builder::new()
            .stack_size(128 * 1024)
            .spawn(move || drive(addr, &numbers, &start, seconds, requests, size));
        match spawned {
            Ok(handle) => handles.push(handle),
            Err(error) => {
                eprintln!("error: cannot start load thread {first}: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    // Everyone has connected (or failed to): go.
    start.wait();
    let began = Instant::now();
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for handle in handles {
        match handle.join() {
            Ok(outcome) => {
                latencies.extend(outcome.latencies_us);
                errors += outcome.errors;
                first_error = first_error.or(outcome.first_error);
            }
            Err(_) => errors += 1,
        }
    }
    let elapsed = began.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let index = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        f64::from(latencies[index]) / 1000.0
    };
    println!(
        "connections={connections} requests={} errors={errors} seconds={elapsed:.2} rps={:.0} p50_ms={:.2} p99_ms={:.2} max_ms={:.2}",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        percentile(0.50),
        percentile(0.99),
        percentile(1.0),
    );
    if let Some(error) = first_error {
        eprintln!("first error: {error}");
    }
    ExitCode::SUCCESS
}

/// One connection's state in a load thread.
struct Connection {
    stream: TcpStream,
    request: Vec<u8>,
    asked: Instant,
    sent: u64,
}

/// One load thread: connect its connections, then in rounds send one request on each and read
/// each reply, until every connection has sent `requests` or the time is up. Each connection
/// still has one request at a time in flight; only the thread is shared.
fn drive(
    addr: SocketAddr,
    numbers: &[usize],
    start: &Barrier,
    seconds: f64,
    requests: u64,
    size: usize,
) -> Outcome {
    let mut outcome = Outcome {
        latencies_us: Vec::new(),
        errors: 0,
        first_error: None,
    };
    let fail = |outcome: &mut Outcome, what: String| {
        outcome.errors += 1;
        outcome.first_error.get_or_insert(what);
    };
    let mut connections = Vec::with_capacity(numbers.len());
    for &number in numbers {
        let connected = TcpStream::connect_timeout(&addr, TIMEOUT).and_then(|stream| {
            stream.set_read_timeout(Some(TIMEOUT))?;
            stream.set_write_timeout(Some(TIMEOUT))?;
            stream.set_nodelay(true)?;
            Ok(stream)
        });
        match connected {
            Ok(stream) => {
                // A line of `size` bytes that differs from connection to connection.
                let mut request: Vec<u8> = format!("{number:08} ")
                    .bytes()
                    .chain(std::iter::repeat(b'x'))
                    .take(size - 1)
                    .collect();
                request.push(b'\n');
                connections.push(Connection {
                    stream,
                    request,
                    asked: Instant::now(),
                    sent: 0,
                });
            }
            Err(error) => fail(&mut outcome, format!("connect: {error}")),
        }
    }
    start.wait();
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut reply = vec![0u8; size];
    while !connections.is_empty() && Instant::now() < deadline {
        connections.retain_mut(|connection| {
            connection.asked = Instant::now();
            connection.sent += 1;
            match connection.stream.write_all(&connection.request) {
                Ok(()) => true,
                Err(error) => {
                    fail(&mut outcome, format!("send: {error}"));
                    false
                }
            }
        });
        connections.retain_mut(
            |connection| match connection.stream.read_exact(&mut reply) {
                Ok(()) if reply == connection.request => {
                    let micros = connection.asked.elapsed().as_micros();
                    outcome
                        .latencies_us
                        .push(u32::try_from(micros).unwrap_or(u32::MAX));
                    connection.sent < requests
                }
                Ok(()) => {
                    fail(&mut outcome, "a reply differed from its request".into());
                    false
                }
                Err(error) => {
                    fail(&mut outcome, format!("receive: {error}"));
                    false
                }
            },
        );
    }
    outcome
}
