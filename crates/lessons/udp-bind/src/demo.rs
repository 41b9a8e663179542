//! `udp-bind demo`: seed 000's exchange — the client sends `BBB`, the server answers `AAA` —
//! run twice, by two unbound clients, in one process on a port the OS chooses. Each side's
//! lines carry a prefix, so the conversation reads top to bottom.

use std::net::{Ipv4Addr, SocketAddr};
use std::thread;
use std::time::Duration;

use clap::Args;
use common::cli::{EncodingArg, TraceArg};
use common::{Addr, Console, Encoding};

use crate::datagram::MAX_DATAGRAM;
use crate::{client, server};

/// `udp-bind demo`.
#[derive(Args, Clone, Debug)]
pub struct Options {
    #[command(flatten)]
    pub trace: TraceArg,
}

// ANCHOR: demo
/// Binds a server that answers `AAA` on 127.0.0.1:0, runs an unbound client against it twice,
/// and compares the two ports the OS picked for the two clients.
pub fn run(options: &Options) -> anyhow::Result<()> {
    let trace = options.trace;
    let encoding = EncodingArg {
        encoding: Encoding::UTF_8,
    };
    let server_options = server::Options {
        reply: Some("AAA".to_owned()),
        trace,
        ..server::Options::new(Addr::localhost(0))
    };
    let client_console = Console::new(trace.trace).with_prefix("[client] ");
    let server_console = Console::new(trace.trace).with_prefix("[server] ");

    // Bind before the clients start: a datagram sent to a port nobody has bound is dropped.
    let socket = server::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), server_console)?;
    let addr = socket.local_addr()?;
    let server =
        thread::spawn(move || server::serve(&socket, &server_options, server_console, Some(2)));

    // The same unbound client, run twice: each run gets a fresh socket and a port of the OS's
    // choosing (seed 001, §4.3: "如果重新运行此程序端口可能会发生变化").
    let mut ports = Vec::new();
    for _ in 0..2 {
        let client_options = client::Options {
            server: Addr::from_socket_addr(addr),
            bind: None,
            messages: vec!["BBB".to_owned()],
            timeout: Duration::from_secs(5),
            recv_buffer: MAX_DATAGRAM,
            encoding,
            trace,
        };
        // If a client fails, return at once: the server thread ends with the process.
        if let Some(bound) = client::run(&client_options, client_console)? {
            ports.push(bound.port());
        }
    }
    server
        .join()
        .map_err(|_| anyhow::anyhow!("the server thread panicked"))??;

    if let [first, second] = ports[..] {
        let verdict = if first == second {
            "the same port twice: a rare coincidence, run it again"
        } else {
            "the OS picked a new one for each run"
        };
        client_console.say(format_args!(
            "two runs, two sockets: ports {first} and {second} ({verdict})"
        ));
    }
    Ok(())
}
// ANCHOR_END: demo
