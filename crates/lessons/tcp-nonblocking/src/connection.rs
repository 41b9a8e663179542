//! One client's connection. With threads, what a client's thread was doing lived on its stack;
//! here the loop leaves each client after every step, so it is written down in a `Connection`:
//! the unfinished line, and the bytes it is owed — a queue with a bound. Then what the loop does
//! when the client's socket is ready: write what is owed, read until `WouldBlock`, hand each
//! line over to be answered. (The table that holds every connection, and ⑦ close, are in
//! `table.rs`.)

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use common::Console;
use common::framing::{Pending, SILENCE};
use mio::Interest;
use mio::net::TcpStream;

use crate::options::Options;

/// The longest message the server buffers before handling it in pieces.
const MAX_MESSAGE: usize = 64 * 1024;

/// Echo mode: past this many bytes owed to a client, stop reading from it until it has read
/// some. A client that sends and never reads then fills its own buffers, not the server's memory.
pub const MAX_OWED: usize = 256 * 1024;

/// How many reads one connection gets in one turn of the loop, so that a fast client cannot
/// keep the loop for itself: 16 reads of 64 KiB.
const BUDGET: usize = 16;

/// Chat room: how many lines may wait for one client; past that it is dropped (`room.rs`).
pub const QUEUE: usize = 64;

// ANCHOR: connection
/// Everything the server keeps for one client: with threads, most of it lived on the client's
/// thread's stack; here it must be written down, because the loop moves on after every step.
pub struct Connection {
    pub stream: TcpStream,
    pub peer: SocketAddr,
    /// Bytes received but not yet a whole line.
    pub pending: Pending,
    /// Bytes owed to the client, in order: replies, or the room's lines. A line may be shared
    /// by every member of the room.
    pub owed: VecDeque<Arc<[u8]>>,
    /// How much of the first owed line has already been sent.
    pub sent_of_first: usize,
    pub owed_bytes: usize,
    /// Echo mode: too much is owed; reading stopped until the client reads.
    pub paused: bool,
    /// The client closed its sending half: close once everything owed is sent.
    pub finished_sending: bool,
    /// When a byte last came in; when a byte last went out.
    pub last_heard: Instant,
    pub last_sent: Instant,
    /// What the Poll is told to watch for: readable, and writable only while something is owed.
    pub interest: Interest,
    /// This connection's entry in the deadline set.
    pub deadline: Instant,
}
// ANCHOR_END: connection

/// How a connection ended, for the line the server prints.
pub enum Ending {
    Closed,
    Idle,
    Stopping,
    Dropped,
    StoppedReading,
    Failed(io::Error),
}

/// What one turn of reading ended with.
enum Reading {
    /// Everything that had arrived is read (`WouldBlock`), or the client finished sending.
    Drained,
    /// Too much is owed to this client: reading stopped.
    Paused,
    /// There may be more, but the others get their turn first.
    OverBudget,
    Ended(Ending),
}

/// What a turn with a ready client leaves the loop to do.
pub enum Turn {
    /// Nothing until the Poll or a deadline says so.
    Wait,
    /// There may be more to read: its turn again before the loop sleeps.
    Again,
    /// The connection is over.
    Ended(Ending),
}

impl Connection {
    /// A client just accepted, with nothing received and nothing owed.
    pub fn new(stream: TcpStream, peer: SocketAddr) -> Connection {
        let now = Instant::now();
        Connection {
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
        }
    }

    /// Queues bytes for the client.
    pub fn owe(&mut self, bytes: Arc<[u8]>) {
        if self.owed.is_empty() {
            // The write timeout counts from when something is first owed.
            self.last_sent = Instant::now();
        }
        self.owed_bytes += bytes.len();
        self.owed.push_back(bytes);
    }

