//! The server on one thread. Steps ① socket, ② bind and ③ listen are tcp-echo's, plus one call:
//! `set_nonblocking(true)`. Then one loop does everything: ask the `Poll` which sockets are
//! ready, and for each, do what can be done *now* — accept until `WouldBlock`, read until
//! `WouldBlock`, write until `WouldBlock` — and never wait for any one client.
//!
//! This file holds the server and its loop: it puts the other files together, and none of them
//! knows it. One idea per file for the rest: `connection.rs` (what the server keeps for a client,
//! and what it does when the client's socket is ready), `table.rs` (every client's connection,
//! by its token, and ⑦ close), `admission.rs` (counting a client in, or turning it away),
//! `deadlines.rs` (how long poll() may sleep, and what happens when it wakes for a deadline),
//! `room.rs` (the chat room), `stop.rs` (Ctrl-C, the Waker, the grace period).

use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use common::Console;
use common::net::bind_error;
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token, Waker};
use socket2::{Domain, Protocol, Socket, Type};

use crate::admission::Admission;
use crate::connection::{Connection, Turn};
use crate::deadlines;
use crate::options::Options;
use crate::room;
use crate::stop::{self, Stopper, Stopping};
use crate::table::{Stats, Table};

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

/// How long to wait before calling `accept` again after it failed for lack of a resource.
const ACCEPT_AGAIN_AFTER: Duration = Duration::from_millis(100);

/// The server: one Poll, the listening socket, and a table of connections, all on one thread.
pub struct Server {
    poll: Poll,
    listener: Option<TcpListener>,
    /// Every client's connection, by its token, and their deadlines (`table.rs`).
    table: Table,
    /// The tokens for new clients, and the clients turned away (`admission.rs`).
    admission: Admission,
    /// The signals seen, and when the clients still connected are closed (`stop.rs`).
    stopping: Stopping,
    /// Where reads land: one buffer for every client, since the loop reads one at a time.
    chunk: Vec<u8>,
    /// When to try `accept` again after it failed for lack of a resource (too many open files):
    /// the Poll will not say so again while the same clients wait.
    accept_again_at: Option<Instant>,
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
        let registry = poll
            .registry()
            .try_clone()
            .context("cloning the Poll's registry")?;
        Ok(Server {
            table: Table::new(registry, options, console),
            poll,
            listener: Some(listener),
            admission: Admission::new(FIRST_CLIENT),
            stopping: Stopping::new(Stopper {
                signals: Arc::new(AtomicUsize::new(0)),
                waker: Arc::new(waker),
            }),
            chunk: vec![0; 64 * 1024],
            accept_again_at: None,
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
        self.stopping.stopper.clone()
    }

    /// Its counts, readable from another thread.
    pub fn stats(&self) -> Arc<Stats> {
        Arc::clone(&self.table.stats)
    }

    // ANCHOR: event_loop
    /// The event loop: sleep in poll() until something is ready or a deadline comes, do what
    /// the ready sockets allow, handle the deadlines, again — until stopped and empty.
    pub fn serve(mut self) -> anyhow::Result<()> {
        let mut events = Events::with_capacity(1024);
        while !(self.stopping.stopping() && self.table.active == 0) {
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
                    WAKER => self.stopping.on_signal(&self.table, &mut self.listener),
                    // A hang-up or an error: reading will say which.
                    token => self.on_ready(
                        token,
                        event.is_readable() || event.is_read_closed() || event.is_error(),
                        event.is_writable() || event.is_write_closed(),
                    ),
                }
            }
            // Those that had more to read than one turn allows: their turn again.
            for token in std::mem::take(&mut self.table.again) {
                self.on_ready(token, true, false);
            }
            self.on_deadlines(Instant::now());
        }
        self.admission.clear();
        stop::finish(&self.table);
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
            self.admission.admit(&mut self.table, stream, peer);
        }
    }
    // ANCHOR_END: accept

    // ANCHOR: on_ready
    /// A client's socket is ready. Take its state out of the table, do what can be done now,
    /// then close it, or put it back with what the Poll should watch for next.
    fn on_ready(&mut self, token: Token, readable: bool, writable: bool) {
        if self.admission.on_ready(token, &self.table.registry) {
            return; // a client turned away: read and thrown away
        }
        // A token whose connection was closed earlier in this turn: nothing to do.
        let Some(mut connection) = self.table.take(token) else {
            return;
        };
        let table = &mut self.table;
        let mut handle = |connection: &mut Connection, message: &[u8]| {
            handle(table, connection, message);
        };
        match connection.serve(
            readable,
            writable,
            &mut self.chunk,
            self.console,
            &mut handle,
        ) {
            Turn::Ended(ending) => self.table.close(connection, ending),
            Turn::Again => {
                self.table.again.push(token);
                self.table.put_back(token, connection);
            }
            Turn::Wait => self.table.put_back(token, connection),
        }
    }
    // ANCHOR_END: on_ready

    /// How long poll() may sleep (`deadlines.rs`): until the connections' first deadline, or
    /// the grace period's end, or the moment to try `accept` again, or a turned-away client's.
    fn sleep_for(&self) -> Option<Duration> {
        let others = [
            self.stopping.closing_at,
            self.accept_again_at,
            self.admission.next_deadline(),
        ];
        deadlines::sleep_for(&self.table, others)
    }

    /// The deadlines that have come: `accept` to try again, turned-away clients to close, and
    /// the connections' own (`deadlines.rs`).
    fn on_deadlines(&mut self, now: Instant) {
        if self.accept_again_at.is_some_and(|when| when <= now) {
            self.accept_again_at = None;
            self.accept_all();
        }
        self.admission.expire(now, &self.table.registry);
        deadlines::on_deadlines(&mut self.table, now, self.stopping.closing_at, handle);
    }
}

/// One complete message: the chat room's, or the echo's.
fn handle(table: &mut Table, connection: &mut Connection, message: &[u8]) {
    table.say_received(connection.peer, message);
    if table.options.broadcast {
        room::broadcast(table, connection.peer, message);
        return;
    }
    let options = &table.options;
    let encoding = options.encoding.encoding;
    let reply: Arc<[u8]> = match &options.reply {
        Some(text) => {
            let mut reply = options.encode(text);
            reply.push(b'\n');
            reply.into()
        }
        None if options.upper => encoding.upper_case(message).into(),
        None => message.into(),
    };
    connection.owe(reply);
}
