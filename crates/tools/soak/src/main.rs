//! # soak: a bounded, seeded soak of the TCP lessons' servers
//!
//! Starts a server from the command line given after `--`, reads its `listening on ADDR`, and
//! runs two phases against it. A warm-up: a tenth of the short connections, and the long ones
//! with a few messages each. Then the rest: the other short connections (one message, or one
//! download, each) beside the long ones, all open at once, each with many messages. Every reply
//! is checked byte for byte. On Linux the server's resident memory (VmRSS) after the warm-up and
//! at the end must stay within a factor of two: a server that leaks per connection or per
//! message fails. Every random choice comes from `--seed`, so a failing run can be repeated.
//!
//! ```text
//! cargo build --release -p soak -p tcp-threaded
//! target/release/soak --protocol echo -- target/release/tcp-threaded server --listen 127.0.0.1:0
//! target/release/soak --protocol echo --connect 127.0.0.1:9999 --pid 4242   # one already running
//! bash scripts/soak.sh        # the four TCP servers, as CI runs them
//! ```
//!
//! It prints one line: connections, replies checked, errors, time, and memory. Exit 1 on any
//! error, on a server that exited or panicked, or on memory that grew past twice its warm-up size.

mod download;
mod echo;
mod rng;
mod server;

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use common::cli::parse_seconds;

use crate::download::Files;
use crate::rng::Rng;
use crate::server::Server;

/// A bounded soak of one TCP server: many short connections, many long ones, every reply checked.
#[derive(Parser)]
#[command(name = "soak", version)]
struct Options {
    /// What the server speaks: echo (tcp-echo, tcp-threaded, long-short) or download (file-downloader)
    #[arg(long, value_enum)]
    protocol: Protocol,

    /// The seed of every random choice: the same seed makes the same run
    #[arg(long, default_value = "1")]
    seed: u64,

    /// Short connections in all, a tenth of them in the warm-up
    #[arg(long, value_name = "N", default_value = "10000")]
    short: usize,

    /// Long connections open at once (in the warm-up, and again after it)
    #[arg(long, value_name = "N", default_value = "100")]
    long: usize,

    /// Messages on each long connection after the warm-up (echo)
    #[arg(long, value_name = "N", default_value = "30")]
    messages: usize,

    /// Threads making the short connections
    #[arg(long, value_name = "N", default_value = "4")]
    workers: usize,

    /// The server serves one client at a time (tcp-echo): the long connections wait their turn in
    /// the listen queue, so they come after the short ones instead of beside them
    #[arg(long)]
    one_at_a_time: bool,

    /// Where to write the files to download: the server's --root (--protocol download)
    #[arg(long, value_name = "DIR", required_if_eq("protocol", "download"))]
    root: Option<PathBuf>,

    /// How long any connect, read or write may wait
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = parse_seconds)]
    timeout: Duration,

    /// The server's name on the summary line (default: its program's name, or its address)
    #[arg(long)]
    name: Option<String>,

    /// Soak a server that is already running there, instead of starting one
    #[arg(long, value_name = "ADDR", conflicts_with = "command")]
    connect: Option<SocketAddr>,

    /// With --connect: the server's process id, to watch its memory
    #[arg(long, value_name = "PID", requires = "connect")]
    pid: Option<u32>,

    /// The server's command line; its first line must be `listening on ADDR`
    #[arg(
        last = true,
        value_name = "SERVER COMMAND",
        required_unless_present = "connect"
    )]
    command: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Protocol {
    /// Lines echoed back: tcp-echo, tcp-threaded, long-short
    Echo,
    /// GET name [offset] → OK length + bytes: file-downloader
    Download,
}

/// What the connections do.
enum Work<'a> {
    Echo { messages: usize },
    Download(&'a Files),
}

/// What happened, added up over every thread.
#[derive(Default)]
struct Tally {
    connections: AtomicU64,
    replies: AtomicU64,
    errors: AtomicU64,
    first_errors: Mutex<Vec<String>>,
}

impl Tally {
    fn record(&self, result: Result<u64, String>) {
        self.connections.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(replies) => {
                self.replies.fetch_add(replies, Ordering::Relaxed);
            }
            Err(error) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut first) = self.first_errors.lock()
                    && first.len() < 5
                {
                    first.push(error);
                }
            }
        }
    }
}

