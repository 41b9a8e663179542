//! The file server, in steps: ① bind and listen, ② accept and hand the client to its own thread,
//! ③ read one request line (at most 4 KiB, within a few seconds), ④ find the file inside the
//! root, ⑤ send `OK <length>` and the bytes, 64 KiB at a time (in `send.rs`), or
//! `ERR <reason>`, ⑥ close.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use common::cli::{TraceArg, parse_seconds};
use common::framing::Pending;
use common::net::{bind_error, close_gently, is_timeout};
use common::stalled::WriteTimeoutArg;
use common::{Addr, Console, Encoding};

use crate::paths::Root;
use crate::protocol::{MAX_REQUEST, Refusal, Request};
use crate::send::{Body, send_file, send_list};

/// After an `ERR`, how long we wait for the client to close before we do.
const LINGER: Duration = Duration::from_secs(1);

/// `file-downloader server`: where to listen and what to serve.
#[derive(Args, Clone, Debug)]
pub struct Options {
    /// Where to listen: HOST:PORT, [IPV6]:PORT, PORT or :PORT (all interfaces); port 0 lets the OS choose
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7890")]
    pub listen: Addr,

    /// Serve the files under this directory, and nothing outside it
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub root: PathBuf,

    /// Close connections that send no complete request within this many seconds
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = parse_seconds)]
    pub request_timeout: Duration,

    /// Serve at most this many clients at once; more get `ERR busy`
    #[arg(long, value_name = "N", default_value = "32",
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub max_clients: u16,

    /// Send file bodies with sendfile(2), from the page cache straight to the socket (Linux;
    /// elsewhere, or if sendfile refuses, the 64 KiB copy loop)
    #[arg(long)]
    pub sendfile: bool,

    #[command(flatten)]
    pub write_timeout: WriteTimeoutArg,

    #[command(flatten)]
    pub trace: TraceArg,
}

impl Options {
    /// `file-downloader server --listen ADDR`, every other option at its default (so the root
    /// is the current directory): for the demo.
    pub fn new(listen: Addr) -> Options {
        Options {
            listen,
            root: PathBuf::from("."),
            request_timeout: Duration::from_secs(5),
            max_clients: 32,
            sendfile: false,
            write_timeout: WriteTimeoutArg::default(),
            trace: TraceArg { trace: false },
        }
    }
}

/// `file-downloader server`: check the root, listen, serve until stopped.
pub fn run(options: &Options, console: Console) -> anyhow::Result<()> {
    let root = Root::open(&options.root)?;
    let addr = options.listen.resolve_one()?;
    let listener = listen(addr, console)?;
    console.say(format_args!("serving files from {}", root.path().display()));
    serve(listener, root, options, console, &AtomicBool::new(false))
}

/// Step ①: bind and listen. (The tcp-echo lesson makes each call separately; here the one-line
/// shorthand does socket, bind and listen(128).) Prints `listening on ADDR`.
pub fn listen(addr: SocketAddr, console: Console) -> anyhow::Result<TcpListener> {
    let listener = TcpListener::bind(addr).map_err(|error| bind_error(addr, error))?;
    console.trace(format_args!("bind({addr}) and listen(128)"));
    let bound = listener.local_addr().context("getsockname()")?;
    console.say(format_args!("listening on {bound}"));
    Ok(listener)
}

