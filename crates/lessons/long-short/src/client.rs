//! The measuring client. Seed 001 §5.8 in code: `--mode short` opens a connection for every
//! request (① connect, ③ send, ④ recv, ⑤ close); `--mode long` opens one connection per worker
//! thread and sends all of that worker's requests over it (⑥ more reads and writes, ⑦ close at
//! the end). Every reply is checked byte for byte and every request is timed; `measurement.rs`
//! adds the times up.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::ops::Range;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use clap::Args;
use common::cli::{TraceArg, parse_seconds};
use common::framing::Pending;
use common::net::{connect_error, is_timeout};
use common::{Addr, Console};

use crate::measurement::{Measurement, Mode, Tally};
use crate::time_wait;

/// How many bytes one recv may return.
const CHUNK: usize = 16 * 1024;

/// Enough to hold the server's error line whole, however small the requests.
const MAX_ERROR_LINE: usize = 1024;

/// `long-short client`: what to send, how, and how many at once.
#[derive(Args, Clone, Debug)]
pub struct Options {
    /// The server: HOST:PORT, [IPV6]:PORT or PORT
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8081")]
    pub connect: Addr,

    /// long: one connection per worker for all its requests; short: a new connection per request
    #[arg(long, value_enum)]
    pub mode: Mode,

    /// How many requests to send in all
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub count: u32,

    /// Bytes per request, its newline included (the server takes up to 65536)
    #[arg(long, value_name = "BYTES", default_value = "64",
          value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub size: u32,

    /// How many workers send at once, each on its own thread with its own connection(s)
    #[arg(long, value_name = "C", default_value = "1",
          value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub concurrency: u16,

    /// Seconds to wait for each connection and each reply before counting the request failed
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = parse_seconds)]
    pub timeout: Duration,

    #[command(flatten)]
    pub trace: TraceArg,
}

/// `long-short client`: measure, print the summary line (and TIME_WAIT after a short run);
/// fail if any request failed.
pub fn run(options: &Options, console: Console) -> anyhow::Result<()> {
    // A host name that stands for several addresses: the first one is measured.
    let server = options.connect.resolve_one()?;
    let measurement = measure(server, options, console);
    console.say(measurement.summary());
    if options.mode == Mode::Short {
        console.say(time_wait::report(server));
    }
    measurement.check()
}

// ANCHOR: measure
/// Sends `--count` requests from `--concurrency` worker threads and times each request.
pub fn measure(server: SocketAddr, options: &Options, console: Console) -> Measurement {
    let count = u64::from(options.count);
    let workers = u64::from(options.concurrency).min(count);
    let started = Instant::now();
    let tallies: Vec<Tally> = thread::scope(|scope| {
        let mut running = Vec::new();
        let mut next = 0;
        for worker in 0..workers {
            // Share the requests out: the first `count % workers` workers take one more.
            let share = count / workers + u64::from(worker < count % workers);
            let numbers = next..next + share;
            next += share;
            let work = move || match options.mode {
                Mode::Long => long_connection(server, numbers, options, console),
                Mode::Short => short_connections(server, numbers, options, console),
            };
            running.push((share, thread::Builder::new().spawn_scoped(scope, work)));
        }
        running
            .into_iter()
            .map(|(share, worker)| {
                let outcome = worker
                    .map_err(|error| anyhow!("cannot start a worker thread: {error}"))
                    .and_then(|handle| {
                        handle
                            .join()
                            .map_err(|_| anyhow!("a worker thread panicked"))
                    });
                outcome.unwrap_or_else(|error| Tally::all_failed(share, error))
            })
            .collect()
    });
    Measurement::new(options.mode, count, tallies, started.elapsed())
}
// ANCHOR_END: measure

// ANCHOR: long
/// Seed 001 §5.8.2, a long connection: ① connect once, then ③ send and ④ receive for every
/// request, and ⑦ close after the last one. One handshake, one FIN exchange, for all of them.
fn long_connection(
    server: SocketAddr,
    numbers: Range<u64>,
    options: &Options,
    console: Console,
) -> Tally {
    let mut tally = Tally::default();
    let mut connection = None;
    for number in numbers.clone() {
        let request = request(number, options.size);
        let started = Instant::now();
        let mut open = match connection.take() {
            Some(open) => open,
            None => match connect(server, options, console) {
                Ok(open) => {
                    tally.connections += 1;
                    open
                }
                // Nobody answers: the requests left would fail in the same way.
                Err(error) => {
                    tally.failed(numbers.end - number, error);
                    break;
                }
            },
        };
        match exchange(&mut open, &request, console) {
            Ok(()) => {
                tally.latencies.push(started.elapsed());
                // ⑥ keep the connection for the next request.
                connection = Some(open);
            }
            // A silent server: the requests left would each wait as long. Give them up.
            Err(error) if is_no_reply(&error) => {
                tally.failed(
                    numbers.end - number,
                    error.context(format!("request {number}")),
                );
                break;
            }
            // The connection is in an unknown state: drop it; the next request reconnects.
            Err(error) => tally.failed(1, error.context(format!("request {number}"))),
        }
    }
    // ⑦ close(), once, after the last request.
    if connection.take().is_some() {
        console.trace("close()");
    }
    tally
}
// ANCHOR_END: long

