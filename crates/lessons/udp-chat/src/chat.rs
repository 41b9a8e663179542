//! One chat endpoint: a UDP socket bound to a known port, used by two threads at once. One
//! thread waits in `recvfrom` and prints whatever arrives; the other reads your lines and
//! `sendto`s each one to the peer. A UDP socket needs nothing more: there is no connection, so
//! sending and receiving never wait for each other.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use common::cli::{EncodingArg, TraceArg, input_lines};
use common::net::{bind_error, is_port_unreachable, is_timeout};
use common::{Addr, Console, Encoding};

/// How often the receiving thread looks up from `recvfrom` to see whether it should stop.
const TICK: Duration = Duration::from_millis(200);

/// A buffer this big holds any UDP datagram (at most 65,507 bytes over IPv4, 65,527 over IPv6),
/// so `recvfrom` never cuts a message. The seed's `recvfrom(1024)` cuts anything longer.
const BUFFER: usize = 65_535;

/// `udp-chat`: where to bind and whom to talk to.
#[derive(Args, Clone, Debug)]
pub struct Options {
    /// Where to bind: HOST:PORT, [IPV6]:PORT, PORT or :PORT (all interfaces); port 0 lets the OS choose
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7788")]
    pub bind: Addr,

    /// Whom to send your lines to; without it, they go to whoever wrote to you last
    #[arg(long, value_name = "ADDR")]
    pub peer: Option<Addr>,

    #[command(flatten)]
    pub encoding: EncodingArg,

    #[command(flatten)]
    pub trace: TraceArg,
}

/// What to do after a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

/// A chat endpoint, shared by the receiving and the sending thread.
pub struct Chat {
    socket: UdpSocket,
    local: SocketAddr,
    encoding: Encoding,
    console: Console,
    peer: Mutex<Peer>,
    stop: AtomicBool,
}

/// Where your lines go.
#[derive(Clone, Copy, Debug, Default)]
struct Peer {
    addr: Option<SocketAddr>,
    /// Chosen with `--peer` or `/peer`; otherwise the last one to write to us, which changes.
    chosen: bool,
}

// ANCHOR: run
/// `udp-chat`: bind, then receive on one thread while this one reads and sends your lines,
/// until `/quit` or the end of input.
pub fn run(options: &Options, console: Console) -> anyhow::Result<()> {
    let chat = Chat::bind(
        options.bind.resolve_one()?,
        options.encoding.encoding,
        console,
    )?;
    match &options.peer {
        Some(peer) => chat.choose_peer(peer)?,
        None => chat.no_peer_yet(),
    }
    thread::scope(|scope| {
        // One thread receives, so that messages appear while you type.
        scope.spawn(|| chat.receive(|| ()));
        // This one reads your lines and sends them.
        let result = chat.talk(input_lines(&[], console));
        // Tell the receiving thread to stop; the scope waits for it (one TICK at most).
        chat.stop();
        result
    })?;
    chat.close();
    Ok(())
}
// ANCHOR_END: run

impl Chat {
    // ANCHOR: bind
    /// ① socket and ② bind, in one call: a chat must bind a known port, so that the other side
    /// knows where to send. Prints `bound to ADDR`.
    pub fn bind(addr: SocketAddr, encoding: Encoding, console: Console) -> anyhow::Result<Chat> {
        let socket = UdpSocket::bind(addr).map_err(|error| bind_error(addr, error))?;
        console.trace(format_args!("bind({addr})"));
        let local = socket.local_addr().context("getsockname()")?;
        console.say(format_args!("bound to {local}"));
        // recvfrom wakes up at least this often, to notice that it is time to stop.
        socket
            .set_read_timeout(Some(TICK))
            .context("setting the read timeout")?;
        Ok(Chat {
            socket,
            local,
            encoding,
            console,
            peer: Mutex::new(Peer::default()),
            stop: AtomicBool::new(false),
        })
    }
    // ANCHOR_END: bind

