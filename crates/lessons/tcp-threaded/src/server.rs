//! The threaded server. Steps ① socket, ② bind and ③ listen are tcp-echo's; then ④ accept runs
//! in a loop and hands each connection over: to a thread of its own (seed 000), to a fixed pool
//! of threads (`--pool N`), or — to compare (`--sequential`) — to nobody: the accepting thread
//! serves each client itself until it leaves, one after another, as tcp-echo's server does. Steps
//! ⑤ recv, ⑥ send and ⑦ close happen on the client's thread. `--seed-002` is seed 002's
//! "concurrent" server as it really is: one recv and one reply per client, then the next accept.
//!
//! This file holds the server, its accept loop and what happens on a client's thread: it puts
//! the other files together, and none of them knows it. One idea per file: `admission.rs`
//! counts a client in or turns it away (`busy`), `workers.rs` hands it to whoever serves it,
//! `seed_002.rs` is seed 002's server as it is, `room.rs` is the chat room, `stop.rs` is Ctrl-C
//! and the grace period.

use std::borrow::Cow;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use common::Console;
use common::framing::{Pending, SILENCE};
use common::net::{bind_error, is_timeout};
use common::stalled;
use socket2::{Domain, Protocol, Socket, Type};

use crate::admission::{Client, Clients};
use crate::options::Options;
use crate::room::{self, Membership, Room};
use crate::seed_002::Seed002;
use crate::stop::{self, Stopper};
use crate::workers::Workers;

/// The longest message the server buffers before handling it in pieces.
const MAX_MESSAGE: usize = 64 * 1024;

/// `tcp-threaded server`: listen, serve until Ctrl-C or SIGTERM, then stop gently.
pub fn run(options: &Options, console: Console) -> anyhow::Result<()> {
    let addr = options.listen.resolve_one()?;
    let listener = listen(addr, console)?;
    let server = Server::new(&listener, options.clone(), console)?;
    // Ctrl-C and SIGTERM stop it gently (`stop.rs`).
    let on_signal = Arc::clone(&server);
    stop::on_signals(move || on_signal.stop())?;
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

/// A running server: its options, its clients, its chat room, and whether it is stopping.
pub struct Server {
    options: Options,
    console: Console,
    /// The connected clients, counted in and out (`admission.rs`).
    clients: Arc<Clients>,
    /// Whether it is stopping, and when the grace period ends (`stop.rs`).
    stopper: Arc<Stopper>,
    room: Room,
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
        Ok(Arc::new(Server {
            clients: Arc::new(Clients::new(console, options.quiet)),
            stopper: Arc::new(Stopper::new(listener)?),
            options,
            console,
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
            if self.stopper.stopping() {
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
            let Some(client) = self.clients.admit(stream, peer, &self.options, &self.room) else {
                continue;
            };
            let number = client.number;
            let server = Arc::clone(self);
            let serve = move |client| server.serve_client(client);
            if let Err(error) = workers.hand_over(client, &self.clients, serve) {
                // No thread could take it (the OS refused one, or the pool has stopped): the
                // connection was dropped with `serve`.
                self.room.leave(peer);
                self.clients.lost(number, peer, error);
            }
        }
        // ⑧ close() the listening socket: clients that connect now are refused.
        drop(listener);
        self.console.trace("close() the listening socket");
        stop::finish(&self.clients, workers);
        Ok(())
    }
    // ANCHOR_END: accept_loop

    /// `--seed-002` (`seed_002.rs`): seed 002's server, with this one's count of clients and
    /// way of stopping, answering each message as this one does.
    fn serve_seed_002(&self, listener: TcpListener) -> anyhow::Result<()> {
        let seed_002 = Seed002 {
            options: &self.options,
            clients: &self.clients,
            room: &self.room,
            stopper: &self.stopper,
        };
        seed_002.serve(listener, |stream, peer, message| {
            self.answer(stream, peer, message)
        })
    }

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
        self.clients.lock().sockets.remove(&number);
        drop(stream);
        self.console
            .trace(format_args!("close() the socket of {peer}"));
        let mut connections = self.clients.lock();
        // The grace period is over and `stop` shut the socket down: whatever the thread saw
        // then (the end of the stream, a failed write), the server closed it.
        let ending = match ending {
            Ending::Closed | Ending::Failed(_) if self.stopper.past_deadline() => Ending::Stopping,
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
        self.clients.event(&connections, what);
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
            if self.stopper.past_deadline() {
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

    // ANCHOR: chat
    /// `--broadcast`: this client's lines go to the room; what the others say reaches it
    /// through its queue and its own writer thread.
    pub fn chat(&self, stream: &TcpStream, peer: SocketAddr, membership: Membership) -> Ending {
        let Membership {
            queue,
            dropped,
            delivered,
        } = membership;
        let console = self.console;
        let limit = self.options.write_timeout.write_timeout;
        let (ending, written) = thread::scope(|scope| {
            let delivered = &delivered;
            let writer = thread::Builder::new()
                .name(format!("writer {peer}"))
                .spawn_scoped(scope, move || {
                    let written = room::write_queue(stream, peer, queue, delivered, limit, console);
                    if written.is_err() {
                        // Cannot reach the client: wake its reader too.
                        let _ = stream.shutdown(Shutdown::Both);
                    }
                    written
                });
            let writer = match writer {
                Ok(writer) => writer,
                Err(error) => return (Ending::Failed(error), Ok(())),
            };
            let ending = self.receive_lines(stream, peer, Some(delivered), |line| {
                self.say_received(peer, line);
                self.room
                    .broadcast(peer, line, self.options.encoding.encoding);
                Ok(())
            });
            // Out of the room: the queue's sender goes, and the writer ends once it has sent
            // what is queued — or at once, when the client is not to be waited for.
            self.room.leave(peer);
            if !matches!(ending, Ending::Closed) {
                let _ = stream.shutdown(Shutdown::Both);
            }
            let written = writer
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the writer thread panicked")));
            (ending, written)
        });
        match (ending, written) {
            _ if dropped.load(Ordering::SeqCst) => Ending::Dropped,
            // The client closed, but what it was sent did not all arrive.
            (Ending::Closed, Err(error)) => Ending::Failed(error),
            (ending, _) => ending,
        }
    }
    // ANCHOR_END: chat

    /// Prints one message and sends the reply (⑥): the echo, in upper case, or a fixed text.
    pub fn answer(&self, stream: &TcpStream, peer: SocketAddr, message: &[u8]) -> io::Result<()> {
        let encoding = self.options.encoding.encoding;
        self.say_received(peer, message);
        let reply: Cow<[u8]> = match &self.options.reply {
            Some(text) => {
                let mut reply = self.options.encode(text);
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

    /// `received from PEER: TEXT`, decoded only when it is printed.
    pub fn say_received(&self, peer: SocketAddr, message: &[u8]) {
        if !self.options.quiet {
            let text = self.options.encoding.encoding.display(message);
            self.console
                .say(format_args!("received from {peer}: {text}"));
        }
    }

    /// What Ctrl-C and SIGTERM do (`Stopper::stop`): stop gently, or, the second time, now.
    pub fn stop(&self) {
        self.stopper.stop(&self.clients, self.options.grace);
    }

    /// Waits until `count` clients are connected, for at most `timeout`.
    pub fn wait_for_active(&self, count: usize, timeout: Duration) -> bool {
        self.clients.wait_for_active(count, timeout)
    }
}
