//! One client's connection, in the task that serves it: steps ⑤ recv and ⑥ send until the
//! client leaves — the echo, or the chat room — an idle client timed out, and a reply that
//! cannot wait for ever. A task that waits for its socket holds no thread. (The task itself, and
//! ⑦ close, are `Server::serve_client` in `server.rs`.)

use std::borrow::Cow;
use std::future;
use std::io;
use std::net::SocketAddr;

use common::framing::SILENCE;
use common::{Console, Encoding};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::sync::{Notify, watch};
use tokio::time::{Instant, timeout, timeout_at};

use crate::blocking::{self, sleep_in_task, sleep_request};
use crate::lines::{MAX_LINE, is_complete, read_line};
use crate::options::Options;
use crate::room::{Membership, Room};
use crate::stop::{Phase, closing};

/// Each connection's read buffer: recv(1024), as in the tutorials. Ten thousand connections
/// hold ten thousand of them.
pub const READ_BUFFER: usize = 1024;

/// How a connection ended, for the line the server prints.
pub enum Ending {
    Closed,
    Idle,
    Stopping,
    Dropped,
    Failed(io::Error),
}

/// One client, as the task that serves it sees it: who it is, and what it needs of the server —
/// the options, where to print, and the server's phase, to close when the server closes.
pub struct Connection<'a> {
    pub peer: SocketAddr,
    pub options: &'a Options,
    pub console: Console,
    pub phase: &'a watch::Sender<Phase>,
}

