//! The client. With `--connections N`, one thread opens N connections at once and checks every
//! echo (`load.rs`). Without it, one interactive connection like tcp-threaded's client — but
//! on one Poll instead of a receive thread: the socket and your typing are both events. The
//! terminal cannot be registered with a Poll everywhere, so a small thread reads stdin and
//! hands each line over through a channel, waking the Poll with a `Waker`.

use std::io::{ErrorKind, IsTerminal, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::sync::mpsc::{self, TryRecvError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use common::cli::{EncodingArg, TraceArg, input_lines, parse_seconds};
use common::framing::{Pending, SILENCE};
use common::net::connect_error;
use common::{Addr, Console};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};

/// The longest line printed as one; a longer one is printed in pieces.
const MAX_LINE: usize = 1024 * 1024;

const SOCKET: Token = Token(0);
const STDIN: Token = Token(1);

/// `tcp-nonblocking client`.
#[derive(Args, Clone, Debug)]
pub struct Options {
    /// The server: HOST:PORT, [IPV6]:PORT or PORT
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9999")]
    pub connect: Addr,

    /// Open N connections at once from one thread, send --messages lines on each, check every echo
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=60_000))]
    pub connections: Option<u32>,

    /// With --connections: lines to send on each connection, one after another
    #[arg(long, value_name = "M", default_value = "1", requires = "connections", value_parser = clap::value_parser!(u32).range(1..))]
    pub messages: u32,

    /// With --connections: instead of --messages, keep asking for this many seconds (a benchmark)
    #[arg(long, value_name = "SECONDS", requires = "connections", value_parser = parse_seconds)]
    pub duration: Option<Duration>,

    /// With --connections: first open N more connections that stay silent (held open)
    #[arg(long, value_name = "N", default_value = "0", requires = "connections")]
    pub idle: u32,

    /// Send this message instead of reading lines from stdin (repeat it to send several)
    #[arg(long = "message", value_name = "TEXT", conflicts_with = "connections")]
    pub messages_text: Vec<String>,

    /// Seconds to wait for a connection, for each reply, and for the server to finish at the end
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = parse_seconds)]
    pub timeout: Duration,

    #[command(flatten)]
    pub encoding: EncodingArg,

    #[command(flatten)]
    pub trace: TraceArg,
}

/// `tcp-nonblocking client`: many connections, or one interactive one.
pub fn run(options: &Options, console: Console) -> anyhow::Result<()> {
    if let Some(connections) = options.connections {
        crate::raise_open_file_limit(console);
        let addr = options.connect.resolve_one()?;
        let plan = crate::load::Plan {
            connections: connections as usize,
            messages: options.messages as usize,
            duration: options.duration,
            idle: options.idle as usize,
            timeout: options.timeout,
        };
        return crate::load::run(addr, &plan, console);
    }
    interactive(options, console)
}

