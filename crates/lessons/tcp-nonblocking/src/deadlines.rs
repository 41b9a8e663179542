//! Timeouts without a thread each: every connection has one deadline, the earliest of its idle
//! timeout, the end of a silence that completes a message without a newline, and its stalled
//! writer's limit. They live in one sorted set, in the table; its first entry says how long
//! poll() may sleep.

use std::time::{Duration, Instant};

use common::framing::SILENCE;

use crate::connection::{Connection, Ending};
use crate::table::Table;

/// How long poll() may sleep: until the first deadline — the table's, or one of `others` (the
/// grace period's end, for example) — or not at all when a connection still has something to
/// read. `None`: until something happens.
pub fn sleep_for(table: &Table, others: [Option<Instant>; 3]) -> Option<Duration> {
    if !table.again.is_empty() {
        return Some(Duration::ZERO);
    }
    let first = table.deadlines.first().map(|&(when, _)| when);
    let next = others.into_iter().chain([first]).flatten().min();
    // Rounded up, so that the loop does not wake a moment too early and spin.
    next.map(|when| when.saturating_duration_since(Instant::now()) + Duration::from_millis(1))
}

// ANCHOR: deadlines
/// Handles every deadline that has come: the grace period's end (`closing_at`), a silence that
/// ends a message without a newline (`handle` answers it), an idle client, a client that
/// stopped reading.
pub fn on_deadlines(
    table: &mut Table,
    now: Instant,
    closing_at: Option<Instant>,
    handle: impl Fn(&mut Table, &mut Connection, &[u8]),
) {
    if closing_at.is_some_and(|when| when <= now) {
        for token in table.connections.keys().copied().collect::<Vec<_>>() {
            if let Some(connection) = table.take(token) {
                table.close(connection, Ending::Stopping);
            }
        }
    }
    let write_timeout = table.options.write_timeout.write_timeout;
    let idle_timeout = table.options.idle_timeout;
    while let Some(&(when, token)) = table.deadlines.first() {
        if when > now {
            break;
        }
        table.deadlines.pop_first();
        let Some(mut connection) = table.connections.remove(&token) else {
            continue;
        };
        let ending = if connection.owed_bytes > 0 && now >= connection.last_sent + write_timeout {
            Some(Ending::StoppedReading)
        } else if now >= connection.last_active() + idle_timeout {
            Some(Ending::Idle)
        } else if now >= connection.last_heard + SILENCE
            && let Some(message) = connection.pending.take_rest()
        {
            // A message without a newline, and then silence: it is complete.
            handle(table, &mut connection, &message);
            connection.flush(table.console).err().map(Ending::Failed)
        } else {
            None
        };
        match ending {
            Some(ending) => table.close(connection, ending),
            None => table.put_back(token, connection),
        }
    }
}
// ANCHOR_END: deadlines
