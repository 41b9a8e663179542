//! # tcp-nonblocking: one thread for ten thousand clients
//!
//! What it shows: tcp-threaded's server — echo, `--upper`, the chat room (`--broadcast`),
//! `--max-connections`, idle timeouts, a clean stop — on **one thread**. Its sockets are in
//! non-blocking mode (seed 003's `setblocking(False)`): a `read` with nothing to read returns
//! `WouldBlock` instead of waiting. One `mio::Poll` (epoll on Linux, kqueue on macOS, IOCP on
//! Windows) says which sockets are ready; the loop reads and writes until `WouldBlock`, and
//! keeps for each connection a small struct: its socket, its unfinished line, the bytes it is
//! owed. `--busy-poll` keeps the naive loop that asks every socket in turn, to compare: it works,
//! and burns a whole core doing nothing. The client opens thousands of connections from one
//! thread with non-blocking connects (seed 003's `connect_ex`), and is the lesson's load
//! generator (`scripts/bench-c10k.sh`).
//!
//! Seeds: 003 (`setblocking`, `connect_ex`), and 002, whose "并发服务器" (concurrent server)
//! this one finally is.
//!
//! Run it:
//!
//! ```text
//! cargo run -p tcp-nonblocking -- demo                          # a thousand clients, then a chat room
//!
//! cargo run -p tcp-nonblocking -- server                        # terminal 1
//! cargo run -p tcp-nonblocking -- client                        # terminal 2: type lines
//! cargo run -p tcp-nonblocking -- client --connections 1000     # terminal 3: a thousand at once
//! cargo run -p tcp-nonblocking -- server --broadcast            # a chat room instead of echoes
//! ```
//!
//! What you will see: the server prints `listening on 127.0.0.1:9999`, then one line per event
//! with the number of connected clients, as tcp-threaded does — `connection from 127.0.0.1:PORT
//! (2 active)`, `received from 127.0.0.1:PORT: TEXT`, `127.0.0.1:PORT closed the connection
//! (1 active)`. `--trace` shows each `poll()` and what it reported. `client --connections N`
//! prints one line: `N connections, K replies checked, E errors, T s`.
//!
//! Stop it: Ctrl-C (or `kill PID`): the server stops accepting, gives connected clients
//! `--grace` seconds, closes the rest, prints `served N connections` and exits 0. Ctrl-C twice
//! closes them at once. The interactive client ends at the end of input (Ctrl-D; Ctrl-Z then
//! Enter on Windows).

mod admission;
mod busy;
mod client;
mod connection;
mod deadlines;
mod demo;
mod load;
mod options;
mod room;
mod server;
mod stop;
mod table;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use common::Console;
use common::cli::{check_reply, finish, usage_error};

/// One thread for thousands of clients: non-blocking sockets and a readiness loop.
#[derive(Parser)]
#[command(
    name = "tcp-nonblocking",
    version,
    arg_required_else_help = true,
    after_help = "New here? Run both sides at once: cargo run -p tcp-nonblocking -- demo"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: every client served at once, on one thread, by a readiness loop
    Server(options::Options),
    /// One interactive connection, or --connections N at once from one thread, every echo checked
    Client(client::Options),
    /// One thread serves a thousand clients at once, then a 3-client chat room
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

/// Every socket is a file descriptor, and most Linux systems let a process open only 1024 of
/// them unless it asks for more (the "soft" limit; the "hard" limit is the most it may ask
/// for). Ten thousand clients need ten thousand descriptors: raise the soft limit to the hard
/// one, as Go's runtime does for every program. Returns the limit now in force.
pub fn raise_open_file_limit(console: Console) -> Option<u64> {
    #[cfg(unix)]
    {
        match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(limit) => {
                console.trace(format_args!("setrlimit(RLIMIT_NOFILE) -> {limit}"));
                Some(limit)
            }
            Err(error) => {
                console.trace(format_args!("setrlimit(RLIMIT_NOFILE) -> {error}"));
                None
            }
        }
    }
    #[cfg(not(unix))]
    {
        // Windows counts sockets differently: no per-process limit to raise here.
        let _ = console;
        None
    }
}
