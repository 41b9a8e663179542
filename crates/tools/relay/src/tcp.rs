//! `relay tcp`: a TCP relay that delays everything. Each connection to the relay gets its own
//! connection to the server; every chunk read on one side is written to the other `--delay`
//! later, in order. There is no `--loss`: TCP cannot lose a byte without breaking the
//! connection, and a datagram lost on the wire is resent by the operating system, unseen.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread;
use std::time::{Duration, Instant};

use clap::Args;
use common::net::{bind_error, connect_error};
use common::{Addr, Console};

use crate::args::{Shared, refuse_a_loop, show};

/// How much one read takes at most: one chunk.
const CHUNK: usize = 64 * 1024;

/// How many chunks may wait in one direction: the relay then stops reading, and TCP's flow
/// control slows the sender down, as a slow network would.
const QUEUED: usize = 64;

/// How long to wait for the server to accept the relay's connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// `relay tcp`: where clients connect, where the server is, and the delay.
#[derive(Args, Clone, Debug)]
#[command(
    after_help = "There is no --loss: TCP resends what the network loses, so a program above it never sees a loss, only a delay."
)]
pub struct Options {
    /// Where clients connect: HOST:PORT, [IPV6]:PORT, PORT or :PORT; port 0 lets the OS choose
    #[arg(long, value_name = "ADDR")]
    pub listen: Addr,

    /// The server to connect each client to: HOST:PORT, [IPV6]:PORT or PORT
    #[arg(long, value_name = "ADDR")]
    pub to: Addr,

    #[command(flatten)]
    pub shared: Shared,
}

/// What the relay has done, for the summary line.
#[derive(Default)]
pub struct Counts {
    connections: AtomicU64,
    chunks: AtomicU64,
    bytes: AtomicU64,
    delayed: AtomicU64,
}

impl Counts {
    /// `summary: forwarded=120 dropped=0 delayed=120 (chunks: 1048600 bytes in 3 connections)`
    pub fn summary(&self) -> String {
        let get = |count: &AtomicU64| count.load(Ordering::Relaxed);
        let connections = get(&self.connections);
        format!(
            "summary: forwarded={} dropped=0 delayed={} (chunks: {} bytes in {connections} connection{})",
            get(&self.chunks),
            get(&self.delayed),
            get(&self.bytes),
            if connections == 1 { "" } else { "s" },
        )
    }
}

/// What one direction's reader hands its writer.
enum Piece {
    /// Bytes read at some moment, to be written at `due`.
    Chunk { due: Instant, bytes: Vec<u8> },
    /// The sender shut down its writing half (or closed): pass that on at `due`.
    End { due: Instant },
    /// Reading failed (the connection was reset): end both sides.
    Broken(io::Error),
}

/// Everything one connection needs to know.
struct Link {
    delay: Duration,
    counts: Arc<Counts>,
    console: Console,
    verbose: bool,
}

