//! The threaded server. Steps ① socket, ② bind and ③ listen are tcp-echo's; then ④ accept runs
//! in a loop and hands each connection over: to a thread of its own (seed 000), to a fixed pool
//! of threads (`--pool N`), or — to compare (`--sequential`) — to nobody: the accepting thread
//! serves each client itself until it leaves, one after another, as tcp-echo's server does. Steps
//! ⑤ recv, ⑥ send and ⑦ close happen on the client's thread. `--seed-002` is seed 002's
//! "concurrent" server as it really is: one recv and one reply per client, then the next accept.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Display;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use common::busy::{self, BUSY};
use common::cli::{EncodingArg, TraceArg, parse_seconds};
use common::framing::{Pending, SILENCE};
use common::net::{bind_error, is_timeout};
use common::stalled::{self, WriteTimeoutArg};
use common::{Addr, Console, Encoding};
use socket2::{Domain, Protocol, Socket, Type};

use crate::pool::ThreadPool;
use crate::room::{self, Membership, Room};

/// The longest message the server buffers before handling it in pieces.
const MAX_MESSAGE: usize = 64 * 1024;

/// `tcp-threaded server`: where to listen, how to share the work, how to reply.
#[derive(Args, Clone, Debug)]
pub struct Options {
    /// Where to listen: HOST:PORT, [IPV6]:PORT, PORT or :PORT (all interfaces); port 0 lets the OS choose
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9999")]
    pub listen: Addr,

    /// Serve clients on a fixed pool of N threads; the others wait for a free one
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=10_000))]
    pub pool: Option<u16>,

    /// To compare: one thread accepts the clients and serves each until it leaves, as tcp-echo does
    #[arg(long, conflicts_with = "pool")]
    pub sequential: bool,

    /// Seed 002's mistake, as it is: one thread accepts, answers each client's first recv once, and accepts the next
    #[arg(long, conflicts_with_all = ["pool", "sequential"])]
    pub seed_002: bool,

    /// A chat room: each line goes to every other client as `PEER: TEXT`
    #[arg(long, conflicts_with_all = ["pool", "sequential", "seed_002", "upper", "reply"])]
    pub broadcast: bool,

    /// Turn further clients away with `busy, try again later` while N are connected
    #[arg(long, value_name = "N", default_value = "256", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Close a connection that has been silent this many seconds
    #[arg(long, value_name = "SECONDS", default_value = "300", value_parser = parse_seconds)]
    pub idle_timeout: Duration,

    /// On Ctrl-C or SIGTERM, give connected clients this many seconds to finish
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = parse_seconds)]
    pub grace: Duration,

    /// Reply in upper case (seed 004)
    #[arg(long, conflicts_with = "reply")]
    pub upper: bool,

    /// Reply with this fixed text instead of the echo, e.g. 我是一个服务器 (seed 002)
    #[arg(long, value_name = "TEXT")]
    pub reply: Option<String>,

    /// Print only the first and last lines, not every connection and message (for benchmarks)
    #[arg(long)]
    pub quiet: bool,

    #[command(flatten)]
    pub encoding: EncodingArg,

    #[command(flatten)]
    pub write_timeout: WriteTimeoutArg,

    #[command(flatten)]
    pub trace: TraceArg,
}

impl Options {
    /// The defaults of `tcp-threaded server --listen ADDR`, for the demo.
    pub fn new(listen: Addr) -> Options {
        Options {
            listen,
            pool: None,
            sequential: false,
            seed_002: false,
            broadcast: false,
            max_connections: 256,
            idle_timeout: Duration::from_secs(300),
            grace: Duration::from_secs(5),
            upper: false,
            reply: None,
            quiet: false,
            encoding: EncodingArg {
                encoding: Encoding::UTF_8,
            },
            write_timeout: WriteTimeoutArg::default(),
            trace: TraceArg { trace: false },
        }
    }
}

