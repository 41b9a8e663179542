//! Stopping cleanly: Ctrl-C and SIGTERM, the grace period that connected clients get, and the
//! deadline after which the server closes the ones still connected. A `Stopper`, shared by every
//! thread, says whether the server is stopping and when the grace period ends.

use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::admission::{Clients, Connections};
use crate::workers::Workers;

/// Whether the server is stopping, and when the clients still connected are closed.
pub struct Stopper {
    /// Where `stop` connects to wake up a waiting `accept()`.
    wake: SocketAddr,
    /// When stopping, the moment still-connected clients are closed, in milliseconds since
    /// `started`; `u64::MAX` while the server runs. Every client thread checks it often.
    deadline: AtomicU64,
    started: Instant,
}

/// Shuts down every connected client's socket, in both directions: the end of the grace period.
fn shut_down_all(connections: &Connections) {
    for socket in connections.sockets.values() {
        let _ = socket.shutdown(Shutdown::Both);
    }
}

impl Stopper {
    /// A server listening on `listener` that is not stopping.
    pub fn new(listener: &TcpListener) -> anyhow::Result<Stopper> {
        let mut wake = listener.local_addr().context("getsockname()")?;
        // Listening on every interface (0.0.0.0 or ::): wake it through loopback.
        if wake.ip().is_unspecified() {
            let loopback = match wake {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            };
            wake.set_ip(loopback);
        }
        Ok(Stopper {
            wake,
            deadline: AtomicU64::new(u64::MAX),
            started: Instant::now(),
        })
    }

    // ANCHOR: stop
    /// What Ctrl-C and SIGTERM do. The first time: accept no more clients, and give the
    /// connected ones `grace` to finish. The second time: close them now.
    pub fn stop(self: &Arc<Self>, clients: &Arc<Clients>, grace: Duration) {
        let console = clients.console;
        let connections = clients.lock();
        let now = self.started.elapsed().as_millis() as u64;
        let deadline = if self.stopping() {
            console.say(format_args!(
                "closing the remaining {} connection(s) now",
                connections.active
            ));
            now
        } else if connections.active == 0 {
            console.say("stopping: no new connections");
            now
        } else {
            console.say(format_args!(
                "stopping: no new connections; {} connected client(s) have {} s to finish (Ctrl-C again to close them now)",
                connections.active,
                grace.as_secs_f64()
            ));
            now.saturating_add(grace.as_millis() as u64)
        };
        let first = !self.stopping();
        self.deadline.store(deadline, Ordering::SeqCst);
        if deadline == now {
            // A thread blocked in a write sees no deadline: shut every socket down, which
            // wakes it with an error (and a blocked read with the end of the stream).
            shut_down_all(&connections);
        } else if first {
            drop(connections);
            self.close_after_grace(clients);
        } else {
            drop(connections);
        }
        // accept() is waiting for a client: be that client, so that it returns and the
        // accept loop sees that we are stopping.
        if let Err(error) = TcpStream::connect_timeout(&self.wake, Duration::from_secs(1)) {
            console.trace(format_args!(
                "connect({}) to wake accept(): {error}",
                self.wake
            ));
        }
    }

    /// Starts the thread that shuts the remaining sockets down when the grace period ends (or
    /// ends itself once every client has left).
    fn close_after_grace(self: &Arc<Self>, clients: &Arc<Clients>) {
        let (stopper, shared) = (Arc::clone(self), Arc::clone(clients));
        let timer = move || {
            let deadline = Duration::from_millis(stopper.deadline.load(Ordering::SeqCst));
            let left = deadline.saturating_sub(stopper.started.elapsed());
            let (connections, _) = shared
                .changed
                .wait_timeout_while(shared.lock(), left, |connections| {
                    connections.active > 0 && !stopper.past_deadline()
                })
                .unwrap_or_else(PoisonError::into_inner);
            shut_down_all(&connections);
        };
        if let Err(error) = thread::Builder::new().name("grace".into()).spawn(timer) {
            // No timer: close them now rather than wait for ever.
            clients
                .console
                .say(format_args!("cannot time the grace period: {error}"));
            self.deadline.store(0, Ordering::SeqCst);
            shut_down_all(&clients.lock());
        }
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

// ANCHOR: finish
/// After the accept loop: wait until every client has left (each client's thread closes its
/// connection by itself when the grace period ends), join the threads, and say how many
/// connections were served.
pub fn finish(clients: &Clients, workers: Workers) {
    let connections = clients
        .changed
        .wait_while(clients.lock(), |connections| connections.active > 0)
        .unwrap_or_else(PoisonError::into_inner);
    let served = connections.served;
    drop(connections);
    // Seed 000 starts a thread per client and never joins one.
    workers.join();
    let plural = if served == 1 { "" } else { "s" };
    clients
        .console
        .say(format_args!("served {served} connection{plural}"));
}
// ANCHOR_END: finish

// ANCHOR: signals
/// Ctrl-C (SIGINT), SIGTERM (`kill PID`, what service managers send) and, on Windows, closing
/// the console window all end up here, on a thread of the ctrlc crate: `stop` stops gently.
pub fn on_signals(stop: impl Fn() + Send + 'static) -> anyhow::Result<()> {
    ctrlc::set_handler(stop).context("installing the Ctrl-C handler")
}
// ANCHOR_END: signals
