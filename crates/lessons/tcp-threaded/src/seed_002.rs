//! `--seed-002`: seed 002's "concurrent" server as it really is, kept next to the real fixes to
//! be compared, not copied. It has an accept loop of its own; the clients it admits are counted
//! and stopped like everyone else's, and answered as the real server answers (`answer`).

use std::io::{self, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};

use anyhow::Context;
use common::net::is_timeout;

use crate::admission::{Client, Clients};
use crate::options::Options;
use crate::room::Room;
use crate::stop::{self, Stopper};
use crate::workers::Workers;

/// What seed 002's server shares with the real one: its options, its count of clients (and the
/// room `admit` would seat them in), and its way of stopping.
pub struct Seed002<'a> {
    pub options: &'a Options,
    pub clients: &'a Clients,
    pub room: &'a Room,
    pub stopper: &'a Stopper,
}

impl Seed002<'_> {
    // ANCHOR: seed_002
    /// `--seed-002`: seed 002's "concurrent" server as it really is. Its one thread accepts a
    /// client, makes ONE `recv(2048)` and ONE reply, and goes straight back to `accept`: every
    /// client is answered exactly once, its later lines never; a client that connects and says
    /// nothing blocks everyone; and the first error ends the only thread, and the server with it.
    pub fn serve(
        &self,
        listener: TcpListener,
        answer: impl Fn(&TcpStream, SocketAddr, &[u8]) -> io::Result<()>,
    ) -> anyhow::Result<()> {
        // Python rebinds `client_socket` at the next accept(): only then is the previous client's
        // socket closed. Until then the client is connected, and nobody reads what it sends.
        let mut previous: Option<Client> = None;
        let ended = loop {
            // ④ accept(): the next client, or the connection with which stop() wakes us.
            let accepted = listener.accept();
            if let Some(client) = previous.take() {
                let why = if self.stopper.stopping() {
                    "the server is stopping"
                } else {
                    "the next accept() replaced its socket"
                };
                self.close_seed_002(client, why);
            }
            if self.stopper.stopping() {
                break Ok(());
            }
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                // Python's bare `except: break` would end the thread here too.
                Err(error) => break Err(anyhow::Error::new(error).context("accept()")),
            };
            self.clients
                .console
                .trace(format_args!("accept() -> {peer}"));
            let Some(client) = self.clients.admit(stream, peer, self.options, self.room) else {
                continue;
            };
            match self.answer_once(&client, &answer) {
                Ok(()) => previous = Some(client),
                // Stopping shut the socket down under the read or the write: not the client's doing.
                Err(_) if self.stopper.stopping() => {
                    self.close_seed_002(client, "the server is stopping");
                    break Ok(());
                }
                Err(error) => {
                    self.close_seed_002(client, "its only thread ended");
                    break Err(
                        error.context("seed 002's only thread ended, and the server with it")
                    );
                }
            }
        };
        // ⑧ close() the listening socket.
        drop(listener);
        stop::finish(self.clients, Workers::AcceptingThread);
        ended
    }

    /// Seed 002's try block: ⑤ one `recv(2048)`, decoded (Python's `decode` raises on bytes that
    /// are not text), printed, and ⑥ one reply. Nothing checks for the empty `recv`.
    fn answer_once(
        &self,
        client: &Client,
        answer: impl Fn(&TcpStream, SocketAddr, &[u8]) -> io::Result<()>,
    ) -> anyhow::Result<()> {
        let (stream, peer): (&TcpStream, _) = (&client.stream, client.peer);
        // The seed waits for ever; we wait --idle-timeout at most, so that nothing hangs.
        stream.set_read_timeout(Some(self.options.idle_timeout))?;
        let mut chunk = [0u8; 2048];
        // On Linux a signal (Ctrl-C) interrupts a recv that has a timeout, SA_RESTART or not
        // (signal(7)): EINTR. Python retries it, and so do we.
        let read = loop {
            match (&*stream).read(&mut chunk) {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                read => break read,
            }
        };
        let received = match read {
            Err(error) if is_timeout(&error) => {
                self.clients.say(format_args!(
                    "{peer} timed out: silent for {} s (--idle-timeout)",
                    self.options.idle_timeout.as_secs_f64()
                ));
                return Ok(());
            }
            result => result.with_context(|| format!("recv(2048) from {peer}"))?,
        };
        self.clients
            .console
            .trace(format_args!("recv(2048) -> {received} bytes from {peer}"));
        if self.stopper.past_deadline() {
            // The grace period is over and stop() shut the socket down: nothing to answer.
            return Ok(());
        }
        let message = &chunk[..received];
        let encoding = self.options.encoding.encoding;
        encoding
            .decode(message)
            .with_context(|| format!("{peer} sent bytes that are not {encoding}"))?;
        answer(stream, peer, message).with_context(|| format!("send() to {peer}"))
    }

    /// Closes a client of `--seed-002` and says why.
    fn close_seed_002(&self, client: Client, why: &str) {
        let Client { number, peer, .. } = client;
        let mut connections = self.clients.lock();
        // ⑦ close(): the list's handle and `client`'s were the last ones.
        connections.sockets.remove(&number);
        drop(client);
        connections.active -= 1;
        self.clients
            .event(&connections, format_args!("closed {peer}: {why}"));
    }
    // ANCHOR_END: seed_002
}