fn main() -> ExitCode {
    let options = Options::parse();
    match soak(&options) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("soak: error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The whole run. `Ok(false)`: it ran, and found errors.
fn soak(options: &Options) -> Result<bool, String> {
    let name = match (&options.name, options.connect, options.command.first()) {
        (Some(name), _, _) => name.clone(),
        (None, Some(addr), _) => addr.to_string(),
        (None, None, Some(program)) => PathBuf::from(program).file_stem().map_or_else(
            || program.clone(),
            |stem| stem.to_string_lossy().into_owned(),
        ),
        (None, None, None) => "the server".to_owned(),
    };
    let seed = Rng::new(options.seed);
    let files = match (options.protocol, &options.root) {
        (Protocol::Download, Some(root)) => Some(Files::create(root, &seed)?),
        _ => None,
    };
    let mut server = match options.connect {
        Some(addr) => Server::attach(addr, options.pid),
        None => Server::start(&options.command, options.timeout)?,
    };
    let started = Instant::now();
    let tally = Tally::default();
    let warm_up_shorts = options.short / 10;

    // The warm-up: the server's threads, buffers and allocator arenas reach their working size.
    let warm_up = match &files {
        Some(files) => Work::Download(files),
        None => Work::Echo {
            messages: options.messages.div_ceil(6),
        },
    };
    phase(
        options,
        &warm_up,
        server.addr,
        0..warm_up_shorts,
        0,
        &seed,
        &tally,
    );
    let rss_warm = settled_rss(&server);

    let work = match &files {
        Some(files) => Work::Download(files),
        None => Work::Echo {
            messages: options.messages,
        },
    };
    let shorts = warm_up_shorts..options.short;
    phase(
        options,
        &work,
        server.addr,
        shorts,
        options.long,
        &seed,
        &tally,
    );
    let rss_end = settled_rss(&server);
    let elapsed = started.elapsed();

    let mut ok = tally.errors.load(Ordering::Relaxed) == 0;
    let memory = match (rss_warm, rss_end) {
        (Some(warm), Some(end)) => {
            let ratio = end as f64 / warm.max(1) as f64;
            ok &= ratio <= 2.0;
            format!(
                "RSS {} after the warm-up, {} at the end ({ratio:.2}x, at most 2x)",
                mib(warm),
                mib(end)
            )
        }
        _ if !cfg!(target_os = "linux") => {
            "RSS not checked (it is read from /proc, on Linux only)".to_owned()
        }
        _ => "RSS not checked (the server's process id is not known: --pid)".to_owned(),
    };
    if let Some(trouble) = server.trouble() {
        ok = false;
        eprintln!("soak: {name}: {trouble}");
    }
    if let Ok(first) = tally.first_errors.lock() {
        for error in first.iter() {
            eprintln!("soak: {name}: error: {error}");
        }
    }
    let connections = tally.connections.load(Ordering::Relaxed);
    println!(
        "soak {name}: {connections} connections ({} short, {} long), {} replies checked, {} errors, {:.1} s; {memory}",
        options.short,
        2 * options.long,
        tally.replies.load(Ordering::Relaxed),
        tally.errors.load(Ordering::Relaxed),
        elapsed.as_secs_f64(),
    );
    if !ok {
        eprintln!(
            "soak: {name} failed (repeat it with --seed {}); the server's last lines:\n{}",
            options.seed,
            server.tail()
        );
    }
    Ok(ok)
}

/// One phase: the short connections numbered `shorts` on `--workers` threads, and `--long`
/// long connections (numbered from `long_from`), all connected before any of them sends.
fn phase(
    options: &Options,
    work: &Work,
    addr: SocketAddr,
    shorts: std::ops::Range<usize>,
    long_from: usize,
    seed: &Rng,
    tally: &Tally,
) {
    let next_short = AtomicUsize::new(shorts.start);
    let short_connections = || {
        loop {
            let number = next_short.fetch_add(1, Ordering::Relaxed);
            if number >= shorts.end {
                return;
            }
            let mut rng = seed.fork(number as u64);
            tally.record(
                connect(addr, options.timeout).and_then(|stream| match work {
                    Work::Echo { .. } => echo::session(stream, &mut rng, 1),
                    Work::Download(files) => files.short(stream, &mut rng),
                }),
            );
        }
    };
    let all_connected = Barrier::new(options.long);
    let long_connection = |number: usize| {
        let mut rng = seed.fork((1 << 40) + number as u64);
        let stream = connect(addr, options.timeout);
        // Every long connection is open before any of them sends: the server holds them all.
        all_connected.wait();
        tally.record(stream.and_then(|stream| match work {
            Work::Echo { messages } => echo::session(stream, &mut rng, *messages),
            Work::Download(files) => files.long(stream, &mut rng),
        }));
    };
    thread::scope(|scope| {
        let workers: Vec<_> = (0..options.workers.max(1))
            .map(|_| scope.spawn(short_connections))
            .collect();
        if options.one_at_a_time {
            // Beside the long connections, each short one would wait for all of them.
            workers.into_iter().for_each(|worker| drop(worker.join()));
        }
        for number in long_from..long_from + options.long {
            scope.spawn(move || long_connection(number));
        }
    });
}

/// A connection with `timeout` on connecting, reading and writing, and Nagle off (small
/// writes, such as one byte, leave at once).
fn connect(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, String> {
    let stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("connecting to {addr}: {e}"))?;
    let set = |result: std::io::Result<()>| result.map_err(|e| format!("setting up a socket: {e}"));
    set(stream.set_read_timeout(Some(timeout)))?;
    set(stream.set_write_timeout(Some(timeout)))?;
    set(stream.set_nodelay(true))?;
    Ok(stream)
}

/// The server's RSS once the connections just closed have been cleaned up.
fn settled_rss(server: &Server) -> Option<u64> {
    thread::sleep(Duration::from_millis(300));
    server.rss_kib()
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}