impl Connection<'_> {
    // ANCHOR: echo
    /// Steps ⑤ and ⑥ until the client leaves: read a line, answer it. Ends the connection when
    /// it has been silent for `--idle-timeout`, or when the server closes every connection.
    pub async fn echo(
        &self,
        reader: &mut BufReader<ReadHalf<'_>>,
        writer: &mut WriteHalf<'_>,
    ) -> Ending {
        let mut phase = self.phase.subscribe();
        let mut line = Vec::new();
        let mut last_heard = Instant::now();
        loop {
            // ⑤ recv, with a timeout around it (see `wake_up_at`). `biased`: the branches are
            // tried in this order, so a line that has already arrived is handled without even
            // looking at the phase.
            let wake_up = self.wake_up_at(&line, last_heard);
            let received = tokio::select! {
                biased;
                received = timeout_at(wake_up, self.read_line(reader, &mut line)) => received,
                () = closing(&mut phase) => return Ending::Stopping,
            };
            match received {
                // The timeout cancelled the read; what it had read is in `line`.
                Err(_silence) => {
                    if !line.is_empty() {
                        let message = std::mem::take(&mut line);
                        if let Err(ending) = self.answer(writer, &message).await {
                            return ending;
                        }
                    }
                    if last_heard.elapsed() >= self.options.idle_timeout {
                        return Ending::Idle;
                    }
                }
                Ok(Err(error)) => return Ending::Failed(error),
                // recv returned 0: the client closed its end.
                Ok(Ok(0)) => {
                    if !line.is_empty()
                        && let Err(ending) = self.answer(writer, &line).await
                    {
                        return ending;
                    }
                    return Ending::Closed;
                }
                Ok(Ok(_)) => {
                    last_heard = Instant::now();
                    if is_complete(&line, MAX_LINE) {
                        let message = std::mem::take(&mut line);
                        if let Err(ending) = self.answer(writer, &message).await {
                            return ending;
                        }
                    }
                }
            }
        }
    }
    // ANCHOR_END: echo

    // ANCHOR: wake_up_at
    /// When a read with nothing to show must give up: after a short silence if half a message
    /// is waiting (it is complete then: the seeds' clients send no newline), otherwise when the
    /// client has been silent for `--idle-timeout`. Ten thousand silent clients are ten
    /// thousand sleeping tasks, not ten thousand timers firing four times a second.
    pub fn wake_up_at(&self, line: &[u8], last_heard: Instant) -> Instant {
        let idle = last_heard + self.options.idle_timeout;
        if line.is_empty() {
            idle
        } else {
            idle.min(Instant::now() + SILENCE)
        }
    }
    // ANCHOR_END: wake_up_at

    /// One line from this client, traced as the socket calls that fetch it.
    pub async fn read_line(
        &self,
        reader: &mut BufReader<ReadHalf<'_>>,
        line: &mut Vec<u8>,
    ) -> io::Result<usize> {
        let peer = self.peer;
        read_line(reader, line, MAX_LINE, |received| {
            self.console.trace(format_args!(
                "recv({READ_BUFFER}) -> {received} bytes from {peer}"
            ));
        })
        .await
    }

    /// Prints one message and sends the reply (⑥): the echo, or the echo in upper case.
    async fn answer(&self, writer: &mut WriteHalf<'_>, message: &[u8]) -> Result<(), Ending> {
        self.say_received(message);
        if let Some(how) = self.options.sleep_command
            && let Some(duration) = sleep_request(message)
        {
            sleep_in_task(how, duration).await;
        }
        let reply: Cow<[u8]> = if self.options.upper {
            self.options.encoding.encoding.upper_case(message)
        } else {
            Cow::Borrowed(message)
        };
        self.send(writer, &reply, None).await
    }

    // ANCHOR: send
    /// ⑥ sendall(), bounded: a client that reads nothing cannot hold this task for longer than
    /// `--write-timeout`, and the server's closing (or the room dropping the client) ends the
    /// wait at once.
    pub async fn send(
        &self,
        writer: &mut WriteHalf<'_>,
        bytes: &[u8],
        kicked: Option<&Notify>,
    ) -> Result<(), Ending> {
        let mut phase = self.phase.subscribe();
        let write_timeout = self.options.write_timeout.write_timeout;
        let kicked = async {
            match kicked {
                Some(kicked) => kicked.notified().await,
                None => future::pending().await,
            }
        };
        let written = tokio::select! {
            biased;
            written = timeout(write_timeout, writer.write_all(bytes)) => written,
            () = closing(&mut phase) => return Err(Ending::Stopping),
            () = kicked => return Err(Ending::Dropped),
        };
        match written {
            Ok(Ok(())) => {
                self.console.trace(format_args!(
                    "sendall({} bytes) to {}",
                    bytes.len(),
                    self.peer
                ));
                Ok(())
            }
            Ok(Err(error)) => Err(Ending::Failed(error)),
            Err(_elapsed) => Err(Ending::Failed(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the client stopped reading: nothing could be sent for {} s (--write-timeout)",
                    write_timeout.as_secs_f64()
                ),
            ))),
        }
    }
    // ANCHOR_END: send

    // ANCHOR: chat
    /// `--broadcast`: one task per client waits for whichever comes first — a line from its
    /// client (to say to the room), a line from the room (to write to its client), the room
    /// dropping it, or the server closing.
    pub async fn chat(
        &self,
        reader: &mut BufReader<ReadHalf<'_>>,
        writer: &mut WriteHalf<'_>,
        room: &Room,
        membership: Membership,
    ) -> Ending {
        let Membership { mut queue, kicked } = membership;
        let encoding = self.options.encoding.encoding;
        let mut phase = self.phase.subscribe();
        let mut line = Vec::new();
        let mut last_heard = Instant::now();
        loop {
            // When another branch wins, the read is cancelled halfway: `read_line` is safe to
            // cancel, and the half-read line waits in `line` for the next turn.
            let wake_up = self.wake_up_at(&line, last_heard);
            tokio::select! {
                received = timeout_at(wake_up, self.read_line(reader, &mut line)) => {
                    match received {
                        Err(_silence) => {
                            if !line.is_empty() {
                                self.speak(room, &std::mem::take(&mut line), encoding).await;
                            }
                            if last_heard.elapsed() >= self.options.idle_timeout {
                                return Ending::Idle;
                            }
                        }
                        Ok(Err(error)) => return Ending::Failed(error),
                        Ok(Ok(0)) => {
                            if !line.is_empty() {
                                self.speak(room, &line, encoding).await;
                            }
                            return Ending::Closed;
                        }
                        Ok(Ok(_)) => {
                            last_heard = Instant::now();
                            if is_complete(&line, MAX_LINE) {
                                self.speak(room, &std::mem::take(&mut line), encoding).await;
                            }
                        }
                    }
                }
                Some(message) = queue.recv() => {
                    if let Err(ending) =
                        self.send(writer, &message, Some(&kicked)).await
                    {
                        return ending;
                    }
                    // A client that listens is not idle either.
                    last_heard = Instant::now();
                }
                () = kicked.notified() => return Ending::Dropped,
                () = closing(&mut phase) => return Ending::Stopping,
            }
        }
    }
    // ANCHOR_END: chat

    /// A chat line: printed, then queued for everyone else.
    async fn speak(&self, room: &Room, line: &[u8], encoding: Encoding) {
        self.say_received(line);
        room.broadcast(self.peer, line, encoding).await;
    }

    /// `received from PEER: TEXT`, decoded only when it is printed.
    fn say_received(&self, message: &[u8]) {
        if !self.options.quiet {
            let text = self.options.encoding.encoding.display(message);
            let peer = self.peer;
            blocking::say(self.console, format_args!("received from {peer}: {text}"));
        }
    }
}
