//! The UDP client, in the tutorial's steps: ① socket (not bound: the OS picks a port at the
//! first send), ② sendto the server, ③ recvfrom its reply, repeat, ④ close.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use common::cli::{EncodingArg, TraceArg, input_lines, parse_seconds};
use common::net::{bind_error, is_port_unreachable, is_timeout};
use common::{Addr, Console, Encoding};
use socket2::{Domain, Protocol, SockRef, Socket, Type};

use crate::datagram::{self, allow_largest_datagrams, max_payload, recv_datagram};

/// `udp-bind client`: where to send, from where, and what.
#[derive(Args, Clone, Debug)]
pub struct Options {
    /// The server: HOST:PORT, [IPV6]:PORT or PORT
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7788")]
    pub server: Addr,

    /// Bind the client to this address first; without it the OS picks a port at the first send
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<Addr>,

    /// Send this message instead of reading lines from stdin (repeat it to send several)
    #[arg(long = "message", value_name = "TEXT")]
    pub messages: Vec<String>,

    /// Seconds to wait for each reply before giving up
    #[arg(long, value_name = "SECONDS", default_value = "2", value_parser = parse_seconds)]
    pub timeout: Duration,

    /// recvfrom's buffer size in bytes: a longer reply is cut to this size
    #[arg(long, value_name = "BYTES", default_value = "65535", value_parser = datagram::parse_recv_buffer)]
    pub recv_buffer: usize,

    #[command(flatten)]
    pub encoding: EncodingArg,

    #[command(flatten)]
    pub trace: TraceArg,
}

// ANCHOR: run
/// `udp-bind client`: send each message as one datagram and print the reply. Returns the
/// address the socket was bound to (by `--bind` or by the OS), if it ever was.
pub fn run(options: &Options, console: Console) -> anyhow::Result<Option<SocketAddr>> {
    let encoding = options.encoding.encoding;
    let local = options.bind.as_ref().map(Addr::resolve_one).transpose()?;
    let server = choose_server(&options.server, local)?;
    let (socket, mut bound) = open(server, local, console)?;

    let mut buffer = vec![0u8; options.recv_buffer];
    let mut unsent = 0;
    for line in input_lines(&options.messages, console) {
        let line = line.context("reading stdin")?;
        let Some(message) = encode(&line, encoding, server) else {
            unsent += 1;
            continue;
        };
        // ② sendto(bytes, server): one datagram, addressed to the server every time.
        let sent = socket
            .send_to(&message, server)
            .with_context(|| format!("sending to {server}"))?;
        console.trace(format_args!("sendto({sent} bytes, {server})"));
        if bound.is_none() {
            bound = Some(announce(&socket, console)?);
        }
        console.say(format_args!("sent to {server}: {line}"));
        wait_for_reply(&socket, server, &mut buffer, options, console)?;
    }

    console.say("closing the socket");
    // ④ close(): dropping the socket closes it. No one is told: there is no connection.
    console.trace("close()");
    drop(socket);
    if unsent > 0 {
        bail!("{unsent} message(s) could not be sent");
    }
    Ok(bound)
}
// ANCHOR_END: run

/// The server's address, in the family the client's socket will have: a host name such as
/// `localhost` may stand for an IPv6 and an IPv4 address, and one socket speaks only one.
fn choose_server(server: &Addr, local: Option<SocketAddr>) -> anyhow::Result<SocketAddr> {
    let candidates = server.resolve()?;
    let found = match local {
        Some(local) => candidates
            .iter()
            .find(|addr| addr.is_ipv4() == local.is_ipv4()),
        // Unbound, like the seed's AF_INET socket: IPv4 if the name has an IPv4 address.
        None => candidates
            .iter()
            .find(|addr| addr.is_ipv4())
            .or(candidates.first()),
    };
    match (found, local) {
        (Some(addr), _) => Ok(*addr),
        (None, Some(local)) => bail!(
            "cannot send from {local} to {server}: one is IPv4, the other IPv6; bind an address of the server's family"
        ),
        (None, None) => bail!("no address for {server}"),
    }
}

