//! The blocking echo server, in the tutorial's steps: ① socket, ② bind, ③ listen, ④ accept,
//! ⑤ recv until the client closes, ⑥ send it back, ⑦ close the client's socket, ⑧ close the
//! listening socket. It serves one client at a time: the next one waits in the listen queue.

use std::borrow::Cow;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use common::cli::{EncodingArg, TraceArg};
use common::framing::{Pending, SILENCE};
use common::net::{bind_error, is_timeout};
use common::stalled::{self, WriteTimeoutArg};
use common::{Addr, Console, Encoding};
use socket2::{Domain, Protocol, Socket, Type};

/// The longest message the server buffers before handling it in pieces.
const MAX_MESSAGE: usize = 64 * 1024;

/// `tcp-echo server`: what the server listens on and how it replies.
#[derive(Args, Clone, Debug)]
pub struct Options {
    /// Where to listen: HOST:PORT, [IPV6]:PORT, PORT or :PORT (all interfaces); port 0 lets the OS choose
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8899")]
    pub listen: Addr,

    /// Serve one client, then exit (like seed 001's server)
    #[arg(long)]
    pub once: bool,

    /// Reply in upper case (seed 004)
    #[arg(long, conflicts_with = "reply")]
    pub upper: bool,

    /// Reply with this fixed text instead of the echo, e.g. 再见,欢迎再次光临 (seed 001)
    #[arg(long, value_name = "TEXT")]
    pub reply: Option<String>,

    #[command(flatten)]
    pub encoding: EncodingArg,

    #[command(flatten)]
    pub write_timeout: WriteTimeoutArg,

    #[command(flatten)]
    pub trace: TraceArg,
}

impl Options {
    /// `tcp-echo server --listen ADDR`, every other option at its default: for the demo.
    pub fn new(listen: Addr) -> Options {
        Options {
            listen,
            once: false,
            upper: false,
            reply: None,
            encoding: EncodingArg {
                encoding: Encoding::UTF_8,
            },
            write_timeout: WriteTimeoutArg::default(),
            trace: TraceArg { trace: false },
        }
    }
}

/// `tcp-echo server`: listen, then serve clients one after another.
pub fn run(options: &Options, console: Console) -> anyhow::Result<()> {
    let addr = options.listen.resolve_one()?;
    let listener = listen(addr, console)?;
    serve(&listener, options, console)
}

// ANCHOR: listen
/// Steps ① to ③: a socket that accepts connections on `addr`. Prints `listening on ADDR`.
pub fn listen(addr: SocketAddr, console: Console) -> anyhow::Result<TcpListener> {
    // ① socket(): a stream (TCP) socket in the address's family, IPv4 or IPv6.
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .context("creating a TCP socket")?;
    let family = if addr.is_ipv4() {
        "AF_INET"
    } else {
        "AF_INET6"
    };
    console.trace(format_args!("socket({family}, SOCK_STREAM)"));

    // A restarted server may bind its port again at once, although the last run's connections
    // linger in TIME_WAIT. (std's TcpListener::bind does the same. On Windows this option
    // would let two servers share a port, so it is left off there.)
    #[cfg(not(windows))]
    socket
        .set_reuse_address(true)
        .context("setting SO_REUSEADDR")?;

    // ② bind(): claim the address and port. This is where "address already in use" happens.
    socket
        .bind(&addr.into())
        .map_err(|error| bind_error(addr, error))?;
    console.trace(format_args!("bind({addr})"));

    // ③ listen(128): from now on the kernel completes handshakes for us and queues up to 128
    // connections that we have not accept()ed yet.
    socket.listen(128).context("listen(128)")?;
    console.trace("listen(128)");

    let listener = TcpListener::from(socket);
    // With port 0 only the kernel knows which port we got: ask it (getsockname).
    let bound = listener.local_addr().context("getsockname()")?;
    console.say(format_args!("listening on {bound}"));
    Ok(listener)
}
// The one-line shorthand for ① ② ③ is `TcpListener::bind(addr)`.
// ANCHOR_END: listen

