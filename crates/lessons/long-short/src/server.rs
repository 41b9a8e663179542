//! The echo server both kinds of client talk to, and where its threads come from. Each
//! connection is served by `serve_connection` (in `connection.rs`), on a thread of its own.
//!
//! Where the threads come from matters as much as the network. `--threads pool` (the default)
//! starts its workers before any client comes, each waiting in accept(); `--threads spawn`
//! starts a new thread for every connection, after accept(), while the client waits.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use anyhow::Context;
use common::Console;
use common::busy::{self, BUSY};
use common::net::bind_error;
use socket2::{Domain, Protocol, Socket, Type};

use crate::connection::{Ending, MAX_REQUEST, serve_connection};
use crate::options::{Options, Threads};
use crate::stats::Stats;

/// `long-short server`: listen, report once a second, serve until stopped.
pub fn run(options: &Options, console: Console) -> anyhow::Result<()> {
    let addr = options.listen.resolve_one()?;
    let listener = listen(addr, !options.no_reuseaddr, console)?;
    let server = Arc::new(Server::new(listener, options.clone(), console));
    let reporter = Arc::clone(&server);
    let max_connections = options.max_connections;
    thread::Builder::new()
        .name("report".into())
        .spawn(move || reporter.stats.report_every_second(max_connections, console))
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
        match serve_connection(stream, peer, &self.options, &self.stats, self.console) {
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
}
