//! Admission: a new connection gets a token and is counted in and registered with the Poll —
//! or, when `--max-connections` clients are connected, turned away with `busy, try again
//! later`. A turned-away client stays a little while, so that closing it does not destroy the
//! busy line.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};

use crate::connection::Connection;
use crate::table::Table;

/// What a client gets when `--max-connections` are already connected.
pub const BUSY: &str = "busy, try again later";

/// How many turned-away clients may be drained at once, and for how long.
const MAX_TURNING_AWAY: usize = 64;
const TURN_AWAY_FOR: Duration = Duration::from_secs(2);

/// The tokens for new clients, and the clients turned away.
pub struct Admission {
    next_token: usize,
    turned_away: HashMap<Token, TurnedAway>,
}

/// A client turned away: the busy line is sent; what it sends is read and thrown away until it
/// closes, so that closing does not reset the connection before the client read the line.
struct TurnedAway {
    stream: TcpStream,
    deadline: Instant,
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

impl Admission {
    /// Nobody admitted yet; the first client gets `first_token`.
    pub fn new(first_token: usize) -> Admission {
        Admission {
            next_token: first_token,
            turned_away: HashMap::new(),
        }
    }

    // ANCHOR: admit
    /// Counts a new connection in and registers it with the Poll, or turns it away with
    /// `busy, try again later` when `--max-connections` clients are connected.
    pub fn admit(&mut self, table: &mut Table, mut stream: TcpStream, peer: SocketAddr) {
        let token = Token(self.next_token);
        self.next_token += 1;
        if table.active >= table.options.max_connections as usize {
            table.say(format_args!(
                "busy: turned {peer} away ({} active, --max-connections {})",
                table.active, table.options.max_connections
            ));
            let mut busy = table.options.encode(BUSY);
            busy.push(b'\n');
            self.turn_away(&table.registry, stream, token, &busy);
            return;
        }
        // Each reply leaves at once: see tcp-threaded on Nagle's algorithm.
        let registered = stream.set_nodelay(true).and_then(|()| {
            table
                .registry
                .register(&mut stream, token, Interest::READABLE)
        });
        if let Err(error) = registered {
            table.say(format_args!("connection with {peer} failed: {error}"));
            return;
        }
        let connection = Connection::new(stream, peer);
        table.active += 1;
        table.served += 1;
        table.peak = table.peak.max(table.active);
        table.stats.active.store(table.active, Ordering::SeqCst);
        table.event(format_args!("connection from {peer}"));
        table.put_back(token, connection);
    }
    // ANCHOR_END: admit

    /// Sends the busy line and ends our side; reads what the client sends until it closes
    /// (for 2 s at most) so that closing does not destroy the line with a reset.
    fn turn_away(&mut self, registry: &Registry, mut stream: TcpStream, token: Token, busy: &[u8]) {
        // A new socket's send buffer is empty: this write takes the whole line at once.
        let _ = stream.write(busy);
        let _ = stream.shutdown(Shutdown::Write);
        if self.turned_away.len() >= MAX_TURNING_AWAY {
            return; // too many at once: close now, as `stream` is dropped
        }
        if registry
            .register(&mut stream, token, Interest::READABLE)
            .is_ok()
        {
            let deadline = Instant::now() + TURN_AWAY_FOR;
            self.turned_away
                .insert(token, TurnedAway { stream, deadline });
        }
    }

    /// `token` is ready: if it is a turned-away client's, read and throw away what it sent, and
    /// close it once it has closed. `false`: not a turned-away client.
    pub fn on_ready(&mut self, token: Token, registry: &Registry) -> bool {
        let Some(mut turned_away) = self.turned_away.remove(&token) else {
            return false;
        };
        if discard(&mut turned_away.stream) {
            self.turned_away.insert(token, turned_away);
        } else {
            let _ = registry.deregister(&mut turned_away.stream);
        }
        true
    }

    /// When the first turned-away client's time is up.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.turned_away
            .values()
            .map(|turned| turned.deadline)
            .min()
    }

    /// Closes the turned-away clients whose time is up.
    pub fn expire(&mut self, now: Instant, registry: &Registry) {
        self.turned_away.retain(|_, turned| {
            let keep = turned.deadline > now;
            if !keep {
                let _ = registry.deregister(&mut turned.stream);
            }
            keep
        });
    }

    /// Closes every turned-away client.
    pub fn clear(&mut self) {
        self.turned_away.clear();
    }
}
