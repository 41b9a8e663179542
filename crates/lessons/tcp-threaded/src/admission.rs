//! Admission: every accepted connection is counted in before it is handed over — or, when
//! `--max-connections` clients are already connected, turned away with one line, `busy, try
//! again later`. And the way back for a connection that no thread could take.
//! (`common::busy::turn_away` sends the busy line so that a reset cannot destroy it.)

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use common::busy::{self, BUSY};

use crate::server::{Client, Server};

impl Server {
    // ANCHOR: admit
    /// Counts a new connection in, or turns it away with `busy, try again later` when
    /// `--max-connections` clients are already connected: a limit instead of a thread per
    /// client without end.
    pub fn admit(&self, stream: TcpStream, peer: SocketAddr) -> Option<Client> {
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

    /// A connection admitted but never served, because no thread could take it.
    pub fn lost(&self, number: u64, peer: SocketAddr, error: io::Error) {
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
}
