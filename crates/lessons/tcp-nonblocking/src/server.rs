//! The server on one thread. Steps ① socket, ② bind and ③ listen are tcp-echo's, plus one call:
//! `set_nonblocking(true)`. Then one loop does everything: ask the `Poll` which sockets are
//! ready, and for each, do what can be done *now* — accept until `WouldBlock`, read until
//! `WouldBlock`, write until `WouldBlock` — and never wait for any one client.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt::Display;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use common::cli::{EncodingArg, TraceArg, parse_seconds};
use common::framing::{Pending, SILENCE};
use common::net::bind_error;
use common::stalled::WriteTimeoutArg;
use common::{Addr, Console, Encoding};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Registry, Token, Waker};
use socket2::{Domain, Protocol, Socket, Type};

/// The longest message the server buffers before handling it in pieces.
const MAX_MESSAGE: usize = 64 * 1024;

/// Echo mode: past this many bytes owed to a client, stop reading from it until it has read
/// some. A client that sends and never reads then fills its own buffers, not the server's memory.
pub const MAX_OWED: usize = 256 * 1024;

/// Chat room: how many lines may wait for one client; past that it is dropped.
pub const QUEUE: usize = 64;

/// How many reads one connection gets in one turn of the loop, so that a fast client cannot
/// keep the loop for itself: 16 reads of 64 KiB.
const BUDGET: usize = 16;

/// What a client gets when `--max-connections` are already connected.
pub const BUSY: &str = "busy, try again later";

/// How many turned-away clients may be drained at once, and for how long.
const MAX_TURNING_AWAY: usize = 64;
const TURN_AWAY_FOR: Duration = Duration::from_secs(2);

const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);
const FIRST_CLIENT: usize = 2;

/// `tcp-nonblocking server`: tcp-threaded's options, on one thread.
#[derive(Args, Clone, Debug)]
pub struct Options {
    /// Where to listen: HOST:PORT, [IPV6]:PORT, PORT or :PORT (all interfaces); port 0 lets the OS choose
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9999")]
    pub listen: Addr,

    /// A chat room: each line goes to every other client as `PEER: TEXT`
    #[arg(long, conflicts_with_all = ["upper", "reply", "busy_poll"])]
    pub broadcast: bool,

    /// Turn further clients away with `busy, try again later` while N are connected
    #[arg(long, value_name = "N", default_value = "10000", value_parser = clap::value_parser!(u32).range(1..))]
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

    /// The naive loop, to compare: ask every socket in turn, never sleep (burns a core)
    #[arg(long, conflicts_with_all = ["upper", "reply"])]
    pub busy_poll: bool,

    #[command(flatten)]
    pub encoding: EncodingArg,

    #[command(flatten)]
    pub write_timeout: WriteTimeoutArg,

    #[command(flatten)]
    pub trace: TraceArg,
}

impl Options {
    /// The defaults of `tcp-nonblocking server --listen ADDR`, for the demo.
    pub fn new(listen: Addr) -> Options {
        Options {
            listen,
            broadcast: false,
            max_connections: 10_000,
            idle_timeout: Duration::from_secs(300),
            grace: Duration::from_secs(5),
            upper: false,
            reply: None,
            quiet: false,
            busy_poll: false,
            encoding: EncodingArg {
                encoding: Encoding::UTF_8,
            },
            write_timeout: WriteTimeoutArg::default(),
            trace: TraceArg { trace: false },
        }
    }
}