/// `relay tcp`: listen, then relay each connection on its own threads until stopped.
pub fn run(
    options: &Options,
    on_stop: impl FnOnce(Arc<Counts>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let console = Console::new(false);
    let listen = options.listen.resolve_one()?;
    let upstream = options.to.resolve()?;
    refuse_a_loop(listen, &upstream)?;
    let listener = TcpListener::bind(listen).map_err(|error| bind_error(listen, error))?;
    refuse_a_loop(listener.local_addr()?, &upstream)?;
    let counts = Arc::new(Counts::default());
    // Ready for Ctrl-C before anyone can read the first line.
    on_stop(Arc::clone(&counts))?;
    console.say(format_args!("listening on {}", listener.local_addr()?));
    console.say(format_args!(
        "relaying to {}: delaying every chunk by {} each way",
        options.to,
        show(options.shared.delay)
    ));
    let link = Arc::new(Link {
        delay: options.shared.delay,
        counts,
        console,
        verbose: options.shared.verbose,
    });
    for incoming in listener.incoming() {
        let client = match incoming {
            Ok(client) => client,
            Err(error) => {
                eprintln!("error: accept() failed: {error}; still listening");
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let link = Arc::clone(&link);
        let upstream = upstream.clone();
        thread::spawn(move || link.relay(client, &upstream));
    }
    Ok(())
}

impl Link {
    /// One connection: connect to the server, then pump both ways until both sides have
    /// finished.
    fn relay(&self, client: TcpStream, upstream: &[SocketAddr]) {
        let Ok(client_addr) = client.peer_addr() else {
            return;
        };
        let server = match connect(upstream) {
            Ok(server) => server,
            Err(error) => {
                // Closing the client's connection is the only way to tell it.
                eprintln!("error: {error}; closing the connection from {client_addr}");
                return;
            }
        };
        let Ok(server_addr) = server.peer_addr() else {
            return;
        };
        // Each chunk leaves as soon as it is due: Nagle's algorithm would hold small ones back
        // until the previous one is acknowledged, adding a delay nobody asked for.
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        self.counts.connections.fetch_add(1, Ordering::Relaxed);
        self.console.say(format_args!(
            "connection from {client_addr}, relayed to {server_addr}"
        ));
        let (Ok(client_reader), Ok(server_reader)) = (client.try_clone(), server.try_clone())
        else {
            eprintln!("error: cannot clone the socket handles; closing {client_addr}");
            return;
        };
        thread::scope(|scope| {
            scope.spawn(|| self.pump(client_reader, &server, client_addr, server_addr));
            self.pump(server_reader, &client, server_addr, client_addr);
        });
        self.console
            .say(format_args!("connection from {client_addr} closed"));
    }

    /// One direction: a reader thread reads chunks and stamps them with the time they are due;
    /// this thread writes each one when its time comes. Order is kept: one queue, one writer.
    fn pump(&self, from: TcpStream, to: &TcpStream, from_addr: SocketAddr, to_addr: SocketAddr) {
        let (queue, queued) = sync_channel(QUEUED);
        thread::scope(|scope| {
            let reader = &from;
            scope.spawn(move || self.read_side(reader, &queue));
            self.write_side(queued, to, &from, from_addr, to_addr);
        });
    }

    /// Reads until the end of the stream, stamping each chunk with `now + delay`.
    fn read_side(&self, mut from: &TcpStream, queue: &SyncSender<Piece>) {
        let mut buffer = vec![0u8; CHUNK];
        loop {
            let piece = match from.read(&mut buffer) {
                Ok(0) => Piece::End {
                    due: Instant::now() + self.delay,
                },
                Ok(size) => Piece::Chunk {
                    due: Instant::now() + self.delay,
                    bytes: buffer[..size].to_vec(),
                },
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => Piece::Broken(error),
            };
            let last = !matches!(piece, Piece::Chunk { .. });
            if !self.delay.is_zero() && !last {
                self.counts.delayed.fetch_add(1, Ordering::Relaxed);
            }
            // The writer has given up (the other side is gone): stop reading.
            if queue.send(piece).is_err() || last {
                return;
            }
        }
    }

    /// Writes each piece when it is due; passes on the end of the stream as a half-close.
    fn write_side(
        &self,
        queued: Receiver<Piece>,
        mut to: &TcpStream,
        from: &TcpStream,
        from_addr: SocketAddr,
        to_addr: SocketAddr,
    ) {
        for piece in queued {
            match piece {
                Piece::Chunk { due, bytes } => {
                    wait_until(due);
                    if let Err(error) = to.write_all(&bytes) {
                        eprintln!("error: writing to {to_addr}: {error}; closing both sides");
                        break;
                    }
                    self.counts.chunks.fetch_add(1, Ordering::Relaxed);
                    self.counts
                        .bytes
                        .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                    if self.verbose {
                        self.console.say(format_args!(
                            "forwarded {} bytes from {from_addr} to {to_addr}",
                            bytes.len()
                        ));
                    }
                }
                Piece::End { due } => {
                    wait_until(due);
                    // shutdown(Write): the other side's recv returns 0, as it would have
                    // without the relay, and it can still send its answer back.
                    let _ = to.shutdown(Shutdown::Write);
                    if self.verbose {
                        self.console.say(format_args!(
                            "passed on the end of the stream from {from_addr} to {to_addr}"
                        ));
                    }
                    return;
                }
                Piece::Broken(error) => {
                    eprintln!("error: reading from {from_addr}: {error}; closing both sides");
                    break;
                }
            }
        }
        // Something broke: close both sides, which also wakes our reader if it still waits.
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    }
}

/// Connects to the first of the server's addresses that answers.
fn connect(upstream: &[SocketAddr]) -> Result<TcpStream, io::Error> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the server has no address");
    for &addr in upstream {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(stream) => return Ok(stream),
            Err(error) => last = connect_error(addr, error),
        }
    }
    Err(last)
}

fn wait_until(due: Instant) {
    let left = due.saturating_duration_since(Instant::now());
    if !left.is_zero() {
        thread::sleep(left);
    }
}