    // ANCHOR: flush
    /// Writes what is owed until `WouldBlock`. A write may take only part of what it is given:
    /// the rest stays queued, and the Poll is asked to say when the socket is writable again.
    pub fn flush(&mut self, console: Console) -> io::Result<()> {
        while let Some(first) = self.owed.front() {
            let unsent = &first[self.sent_of_first..];
            match self.stream.write(unsent) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(sent) => {
                    console.trace(format_args!(
                        "send({} bytes) -> {sent} to {}",
                        unsent.len(),
                        self.peer
                    ));
                    self.last_sent = Instant::now();
                    self.owed_bytes -= sent;
                    self.sent_of_first += sent;
                    if self.sent_of_first == first.len() {
                        self.owed.pop_front();
                        self.sent_of_first = 0;
                    }
                }
                // The client's receive window and our send buffer are full: later.
                Err(error) if error.kind() == ErrorKind::WouldBlock => break,
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
        if self.owed.is_empty() && self.owed.capacity() > QUEUE {
            // A burst is over: give its memory back, so that ten thousand idle clients stay small.
            self.owed.shrink_to_fit();
        }
        Ok(())
    }
    // ANCHOR_END: flush

    /// When the client last did anything: sent, or read what it was sent.
    pub fn last_active(&self) -> Instant {
        self.last_heard.max(self.last_sent)
    }

    /// The next moment something must happen to this connection if nothing else does.
    pub fn next_deadline(&self, options: &Options) -> Instant {
        let mut deadline = self.last_active() + options.idle_timeout;
        if !self.pending.is_empty() {
            deadline = deadline.min(self.last_heard + SILENCE);
        }
        if self.owed_bytes > 0 {
            deadline = deadline.min(self.last_sent + options.write_timeout.write_timeout);
        }
        deadline
    }

    // ANCHOR: serve
    /// Writes what is owed, reads what has arrived (`handle` answers each line), writes the
    /// answers.
    pub fn serve(
        &mut self,
        readable: bool,
        writable: bool,
        chunk: &mut [u8],
        console: Console,
        handle: &mut impl FnMut(&mut Connection, &[u8]),
    ) -> Turn {
        let mut turn = Turn::Wait;
        if (writable || self.owed_bytes > 0)
            && let Err(error) = self.flush(console)
        {
            return Turn::Ended(Ending::Failed(error));
        }
        // Read when the Poll says so, or when reading was paused and the client has caught up
        // (the Poll will not say it again: it reports a change, not a state).
        let resume = self.paused && self.owed_bytes < MAX_OWED;
        if (readable || resume) && !self.finished_sending {
            self.paused = false;
            match self.receive(chunk, console, handle) {
                Reading::Drained | Reading::Paused => {}
                Reading::OverBudget => turn = Turn::Again,
                Reading::Ended(ending) => return Turn::Ended(ending),
            }
            if let Err(error) = self.flush(console) {
                return Turn::Ended(Ending::Failed(error));
            }
            if self.paused && self.owed_bytes < MAX_OWED {
                turn = Turn::Again;
            }
        }
        if self.finished_sending && self.owed.is_empty() {
            return Turn::Ended(Ending::Closed);
        }
        turn
    }
    // ANCHOR_END: serve

    // ANCHOR: receive
    /// Reads until `WouldBlock` into `chunk` (one buffer for every client, since the loop reads
    /// one at a time): whatever arrived, cut into lines, each one answered (queued) by `handle`.
    fn receive(
        &mut self,
        chunk: &mut [u8],
        console: Console,
        handle: &mut impl FnMut(&mut Connection, &[u8]),
    ) -> Reading {
        let peer = self.peer;
        for _ in 0..BUDGET {
            let received = match self.stream.read(chunk) {
                Ok(received) => received,
                // Nothing more has arrived: the Poll will say when something does.
                Err(error) if error.kind() == ErrorKind::WouldBlock => return Reading::Drained,
                // A signal interrupted the call before any byte came: try again.
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                Err(error) => return Reading::Ended(Ending::Failed(error)),
            };
            console.trace(format_args!(
                "recv({}) -> {received} bytes from {peer}",
                chunk.len()
            ));
            // recv returned 0: the client closed its sending half. Answer what is left; the
            // connection closes once the answers are sent.
            if received == 0 {
                if let Some(message) = self.pending.take_rest() {
                    handle(self, &message);
                }
                self.finished_sending = true;
                return Reading::Drained;
            }
            self.last_heard = Instant::now();
            self.pending.push(&chunk[..received]);
            while let Some(message) = self.pending.take_line(MAX_MESSAGE) {
                handle(self, &message);
            }
            if self.pending.is_empty() {
                // Every byte was a whole line: let the buffer's memory go (a 64 KiB line must
                // not cost 64 KiB for as long as the client stays connected).
                self.pending = Pending::default();
            }
            // Backpressure: the client does not read what it is sent. Stop reading it; its
            // kernel buffers fill up, and its writes wait — its problem, not the server's.
            if self.owed_bytes >= MAX_OWED {
                self.paused = true;
                return Reading::Paused;
            }
        }
        Reading::OverBudget
    }
    // ANCHOR_END: receive
}
