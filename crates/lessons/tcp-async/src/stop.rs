//! Stopping cleanly: Ctrl-C and SIGTERM, the phase every task watches, and the grace period
//! after which the tasks still serving a client close it.

use std::io;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::timeout;

use crate::admission::Clients;

/// Where the server is in its life. Every task watches it (a `watch` channel: each receiver
/// sees the latest value), so one `send` reaches them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Serving,
    /// No new connections; connected clients may finish (the grace period).
    Stopping,
    /// Every task closes its connection now.
    Closing,
}

/// Resolves when the server tells every task to close its connection.
pub async fn closing(phase: &mut watch::Receiver<Phase>) {
    // An error means the server is gone: close as well.
    let _ = phase.wait_for(|phase| *phase == Phase::Closing).await;
}

// ANCHOR: stop
/// What Ctrl-C and SIGTERM do. The first time: accept no more clients, and give the connected
/// ones `grace` to finish. The second time: close them now.
pub fn stop(phase: &watch::Sender<Phase>, clients: &Clients, grace: Duration) {
    let console = clients.console;
    let active = clients.connections.borrow().active;
    let next = if *phase.borrow() != Phase::Serving {
        console.say(format_args!(
            "closing the remaining {active} connection(s) now"
        ));
        Phase::Closing
    } else if active == 0 {
        console.say("stopping: no new connections");
        Phase::Closing
    } else {
        console.say(format_args!(
            "stopping: no new connections; {active} connected client(s) have {} s to finish (Ctrl-C again to close them now)",
            grace.as_secs_f64()
        ));
        Phase::Stopping
    };
    // Every task that watches the phase wakes up and looks.
    phase.send_replace(next);
}

/// After the accept loop: wait until every client has left — for the grace period at most,
/// then tell the remaining tasks to close — and say how many were served.
pub async fn finish(phase: &watch::Sender<Phase>, clients: &Clients, grace: Duration) {
    let mut connections = clients.connections.subscribe();
    let everyone_left = connections.wait_for(|connections| connections.active == 0);
    if timeout(grace, everyone_left).await.is_err() {
        phase.send_replace(Phase::Closing);
    }
    let _ = connections
        .wait_for(|connections| connections.active == 0)
        .await;
    let served = clients.connections.borrow().served;
    let plural = if served == 1 { "" } else { "s" };
    clients
        .console
        .say(format_args!("served {served} connection{plural}"));
}
// ANCHOR_END: stop

// ANCHOR: signals
/// Ctrl-C (SIGINT) and SIGTERM (`kill PID`); Ctrl-C and closing the console on Windows.
pub struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(windows)]
    ctrl_c: tokio::signal::windows::CtrlC,
    #[cfg(windows)]
    close: tokio::signal::windows::CtrlClose,
}

impl Signals {
    #[cfg(unix)]
    pub fn new() -> io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    #[cfg(windows)]
    pub fn new() -> io::Result<Signals> {
        Ok(Signals {
            ctrl_c: tokio::signal::windows::ctrl_c()?,
            close: tokio::signal::windows::ctrl_close()?,
        })
    }

    /// A task of its own: each signal that arrives calls `stop`.
    pub async fn stop(mut self, stop: impl Fn()) {
        loop {
            #[cfg(unix)]
            tokio::select! {
                _ = self.interrupt.recv() => {}
                _ = self.terminate.recv() => {}
            }
            #[cfg(windows)]
            tokio::select! {
                _ = self.ctrl_c.recv() => {}
                _ = self.close.recv() => {}
            }
            stop();
        }
    }
}
// ANCHOR_END: signals
