//! `long-short demo`: one server in this process, on a port the OS chooses; the same requests
//! sent over one long connection, then over short connections; the two side by side.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use common::cli::TraceArg;
use common::{Addr, Console};

use crate::client;
use crate::measurement::{Measurement, Mode};
use crate::options::{self, Threads};
use crate::server::{self, Server};
use crate::time_wait;

/// Bytes per request in the demo, newline included.
const SIZE: u32 = 64;

/// `long-short demo`.
#[derive(Args, Clone, Debug)]
pub struct Options {
    /// Requests in each mode
    #[arg(long, value_name = "N", default_value = "200",
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub count: u32,

    /// Where the server's threads come from: pool or spawn (see `server --help`)
    #[arg(long, value_enum, default_value = "pool")]
    pub threads: Threads,

    #[command(flatten)]
    pub trace: TraceArg,
}

// ANCHOR: demo
/// Starts a server on 127.0.0.1:0, measures both modes against it, prints the comparison.
pub fn run(options: &Options) -> anyhow::Result<()> {
    let trace = options.trace;
    let server_console = Console::new(trace.trace).with_prefix("[server] ");
    let client_console = Console::new(trace.trace).with_prefix("[client] ");

    let listener = server::listen(
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        true,
        server_console,
    )?;
    let addr = listener.local_addr()?;
    let server_options = options::Options {
        threads: options.threads,
        trace,
        ..options::Options::new(Addr::from_socket_addr(addr))
    };
    let server = Arc::new(Server::new(listener, server_options, server_console));
    let serving = Arc::clone(&server);
    // The server runs until the demo ends: its threads end with the process.
    thread::Builder::new()
        .spawn(move || serving.serve())
        .context("starting the server thread")?;

    let mut results = Vec::new();
    for (mode, how) in [
        (Mode::Long, "over one connection"),
        (Mode::Short, "a new connection for each"),
    ] {
        client_console.say(format_args!(
            "{mode}: {} requests of {SIZE} bytes, {how}",
            options.count
        ));
        let client_options = client::Options {
            connect: Addr::from_socket_addr(addr),
            mode,
            count: options.count,
            size: SIZE,
            concurrency: 1,
            timeout: Duration::from_secs(5),
            trace,
        };
        let measurement = client::measure(addr, &client_options, client_console);
        measurement.check()?;
        results.push(measurement);
    }

    side_by_side(&results, client_console);
    client_console.say(time_wait::report(addr));
    server_console.say(format_args!(
        "served {} requests on {} connections",
        server.stats.requests.load(Ordering::Relaxed),
        server.stats.connections.load(Ordering::Relaxed)
    ));
    Ok(())
}
// ANCHOR_END: demo

/// The two runs as a table, and how many times more requests per second long connections got.
fn side_by_side(results: &[Measurement], console: Console) {
    console.say("mode   requests  connections  requests/s  mean_us  p99_us");
    for result in results {
        console.say(format_args!(
            "{:<6} {:>8}  {:>11}  {:>10.0}  {:>7}  {:>6}",
            result.mode.to_string(),
            result.requests,
            result.connections,
            result.per_second(),
            result.mean_us(),
            result.p99_us()
        ));
    }
    if let [long, short] = results {
        console.say(format_args!(
            "long connections: {:.1}x the requests per second of short ones",
            long.per_second() / short.per_second()
        ));
    }
}
