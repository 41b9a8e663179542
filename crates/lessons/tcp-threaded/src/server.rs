//! The threaded server. Steps ① socket, ② bind and ③ listen are tcp-echo's; then ④ accept runs
//! in a loop and hands each connection over: to a thread of its own (seed 000), to a fixed pool
//! of threads (`--pool N`), or — to compare (`--sequential`) — to nobody: the accepting thread
//! serves each client itself until it leaves, one after another, as tcp-echo's server does. Steps
//! ⑤ recv, ⑥ send and ⑦ close happen on the client's thread. `--seed-002` is seed 002's
//! "concurrent" server as it really is: one recv and one reply per client, then the next accept.
//!
//! This file holds the server's state, its accept loop and what happens on a client's thread.
//! The rest, one idea per file: `admission.rs` counts a client in or turns it away (`busy`),
//! `workers.rs` hands it to whoever serves it, `seed_002.rs` is seed 002's server as it is,
//! `room.rs` is the chat room, `stop.rs` is Ctrl-C and the grace period.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Display;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use common::Console;
use common::framing::{Pending, SILENCE};
use common::net::{bind_error, is_timeout};
use common::stalled;
use socket2::{Domain, Protocol, Socket, Type};

use crate::options::Options;
use crate::room::{self, Membership, Room};
use crate::stop;
use crate::workers::Workers;

/// The longest message the server buffers before handling it in pieces.
const MAX_MESSAGE: usize = 64 * 1024;

/// `tcp-threaded server`: listen, serve until Ctrl-C or SIGTERM, then stop gently.
pub fn run(options: &Options, console: Console) -> anyhow::Result<()> {
    let addr = options.listen.resolve_one()?;
    let listener = listen(addr, console)?;
    let server = Server::new(&listener, options.clone(), console)?;
    // Ctrl-C and SIGTERM stop it gently (`stop.rs`).
    stop::on_signals(&server)?;
    // Only now: whoever reads this line may already send us a signal.
    console.say(format_args!("listening on {}", listener.local_addr()?));
    server.serve(listener)
}

/// Steps ① to ③, as in tcp-echo: a socket that accepts connections on `addr`. The caller
/// prints `listening on ADDR` once it is ready for clients and for Ctrl-C.
pub fn listen(addr: SocketAddr, console: Console) -> anyhow::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .context("creating a TCP socket")?;
    console.trace("socket(SOCK_STREAM)");
    #[cfg(not(windows))]
    socket
        .set_reuse_address(true)
        .context("setting SO_REUSEADDR")?;
    socket
        .bind(&addr.into())
        .map_err(|error| bind_error(addr, error))?;
    console.trace(format_args!("bind({addr})"));
    // The backlog is the queue of connections not accept()ed yet — not a limit on clients, as
    // seed 002 believes of its listen(5). Our limit is --max-connections.
    socket.listen(128).context("listen(128)")?;
    console.trace("listen(128)");
    Ok(TcpListener::from(socket))
}

/// A client's socket options: a read wakes up after a short silence, to answer a message that has
/// no newline and to look at the clock (every write has its own deadline, `--write-timeout`).
/// And each reply leaves at once: with Nagle's algorithm on, the second of two quick replies
/// would wait until the client acknowledges the first, and clients delay that by 40 ms.
fn socket_options(stream: &TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(SILENCE))?;
    stream.set_nodelay(true)
}

/// A running server: its options, its count of connections, and whether it is stopping. Its
/// fields are shared by the server's files: `admission.rs`, `workers.rs`, `stop.rs`, `room.rs`.
pub struct Server {
    pub options: Options,
    pub console: Console,
    /// Where `stop` connects to wake up a waiting `accept()`.
    pub wake: SocketAddr,
    pub connections: Mutex<Connections>,
    /// Signalled whenever a connection ends.
    pub changed: Condvar,
    /// When stopping, the moment still-connected clients are closed, in milliseconds since
    /// `started`; `u64::MAX` while the server runs. Every client thread checks it often.
    pub deadline: AtomicU64,
    pub started: Instant,
    pub room: Room,
}

