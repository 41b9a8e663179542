//! `tcp-async server`'s options: the other servers' options, `--workers` and `--sleep-command`
//! (the client's are in `client.rs`). The demo starts from the same defaults (`Options::new`).

use std::time::Duration;

use clap::{Args, ValueEnum};
use common::cli::{EncodingArg, TraceArg, parse_seconds};
use common::stalled::WriteTimeoutArg;
use common::{Addr, Encoding};

/// `tcp-async server`: where to listen, how many threads, how to reply.
#[derive(Args, Clone, Debug)]
pub struct Options {
    /// Where to listen: HOST:PORT, [IPV6]:PORT, PORT or :PORT (all interfaces); port 0 lets the OS choose
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9999")]
    pub listen: Addr,

    /// Runtime worker threads that run the tasks [default: one per core]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub workers: Option<u16>,

    /// A chat room: each line goes to every other client as `PEER: TEXT`
    #[arg(long, conflicts_with_all = ["upper", "sleep_command"])]
    pub broadcast: bool,

    /// Turn further clients away with `busy, try again later` while N are connected
    #[arg(long, value_name = "N", default_value = "10000", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,

    /// Close a connection that has been silent this many seconds
    #[arg(long, value_name = "SECONDS", default_value = "300", value_parser = parse_seconds)]
    pub idle_timeout: Duration,

    /// On Ctrl-C or SIGTERM, give connected clients this many seconds to finish
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = parse_seconds)]
    pub grace: Duration,

    /// Reply in upper case (seed 004)
    #[arg(long)]
    pub upper: bool,

    /// A lesson, not a feature: a line `sleep MS` is answered after sleeping MS milliseconds
    /// (at most 10000), `blocking` the worker thread (the mistake) or on tokio's
    /// `spawn-blocking` threads (the fix)
    #[arg(long, value_name = "HOW")]
    pub sleep_command: Option<SleepHow>,

    /// Print only the first and last lines, not every connection and message (for benchmarks)
    #[arg(long)]
    pub quiet: bool,

    #[command(flatten)]
    pub encoding: EncodingArg,

    #[command(flatten)]
    pub write_timeout: WriteTimeoutArg,

    #[command(flatten)]
    pub trace: TraceArg,
}

/// How a task carries out `sleep MS` (`--sleep-command`).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SleepHow {
    /// `std::thread::sleep` in the task: its worker thread runs nothing else meanwhile
    Blocking,
    /// the same sleep in `spawn_blocking`: the task waits, its worker runs the other tasks
    SpawnBlocking,
}

impl Options {
    /// The defaults of `tcp-async server --listen ADDR`, for the demo.
    pub fn new(listen: Addr) -> Options {
        Options {
            listen,
            workers: None,
            broadcast: false,
            max_connections: 10_000,
            idle_timeout: Duration::from_secs(300),
            grace: Duration::from_secs(5),
            upper: false,
            sleep_command: None,
            quiet: false,
            encoding: EncodingArg {
                encoding: Encoding::UTF_8,
            },
            write_timeout: WriteTimeoutArg::default(),
            trace: TraceArg { trace: false },
        }
    }

    /// How many worker threads the runtime gets: `--workers`, or one per core.
    pub fn worker_threads(&self) -> usize {
        self.workers.map_or_else(
            || std::thread::available_parallelism().map_or(1, |cores| cores.get()),
            usize::from,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_has_the_command_line_defaults() {
        let parsed: Options = test_support::options::parse(&["--listen", "127.0.0.1:0"]);
        let new = Options::new(parsed.listen.clone());
        assert_eq!(format!("{new:?}"), format!("{parsed:?}"));
    }
}
