//! `tcp-nonblocking demo`: one server thread and a thousand clients connected at once, every
//! echo checked; then a three-client chat room. Everything runs in this process, on ports the OS
//! chooses; each line says who printed it.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use common::cli::TraceArg;
use common::{Addr, Console};

use crate::load;
use crate::options;
use crate::server::{self, Server};
use crate::stop::Stopper;
use crate::table::Stats;

/// How many clients connect at once in part 1.
pub const CLIENTS: usize = 1000;

/// Every wait in the demo ends by then, whatever happens.
const DEADLINE: Duration = Duration::from_secs(10);

/// `tcp-nonblocking demo`.
#[derive(Args, Clone, Debug)]
pub struct Options {
    #[command(flatten)]
    pub trace: TraceArg,
}

/// Part 1, then part 2.
pub fn run(options: &Options) -> anyhow::Result<()> {
    let trace = options.trace.trace;
    let demo = Console::new(trace).with_prefix("[demo] ");
    // A thousand clients and their thousand server sockets, in one process.
    crate::raise_open_file_limit(demo);

    demo.say(format_args!(
        "1. {CLIENTS} clients connect at once from one thread; each sends a line and checks its echo; all stay connected until every echo is in"
    ));
    thousand(trace)?;
    demo.say("2. a chat room (--broadcast): each line goes to the two other clients");
    chat(trace)
}

/// A server on 127.0.0.1:0, serving on a thread of its own: the one thread of the lesson.
/// `configure` turns the address into the server's options.
fn start(configure: impl FnOnce(Addr) -> options::Options, trace: bool) -> anyhow::Result<Running> {
    let console = Console::new(trace).with_prefix("[server] ");
    let listener = server::listen(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), console)?;
    let addr = listener.local_addr()?;
    let server = Server::new(listener, configure(Addr::from_socket_addr(addr)), console)?;
    console.say(format_args!("listening on {addr}"));
    let stopper = server.stopper();
    let stats = server.stats();
    let thread = thread::Builder::new()
        .name("server".into())
        .spawn(move || server.serve())
        .context("starting the server thread")?;
    Ok(Running {
        addr,
        stopper,
        stats,
        thread,
    })
}

struct Running {
    addr: SocketAddr,
    stopper: Stopper,
    stats: Arc<Stats>,
    thread: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Waits until `count` clients are connected, so that the lines come in the same order on
    /// every run.
    fn wait_for_active(&self, count: usize) -> anyhow::Result<()> {
        let deadline = Instant::now() + DEADLINE;
        while self.stats.active.load(std::sync::atomic::Ordering::SeqCst) != count {
            if Instant::now() >= deadline {
                bail!("the server did not reach {count} connected clients in time");
            }
            thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }

    /// Stops the server as Ctrl-C would, and waits for its summary.
    fn stop(self) -> anyhow::Result<()> {
        self.stopper.stop();
        self.thread
            .join()
            .map_err(|_| anyhow::anyhow!("the server thread panicked"))?
    }
}

// ANCHOR: thousand
/// Part 1: `client --connections 1000` against the server, both in this process.
fn thousand(trace: bool) -> anyhow::Result<()> {
    let server = start(
        |listen| options::Options {
            // A thousand connection lines would hide the point: the summary says it.
            quiet: true,
            ..options::Options::new(listen)
        },
        trace,
    )?;
    let plan = load::Plan {
        connections: CLIENTS,
        messages: 1,
        duration: None,
        idle: 0,
        timeout: DEADLINE,
    };
    let client = Console::new(trace).with_prefix("[client] ");
    load::run(server.addr, &plan, client)?;
    // The clients have closed; let the server see every close before it is stopped.
    server.wait_for_active(0)?;
    server.stop()
}
// ANCHOR_END: thousand

/// The chat room's three clients.
const NAMES: [&str; 3] = ["[alice] ", "[bob] ", "[carol] "];

/// Who says what, in order.
const CONVERSATION: [(usize, &str); 3] = [
    (0, "hello, everyone"),
    (1, "你好，爱丽丝"),
    (2, "bye for now"),
];

/// Part 2: three clients join one by one, take turns speaking, and leave one by one. Each
/// listener reads the line the speaker's words became, before the next one speaks.
fn chat(trace: bool) -> anyhow::Result<()> {
    let server = start(
        |listen| options::Options {
            broadcast: true,
            ..options::Options::new(listen)
        },
        trace,
    )?;
    let mut clients = Vec::new();
    for (index, name) in NAMES.into_iter().enumerate() {
        let console = Console::new(trace).with_prefix(name);
        let stream = TcpStream::connect_timeout(&server.addr, DEADLINE)?;
        stream.set_read_timeout(Some(DEADLINE))?;
        stream.set_write_timeout(Some(DEADLINE))?;
        console.say(format_args!("connected from {}", stream.local_addr()?));
        // The server's line about this client comes before the next one connects.
        server.wait_for_active(index + 1)?;
        let reader = BufReader::new(stream.try_clone()?);
        clients.push((stream, reader, console));
    }

    for (speaker, text) in CONVERSATION {
        let (stream, _, console) = &clients[speaker];
        console.say(format_args!("sent: {text}"));
        let mut stream: &TcpStream = stream;
        stream.write_all(format!("{text}\n").as_bytes())?;
        for (index, (_, reader, console)) in clients.iter_mut().enumerate() {
            if index == speaker {
                continue;
            }
            let mut line = String::new();
            reader
                .read_line(&mut line)
                .with_context(|| format!("waiting for {text:?}"))?;
            console.say(format_args!("received: {}", line.trim_end()));
        }
    }

    let mut still_here = NAMES.len();
    for (stream, _, console) in clients {
        console.say("closing the connection");
        stream.shutdown(Shutdown::Write)?;
        still_here -= 1;
        server.wait_for_active(still_here)?;
    }
    server.stop()
}
