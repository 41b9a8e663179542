//! The echo server both kinds of client talk to. Seed 001 §5.8 tells both patterns from the
//! client's side; the server does not need to know which one a client uses: it answers every
//! request line on a connection, one or many, until the client closes.
//!
//! Where the threads come from matters as much as the network. `--threads pool` (the default)
//! starts its workers before any client comes, each waiting in accept(); `--threads spawn`
//! starts a new thread for every connection, after accept(), while the client waits.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, ValueEnum};
use common::busy::{self, BUSY};
use common::cli::{TraceArg, parse_seconds};
use common::framing::Pending;
use common::net::{bind_error, close_gently, is_timeout};
use common::stalled::{self, WriteTimeoutArg};
use common::{Addr, Console, Encoding};
use socket2::{Domain, Protocol, Socket, Type};

/// The longest request line, newline included. A longer one gets an error line and the
/// connection is closed: a client must not make the server buffer without limit.
pub const MAX_REQUEST: usize = 64 * 1024;

/// After refusing a request, how long we read and discard what the client still sends.
const LINGER: Duration = Duration::from_secs(2);

/// Where a connection's thread comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Threads {
    /// Workers started in advance, each waiting in accept()
    Pool,
    /// A new thread for every connection, started after accept()
    Spawn,
}

/// `long-short server`: where to listen and how to run the connections.
#[derive(Args, Clone, Debug)]
pub struct Options {
    /// Where to listen: HOST:PORT, [IPV6]:PORT, PORT or :PORT (all interfaces); port 0 lets the OS choose
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8081")]
    pub listen: Addr,

    /// Where each connection's thread comes from: a pool started in advance, or spawned per connection
    #[arg(long, value_enum, default_value = "pool")]
    pub threads: Threads,

    /// How many pool workers wait in accept(); while all are busy, more are started
    #[arg(long, value_name = "N", default_value = "8",
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub workers: u16,

    /// Turn further clients away with `busy, try again later` while N connections are open
    #[arg(long, value_name = "N", default_value = "1024",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Close a connection that sends nothing for this many seconds
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = parse_seconds)]
    pub idle: Duration,

    /// Leave SO_REUSEADDR off, to watch a restarted server fail to bind while TIME_WAIT lasts
    #[arg(long)]
    pub no_reuseaddr: bool,

    /// Print every connection and every request (slow: printing costs more than answering)
    #[arg(long)]
    pub verbose: bool,

    #[command(flatten)]
    pub write_timeout: WriteTimeoutArg,

    #[command(flatten)]
    pub trace: TraceArg,
}

impl Options {
    /// `long-short server --listen ADDR`, every other option at its default: for the demo.
    pub fn new(listen: Addr) -> Options {
        Options {
            listen,
            threads: Threads::Pool,
            workers: 8,
            max_connections: 1024,
            idle: Duration::from_secs(60),
            no_reuseaddr: false,
            verbose: false,
            write_timeout: WriteTimeoutArg::default(),
            trace: TraceArg { trace: false },
        }
    }
}

/// `long-short server`: listen, report once a second, serve until stopped.
pub fn run(options: &Options, console: Console) -> anyhow::Result<()> {
    let addr = options.listen.resolve_one()?;
    let listener = listen(addr, !options.no_reuseaddr, console)?;
    let server = Arc::new(Server::new(listener, options.clone(), console));
    let reporter = Arc::clone(&server);
    thread::Builder::new()
        .name("report".into())
        .spawn(move || reporter.report_every_second())
        .context("starting the reporting thread")?;
    server.serve()
}

// ANCHOR: listen
/// socket, bind, listen(128), as in the tcp-echo lesson. Prints `listening on ADDR`.
pub fn listen(
    addr: SocketAddr,
    reuse_address: bool,
    console: Console,
) -> anyhow::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .context("creating a TCP socket")?;
    console.trace("socket(SOCK_STREAM)");

    // SO_REUSEADDR: bind the port although connections of this server's last run still sit in
    // TIME_WAIT on it. Without it, a server that closed connections first cannot start again
    // for a minute or so. It does not end TIME_WAIT, and on Linux and macOS it does not let two
    // servers listen on one port. On Windows it would (another program could take the port
    // over), so it stays off there, as in std's TcpListener::bind.
    #[cfg(not(windows))]
    if reuse_address {
        socket
            .set_reuse_address(true)
            .context("setting SO_REUSEADDR")?;
        console.trace("setsockopt(SO_REUSEADDR, 1)");
    }
    #[cfg(windows)]
    let _ = reuse_address;

    socket
        .bind(&addr.into())
        .map_err(|error| bind_error(addr, error))?;
    console.trace(format_args!("bind({addr})"));
    socket.listen(128).context("listen(128)")?;
    console.trace("listen(128)");

    let listener = TcpListener::from(socket);
    let bound = listener.local_addr().context("getsockname()")?;
    console.say(format_args!("listening on {bound}"));
    Ok(listener)
}
// ANCHOR_END: listen

