//! The server on one thread. Steps ① socket, ② bind and ③ listen are tcp-echo's, plus one call:
//! `set_nonblocking(true)`. Then one loop does everything: ask the `Poll` which sockets are
//! ready, and for each, do what can be done *now* — accept until `WouldBlock`, read until
//! `WouldBlock`, write until `WouldBlock` — and never wait for any one client.
//!
//! This file holds the loop and the server's state. One idea per file for the rest:
//! `connection.rs` (what the server keeps for a client, and what it does when the client's
//! socket is ready), `admission.rs` (counting a client in, or turning it away), `deadlines.rs`
//! (how long poll() may sleep, and what happens when it wakes for a deadline), `room.rs` (the
//! chat room), `stop.rs` (Ctrl-C, the Waker, the grace period).

use std::collections::{BTreeSet, HashMap};
use std::fmt::Display;
use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use common::Console;
use common::net::bind_error;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Registry, Token, Waker};
use socket2::{Domain, Protocol, Socket, Type};

use crate::admission::TurnedAway;
use crate::connection::{Connection, Ending};
use crate::options::Options;
use crate::stop::{self, Stopper};

/// The Poll's tokens: the listening socket, the Waker, then one for each client.
const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);
const FIRST_CLIENT: usize = 2;

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
    // Ctrl-C and SIGTERM stop it gently (`stop.rs`).
    stop::on_signals(server.stopper())?;
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

/// What the demo reads while the server runs on its own thread.
#[derive(Default)]
pub struct Stats {
    /// How many clients are connected.
    pub active: AtomicUsize,
}

/// How long to wait before calling `accept` again after it failed for lack of a resource.
const ACCEPT_AGAIN_AFTER: Duration = Duration::from_millis(100);

/// `epoll_ctl(MOD)`: what the Poll watches for on this socket from now on.
fn reregister(
    registry: &Registry,
    stream: &mut TcpStream,
    token: Token,
    interest: Interest,
) -> io::Result<()> {
    registry.reregister(stream, token, interest)
}

/// An interest as `--trace` shows it.
fn describe(interest: Interest) -> &'static str {
    match (interest.is_readable(), interest.is_writable()) {
        (true, true) => "READABLE | WRITABLE",
        (false, true) => "WRITABLE",
        _ => "READABLE",
    }
}

/// The server: one Poll, the listening socket, and a table of connections, all on one thread.
/// Its fields are shared by the server's files (`connection.rs`, `admission.rs`, …).
pub struct Server {
    pub poll: Poll,
    pub listener: Option<TcpListener>,
    pub connections: HashMap<Token, Connection>,
    pub turned_away: HashMap<Token, TurnedAway>,
    /// Every connection's next deadline (idle, silence, stalled write), sorted: the first one
    /// says how long poll() may sleep. One entry per connection, no thread per timer.
    pub deadlines: BTreeSet<(Instant, Token)>,
    /// Connections that used their read budget, to read again before sleeping.
    pub again: Vec<Token>,
    pub next_token: usize,
    /// Where reads land: one buffer for every client, since the loop reads one at a time.
    pub chunk: Vec<u8>,
    pub active: usize,
    pub peak: usize,
    pub served: u64,
    pub stopper: Stopper,
    pub signals_seen: usize,
    /// When stopping: when the clients still connected are closed.
    pub closing_at: Option<Instant>,
    /// When to try `accept` again after it failed for lack of a resource (too many open files):
    /// the Poll will not say so again while the same clients wait.
    pub accept_again_at: Option<Instant>,
    pub stats: Arc<Stats>,
    pub options: Options,
    pub console: Console,
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

    // ANCHOR: accept
    /// The listening socket is readable: clients are waiting. Accept until `WouldBlock` — the
    /// Poll reports a ready socket once, not once per client.
    pub fn accept_all(&mut self) {
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

    /// Takes a connection out of the table (and its deadline out of the set) to work on it.
    pub fn take(&mut self, token: Token) -> Option<Connection> {
        let connection = self.connections.remove(&token)?;
        self.deadlines.remove(&(connection.deadline, token));
        Some(connection)
    }

    // ANCHOR: put_back
    /// Puts a connection back in the table: tells the Poll what to watch for (writable only
    /// while something is owed: mio's readiness is edge-triggered, so asking costs little, but
    /// there is nothing to wait for), and files its next deadline.
    pub fn put_back(&mut self, token: Token, mut connection: Connection) {
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

    /// A line about one connection, with the number of clients connected now.
    pub fn event(&self, what: impl Display) {
        self.say(format_args!("{what} ({} active)", self.active));
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