/// `tcp-threaded server`: listen, serve until Ctrl-C or SIGTERM, then stop gently.
pub fn run(options: &Options, console: Console) -> anyhow::Result<()> {
    let addr = options.listen.resolve_one()?;
    let listener = listen(addr, console)?;
    let server = Server::new(&listener, options.clone(), console)?;
    // ANCHOR: signals
    // Ctrl-C (SIGINT), SIGTERM (`kill PID`, what service managers send) and, on Windows, closing
    // the console window all end up here, on a thread of the ctrlc crate: stop gently.
    let on_signal = Arc::clone(&server);
    ctrlc::set_handler(move || on_signal.stop()).context("installing the Ctrl-C handler")?;
    // ANCHOR_END: signals
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

/// A running server: its options, its count of connections, and whether it is stopping.
pub struct Server {
    options: Options,
    console: Console,
    /// Where `stop` connects to wake up a waiting `accept()`.
    wake: SocketAddr,
    connections: Mutex<Connections>,
    /// Signalled whenever a connection ends.
    changed: Condvar,
    /// When stopping, the moment still-connected clients are closed, in milliseconds since
    /// `started`; `u64::MAX` while the server runs. Every client thread checks it often.
    deadline: AtomicU64,
    started: Instant,
    room: Room,
}

#[derive(Default)]
struct Connections {
    active: usize,
    served: u64,
    /// Every connected client's socket, by its number, so that stopping can shut them all
    /// down: a thread blocked in a write wakes up only when its socket does.
    sockets: HashMap<u64, Arc<TcpStream>>,
}

/// A connection the server has counted in, with its seat in the chat room if there is one.
struct Client {
    /// Its number: 1 for the first connection served, 2 for the next…
    number: u64,
    /// Shared with `Connections::sockets` (an `Arc`, not a second file descriptor).
    stream: Arc<TcpStream>,
    peer: SocketAddr,
    membership: Option<Membership>,
}

/// How a connection ended, for the line the server prints.
enum Ending {
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

    // ANCHOR: seed_002
    /// `--seed-002`: seed 002's "concurrent" server as it really is. Its one thread accepts a
    /// client, makes ONE `recv(2048)` and ONE reply, and goes straight back to `accept`: every
    /// client is answered exactly once, its later lines never; a client that connects and says
    /// nothing blocks everyone; and the first error ends the only thread, and the server with it.
    fn serve_seed_002(self: &Arc<Self>, listener: TcpListener) -> anyhow::Result<()> {
        // Python rebinds `client_socket` at the next accept(): only then is the previous client's
        // socket closed. Until then the client is connected, and nobody reads what it sends.
        let mut previous: Option<Client> = None;
        let ended = loop {
            // ④ accept(): the next client, or the connection with which stop() wakes us.
            let accepted = listener.accept();
            if let Some(client) = previous.take() {
                let why = if self.stopping() {
                    "the server is stopping"
                } else {
                    "the next accept() replaced its socket"
                };
                self.close_seed_002(client, why);
            }
            if self.stopping() {
                break Ok(());
            }
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                // Python's bare `except: break` would end the thread here too.
                Err(error) => break Err(anyhow::Error::new(error).context("accept()")),
            };
            self.console.trace(format_args!("accept() -> {peer}"));
            let Some(client) = self.admit(stream, peer) else {
                continue;
            };
            match self.answer_once(&client) {
                Ok(()) => previous = Some(client),
                // Stopping shut the socket down under the read or the write: not the client's doing.
                Err(_) if self.stopping() => {
                    self.close_seed_002(client, "the server is stopping");
                    break Ok(());
                }
                Err(error) => {
                    self.close_seed_002(client, "its only thread ended");
                    break Err(
                        error.context("seed 002's only thread ended, and the server with it")
                    );
                }
            }
        };
        // ⑧ close() the listening socket.
        drop(listener);
        self.finish(Workers::AcceptingThread);
        ended
    }

    /// Seed 002's try block: ⑤ one `recv(2048)`, decoded (Python's `decode` raises on bytes that
    /// are not text), printed, and ⑥ one reply. Nothing checks for the empty `recv`.
    fn answer_once(&self, client: &Client) -> anyhow::Result<()> {
        let (stream, peer): (&TcpStream, _) = (&client.stream, client.peer);
        // The seed waits for ever; we wait --idle-timeout at most, so that nothing hangs.
        stream.set_read_timeout(Some(self.options.idle_timeout))?;
        let mut chunk = [0u8; 2048];
        // On Linux a signal (Ctrl-C) interrupts a recv that has a timeout, SA_RESTART or not
        // (signal(7)): EINTR. Python retries it, and so do we.
        let read = loop {
            match (&*stream).read(&mut chunk) {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                read => break read,
            }
        };
        let received = match read {
            Err(error) if is_timeout(&error) => {
                self.say(format_args!(
                    "{peer} timed out: silent for {} s (--idle-timeout)",
                    self.options.idle_timeout.as_secs_f64()
                ));
                return Ok(());
            }
            result => result.with_context(|| format!("recv(2048) from {peer}"))?,
        };
        self.console
            .trace(format_args!("recv(2048) -> {received} bytes from {peer}"));
        if self.past_deadline() {
            // The grace period is over and stop() shut the socket down: nothing to answer.
            return Ok(());
        }
        let message = &chunk[..received];
        let encoding = self.options.encoding.encoding;
        encoding
            .decode(message)
            .with_context(|| format!("{peer} sent bytes that are not {encoding}"))?;
        self.answer(stream, peer, message)
            .with_context(|| format!("send() to {peer}"))
    }

    /// Closes a client of `--seed-002` and says why.
    fn close_seed_002(&self, client: Client, why: &str) {
        let Client { number, peer, .. } = client;
        let mut connections = self.connections();
        // ⑦ close(): the list's handle and `client`'s were the last ones.
        connections.sockets.remove(&number);
        drop(client);
        connections.active -= 1;
        self.event(&connections, format_args!("closed {peer}: {why}"));
    }
    // ANCHOR_END: seed_002

    // ANCHOR: admit
    /// Counts a new connection in, or turns it away with `busy, try again later` when
    /// `--max-connections` clients are already connected: a limit instead of a thread per
    /// client without end.
    fn admit(&self, stream: TcpStream, peer: SocketAddr) -> Option<Client> {
        let mut connections = self.connections();
        if connections.active >= self.options.max_connections as usize {
            let active = connections.active;
            drop(connections);
            self.say(format_args!(
                "busy: turned {peer} away ({active} active, --max-connections {})",
                self.options.max_connections
            ));
            let mut busy = self.encode(BUSY);
            busy.push(b'\n');
            busy::turn_away(stream, &busy);
            return None;
        }
        // In a chat room, a client is a member from the moment it is announced.
        let membership = if self.options.broadcast {
            match self.room.join(&stream, peer) {
                Ok(membership) => Some(membership),
                Err(error) => {
                    self.say(format_args!("connection with {peer} failed: {error}"));
                    return None;
                }
            }
        } else {
            None
        };
        connections.active += 1;
        connections.served += 1;
        let number = connections.served;
        // Shared with `stop`, which may have to shut it down.
        let stream = Arc::new(stream);
        connections.sockets.insert(number, Arc::clone(&stream));
        // Said while counting, so that the numbers in the lines go up and down in order.
        self.event(&connections, format_args!("connection from {peer}"));
        Some(Client {
            number,
            stream,
            peer,
            membership,
        })
    }
    // ANCHOR_END: admit

    // ANCHOR: client_thread
    /// Everything that happens to one client, on the thread that serves it.
    fn serve_client(&self, client: Client) {
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
    fn receive_lines(
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
    fn answer(&self, stream: &TcpStream, peer: SocketAddr, message: &[u8]) -> io::Result<()> {
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

    // ANCHOR: chat
    /// `--broadcast`: this client's lines go to the room; what the others say reaches it
    /// through its queue and its own writer thread.
    fn chat(&self, stream: &TcpStream, peer: SocketAddr, membership: Membership) -> Ending {
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

    // ANCHOR: stop
    /// What Ctrl-C and SIGTERM do. The first time: accept no more clients, and give the
    /// connected ones `--grace` seconds to finish. The second time: close them now.
    pub fn stop(self: &Arc<Self>) {
        let connections = self.connections();
        let now = self.started.elapsed().as_millis() as u64;
        let grace = self.options.grace.as_millis() as u64;
        let deadline = if self.stopping() {
            self.console.say(format_args!(
                "closing the remaining {} connection(s) now",
                connections.active
            ));
            now
        } else if connections.active == 0 {
            self.console.say("stopping: no new connections");
            now
        } else {
            self.console.say(format_args!(
                "stopping: no new connections; {} connected client(s) have {} s to finish (Ctrl-C again to close them now)",
                connections.active,
                self.options.grace.as_secs_f64()
            ));
            now.saturating_add(grace)
        };
        let first = !self.stopping();
        self.deadline.store(deadline, Ordering::SeqCst);
        if deadline == now {
            // A thread blocked in a write sees no deadline: shut every socket down, which
            // wakes it with an error (and a blocked read with the end of the stream).
            shut_down_all(&connections);
        } else if first {
            drop(connections);
            self.close_after_grace();
        } else {
            drop(connections);
        }
        // accept() is waiting for a client: be that client, so that it returns and the
        // accept loop sees that we are stopping.
        if let Err(error) = TcpStream::connect_timeout(&self.wake, Duration::from_secs(1)) {
            self.console.trace(format_args!(
                "connect({}) to wake accept(): {error}",
                self.wake
            ));
        }
    }

    /// Starts the thread that shuts the remaining sockets down when the grace period ends (or
    /// ends itself once every client has left).
    fn close_after_grace(self: &Arc<Self>) {
        let server = Arc::clone(self);
        let timer = move || {
            let deadline = Duration::from_millis(server.deadline.load(Ordering::SeqCst));
            let left = deadline.saturating_sub(server.started.elapsed());
            let (connections, _) = server
                .changed
                .wait_timeout_while(server.connections(), left, |connections| {
                    connections.active > 0 && !server.past_deadline()
                })
                .unwrap_or_else(PoisonError::into_inner);
            shut_down_all(&connections);
        };
        if let Err(error) = thread::Builder::new().name("grace".into()).spawn(timer) {
            // No timer: close them now rather than wait for ever.
            self.console
                .say(format_args!("cannot time the grace period: {error}"));
            self.deadline.store(0, Ordering::SeqCst);
            shut_down_all(&self.connections());
        }
    }

    /// After the accept loop: wait until every client has left (each client's thread closes
    /// its connection by itself when the grace period ends), join the threads, and say how
    /// many connections were served.
    fn finish(&self, workers: Workers) {
        let connections = self
            .changed
            .wait_while(self.connections(), |connections| connections.active > 0)
            .unwrap_or_else(PoisonError::into_inner);
        let served = connections.served;
        drop(connections);
        // Seed 000 starts a thread per client and never joins one.
        workers.join();
        let plural = if served == 1 { "" } else { "s" };
        self.console
            .say(format_args!("served {served} connection{plural}"));
    }
    // ANCHOR_END: stop

    /// Whether `stop` has been called.
    fn stopping(&self) -> bool {
        self.deadline.load(Ordering::SeqCst) != u64::MAX
    }

    /// Whether the grace period is over: clients must be closed now.
    fn past_deadline(&self) -> bool {
        let deadline = self.deadline.load(Ordering::Relaxed);
        deadline != u64::MAX && self.started.elapsed().as_millis() as u64 >= deadline
    }

    /// Waits until `count` clients are connected, for at most `timeout`.
    pub fn wait_for_active(&self, count: usize, timeout: Duration) -> bool {
        let (connections, _) = self
            .changed
            .wait_timeout_while(self.connections(), timeout, |connections| {
                connections.active != count
            })
            .unwrap_or_else(PoisonError::into_inner);
        connections.active == count
    }

    fn connections(&self) -> MutexGuard<'_, Connections> {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A line about one connection, with the number of clients connected now.
    fn event(&self, connections: &Connections, what: impl Display) {
        self.say(format_args!("{what} ({} active)", connections.active));
        // The demo waits for the count to change.
        self.changed.notify_all();
    }

    /// `received from PEER: TEXT`, decoded only when it is printed.
    fn say_received(&self, peer: SocketAddr, message: &[u8]) {
        if !self.options.quiet {
            let text = self.options.encoding.encoding.display(message);
            self.console
                .say(format_args!("received from {peer}: {text}"));
        }
    }

    /// A line that `--quiet` leaves out.
    fn say(&self, line: impl Display) {
        if !self.options.quiet {
            self.console.say(line);
        }
    }

    /// Text in the wire encoding. Every text the server sends was checked at start-up (or is
    /// ASCII), so the fallback never applies.
    fn encode(&self, text: &str) -> Vec<u8> {
        self.options
            .encoding
            .encoding
            .encode(text)
            .unwrap_or_else(|_| text.as_bytes().to_vec())
    }
}

// ANCHOR: workers
/// Who serves the connections that the accept loop hands over.
enum Workers {
    /// `--sequential`: the accepting thread serves each client itself until it leaves, as
    /// tcp-echo's server does, so the next client waits. One thread is not concurrency.
    AcceptingThread,
    /// Seed 000: a new thread for every connection. The handles are kept so that the threads
    /// can be joined at the end.
    ThreadPerConnection(Vec<JoinHandle<()>>),
    /// `--pool N`: N threads, started once; connections wait in the pool's channel.
    Pool(ThreadPool),
}
// ANCHOR_END: workers

impl Workers {
    fn start(options: &Options) -> anyhow::Result<Workers> {
        Ok(match options.pool {
            Some(size) => Workers::Pool(
                ThreadPool::new(usize::from(size)).context("starting the worker threads")?,
            ),
            None if options.sequential => Workers::AcceptingThread,
            None => Workers::ThreadPerConnection(Vec::new()),
        })
    }

    // ANCHOR: hand_over
    /// Gives an accepted client to whoever serves it, and returns to the accept loop at once —
    /// except in seed 002's mistake.
    fn hand_over(&mut self, server: &Arc<Server>, client: Client) {
        let (number, peer) = (client.number, client.peer);
        match self {
            Workers::AcceptingThread => server.serve_client(client),
            Workers::ThreadPerConnection(threads) => {
                // Forget the threads that have finished (their resources are already freed).
                threads.retain(|thread| !thread.is_finished());
                server
                    .console
                    .trace(format_args!("thread::spawn() to serve {peer}"));
                // The thread gets its own handle on the server: an Arc, shared by all threads.
                let shared = Arc::clone(server);
                let spawned = thread::Builder::new()
                    .name(format!("client {peer}"))
                    .spawn(move || shared.serve_client(client));
                match spawned {
                    Ok(thread) => threads.push(thread),
                    // The OS refused a thread; the connection was dropped with the closure.
                    Err(error) => server.lost(number, peer, error),
                }
            }
            Workers::Pool(pool) => {
                server
                    .console
                    .trace(format_args!("channel send: {peer} waits for a worker"));
                let shared = Arc::clone(server);
                let queued = pool.execute(move |worker| {
                    shared.say(format_args!("worker {worker} serves {peer}"));
                    shared.serve_client(client);
                });
                if let Err(error) = queued {
                    server.lost(number, peer, error);
                }
            }
        }
    }
    // ANCHOR_END: hand_over

    /// Waits for every client thread (they have all finished their clients by now).
    fn join(self) {
        match self {
            Workers::AcceptingThread => {}
            Workers::ThreadPerConnection(threads) => {
                for thread in threads {
                    let _ = thread.join();
                }
            }
            // Dropping the pool closes its channel and joins its workers.
            Workers::Pool(pool) => drop(pool),
        }
    }
}

impl Server {
    /// A connection admitted but never served, because no thread could take it.
    fn lost(&self, number: u64, peer: SocketAddr, error: io::Error) {
        self.room.leave(peer);
        let mut connections = self.connections();
        // The last handle on its socket: closing it.
        connections.sockets.remove(&number);
        connections.active -= 1;
        self.event(
            &connections,
            format_args!("connection with {peer} failed: no thread for it: {error}"),
        );
    }
}

/// The socket's options: a read wakes up after a short silence, to answer a message that has
/// no newline and to look at the clock (every write has its own deadline, `--write-timeout`).
/// And each reply leaves at once: with Nagle's algorithm on, the second of two quick replies
/// would wait until the client acknowledges the first, and clients delay that by 40 ms.
fn socket_options(stream: &TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(SILENCE))?;
    stream.set_nodelay(true)
}

/// Shuts down every connected client's socket, in both directions: the end of the grace period.
fn shut_down_all(connections: &Connections) {
    for socket in connections.sockets.values() {
        let _ = socket.shutdown(Shutdown::Both);
    }
}
