//! # file-downloader: a real file transfer over TCP
//!
//! What it shows: seed 001's 文件下载器 (the client names a file, the server sends it, the client
//! saves it), done so that it works for any file: a length header frames the body, because a
//! byte stream has no message boundaries; the server sends only files inside its `--root`;
//! bodies stream through fixed buffers (64 KiB to send, 1 MiB to receive and save), whatever
//! the file's size; the client saves to a temporary file and renames it only when every byte
//! has arrived, and can resume an interrupted download.
//!
//! Seed: 001 §5.7 (文件下载器, the server on port 7890). Its client reads the file with one
//! `recv(1024)`, so every file over 1 KiB arrives cut, and nothing tells the user.
//!
//! Run it:
//!
//! ```text
//! cargo run -p file-downloader -- demo                            # both sides in one process
//!
//! cargo run -p file-downloader -- server --root some/dir          # terminal 1
//! cargo run -p file-downloader -- client --list                   # terminal 2
//! cargo run -p file-downloader -- client NAME                     # saves ./NAME's last part
//! ```
//!
//! What you will see: the server prints `listening on 127.0.0.1:7890`, then for each request
//! `received from PEER: GET NAME` and its outcome, `sent NAME (N bytes) to PEER` or
//! `refused "NAME" from PEER: REASON`. The client prints `sent: GET NAME`, `received: OK N`, a
//! progress bar while it works (on a terminal), and `downloaded NAME: N bytes in T s (R MB/s) ->
//! PATH`. Add `--trace` to either side to see the socket calls.
//!
//! Stop it: the client ends by itself (Ctrl-C mid-download keeps a `.part` file that `--resume`
//! continues); stop the server with Ctrl-C.

mod ask;
mod client;
mod demo;
mod download;
mod options;
mod paths;
mod protocol;
mod send;
mod server;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use common::Console;
use common::cli::{finish, usage_error};

/// Download files over TCP: a length header, safe paths, atomic saves, resume.
#[derive(Parser)]
#[command(
    name = "file-downloader",
    version,
    arg_required_else_help = true,
    after_help = "New here? Run both sides at once: cargo run -p file-downloader -- demo"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the files under --root to many clients at once
    Server(server::Options),
    /// Download one file (or --list the server's files)
    Client(options::Options),
    /// Run a server on a temporary folder and download from it: files, a refusal, a missing file
    Demo(demo::Options),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    finish(match &cli.command {
        Command::Server(options) => server::run(options, Console::new(options.trace.trace)),
        Command::Client(options) => {
            // A name that cannot go on one request line is a bad argument (exit 2).
            if let Some(name) = &options.name
                && let Err(problem) = options::check_name(name)
            {
                usage_error(problem);
            }
            client::run(options, Console::new(options.trace.trace))
        }
        Command::Demo(options) => demo::run(options),
    })
}
