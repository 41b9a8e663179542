//! `tcp-threaded server`'s options: where to listen, how to share the work, how to reply (the
//! client's are in `client.rs`). clap reads them from the command line; the demo starts from
//! the same defaults (`Options::new`) and names only what it changes.

use std::time::Duration;

use clap::Args;
use common::cli::{EncodingArg, TraceArg, parse_seconds};
use common::stalled::WriteTimeoutArg;
use common::{Addr, Encoding};

/// `tcp-threaded server`: where to listen, how to share the work, how to reply.
#[derive(Args, Clone, Debug)]
pub struct Options {
    /// Where to listen: HOST:PORT, [IPV6]:PORT, PORT or :PORT (all interfaces); port 0 lets the OS choose
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9999")]
    pub listen: Addr,

    /// Serve clients on a fixed pool of N threads; the others wait for a free one
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=10_000))]
    pub pool: Option<u16>,

    /// To compare: one thread accepts the clients and serves each until it leaves, as tcp-echo does
    #[arg(long, conflicts_with = "pool")]
    pub sequential: bool,

    /// Seed 002's mistake, as it is: one thread accepts, answers each client's first recv once, and accepts the next
    #[arg(long, conflicts_with_all = ["pool", "sequential"])]
    pub seed_002: bool,

    /// A chat room: each line goes to every other client as `PEER: TEXT`
    #[arg(long, conflicts_with_all = ["pool", "sequential", "seed_002", "upper", "reply"])]
    pub broadcast: bool,

    /// Turn further clients away with `busy, try again later` while N are connected
    #[arg(long, value_name = "N", default_value = "256", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Close a connection that has been silent this many seconds
    #[arg(long, value_name = "SECONDS", default_value = "300", value_parser = parse_seconds)]
    pub idle_timeout: Duration,

    /// On Ctrl-C or SIGTERM, give connected clients this many seconds to finish
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = parse_seconds)]
    pub grace: Duration,

    /// Reply in upper case (seed 004)
    #[arg(long, conflicts_with = "reply")]
    pub upper: bool,

    /// Reply with this fixed text instead of the echo, e.g. 我是一个服务器 (seed 002)
    #[arg(long, value_name = "TEXT")]
    pub reply: Option<String>,

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

impl Options {
    /// The defaults of `tcp-threaded server --listen ADDR`, for the demo.
    pub fn new(listen: Addr) -> Options {
        Options {
            listen,
            pool: None,
            sequential: false,
            seed_002: false,
            broadcast: false,
            max_connections: 256,
            idle_timeout: Duration::from_secs(300),
            grace: Duration::from_secs(5),
            upper: false,
            reply: None,
            quiet: false,
            encoding: EncodingArg {
                encoding: Encoding::UTF_8,
            },
            write_timeout: WriteTimeoutArg::default(),
            trace: TraceArg { trace: false },
        }
    }

    /// Text in the wire encoding. Every text the server sends was checked at start-up (or is
    /// ASCII), so the fallback never applies.
    pub fn encode(&self, text: &str) -> Vec<u8> {
        self.encoding
            .encoding
            .encode(text)
            .unwrap_or_else(|_| text.as_bytes().to_vec())
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
