//! The UDP server, in the tutorial's steps: ① socket, ② bind, then forever ③ recvfrom and
//! ④ sendto the sender, and ⑤ close. No listen, no accept: UDP has no connections, one socket
//! receives from everybody, and each datagram says who sent it.

use std::borrow::Cow;
use std::net::{SocketAddr, UdpSocket};
use std::thread;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use common::cli::{EncodingArg, TraceArg};
use common::net::{bind_error, is_port_unreachable};
use common::{Addr, Console, Encoding};
use socket2::{Domain, Protocol, SockRef, Socket, Type};

use crate::datagram::{self, allow_largest_datagrams, recv_datagram};

/// `udp-bind server`: where to bind and how to reply.
#[derive(Args, Clone, Debug)]
pub struct Options {
    /// Where to bind: HOST:PORT, [IPV6]:PORT, PORT or :PORT (all interfaces); port 0 lets the OS choose
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7788")]
    pub bind: Addr,

    /// Answer one datagram, then exit (like seed 000's server)
    #[arg(long)]
    pub once: bool,

    /// Reply in upper case (seed 004)
    #[arg(long, conflicts_with = "reply")]
    pub upper: bool,

    /// Reply with this fixed text instead of the echo, e.g. AAA (seed 000)
    #[arg(long, value_name = "TEXT")]
    pub reply: Option<String>,

    /// recvfrom's buffer size in bytes: a longer datagram is cut to this size
    #[arg(long, value_name = "BYTES", default_value = "65535", value_parser = datagram::parse_recv_buffer)]
    pub recv_buffer: usize,

    #[command(flatten)]
    pub encoding: EncodingArg,

    #[command(flatten)]
    pub trace: TraceArg,
}

impl Options {
    /// `udp-bind server --bind ADDR`, every other option at its default: for the demo.
    pub fn new(bind: Addr) -> Options {
        Options {
            bind,
            once: false,
            upper: false,
            reply: None,
            recv_buffer: datagram::MAX_DATAGRAM,
            encoding: EncodingArg {
                encoding: Encoding::UTF_8,
            },
            trace: TraceArg { trace: false },
        }
    }
}

/// `udp-bind server`: bind, then answer datagrams forever (or once, with `--once`).
pub fn run(options: &Options, console: Console) -> anyhow::Result<()> {
    let addr = options.bind.resolve_one()?;
    let socket = bind(addr, console)?;
    serve(&socket, options, console, options.once.then_some(1))
}

// ANCHOR: bind
/// Steps ① and ②: a UDP socket bound to `addr`. Prints `bound to ADDR`.
pub fn bind(addr: SocketAddr, console: Console) -> anyhow::Result<UdpSocket> {
    // ① socket(): a datagram (UDP) socket in the address's family, IPv4 or IPv6.
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))
        .context("creating a UDP socket")?;
    let family = if addr.is_ipv4() {
        "AF_INET"
    } else {
        "AF_INET6"
    };
    console.trace(format_args!("socket({family}, SOCK_DGRAM)"));
    // Unlike the TCP server, no SO_REUSEADDR: UDP leaves nothing behind in TIME_WAIT, and on
    // Linux the option would let a second server bind the same port and share our datagrams.

    // ② bind(): a server must bind a known port, or clients could not know where to send
    // (seed 000, step ②). The OS now delivers every datagram for this port to this socket.
    socket
        .bind(&addr.into())
        .map_err(|error| bind_error(addr, error))?;
    console.trace(format_args!("bind({addr})"));
    allow_largest_datagrams(SockRef::from(&socket)).context("setting SO_SNDBUF")?;

    let socket = UdpSocket::from(socket);
    // With port 0 only the kernel knows which port we got: ask it (getsockname).
    let bound = socket.local_addr().context("getsockname()")?;
    console.say(format_args!("bound to {bound}"));
    Ok(socket)
}
// No listen(), no accept(): there are no connections to wait for. The one-line shorthand for
// ① and ② is `UdpSocket::bind(addr)`.
// ANCHOR_END: bind

// ANCHOR: serve
/// Steps ③ and ④, forever, or until `limit` datagrams have been answered: receive a datagram
/// from anyone, send the reply to whoever sent it.
pub fn serve(
    socket: &UdpSocket,
    options: &Options,
    console: Console,
    limit: Option<usize>,
) -> anyhow::Result<()> {
    let mut buffer = vec![0u8; options.recv_buffer];
    let mut answered = 0;
    loop {
        // ③ recvfrom(bufsize): wait for the next datagram, whoever sends it. No timeout here:
        // waiting is the server's job, and no single client can make it wait for them.
        let datagram = match recv_datagram(socket, &mut buffer, console) {
            Ok(datagram) => datagram,
            Err(error) if is_port_unreachable(&error) => {
                // (Windows) an earlier reply came back "port unreachable": its client is gone.
                console.say("a client we answered has gone (ICMP port unreachable); still serving");
                continue;
            }
            Err(error) => {
                // Not a reason to stop serving the others. Pause so a lasting error cannot spin.
                console.say(format_args!("recvfrom() failed: {error}; still serving"));
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let peer = datagram.peer;
        let message = &buffer[..datagram.kept];
        console.say(format_args!(
            "received from {peer}: {}",
            options.encoding.encoding.display(message)
        ));
        if let Some(notice) = datagram.cut_notice() {
            console.say(notice);
        }

        // ④ sendto(reply, peer): UDP needs the address on every send; we answer the address
        // the datagram came from. Nothing tells us whether the reply arrives.
        let reply = reply_to(message, options);
        match socket.send_to(&reply, peer) {
            Ok(sent) => console.trace(format_args!("sendto({sent} bytes, {peer})")),
            Err(error) => console.say(format_args!("sendto({peer}) failed: {error}")),
        }

        answered += 1;
        if Some(answered) == limit {
            let plural = if answered == 1 { "" } else { "s" };
            console.say(format_args!(
                "answered {answered} datagram{plural}: closing the socket"
            ));
            // ⑤ close(): the socket closes when our caller drops it.
            console.trace("close()");
            return Ok(());
        }
    }
}
// ANCHOR_END: serve

/// The reply to one datagram: the echo, the echo in upper case, or the `--reply` text.
fn reply_to<'a>(message: &'a [u8], options: &Options) -> Cow<'a, [u8]> {
    let encoding = options.encoding.encoding;
    match &options.reply {
        // `main` has already checked that the encoding can represent the text.
        Some(text) => Cow::Owned(encoding.encode(text).unwrap_or_default()),
        None if options.upper => encoding.upper_case(message),
        None => Cow::Borrowed(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_has_the_command_line_defaults() {
        let parsed: Options = test_support::options::parse(&["--bind", "127.0.0.1:0"]);
        let new = Options::new(Addr::localhost(0));
        assert_eq!(format!("{parsed:?}"), format!("{new:?}"));
    }
}
