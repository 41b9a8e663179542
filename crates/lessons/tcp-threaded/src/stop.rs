//! Stopping cleanly: Ctrl-C and SIGTERM, the grace period that connected clients get, and the
//! deadline after which the server closes the ones still connected.

use std::net::{Shutdown, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::thread;
use std::time::Duration;

use anyhow::Context;

use crate::server::{Connections, Server};
use crate::workers::Workers;

/// Shuts down every connected client's socket, in both directions: the end of the grace period.
fn shut_down_all(connections: &Connections) {
    for socket in connections.sockets.values() {
        let _ = socket.shutdown(Shutdown::Both);
    }
}

impl Server {
    // ANCHOR: stop
    /// What Ctrl-C and SIGTERM do. The first time: accept no more clients, and give the
    /// connected ones `--grace` seconds to finish. The second time: close them now.
    pub fn stop(self: &Arc<Self>) {
        let connections = self.connections();
        let now = self.started.elapsed().as_millis() as u64;
        let grace = self.options.grace.as_millis() as u64;
        let deadline = if self.stopping() {
            self.console.say(format_args!(
                "closing the remaining {} connection(s) now",
                connections.active
            ));
            now
        } else if connections.active == 0 {
            self.console.say("stopping: no new connections");
            now
        } else {
            self.console.say(format_args!(
                "stopping: no new connections; {} connected client(s) have {} s to finish (Ctrl-C again to close them now)",
                connections.active,
                self.options.grace.as_secs_f64()
            ));
            now.saturating_add(grace)
        };
        let first = !self.stopping();
        self.deadline.store(deadline, Ordering::SeqCst);
        if deadline == now {
            // A thread blocked in a write sees no deadline: shut every socket down, which
            // wakes it with an error (and a blocked read with the end of the stream).
            shut_down_all(&connections);
        } else if first {
            drop(connections);
            self.close_after_grace();
        } else {
            drop(connections);
        }
        // accept() is waiting for a client: be that client, so that it returns and the
        // accept loop sees that we are stopping.
        if let Err(error) = TcpStream::connect_timeout(&self.wake, Duration::from_secs(1)) {
            self.console.trace(format_args!(
                "connect({}) to wake accept(): {error}",
                self.wake
            ));
        }
    }

    /// Starts the thread that shuts the remaining sockets down when the grace period ends (or
    /// ends itself once every client has left).
    fn close_after_grace(self: &Arc<Self>) {
        let server = Arc::clone(self);
        let timer = move || {
            let deadline = Duration::from_millis(server.deadline.load(Ordering::SeqCst));
            let left = deadline.saturating_sub(server.started.elapsed());
            let (connections, _) = server
                .changed
                .wait_timeout_while(server.connections(), left, |connections| {
                    connections.active > 0 && !server.past_deadline()
                })
                .unwrap_or_else(PoisonError::into_inner);
            shut_down_all(&connections);
        };
        if let Err(error) = thread::Builder::new().name("grace".into()).spawn(timer) {
            // No timer: close them now rather than wait for ever.
            self.console
                .say(format_args!("cannot time the grace period: {error}"));
            self.deadline.store(0, Ordering::SeqCst);
            shut_down_all(&self.connections());
        }
    }

    /// After the accept loop: wait until every client has left (each client's thread closes
    /// its connection by itself when the grace period ends), join the threads, and say how
    /// many connections were served.
    pub fn finish(&self, workers: Workers) {
        let connections = self
            .changed
            .wait_while(self.connections(), |connections| connections.active > 0)
            .unwrap_or_else(PoisonError::into_inner);
        let served = connections.served;
        drop(connections);
        // Seed 000 starts a thread per client and never joins one.
        workers.join();
        let plural = if served == 1 { "" } else { "s" };
        self.console
            .say(format_args!("served {served} connection{plural}"));
    }
    // ANCHOR_END: stop

    /// Whether `stop` has been called.
    pub fn stopping(&self) -> bool {
        self.deadline.load(Ordering::SeqCst) != u64::MAX
    }

    /// Whether the grace period is over: clients must be closed now.
    pub fn past_deadline(&self) -> bool {
        let deadline = self.deadline.load(Ordering::Relaxed);
        deadline != u64::MAX && self.started.elapsed().as_millis() as u64 >= deadline
    }
}

// ANCHOR: signals
/// Ctrl-C (SIGINT), SIGTERM (`kill PID`, what service managers send) and, on Windows, closing
/// the console window all end up here, on a thread of the ctrlc crate: stop gently.
pub fn on_signals(server: &Arc<Server>) -> anyhow::Result<()> {
    let on_signal = Arc::clone(server);
    ctrlc::set_handler(move || on_signal.stop()).context("installing the Ctrl-C handler")
}
// ANCHOR_END: signals