// ANCHOR: accept_loop
/// Step ②, forever: accept a client and serve it on a thread of its own, so that a slow
/// download, or a client that never says what it wants, holds up nobody else. At most
/// `--max-clients` threads at once: each costs memory, and a flood must not take them all.
pub fn serve(
    listener: TcpListener,
    root: Root,
    options: &Options,
    console: Console,
    stop: &AtomicBool,
) -> anyhow::Result<()> {
    let root = Arc::new(root);
    let active = Arc::new(AtomicUsize::new(0));
    let turning_away = Arc::new(AtomicUsize::new(0));
    let limit = usize::from(options.max_clients);
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(error) => {
                // A client that reset before we accepted it, or too many open files: not a
                // reason to stop. Pause so that a lasting error cannot spin the loop.
                console.say(format_args!("accept() failed: {error}; still listening"));
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        console.trace(format_args!("accept() -> {peer}"));
        // Only the demo ever sets `stop` (then connects once, to wake this accept): it must
        // let go of the root before it can delete its temporary folder, on Windows.
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }

        let Some(slot) = Slot::take(&active, limit) else {
            let write_timeout = options.write_timeout.write_timeout;
            turn_away(stream, peer, limit, &turning_away, write_timeout, console);
            continue;
        };
        let root = Arc::clone(&root);
        let limits = Limits {
            request_timeout: options.request_timeout,
            write_timeout: options.write_timeout.write_timeout,
            sendfile: options.sendfile,
        };
        let spawned = thread::Builder::new()
            .name(format!("client {peer}"))
            .spawn(move || {
                let _slot = slot; // handed back when this client is done
                if let Err(error) = serve_client(stream, peer, &root, limits, console) {
                    // One failing client is logged; the others go on.
                    console.say(format_args!("connection with {peer} failed: {error}"));
                }
            });
        if let Err(error) = spawned {
            console.say(format_args!("cannot start a thread for {peer}: {error}"));
        }
    }
}
// ANCHOR_END: accept_loop

/// Past `--max-clients`: `ERR busy`, on a short-lived thread because `refuse` waits up to a
/// second for the client to close. Past as many of those again, the connection is just closed.
fn turn_away(
    stream: TcpStream,
    peer: SocketAddr,
    limit: usize,
    turning_away: &Arc<AtomicUsize>,
    write_timeout: Duration,
    console: Console,
) {
    let refusal = Refusal::Busy { limit };
    console.say(format_args!("refused a request from {peer}: {refusal}"));
    let Some(slot) = Slot::take(turning_away, limit) else {
        return; // dropping `stream` closes it
    };
    let _ = thread::Builder::new().spawn(move || {
        let _slot = slot;
        let _ = stream.set_write_timeout(Some(write_timeout));
        let _ = refuse(stream, &refusal, console);
    });
}

/// How one client is served: the request's time limit, the write timeout, `--sendfile`.
#[derive(Clone, Copy)]
struct Limits {
    request_timeout: Duration,
    write_timeout: Duration,
    sendfile: bool,
}

/// One of the `--max-clients` places; dropping it frees the place.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(active: &Arc<AtomicUsize>, limit: usize) -> Option<Slot> {
        active
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(Arc::clone(active)))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

// ANCHOR: serve_client
/// Steps ③ to ⑥ for one client.
fn serve_client(
    mut stream: TcpStream,
    peer: SocketAddr,
    root: &Root,
    limits: Limits,
    console: Console,
) -> io::Result<()> {
    // A client that stops reading must not block us in write_all forever.
    stream.set_write_timeout(Some(limits.write_timeout))?;

    // ③ One request line.
    let line = match read_request(&mut stream, limits.request_timeout, console)? {
        Incoming::Line(line) => line,
        Incoming::Closed => {
            console.say(format_args!(
                "{peer} closed the connection without a request"
            ));
            return Ok(());
        }
        Incoming::Refused(refusal) => {
            console.say(format_args!("refused a request from {peer}: {refusal}"));
            return refuse(stream, &refusal, console);
        }
    };
    console.say(format_args!("received from {peer}: {}", shown(&line)));

    match Request::parse(&line) {
        // ④ Find the file; ⑤ send it.
        Ok(Request::Get { name, offset }) => match open(root, &name, offset) {
            Ok((file, length)) => {
                let body = Body {
                    name: &name,
                    file,
                    offset,
                    length,
                };
                send_file(stream, peer, body, limits.sendfile, console)
            }
            Err(refusal) => {
                console.say(format_args!(
                    "refused {} from {peer}: {refusal}",
                    quoted(&name)
                ));
                refuse(stream, &refusal, console)
            }
        },
        Ok(Request::List) => send_list(stream, peer, root, console),
        Err(refusal) => {
            console.say(format_args!("refused a request from {peer}: {refusal}"));
            refuse(stream, &refusal, console)
        }
    }
    // ⑥ close(): `stream` is dropped here; the client's last read returns 0.
}
// ANCHOR_END: serve_client

