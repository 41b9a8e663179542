//! # udp-bind: bound and unbound UDP sockets, recvfrom and sendto
//!
//! What it shows: UDP has no connection, no listen and no accept. The server follows the
//! tutorial's steps — ① socket, ② bind a known port, ③ recvfrom, ④ sendto the sender,
//! ⑤ close — and the client ① creates a socket *without* binding it, ② sendto the server (the
//! OS picks the client's port now), ③ recvfrom the reply, ④ close. Every datagram carries its
//! sender's address; recvfrom's buffer size limits how much of a datagram you get
//! (`--recv-buffer`); nothing is retransmitted (`--timeout`).
//!
//! Seeds: 000 (the UDP server and client: `BBB` → `AAA`), 001 §4 (sendto/recvfrom, GBK text,
//! a socket bound to `('', 7788)` vs an unbound one that gets a random port), 004 (the
//! upper-case server over UDP).
//!
//! Run it:
//!
//! ```text
//! cargo run -p udp-bind -- demo                      # both sides in one process
//!
//! cargo run -p udp-bind -- server                    # terminal 1
//! cargo run -p udp-bind -- client                    # terminal 2: type lines
//! nc -u 127.0.0.1 7788                               # or any UDP client
//! ```
//!
//! What you will see: the server prints `bound to 127.0.0.1:7788`, then
//! `received from 127.0.0.1:PORT: TEXT` for each datagram. The client prints `bound to
//! 0.0.0.0:PORT` after its first send — the port the OS picked; run it again and the port
//! changes — then `sent to 127.0.0.1:7788: TEXT` and `received from 127.0.0.1:7788: TEXT`.
//! Stop the server and send again: after `--timeout` seconds (2) the client says that no reply
//! came, because nothing in UDP notices a lost datagram. `--recv-buffer 4` on either side cuts
//! longer datagrams and says how much was lost. `--trace` shows each socket call.
//!
//! Stop it: end the client's input (Ctrl-D; Ctrl-Z then Enter on Windows); stop the server with
//! Ctrl-C, or start it with `--once` to answer a single datagram.

mod client;
mod datagram;
mod demo;
mod server;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use common::Console;
use common::cli::{check_reply, finish, usage_error};

/// Bound and unbound UDP sockets, recvfrom and sendto: the UDP lesson, step by step.
#[derive(Parser)]
#[command(
    name = "udp-bind",
    version,
    arg_required_else_help = true,
    after_help = "New here? Run both sides at once: cargo run -p udp-bind -- demo"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the UDP server: bind a port, answer every datagram to whoever sent it
    Server(server::Options),
    /// Send lines (stdin or --message) as datagrams from an unbound socket, print the replies
    Client(client::Options),
    /// Run a server and two clients together on a free port: BBB -> AAA, twice
    Demo(demo::Options),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    finish(match &cli.command {
        Command::Server(options) => {
            // Refuse a fixed reply the chosen encoding cannot carry before binding.
            if let Err(message) = check_reply(options.reply.as_deref(), options.encoding.encoding) {
                usage_error(message);
            }
            server::run(options, Console::new(options.trace.trace))
        }
        Command::Client(options) => {
            client::run(options, Console::new(options.trace.trace)).map(|_| ())
        }
        Command::Demo(options) => demo::run(options),
    })
}
