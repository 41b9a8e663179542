//! A load generator for `scripts/bench-c10k-async.sh`, not part of the lesson. First HELD
//! connections are opened (at most 256 connecting at once), each sends one line and checks its
//! echo, and then stays open and silent; then, beside them, ACTIVE connections each send 64-byte
//! lines and wait for each echo, for SECONDS. Prints two lines:
//!
//! ```text
//! held=10000 errors=0 seconds=1.52
//! active=100 requests=250000 errors=0 seconds=5.00 rps=50000 p50_ms=1.90 p99_ms=4.10 max_ms=12.00
//! ```
//!
//! Usage: `c10k ADDR HELD ACTIVE SECONDS`, built by
//! `cargo build --release -p tcp-async --example c10k`. One thread runs every connection (a
//! tokio runtime with one worker), so the generator takes one core and the server the other.
//! Every wait has a deadline; it talks only to the address it is given (the script gives it
//! 127.0.0.1). Exit 1 on any error.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::time::{Instant, timeout};

/// How long one connect or one reply may take before it counts as an error.
const TIMEOUT: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = (|| -> Option<(SocketAddr, usize, usize, f64)> {
        Some((
            args.first()?.parse().ok()?,
            args.get(1)?.parse().ok()?,
            args.get(2)?.parse().ok()?,
            args.get(3)?.parse().ok()?,
        ))
    })();
    let Some((addr, held, active, seconds)) = parsed else {
        eprintln!("usage: c10k ADDR HELD ACTIVE SECONDS");
        return ExitCode::from(2);
    };
    if !(0.1..=600.0).contains(&seconds) || active == 0 {
        eprintln!("error: need ACTIVE ≥ 1 and SECONDS from 0.1 to 600");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: starting the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let errors = runtime.block_on(run(addr, held, active, Duration::from_secs_f64(seconds)));
    runtime.shutdown_background();
    if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Connects, sends `line`, checks the echo; the connection stays open.
async fn hold(addr: SocketAddr, line: String) -> Result<TcpStream, String> {
    let mut stream = timeout(TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| "connect timed out".to_owned())?
        .map_err(|error| format!("connect: {error}"))?;
    let echo = timeout(TIMEOUT, async {
        stream.write_all(line.as_bytes()).await?;
        let mut echo = String::new();
        BufReader::new(&mut stream).read_line(&mut echo).await?;
        std::io::Result::Ok(echo)
    })
    .await
    .map_err(|_| "no echo in time".to_owned())?
    .map_err(|error| format!("echo: {error}"))?;
    if echo != line {
        return Err(format!("sent {line:?}, got {echo:?}"));
    }
    Ok(stream)
}

async fn run(addr: SocketAddr, held: usize, active: usize, seconds: Duration) -> u64 {
    // Phase 1: the crowd that connects and then says nothing.
    let started = Instant::now();
    let connecting = Arc::new(Semaphore::new(256));
    let handles: Vec<_> = (0..held)
        .map(|number| {
            let connecting = Arc::clone(&connecting);
            tokio::spawn(async move {
                let _permit = connecting.acquire_owned().await;
                hold(addr, format!("held {number}\n")).await
            })
        })
        .collect();
    let mut streams = Vec::with_capacity(held);
    let mut held_errors = 0u64;
    let mut first_error = None;
    for handle in handles {
        match handle.await {
            Ok(Ok(stream)) => streams.push(stream),
            Ok(Err(error)) => {
                held_errors += 1;
                first_error.get_or_insert(error);
            }
            Err(error) => {
                held_errors += 1;
                first_error.get_or_insert(error.to_string());
            }
        }
    }
    println!(
        "held={} errors={held_errors} seconds={:.2}",
        streams.len(),
        started.elapsed().as_secs_f64()
    );

    // Phase 2: the active few, beside the silent crowd.
    let started = Instant::now();
    let deadline = started + seconds;
    let workers: Vec<_> = (0..active)
        .map(|number| {
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut stream = hold(addr, format!("active {number}\n")).await?;
                let (reader, mut writer) = stream.split();
                let mut reader = BufReader::new(reader);
                let mut line = format!("{number:>8} ").repeat(7);
                line.truncate(63);
                line.push('\n');
                let mut echo = String::new();
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    echo.clear();
                    let answered = timeout(TIMEOUT, async {
                        writer.write_all(line.as_bytes()).await?;
                        reader.read_line(&mut echo).await
                    })
                    .await;
                    match answered {
                        Ok(Ok(_)) if echo == line => {
                            latencies.push(sent.elapsed().as_micros() as u32);
                        }
                        Ok(Ok(_)) => return Err(format!("wrong echo {echo:?}")),
                        Ok(Err(error)) => return Err(format!("request: {error}")),
                        Err(_) => return Err("no echo in time".to_owned()),
                    }
                }
                Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0u64;
    for worker in workers {
        match worker.await {
            Ok(Ok(mut some)) => latencies.append(&mut some),
            Ok(Err(error)) => {
                errors += 1;
                first_error.get_or_insert(error);
            }
            Err(error) => {
                errors += 1;
                first_error.get_or_insert(error.to_string());
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let at = |fraction: f64| {
        latencies
            .get(
                ((latencies.len() as f64 * fraction) as usize)
                    .min(latencies.len().saturating_sub(1)),
            )
            .map_or(0.0, |&us| f64::from(us) / 1000.0)
    };
    println!(
        "active={active} requests={} errors={errors} seconds={elapsed:.2} rps={:.0} p50_ms={:.2} p99_ms={:.2} max_ms={:.2}",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        at(0.50),
        at(0.99),
        latencies.last().map_or(0.0, |&us| f64::from(us) / 1000.0),
    );
    if let Some(error) = first_error {
        eprintln!("first error: {error}");
    }
    drop(streams);
    held_errors + errors
}
