//! The client, in the tutorial's steps: ① socket and ② connect, ③ send a line, ④ recv the reply,
//! repeat, ⑤ close.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use common::cli::{EncodingArg, TraceArg, input_lines, parse_seconds};
use common::framing::{Pending, SILENCE};
use common::net::{connect_error, is_timeout};
use common::{Addr, Console};

/// The longest reply kept in memory as one line; a longer one is printed in pieces.
const MAX_REPLY: usize = 16 * 1024 * 1024;

/// `tcp-echo client`: where to connect and what to send.
#[derive(Args, Clone, Debug)]
pub struct Options {
    /// The server: HOST:PORT, [IPV6]:PORT or PORT
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8899")]
    pub connect: Addr,

    /// Send this message instead of reading lines from stdin (repeat it to send several)
    #[arg(long = "message", value_name = "TEXT")]
    pub messages: Vec<String>,

    /// Seconds to wait for the connection and for each reply before giving up
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = parse_seconds)]
    pub timeout: Duration,

    #[command(flatten)]
    pub encoding: EncodingArg,

    #[command(flatten)]
    pub trace: TraceArg,
}

/// `tcp-echo client`: connect, then send each message and print its reply.
pub fn run(options: &Options, console: Console) -> anyhow::Result<()> {
    let encoding = options.encoding.encoding;
    let candidates = options.connect.resolve()?;
    // Said before connect() returns, so that it comes before the server's "connection from".
    console.say(format_args!("connecting to {}", options.connect));
    let mut stream = connect(&candidates, options.timeout, console)?;
    // A server that stops reading must not block our sending forever either.
    stream.set_write_timeout(Some(options.timeout))?;

    let mut pending = Pending::default();
    let mut unsent = 0;
    for line in input_lines(&options.messages, console) {
        let line = line.context("reading stdin")?;
        let mut request = match encoding.encode(&line) {
            Ok(bytes) => bytes,
            Err(error) => {
                // Never send a silently altered message: say why, and go on with the next.
                eprintln!("error: not sent: {error}");
                unsent += 1;
                continue;
            }
        };
        request.push(b'\n');
        console.say(format_args!("sent: {line}"));
        let reply = exchange(
            &mut stream,
            &request,
            &mut pending,
            options.timeout,
            console,
        )?;
        match reply {
            Some(reply) => console.say(format_args!("received: {}", encoding.display(&reply))),
            None => bail!("the server closed the connection without replying to {line:?}"),
        }
    }

    console.say("closing the connection");
    // ⑤ close(): dropping the stream closes the socket; the server's recv() then returns 0.
    console.trace("close()");
    drop(stream);
    if unsent > 0 {
        bail!("{unsent} message(s) could not be encoded in {encoding} and were not sent");
    }
    Ok(())
}

// ANCHOR: connect
/// Steps ① and ②: `TcpStream::connect_timeout` creates the socket and connects it. A host name
/// may stand for several addresses (localhost: ::1 and 127.0.0.1): try each in turn.
fn connect(
    candidates: &[SocketAddr],
    timeout: Duration,
    console: Console,
) -> anyhow::Result<TcpStream> {
    let mut last_error = None;
    for &addr in candidates {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => {
                // The OS picked our own port: the client did not bind (seed 001, note 2).
                let local = stream.local_addr().context("getsockname()")?;
                console.trace(format_args!("connect({addr}) -> from {local}"));
                return Ok(stream);
            }
            Err(error) => {
                console.trace(format_args!("connect({addr}) -> {error}"));
                last_error = Some(connect_error(addr, error));
            }
        }
    }
    Err(last_error.map_or_else(|| anyhow::anyhow!("no address to connect to"), Into::into))
}
// ANCHOR_END: connect

// ANCHOR: exchange
/// Steps ③ and ④: send one request and read its reply. Sending runs on its own thread: the
/// echo of a long message comes back while we are still sending it, and if nobody read it,
/// both sides' buffers would fill up and each would wait for the other forever.
fn exchange(
    stream: &mut TcpStream,
    request: &[u8],
    pending: &mut Pending,
    timeout: Duration,
    console: Console,
) -> anyhow::Result<Option<Vec<u8>>> {
    let mut sender = stream.try_clone().context("cloning the socket handle")?;
    thread::scope(|scope| {
        // ③ send: write_all (Python's sendall) sends every byte, however many calls it takes.
        let sending = scope.spawn(move || {
            sender.write_all(request)?;
            console.trace(format_args!("sendall({} bytes)", request.len()));
            Ok::<(), io::Error>(())
        });
        let reply = read_reply(stream, pending, timeout, console);
        sending
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the sending thread panicked")))
            .context("sending")?;
        reply
    })
}

/// Step ④: recv until the reply is complete: at `\n`, at end of stream, or after a short
/// silence (the tutorials' Python servers send no newline). `None`: the server closed first.
fn read_reply(
    stream: &mut TcpStream,
    pending: &mut Pending,
    timeout: Duration,
    console: Console,
) -> anyhow::Result<Option<Vec<u8>>> {
    let mut chunk = [0u8; 1024];
    // A server that sends a byte now and then, never a newline and never a silence, must not
    // hold us for ever: the whole reply has --timeout to arrive.
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(line) = pending.take_line(MAX_REPLY) {
            return Ok(Some(line));
        }
        if Instant::now() >= deadline {
            bail!(
                "the reply did not end within {} s: the server sends it without a newline and without a pause",
                timeout.as_secs_f64()
            );
        }
        // Wait up to --timeout for a reply to start; once it has, a silence ends it.
        let wait = if pending.is_empty() { timeout } else { SILENCE };
        stream.set_read_timeout(Some(wait))?;
        match stream.read(&mut chunk) {
            Ok(received) => {
                console.trace(format_args!("recv(1024) -> {received} bytes"));
                // recv returned 0: the server closed the connection.
                if received == 0 {
                    return Ok(pending.take_rest());
                }
                pending.push(&chunk[..received]);
            }
            Err(error) if is_timeout(&error) => match pending.take_rest() {
                Some(reply) => return Ok(Some(reply)),
                None => bail!(
                    "no reply within {} s: the server may be busy with another client (it serves one at a time)",
                    timeout.as_secs_f64()
                ),
            },
            Err(error) => return Err(error).context("receiving the reply"),
        }
    }
}
// ANCHOR_END: exchange
