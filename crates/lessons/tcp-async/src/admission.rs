//! Admission: a new connection takes a permit and is counted in — or, when `--max-connections`
//! clients are connected, it is turned away with `busy, try again later`, in a task of its own
//! so that the accept loop never waits for it.
//!
//! The count lives here, in `Clients`, shared by every task: the accept loop counts clients in,
//! their tasks count them out, `stop.rs` waits for it to reach zero.

use std::fmt::Display;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Console, Encoding};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::timeout;

use crate::blocking;
use crate::options::Options;
use crate::room::{Membership, Room};

/// What a client gets when `--max-connections` are already connected.
pub const BUSY: &str = "busy, try again later";

/// How many turned-away clients may be drained at once; past that they are closed at once.
const MAX_TURNING_AWAY: usize = 256;
static TURNING_AWAY: AtomicUsize = AtomicUsize::new(0);

/// How many clients are connected now, and how many have been served.
#[derive(Clone, Copy, Debug, Default)]
pub struct Connections {
    pub active: usize,
    pub served: u64,
}

/// The connected clients, shared by every task: the permits, the count, and the lines about them.
pub struct Clients {
    /// At most `--max-connections` clients at once: each client's task holds a permit.
    permits: Arc<Semaphore>,
    /// The count, changed with `send_modify`, so that whoever waits for it is woken up.
    pub connections: watch::Sender<Connections>,
    pub console: Console,
    /// `--quiet`: the lines about each client are left out.
    quiet: bool,
}

impl Clients {
    /// No client yet, and `max_connections` permits.
    pub fn new(max_connections: usize, console: Console, quiet: bool) -> Clients {
        Clients {
            permits: Arc::new(Semaphore::new(max_connections)),
            connections: watch::Sender::new(Connections::default()),
            console,
            quiet,
        }
    }

    // ANCHOR: admit
    /// Takes a permit for a new connection and counts it in (in a chat room, it is a member
    /// from the moment it is announced); `None` when `--max-connections` clients are connected.
    /// Tasks are cheap, but sockets, buffers and file descriptors are not: the limit stays.
    pub fn admit(
        &self,
        peer: SocketAddr,
        options: &Options,
        room: &Room,
    ) -> Option<(OwnedSemaphorePermit, Option<Membership>)> {
        let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() else {
            let active = self.connections.borrow().active;
            self.say(format_args!(
                "busy: turned {peer} away ({active} active, --max-connections {})",
                options.max_connections
            ));
            return None;
        };
        let membership = options.broadcast.then(|| room.join(peer));
        self.connections.send_modify(|connections| {
            connections.active += 1;
            connections.served += 1;
            self.event(connections, format_args!("connection from {peer}"));
        });
        Some((permit, membership))
    }
    // ANCHOR_END: admit

    /// Waits until `count` clients are connected, for at most `limit`.
    pub async fn wait_for_active(&self, count: usize, limit: Duration) -> bool {
        let mut connections = self.connections.subscribe();
        let reached = connections.wait_for(|connections| connections.active == count);
        matches!(timeout(limit, reached).await, Ok(Ok(_)))
    }

    /// A line about one connection, with the number of clients connected now.
    pub fn event(&self, connections: &Connections, what: impl Display) {
        self.say(format_args!("{what} ({} active)", connections.active));
    }

    /// A line that `--quiet` leaves out.
    pub fn say(&self, line: impl Display) {
        if !self.quiet {
            blocking::say(self.console, line);
        }
    }
}

/// Sends `busy` and closes, in a task of its own, so that the accept loop never waits.
/// A client may have sent a line before it was turned away, and closing a socket with
/// unread data sends a reset that can destroy the busy line before the client reads it.
/// So: send, shut down our sending half, and read what the client sends until it closes
/// too (2 s at most).
pub fn turn_away(mut stream: TcpStream, encoding: Encoding) {
    let mut busy = encoding
        .encode(BUSY)
        .unwrap_or_else(|_| BUSY.as_bytes().to_vec());
    busy.push(b'\n');
    let taken = TURNING_AWAY.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
        (n < MAX_TURNING_AWAY).then_some(n + 1)
    });
    tokio::spawn(async move {
        let _ = timeout(Duration::from_secs(1), stream.write_all(&busy)).await;
        let _ = stream.shutdown().await;
        if taken.is_ok() {
            let drain = async {
                let mut sink = [0u8; 1024];
                while let Ok(1..) = stream.read(&mut sink).await {}
            };
            let _ = timeout(Duration::from_secs(2), drain).await;
            TURNING_AWAY.fetch_sub(1, Ordering::AcqRel);
        }
    });
}