/// `tcp-nonblocking server`: listen, serve until Ctrl-C or SIGTERM, then stop gently.
pub fn run(options: &Options, console: Console) -> anyhow::Result<()> {
    crate::raise_open_file_limit(console);
    let addr = options.listen.resolve_one()?;
    let listener = listen(addr, console)?;
    if options.busy_poll {
        let stop = Arc::new(AtomicUsize::new(0));
        let on_signal = Arc::clone(&stop);
        ctrlc::set_handler(move || {
            on_signal.fetch_add(1, Ordering::SeqCst);
        })
        .context("installing the Ctrl-C handler")?;
        console.say(format_args!("listening on {}", listener.local_addr()?));
        return crate::busy::serve(listener, options, console, &stop);
    }
    let server = Server::new(listener, options.clone(), console)?;
    // ANCHOR: signals
    // Ctrl-C, SIGTERM (`kill PID`) and, on Windows, closing the console all run this on a
    // thread of the ctrlc crate. The loop may be asleep in poll(): count the signal, then wake
    // the Poll with its Waker. The loop does the rest, on its own thread.
    let stopper = server.stopper();
    ctrlc::set_handler(move || stopper.stop()).context("installing the Ctrl-C handler")?;
    // ANCHOR_END: signals
    // Only now: whoever reads this line may already send us a signal.
    console.say(format_args!("listening on {}", server.local_addr()?));
    server.serve()
}

// ANCHOR: listen
/// Steps ① to ③, as in tcp-echo, and one more: non-blocking mode. From now on `accept()`
/// returns `WouldBlock` at once when no client is waiting. The backlog is larger than
/// tcp-threaded's: a thousand clients connecting at once must not find the queue full.
pub fn listen(addr: SocketAddr, console: Console) -> anyhow::Result<std::net::TcpListener> {
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
    socket.listen(1024).context("listen(1024)")?;
    console.trace("listen(1024)");
    // Seed 003's setblocking(False).
    socket
        .set_nonblocking(true)
        .context("set_nonblocking(true)")?;
    console.trace("set_nonblocking(true)");
    Ok(socket.into())
}
// ANCHOR_END: listen

/// Stops a running server from another thread: what Ctrl-C does, and what the demo calls.
#[derive(Clone)]
pub struct Stopper {
    signals: Arc<AtomicUsize>,
    waker: Arc<Waker>,
}

impl Stopper {
    /// Counts one stop request and wakes the loop.
    pub fn stop(&self) {
        self.signals.fetch_add(1, Ordering::SeqCst);
        // Wake poll(): the loop sees the count on the WAKER token.
        let _ = self.waker.wake();
    }
}

/// What the demo reads while the server runs on its own thread.
#[derive(Default)]
pub struct Stats {
    /// How many clients are connected.
    pub active: AtomicUsize,
}

// ANCHOR: connection
/// Everything the server keeps for one client: with threads, most of it lived on the client's
/// thread's stack; here it must be written down, because the loop moves on after every step.
struct Connection {
    stream: TcpStream,
    peer: SocketAddr,
    /// Bytes received but not yet a whole line.
    pending: Pending,
    /// Bytes owed to the client, in order: replies, or the room's lines. A line may be shared
    /// by every member of the room.
    owed: VecDeque<Arc<[u8]>>,
    /// How much of the first owed line has already been sent.
    sent_of_first: usize,
    owed_bytes: usize,
    /// Echo mode: too much is owed; reading stopped until the client reads.
    paused: bool,
    /// The client closed its sending half: close once everything owed is sent.
    finished_sending: bool,
    /// When a byte last came in; when a byte last went out.
    last_heard: Instant,
    last_sent: Instant,
    /// What the Poll is told to watch for: readable, and writable only while something is owed.
    interest: Interest,
    /// This connection's entry in the deadline set.
    deadline: Instant,
}
// ANCHOR_END: connection

/// How a connection ended, for the line the server prints.
enum Ending {
    Closed,
    Idle,
    Stopping,
    Dropped,
    StoppedReading,
    Failed(io::Error),
}

/// A client turned away: the busy line is sent; what it sends is read and thrown away until it
/// closes, so that closing does not reset the connection before the client read the line.
struct TurnedAway {
    stream: TcpStream,
    deadline: Instant,
}

/// How long to wait before calling `accept` again after it failed for lack of a resource.
const ACCEPT_AGAIN_AFTER: Duration = Duration::from_millis(100);

