//! Admission: every accepted connection is counted in before it is handed over — or, when
//! `--max-connections` clients are already connected, turned away with one line, `busy, try
//! again later`. And the way back for a connection that no thread could take.
//! (`common::busy::turn_away` sends the busy line so that a reset cannot destroy it.)
//!
//! The count lives here, in `Clients`, shared by every thread: the accept loop counts clients
//! in, their threads count them out, `stop.rs` waits for it to reach zero.

use std::collections::HashMap;
use std::fmt::Display;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use common::Console;
use common::busy::{self, BUSY};

use crate::options::Options;
use crate::room::{Membership, Room};

/// The connected clients, shared by every thread: their count, and the lines about them.
pub struct Clients {
    connections: Mutex<Connections>,
    /// Signalled whenever a connection ends.
    pub changed: Condvar,
    pub console: Console,
    /// `--quiet`: the lines about each client are left out.
    quiet: bool,
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

impl Clients {
    /// No client yet.
    pub fn new(console: Console, quiet: bool) -> Clients {
        Clients {
            connections: Mutex::default(),
            changed: Condvar::new(),
            console,
            quiet,
        }
    }

    // ANCHOR: admit
    /// Counts a new connection in, or turns it away with `busy, try again later` when
    /// `--max-connections` clients are already connected: a limit instead of a thread per
    /// client without end.
    pub fn admit(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
        options: &Options,
        room: &Room,
    ) -> Option<Client> {
        let mut connections = self.lock();
        if connections.active >= options.max_connections as usize {
            let active = connections.active;
            drop(connections);
            self.say(format_args!(
                "busy: turned {peer} away ({active} active, --max-connections {})",
                options.max_connections
            ));
            let mut busy = options.encode(BUSY);
            busy.push(b'\n');
            busy::turn_away(stream, &busy);
            return None;
        }
        // In a chat room, a client is a member from the moment it is announced.
        let membership = if options.broadcast {
            match room.join(&stream, peer) {
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

    /// A connection admitted but never served, because no thread could take it (the caller
    /// takes it out of the chat room first).
    pub fn lost(&self, number: u64, peer: SocketAddr, error: io::Error) {
        let mut connections = self.lock();
        // The last handle on its socket: closing it.
        connections.sockets.remove(&number);
        connections.active -= 1;
        self.event(
            &connections,
            format_args!("connection with {peer} failed: no thread for it: {error}"),
        );
    }

    /// Waits until `count` clients are connected, for at most `timeout`.
    pub fn wait_for_active(&self, count: usize, timeout: Duration) -> bool {
        let (connections, _) = self
            .changed
            .wait_timeout_while(self.lock(), timeout, |connections| {
                connections.active != count
            })
            .unwrap_or_else(PoisonError::into_inner);
        connections.active == count
    }

    /// The count of connections, locked.
    pub fn lock(&self) -> MutexGuard<'_, Connections> {
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

    /// A line that `--quiet` leaves out.
    pub fn say(&self, line: impl Display) {
        if !self.quiet {
            self.console.say(line);
        }
    }
}
