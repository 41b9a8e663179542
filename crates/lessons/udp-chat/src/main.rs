//! # udp-chat: the UDP chat program (聊天器)
//!
//! What it shows: a chat over UDP that receives and sends *at the same time*. One UDP socket,
//! bound to a known port (① socket and ② bind); one thread waits in ③ recvfrom and prints every
//! message as it arrives, while the main thread reads your lines and ④ sendto's each one to the
//! peer; ⑤ close at the end. Without `--peer`, your lines go to whoever wrote to you last.
//!
//! Seed: 001 §4.4, the UDP chat program (聊天器). The tutorial's chat does one thing at a time
//! — it cannot receive while it waits for your input — and crashes on a message that is not
//! valid GBK. It interoperates with this one: start this one with `--encoding gbk`.
//!
//! Run it:
//!
//! ```text
//! cargo run -p udp-chat -- demo                              # alice and bob in one process
//!
//! cargo run -p udp-chat                                      # terminal 1: bound to 127.0.0.1:7788
//! cargo run -p udp-chat -- --bind 7789 --peer 7788           # terminal 2: writes to terminal 1
//! ```
//!
//! What you will see: each side prints `bound to ADDR`. Type a line in terminal 2: it prints
//! `sent to 127.0.0.1:7788: …`, and terminal 1 prints `received from 127.0.0.1:7789: …` — even
//! while you are typing there — and from then on replies go to 127.0.0.1:7789. `/peer ADDR`
//! changes whom you write to; `--trace` shows each socket call.
//!
//! Stop it: type `/quit`, or end the input (Ctrl-D; Ctrl-Z then Enter on Windows).

mod chat;
mod demo;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use common::Console;
use common::cli::finish;

/// The UDP chat program: receives while you type. With no subcommand, starts the chat.
#[derive(Parser)]
#[command(
    name = "udp-chat",
    version,
    args_conflicts_with_subcommands = true,
    after_help = "New here? Watch two chats talk: cargo run -p udp-chat -- demo\n\
                  Two terminals: `cargo run -p udp-chat` and `cargo run -p udp-chat -- --bind 7789 --peer 7788`"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    #[command(flatten)]
    chat: chat::Options,
}

#[derive(Subcommand)]
enum Command {
    /// Run two chats, alice and bob, in one process with a short conversation
    Demo(demo::Options),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    finish(match &cli.command {
        Some(Command::Demo(options)) => demo::run(options),
        None => chat::run(&cli.chat, Console::new(cli.chat.trace.trace)),
    })
}