/// The server: one Poll, the listening socket, and a table of connections, all on one thread.
pub struct Server {
    poll: Poll,
    listener: Option<TcpListener>,
    connections: HashMap<Token, Connection>,
    turned_away: HashMap<Token, TurnedAway>,
    /// Every connection's next deadline (idle, silence, stalled write), sorted: the first one
    /// says how long poll() may sleep. One entry per connection, no thread per timer.
    deadlines: BTreeSet<(Instant, Token)>,
    /// Connections that used their read budget, to read again before sleeping.
    again: Vec<Token>,
    next_token: usize,
    /// Where reads land: one buffer for every client, since the loop reads one at a time.
    chunk: Vec<u8>,
    active: usize,
    peak: usize,
    served: u64,
    stopper: Stopper,
    signals_seen: usize,
    /// When stopping: when the clients still connected are closed.
    closing_at: Option<Instant>,
    /// When to try `accept` again after it failed for lack of a resource (too many open files):
    /// the Poll will not say so again while the same clients wait.
    accept_again_at: Option<Instant>,
    stats: Arc<Stats>,
    options: Options,
    console: Console,
}

impl Server {
    /// A server for `listener` (already non-blocking), not yet serving.
    pub fn new(
        listener: std::net::TcpListener,
        options: Options,
        console: Console,
    ) -> anyhow::Result<Server> {
        // ANCHOR: poll
        // One Poll for everything: epoll on Linux, kqueue on macOS, IOCP on Windows.
        let poll = Poll::new().context("creating the Poll")?;
        let mut listener = TcpListener::from_std(listener);
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)
            .context("registering the listening socket")?;
        // A way for another thread (the Ctrl-C handler) to wake a poll() that sleeps.
        let waker = Waker::new(poll.registry(), WAKER).context("creating the Waker")?;
        // ANCHOR_END: poll
        console.trace("epoll_ctl(ADD, listening socket, READABLE)");
        Ok(Server {
            poll,
            listener: Some(listener),
            connections: HashMap::new(),
            turned_away: HashMap::new(),
            deadlines: BTreeSet::new(),
            again: Vec::new(),
            next_token: FIRST_CLIENT,
            chunk: vec![0; 64 * 1024],
            active: 0,
            peak: 0,
            served: 0,
            stopper: Stopper {
                signals: Arc::new(AtomicUsize::new(0)),
                waker: Arc::new(waker),
            },
            signals_seen: 0,
            closing_at: None,
            accept_again_at: None,
            stats: Arc::default(),
            options,
            console,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match &self.listener {
            Some(listener) => listener.local_addr(),
            None => Err(io::Error::from(ErrorKind::NotConnected)),
        }
    }

    /// A handle that stops the server from another thread.
    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }

    /// Its counts, readable from another thread.
    pub fn stats(&self) -> Arc<Stats> {
        Arc::clone(&self.stats)
    }

