//! # tcp-threaded: many clients at once, done right
//!
//! What it shows: why a blocking server serves one client at a time, and how threads fix it —
//! a thread per connection (with a limit, `--max-connections`), or a fixed pool of threads
//! (`--pool N`); a chat room where one slow client cannot stall the others (`--broadcast`);
//! idle connections that time out (`--idle-timeout`); a clean stop on Ctrl-C or SIGTERM; and a
//! client whose receive thread prints what arrives while you type.
//!
//! Seeds: 000 (the echo server with one `Thread` per connection) and 002 (a "concurrent"
//! server whose one thread serves clients one after another — kept here as `--sequential`, to
//! compare — and a client with a receive thread).
//!
//! Run it:
//!
//! ```text
//! cargo run -p tcp-threaded -- demo                        # both sides in one process
//!
//! cargo run -p tcp-threaded -- server                      # terminal 1
//! cargo run -p tcp-threaded -- client                      # terminals 2, 3, …: type lines
//! cargo run -p tcp-threaded -- server --broadcast          # a chat room instead of echoes
//! ```
//!
//! What you will see: the server prints `listening on 127.0.0.1:9999`, then one line per event
//! with the number of connected clients — `connection from 127.0.0.1:PORT (2 active)`,
//! `received from 127.0.0.1:PORT: TEXT`, `127.0.0.1:PORT closed the connection (1 active)`,
//! `busy: …`, `… timed out …`. Every client is answered at once, however many are connected.
//! The client prints `sent: TEXT` and, whenever something arrives, `received: TEXT`. Add
//! `--trace` to either side to see each socket call and each thread the server starts.
//!
//! Stop it: end a client's input (Ctrl-D; Ctrl-Z then Enter on Windows). Stop the server with
//! Ctrl-C (or `kill PID`): it stops accepting, gives connected clients `--grace` seconds to
//! finish, closes the rest, prints `served N connections` and exits 0. Ctrl-C twice closes them
//! at once.

mod admission;
mod client;
mod demo;
mod options;
mod pool;
mod room;
mod seed_002;
mod server;
mod stop;
mod workers;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use common::Console;
use common::cli::{check_reply, finish, usage_error};

/// Many TCP clients at once: a thread per connection, a pool, a chat room, a clean stop.
#[derive(Parser)]
#[command(
    name = "tcp-threaded",
    version,
    arg_required_else_help = true,
    after_help = "New here? Run both sides at once: cargo run -p tcp-threaded -- demo"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: every client served at once, on its own thread or a pool's
    Server(options::Options),
    /// Connect, send lines (stdin or --message), and print whatever arrives as it arrives
    Client(client::Options),
    /// Time 5 clients against a one-thread and a threaded server, then a 3-client chat room
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
