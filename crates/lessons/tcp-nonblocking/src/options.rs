//! `tcp-nonblocking server`'s options: tcp-threaded's, on one thread, and `--busy-poll` (the
//! client's are in `client.rs`). The readiness loop (`server.rs`) and the busy loop (`busy.rs`)
//! both read them; the demo starts from the same defaults (`Options::new`).

use std::time::Duration;

use clap::Args;
use common::cli::{EncodingArg, TraceArg, parse_seconds};
use common::stalled::WriteTimeoutArg;
use common::{Addr, Encoding};

/// `tcp-nonblocking server`: tcp-threaded's options, on one thread.
#[derive(Args, Clone, Debug)]
pub struct Options {
    /// Where to listen: HOST:PORT, [IPV6]:PORT, PORT or :PORT (all interfaces); port 0 lets the OS choose
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9999")]
    pub listen: Addr,

    /// A chat room: each line goes to every other client as `PEER: TEXT`
    #[arg(long, conflicts_with_all = ["upper", "reply", "busy_poll"])]
    pub broadcast: bool,

    /// Turn further clients away with `busy, try again later` while N are connected
    #[arg(long, value_name = "N", default_value = "10000", value_parser = clap::value_parser!(u32).range(1..))]
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

    /// The naive loop, to compare: ask every socket in turn, never sleep (burns a core)
    #[arg(long, conflicts_with_all = ["upper", "reply"])]
    pub busy_poll: bool,

    #[command(flatten)]
    pub encoding: EncodingArg,

    #[command(flatten)]
    pub write_timeout: WriteTimeoutArg,

    #[command(flatten)]
    pub trace: TraceArg,
}

impl Options {
    /// The defaults of `tcp-nonblocking server --listen ADDR`, for the demo.
    pub fn new(listen: Addr) -> Options {
        Options {
            listen,
            broadcast: false,
            max_connections: 10_000,
            idle_timeout: Duration::from_secs(300),
            grace: Duration::from_secs(5),
            upper: false,
            reply: None,
            quiet: false,
            busy_poll: false,
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
