//! The async server. Steps ① socket, ② bind and ③ listen are tcp-echo's; ④ `accept().await`
//! runs in a loop and spawns a task for each connection; ⑤ recv, ⑥ send and ⑦ close happen in
//! that task. A task that waits for its socket costs no thread: it is a small state machine the
//! compiler wrote from the `async fn`, parked until the runtime's reactor (epoll, kqueue or
//! IOCP, as in tcp-nonblocking) says its socket is ready.
//!
//! This file holds the runtime, the listening socket, the server's state and its accept loop;
//! `connection.rs` is what happens in a client's task. The rest, one idea per file:
//! `admission.rs` (counting a client in, or turning it away), `room.rs` (the chat room),
//! `stop.rs` (Ctrl-C, SIGTERM and the grace period), `blocking.rs` (what a blocking call does to
//! the other tasks, and the fix).

use std::fmt::Display;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use common::Console;
use common::net::bind_error;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{Semaphore, watch};
use tokio::time::{sleep, timeout};

use crate::options::Options;
use crate::room::Room;
use crate::stop::{Phase, Signals};

// ANCHOR: runtime
/// The runtime: `workers` threads that take turns running whichever tasks are ready, and a
/// reactor that waits on every socket at once (epoll on Linux, kqueue on macOS, IOCP on
/// Windows) and wakes the tasks whose sockets are ready. What `#[tokio::main]` would build,
/// written out so that `--workers` can choose the number.
pub fn runtime(workers: usize) -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("tcp-async worker")
        .enable_io()
        .enable_time()
        .build()
}
// ANCHOR_END: runtime

/// `tcp-async server`: listen, serve until Ctrl-C or SIGTERM, then stop gently.
pub fn run(options: &Options, console: Console) -> anyhow::Result<()> {
    let addr = options.listen.resolve_one()?;
    let workers = options.worker_threads();
    let runtime = runtime(workers).context("starting the runtime")?;
    console.trace(format_args!("runtime with {workers} worker thread(s)"));
    runtime.block_on(async {
        let listener = listen(addr, console)?;
        let server = Server::new(options.clone(), console);
        // Listening for the signals before saying we listen: whoever reads the line may
        // already send one.
        let signals = Signals::new().context("listening for Ctrl-C and SIGTERM")?;
        tokio::spawn(signals.stop(Arc::clone(&server)));
        console.say(format_args!("listening on {}", listener.local_addr()?));
        server.serve(listener).await
    })?;
    // Tasks still running (none should be) are dropped without waiting for them.
    runtime.shutdown_background();
    Ok(())
}

/// Steps ① to ③, as in tcp-echo, with tokio's socket: a non-blocking socket registered with
/// the reactor. The caller prints `listening on ADDR` once it is ready for clients.
pub fn listen(addr: SocketAddr, console: Console) -> anyhow::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .context("creating a TCP socket")?;
    console.trace("socket(SOCK_STREAM)");
    #[cfg(not(windows))]
    socket.set_reuseaddr(true).context("setting SO_REUSEADDR")?;
    socket.bind(addr).map_err(|error| bind_error(addr, error))?;
    console.trace(format_args!("bind({addr})"));
    // A longer queue of not-yet-accepted connections than tcp-threaded's 128: ten thousand
    // clients may knock at once, and one thread drains the queue between other work.
    let listener = socket.listen(1024).context("listen(1024)")?;
    console.trace("listen(1024)");
    Ok(listener)
}

/// How many clients are connected now, and how many have been served.
#[derive(Clone, Copy, Debug, Default)]
pub struct Connections {
    pub active: usize,
    pub served: u64,
}

/// A running server: its options, its count of connections, and its phase. Its fields are
/// shared by the server's files (`connection.rs`, `admission.rs`, `room.rs`, `stop.rs`).
pub struct Server {
    pub options: Options,
    pub console: Console,
    /// At most `--max-connections` clients at once: each client's task holds a permit.
    pub permits: Arc<Semaphore>,
    /// The count, changed with `send_modify`, so that whoever waits for it is woken up.
    pub connections: watch::Sender<Connections>,
    pub phase: watch::Sender<Phase>,
    pub room: Room,
}

impl Server {
    pub fn new(options: Options, console: Console) -> Arc<Server> {
        Arc::new(Server {
            permits: Arc::new(Semaphore::new(options.max_connections as usize)),
            options,
            console,
            connections: watch::Sender::new(Connections::default()),
            phase: watch::Sender::new(Phase::Serving),
            room: Room::default(),
        })
    }

    // ANCHOR: accept_loop
    /// Step ④ in a loop: accept a client and spawn a task for it, until `stop`. Then wait for
    /// the connected clients (a grace period at most), and print the summary.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) -> anyhow::Result<()> {
        let mut phase = self.phase.subscribe();
        loop {
            // ④ accept().await: this task sleeps until a client connects or the server stops;
            // its worker thread runs other tasks meanwhile.
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = phase.wait_for(|phase| *phase != Phase::Serving) => break,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Such as too many open files: not a reason to stop serving, but a reason
                    // not to spin.
                    self.console
                        .say(format_args!("accept() failed: {error}; still listening"));
                    sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            self.console.trace(format_args!("accept() -> {peer}"));
            let Some((permit, membership)) = self.admit(peer) else {
                self.turn_away(stream);
                continue;
            };
            self.console
                .trace(format_args!("tokio::spawn() a task to serve {peer}"));
            // The task owns its connection and a handle on the server; spawning costs a small
            // allocation, not a thread.
            tokio::spawn(Arc::clone(&self).serve_client(stream, peer, permit, membership));
        }
        // ⑧ close() the listening socket: clients that connect now are refused.
        drop(listener);
        self.console.trace("close() the listening socket");
        self.finish().await;
        Ok(())
    }
    // ANCHOR_END: accept_loop

    /// Waits until `count` clients are connected, for at most `limit`.
    pub async fn wait_for_active(&self, count: usize, limit: Duration) -> bool {
        let mut connections = self.connections.subscribe();
        let reached = connections.wait_for(|connections| connections.active == count);
        matches!(timeout(limit, reached).await, Ok(Ok(_)))
    }

    /// A line about one connection, with the number of clients connected now.
    pub fn event(&self, connections: &Connections, what: impl Display) {
        self.say(format_args!("{what} ({} active)", connections.active));
    }

    /// `received from PEER: TEXT`, decoded only when it is printed.
    pub fn say_received(&self, peer: SocketAddr, message: &[u8]) {
        if !self.options.quiet {
            let text = self.options.encoding.encoding.display(message);
            self.say(format_args!("received from {peer}: {text}"));
        }
    }

    // ANCHOR: say
    /// A line on stdout, unless `--quiet`. Writing to stdout is a blocking call too: when
    /// whoever reads our output (a terminal, a pipe) is slower than we print, `write` waits —
    /// and so would every task on this worker thread. `block_in_place` tells the runtime that
    /// this thread may block: it hands this worker's other tasks to another thread meanwhile.
    pub fn say(&self, line: impl Display) {
        if !self.options.quiet {
            tokio::task::block_in_place(|| self.console.say(line));
        }
    }
    // ANCHOR_END: say
}
