//! The async server. Steps ① socket, ② bind and ③ listen are tcp-echo's; ④ `accept().await`
//! runs in a loop and spawns a task for each connection; ⑤ recv, ⑥ send and ⑦ close happen in
//! that task. A task that waits for its socket costs no thread: it is a small state machine the
//! compiler wrote from the `async fn`, parked until the runtime's reactor (epoll, kqueue or
//! IOCP, as in tcp-nonblocking) says its socket is ready.
//!
//! This file holds the runtime, the listening socket, the server, its accept loop and a client's
//! task: it puts the other files together, and none of them knows it. One idea per file:
//! `connection.rs` (what the task does with its client: the echo, the chat room's side),
//! `admission.rs` (counting a client in, or turning it away), `room.rs` (the chat room),
//! `stop.rs` (Ctrl-C, SIGTERM and the grace period), `blocking.rs` (what a blocking call does to
//! the other tasks, and the fix).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use common::Console;
use common::net::bind_error;
use tokio::io::BufReader;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, watch};
use tokio::time::sleep;

use crate::admission::{self, Clients};
use crate::connection::{Connection, Ending, READ_BUFFER};
use crate::options::Options;
use crate::room::{self, Membership, Room};
use crate::stop::{self, Phase, Signals};

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
        let on_signal = Arc::clone(&server);
        tokio::spawn(signals.stop(move || on_signal.stop()));
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

/// A running server: its options, its clients, its chat room, and its phase.
pub struct Server {
    options: Options,
    console: Console,
    /// The connected clients, counted in and out (`admission.rs`).
    clients: Clients,
    /// Where the server is in its life: every task watches it (`stop.rs`).
    phase: watch::Sender<Phase>,
    room: Room,
}

impl Server {
    pub fn new(options: Options, console: Console) -> Arc<Server> {
        Arc::new(Server {
            clients: Clients::new(options.max_connections as usize, console, options.quiet),
            options,
            console,
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
            let Some((permit, membership)) = self.clients.admit(peer, &self.options, &self.room)
            else {
                admission::turn_away(stream, self.options.encoding.encoding);
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
        stop::finish(&self.phase, &self.clients, self.options.grace).await;
        Ok(())
    }
    // ANCHOR_END: accept_loop

    // ANCHOR: client_task
    /// Everything that happens to one client, in the task that serves it.
    pub async fn serve_client(
        self: Arc<Self>,
        mut stream: TcpStream,
        peer: SocketAddr,
        permit: OwnedSemaphorePermit,
        membership: Option<Membership>,
    ) {
        // Each reply leaves at once (no Nagle delay), as in tcp-threaded.
        let ending = match stream.set_nodelay(true) {
            Err(error) => Ending::Failed(error),
            Ok(()) => {
                // Two halves of one socket, borrowed: one to read lines from, one to write to.
                let (reader, mut writer) = stream.split();
                let mut reader = BufReader::with_capacity(READ_BUFFER, reader);
                let connection = Connection {
                    peer,
                    options: &self.options,
                    console: self.console,
                    phase: &self.phase,
                };
                match membership {
                    Some(membership) => {
                        let ending = connection
                            .chat(&mut reader, &mut writer, &self.room, membership)
                            .await;
                        self.room.leave(peer);
                        ending
                    }
                    None => connection.echo(&mut reader, &mut writer).await,
                }
            }
        };
        // ⑦ close() this client's socket.
        drop(stream);
        self.console
            .trace(format_args!("close() the socket of {peer}"));
        let what = match ending {
            Ending::Closed => format!("{peer} closed the connection"),
            Ending::Idle => format!(
                "{peer} timed out: silent for {} s (--idle-timeout)",
                self.options.idle_timeout.as_secs_f64()
            ),
            Ending::Stopping => format!("closed {peer}: the server is stopping"),
            Ending::Dropped => format!(
                "dropped {peer}: not reading, {} lines waiting for it",
                room::QUEUE
            ),
            Ending::Failed(error) => format!("connection with {peer} failed: {error}"),
        };
        self.clients.connections.send_modify(|connections| {
            // The permit goes back as the count goes down, so the two always agree.
            drop(permit);
            connections.active -= 1;
            self.clients.event(connections, what);
        });
    }
    // ANCHOR_END: client_task

    /// What Ctrl-C and SIGTERM do (`stop::stop`): stop gently, or, the second time, now.
    pub fn stop(&self) {
        stop::stop(&self.phase, &self.clients, self.options.grace);
    }

    /// Waits until `count` clients are connected, for at most `limit`.
    pub async fn wait_for_active(&self, count: usize, limit: Duration) -> bool {
        self.clients.wait_for_active(count, limit).await
    }
}