/// What every connection's thread shares: the listening socket, the settings, the counters.
pub struct Server {
    listener: TcpListener,
    options: Options,
    console: Console,
    /// What happened so far, for the report and the demo.
    pub stats: Stats,
    /// Pool workers waiting in accept() now (or on their way back to it).
    idle_workers: AtomicUsize,
}

/// Counters the connection threads update and the report reads.
#[derive(Debug, Default)]
pub struct Stats {
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Request lines received (each one answered right after).
    pub requests: AtomicU64,
    /// Connections open now.
    pub open: AtomicU64,
    /// Connections turned away because `--max-connections` were open.
    pub turned_away: AtomicU64,
}

/// How a connection ended without an error.
enum Ending {
    /// The client closed it, after this many requests.
    ClosedByClient(u64),
    /// The client sent nothing for `--idle` seconds; `midway`: after part of a request, with
    /// no newline yet (the tutorials' clients send none).
    Idle { midway: bool },
    /// The client sent part of a request and kept adding to it, but no newline came within
    /// `--idle` seconds of its first byte.
    Slow,
    /// The client sent a line over [`MAX_REQUEST`] bytes.
    Refused,
}

impl Server {
    /// A server on `listener`, not serving yet.
    pub fn new(listener: TcpListener, options: Options, console: Console) -> Self {
        Server {
            listener,
            options,
            console,
            stats: Stats::default(),
            idle_workers: AtomicUsize::new(0),
        }
    }

    /// Serves forever, with the threads `--threads` asks for.
    pub fn serve(self: &Arc<Self>) -> anyhow::Result<()> {
        match self.options.threads {
            Threads::Pool => self.serve_with_pool(),
            Threads::Spawn => self.serve_with_spawn(),
        }
    }

    // ANCHOR: spawn
    /// `--threads spawn`: this thread accepts; every connection then gets a new thread of its
    /// own. Creating it (a stack to map, a thread for the kernel to set up and schedule) happens
    /// after accept(), while the client waits for its reply: a short connection pays for it
    /// every time.
    fn serve_with_spawn(self: &Arc<Self>) -> anyhow::Result<()> {
        loop {
            let (stream, peer) = match self.listener.accept() {
                Ok(accepted) => accepted,
                Err(error) => {
                    self.accept_failed(&error);
                    continue;
                }
            };
            // Past --max-connections: turned away, and no thread is started for it.
            let Some(stream) = self.admit(stream, peer) else {
                continue;
            };
            let server = Arc::clone(self);
            // thread::spawn panics when the system refuses another thread; Builder says so.
            if let Err(error) = thread::Builder::new().spawn(move || server.handle(stream, peer)) {
                // The connection went into the closure: it is closed as the closure is dropped.
                self.console.say(format_args!(
                    "cannot start a thread for {peer}: {error}; its connection is closed"
                ));
            }
        }
    }
    // ANCHOR_END: spawn

    // ANCHOR: pool
    /// `--threads pool`: the workers start now, before any client comes, and each one waits in
    /// accept() on the same listening socket. The kernel hands each new connection to one of
    /// them: no thread is created while a client waits.
    fn serve_with_pool(self: &Arc<Self>) -> anyhow::Result<()> {
        for _ in 0..self.options.workers {
            self.start_worker()
                .context("starting the pool's worker threads")?;
        }
        // From now on the workers do everything; this thread only keeps the process alive.
        loop {
            thread::park();
        }
    }

    /// One worker's life: accept a connection, serve it until the client closes, repeat.
    fn worker(self: Arc<Self>) {
        loop {
            // ④ accept(): the worker is running already and waits here for the next client.
            let (stream, peer) = match self.listener.accept() {
                Ok(accepted) => accepted,
                Err(error) => {
                    self.accept_failed(&error);
                    continue;
                }
            };
            // Past --max-connections: turned away, and this worker stays idle.
            let Some(stream) = self.admit(stream, peer) else {
                continue;
            };
            // Busy now. Was it the last idle worker (all others hold long connections)? Then
            // start one more, so that the next client still finds a worker in accept().
            if self.idle_workers.fetch_sub(1, Ordering::SeqCst) == 1
                && let Err(error) = self.start_worker()
            {
                self.console.say(format_args!(
                    "cannot start another worker: {error}; new clients wait until one is free"
                ));
            }
            self.handle(stream, peer);
            // Idle again, unless `--workers` workers are idle already: then this extra one ends.
            if self.idle_workers.fetch_add(1, Ordering::SeqCst) >= usize::from(self.options.workers)
            {
                self.idle_workers.fetch_sub(1, Ordering::SeqCst);
                return;
            }
        }
    }

