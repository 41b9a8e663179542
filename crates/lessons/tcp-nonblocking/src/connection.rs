//! One client's connection. With threads, what a client's thread was doing lived on its stack;
//! here the loop leaves each client after every step, so it is written down in a `Connection`:
//! the unfinished line, and the bytes it is owed — a queue with a bound. Then what the loop does
//! when the client's socket is ready: write what is owed, read until `WouldBlock`, answer each
//! line; and, at the end, ⑦ close.

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use common::Console;
use common::framing::{Pending, SILENCE};
use mio::net::TcpStream;
use mio::{Interest, Token};

use crate::admission::discard;
use crate::options::Options;
use crate::room::QUEUE;
use crate::server::Server;

/// The longest message the server buffers before handling it in pieces.
const MAX_MESSAGE: usize = 64 * 1024;

/// Echo mode: past this many bytes owed to a client, stop reading from it until it has read
/// some. A client that sends and never reads then fills its own buffers, not the server's memory.
pub const MAX_OWED: usize = 256 * 1024;

/// How many reads one connection gets in one turn of the loop, so that a fast client cannot
/// keep the loop for itself: 16 reads of 64 KiB.
const BUDGET: usize = 16;

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

impl Connection {
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
}

impl Server {
    // ANCHOR: on_ready
    /// A client's socket is ready. Take its state out of the table, do what can be done now,
    /// then close it, or put it back with what the Poll should watch for next.
    pub fn on_ready(&mut self, token: Token, readable: bool, writable: bool) {
        if let Some(mut turned_away) = self.turned_away.remove(&token) {
            if discard(&mut turned_away.stream) {
                self.turned_away.insert(token, turned_away);
            } else {
                self.deadlines.remove(&(turned_away.deadline, token));
                let _ = self.poll.registry().deregister(&mut turned_away.stream);
            }
            return;
        }
        // A token whose connection was closed earlier in this turn: nothing to do.
        let Some(mut connection) = self.take(token) else {
            return;
        };
        match self.serve_client(&mut connection, token, readable, writable) {
            Some(ending) => self.close(connection, ending),
            None => self.put_back(token, connection),
        }
    }

    /// Writes what is owed, reads what has arrived (answering each line), writes the answers.
    /// `Some`: the connection is over.
    fn serve_client(
        &mut self,
        connection: &mut Connection,
        token: Token,
        readable: bool,
        writable: bool,
    ) -> Option<Ending> {
        if (writable || connection.owed_bytes > 0)
            && let Err(error) = connection.flush(self.console)
        {
            return Some(Ending::Failed(error));
        }
        // Read when the Poll says so, or when reading was paused and the client has caught up
        // (the Poll will not say it again: it reports a change, not a state).
        let resume = connection.paused && connection.owed_bytes < MAX_OWED;
        if (readable || resume) && !connection.finished_sending {
            connection.paused = false;
            match self.receive(connection) {
                Reading::Drained | Reading::Paused => {}
                Reading::OverBudget => self.again.push(token),
                Reading::Ended(ending) => return Some(ending),
            }
            if let Err(error) = connection.flush(self.console) {
                return Some(Ending::Failed(error));
            }
            if connection.paused && connection.owed_bytes < MAX_OWED {
                self.again.push(token);
            }
        }
        if connection.finished_sending && connection.owed.is_empty() {
            return Some(Ending::Closed);
        }
        None
    }
    // ANCHOR_END: on_ready

    // ANCHOR: receive
    /// Reads until `WouldBlock`: whatever arrived, cut into lines, each one answered (queued).
    fn receive(&mut self, connection: &mut Connection) -> Reading {
        let mut chunk = std::mem::take(&mut self.chunk);
        let reading = self.read_into(connection, &mut chunk);
        self.chunk = chunk;
        reading
    }

    fn read_into(&mut self, connection: &mut Connection, chunk: &mut [u8]) -> Reading {
        let peer = connection.peer;
        for _ in 0..BUDGET {
            let received = match connection.stream.read(chunk) {
                Ok(received) => received,
                // Nothing more has arrived: the Poll will say when something does.
                Err(error) if error.kind() == ErrorKind::WouldBlock => return Reading::Drained,
                // A signal interrupted the call before any byte came: try again.
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                Err(error) => return Reading::Ended(Ending::Failed(error)),
            };
            self.console.trace(format_args!(
                "recv({}) -> {received} bytes from {peer}",
                chunk.len()
            ));
            // recv returned 0: the client closed its sending half. Answer what is left; the
            // connection closes once the answers are sent.
            if received == 0 {
                if let Some(message) = connection.pending.take_rest() {
                    self.handle(connection, &message);
                }
                connection.finished_sending = true;
                return Reading::Drained;
            }
            connection.last_heard = Instant::now();
            connection.pending.push(&chunk[..received]);
            while let Some(message) = connection.pending.take_line(MAX_MESSAGE) {
                self.handle(connection, &message);
            }
            if connection.pending.is_empty() {
                // Every byte was a whole line: let the buffer's memory go (a 64 KiB line must
                // not cost 64 KiB for as long as the client stays connected).
                connection.pending = Pending::default();
            }
            // Backpressure: the client does not read what it is sent. Stop reading it; its
            // kernel buffers fill up, and its writes wait — its problem, not the server's.
            if connection.owed_bytes >= MAX_OWED {
                connection.paused = true;
                return Reading::Paused;
            }
        }
        Reading::OverBudget
    }
    // ANCHOR_END: receive

    /// One complete message: the chat room's, or the echo's.
    pub fn handle(&mut self, connection: &mut Connection, message: &[u8]) {
        self.say_received(connection.peer, message);
        if self.options.broadcast {
            self.broadcast(connection.peer, message);
            return;
        }
        let encoding = self.options.encoding.encoding;
        let reply: Arc<[u8]> = match &self.options.reply {
            Some(text) => {
                let mut reply = self.encode(text);
                reply.push(b'\n');
                reply.into()
            }
            None if self.options.upper => encoding.upper_case(message).into(),
            None => message.into(),
        };
        connection.owe(reply);
    }

    /// ⑦ close() a client's socket, and say how its connection ended.
    pub fn close(&mut self, mut connection: Connection, ending: Ending) {
        let _ = self.poll.registry().deregister(&mut connection.stream);
        let peer = connection.peer;
        drop(connection);
        self.console
            .trace(format_args!("close() the socket of {peer}"));
        self.active -= 1;
        self.stats.active.store(self.active, Ordering::SeqCst);
        let what = match ending {
            Ending::Closed => format!("{peer} closed the connection"),
            Ending::Idle => format!(
                "{peer} timed out: silent for {} s (--idle-timeout)",
                self.options.idle_timeout.as_secs_f64()
            ),
            Ending::Stopping => format!("closed {peer}: the server is stopping"),
            Ending::Dropped => format!("dropped {peer}: not reading, {QUEUE} lines waiting for it"),
            Ending::StoppedReading => format!(
                "connection with {peer} failed: the client stopped reading: nothing could be sent for {} s (--write-timeout)",
                self.options.write_timeout.write_timeout.as_secs_f64()
            ),
            Ending::Failed(error) => format!("connection with {peer} failed: {error}"),
        };
        self.event(what);
    }
}
