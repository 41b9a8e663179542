//! `--broadcast`: a chat room. Each line one client sends goes to every other client as
//! `PEER: TEXT`. Every client has its own writer thread and a bounded queue of lines to send, so
//! a client that stops reading blocks only its own writer; when its queue is full, it is
//! dropped from the room, and the others never wait for it.

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use common::{Console, Encoding};

/// How many lines may wait for one client. A client this far behind is not reading (or reads
/// far slower than the room talks): it is dropped rather than allowed to hold up the speaker.
pub const QUEUE: usize = 64;

// ANCHOR: room
/// Who is in the room: for each client, the sending end of its queue.
#[derive(Default)]
pub struct Room {
    members: Mutex<HashMap<SocketAddr, Member>>,
}

struct Member {
    queue: SyncSender<Arc<[u8]>>,
    /// A handle on the client's socket, to cut it off when it falls behind.
    stream: TcpStream,
    dropped: Arc<AtomicBool>,
}

/// What a client's own threads keep of their place in the room.
pub struct Membership {
    /// The lines to send to this client, for its writer thread.
    pub queue: Receiver<Arc<[u8]>>,
    /// Set when the room dropped this client for falling behind.
    pub dropped: Arc<AtomicBool>,
    /// How many lines the writer has delivered: a client that listens is not idle.
    pub delivered: Arc<AtomicUsize>,
}

impl Room {
    /// Adds a client to the room.
    pub fn join(&self, stream: &TcpStream, peer: SocketAddr) -> io::Result<Membership> {
        let (sender, queue) = mpsc::sync_channel(QUEUE);
        let dropped = Arc::new(AtomicBool::new(false));
        let member = Member {
            queue: sender,
            stream: stream.try_clone()?,
            dropped: Arc::clone(&dropped),
        };
        self.members().insert(peer, member);
        Ok(Membership {
            queue,
            dropped,
            delivered: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// Removes a client. Its queue's sender goes with it, so its writer ends once the queue
    /// is empty.
    pub fn leave(&self, peer: SocketAddr) {
        self.members().remove(&peer);
    }

    /// Queues `line` for everyone but its speaker, without ever waiting: a member whose queue
    /// is full is dropped from the room and its connection shut down.
    pub fn broadcast(&self, speaker: SocketAddr, line: &[u8], encoding: Encoding) {
        let message = tagged(speaker, line, encoding);
        let mut members = self.members();
        members.retain(|&peer, member| {
            if peer == speaker {
                return true;
            }
            match member.queue.try_send(Arc::clone(&message)) {
                Ok(()) => true,
                // Its writer has stopped (the client is leaving): nothing to do.
                Err(TrySendError::Disconnected(_)) => true,
                Err(TrySendError::Full(_)) => {
                    member.dropped.store(true, Ordering::SeqCst);
                    // Wakes the client's own threads: its reader sees the end of the stream.
                    let _ = member.stream.shutdown(Shutdown::Both);
                    false
                }
            }
        });
    }

    fn members(&self) -> MutexGuard<'_, HashMap<SocketAddr, Member>> {
        self.members.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A client's writer thread: send its queued lines in order, until the queue closes or the
/// client cannot take more. Counts what it delivered.
pub fn write_queue(
    mut stream: &TcpStream,
    peer: SocketAddr,
    queue: Receiver<Arc<[u8]>>,
    delivered: &AtomicUsize,
    console: Console,
) -> io::Result<()> {
    for message in queue {
        stream.write_all(&message)?;
        console.trace(format_args!("sendall({} bytes) to {peer}", message.len()));
        delivered.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
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
    use std::net::TcpListener;

    fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let near = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (far, _) = listener.accept().unwrap();
        (near, far)
    }

    #[test]
    fn lines_are_tagged_with_the_speaker_and_end_with_a_newline() {
        let speaker: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        assert_eq!(
            &*tagged(speaker, b"hi", Encoding::UTF_8),
            b"127.0.0.1:5000: hi\n"
        );
        assert_eq!(
            &*tagged(speaker, b"hi\n", Encoding::UTF_8),
            b"127.0.0.1:5000: hi\n"
        );
    }

    #[test]
    fn the_speaker_gets_nothing_and_a_full_queue_is_dropped() {
        let room = Room::default();
        let (a, _a_far) = pair();
        let (b, _b_far) = pair();
        let (a_peer, b_peer) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        let a_seat = room.join(&a, a_peer).unwrap();
        let b_seat = room.join(&b, b_peer).unwrap();

        room.broadcast(a_peer, b"one", Encoding::UTF_8);
        assert!(
            a_seat.queue.try_recv().is_err(),
            "the speaker hears nothing"
        );
        assert_eq!(
            &*b_seat.queue.try_recv().unwrap(),
            format!("{a_peer}: one\n").as_bytes()
        );

        // Nobody empties b's queue: once it is full, b is dropped; a stays.
        for _ in 0..=QUEUE {
            room.broadcast(a_peer, b"more", Encoding::UTF_8);
        }
        assert!(b_seat.dropped.load(Ordering::SeqCst));
        assert!(!a_seat.dropped.load(Ordering::SeqCst));
        assert_eq!(room.members().len(), 1);
    }
}