    /// Starts one more worker, counted as idle from the start.
    fn start_worker(self: &Arc<Self>) -> io::Result<()> {
        self.idle_workers.fetch_add(1, Ordering::SeqCst);
        let server = Arc::clone(self);
        match thread::Builder::new()
            .name("worker".into())
            .spawn(move || server.worker())
        {
            Ok(_) => Ok(()),
            Err(error) => {
                self.idle_workers.fetch_sub(1, Ordering::SeqCst);
                Err(error)
            }
        }
    }
    // ANCHOR_END: pool

    // ANCHOR: admit
    /// Counts a new connection in, or turns it away with `busy, try again later` when
    /// `--max-connections` are open already: without a limit, every held connection costs a
    /// thread (a pool worker too: more are started while all are busy), for as many as a
    /// client cares to open.
    fn admit(&self, stream: TcpStream, peer: SocketAddr) -> Option<TcpStream> {
        let max = u64::from(self.options.max_connections);
        let counted = self
            .stats
            .open
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |open| {
                (open < max).then_some(open + 1)
            });
        if counted.is_ok() {
            return Some(stream);
        }
        self.stats.turned_away.fetch_add(1, Ordering::Relaxed);
        if self.options.verbose {
            self.console.say(format_args!(
                "busy: turned {peer} away ({max} open, --max-connections {max})"
            ));
        }
        let mut busy = BUSY.as_bytes().to_vec();
        busy.push(b'\n');
        busy::turn_away(stream, &busy);
        None
    }
    // ANCHOR_END: admit

    /// Such as a client that reset before we accepted it, or too many open files: not a reason
    /// to stop serving. Pause, so that a lasting error cannot spin the loop.
    fn accept_failed(&self, error: &io::Error) {
        self.console
            .say(format_args!("accept() failed: {error}; still listening"));
        thread::sleep(Duration::from_millis(100));
    }

    /// One connection, from accept() to close(), whichever thread runs it.
    fn handle(&self, stream: TcpStream, peer: SocketAddr) {
        // Counted in `open` by `admit`.
        self.stats.connections.fetch_add(1, Ordering::Relaxed);
        self.console.trace(format_args!("accept() -> {peer}"));
        if self.options.verbose {
            self.console.say(format_args!("connection from {peer}"));
        }
        match self.serve_connection(stream, peer) {
            Ok(Ending::ClosedByClient(requests)) if self.options.verbose => self.console.say(
                format_args!("{peer} closed the connection after {requests} request(s)"),
            ),
            Ok(Ending::ClosedByClient(_)) => {}
            Ok(Ending::Idle { midway: false }) => self.console.say(format_args!(
                "{peer} sent nothing for {} s: connection closed",
                self.options.idle.as_secs_f64()
            )),
            Ok(Ending::Idle { midway: true }) => self.console.say(format_args!(
                "{peer} sent part of a request, no newline, then nothing for {} s: connection closed (requests end with a newline)",
                self.options.idle.as_secs_f64()
            )),
            Ok(Ending::Slow) => self.console.say(format_args!(
                "{peer} sent part of a request, and no newline within {} s of its first byte: connection closed",
                self.options.idle.as_secs_f64()
            )),
            Ok(Ending::Refused) => self.console.say(format_args!(
                "{peer} sent a request over {MAX_REQUEST} bytes: refused, connection closed"
            )),
            // One misbehaving client must not stop the server.
            Err(error) => self
                .console
                .say(format_args!("connection with {peer} failed: {error}")),
        }
        self.console
            .trace(format_args!("close() the socket of {peer}"));
        self.stats.open.fetch_sub(1, Ordering::SeqCst);
    }

    // ANCHOR: serve_connection
    /// Seed 001 §5.8 from the server's side: answer each request line with its echo, for as
    /// long as the client keeps the connection open, for one request (short) or many (long).
    fn serve_connection(&self, mut stream: TcpStream, peer: SocketAddr) -> io::Result<Ending> {
        // A long connection may rest between requests, but not forever: a client gone silent
        // would hold a thread and a socket.
        stream.set_read_timeout(Some(self.options.idle))?;
        // A client that never reads its replies must not block us forever in write_all:
        // every write below has a deadline (--write-timeout).
        // Each reply leaves in one write and the client waits for it: Nagle's algorithm, which
        // holds small segments back to merge them, could only add delay.
        stream.set_nodelay(true)?;

        let mut pending = Pending::default();
        let mut chunk = [0u8; 16 * 1024];
        let mut replies = Vec::new();
        let mut requests = 0;
        // When the request now pending began. A request has --idle seconds from its first byte
        // to its newline: a client that adds a byte now and then, never a newline, would
        // otherwise hold its thread for ever, never idle for long (slowloris).
        let mut request_began: Option<Instant> = None;
        let mut last_heard = Instant::now();
        loop {
            // Whether bytes came after the pending request began: a trickle, not a silence.
            let trickling = request_began.is_some_and(|began| last_heard > began);
            if let Some(began) = request_began {
                let left = self.options.idle.saturating_sub(began.elapsed());
                if left.is_zero() {
                    return Ok(if trickling {
                        Ending::Slow
                    } else {
                        Ending::Idle { midway: true }
                    });
                }
                stream.set_read_timeout(Some(left))?;
            }
            // ⑤ recv: whatever has arrived, which is not "one request": half of one, or several
            // that the client sent back to back. Requests are framed by newline, not by recv.
            let received = match stream.read(&mut chunk) {
                Ok(count) => count,
                // Not silent, but the request's own time is up.
                Err(error) if is_timeout(&error) && trickling => return Ok(Ending::Slow),
                Err(error) if is_timeout(&error) => {
                    return Ok(Ending::Idle {
                        midway: !pending.is_empty(),
                    });
                }
                Err(error) => return Err(error),
            };
            self.console
                .trace(format_args!("recv({}) -> {received} bytes", chunk.len()));
            // recv returned 0: the client closed its end, after one request or after many.
            if received == 0 {
                // Like `nc -N`, it may have closed only its sending half: answer a last line
                // that has no newline.
                if let Some(rest) = pending.take_rest() {
                    requests += 1;
                    self.stats.requests.fetch_add(1, Ordering::Relaxed);
                    stalled::deadline(&stream, self.options.write_timeout.write_timeout)
                        .write_all(&rest)?;
                }
                return Ok(Ending::ClosedByClient(requests));
            }
            pending.push(&chunk[..received]);
            last_heard = Instant::now();

            let mut refused = false;
            while let Some(request) = pending.take_line(MAX_REQUEST) {
                // MAX_REQUEST bytes and still no newline: refuse, rather than buffer on.
                if request.last() != Some(&b'\n') {
                    replies.extend_from_slice(
                        format!(
                            "error: request over {MAX_REQUEST} bytes; closing the connection\n"
                        )
                        .as_bytes(),
                    );
                    refused = true;
                    break;
                }
                requests += 1;
                self.stats.requests.fetch_add(1, Ordering::Relaxed);
                if self.options.verbose {
                    let text = request.strip_suffix(b"\n").unwrap_or(&request);
                    let text = Encoding::UTF_8.display(text);
                    self.console
                        .say(format_args!("received from {peer}: {text}"));
                }
                replies.extend_from_slice(&request);
            }
            if !replies.is_empty() {
                // ⑥ sendall: every answer to this recv in one write, one system call.
                // --write-timeout is a deadline for the whole write, however the bytes trickle.
                stalled::deadline(&stream, self.options.write_timeout.write_timeout)
                    .write_all(&replies)?;
                self.console
                    .trace(format_args!("sendall({} bytes)", replies.len()));
                replies.clear();
            }
            if refused {
                // The server closes first here, so its side of this connection is the one that
                // waits in TIME_WAIT.
                close_gently(stream, LINGER)?;
                return Ok(Ending::Refused);
            }
            // A request begun and not finished starts its clock; none pending, the idle one.
            match (pending.is_empty(), request_began) {
                (false, None) => request_began = Some(Instant::now()),
                (true, Some(_)) => {
                    request_began = None;
                    stream.set_read_timeout(Some(self.options.idle))?;
                }
                _ => {}
            }
        }
    }
    // ANCHOR_END: serve_connection

    /// Once a second, if anything happened: how many requests and new connections there were.
    fn report_every_second(&self) {
        let (mut requests, mut connections, mut turned_away) = (0, 0, 0);
        loop {
            thread::sleep(Duration::from_secs(1));
            let now_requests = self.stats.requests.load(Ordering::Relaxed);
            let now_connections = self.stats.connections.load(Ordering::Relaxed);
            let now_turned_away = self.stats.turned_away.load(Ordering::Relaxed);
            if (now_requests, now_connections, now_turned_away)
                != (requests, connections, turned_away)
            {
                let busy = match now_turned_away - turned_away {
                    0 => String::new(),
                    count => format!(
                        ", {count} turned away (--max-connections {})",
                        self.options.max_connections
                    ),
                };
                self.console.say(format_args!(
                    "last second: {} requests, {} new connections{busy}; {} open now",
                    now_requests - requests,
                    now_connections - connections,
                    self.stats.open.load(Ordering::Relaxed)
                ));
            }
            (requests, connections, turned_away) = (now_requests, now_connections, now_turned_away);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn new_has_the_command_line_defaults() {
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            options: Options,
        }
        let parsed = Cli::parse_from(["server", "--listen", "127.0.0.1:0"]).options;
        let new = Options::new(Addr::localhost(0));
        assert_eq!(format!("{parsed:?}"), format!("{new:?}"));
    }
}
