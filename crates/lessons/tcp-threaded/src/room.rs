//! `--broadcast`: a chat room. Each line one client sends goes to every other client as
//! `PEER: TEXT`. Every client has its own writer thread and a bounded queue of lines to send, so
//! a client that stops reading blocks only its own writer. When its queue is full and stays
//! full, it is dropped from the room; the others wait for it a moment at most. What a client's
//! own thread does in the room, `Server::chat`, is in `server.rs`.

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use common::stalled;
use common::{Console, Encoding};

/// How many lines may wait for one client.
pub const QUEUE: usize = 64;

/// How long a speaker waits for room in a full queue. A client that is reading, only more
/// slowly than a fast speaker talks, makes room within that time (and so slows the speaker
/// down to its pace); one that makes no room in that time is not reading, and is dropped.
pub const PATIENCE: Duration = Duration::from_millis(100);

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

    /// Queues `line` for everyone but its speaker. A member whose queue stays full for
    /// `PATIENCE` is dropped from the room and its connection shut down.
    pub fn broadcast(&self, speaker: SocketAddr, line: &[u8], encoding: Encoding) {
        let message = tagged(speaker, line, encoding);
        // The listeners' queues, copied out: no lock is held while waiting for a slow one, so
        // the other speakers and those joining or leaving never wait for it.
        let listeners: Vec<(SocketAddr, SyncSender<Arc<[u8]>>)> = self
            .members()
            .iter()
            .filter(|&(&peer, _)| peer != speaker)
            .map(|(&peer, member)| (peer, member.queue.clone()))
            .collect();
        for (peer, queue) in listeners {
            if !offer(&queue, &message) {
                self.drop_member(peer);
            }
        }
    }

    /// Removes a client that is not reading, marks it dropped, and shuts its connection down,
    /// which wakes its own threads: its reader sees the end of the stream.
    fn drop_member(&self, peer: SocketAddr) {
        if let Some(member) = self.members().remove(&peer) {
            member.dropped.store(true, Ordering::SeqCst);
            let _ = member.stream.shutdown(Shutdown::Both);
        }
    }

    fn members(&self) -> MutexGuard<'_, HashMap<SocketAddr, Member>> {
        self.members.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Puts `message` in a member's queue, waiting up to `PATIENCE` for room. `false`: no room.
fn offer(queue: &SyncSender<Arc<[u8]>>, message: &Arc<[u8]>) -> bool {
    let deadline = Instant::now() + PATIENCE;
    let mut message = Arc::clone(message);
    loop {
        match queue.try_send(message) {
            Ok(()) => return true,
            // Its writer has stopped (the client is leaving): nothing to do.
            Err(TrySendError::Disconnected(_)) => return true,
            Err(TrySendError::Full(unsent)) if Instant::now() < deadline => {
                message = unsent;
                thread::sleep(Duration::from_millis(1));
            }
            Err(TrySendError::Full(_)) => return false,
        }
    }
}

/// A client's writer thread: send its queued lines in order, until the queue closes or the
/// client cannot take more. Counts what it delivered.
pub fn write_queue(
    stream: &TcpStream,
    peer: SocketAddr,
    queue: Receiver<Arc<[u8]>>,
    delivered: &AtomicUsize,
    write_timeout: Duration,
    console: Console,
) -> io::Result<()> {
    for message in queue {
        // Each line has --write-timeout to reach the client, as an echo does.
        stalled::deadline(stream, write_timeout).write_all(&message)?;
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

        // Nobody empties b's queue: once it is full and stays full, b is dropped; a stays.
        let started = Instant::now();
        for _ in 0..=QUEUE {
            room.broadcast(a_peer, b"more", Encoding::UTF_8);
        }
        assert!(b_seat.dropped.load(Ordering::SeqCst));
        assert!(
            started.elapsed() >= PATIENCE,
            "b was given time to catch up"
        );
        assert!(!a_seat.dropped.load(Ordering::SeqCst));
        assert_eq!(room.members().len(), 1);
    }

    #[test]
    fn a_reader_slower_than_the_speaker_is_waited_for_not_dropped() {
        let room = Room::default();
        let (a, _a_far) = pair();
        let (b, _b_far) = pair();
        let (a_peer, b_peer) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        let _a_seat = room.join(&a, a_peer).unwrap();
        let b_seat = room.join(&b, b_peer).unwrap();
        // b takes a line every millisecond; a says ten times more than its queue holds.
        let reader = thread::spawn(move || {
            let mut heard = 0;
            while b_seat.queue.recv_timeout(Duration::from_secs(5)).is_ok() {
                heard += 1;
                thread::sleep(Duration::from_millis(1));
            }
            (heard, b_seat.dropped.load(Ordering::SeqCst))
        });
        for _ in 0..QUEUE * 10 {
            room.broadcast(a_peer, b"flood", Encoding::UTF_8);
        }
        room.leave(b_peer);
        assert_eq!(reader.join().unwrap(), (QUEUE * 10, false));
    }
}
