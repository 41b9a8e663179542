//! `tcp-echo demo`: the server and the client in one process, on a port the OS chooses, with
//! canned messages. Each side's lines carry a prefix, so the conversation reads top to bottom.

use std::net::{Ipv4Addr, SocketAddr};
use std::thread;
use std::time::Duration;

use clap::Args;
use common::cli::{EncodingArg, TraceArg};
use common::{Addr, Console, Encoding};

use crate::{client, server};

/// What the demo's client says: English, Chinese, and a goodbye.
pub const MESSAGES: [&str; 3] = ["hello, server", "你好，服务器", "bye"];

/// `tcp-echo demo`.
#[derive(Args, Clone, Debug)]
pub struct Options {
    #[command(flatten)]
    pub trace: TraceArg,
}

// ANCHOR: demo
/// Starts a `--once` server on 127.0.0.1:0, runs the client against it, and waits for both.
pub fn run(options: &Options) -> anyhow::Result<()> {
    let trace = options.trace;
    let encoding = EncodingArg {
        encoding: Encoding::UTF_8,
    };
    let server_options = server::Options {
        once: true,
        trace,
        ..server::Options::new(Addr::localhost(0))
    };
    let client_console = Console::new(trace.trace).with_prefix("[client] ");
    let server_console = Console::new(trace.trace).with_prefix("[server] ");

    // Listen before the client starts, so that its connection cannot come too early.
    let listener = server::listen(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), server_console)?;
    let addr = listener.local_addr()?;
    let server = thread::spawn(move || server::serve(&listener, &server_options, server_console));

    let client_options = client::Options {
        connect: Addr::from_socket_addr(addr),
        messages: MESSAGES.map(String::from).to_vec(),
        timeout: Duration::from_secs(5),
        encoding,
        trace,
    };
    // If the client fails, return at once: the server thread ends with the process.
    client::run(&client_options, client_console)?;
    server
        .join()
        .map_err(|_| anyhow::anyhow!("the server thread panicked"))?
}
// ANCHOR_END: demo
