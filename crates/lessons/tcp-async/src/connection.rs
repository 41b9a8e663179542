//! One client's connection, in the task that serves it: steps ⑤ recv and ⑥ send until the
//! client leaves, an idle client timed out, a reply that cannot wait for ever, and ⑦ close. A
//! task that waits for its socket holds no thread.

use std::borrow::Cow;
use std::future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use common::framing::SILENCE;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::sync::{Notify, OwnedSemaphorePermit};
use tokio::time::{Instant, timeout, timeout_at};

use crate::blocking::{sleep_in_task, sleep_request};
use crate::lines::{MAX_LINE, is_complete, read_line};
use crate::room::{self, Membership};
use crate::server::Server;
use crate::stop::closing;

/// Each connection's read buffer: recv(1024), as in the tutorials. Ten thousand connections
/// hold ten thousand of them.
const READ_BUFFER: usize = 1024;

/// How a connection ended, for the line the server prints.
pub enum Ending {
    Closed,
    Idle,
    Stopping,
    Dropped,
    Failed(io::Error),
}

impl Server {
    // ANCHOR: client_task
    /// Everything that happens to one client, in the task that serves it.
    pub async fn serve_client(
        self: Arc<Self>,
        mut stream: TcpStream,
        peer: SocketAddr,
        permit: OwnedSemaphorePermit,
        membership: Option<Membership>,
    ) {
        // Each reply leaves at once (no Nagle delay), as in tcp-threaded.
        let ending = match stream.set_nodelay(true) {
            Err(error) => Ending::Failed(error),
            Ok(()) => {
                // Two halves of one socket, borrowed: one to read lines from, one to write to.
                let (reader, mut writer) = stream.split();
                let mut reader = BufReader::with_capacity(READ_BUFFER, reader);
                match membership {
                    Some(membership) => {
                        let ending = self.chat(&mut reader, &mut writer, peer, membership).await;
                        self.room.leave(peer);
                        ending
                    }
                    None => self.echo(&mut reader, &mut writer, peer).await,
                }
            }
        };
        // ⑦ close() this client's socket.
        drop(stream);
        self.console
            .trace(format_args!("close() the socket of {peer}"));
        let what = match ending {
            Ending::Closed => format!("{peer} closed the connection"),
            Ending::Idle => format!(
                "{peer} timed out: silent for {} s (--idle-timeout)",
                self.options.idle_timeout.as_secs_f64()
            ),
            Ending::Stopping => format!("closed {peer}: the server is stopping"),
            Ending::Dropped => format!(
                "dropped {peer}: not reading, {} lines waiting for it",
                room::QUEUE
            ),
            Ending::Failed(error) => format!("connection with {peer} failed: {error}"),
        };
        self.connections.send_modify(|connections| {
            // The permit goes back as the count goes down, so the two always agree.
            drop(permit);
            connections.active -= 1;
            self.event(connections, what);
        });
    }
    // ANCHOR_END: client_task

    // ANCHOR: echo
    /// Steps ⑤ and ⑥ until the client leaves: read a line, answer it. Ends the connection when
    /// it has been silent for `--idle-timeout`, or when the server closes every connection.
    async fn echo(
        &self,
        reader: &mut BufReader<ReadHalf<'_>>,
        writer: &mut WriteHalf<'_>,
        peer: SocketAddr,
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
                received = timeout_at(wake_up, self.read_line(reader, &mut line, peer)) => received,
                () = closing(&mut phase) => return Ending::Stopping,
            };
            match received {
                // The timeout cancelled the read; what it had read is in `line`.
                Err(_silence) => {
                    if !line.is_empty() {
                        let message = std::mem::take(&mut line);
                        if let Err(ending) = self.answer(writer, peer, &message).await {
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
                        && let Err(ending) = self.answer(writer, peer, &line).await
                    {
                        return ending;
                    }
                    return Ending::Closed;
                }
                Ok(Ok(_)) => {
                    last_heard = Instant::now();
                    if is_complete(&line, MAX_LINE) {
                        let message = std::mem::take(&mut line);
                        if let Err(ending) = self.answer(writer, peer, &message).await {
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
        peer: SocketAddr,
    ) -> io::Result<usize> {
        read_line(reader, line, MAX_LINE, |received| {
            self.console.trace(format_args!(
                "recv({READ_BUFFER}) -> {received} bytes from {peer}"
            ));
        })
        .await
    }

    /// Prints one message and sends the reply (⑥): the echo, or the echo in upper case.
    async fn answer(
        &self,
        writer: &mut WriteHalf<'_>,
        peer: SocketAddr,
        message: &[u8],
    ) -> Result<(), Ending> {
        self.say_received(peer, message);
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
        self.send(writer, peer, &reply, None).await
    }

    // ANCHOR: send
    /// ⑥ sendall(), bounded: a client that reads nothing cannot hold this task for longer than
    /// `--write-timeout`, and the server's closing (or the room dropping the client) ends the
    /// wait at once.
    pub async fn send(
        &self,
        writer: &mut WriteHalf<'_>,
        peer: SocketAddr,
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
                self.console
                    .trace(format_args!("sendall({} bytes) to {peer}", bytes.len()));
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
}
