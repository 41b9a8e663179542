//! `relay udp`: a UDP relay that loses and delays datagrams. Clients send to the relay; for
//! each client address it opens its own socket towards the upstream server (as a home router's
//! NAT does), so that the server sees one sender per client and each reply finds its way back.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use common::net::{bind_error, is_timeout};
use common::{Addr, Console};

use crate::args::{Shared, parse_fraction, refuse_a_loop, show};
use crate::delay_line::{DelayLine, Outgoing};
use crate::random::Loss;

/// Large enough for any UDP datagram: the relay must not cut what it passes on.
const BUFFER: usize = 65_535;

/// A client silent this long, and unanswered, is forgotten with its socket, as a NAT does.
const IDLE: Duration = Duration::from_secs(60);

/// `relay udp`: where clients send, where the server is, and how bad the network is.
#[derive(Args, Clone, Debug)]
pub struct Options {
    /// Where clients send: HOST:PORT, [IPV6]:PORT, PORT or :PORT; port 0 lets the OS choose
    #[arg(long, value_name = "ADDR")]
    pub listen: Addr,

    /// The server the datagrams are for: HOST:PORT, [IPV6]:PORT or PORT
    #[arg(long, value_name = "ADDR")]
    pub to: Addr,

    /// Lose this fraction of the datagrams, in each direction: 0 to 1, such as 0.25
    #[arg(long, value_name = "FRACTION", default_value = "0", value_parser = parse_fraction)]
    pub loss: f64,

    /// Seed for choosing which datagrams are lost: the same seed, the same losses
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,

    #[command(flatten)]
    pub shared: Shared,
}

/// What the relay has done, for the summary line.
#[derive(Default)]
pub struct Counts {
    to_upstream: Direction,
    to_clients: Direction,
    delayed: AtomicU64,
}

#[derive(Default)]
struct Direction {
    forwarded: AtomicU64,
    dropped: AtomicU64,
}

impl Counts {
    /// `summary: forwarded=37 dropped=13 delayed=37 (to upstream: …; to clients: …)`
    pub fn summary(&self) -> String {
        let get = |count: &AtomicU64| count.load(Ordering::Relaxed);
        let (up, down) = (&self.to_upstream, &self.to_clients);
        format!(
            "summary: forwarded={} dropped={} delayed={} (to upstream: forwarded={} dropped={}; to clients: forwarded={} dropped={})",
            get(&up.forwarded) + get(&down.forwarded),
            get(&up.dropped) + get(&down.dropped),
            get(&self.delayed),
            get(&up.forwarded),
            get(&up.dropped),
            get(&down.forwarded),
            get(&down.dropped),
        )
    }
}

/// One client's way to the server: its own socket, connected to the server.
struct Mapping {
    socket: Arc<UdpSocket>,
    /// When the client last sent something, in milliseconds since the relay started.
    last_heard: AtomicU64,
}

struct Relay {
    /// The socket clients send to, and that replies leave from.
    socket: Arc<UdpSocket>,
    upstream: SocketAddr,
    mappings: Mutex<HashMap<SocketAddr, Arc<Mapping>>>,
    /// Separate coins for each direction: see [`Loss::pair`].
    loss_to_upstream: Mutex<Loss>,
    loss_to_clients: Mutex<Loss>,
    line: Arc<DelayLine>,
    delayed: bool,
    counts: Arc<Counts>,
    started: Instant,
    console: Console,
    verbose: bool,
}

