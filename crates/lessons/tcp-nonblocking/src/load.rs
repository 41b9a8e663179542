//! `client --connections N`: N connections from one thread, the client side of the same idea.
//! Each connect is non-blocking: `connect()` returns at once, in progress; the Poll says when
//! the socket is writable, and `take_error()` says whether the handshake worked (seed 003's
//! `connect_ex`, which returns an errno instead of raising). Then every connection sends a
//! line, waits for its echo, checks it byte for byte, and sends the next — all of them at once.
//! Every connection stays open until all are done, so the server really holds N at once.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use common::Console;
use common::net::connect_error;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

/// How many connects may be in progress at once: ten thousand SYNs at the same moment would
/// overflow the server's accept queue, and a dropped SYN is retried only a second later.
const CONNECTING_AT_ONCE: usize = 256;

/// What to do.
pub struct Plan {
    /// Connections that talk.
    pub connections: usize,
    /// Lines each one sends, one after another (unless `duration`).
    pub messages: usize,
    /// Instead: keep talking for this long.
    pub duration: Option<Duration>,
    /// Connections opened first, that stay silent.
    pub idle: usize,
    /// For each connect and each reply.
    pub timeout: Duration,
}

// ANCHOR: state
/// One connection of the load: where it stands, and what it waits for.
struct Client {
    stream: TcpStream,
    number: usize,
    state: State,
    /// The line in flight, what came back of it so far, and when it was sent.
    request: Vec<u8>,
    sent: usize,
    reply: Vec<u8>,
    asked_at: Instant,
    answered: usize,
}

#[derive(PartialEq)]
enum State {
    /// connect() returned "in progress": wait until writable.
    Connecting,
    /// Connected, silent, held open.
    Holding,
    /// Waiting for the echo of `request`.
    Asking,
    /// Every echo checked; held open until all are done.
    Done,
    Failed,
}
// ANCHOR_END: state

/// Opens the connections, talks on all of them, prints the summary line; an error if any failed.
pub fn run(addr: SocketAddr, plan: &Plan, console: Console) -> anyhow::Result<()> {
    let errors = talk(addr, plan, console)?;
    if errors > 0 {
        bail!(
            "{errors} of {} connections failed",
            plan.connections + plan.idle
        );
    }
    Ok(())
}

