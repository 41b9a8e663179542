//! Timeouts without a thread each: every connection has one deadline, the earliest of its idle
//! timeout, the end of a silence that completes a message without a newline, and its stalled
//! writer's limit. They live in one sorted set; its first entry says how long poll() may sleep.

use std::time::{Duration, Instant};

use common::framing::SILENCE;

use crate::connection::Ending;
use crate::server::Server;

impl Server {
    /// How long poll() may sleep: until the first deadline, or not at all when a connection
    /// still has something to read. `None`: until something happens.
    pub fn sleep_for(&self) -> Option<Duration> {
        if !self.again.is_empty() {
            return Some(Duration::ZERO);
        }
        let first = self.deadlines.first().map(|&(when, _)| when);
        let next = [first, self.closing_at, self.accept_again_at]
            .into_iter()
            .flatten()
            .min();
        // Rounded up, so that the loop does not wake a moment too early and spin.
        next.map(|when| when.saturating_duration_since(Instant::now()) + Duration::from_millis(1))
    }

    // ANCHOR: deadlines
    /// Handles every deadline that has come: the grace period's end, a silence that ends a
    /// message without a newline, an idle client, a client that stopped reading.
    pub fn on_deadlines(&mut self, now: Instant) {
        if self.accept_again_at.is_some_and(|when| when <= now) {
            self.accept_again_at = None;
            self.accept_all();
        }
        if self.closing_at.is_some_and(|when| when <= now) {
            for token in self.connections.keys().copied().collect::<Vec<_>>() {
                if let Some(connection) = self.take(token) {
                    self.close(connection, Ending::Stopping);
                }
            }
        }
        while let Some(&(when, token)) = self.deadlines.first() {
            if when > now {
                break;
            }
            self.deadlines.pop_first();
            if let Some(mut turned_away) = self.turned_away.remove(&token) {
                let _ = self.poll.registry().deregister(&mut turned_away.stream);
                continue;
            }
            let Some(mut connection) = self.connections.remove(&token) else {
                continue;
            };
            let ending = if connection.owed_bytes > 0
                && now >= connection.last_sent + self.options.write_timeout.write_timeout
            {
                Some(Ending::StoppedReading)
            } else if now >= connection.last_active() + self.options.idle_timeout {
                Some(Ending::Idle)
            } else if now >= connection.last_heard + SILENCE
                && let Some(message) = connection.pending.take_rest()
            {
                // A message without a newline, and then silence: it is complete.
                self.handle(&mut connection, &message);
                connection.flush(self.console).err().map(Ending::Failed)
            } else {
                None
            };
            match ending {
                Some(ending) => self.close(connection, ending),
                None => self.put_back(token, connection),
            }
        }
    }
    // ANCHOR_END: deadlines
}
