//! # relay: a bad network on your own machine
//!
//! What it shows: what UDP and TCP do when the network loses and delays. On one machine the
//! loopback interface loses nothing and answers in microseconds, so the lessons never show
//! UDP's lost datagrams or a long round trip. This relay sits between a client and a server and
//! makes the network worse, on purpose, on any operating system (no `netem`, no root):
//!
//! - `relay udp` passes datagrams between clients and a server, losing `--loss` of them in each
//!   direction and holding the others for `--delay`. Which ones are lost is decided by a seeded
//!   coin: the same `--seed` and the same datagrams lose the same ones, every run.
//! - `relay tcp` passes each connection's bytes on, each chunk `--delay` later, in order, and
//!   passes on the end of each stream (a half-close). Nothing is lost: that is TCP's promise.
//!
//! Run it, in three terminals:
//!
//! ```text
//! cargo run -p udp-bind -- server                                                      # terminal 1
//! cargo run -p relay -- udp --listen 7000 --to 7788 --loss 0.2 --delay 50ms --verbose  # terminal 2
//! cargo run -p udp-bind -- client --server 7000                                        # terminal 3
//! ```
//!
//! What you will see: the relay prints `bound to 127.0.0.1:7000` and what it will do. Type
//! lines in terminal 3: most replies come back a tenth of a second later (50 ms each way), and
//! the relay prints `forwarded …` for each datagram, both ways. Now and then it prints
//! `dropped …` instead, and the client waits its whole `--timeout` and stops with `no reply`:
//! the relay lost the message or its reply, and UDP never sends anything twice. For TCP, run
//! `tcp-echo server` in terminal 1, `relay tcp --listen 7001 --to 8899 --delay 50ms` in
//! terminal 2 and `tcp-echo client --connect 7001` in terminal 3: every line comes back, each
//! one later.
//!
//! Stop it: Ctrl-C (or start it with `--duration 30s`). Either way it prints a summary:
//! `summary: forwarded=… dropped=… delayed=…`. `bash scripts/loss-lab.sh` runs all of this
//! with a fixed seed and prints the figures.

mod args;
mod delay_line;
mod random;
mod tcp;
mod udp;

use std::process::ExitCode;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use common::Console;
use common::cli::finish;

/// A relay that makes the network worse on purpose: lost and delayed UDP datagrams, delayed TCP.
#[derive(Parser)]
#[command(
    name = "relay",
    version,
    arg_required_else_help = true,
    after_help = "Try it between udp-bind's server and client: see `cargo doc -p relay --open`, or the book's \"TCP vs UDP\" section.\nThe whole lab at once: bash scripts/loss-lab.sh"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Relay UDP datagrams between clients and a server, losing and delaying some
    Udp(udp::Options),
    /// Relay TCP connections to a server, delaying every chunk
    Tcp(tcp::Options),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    finish(match &cli.command {
        Command::Udp(options) => udp::run(options, |counts| {
            stop_with_summary(options.shared.duration, move || counts.summary())
        }),
        Command::Tcp(options) => tcp::run(options, |counts| {
            stop_with_summary(options.shared.duration, move || counts.summary())
        }),
    })
}

/// On Ctrl-C (or SIGTERM), or after `--duration`: print the summary line and exit.
fn stop_with_summary(
    duration: Option<Duration>,
    summary: impl Fn() -> String + Send + Sync + 'static,
) -> anyhow::Result<()> {
    let stop = Arc::new(move || {
        Console::new(false).say(summary());
        // Whatever still waits on the delay line is lost with the relay, as on a real network.
        std::process::exit(0)
    });
    let on_signal = Arc::clone(&stop);
    ctrlc::set_handler(move || on_signal()).context("installing the Ctrl-C handler")?;
    if let Some(duration) = duration {
        thread::spawn(move || {
            thread::sleep(duration);
            stop()
        });
    }
    Ok(())
}