/// Returns how many connections failed.
fn talk(addr: SocketAddr, plan: &Plan, console: Console) -> anyhow::Result<usize> {
    let mut poll = Poll::new().context("creating the Poll")?;
    let total = plan.connections + plan.idle;
    let mut clients: Vec<Option<Client>> = Vec::with_capacity(total);
    let mut to_connect: VecDeque<usize> = (0..total).collect();
    let mut connecting = 0;
    let mut errors = Vec::new();
    let mut latencies: Vec<Duration> = Vec::new();
    let mut checked = 0u64;
    let mut unfinished = plan.connections;
    let started = Instant::now();
    // The clock of a --duration run starts when the first talking connection is up.
    let mut talking_since: Option<Instant> = None;
    let mut events = Events::with_capacity(1024);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut last_sweep = Instant::now();
    clients.resize_with(total, || None);

    while unfinished > 0 || connecting > 0 || !to_connect.is_empty() {
        // ANCHOR: connect_many
        // Start connects, up to CONNECTING_AT_ONCE in progress. The idle ones go first.
        while connecting < CONNECTING_AT_ONCE
            && let Some(number) = to_connect.pop_front()
        {
            match TcpStream::connect(addr) {
                Ok(mut stream) => {
                    let token = Token(number);
                    let interest = Interest::WRITABLE | Interest::READABLE;
                    if let Err(error) = poll.registry().register(&mut stream, token, interest) {
                        errors.push(format!("connection {number}: {error}"));
                        unfinished -= usize::from(number >= plan.idle);
                        continue;
                    }
                    console.trace(format_args!("connect({addr}) -> in progress"));
                    connecting += 1;
                    clients[number] = Some(Client {
                        stream,
                        number,
                        state: State::Connecting,
                        request: Vec::new(),
                        sent: 0,
                        reply: Vec::new(),
                        asked_at: Instant::now(),
                        answered: 0,
                    });
                }
                Err(error) => {
                    // Such as "too many open files": the limit on descriptors.
                    errors.push(format!(
                        "connection {number}: {}",
                        connect_error(addr, error)
                    ));
                    unfinished -= usize::from(number >= plan.idle);
                }
            }
        }
        // ANCHOR_END: connect_many
        match poll.poll(&mut events, Some(Duration::from_millis(100))) {
            Ok(()) => {}
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(error) => return Err(error).context("poll()"),
        }
        for event in &events {
            let number = event.token().0;
            let Some(client) = clients.get_mut(number).and_then(Option::as_mut) else {
                continue;
            };
            let was_connecting = client.state == State::Connecting;
            let was_done = client.state == State::Done;
            let outcome = step(client, addr, plan, &mut chunk, &mut talking_since, console);
            if was_connecting && client.state != State::Connecting {
                connecting -= 1;
            }
            match outcome {
                Ok(answers) => {
                    for latency in answers {
                        checked += 1;
                        latencies.push(latency);
                    }
                    if client.state == State::Done && !was_done {
                        unfinished -= 1;
                    }
                }
                Err(error) => {
                    // Failed during its connect (if it got past it, it was counted out above).
                    if client.state == State::Connecting {
                        connecting -= 1;
                    }
                    errors.push(format!("connection {number}: {error:#}"));
                    if client.number >= plan.idle && !was_done {
                        unfinished -= 1;
                    }
                    client.state = State::Failed;
                    let _ = poll.registry().deregister(&mut client.stream);
                    clients[number] = None;
                }
            }
        }
        // Ten times a second: a connect or a reply that takes longer than --timeout is an error.
        if last_sweep.elapsed() >= Duration::from_millis(100) {
            last_sweep = Instant::now();
            for slot in clients.iter_mut() {
                let Some(client) = slot else { continue };
                let waiting = matches!(client.state, State::Connecting | State::Asking);
                if waiting && client.asked_at.elapsed() >= plan.timeout {
                    let what = if client.state == State::Connecting {
                        connect_error(addr, ErrorKind::TimedOut.into()).to_string()
                    } else {
                        format!(
                            "no reply within {} s (--timeout)",
                            plan.timeout.as_secs_f64()
                        )
                    };
                    if client.state == State::Connecting {
                        connecting -= 1;
                    }
                    errors.push(format!("connection {}: {what}", client.number));
                    if client.number >= plan.idle {
                        unfinished -= 1;
                    }
                    *slot = None;
                }
            }
        }
    }
    let elapsed = started.elapsed();
    let held = clients
        .iter()
        .flatten()
        .filter(|client| client.state == State::Holding)
        .count();
    // Everyone is done: now, and only now, every connection closes.
    let open = clients.iter().flatten().count();
    drop(clients);
    console.trace(format_args!("close() {open} sockets"));

    for error in errors.iter().take(5) {
        eprintln!("error: {error}");
    }
    if errors.len() > 5 {
        eprintln!("error: … and {} more", errors.len() - 5);
    }
    if plan.idle > 0 {
        console.say(format_args!("{held} idle connections held open"));
    }
    console.say(format_args!(
        "{} connections, {checked} replies checked, {} errors, {:.2} s",
        plan.connections,
        errors.len(),
        elapsed.as_secs_f64()
    ));
    if let (Some(duration), Some(since)) = (plan.duration, talking_since) {
        latencies.sort_unstable();
        let percentile = |p: usize| {
            latencies
                .get((latencies.len() * p / 100).min(latencies.len().saturating_sub(1)))
                .map_or(0.0, |latency| latency.as_secs_f64() * 1000.0)
        };
        let seconds = since.elapsed().as_secs_f64().max(duration.as_secs_f64());
        console.say(format_args!(
            "{:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms",
            checked as f64 / seconds,
            percentile(50),
            percentile(99)
        ));
    }
    Ok(errors.len())
}