    // ANCHOR: event_loop
    /// The event loop: sleep in poll() until something is ready or a deadline comes, do what
    /// the ready sockets allow, handle the deadlines, again — until stopped and empty.
    pub fn serve(mut self) -> anyhow::Result<()> {
        let mut events = Events::with_capacity(1024);
        while !(self.stopping() && self.active == 0) {
            let timeout = self.sleep_for();
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                // A signal arrived during the system call: not an error, poll again.
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                Err(error) => return Err(error).context("poll()"),
            }
            if self.console.tracing() {
                let ready = events.iter().count();
                self.console.trace(format_args!("poll() -> {ready} ready"));
            }
            for event in &events {
                match event.token() {
                    LISTENER => self.accept_all(),
                    WAKER => self.on_signal(),
                    // A hang-up or an error: reading will say which.
                    token => self.on_ready(
                        token,
                        event.is_readable() || event.is_read_closed() || event.is_error(),
                        event.is_writable() || event.is_write_closed(),
                    ),
                }
            }
            // Those that had more to read than one turn allows: their turn again.
            for token in std::mem::take(&mut self.again) {
                self.on_ready(token, true, false);
            }
            self.on_deadlines(Instant::now());
        }
        self.finish();
        Ok(())
    }
    // ANCHOR_END: event_loop

    /// How long poll() may sleep: until the first deadline, or not at all when a connection
    /// still has something to read. `None`: until something happens.
    fn sleep_for(&self) -> Option<Duration> {
        if !self.again.is_empty() {
            return Some(Duration::ZERO);
        }
        let first = self.deadlines.first().map(|&(when, _)| when);
        let next = [first, self.closing_at, self.accept_again_at]
            .into_iter()
            .flatten()
            .min();
        // Rounded up, so that the loop does not wake a moment too early and spin.
        next.map(|when| when.saturating_duration_since(Instant::now()) + Duration::from_millis(1))
    }

    // ANCHOR: accept
    /// The listening socket is readable: clients are waiting. Accept until `WouldBlock` — the
    /// Poll reports a ready socket once, not once per client.
    fn accept_all(&mut self) {
        loop {
            let Some(listener) = &self.listener else {
                return;
            };
            let (stream, peer) = match listener.accept() {
                Ok(accepted) => accepted,
                // No client waiting any more: back to the loop.
                Err(error) if error.kind() == ErrorKind::WouldBlock => return,
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                // A client that gave up while it waited (accept(2): treat such network errors
                // like EAGAIN and retry): the next one may be fine. Stopping here would leave
                // the others waiting, since the Poll reports a ready socket only once.
                Err(error)
                    if matches!(
                        error.kind(),
                        ErrorKind::ConnectionAborted
                            | ErrorKind::ConnectionReset
                            | ErrorKind::NotConnected
                    ) =>
                {
                    self.console
                        .say(format_args!("accept() failed: {error}; still listening"));
                    continue;
                }
                // Such as too many open files: keep serving the others, and try again in a
                // moment (a deadline), not at once, which would spin.
                Err(error) => {
                    self.console
                        .say(format_args!("accept() failed: {error}; still listening"));
                    self.accept_again_at = Some(Instant::now() + ACCEPT_AGAIN_AFTER);
                    return;
                }
            };
            self.console.trace(format_args!("accept() -> {peer}"));
            self.admit(stream, peer);
        }
    }
    // ANCHOR_END: accept

    // ANCHOR: admit
    /// Counts a new connection in and registers it with the Poll, or turns it away with
    /// `busy, try again later` when `--max-connections` clients are connected.
    fn admit(&mut self, mut stream: TcpStream, peer: SocketAddr) {
        let token = Token(self.next_token);
        self.next_token += 1;
        if self.active >= self.options.max_connections as usize {
            self.say(format_args!(
                "busy: turned {peer} away ({} active, --max-connections {})",
                self.active, self.options.max_connections
            ));
            self.turn_away(stream, token);
            return;
        }
        // Each reply leaves at once: see tcp-threaded on Nagle's algorithm.
        let registered = stream.set_nodelay(true).and_then(|()| {
            self.poll
                .registry()
                .register(&mut stream, token, Interest::READABLE)
        });
        if let Err(error) = registered {
            self.say(format_args!("connection with {peer} failed: {error}"));
            return;
        }
        let now = Instant::now();
        let connection = Connection {
            stream,
            peer,
            pending: Pending::default(),
            owed: VecDeque::new(),
            sent_of_first: 0,
            owed_bytes: 0,
            paused: false,
            finished_sending: false,
            last_heard: now,
            last_sent: now,
            interest: Interest::READABLE,
            deadline: now,
        };
        self.active += 1;
        self.served += 1;
        self.peak = self.peak.max(self.active);
        self.stats.active.store(self.active, Ordering::SeqCst);
        self.event(format_args!("connection from {peer}"));
        self.put_back(token, connection);
    }
    // ANCHOR_END: admit

    /// Sends the busy line and ends our side; reads what the client sends until it closes
    /// (for 2 s at most) so that closing does not destroy the line with a reset.
    fn turn_away(&mut self, mut stream: TcpStream, token: Token) {
        let mut busy = self.encode(BUSY);
        busy.push(b'\n');
        // A new socket's send buffer is empty: this write takes the whole line at once.
        let _ = stream.write(&busy);
        let _ = stream.shutdown(Shutdown::Write);
        if self.turned_away.len() >= MAX_TURNING_AWAY {
            return; // too many at once: close now, as `stream` is dropped
        }
        if self
            .poll
            .registry()
            .register(&mut stream, token, Interest::READABLE)
            .is_ok()
        {
            let deadline = Instant::now() + TURN_AWAY_FOR;
            self.deadlines.insert((deadline, token));
            self.turned_away
                .insert(token, TurnedAway { stream, deadline });
        }
    }

    // ANCHOR: on_ready
    /// A client's socket is ready. Take its state out of the table, do what can be done now,
    /// then close it, or put it back with what the Poll should watch for next.
    fn on_ready(&mut self, token: Token, readable: bool, writable: bool) {
        if let Some(mut turned_away) = self.turned_away.remove(&token) {
            if discard(&mut turned_away.stream) {
                self.turned_away.insert(token, turned_away);
            } else {
                self.deadlines.remove(&(turned_away.deadline, token));
                let _ = self.poll.registry().deregister(&mut turned_away.stream);
            }
            return;
        }
        // A token whose connection was closed earlier in this turn: nothing to do.
        let Some(mut connection) = self.take(token) else {
            return;
        };
        match self.serve_client(&mut connection, token, readable, writable) {
            Some(ending) => self.close(connection, ending),
            None => self.put_back(token, connection),
        }
    }

    /// Writes what is owed, reads what has arrived (answering each line), writes the answers.
    /// `Some`: the connection is over.
    fn serve_client(
        &mut self,
        connection: &mut Connection,
        token: Token,
        readable: bool,
        writable: bool,
    ) -> Option<Ending> {
        if (writable || connection.owed_bytes > 0)
            && let Err(error) = connection.flush(self.console)
        {
            return Some(Ending::Failed(error));
        }
        // Read when the Poll says so, or when reading was paused and the client has caught up
        // (the Poll will not say it again: it reports a change, not a state).
        let resume = connection.paused && connection.owed_bytes < MAX_OWED;
        if (readable || resume) && !connection.finished_sending {
            connection.paused = false;
            match self.receive(connection) {
                Reading::Drained | Reading::Paused => {}
                Reading::OverBudget => self.again.push(token),
                Reading::Ended(ending) => return Some(ending),
            }
            if let Err(error) = connection.flush(self.console) {
                return Some(Ending::Failed(error));
            }
            if connection.paused && connection.owed_bytes < MAX_OWED {
                self.again.push(token);
            }
        }
        if connection.finished_sending && connection.owed.is_empty() {
            return Some(Ending::Closed);
        }
        None
    }
    // ANCHOR_END: on_ready

    // ANCHOR: receive
    /// Reads until `WouldBlock`: whatever arrived, cut into lines, each one answered (queued).
    fn receive(&mut self, connection: &mut Connection) -> Reading {
        let mut chunk = std::mem::take(&mut self.chunk);
        let reading = self.read_into(connection, &mut chunk);
        self.chunk = chunk;
        reading
    }

    fn read_into(&mut self, connection: &mut Connection, chunk: &mut [u8]) -> Reading {
        let peer = connection.peer;
        for _ in 0..BUDGET {
            let received = match connection.stream.read(chunk) {
                Ok(received) => received,
                // Nothing more has arrived: the Poll will say when something does.
                Err(error) if error.kind() == ErrorKind::WouldBlock => return Reading::Drained,
                // A signal interrupted the call before any byte came: try again.
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                Err(error) => return Reading::Ended(Ending::Failed(error)),
            };
            self.console.trace(format_args!(
                "recv({}) -> {received} bytes from {peer}",
                chunk.len()
            ));
            // recv returned 0: the client closed its sending half. Answer what is left; the
            // connection closes once the answers are sent.
            if received == 0 {
                if let Some(message) = connection.pending.take_rest() {
                    self.handle(connection, &message);
                }
                connection.finished_sending = true;
                return Reading::Drained;
            }
            connection.last_heard = Instant::now();
            connection.pending.push(&chunk[..received]);
            while let Some(message) = connection.pending.take_line(MAX_MESSAGE) {
                self.handle(connection, &message);
            }
            if connection.pending.is_empty() {
                // Every byte was a whole line: let the buffer's memory go (a 64 KiB line must
                // not cost 64 KiB for as long as the client stays connected).
                connection.pending = Pending::default();
            }
            // Backpressure: the client does not read what it is sent. Stop reading it; its
            // kernel buffers fill up, and its writes wait — its problem, not the server's.
            if connection.owed_bytes >= MAX_OWED {
                connection.paused = true;
                return Reading::Paused;
            }
        }
        Reading::OverBudget
    }
    // ANCHOR_END: receive

    /// One complete message: the chat room's, or the echo's.
    fn handle(&mut self, connection: &mut Connection, message: &[u8]) {
        self.say_received(connection.peer, message);
        if self.options.broadcast {
            self.broadcast(connection.peer, message);
            return;
        }
        let encoding = self.options.encoding.encoding;
        let reply: Arc<[u8]> = match &self.options.reply {
            Some(text) => {
                let mut reply = self.encode(text);
                reply.push(b'\n');
                reply.into()
            }
            None if self.options.upper => encoding.upper_case(message).into(),
            None => message.into(),
        };
        connection.owe(reply);
    }

    // ANCHOR: broadcast
    /// `--broadcast`: queue `PEER: TEXT` for every other client, and send what can be sent
    /// now. One copy of the line, shared by every queue. A client whose queue is full is not
    /// reading: it is dropped, and nobody waits for it.
    fn broadcast(&mut self, speaker: SocketAddr, line: &[u8]) {
        let message = tagged(speaker, line, self.options.encoding.encoding);
        let mut ended = Vec::new();
        let console = self.console;
        // The speaker is out of the table while it is served: it does not hear itself.
        for (&token, listener) in &mut self.connections {
            if listener.owed.len() >= QUEUE {
                ended.push((token, Ending::Dropped));
                continue;
            }
            listener.owe(Arc::clone(&message));
            if let Err(error) = listener.flush(console) {
                ended.push((token, Ending::Failed(error)));
            }
        }
        for (token, ending) in ended {
            if let Some(listener) = self.take(token) {
                self.close(listener, ending);
            }
        }
        // The others' interests and deadlines change with what they are owed.
        let tokens: Vec<Token> = self.connections.keys().copied().collect();
        for token in tokens {
            if let Some(listener) = self.take(token) {
                self.put_back(token, listener);
            }
        }
    }
    // ANCHOR_END: broadcast

    // ANCHOR: deadlines
    /// Handles every deadline that has come: the grace period's end, a silence that ends a
    /// message without a newline, an idle client, a client that stopped reading.
    fn on_deadlines(&mut self, now: Instant) {
        if self.accept_again_at.is_some_and(|when| when <= now) {
            self.accept_again_at = None;
            self.accept_all();
        }
        if self.closing_at.is_some_and(|when| when <= now) {
            for token in self.connections.keys().copied().collect::<Vec<_>>() {
                if let Some(connection) = self.take(token) {
                    self.close(connection, Ending::Stopping);
                }
            }
        }
        while let Some(&(when, token)) = self.deadlines.first() {
            if when > now {
                break;
            }
            self.deadlines.pop_first();
            if let Some(mut turned_away) = self.turned_away.remove(&token) {
                let _ = self.poll.registry().deregister(&mut turned_away.stream);
                continue;
            }
            let Some(mut connection) = self.connections.remove(&token) else {
                continue;
            };
            let ending = if connection.owed_bytes > 0
                && now >= connection.last_sent + self.options.write_timeout.write_timeout
            {
                Some(Ending::StoppedReading)
            } else if now >= connection.last_active() + self.options.idle_timeout {
                Some(Ending::Idle)
            } else if now >= connection.last_heard + SILENCE
                && let Some(message) = connection.pending.take_rest()
            {
                // A message without a newline, and then silence: it is complete.
                self.handle(&mut connection, &message);
                connection.flush(self.console).err().map(Ending::Failed)
            } else {
                None
            };
            match ending {
                Some(ending) => self.close(connection, ending),
                None => self.put_back(token, connection),
            }
        }
    }
    // ANCHOR_END: deadlines

    /// Takes a connection out of the table (and its deadline out of the set) to work on it.
    fn take(&mut self, token: Token) -> Option<Connection> {
        let connection = self.connections.remove(&token)?;
        self.deadlines.remove(&(connection.deadline, token));
        Some(connection)
    }

    // ANCHOR: put_back
    /// Puts a connection back in the table: tells the Poll what to watch for (writable only
    /// while something is owed: mio's readiness is edge-triggered, so asking costs little, but
    /// there is nothing to wait for), and files its next deadline.
    fn put_back(&mut self, token: Token, mut connection: Connection) {
        let mut wanted = if connection.paused || connection.finished_sending {
            None
        } else {
            Some(Interest::READABLE)
        };
        if !connection.owed.is_empty() {
            wanted = Some(wanted.map_or(Interest::WRITABLE, |i| i | Interest::WRITABLE));
        }
        // Neither: paused or finished with nothing owed, which serve_client never leaves.
        let wanted = wanted.unwrap_or(Interest::READABLE);
        if wanted != connection.interest {
            if let Err(error) =
                reregister(self.poll.registry(), &mut connection.stream, token, wanted)
            {
                self.close(connection, Ending::Failed(error));
                return;
            }
            self.console.trace(format_args!(
                "epoll_ctl(MOD, {}, {})",
                connection.peer,
                describe(wanted)
            ));
            connection.interest = wanted;
        }
        connection.deadline = connection.next_deadline(&self.options);
        self.deadlines.insert((connection.deadline, token));
        self.connections.insert(token, connection);
    }
    // ANCHOR_END: put_back

    /// ⑦ close() a client's socket, and say how its connection ended.
    fn close(&mut self, mut connection: Connection, ending: Ending) {
        let _ = self.poll.registry().deregister(&mut connection.stream);
        let peer = connection.peer;
        drop(connection);
        self.console
            .trace(format_args!("close() the socket of {peer}"));
        self.active -= 1;
        self.stats.active.store(self.active, Ordering::SeqCst);
        let what = match ending {
            Ending::Closed => format!("{peer} closed the connection"),
            Ending::Idle => format!(
                "{peer} timed out: silent for {} s (--idle-timeout)",
                self.options.idle_timeout.as_secs_f64()
            ),
            Ending::Stopping => format!("closed {peer}: the server is stopping"),
            Ending::Dropped => format!("dropped {peer}: not reading, {QUEUE} lines waiting for it"),
            Ending::StoppedReading => format!(
                "connection with {peer} failed: the client stopped reading: nothing could be sent for {} s (--write-timeout)",
                self.options.write_timeout.write_timeout.as_secs_f64()
            ),
            Ending::Failed(error) => format!("connection with {peer} failed: {error}"),
        };
        self.event(what);
    }

    // ANCHOR: stop
    /// The Waker woke the loop: a signal came. The first: accept no more clients (close the
    /// listening socket) and give the connected ones `--grace` seconds. The second: now.
    fn on_signal(&mut self) {
        let signals = self.stopper.signals.load(Ordering::SeqCst);
        if signals == self.signals_seen {
            return;
        }
        let first = self.signals_seen == 0;
        self.signals_seen = signals;
        let now = Instant::now();
        if !first || signals > 1 {
            self.console.say(format_args!(
                "closing the remaining {} connection(s) now",
                self.active
            ));
            self.closing_at = Some(now);
        } else if self.active == 0 {
            self.console.say("stopping: no new connections");
            self.closing_at = Some(now);
        } else {
            self.console.say(format_args!(
                "stopping: no new connections; {} connected client(s) have {} s to finish (Ctrl-C again to close them now)",
                self.active,
                self.options.grace.as_secs_f64()
            ));
            self.closing_at = Some(now + self.options.grace);
        }
        if let Some(mut listener) = self.listener.take() {
            let _ = self.poll.registry().deregister(&mut listener);
            // ⑧ close() the listening socket: clients that connect now are refused.
            drop(listener);
            self.console.trace("close() the listening socket");
        }
    }

    /// Whether a stop was asked for.
    fn stopping(&self) -> bool {
        self.closing_at.is_some()
    }

    /// After the loop: the summary.
    fn finish(&mut self) {
        self.turned_away.clear();
        let served = self.served;
        let plural = if served == 1 { "" } else { "s" };
        self.console.say(format_args!(
            "at most {} connection{} at once, on one thread",
            self.peak,
            if self.peak == 1 { "" } else { "s" }
        ));
        self.console
            .say(format_args!("served {served} connection{plural}"));
    }
    // ANCHOR_END: stop

    /// A line about one connection, with the number of clients connected now.
    fn event(&self, what: impl Display) {
        self.say(format_args!("{what} ({} active)", self.active));
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

/// What one turn of reading ended with.
enum Reading {
    /// Everything that had arrived is read (`WouldBlock`), or the client finished sending.
    Drained,
    /// Too much is owed to this client: reading stopped.
    Paused,
    /// There may be more, but the others get their turn first.
    OverBudget,
    Ended(Ending),
}

impl Connection {
    /// Queues bytes for the client.
    fn owe(&mut self, bytes: Arc<[u8]>) {
        if self.owed.is_empty() {
            // The write timeout counts from when something is first owed.
            self.last_sent = Instant::now();
        }
        self.owed_bytes += bytes.len();
        self.owed.push_back(bytes);
    }

    // ANCHOR: flush
    /// Writes what is owed until `WouldBlock`. A write may take only part of what it is given:
    /// the rest stays queued, and the Poll is asked to say when the socket is writable again.
    fn flush(&mut self, console: Console) -> io::Result<()> {
        while let Some(first) = self.owed.front() {
            let unsent = &first[self.sent_of_first..];
            match self.stream.write(unsent) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(sent) => {
                    console.trace(format_args!(
                        "send({} bytes) -> {sent} to {}",
                        unsent.len(),
                        self.peer
                    ));
                    self.last_sent = Instant::now();
                    self.owed_bytes -= sent;
                    self.sent_of_first += sent;
                    if self.sent_of_first == first.len() {
                        self.owed.pop_front();
                        self.sent_of_first = 0;
                    }
                }
                // The client's receive window and our send buffer are full: later.
                Err(error) if error.kind() == ErrorKind::WouldBlock => break,
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
        if self.owed.is_empty() && self.owed.capacity() > QUEUE {
            // A burst is over: give its memory back, so that ten thousand idle clients stay small.
            self.owed.shrink_to_fit();
        }
        Ok(())
    }
    // ANCHOR_END: flush

    /// When the client last did anything: sent, or read what it was sent.
    fn last_active(&self) -> Instant {
        self.last_heard.max(self.last_sent)
    }

    /// The next moment something must happen to this connection if nothing else does.
    fn next_deadline(&self, options: &Options) -> Instant {
        let mut deadline = self.last_active() + options.idle_timeout;
        if !self.pending.is_empty() {
            deadline = deadline.min(self.last_heard + SILENCE);
        }
        if self.owed_bytes > 0 {
            deadline = deadline.min(self.last_sent + options.write_timeout.write_timeout);
        }
        deadline
    }
}

/// Reads and throws away what a turned-away client sends. `false`: it is gone.
fn discard(stream: &mut TcpStream) -> bool {
    let mut sink = [0u8; 4096];
    loop {
        match stream.read(&mut sink) {
            Ok(0) => return false,
            Ok(_) => {}
            Err(error) if error.kind() == ErrorKind::WouldBlock => return true,
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

fn reregister(
    registry: &Registry,
    stream: &mut TcpStream,
    token: Token,
    interest: Interest,
) -> io::Result<()> {
    registry.reregister(stream, token, interest)
}

fn describe(interest: Interest) -> &'static str {
    match (interest.is_readable(), interest.is_writable()) {
        (true, true) => "READABLE | WRITABLE",
        (false, true) => "WRITABLE",
        _ => "READABLE",
    }
}

/// `PEER: TEXT\n`, in the room's encoding (the peer's address is ASCII, which every encoding
/// the lessons offer writes the same way).
fn tagged(speaker: SocketAddr, line: &[u8], encoding: Encoding) -> Arc<[u8]> {
    let tag = format!("{speaker}: ");
    let mut message = encoding.encode(&tag).unwrap_or_else(|_| tag.into_bytes());
    message.extend_from_slice(line);
    if !message.ends_with(b"\n") {
        message.push(b'\n');
    }
    message.into()
}
