//! Stopping cleanly: a `Stopper`, with which another thread (the Ctrl-C handler, the demo) wakes
//! the loop asleep in poll(), and what the loop does then (`Stopping`) — close the listening
//! socket, give the connected clients `--grace` seconds, close the rest and print the summary.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Context;
use mio::Waker;
use mio::net::TcpListener;

use crate::table::Table;

/// Stops a running server from another thread: what Ctrl-C does, and what the demo calls.
#[derive(Clone)]
pub struct Stopper {
    pub signals: Arc<AtomicUsize>,
    pub waker: Arc<Waker>,
}

impl Stopper {
    /// Counts one stop request and wakes the loop.
    pub fn stop(&self) {
        self.signals.fetch_add(1, Ordering::SeqCst);
        // Wake poll(): the loop sees the count on the WAKER token.
        let _ = self.waker.wake();
    }
}

// ANCHOR: signals
/// Ctrl-C, SIGTERM (`kill PID`) and, on Windows, closing the console all run this on a thread
/// of the ctrlc crate. The loop may be asleep in poll(): count the signal, then wake the Poll
/// with its Waker. The loop does the rest, on its own thread.
pub fn on_signals(stopper: Stopper) -> anyhow::Result<()> {
    ctrlc::set_handler(move || stopper.stop()).context("installing the Ctrl-C handler")
}
// ANCHOR_END: signals

/// The loop's side of stopping: the signals it has seen, and when the clients still connected
/// are closed.
pub struct Stopping {
    pub stopper: Stopper,
    signals_seen: usize,
    pub closing_at: Option<Instant>,
}

impl Stopping {
    /// Not stopping yet; `stopper` is how other threads will ask.
    pub fn new(stopper: Stopper) -> Stopping {
        Stopping {
            stopper,
            signals_seen: 0,
            closing_at: None,
        }
    }

    // ANCHOR: stop
    /// The Waker woke the loop: a signal came. The first: accept no more clients (close the
    /// listening socket) and give the connected ones `--grace` seconds. The second: now.
    pub fn on_signal(&mut self, table: &Table, listener: &mut Option<TcpListener>) {
        let signals = self.stopper.signals.load(Ordering::SeqCst);
        if signals == self.signals_seen {
            return;
        }
        let first = self.signals_seen == 0;
        self.signals_seen = signals;
        let now = Instant::now();
        let (console, grace) = (table.console, table.options.grace);
        if !first || signals > 1 {
            console.say(format_args!(
                "closing the remaining {} connection(s) now",
                table.active
            ));
            self.closing_at = Some(now);
        } else if table.active == 0 {
            console.say("stopping: no new connections");
            self.closing_at = Some(now);
        } else {
            console.say(format_args!(
                "stopping: no new connections; {} connected client(s) have {} s to finish (Ctrl-C again to close them now)",
                table.active,
                grace.as_secs_f64()
            ));
            self.closing_at = Some(now + grace);
        }
        if let Some(mut listener) = listener.take() {
            let _ = table.registry.deregister(&mut listener);
            // ⑧ close() the listening socket: clients that connect now are refused.
            drop(listener);
            console.trace("close() the listening socket");
        }
    }
    // ANCHOR_END: stop

    /// Whether a stop was asked for.
    pub fn stopping(&self) -> bool {
        self.closing_at.is_some()
    }
}

// ANCHOR: finish
/// After the loop: the summary.
pub fn finish(table: &Table) {
    let (served, peak) = (table.served, table.peak);
    let plural = if served == 1 { "" } else { "s" };
    table.console.say(format_args!(
        "at most {peak} connection{} at once, on one thread",
        if peak == 1 { "" } else { "s" }
    ));
    table
        .console
        .say(format_args!("served {served} connection{plural}"));
}
// ANCHOR_END: finish