// ANCHOR: open
/// Step ①: a UDP socket for talking to `server`. It is bound only if `local` is given
/// (`--bind`): otherwise the OS binds it at the first send, to a port of its choice. Returns
/// the socket and, if it is bound already, its address.
fn open(
    server: SocketAddr,
    local: Option<SocketAddr>,
    console: Console,
) -> anyhow::Result<(UdpSocket, Option<SocketAddr>)> {
    let socket = Socket::new(
        Domain::for_address(server),
        Type::DGRAM,
        Some(Protocol::UDP),
    )
    .context("creating a UDP socket")?;
    let family = if server.is_ipv4() {
        "AF_INET"
    } else {
        "AF_INET6"
    };
    console.trace(format_args!("socket({family}, SOCK_DGRAM)"));
    allow_largest_datagrams(SockRef::from(&socket)).context("setting SO_SNDBUF")?;

    let Some(local) = local else {
        // A client need not bind (seed 001, §4.3): it speaks first, and the server answers
        // whatever address the datagram came from.
        console.trace("no bind(): the OS will pick our port at the first sendto");
        return Ok((UdpSocket::from(socket), None));
    };
    socket
        .bind(&local.into())
        .map_err(|error| bind_error(local, error))?;
    console.trace(format_args!("bind({local})"));
    let socket = UdpSocket::from(socket);
    let bound = announce(&socket, console)?;
    Ok((socket, Some(bound)))
}

/// Which address and port is the socket bound to? For an unbound socket, ask after the first
/// send: that is when the OS picked them.
fn announce(socket: &UdpSocket, console: Console) -> anyhow::Result<SocketAddr> {
    let bound = socket.local_addr().context("getsockname()")?;
    console.trace(format_args!("getsockname() -> {bound}"));
    // 0.0.0.0 (or [::]): bound to every interface, on the port the OS picked.
    console.say(format_args!("bound to {bound}"));
    Ok(bound)
}
// ANCHOR_END: open

/// The line as bytes in the wire encoding, or `None` (and why, on stderr) if it cannot be sent.
fn encode(line: &str, encoding: Encoding, server: SocketAddr) -> Option<Vec<u8>> {
    match encoding.encode(line) {
        // Never send a silently altered message.
        Err(error) => eprintln!("error: not sent: {error}"),
        Ok(bytes) if bytes.len() > max_payload(server) => eprintln!(
            "error: not sent: {} bytes do not fit in one UDP datagram to {server} (at most {}); split the message",
            bytes.len(),
            max_payload(server)
        ),
        Ok(bytes) => return Some(bytes),
    }
    None
}

// ANCHOR: wait_for_reply
/// Step ③: wait up to `--timeout` for the server's reply. Every datagram says who sent it: one
/// from anybody else is shown as such, and we go on waiting for the server's.
fn wait_for_reply(
    socket: &UdpSocket,
    server: SocketAddr,
    buffer: &mut [u8],
    options: &Options,
    console: Console,
) -> anyhow::Result<()> {
    let encoding = options.encoding.encoding;
    let deadline = Instant::now() + options.timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            bail!(no_reply(server, options.timeout));
        }
        socket.set_read_timeout(Some(left))?;
        // ③ recvfrom(bufsize)
        let datagram = match recv_datagram(socket, buffer, console) {
            Ok(datagram) => datagram,
            Err(error) if is_timeout(&error) => bail!(no_reply(server, options.timeout)),
            Err(error) if is_port_unreachable(&error) => bail!(
                "no reply from {server}: nothing is bound to that port (ICMP port unreachable); start the server first, or check the port"
            ),
            Err(error) => return Err(error).context("receiving the reply"),
        };
        let text = encoding.display(&buffer[..datagram.kept]);
        if datagram.peer != server {
            console.say(format_args!(
                "ignored a datagram from {}, not from the server: {text}",
                datagram.peer
            ));
            continue;
        }
        console.say(format_args!("received from {server}: {text}"));
        if let Some(notice) = datagram.cut_notice() {
            console.say(notice);
        }
        return Ok(());
    }
}

/// Why there is no answer: UDP itself never says.
fn no_reply(server: SocketAddr, timeout: Duration) -> String {
    format!(
        "no reply from {server} within {} s: UDP does not retransmit, so a lost datagram stays lost; is the server running?",
        timeout.as_secs_f64()
    )
}
// ANCHOR_END: wait_for_reply