#[derive(Default)]
pub struct Connections {
    pub active: usize,
    pub served: u64,
    /// Every connected client's socket, by its number, so that stopping can shut them all
    /// down: a thread blocked in a write wakes up only when its socket does.
    pub sockets: HashMap<u64, Arc<TcpStream>>,
}

/// A connection the server has counted in, with its seat in the chat room if there is one.
pub struct Client {
    /// Its number: 1 for the first connection served, 2 for the next…
    pub number: u64,
    /// Shared with `Connections::sockets` (an `Arc`, not a second file descriptor).
    pub stream: Arc<TcpStream>,
    pub peer: SocketAddr,
    pub membership: Option<Membership>,
}

/// How a connection ended, for the line the server prints.
pub enum Ending {
    Closed,
    Idle,
    Stopping,
    Dropped,
    Failed(io::Error),
}

impl Server {
    /// A server for `listener`, not yet accepting.
    pub fn new(
        listener: &TcpListener,
        options: Options,
        console: Console,
    ) -> anyhow::Result<Arc<Server>> {
        let mut wake = listener.local_addr().context("getsockname()")?;
        // Listening on every interface (0.0.0.0 or ::): wake it through loopback.
        if wake.ip().is_unspecified() {
            let loopback = match wake {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            };
            wake.set_ip(loopback);
        }
        Ok(Arc::new(Server {
            options,
            console,
            wake,
            connections: Mutex::default(),
            changed: Condvar::new(),
            deadline: AtomicU64::new(u64::MAX),
            started: Instant::now(),
            room: Room::default(),
        }))
    }