// ANCHOR: accept_loop
/// Step ④, forever (or once, with `--once`): accept a client, serve it until it leaves, repeat.
pub fn serve(listener: &TcpListener, options: &Options, console: Console) -> anyhow::Result<()> {
    loop {
        // ④ accept(): wait for the next client. It returns a new socket, for this client only;
        // the listening socket stays open for the ones after it.
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(error) => {
                // Such as a client that reset before we accepted it, or too many open files:
                // not a reason to stop serving. Pause so a lasting error cannot spin the loop.
                console.say(format_args!("accept() failed: {error}; still listening"));
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        console.trace(format_args!("accept() -> {peer}"));
        console.say(format_args!("connection from {peer}"));

        // One client at a time: until this returns, the next client waits in the listen queue.
        if let Err(error) = serve_client(stream, peer, options, console) {
            // One misbehaving client must not stop the server.
            console.say(format_args!("connection with {peer} failed: {error}"));
        }

        if options.once {
            console.say("served one client (--once): closing the listening socket");
            // ⑧ close(): the listening socket closes when `listener` is dropped by our caller.
            console.trace("close() the listening socket");
            return Ok(());
        }
    }
}
// ANCHOR_END: accept_loop

// ANCHOR: recv_loop
/// Steps ⑤ to ⑦ for one client: receive until it closes, answering every message.
fn serve_client(
    mut stream: TcpStream,
    peer: SocketAddr,
    options: &Options,
    console: Console,
) -> io::Result<()> {
    // Wake up after a short silence, to answer a message that has no newline.
    stream.set_read_timeout(Some(SILENCE))?;
    // Each reply leaves at once. With Nagle's algorithm on, the second of two quick replies
    // would wait until the client acknowledges the first, and clients delay that by 40 ms.
    stream.set_nodelay(true)?;

    let mut pending = Pending::default();
    let mut chunk = [0u8; 1024];
    loop {
        // ⑤ recv(1024): wait for bytes. It returns whatever has arrived, up to 1024 bytes:
        // part of a message, or several. It is not "one message".
        let received = match stream.read(&mut chunk) {
            Ok(count) => count,
            // A silence: whatever is pending is all the client will send for now.
            Err(error) if is_timeout(&error) => {
                if let Some(message) = pending.take_rest() {
                    answer(&mut stream, peer, &message, options, console)?;
                }
                continue;
            }
            Err(error) => return Err(error),
        };
        console.trace(format_args!("recv(1024) -> {received} bytes"));
        // recv returned 0: the client closed its end (seed 001, note 9). The tutorials that
        // forget this check loop forever, printing empty strings.
        if received == 0 {
            break;
        }
        pending.push(&chunk[..received]);
        while let Some(message) = pending.take_line(MAX_MESSAGE) {
            answer(&mut stream, peer, &message, options, console)?;
        }
    }
    // The client may have closed only its sending half (like `nc -N`): answer what is left.
    if let Some(message) = pending.take_rest() {
        answer(&mut stream, peer, &message, options, console)?;
    }
    console.say(format_args!("{peer} closed the connection"));
    // ⑦ close() this client's socket.
    drop(stream);
    console.trace(format_args!("close() the socket of {peer}"));
    Ok(())
}
// ANCHOR_END: recv_loop

// ANCHOR: answer
/// Prints one message and sends the reply: the echo, the echo in upper case, or a fixed text.
fn answer(
    stream: &mut TcpStream,
    peer: SocketAddr,
    message: &[u8],
    options: &Options,
    console: Console,
) -> io::Result<()> {
    let encoding = options.encoding.encoding;
    console.say(format_args!(
        "received from {peer}: {}",
        encoding.display(message)
    ));
    let reply: Cow<[u8]> = match &options.reply {
        Some(text) => Cow::Owned(fixed_reply(text, encoding)),
        None if options.upper => encoding.upper_case(message),
        None => Cow::Borrowed(message),
    };
    // ⑥ send: write_all, like Python's sendall. A plain send() (write) may take only part of
    // the buffer and return how much it took; the tutorials ignore that.
    // --write-timeout is a deadline for the whole reply: a client that reads a trickle cannot
    // hold the server (and the clients waiting behind it) for longer.
    stalled::deadline(stream, options.write_timeout.write_timeout).write_all(&reply)?;
    console.trace(format_args!("sendall({} bytes)", reply.len()));
    Ok(())
}
// ANCHOR_END: answer

/// The `--reply` text and a newline, in the wire encoding. `main` has already checked that the
/// encoding can represent the text.
fn fixed_reply(text: &str, encoding: Encoding) -> Vec<u8> {
    let mut reply = encoding.encode(text).unwrap_or_default();
    reply.push(b'\n');
    reply
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