/// What arrived before the request line was complete.
enum Incoming {
    /// The request, without its `\n`.
    Line(Vec<u8>),
    /// The client closed without sending anything.
    Closed,
    /// Too long, or too slow.
    Refused(Refusal),
}

// ANCHOR: read_request
/// Step ③: read until `\n`, but never more than `MAX_REQUEST` bytes and never longer than
/// `limit` in total. The limit covers the whole line, not each read: otherwise a client that
/// sends one byte every few seconds would hold its thread for hours.
fn read_request(stream: &mut TcpStream, limit: Duration, console: Console) -> io::Result<Incoming> {
    let deadline = Instant::now() + limit;
    let mut pending = Pending::default();
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(line) = pending.take_line(MAX_REQUEST) {
            return Ok(match line.strip_suffix(b"\n") {
                Some(request) => Incoming::Line(request.to_vec()),
                // MAX_REQUEST bytes and still no newline.
                None => Incoming::Refused(Refusal::RequestTooLong),
            });
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(Incoming::Refused(too_slow(limit)));
        }
        stream.set_read_timeout(Some(left))?;
        let received = match stream.read(&mut chunk) {
            Ok(received) => received,
            Err(error) if is_timeout(&error) => return Ok(Incoming::Refused(too_slow(limit))),
            Err(error) => return Err(error),
        };
        console.trace(format_args!("recv(1024) -> {received} bytes"));
        if received == 0 {
            // The client closed its sending side: a last line without `\n` still counts
            // (`printf 'LIST' | nc -N …`).
            return Ok(pending.take_rest().map_or(Incoming::Closed, Incoming::Line));
        }
        pending.push(&chunk[..received]);
    }
}
// ANCHOR_END: read_request

fn too_slow(limit: Duration) -> Refusal {
    Refusal::TooSlow {
        seconds: limit.as_secs_f64(),
    }
}

/// Step ④: the file for `GET name offset`, positioned at `offset`, and how many bytes to send.
fn open(root: &Root, name: &str, offset: u64) -> Result<(File, u64), Refusal> {
    // The size of the file we opened, not of whatever the name points to a moment later.
    let (mut file, size) = root.open_file(name)?;
    let cannot_read = |error: io::Error| Refusal::CannotRead(error.kind());
    if offset > size {
        return Err(Refusal::OffsetPastTheEnd { offset, size });
    }
    file.seek(SeekFrom::Start(offset)).map_err(cannot_read)?;
    Ok((file, size - offset))
}

/// Sends `ERR <reason>` and closes gently (`close_gently`: stop sending, then let the client read
/// the line and close first). Closing while the client's request is still unread would make the
/// kernel answer with a reset (RST), and the client might lose the `ERR` line with it.
fn refuse(mut stream: TcpStream, refusal: &Refusal, console: Console) -> io::Result<()> {
    stream.write_all(format!("ERR {refusal}\n").as_bytes())?;
    console.trace(format_args!("sendall(ERR {refusal})"));
    close_gently(stream, LINGER)
}

/// A request line as the log shows it: decoded, control characters escaped, cut short if long.
fn shown(line: &[u8]) -> String {
    let text = Encoding::UTF_8.display(line);
    match text.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}… ({} bytes)", &text[..end], line.len()),
        None => text,
    }
}

/// How many characters of a name or a request the log shows.
const SHOWN: usize = 80;

/// A name as the log shows it: quoted with escapes (so that control characters cannot forge log
/// lines), and cut short if very long.
fn quoted(name: &str) -> String {
    match name.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{:?}… ({} bytes)", &name[..end], name.len()),
        None => format!("{name:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_has_the_command_line_defaults() {
        let parsed: Options = test_support::options::parse(&["--listen", "127.0.0.1:0"]);
        let new = Options::new(Addr::localhost(0));
        assert_eq!(format!("{parsed:?}"), format!("{new:?}"));
    }
}
