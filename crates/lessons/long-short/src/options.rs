//! `long-short server`'s options: where to listen and how to run the connections (the client's
//! are in `client.rs`). clap reads them from the command line; the demo starts from the same
//! defaults (`Options::new`) and names only what it changes.

use std::time::Duration;

use clap::{Args, ValueEnum};
use common::Addr;
use common::cli::{TraceArg, parse_seconds};
use common::stalled::WriteTimeoutArg;

/// Where a connection's thread comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Threads {
    /// Workers started in advance, each waiting in accept()
    Pool,
    /// A new thread for every connection, started after accept()
    Spawn,
}

/// `long-short server`: where to listen and how to run the connections.
#[derive(Args, Clone, Debug)]
pub struct Options {
    /// Where to listen: HOST:PORT, [IPV6]:PORT, PORT or :PORT (all interfaces); port 0 lets the OS choose
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8081")]
    pub listen: Addr,

    /// Where each connection's thread comes from: a pool started in advance, or spawned per connection
    #[arg(long, value_enum, default_value = "pool")]
    pub threads: Threads,

    /// How many pool workers wait in accept(); while all are busy, more are started
    #[arg(long, value_name = "N", default_value = "8",
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub workers: u16,

    /// Turn further clients away with `busy, try again later` while N connections are open
    #[arg(long, value_name = "N", default_value = "1024",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Close a connection that sends nothing for this many seconds
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = parse_seconds)]
    pub idle: Duration,

    /// Leave SO_REUSEADDR off, to watch a restarted server fail to bind while TIME_WAIT lasts
    #[arg(long)]
    pub no_reuseaddr: bool,

    /// Print every connection and every request (slow: printing costs more than answering)
    #[arg(long)]
    pub verbose: bool,

    #[command(flatten)]
    pub write_timeout: WriteTimeoutArg,

    #[command(flatten)]
    pub trace: TraceArg,
}

impl Options {
    /// `long-short server --listen ADDR`, every other option at its default: for the demo.
    pub fn new(listen: Addr) -> Options {
        Options {
            listen,
            threads: Threads::Pool,
            workers: 8,
            max_connections: 1024,
            idle: Duration::from_secs(60),
            no_reuseaddr: false,
            verbose: false,
            write_timeout: WriteTimeoutArg::default(),
            trace: TraceArg { trace: false },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_has_the_command_line_defaults() {
        let parsed: Options = test_support::options::parse(&["--listen", "127.0.0.1:0"]);
        let new = Options::new(Addr::localhost(0));
        assert_eq!(format!("{parsed:?}"), format!("{new:?}"));
    }
}
