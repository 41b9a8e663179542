//! # tcp-echo: a blocking TCP server and its client
//!
//! What it shows: the steps of a TCP server from the tutorials — ① socket, ② bind,
//! ③ listen(128), ④ accept, ⑤ recv until the client closes, ⑥ send everything back,
//! ⑦ close the client's socket, ⑧ close the listening socket — and of a TCP client: socket,
//! connect, send, recv, close. The server is *blocking*: it serves one client at a time.
//!
//! Seeds: 000 (the echo server on 127.0.0.1:8899 and its client), 001 (listen(128), the fixed
//! reply 再见,欢迎再次光临, and note 9: recv returns nothing when the peer closes), 002 (recv
//! loops), 004 (the upper-case server).
//!
//! Run it:
//!
//! ```text
//! cargo run -p tcp-echo -- demo                      # both sides in one process
//!
//! cargo run -p tcp-echo -- server                    # terminal 1
//! cargo run -p tcp-echo -- client                    # terminal 2: type lines
//! nc 127.0.0.1 8899                                  # or any TCP client
//! ```
//!
//! What you will see: the server prints `listening on 127.0.0.1:8899`, then
//! `connection from 127.0.0.1:PORT` and `received from 127.0.0.1:PORT: TEXT` for each line; the
//! client prints `sent: TEXT` and `received: TEXT`. Add `--trace` to either side to see each
//! socket call as it happens. A second client started while the first is connected waits: its
//! connection sits in the listen queue until the first one leaves.
//!
//! Stop it: end the client's input (Ctrl-D; Ctrl-Z then Enter on Windows); stop the server with
//! Ctrl-C, or start it with `--once` to serve a single client.

mod client;
mod demo;
mod server;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use common::Console;
use common::cli::{check_reply, finish, usage_error};

/// A blocking TCP echo server and its client: the TCP lesson, step by step.
#[derive(Parser)]
#[command(
    name = "tcp-echo",
    version,
    arg_required_else_help = true,
    after_help = "New here? Run both sides at once: cargo run -p tcp-echo -- demo"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the echo server: one client at a time, each line sent back
    Server(server::Options),
    /// Connect to the server, send lines (stdin or --message), print the replies
    Client(client::Options),
    /// Run a server and a client together on a free port, with canned messages
    Demo(demo::Options),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    finish(match &cli.command {
        Command::Server(options) => {
            // Refuse a fixed reply the chosen encoding cannot carry before listening.
            if let Err(message) = check_reply(options.reply.as_deref(), options.encoding.encoding) {
                usage_error(message);
            }
            server::run(options, Console::new(options.trace.trace))
        }
        Command::Client(options) => client::run(options, Console::new(options.trace.trace)),
        Command::Demo(options) => demo::run(options),
    })
}
