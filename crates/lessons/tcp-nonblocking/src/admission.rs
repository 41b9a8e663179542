//! Admission: a new connection is counted in and registered with the Poll — or, when
//! `--max-connections` clients are connected, turned away with `busy, try again later`. A
//! turned-away client stays a little while, so that closing it does not destroy the busy line.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::framing::Pending;
use mio::net::TcpStream;
use mio::{Interest, Token};

use crate::connection::Connection;
use crate::server::Server;

/// What a client gets when `--max-connections` are already connected.
pub const BUSY: &str = "busy, try again later";

/// How many turned-away clients may be drained at once, and for how long.
const MAX_TURNING_AWAY: usize = 64;
const TURN_AWAY_FOR: Duration = Duration::from_secs(2);

/// A client turned away: the busy line is sent; what it sends is read and thrown away until it
/// closes, so that closing does not reset the connection before the client read the line.
pub struct TurnedAway {
    pub stream: TcpStream,
    pub deadline: Instant,
}

/// Reads and throws away what a turned-away client sends. `false`: it is gone.
pub fn discard(stream: &mut TcpStream) -> bool {
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

impl Server {
    // ANCHOR: admit
    /// Counts a new connection in and registers it with the Poll, or turns it away with
    /// `busy, try again later` when `--max-connections` clients are connected.
    pub fn admit(&mut self, mut stream: TcpStream, peer: SocketAddr) {
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
}
