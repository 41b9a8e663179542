//! Admission: a new connection takes a permit and is counted in — or, when `--max-connections`
//! clients are connected, it is turned away with `busy, try again later`, in a task of its own
//! so that the accept loop never waits for it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::timeout;

use crate::room::Membership;
use crate::server::Server;

/// What a client gets when `--max-connections` are already connected.
pub const BUSY: &str = "busy, try again later";

/// How many turned-away clients may be drained at once; past that they are closed at once.
const MAX_TURNING_AWAY: usize = 256;
static TURNING_AWAY: AtomicUsize = AtomicUsize::new(0);

impl Server {
    // ANCHOR: admit
    /// Takes a permit for a new connection and counts it in (in a chat room, it is a member
    /// from the moment it is announced); `None` when `--max-connections` clients are connected.
    /// Tasks are cheap, but sockets, buffers and file descriptors are not: the limit stays.
    pub fn admit(&self, peer: SocketAddr) -> Option<(OwnedSemaphorePermit, Option<Membership>)> {
        let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() else {
            let active = self.connections.borrow().active;
            self.say(format_args!(
                "busy: turned {peer} away ({active} active, --max-connections {})",
                self.options.max_connections
            ));
            return None;
        };
        let membership = self.options.broadcast.then(|| self.room.join(peer));
        self.connections.send_modify(|connections| {
            connections.active += 1;
            connections.served += 1;
            self.event(connections, format_args!("connection from {peer}"));
        });
        Some((permit, membership))
    }
    // ANCHOR_END: admit

    /// Sends `busy` and closes, in a task of its own, so that the accept loop never waits.
    /// A client may have sent a line before it was turned away, and closing a socket with
    /// unread data sends a reset that can destroy the busy line before the client reads it.
    /// So: send, shut down our sending half, and read what the client sends until it closes
    /// too (2 s at most).
    pub fn turn_away(&self, mut stream: TcpStream) {
        let encoding = self.options.encoding.encoding;
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
}