    // ANCHOR: accept_loop
    /// Step ④ in a loop: accept a client and hand it over, until `stop`. Then wait for the
    /// connected clients (a grace period at most), join every thread, and print the summary.
    pub fn serve(self: &Arc<Self>, listener: TcpListener) -> anyhow::Result<()> {
        if self.options.seed_002 {
            return self.serve_seed_002(listener);
        }
        let mut workers = Workers::start(&self.options)?;
        loop {
            // ④ accept(): wait for the next client.
            let accepted = listener.accept();
            if self.stopping() {
                // Woken up by stop(): no new connections from now on.
                break;
            }
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Such as too many open files: not a reason to stop serving, but a reason
                    // not to spin.
                    self.console
                        .say(format_args!("accept() failed: {error}; still listening"));
                    thread::sleep(Duration::from_millis(100));
                    continue;
                }
            };
            self.console.trace(format_args!("accept() -> {peer}"));
            if let Some(client) = self.admit(stream, peer) {
                workers.hand_over(self, client);
            }
        }
        // ⑧ close() the listening socket: clients that connect now are refused.
        drop(listener);
        self.console.trace("close() the listening socket");
        self.finish(workers);
        Ok(())
    }
    // ANCHOR_END: accept_loop

    // ANCHOR: client_thread
    /// Everything that happens to one client, on the thread that serves it.
    pub fn serve_client(&self, client: Client) {
        let Client {
            number,
            stream,
            peer,
            membership,
        } = client;
        let ending = match socket_options(&stream) {
            Err(error) => Ending::Failed(error),
            Ok(()) => match membership {
                Some(membership) => self.chat(&stream, peer, membership),
                None => {
                    self.receive_lines(&stream, peer, None, |line| self.answer(&stream, peer, line))
                }
            },
        };
        // ⑦ close() this client's socket: the server's list lets go of it, then this thread.
        self.connections().sockets.remove(&number);
        drop(stream);
        self.console
            .trace(format_args!("close() the socket of {peer}"));
        let mut connections = self.connections();
        // The grace period is over and `stop` shut the socket down: whatever the thread saw
        // then (the end of the stream, a failed write), the server closed it.
        let ending = match ending {
            Ending::Closed | Ending::Failed(_) if self.past_deadline() => Ending::Stopping,
            ending => ending,
        };
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
        connections.active -= 1;
        // Said while counting, and the accept loop, waiting to stop, is told.
        self.event(&connections, what);
    }
    // ANCHOR_END: client_thread

    // ANCHOR: recv_loop
    /// Steps ⑤ and ⑥ until the client leaves: receive bytes, cut them into lines, `handle`
    /// each one. Also ends the connection when it has been idle too long, or when the server
    /// is stopping and the grace period is over.
    pub fn receive_lines(
        &self,
        mut stream: &TcpStream,
        peer: SocketAddr,
        delivered: Option<&AtomicUsize>,
        mut handle: impl FnMut(&[u8]) -> io::Result<()>,
    ) -> Ending {
        let mut pending = Pending::default();
        let mut chunk = [0u8; 1024];
        let mut last_heard = Instant::now();
        let mut seen_delivered = 0;
        loop {
            if self.past_deadline() {
                return Ending::Stopping;
            }
            // ⑤ recv(1024): blocks this client's thread only.
            let received = match stream.read(&mut chunk) {
                Ok(count) => count,
                Err(error) if is_timeout(&error) => {
                    if let Some(message) = pending.take_rest()
                        && let Err(error) = handle(&message)
                    {
                        return Ending::Failed(error);
                    }
                    // In the chat room, a client that listens is not idle either.
                    if let Some(delivered) = delivered {
                        let now = delivered.load(Ordering::Relaxed);
                        if now != seen_delivered {
                            seen_delivered = now;
                            last_heard = Instant::now();
                        }
                    }
                    if last_heard.elapsed() >= self.options.idle_timeout {
                        return Ending::Idle;
                    }
                    continue;
                }
                Err(error) => return Ending::Failed(error),
            };
            self.console
                .trace(format_args!("recv(1024) -> {received} bytes from {peer}"));
            // recv returned 0: the client closed its end. Seed 002 never checks this.
            if received == 0 {
                if let Some(message) = pending.take_rest()
                    && let Err(error) = handle(&message)
                {
                    return Ending::Failed(error);
                }
                return Ending::Closed;
            }
            last_heard = Instant::now();
            pending.push(&chunk[..received]);
            while let Some(message) = pending.take_line(MAX_MESSAGE) {
                if let Err(error) = handle(&message) {
                    return Ending::Failed(error);
                }
            }
        }
    }
    // ANCHOR_END: recv_loop

    /// Prints one message and sends the reply (⑥): the echo, in upper case, or a fixed text.
    pub fn answer(&self, stream: &TcpStream, peer: SocketAddr, message: &[u8]) -> io::Result<()> {
        let encoding = self.options.encoding.encoding;
        self.say_received(peer, message);
        let reply: Cow<[u8]> = match &self.options.reply {
            Some(text) => {
                let mut reply = self.encode(text);
                reply.push(b'\n');
                Cow::Owned(reply)
            }
            None if self.options.upper => encoding.upper_case(message),
            None => Cow::Borrowed(message),
        };
        // ⑥ sendall, with a deadline for the whole reply: a client that stops reading is
        // dropped after --write-timeout, however the bytes trickle out until then.
        stalled::deadline(stream, self.options.write_timeout.write_timeout).write_all(&reply)?;
        self.console
            .trace(format_args!("sendall({} bytes) to {peer}", reply.len()));
        Ok(())
    }

    /// The count of connections, locked.
    pub fn connections(&self) -> MutexGuard<'_, Connections> {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A line about one connection, with the number of clients connected now.
    pub fn event(&self, connections: &Connections, what: impl Display) {
        self.say(format_args!("{what} ({} active)", connections.active));
        // The demo waits for the count to change.
        self.changed.notify_all();
    }

    /// `received from PEER: TEXT`, decoded only when it is printed.
    pub fn say_received(&self, peer: SocketAddr, message: &[u8]) {
        if !self.options.quiet {
            let text = self.options.encoding.encoding.display(message);
            self.console
                .say(format_args!("received from {peer}: {text}"));
        }
    }

    /// A line that `--quiet` leaves out.
    pub fn say(&self, line: impl Display) {
        if !self.options.quiet {
            self.console.say(line);
        }
    }

    /// Text in the wire encoding. Every text the server sends was checked at start-up (or is
    /// ASCII), so the fallback never applies.
    pub fn encode(&self, text: &str) -> Vec<u8> {
        self.options
            .encoding
            .encoding
            .encode(text)
            .unwrap_or_else(|_| text.as_bytes().to_vec())
    }
}