// ANCHOR: interactive
/// One connection: what you type is sent, what arrives is printed as it arrives.
fn interactive(options: &Options, console: Console) -> anyhow::Result<()> {
    let encoding = options.encoding.encoding;
    let addr = options.connect.resolve_one()?;
    console.say(format_args!("connecting to {}", options.connect));
    let mut poll = Poll::new().context("creating the Poll")?;
    let mut stream = connect(&mut poll, addr, options.timeout, console)?;

    // Your lines, from a thread that may block on the terminal; the Waker wakes the Poll.
    let waker = Arc::new(Waker::new(poll.registry(), STDIN).context("creating the Waker")?);
    let (lines, typed) = mpsc::channel();
    let messages = options.messages_text.clone();
    // The loop keeps a handle too: when the last one goes, the Waker's descriptor closes,
    // and a wake-up not yet collected by poll() would go with it.
    let wakes = Arc::clone(&waker);
    thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            let waker = wakes;
            for line in input_lines(&messages, console) {
                if lines.send(line).is_err() {
                    break;
                }
                let _ = waker.wake();
            }
            // End of input: the channel closes, and one last wake says so.
            drop(lines);
            let _ = waker.wake();
        })
        .context("starting the stdin thread")?;

    let at_prompt = options.messages_text.is_empty() && std::io::stdin().is_terminal();
    let show = |line: &[u8]| {
        if at_prompt {
            eprint!("\r");
        }
        console.say(format_args!("received: {}", encoding.display(line)));
        if at_prompt {
            console.prompt();
        }
    };
    let mut events = Events::with_capacity(16);
    let mut pending = Pending::default();
    let mut last_heard = Instant::now();
    let mut owed: Vec<u8> = Vec::new();
    let mut input_open = true;
    let mut shut_down = false;
    let mut done_at: Option<Instant> = None;
    let mut unsent = 0;
    let mut chunk = [0u8; 4096];
    loop {
        // Sleep until something happens, or until a message without a newline has been
        // followed by a silence, or until the end-of-input wait is over.
        let mut timeout = done_at.map(|at| at.saturating_duration_since(Instant::now()));
        if !pending.is_empty() {
            let silence = (last_heard + SILENCE).saturating_duration_since(Instant::now());
            timeout = Some(timeout.map_or(silence, |t| t.min(silence)));
        }
        match poll.poll(&mut events, timeout) {
            Ok(()) => {}
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(error) => return Err(error).context("poll()"),
        }
        // Your lines: encode, print, queue.
        while input_open {
            match typed.try_recv() {
                Ok(line) => {
                    let line = line.context("reading stdin")?;
                    match encoding.encode(&line) {
                        Ok(mut request) => {
                            request.push(b'\n');
                            console.say(format_args!("sent: {line}"));
                            owed.extend_from_slice(&request);
                        }
                        Err(error) => {
                            // Never send a silently altered message: say why, go on.
                            eprintln!("error: not sent: {error}");
                            unsent += 1;
                        }
                    }
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    input_open = false;
                    console.say("end of input: waiting for the server to finish");
                    done_at = Some(Instant::now() + options.timeout);
                }
            }
        }
        // Write what we owe until WouldBlock; shut down our sending half once all is sent.
        while !owed.is_empty() {
            match stream.write(&owed) {
                Ok(sent) => {
                    console.trace(format_args!("send({} bytes) -> {sent}", owed.len()));
                    owed.drain(..sent);
                }
                Err(error) if error.kind() == ErrorKind::WouldBlock => break,
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) => return Err(error).context("sending"),
            }
        }
        if !input_open && owed.is_empty() && !shut_down {
            stream
                .shutdown(Shutdown::Write)
                .context("shutdown(SHUT_WR)")?;
            console.trace("shutdown(SHUT_WR)");
            shut_down = true;
        }
        let interest = if owed.is_empty() {
            Interest::READABLE
        } else {
            Interest::READABLE | Interest::WRITABLE
        };
        poll.registry()
            .reregister(&mut stream, SOCKET, interest)
            .context("epoll_ctl(MOD)")?;
        // Read what arrived until WouldBlock, and print it line by line.
        loop {
            match stream.read(&mut chunk) {
                Ok(0) => {
                    // recv returned 0: the server closed the connection.
                    if let Some(line) = pending.take_rest() {
                        show(&line);
                    }
                    console.say("the server closed the connection");
                    console.trace("close()");
                    if unsent > 0 {
                        bail!(
                            "{unsent} message(s) could not be encoded in {encoding} and were not sent"
                        );
                    }
                    return Ok(());
                }
                Ok(received) => {
                    console.trace(format_args!("recv({}) -> {received} bytes", chunk.len()));
                    last_heard = Instant::now();
                    pending.push(&chunk[..received]);
                    while let Some(line) = pending.take_line(MAX_LINE) {
                        show(&line);
                    }
                }
                Err(error) if error.kind() == ErrorKind::WouldBlock => break,
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) => return Err(error).context("receiving"),
            }
        }
        if last_heard.elapsed() >= SILENCE
            && let Some(line) = pending.take_rest()
        {
            show(&line);
        }
        if done_at.is_some_and(|at| Instant::now() >= at) {
            console.say(format_args!(
                "the server did not close the connection within {} s: closing it",
                options.timeout.as_secs_f64()
            ));
            if unsent > 0 {
                bail!("{unsent} message(s) could not be encoded in {encoding} and were not sent");
            }
            return Ok(());
        }
    }
}
// ANCHOR_END: interactive

// ANCHOR: connect
/// A non-blocking connect, waited for with the Poll: `connect()` returns at once, "in
/// progress" (what seed 003's `connect_ex` reports as errno 115, EINPROGRESS); the socket
/// becomes writable when the handshake is over, and `take_error()` says how it went.
pub fn connect(
    poll: &mut Poll,
    addr: SocketAddr,
    timeout: Duration,
    console: Console,
) -> anyhow::Result<TcpStream> {
    let mut stream = TcpStream::connect(addr).map_err(|error| connect_error(addr, error))?;
    console.trace(format_args!("connect({addr}) -> in progress"));
    poll.registry()
        .register(&mut stream, SOCKET, Interest::WRITABLE)
        .context("registering the socket")?;
    let deadline = Instant::now() + timeout;
    let mut events = Events::with_capacity(4);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(connect_error(addr, ErrorKind::TimedOut.into()).into());
        }
        match poll.poll(&mut events, Some(left)) {
            Ok(()) => {}
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(error) => return Err(error).context("poll()"),
        }
        if events.is_empty() {
            continue;
        }
        if let Some(error) = stream.take_error().context("getsockopt(SO_ERROR)")? {
            return Err(connect_error(addr, error).into());
        }
        match stream.peer_addr() {
            Ok(_) => break,
            // Not yet: a spurious wake-up. Wait again.
            Err(error) if error.kind() == ErrorKind::NotConnected => continue,
            Err(error) => return Err(connect_error(addr, error).into()),
        }
    }
    let local = stream.local_addr().context("getsockname()")?;
    console.trace(format_args!("connect({addr}) -> from {local}"));
    stream.set_nodelay(true).context("setting TCP_NODELAY")?;
    Ok(stream)
}
// ANCHOR_END: connect