    /// The address this chat is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    // ANCHOR: receive
    /// The receiving thread: ③ recvfrom, print, repeat, until [`Chat::stop`]. `heard` is
    /// called after each message is printed (the demo uses it to pace the conversation).
    pub fn receive(&self, heard: impl Fn()) {
        let mut buffer = vec![0u8; BUFFER];
        while !self.stop.load(Ordering::Relaxed) {
            let (size, from) = match self.socket.recv_from(&mut buffer) {
                Ok(received) => received,
                // Nothing arrived for a TICK: look at the stop flag, then wait again.
                Err(error) if is_timeout(&error) => continue,
                Err(error) if is_port_unreachable(&error) => {
                    self.console.say(
                        "your last message was refused: nothing is bound to the peer's port (ICMP port unreachable); is the other chat running?",
                    );
                    continue;
                }
                Err(error) => {
                    self.console
                        .say(format_args!("recvfrom() failed: {error}; still listening"));
                    thread::sleep(TICK);
                    continue;
                }
            };
            self.console.trace(format_args!(
                "recvfrom({BUFFER}) -> {size} bytes from {from}"
            ));
            // Settled before the message shows, so that a reply typed right after it goes
            // to this sender.
            let new_peer = self.heard_from(from);
            // Bytes that are not valid text are shown as such: never fatal (seed 001's
            // decode('gbk') would crash the chat here).
            self.console.say(format_args!(
                "received from {from}: {}",
                self.encoding.display(&buffer[..size])
            ));
            if new_peer {
                self.console
                    .say(format_args!("peer: {from} (the last to write to us)"));
            }
            heard();
            self.console.prompt();
        }
    }
    // ANCHOR_END: receive

    /// Without a chosen peer, replies go to whoever wrote last. Returns whether that changed
    /// the peer.
    fn heard_from(&self, from: SocketAddr) -> bool {
        let mut peer = self.peer.lock().unwrap_or_else(PoisonError::into_inner);
        let changed = !peer.chosen && peer.addr != Some(from);
        if changed {
            peer.addr = Some(from);
        }
        changed
    }

    /// The sending thread: one line after another, until `/quit` or the end of input.
    pub fn talk(&self, lines: impl Iterator<Item = io::Result<String>>) -> anyhow::Result<()> {
        for line in lines {
            let line = line.context("reading stdin")?;
            if self.handle(&line) == Flow::Quit {
                break;
            }
        }
        Ok(())
    }

    // ANCHOR: handle
    /// One line you typed: `/quit`, `/peer ADDR`, or text to send (`//text` sends `/text`).
    pub fn handle(&self, line: &str) -> Flow {
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        match word {
            "/quit" => return Flow::Quit,
            "/peer" => {
                let chosen = rest
                    .trim()
                    .parse::<Addr>()
                    .map_err(anyhow::Error::from)
                    .and_then(|addr| self.choose_peer(&addr));
                if let Err(error) = chosen {
                    eprintln!("error: {error:#}");
                }
            }
            _ if line.starts_with("//") => self.send(&line[1..]),
            _ if line.starts_with('/') => eprintln!(
                "error: unknown command {word:?}: use /peer ADDR or /quit (type // to send a line that starts with /)"
            ),
            _ => self.send(line),
        }
        Flow::Continue
    }

    /// ④ sendto(bytes, peer): one line, one datagram, addressed to the peer. Nothing tells us
    /// whether it arrives; a failure here is reported and the chat goes on.
    fn send(&self, text: &str) {
        let peer = self
            .peer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .addr;
        let Some(peer) = peer else {
            eprintln!(
                "error: not sent: no peer yet; type /peer ADDR, or wait until someone writes to you"
            );
            return;
        };
        let datagram = match self.encoding.encode(text) {
            Ok(bytes) => bytes,
            // Never send a silently altered message.
            Err(error) => {
                eprintln!("error: not sent: {error}");
                return;
            }
        };
        // Said first, so that it comes before the other side's "received".
        self.console.say(format_args!("sent to {peer}: {text}"));
        match self.socket.send_to(&datagram, peer) {
            Ok(sent) => self
                .console
                .trace(format_args!("sendto({sent} bytes, {peer})")),
            Err(error) => eprintln!("error: that line was not sent to {peer}: {error}"),
        }
    }
    // ANCHOR_END: handle

    /// `--peer ADDR` or `/peer ADDR`: from now on, lines go to this address.
    pub fn choose_peer(&self, addr: &Addr) -> anyhow::Result<()> {
        // A host name may stand for an IPv6 and an IPv4 address: take one our socket can reach.
        let candidates = addr.resolve()?;
        let Some(&found) = candidates
            .iter()
            .find(|candidate| candidate.is_ipv4() == self.local.is_ipv4())
        else {
            bail!(
                "cannot send from {} to {addr}: one is IPv4, the other IPv6; use an address of the same family",
                self.local
            );
        };
        *self.peer.lock().unwrap_or_else(PoisonError::into_inner) = Peer {
            addr: Some(found),
            chosen: true,
        };
        self.console.say(format_args!("peer: {found}"));
        Ok(())
    }

    /// Says where lines go when no peer was chosen.
    pub fn no_peer_yet(&self) {
        self.console.say(
            "peer: none yet; your lines go to whoever writes to you first (or type /peer ADDR)",
        );
    }

    /// Asks the receiving thread to return.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// ⑤ close(): dropping the socket closes it. Nobody is told: there is no connection.
    pub fn close(self) {
        self.console.say("closing the socket");
        drop(self.socket);
        self.console.trace("close()");
    }
}
