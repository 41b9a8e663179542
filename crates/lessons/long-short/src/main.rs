//! # long-short: long vs short TCP connections, measured
//!
//! What it shows: the same requests sent two ways. A *short* connection carries one request:
//! connect (a three-way handshake), send, receive, close (a FIN exchange), and the side that
//! closed first keeps the connection in TIME_WAIT for a minute. A *long* connection pays for the
//! handshake and the FIN exchange once, for all its requests. The client times every request and
//! prints `mode=… requests=… connections=… errors=… elapsed_ms=… mean_us=… p99_us=…`; after a
//! short run on Linux it counts the sockets left in TIME_WAIT. A second lesson hides in the
//! server: creating a thread per connection costs as much as the connection itself, so the server
//! starts its worker threads in advance (`--threads pool`, compare `--threads spawn`).
//!
//! Seed: 001 §5.8 (长连接和短连接), which describes both patterns in words only, and notes that
//! usually the client closes first.
//!
//! Run it:
//!
//! ```text
//! cargo run -p long-short -- demo                                      # both modes, side by side
//!
//! cargo run --release -p long-short -- server                          # terminal 1
//! cargo run --release -p long-short -- client --mode long --count 10000    # terminal 2
//! cargo run --release -p long-short -- client --mode short --count 10000
//! bash scripts/bench-long-short.sh                                     # the whole comparison
//! ```
//!
//! What you will see: the server prints `listening on 127.0.0.1:8081`, then once a second how
//! many requests and new connections it saw (`--verbose` prints every one). The client prints its
//! summary line; the short run's rate is several times lower, and it is followed by
//! `TIME_WAIT after the run: 10000 sockets on the client's side, 0 on the server's side …`.
//!
//! Stop it: the client ends by itself (exit 1 if any request failed); stop the server with
//! Ctrl-C.

mod client;
mod connection;
mod demo;
mod measurement;
mod options;
mod server;
mod stats;
mod time_wait;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use common::Console;
use common::cli::finish;

/// Long vs short TCP connections, measured: an echo server and a client that times both.
#[derive(Parser)]
#[command(
    name = "long-short",
    version,
    arg_required_else_help = true,
    after_help = "New here? Compare both modes at once: cargo run -p long-short -- demo"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the echo server: every line answered, as many per connection as the client sends
    Server(options::Options),
    /// Send --count requests over long or short connections, check and time every reply
    Client(client::Options),
    /// Run a server and both kinds of client on a free port, and compare them
    Demo(demo::Options),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    finish(match &cli.command {
        Command::Server(options) => server::run(options, Console::new(options.trace.trace)),
        Command::Client(options) => client::run(options, Console::new(options.trace.trace)),
        Command::Demo(options) => demo::run(options),
    })
}
