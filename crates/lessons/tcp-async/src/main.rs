//! # tcp-async: the same server with async/await
//!
//! What it shows: tcp-threaded's server once more, written with tokio. Each connection is a
//! task, not a thread: `accept().await`, `read().await` and `write_all().await` put the task to
//! sleep until its socket is ready, and a few runtime threads (`--workers N`) run whichever
//! tasks are ready — the readiness loop of tcp-nonblocking, with the bookkeeping written by the
//! compiler. The same options as the other servers (`--max-connections`, `--idle-timeout`,
//! `--write-timeout`, `--upper`, `--broadcast`, `--encoding`, `--trace`), the same chat room,
//! the same clean stop; and what async gets wrong: one blocking call inside a task stalls every
//! other task on its worker thread (`--sleep-command blocking`), and `spawn_blocking` is the fix.
//!
//! Seeds: 000 and 002 (the echo server with a thread per connection, the client with a receive
//! thread), and 003 (`setblocking(False)`: the non-blocking sockets tokio uses underneath).
//!
//! Run it:
//!
//! ```text
//! cargo run -p tcp-async -- demo                          # both sides in one process
//!
//! cargo run -p tcp-async -- server                        # terminal 1
//! cargo run -p tcp-async -- client                        # terminals 2, 3, …: type lines
//! cargo run -p tcp-async -- server --broadcast            # a chat room instead of echoes
//! cargo run -p tcp-async -- server --workers 1 --sleep-command blocking   # the mistake
//! ```
//!
//! What you will see: the server prints `listening on 127.0.0.1:9999`, then one line per event
//! with the number of connected clients — `connection from 127.0.0.1:PORT (2 active)`,
//! `received from 127.0.0.1:PORT: TEXT`, `127.0.0.1:PORT closed the connection (1 active)`,
//! `busy: …`, `… timed out …`. The client prints `sent: TEXT` and, whenever something arrives,
//! `received: TEXT`. Add `--trace` to see each socket call and each task the server spawns.
//!
//! Stop it: end a client's input (Ctrl-D; Ctrl-Z then Enter on Windows). Stop the server with
//! Ctrl-C (or `kill PID`): it stops accepting, gives connected clients `--grace` seconds to
//! finish, closes the rest, prints `served N connections` and exits 0. Ctrl-C twice closes them
//! at once.

mod admission;
mod blocking;
mod client;
mod connection;
mod demo;
mod lines;
mod options;
mod room;
mod server;
mod stop;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use common::Console;
use common::cli::finish;

/// The same server with async/await: a task per connection on a few runtime threads.
#[derive(Parser)]
#[command(
    name = "tcp-async",
    version,
    arg_required_else_help = true,
    after_help = "New here? Run both sides at once: cargo run -p tcp-async -- demo"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: a task per client, on --workers runtime threads
    Server(options::Options),
    /// Connect, send lines (stdin or --message), and print whatever arrives as it arrives
    Client(client::Options),
    /// 100 clients on one worker thread, a blocking call measured, then a 3-client chat room
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
