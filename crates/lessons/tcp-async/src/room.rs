//! `--broadcast`: the chat room. Each line one client sends goes to every other client as
//! `PEER: TEXT`. Every client has a bounded queue of lines to send, emptied by its own task, so
//! a client that stops reading holds up only its own task. When its queue is full and stays
//! full, it is dropped from the room; the speakers wait for it a moment at most. What a client's
//! task does in the room, `Connection::chat`, is in `connection.rs`.
//!
//! Why not `tokio::sync::broadcast`, the channel made for this? It is bounded too, but it never
//! waits: a receiver that falls behind by more than its capacity simply loses the oldest lines
//! (`RecvError::Lagged`), a slow reader as much as a dead one. A queue per client lets a slow
//! reader slow the speaker down instead, and drops only the one that does not read at all.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use common::Encoding;
use tokio::sync::Notify;
use tokio::sync::mpsc::{self, Receiver, Sender, error::SendTimeoutError};

/// How many lines may wait for one client.
pub const QUEUE: usize = 64;

/// How long a speaker waits for room in a full queue. A client that is reading, only more
/// slowly than a fast speaker talks, makes room within that time; one that makes no room in
/// that time is not reading, and is dropped.
pub const PATIENCE: Duration = Duration::from_millis(100);

// ANCHOR: room
/// Who is in the room: for each client, the sending end of its queue. A plain `Mutex`: it is
/// held for a few instructions and never across an `.await`.
#[derive(Default)]
pub struct Room {
    members: Mutex<HashMap<SocketAddr, Member>>,
}

struct Member {
    queue: Sender<Arc<[u8]>>,
    kicked: Arc<Notify>,
}

/// What a client's task keeps of its place in the room.
pub struct Membership {
    /// The lines to send to this client.
    pub queue: Receiver<Arc<[u8]>>,
    /// Notified when the room drops this client for falling behind.
    pub kicked: Arc<Notify>,
}

impl Room {
    /// Adds a client to the room.
    pub fn join(&self, peer: SocketAddr) -> Membership {
        // Bounded: `mpsc::channel(QUEUE)`, not the `unbounded_channel` of tokio's chat
        // example, where a client that never reads grows the server's memory without limit.
        let (sender, queue) = mpsc::channel(QUEUE);
        let kicked = Arc::new(Notify::new());
        let member = Member {
            queue: sender,
            kicked: Arc::clone(&kicked),
        };
        self.members().insert(peer, member);
        Membership { queue, kicked }
    }

    /// Removes a client.
    pub fn leave(&self, peer: SocketAddr) {
        self.members().remove(&peer);
    }

    /// Queues `line` for everyone but its speaker. A member whose queue stays full for
    /// `PATIENCE` is dropped from the room, and its task told so.
    pub async fn broadcast(&self, speaker: SocketAddr, line: &[u8], encoding: Encoding) {
        let message = tagged(speaker, line, encoding);
        // The listeners' queues, copied out: the lock is not held while waiting for a slow one.
        let listeners: Vec<(SocketAddr, Sender<Arc<[u8]>>)> = self
            .members()
            .iter()
            .filter(|&(&peer, _)| peer != speaker)
            .map(|(&peer, member)| (peer, member.queue.clone()))
            .collect();
        for (peer, queue) in listeners {
            match queue.send_timeout(Arc::clone(&message), PATIENCE).await {
                // Queued; or its task has ended (the client is leaving): nothing to do.
                Ok(()) | Err(SendTimeoutError::Closed(_)) => {}
                Err(SendTimeoutError::Timeout(_)) => self.drop_member(peer),
            }
        }
    }

    /// Removes a client that is not reading, and wakes its task to close the connection.
    fn drop_member(&self, peer: SocketAddr) {
        if let Some(member) = self.members().remove(&peer) {
            member.kicked.notify_one();
        }
    }

    fn members(&self) -> MutexGuard<'_, HashMap<SocketAddr, Member>> {
        self.members.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
// ANCHOR_END: room

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn the_speaker_gets_nothing_and_a_full_queue_is_dropped() {
        block_on(async {
            let room = Room::default();
            let a: SocketAddr = "127.0.0.1:5000".parse().unwrap();
            let b: SocketAddr = "127.0.0.1:5001".parse().unwrap();
            let mut a_seat = room.join(a);
            let mut b_seat = room.join(b);

            room.broadcast(a, b"one", Encoding::UTF_8).await;
            assert!(
                a_seat.queue.try_recv().is_err(),
                "the speaker hears nothing"
            );
            assert_eq!(&*b_seat.queue.try_recv().unwrap(), b"127.0.0.1:5000: one\n");

            // Nobody empties b's queue: once it is full and stays full, b is dropped; a stays.
            let started = Instant::now();
            for _ in 0..=QUEUE {
                room.broadcast(a, b"more", Encoding::UTF_8).await;
            }
            assert!(
                started.elapsed() >= PATIENCE,
                "b was given time to catch up"
            );
            // The notification waits for b's task.
            tokio::time::timeout(Duration::from_secs(1), b_seat.kicked.notified())
                .await
                .expect("b was told it is dropped");
            assert_eq!(room.members().len(), 1);
        });
    }
}