// ANCHOR: short
/// Seed 001 §5.8.1, short connections: for every request ① connect, ③ send, ④ receive,
/// ⑤ close. Each request pays for a handshake and a FIN exchange of its own.
fn short_connections(
    server: SocketAddr,
    numbers: Range<u64>,
    options: &Options,
    console: Console,
) -> Tally {
    let mut tally = Tally::default();
    for number in numbers.clone() {
        let request = request(number, options.size);
        let started = Instant::now();
        // ① ② connect(): a three-way handshake for this one request.
        let mut connection = match connect(server, options, console) {
            Ok(connection) => connection,
            Err(error) => {
                tally.failed(numbers.end - number, error);
                break;
            }
        };
        tally.connections += 1;
        // ③ ④ one request, one reply.
        let outcome = exchange(&mut connection, &request, console);
        // ⑤ close(): the client closes first, as seed 001 says it usually does. The side that
        // closes first is the one whose socket then waits in TIME_WAIT: here, ours.
        drop(connection);
        console.trace("close()");
        match outcome {
            Ok(()) => tally.latencies.push(started.elapsed()),
            // A silent server: the requests left would each wait as long. Give them up.
            Err(error) if is_no_reply(&error) => {
                tally.failed(
                    numbers.end - number,
                    error.context(format!("request {number}")),
                );
                break;
            }
            Err(error) => tally.failed(1, error.context(format!("request {number}"))),
        }
    }
    tally
}
// ANCHOR_END: short

/// The error of a reply that did not come within `--timeout`.
fn no_reply(timeout: Duration) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("no reply within {} s", timeout.as_secs_f64()),
    )
}

/// Whether `error` is [`no_reply`]'s: the server is silent.
fn is_no_reply(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<io::Error>()
        .is_some_and(|error| error.kind() == io::ErrorKind::TimedOut)
}

/// An open connection and the bytes received on it that are not a reply yet.
struct Connection {
    stream: TcpStream,
    pending: Pending,
    chunk: Vec<u8>,
    timeout: Duration,
}

/// ① socket and ② connect, with timeouts on everything that waits for the server.
fn connect(server: SocketAddr, options: &Options, console: Console) -> anyhow::Result<Connection> {
    let stream = TcpStream::connect_timeout(&server, options.timeout).map_err(|error| {
        console.trace(format_args!("connect({server}) -> {error}"));
        if error.kind() == io::ErrorKind::AddrNotAvailable {
            // On loopback this means: no local port left for another connection.
            anyhow!(
                "cannot connect to {server}: {error}: this machine may have run out of local ports, \
                 held by earlier connections in TIME_WAIT; wait a minute, or use fewer short connections"
            )
        } else {
            connect_error(server, error).into()
        }
    })?;
    if console.tracing() {
        let local = stream.local_addr().context("getsockname()")?;
        console.trace(format_args!("connect({server}) -> from {local}"));
    }
    stream.set_read_timeout(Some(options.timeout))?;
    stream.set_write_timeout(Some(options.timeout))?;
    // Each request leaves in one write and we wait for its reply: Nagle's algorithm could
    // only delay it.
    stream.set_nodelay(true)?;
    Ok(Connection {
        stream,
        pending: Pending::default(),
        chunk: vec![0; CHUNK],
        timeout: options.timeout,
    })
}

// ANCHOR: exchange
/// ③ sends one request; ④ receives until the reply's newline, however many recv calls that
/// takes, and checks that the reply is the request, byte for byte.
fn exchange(connection: &mut Connection, request: &[u8], console: Console) -> anyhow::Result<()> {
    let Connection {
        stream,
        pending,
        chunk,
        timeout,
    } = connection;
    stream.write_all(request).context("sending the request")?;
    console.trace(format_args!("sendall({} bytes)", request.len()));
    // The whole reply has --timeout: a server that sends a byte now and then would otherwise
    // keep every read short of its timeout, and hold us for ever.
    let sent = Instant::now();
    let reply = loop {
        if let Some(line) = pending.take_line(request.len().max(MAX_ERROR_LINE)) {
            break line;
        }
        if sent.elapsed() >= *timeout {
            return Err(no_reply(*timeout).into());
        }
        let received = match stream.read(chunk) {
            Ok(received) => received,
            Err(error) if is_timeout(&error) => {
                return Err(no_reply(*timeout).into());
            }
            Err(error) => return Err(error).context("receiving the reply"),
        };
        console.trace(format_args!("recv({}) -> {received} bytes", chunk.len()));
        if received == 0 {
            bail!("the server closed the connection before replying");
        }
        pending.push(&chunk[..received]);
    };
    if reply != request {
        let shown = String::from_utf8_lossy(&reply[..reply.len().min(80)]);
        bail!(
            "the reply is not the echo of the {}-byte request: got {} bytes: {shown:?}",
            request.len(),
            reply.len()
        );
    }
    Ok(())
}
// ANCHOR_END: exchange

/// Request number `number`: `size` bytes, the last one a newline. Neighbouring requests differ,
/// so that a reply to the wrong request is caught.
fn request(number: u64, size: u32) -> Vec<u8> {
    let letters = (0..u64::from(size) - 1).map(|at| b'a' + ((number + at) % 26) as u8);
    letters.chain([b'\n']).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_have_the_size_asked_and_end_in_a_newline() {
        assert_eq!(request(0, 1), b"\n");
        assert_eq!(request(0, 4), b"abc\n");
        assert_eq!(request(1, 4), b"bcd\n");
        assert_eq!(request(25, 3), b"za\n");
    }
}
