//! `--sleep-command`: a lesson, not a feature. A line `sleep MS` is answered after sleeping MS
//! milliseconds — blocking the worker thread (the mistake), or on tokio's threads for blocking
//! work (the fix). And `say`: printing is a blocking call too, and the server prints from its
//! tasks.

use std::fmt::Display;
use std::time::Duration;

use common::Console;

use crate::options::SleepHow;

/// The longest `sleep MS` that `--sleep-command` accepts, in milliseconds.
pub const MAX_SLEEP_MS: u64 = 10_000;

/// `sleep MS` (with `--sleep-command`): how long to sleep; `None` for any other line.
pub fn sleep_request(message: &[u8]) -> Option<Duration> {
    let text = std::str::from_utf8(message).ok()?.trim_end();
    let milliseconds: u64 = text.strip_prefix("sleep ")?.trim().parse().ok()?;
    (milliseconds <= MAX_SLEEP_MS).then(|| Duration::from_millis(milliseconds))
}

// ANCHOR: blocking_call
/// Sleeps as `--sleep-command` says: a stand-in for any call that blocks a thread — reading a
/// big file with `std::fs`, a synchronous database driver, heavy computation.
pub async fn sleep_in_task(how: SleepHow, duration: Duration) {
    match how {
        // The mistake: a blocking call inside a task. No `.await`, so the task never gives its
        // worker thread back: every other task on that worker waits, ready or not. (The
        // `yield_now` first puts this task back on a worker: printing the line went through
        // `block_in_place`, which may have handed the worker's other tasks to another thread
        // until this task's next `.await` — and then the mistake would hide.)
        SleepHow::Blocking => {
            tokio::task::yield_now().await;
            std::thread::sleep(duration);
        }
        // The fix: the blocking call runs on one of tokio's threads for blocking work; this
        // task `.await`s its end and, meanwhile, its worker runs the other tasks.
        SleepHow::SpawnBlocking => {
            let _ = tokio::task::spawn_blocking(move || std::thread::sleep(duration)).await;
        }
    }
}
// ANCHOR_END: blocking_call

// ANCHOR: say
/// A line on stdout, from a task. Writing to stdout is a blocking call too: when whoever reads
/// our output (a terminal, a pipe) is slower than we print, `write` waits — and so would every
/// task on this worker thread. `block_in_place` tells the runtime that this thread may block:
/// it hands this worker's other tasks to another thread meanwhile.
pub fn say(console: Console, line: impl Display) {
    tokio::task::block_in_place(|| console.say(line));
}
// ANCHOR_END: say

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleep_commands_are_bounded_and_nothing_else_sleeps() {
        assert_eq!(
            sleep_request(b"sleep 250\n"),
            Some(Duration::from_millis(250))
        );
        assert_eq!(sleep_request(b"sleep 10001\n"), None);
        assert_eq!(sleep_request(b"sleep soon\n"), None);
        assert_eq!(sleep_request(b"hello\n"), None);
        assert_eq!(sleep_request(&[0xff, b'\n']), None);
    }
}
