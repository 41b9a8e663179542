//! The table: every connected client's `Connection`, by its token, with the deadlines of them
//! all in one sorted set. The loop takes a connection out of the table to work on it, and puts
//! it back with what the Poll should watch for next — or ⑦ closes it. The counts live here too.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Display;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use common::Console;
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};

use crate::connection::{Connection, Ending, QUEUE};
use crate::options::Options;

/// What the demo reads while the server runs on its own thread.
#[derive(Default)]
pub struct Stats {
    /// How many clients are connected.
    pub active: AtomicUsize,
}

/// Every connection the loop serves, and what it needs to register, time and close them.
pub struct Table {
    /// The Poll's registry (a handle on the same epoll, kqueue or IOCP).
    pub registry: Registry,
    pub connections: HashMap<Token, Connection>,
    /// Every connection's next deadline (idle, silence, stalled write), sorted: the first one
    /// says how long poll() may sleep. One entry per connection, no thread per timer.
    pub deadlines: BTreeSet<(Instant, Token)>,
    /// Connections that used their read budget, to read again before sleeping.
    pub again: Vec<Token>,
    pub active: usize,
    pub peak: usize,
    pub served: u64,
    pub stats: Arc<Stats>,
    pub options: Options,
    pub console: Console,
}

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

impl Table {
    /// An empty table, registering with `registry`.
    pub fn new(registry: Registry, options: Options, console: Console) -> Table {
        Table {
            registry,
            connections: HashMap::new(),
            deadlines: BTreeSet::new(),
            again: Vec::new(),
            active: 0,
            peak: 0,
            served: 0,
            stats: Arc::default(),
            options,
            console,
        }
    }

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
        // Neither: paused or finished with nothing owed, which serve never leaves.
        let wanted = wanted.unwrap_or(Interest::READABLE);
        if wanted != connection.interest {
            if let Err(error) = reregister(&self.registry, &mut connection.stream, token, wanted) {
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
    pub fn close(&mut self, mut connection: Connection, ending: Ending) {
        let _ = self.registry.deregister(&mut connection.stream);
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
}