/// `relay udp`: bind, then pass datagrams both ways until stopped.
pub fn run(
    options: &Options,
    on_stop: impl FnOnce(Arc<Counts>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let console = Console::new(false);
    let listen = options.listen.resolve_one()?;
    let candidates = options.to.resolve()?;
    let upstream = candidates
        .iter()
        .find(|addr| addr.is_ipv4())
        .or(candidates.first())
        .copied()
        .with_context(|| format!("no address for {}", options.to))?;
    refuse_a_loop(listen, &[upstream])?;
    let socket = UdpSocket::bind(listen).map_err(|error| bind_error(listen, error))?;
    refuse_a_loop(socket.local_addr()?, &[upstream])?;
    let counts = Arc::new(Counts::default());
    // Ready for Ctrl-C before anyone can read the first line.
    on_stop(Arc::clone(&counts))?;

    let (loss_to_upstream, loss_to_clients) = Loss::pair(options.loss, options.seed);
    let relay = Arc::new(Relay {
        socket: Arc::new(socket),
        upstream,
        mappings: Mutex::new(HashMap::new()),
        loss_to_upstream: Mutex::new(loss_to_upstream),
        loss_to_clients: Mutex::new(loss_to_clients),
        line: DelayLine::new(options.shared.delay),
        delayed: !options.shared.delay.is_zero(),
        counts,
        started: Instant::now(),
        console,
        verbose: options.shared.verbose,
    });
    let sender = Arc::clone(&relay);
    relay.line.start(move |outgoing| sender.send(outgoing));

    console.say(format_args!("bound to {}", relay.socket.local_addr()?));
    console.say(format_args!(
        "relaying to {upstream}: losing {} of the datagrams each way (seed {}), delaying each by {}",
        options.loss,
        options.seed,
        show(options.shared.delay)
    ));
    relay.receive_from_clients()
}

impl Relay {
    /// The main thread: every datagram from a client goes to the server, or is lost.
    fn receive_from_clients(self: &Arc<Self>) -> anyhow::Result<()> {
        let mut buffer = vec![0u8; BUFFER];
        loop {
            let (size, client) = match self.socket.recv_from(&mut buffer) {
                Ok(received) => received,
                // Windows reports an ICMP "port unreachable" for a reply sent to a client that
                // has gone. Nothing to do: the client is gone.
                Err(error) if is_unreachable(&error) => continue,
                Err(error) => {
                    eprintln!("error: receiving from clients: {error}; still relaying");
                    thread::sleep(Duration::from_millis(100));
                    continue;
                }
            };
            let mapping = match self.mapping_for(client) {
                Ok(mapping) => mapping,
                Err(error) => {
                    eprintln!("error: {error:#}; that datagram is not relayed");
                    continue;
                }
            };
            mapping
                .last_heard
                .store(self.elapsed_ms(), Ordering::Relaxed);
            let lost = lock(&self.loss_to_upstream).drop_next();
            let outgoing = Outgoing {
                datagram: buffer[..size].to_vec(),
                socket: Arc::clone(&mapping.socket),
                to: None,
                from: client,
                destination: self.upstream,
            };
            self.pass_on(outgoing, lost, &self.counts.to_upstream);
        }
    }

    /// Drops the datagram, or queues it on the delay line.
    fn pass_on(&self, outgoing: Outgoing, lost: bool, direction: &Direction) {
        let (size, from, to) = (outgoing.datagram.len(), outgoing.from, outgoing.destination);
        let why = if lost {
            ""
        } else if self.line.push(outgoing) {
            if self.delayed {
                self.counts.delayed.fetch_add(1, Ordering::Relaxed);
            }
            return;
        } else {
            " (the delay line is full)"
        };
        direction.dropped.fetch_add(1, Ordering::Relaxed);
        if self.verbose {
            self.console.say(format_args!(
                "dropped {size} bytes from {from} to {to}{why}"
            ));
        }
    }

    /// The scheduler thread, when a datagram is due: send it on its way.
    fn send(&self, outgoing: Outgoing) {
        let sent = match outgoing.to {
            Some(to) => outgoing.socket.send_to(&outgoing.datagram, to),
            None => outgoing.socket.send(&outgoing.datagram),
        };
        // Only the clients' sockets towards the server are connected.
        let direction = if outgoing.to.is_none() {
            &self.counts.to_upstream
        } else {
            &self.counts.to_clients
        };
        match sent {
            Ok(size) => {
                direction.forwarded.fetch_add(1, Ordering::Relaxed);
                if self.verbose {
                    self.console.say(format_args!(
                        "forwarded {size} bytes from {} to {}",
                        outgoing.from, outgoing.destination
                    ));
                }
            }
            Err(error) => eprintln!(
                "error: could not pass on {} bytes from {} to {}: {error}",
                outgoing.datagram.len(),
                outgoing.from,
                outgoing.destination
            ),
        }
    }

    /// The client's own socket towards the server, opened at its first datagram.
    fn mapping_for(self: &Arc<Self>, client: SocketAddr) -> anyhow::Result<Arc<Mapping>> {
        let mut mappings = lock(&self.mappings);
        if let Some(mapping) = mappings.get(&client) {
            return Ok(Arc::clone(mapping));
        }
        let any: IpAddr = if self.upstream.is_ipv4() {
            Ipv4Addr::UNSPECIFIED.into()
        } else {
            Ipv6Addr::UNSPECIFIED.into()
        };
        let socket = UdpSocket::bind((any, 0)).context("opening a socket towards the server")?;
        // Connected: it sends only to the server and hears only from it.
        socket
            .connect(self.upstream)
            .with_context(|| format!("connecting a UDP socket to {}", self.upstream))?;
        socket.set_read_timeout(Some(Duration::from_secs(1)))?;
        let mapping = Arc::new(Mapping {
            socket: Arc::new(socket),
            last_heard: AtomicU64::new(self.elapsed_ms()),
        });
        mappings.insert(client, Arc::clone(&mapping));
        let relay = Arc::clone(self);
        let replies = Arc::clone(&mapping);
        thread::spawn(move || relay.receive_replies(client, &replies));
        Ok(mapping)
    }

    /// One thread per client: the server's replies on the client's socket go back to it.
    fn receive_replies(&self, client: SocketAddr, mapping: &Mapping) {
        let mut buffer = vec![0u8; BUFFER];
        let mut refused_said = false;
        loop {
            let size = match mapping.socket.recv(&mut buffer) {
                Ok(size) => size,
                Err(error) if is_timeout(&error) => {
                    let silent_ms = self
                        .elapsed_ms()
                        .saturating_sub(mapping.last_heard.load(Ordering::Relaxed));
                    if silent_ms >= IDLE.as_millis() as u64 && self.forget(client) {
                        return;
                    }
                    continue;
                }
                Err(error) if is_unreachable(&error) => {
                    if !refused_said {
                        eprintln!(
                            "error: nothing is bound to {} (ICMP port unreachable): start the server first; still relaying",
                            self.upstream
                        );
                        refused_said = true;
                    }
                    continue;
                }
                Err(error) => {
                    eprintln!(
                        "error: receiving from {}: {error}; still relaying",
                        self.upstream
                    );
                    thread::sleep(Duration::from_millis(100));
                    continue;
                }
            };
            refused_said = false;
            let lost = lock(&self.loss_to_clients).drop_next();
            let outgoing = Outgoing {
                datagram: buffer[..size].to_vec(),
                socket: Arc::clone(&self.socket),
                to: Some(client),
                from: self.upstream,
                destination: client,
            };
            self.pass_on(outgoing, lost, &self.counts.to_clients);
        }
    }

    /// Forgets an idle client, unless it spoke meanwhile. Returns whether it was forgotten.
    fn forget(&self, client: SocketAddr) -> bool {
        let mut mappings = lock(&self.mappings);
        let idle = mappings.get(&client).is_some_and(|mapping| {
            self.elapsed_ms()
                .saturating_sub(mapping.last_heard.load(Ordering::Relaxed))
                >= IDLE.as_millis() as u64
        });
        if idle {
            mappings.remove(&client);
        }
        idle
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// An ICMP "port unreachable" that came back for an earlier send.
fn is_unreachable(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset
    )
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
