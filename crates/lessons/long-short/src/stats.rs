//! What the server counts: the connection threads add to the counters, and a reporting thread
//! prints once a second what changed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use common::Console;

/// Counters the connection threads update and the report reads.
#[derive(Debug, Default)]
pub struct Stats {
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Request lines received (each one answered right after).
    pub requests: AtomicU64,
    /// Connections open now.
    pub open: AtomicU64,
    /// Connections turned away because `--max-connections` were open.
    pub turned_away: AtomicU64,
}

impl Stats {
    /// Once a second, if anything happened: how many requests and new connections there were.
    pub fn report_every_second(&self, max_connections: u32, console: Console) {
        let (mut requests, mut connections, mut turned_away) = (0, 0, 0);
        loop {
            thread::sleep(Duration::from_secs(1));
            let now_requests = self.requests.load(Ordering::Relaxed);
            let now_connections = self.connections.load(Ordering::Relaxed);
            let now_turned_away = self.turned_away.load(Ordering::Relaxed);
            if (now_requests, now_connections, now_turned_away)
                != (requests, connections, turned_away)
            {
                let busy = match now_turned_away - turned_away {
                    0 => String::new(),
                    count => format!(", {count} turned away (--max-connections {max_connections})"),
                };
                console.say(format_args!(
                    "last second: {} requests, {} new connections{busy}; {} open now",
                    now_requests - requests,
                    now_connections - connections,
                    self.open.load(Ordering::Relaxed)
                ));
            }
            (requests, connections, turned_away) = (now_requests, now_connections, now_turned_away);
        }
    }
}