// ANCHOR: step
/// One connection is ready: finish its connect, send, or read and check its echo. Returns the
/// latency of every echo checked.
fn step(
    client: &mut Client,
    addr: SocketAddr,
    plan: &Plan,
    chunk: &mut [u8],
    talking_since: &mut Option<Instant>,
    console: Console,
) -> anyhow::Result<Vec<Duration>> {
    let mut answers = Vec::new();
    if client.state == State::Connecting {
        // The handshake is over, one way or the other: SO_ERROR says which.
        if let Some(error) = client.stream.take_error()? {
            return Err(connect_error(addr, error).into());
        }
        match client.stream.peer_addr() {
            Ok(_) => {}
            // Still in progress: a spurious wake-up.
            Err(error) if error.kind() == ErrorKind::NotConnected => return Ok(answers),
            Err(error) => return Err(connect_error(addr, error).into()),
        }
        console.trace(format_args!("connection {} is up", client.number));
        client.stream.set_nodelay(true)?;
        if client.number < plan.idle {
            client.state = State::Holding;
        } else {
            talking_since.get_or_insert_with(Instant::now);
            ask(client);
        }
    }
    if client.state == State::Holding {
        // An idle connection expects nothing: anything but WouldBlock is a failure.
        return match client.stream.read(chunk) {
            Err(error) if error.kind() == ErrorKind::WouldBlock => Ok(answers),
            Ok(0) => bail!("the server closed an idle connection"),
            Ok(_) => bail!("the server sent something on an idle connection"),
            Err(error) => Err(error.into()),
        };
    }
    while client.state == State::Asking {
        // Send what is left of the line.
        while client.sent < client.request.len() {
            match client.stream.write(&client.request[client.sent..]) {
                Ok(sent) => client.sent += sent,
                Err(error) if error.kind() == ErrorKind::WouldBlock => return Ok(answers),
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) => return Err(error).context("sending"),
            }
        }
        // Then read until WouldBlock, even right after sending: the event that brought us here
        // may also have announced bytes already waiting (a busy line, a close), and the Poll
        // will not announce them again.
        // Read the echo until WouldBlock.
        let received = match client.stream.read(chunk) {
            Ok(0) => bail!(
                "the server closed the connection{}",
                shown(&client.reply, " after sending ")
            ),
            Ok(received) => received,
            Err(error) if error.kind() == ErrorKind::WouldBlock => return Ok(answers),
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(error) => return Err(error).context("receiving"),
        };
        client.reply.extend_from_slice(&chunk[..received]);
        // Check byte for byte, as soon as the bytes are there.
        let expected = &client.request[..client.reply.len().min(client.request.len())];
        if !client.reply.starts_with(expected) || client.reply.len() > client.request.len() {
            bail!(
                "wrong echo: expected {:?}{}",
                String::from_utf8_lossy(&client.request),
                shown(&client.reply, ", got ")
            );
        }
        if client.reply.len() == client.request.len() {
            answers.push(client.asked_at.elapsed());
            client.answered += 1;
            let more = match plan.duration {
                Some(duration) => talking_since.is_some_and(|since| since.elapsed() < duration),
                None => client.answered < plan.messages,
            };
            if more {
                ask(client);
            } else {
                client.state = State::Done;
            }
        }
    }
    Ok(answers)
}
// ANCHOR_END: step

/// Starts the next request: `connection N message M\n`.
fn ask(client: &mut Client) {
    client.request =
        format!("connection {} message {}\n", client.number, client.answered).into_bytes();
    client.sent = 0;
    client.reply.clear();
    client.asked_at = Instant::now();
    client.state = State::Asking;
}

/// `PREFIX"TEXT"` for what the server sent, or nothing when it sent nothing.
fn shown(bytes: &[u8], prefix: &str) -> String {
    if bytes.is_empty() {
        String::new()
    } else {
        format!("{prefix}{:?}", String::from_utf8_lossy(bytes))
    }
}
