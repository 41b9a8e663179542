//! The async server. Steps ① socket, ② bind and ③ listen are tcp-echo's; ④ `accept().await`
//! runs in a loop and spawns a task for each connection; ⑤ recv, ⑥ send and ⑦ close happen in
//! that task. A task that waits for its socket costs no thread: it is a small state machine the
//! compiler wrote from the `async fn`, parked until the runtime's reactor (epoll, kqueue or
//! IOCP, as in tcp-nonblocking) says its socket is ready.

use std::borrow::Cow;
use std::fmt::Display;
use std::future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use common::cli::{EncodingArg, TraceArg, parse_seconds};
use common::framing::SILENCE;
use common::net::bind_error;
use common::stalled::WriteTimeoutArg;
use common::{Addr, Console, Encoding};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::{Instant, sleep, timeout, timeout_at};

use crate::lines::{MAX_LINE, is_complete, read_line};
use crate::room::{self, Membership, Room};

/// What a client gets when `--max-connections` are already connected.
pub const BUSY: &str = "busy, try again later";

/// Each connection's read buffer: recv(1024), as in the tutorials. Ten thousand connections
/// hold ten thousand of them.
const READ_BUFFER: usize = 1024;

/// The longest `sleep MS` that `--sleep-command` accepts, in milliseconds.
pub const MAX_SLEEP_MS: u64 = 10_000;

/// `tcp-async server`: where to listen, how many threads, how to reply.
#[derive(Args, Clone, Debug)]
pub struct Options {
    /// Where to listen: HOST:PORT, [IPV6]:PORT, PORT or :PORT (all interfaces); port 0 lets the OS choose
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9999")]
    pub listen: Addr,

    /// Runtime worker threads that run the tasks [default: one per core]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub workers: Option<u16>,

    /// A chat room: each line goes to every other client as `PEER: TEXT`
    #[arg(long, conflicts_with_all = ["upper", "sleep_command"])]
    pub broadcast: bool,

    /// Turn further clients away with `busy, try again later` while N are connected
    #[arg(long, value_name = "N", default_value = "10000", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,

    /// Close a connection that has been silent this many seconds
    #[arg(long, value_name = "SECONDS", default_value = "300", value_parser = parse_seconds)]
    pub idle_timeout: Duration,

    /// On Ctrl-C or SIGTERM, give connected clients this many seconds to finish
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = parse_seconds)]
    pub grace: Duration,

    /// Reply in upper case (seed 004)
    #[arg(long)]
    pub upper: bool,

    /// A lesson, not a feature: a line `sleep MS` is answered after sleeping MS milliseconds
    /// (at most 10000), `blocking` the worker thread (the mistake) or on tokio's
    /// `spawn-blocking` threads (the fix)
    #[arg(long, value_name = "HOW")]
    pub sleep_command: Option<SleepHow>,

    /// Print only the first and last lines, not every connection and message (for benchmarks)
    #[arg(long)]
    pub quiet: bool,

    #[command(flatten)]
    pub encoding: EncodingArg,

    #[command(flatten)]
    pub write_timeout: WriteTimeoutArg,

    #[command(flatten)]
    pub trace: TraceArg,
}

/// How a task carries out `sleep MS` (`--sleep-command`).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SleepHow {
    /// `std::thread::sleep` in the task: its worker thread runs nothing else meanwhile
    Blocking,
    /// the same sleep in `spawn_blocking`: the task waits, its worker runs the other tasks
    SpawnBlocking,
}

impl Options {
    /// The defaults of `tcp-async server --listen ADDR`, for the demo.
    pub fn new(listen: Addr) -> Options {
        Options {
            listen,
            workers: None,
            broadcast: false,
            max_connections: 10_000,
            idle_timeout: Duration::from_secs(300),
            grace: Duration::from_secs(5),
            upper: false,
            sleep_command: None,
            quiet: false,
            encoding: EncodingArg {
                encoding: Encoding::UTF_8,
            },
            write_timeout: WriteTimeoutArg::default(),
            trace: TraceArg { trace: false },
        }
    }

    /// How many worker threads the runtime gets: `--workers`, or one per core.
    pub fn worker_threads(&self) -> usize {
        self.workers.map_or_else(
            || std::thread::available_parallelism().map_or(1, |cores| cores.get()),
            usize::from,
        )
    }
}

// ANCHOR: runtime
/// The runtime: `workers` threads that take turns running whichever tasks are ready, and a
/// reactor that waits on every socket at once (epoll on Linux, kqueue on macOS, IOCP on
/// Windows) and wakes the tasks whose sockets are ready. What `#[tokio::main]` would build,
/// written out so that `--workers` can choose the number.
pub fn runtime(workers: usize) -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("tcp-async worker")
        .enable_io()
        .enable_time()
        .build()
}
// ANCHOR_END: runtime

/// `tcp-async server`: listen, serve until Ctrl-C or SIGTERM, then stop gently.
pub fn run(options: &Options, console: Console) -> anyhow::Result<()> {
    let addr = options.listen.resolve_one()?;
    let workers = options.worker_threads();
    let runtime = runtime(workers).context("starting the runtime")?;
    console.trace(format_args!("runtime with {workers} worker thread(s)"));
    runtime.block_on(async {
        let listener = listen(addr, console)?;
        let server = Server::new(options.clone(), console);
        // Listening for the signals before saying we listen: whoever reads the line may
        // already send one.
        let signals = Signals::new().context("listening for Ctrl-C and SIGTERM")?;
        tokio::spawn(signals.stop(Arc::clone(&server)));
        console.say(format_args!("listening on {}", listener.local_addr()?));
        server.serve(listener).await
    })?;
    // Tasks still running (none should be) are dropped without waiting for them.
    runtime.shutdown_background();
    Ok(())
}

/// Steps ① to ③, as in tcp-echo, with tokio's socket: a non-blocking socket registered with
/// the reactor. The caller prints `listening on ADDR` once it is ready for clients.
pub fn listen(addr: SocketAddr, console: Console) -> anyhow::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .context("creating a TCP socket")?;
    console.trace("socket(SOCK_STREAM)");
    #[cfg(not(windows))]
    socket.set_reuseaddr(true).context("setting SO_REUSEADDR")?;
    socket.bind(addr).map_err(|error| bind_error(addr, error))?;
    console.trace(format_args!("bind({addr})"));
    // A longer queue of not-yet-accepted connections than tcp-threaded's 128: ten thousand
    // clients may knock at once, and one thread drains the queue between other work.
    let listener = socket.listen(1024).context("listen(1024)")?;
    console.trace("listen(1024)");
    Ok(listener)
}

// ANCHOR: signals
/// Ctrl-C (SIGINT) and SIGTERM (`kill PID`); Ctrl-C and closing the console on Windows.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(windows)]
    ctrl_c: tokio::signal::windows::CtrlC,
    #[cfg(windows)]
    close: tokio::signal::windows::CtrlClose,
}

impl Signals {
    #[cfg(unix)]
    fn new() -> io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    #[cfg(windows)]
    fn new() -> io::Result<Signals> {
        Ok(Signals {
            ctrl_c: tokio::signal::windows::ctrl_c()?,
            close: tokio::signal::windows::ctrl_close()?,
        })
    }

    /// A task of its own: each signal that arrives calls `Server::stop`.
    async fn stop(mut self, server: Arc<Server>) {
        loop {
            #[cfg(unix)]
            tokio::select! {
                _ = self.interrupt.recv() => {}
                _ = self.terminate.recv() => {}
            }
            #[cfg(windows)]
            tokio::select! {
                _ = self.ctrl_c.recv() => {}
                _ = self.close.recv() => {}
            }
            server.stop();
        }
    }
}
// ANCHOR_END: signals

/// Where the server is in its life. Every task watches it (a `watch` channel: each receiver
/// sees the latest value), so one `send` reaches them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Serving,
    /// No new connections; connected clients may finish (the grace period).
    Stopping,
    /// Every task closes its connection now.
    Closing,
}

/// Resolves when the server tells every task to close its connection.
async fn closing(phase: &mut watch::Receiver<Phase>) {
    // An error means the server is gone: close as well.
    let _ = phase.wait_for(|phase| *phase == Phase::Closing).await;
}

/// How many clients are connected now, and how many have been served.
#[derive(Clone, Copy, Debug, Default)]
pub struct Connections {
    pub active: usize,
    pub served: u64,
}

/// A running server: its options, its count of connections, and its phase.
pub struct Server {
    options: Options,
    console: Console,
    /// At most `--max-connections` clients at once: each client's task holds a permit.
    permits: Arc<Semaphore>,
    /// The count, changed with `send_modify`, so that whoever waits for it is woken up.
    connections: watch::Sender<Connections>,
    phase: watch::Sender<Phase>,
    room: Room,
}

/// How a connection ended, for the line the server prints.
enum Ending {
    Closed,
    Idle,
    Stopping,
    Dropped,
    Failed(io::Error),
}

impl Server {
    pub fn new(options: Options, console: Console) -> Arc<Server> {
        Arc::new(Server {
            permits: Arc::new(Semaphore::new(options.max_connections as usize)),
            options,
            console,
            connections: watch::Sender::new(Connections::default()),
            phase: watch::Sender::new(Phase::Serving),
            room: Room::default(),
        })
    }

    // ANCHOR: accept_loop
    /// Step ④ in a loop: accept a client and spawn a task for it, until `stop`. Then wait for
    /// the connected clients (a grace period at most), and print the summary.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) -> anyhow::Result<()> {
        let mut phase = self.phase.subscribe();
        loop {
            // ④ accept().await: this task sleeps until a client connects or the server stops;
            // its worker thread runs other tasks meanwhile.
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = phase.wait_for(|phase| *phase != Phase::Serving) => break,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Such as too many open files: not a reason to stop serving, but a reason
                    // not to spin.
                    self.console
                        .say(format_args!("accept() failed: {error}; still listening"));
                    sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            self.console.trace(format_args!("accept() -> {peer}"));
            let Some((permit, membership)) = self.admit(peer) else {
                self.turn_away(stream);
                continue;
            };
            self.console
                .trace(format_args!("tokio::spawn() a task to serve {peer}"));
            // The task owns its connection and a handle on the server; spawning costs a small
            // allocation, not a thread.
            tokio::spawn(Arc::clone(&self).serve_client(stream, peer, permit, membership));
        }
        // ⑧ close() the listening socket: clients that connect now are refused.
        drop(listener);
        self.console.trace("close() the listening socket");
        self.finish().await;
        Ok(())
    }
    // ANCHOR_END: accept_loop

    // ANCHOR: admit
    /// Takes a permit for a new connection and counts it in (in a chat room, it is a member
    /// from the moment it is announced); `None` when `--max-connections` clients are connected.
    /// Tasks are cheap, but sockets, buffers and file descriptors are not: the limit stays.
    fn admit(&self, peer: SocketAddr) -> Option<(OwnedSemaphorePermit, Option<Membership>)> {
        let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() else {
            let active = self.connections.borrow().active;
            self.say(format_args!(
                "busy: turned {peer} away ({active} active, --max-connections {})",
                self.options.max_connections
            ));
            return None;
        };
        let membership = self.options.broadcast.then(|| self.room.join(peer));
        self.connections.send_modify(|connections| {
            connections.active += 1;
            connections.served += 1;
            self.event(connections, format_args!("connection from {peer}"));
        });
        Some((permit, membership))
    }
    // ANCHOR_END: admit

    // ANCHOR: client_task
    /// Everything that happens to one client, in the task that serves it.
    async fn serve_client(
        self: Arc<Self>,
        mut stream: TcpStream,
        peer: SocketAddr,
        permit: OwnedSemaphorePermit,
        membership: Option<Membership>,
    ) {
        // Each reply leaves at once (no Nagle delay), as in tcp-threaded.
        let ending = match stream.set_nodelay(true) {
            Err(error) => Ending::Failed(error),
            Ok(()) => {
                // Two halves of one socket, borrowed: one to read lines from, one to write to.
                let (reader, mut writer) = stream.split();
                let mut reader = BufReader::with_capacity(READ_BUFFER, reader);
                match membership {
                    Some(membership) => {
                        let ending = self.chat(&mut reader, &mut writer, peer, membership).await;
                        self.room.leave(peer);
                        ending
                    }
                    None => self.echo(&mut reader, &mut writer, peer).await,
                }
            }
        };
        // ⑦ close() this client's socket.
        drop(stream);
        self.console
            .trace(format_args!("close() the socket of {peer}"));
        let what = match ending {
            Ending::Closed => format!("{peer} closed the connection"),
            Ending::Idle => format!(
                "{peer} timed out: silent for {} s (--idle-timeout)",
                self.options.idle_timeout.as_secs_f64()
            ),
            Ending::Stopping => format!("closed {peer}: the server is stopping"),
            Ending::Dropped => format!(
                "dropped {peer}: not reading, {} lines waiting for it",
                room::QUEUE
            ),
            Ending::Failed(error) => format!("connection with {peer} failed: {error}"),
        };
        self.connections.send_modify(|connections| {
            // The permit goes back as the count goes down, so the two always agree.
            drop(permit);
            connections.active -= 1;
            self.event(connections, what);
        });
    }
    // ANCHOR_END: client_task

    // ANCHOR: echo
    /// Steps ⑤ and ⑥ until the client leaves: read a line, answer it. Ends the connection when
    /// it has been silent for `--idle-timeout`, or when the server closes every connection.
    async fn echo(
        &self,
        reader: &mut BufReader<ReadHalf<'_>>,
        writer: &mut WriteHalf<'_>,
        peer: SocketAddr,
    ) -> Ending {
        let mut phase = self.phase.subscribe();
        let mut line = Vec::new();
        let mut last_heard = Instant::now();
        loop {
            // ⑤ recv, with a timeout around it (see `wake_up_at`). `biased`: the branches are
            // tried in this order, so a line that has already arrived is handled without even
            // looking at the phase.
            let wake_up = self.wake_up_at(&line, last_heard);
            let received = tokio::select! {
                biased;
                received = timeout_at(wake_up, self.read_line(reader, &mut line, peer)) => received,
                () = closing(&mut phase) => return Ending::Stopping,
            };
            match received {
                // The timeout cancelled the read; what it had read is in `line`.
                Err(_silence) => {
                    if !line.is_empty() {
                        let message = std::mem::take(&mut line);
                        if let Err(ending) = self.answer(writer, peer, &message).await {
                            return ending;
                        }
                    }
                    if last_heard.elapsed() >= self.options.idle_timeout {
                        return Ending::Idle;
                    }
                }
                Ok(Err(error)) => return Ending::Failed(error),
                // recv returned 0: the client closed its end.
                Ok(Ok(0)) => {
                    if !line.is_empty()
                        && let Err(ending) = self.answer(writer, peer, &line).await
                    {
                        return ending;
                    }
                    return Ending::Closed;
                }
                Ok(Ok(_)) => {
                    last_heard = Instant::now();
                    if is_complete(&line, MAX_LINE) {
                        let message = std::mem::take(&mut line);
                        if let Err(ending) = self.answer(writer, peer, &message).await {
                            return ending;
                        }
                    }
                }
            }
        }
    }
    // ANCHOR_END: echo

    // ANCHOR: wake_up_at
    /// When a read with nothing to show must give up: after a short silence if half a message
    /// is waiting (it is complete then: the seeds' clients send no newline), otherwise when the
    /// client has been silent for `--idle-timeout`. Ten thousand silent clients are ten
    /// thousand sleeping tasks, not ten thousand timers firing four times a second.
    fn wake_up_at(&self, line: &[u8], last_heard: Instant) -> Instant {
        let idle = last_heard + self.options.idle_timeout;
        if line.is_empty() {
            idle
        } else {
            idle.min(Instant::now() + SILENCE)
        }
    }
    // ANCHOR_END: wake_up_at

    /// One line from this client, traced as the socket calls that fetch it.
    async fn read_line(
        &self,
        reader: &mut BufReader<ReadHalf<'_>>,
        line: &mut Vec<u8>,
        peer: SocketAddr,
    ) -> io::Result<usize> {
        read_line(reader, line, MAX_LINE, |received| {
            self.console.trace(format_args!(
                "recv({READ_BUFFER}) -> {received} bytes from {peer}"
            ));
        })
        .await
    }

    /// Prints one message and sends the reply (⑥): the echo, or the echo in upper case.
    async fn answer(
        &self,
        writer: &mut WriteHalf<'_>,
        peer: SocketAddr,
        message: &[u8],
    ) -> Result<(), Ending> {
        self.say_received(peer, message);
        if let Some(how) = self.options.sleep_command
            && let Some(duration) = sleep_request(message)
        {
            sleep_in_task(how, duration).await;
        }
        let reply: Cow<[u8]> = if self.options.upper {
            self.options.encoding.encoding.upper_case(message)
        } else {
            Cow::Borrowed(message)
        };
        self.send(writer, peer, &reply, None).await
    }

    // ANCHOR: send
    /// ⑥ sendall(), bounded: a client that reads nothing cannot hold this task for longer than
    /// `--write-timeout`, and the server's closing (or the room dropping the client) ends the
    /// wait at once.
    async fn send(
        &self,
        writer: &mut WriteHalf<'_>,
        peer: SocketAddr,
        bytes: &[u8],
        kicked: Option<&Notify>,
    ) -> Result<(), Ending> {
        let mut phase = self.phase.subscribe();
        let write_timeout = self.options.write_timeout.write_timeout;
        let kicked = async {
            match kicked {
                Some(kicked) => kicked.notified().await,
                None => future::pending().await,
            }
        };
        let written = tokio::select! {
            biased;
            written = timeout(write_timeout, writer.write_all(bytes)) => written,
            () = closing(&mut phase) => return Err(Ending::Stopping),
            () = kicked => return Err(Ending::Dropped),
        };
        match written {
            Ok(Ok(())) => {
                self.console
                    .trace(format_args!("sendall({} bytes) to {peer}", bytes.len()));
                Ok(())
            }
            Ok(Err(error)) => Err(Ending::Failed(error)),
            Err(_elapsed) => Err(Ending::Failed(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the client stopped reading: nothing could be sent for {} s (--write-timeout)",
                    write_timeout.as_secs_f64()
                ),
            ))),
        }
    }
    // ANCHOR_END: send

    // ANCHOR: chat
    /// `--broadcast`: one task per client waits for whichever comes first — a line from its
    /// client (to say to the room), a line from the room (to write to its client), the room
    /// dropping it, or the server closing.
    async fn chat(
        &self,
        reader: &mut BufReader<ReadHalf<'_>>,
        writer: &mut WriteHalf<'_>,
        peer: SocketAddr,
        membership: Membership,
    ) -> Ending {
        let Membership { mut queue, kicked } = membership;
        let encoding = self.options.encoding.encoding;
        let mut phase = self.phase.subscribe();
        let mut line = Vec::new();
        let mut last_heard = Instant::now();
        loop {
            // When another branch wins, the read is cancelled halfway: `read_line` is safe to
            // cancel, and the half-read line waits in `line` for the next turn.
            let wake_up = self.wake_up_at(&line, last_heard);
            tokio::select! {
                received = timeout_at(wake_up, self.read_line(reader, &mut line, peer)) => {
                    match received {
                        Err(_silence) => {
                            if !line.is_empty() {
                                self.speak(peer, &std::mem::take(&mut line), encoding).await;
                            }
                            if last_heard.elapsed() >= self.options.idle_timeout {
                                return Ending::Idle;
                            }
                        }
                        Ok(Err(error)) => return Ending::Failed(error),
                        Ok(Ok(0)) => {
                            if !line.is_empty() {
                                self.speak(peer, &line, encoding).await;
                            }
                            return Ending::Closed;
                        }
                        Ok(Ok(_)) => {
                            last_heard = Instant::now();
                            if is_complete(&line, MAX_LINE) {
                                self.speak(peer, &std::mem::take(&mut line), encoding).await;
                            }
                        }
                    }
                }
                Some(message) = queue.recv() => {
                    if let Err(ending) =
                        self.send(writer, peer, &message, Some(&kicked)).await
                    {
                        return ending;
                    }
                    // A client that listens is not idle either.
                    last_heard = Instant::now();
                }
                () = kicked.notified() => return Ending::Dropped,
                () = closing(&mut phase) => return Ending::Stopping,
            }
        }
    }
    // ANCHOR_END: chat

    /// A chat line: printed, then queued for everyone else.
    async fn speak(&self, peer: SocketAddr, line: &[u8], encoding: Encoding) {
        self.say_received(peer, line);
        self.room.broadcast(peer, line, encoding).await;
    }

    // ANCHOR: stop
    /// What Ctrl-C and SIGTERM do. The first time: accept no more clients, and give the
    /// connected ones `--grace` seconds to finish. The second time: close them now.
    pub fn stop(&self) {
        let active = self.connections.borrow().active;
        let next = if *self.phase.borrow() != Phase::Serving {
            self.console.say(format_args!(
                "closing the remaining {active} connection(s) now"
            ));
            Phase::Closing
        } else if active == 0 {
            self.console.say("stopping: no new connections");
            Phase::Closing
        } else {
            self.console.say(format_args!(
                "stopping: no new connections; {active} connected client(s) have {} s to finish (Ctrl-C again to close them now)",
                self.options.grace.as_secs_f64()
            ));
            Phase::Stopping
        };
        // Every task that watches the phase wakes up and looks.
        self.phase.send_replace(next);
    }

    /// After the accept loop: wait until every client has left — for the grace period at
    /// most, then tell the remaining tasks to close — and say how many were served.
    async fn finish(&self) {
        let mut connections = self.connections.subscribe();
        let everyone_left = connections.wait_for(|connections| connections.active == 0);
        if timeout(self.options.grace, everyone_left).await.is_err() {
            self.phase.send_replace(Phase::Closing);
        }
        let _ = connections
            .wait_for(|connections| connections.active == 0)
            .await;
        let served = self.connections.borrow().served;
        let plural = if served == 1 { "" } else { "s" };
        self.console
            .say(format_args!("served {served} connection{plural}"));
    }
    // ANCHOR_END: stop

    /// Waits until `count` clients are connected, for at most `limit`.
    pub async fn wait_for_active(&self, count: usize, limit: Duration) -> bool {
        let mut connections = self.connections.subscribe();
        let reached = connections.wait_for(|connections| connections.active == count);
        matches!(timeout(limit, reached).await, Ok(Ok(_)))
    }

    /// A line about one connection, with the number of clients connected now.
    fn event(&self, connections: &Connections, what: impl Display) {
        self.say(format_args!("{what} ({} active)", connections.active));
    }

    /// `received from PEER: TEXT`, decoded only when it is printed.
    fn say_received(&self, peer: SocketAddr, message: &[u8]) {
        if !self.options.quiet {
            let text = self.options.encoding.encoding.display(message);
            self.say(format_args!("received from {peer}: {text}"));
        }
    }

    // ANCHOR: say
    /// A line on stdout, unless `--quiet`. Writing to stdout is a blocking call too: when
    /// whoever reads our output (a terminal, a pipe) is slower than we print, `write` waits —
    /// and so would every task on this worker thread. `block_in_place` tells the runtime that
    /// this thread may block: it hands this worker's other tasks to another thread meanwhile.
    fn say(&self, line: impl Display) {
        if !self.options.quiet {
            tokio::task::block_in_place(|| self.console.say(line));
        }
    }
    // ANCHOR_END: say

    /// Sends `busy` and closes, in a task of its own, so that the accept loop never waits.
    /// A client may have sent a line before it was turned away, and closing a socket with
    /// unread data sends a reset that can destroy the busy line before the client reads it.
    /// So: send, shut down our sending half, and read what the client sends until it closes
    /// too (2 s at most).
    fn turn_away(&self, mut stream: TcpStream) {
        let encoding = self.options.encoding.encoding;
        let mut busy = encoding
            .encode(BUSY)
            .unwrap_or_else(|_| BUSY.as_bytes().to_vec());
        busy.push(b'\n');
        let taken = TURNING_AWAY.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < MAX_TURNING_AWAY).then_some(n + 1)
        });
        tokio::spawn(async move {
            let _ = timeout(Duration::from_secs(1), stream.write_all(&busy)).await;
            let _ = stream.shutdown().await;
            if taken.is_ok() {
                let drain = async {
                    let mut sink = [0u8; 1024];
                    while let Ok(1..) = stream.read(&mut sink).await {}
                };
                let _ = timeout(Duration::from_secs(2), drain).await;
                TURNING_AWAY.fetch_sub(1, Ordering::AcqRel);
            }
        });
    }
}

/// How many turned-away clients may be drained at once; past that they are closed at once.
const MAX_TURNING_AWAY: usize = 256;
static TURNING_AWAY: AtomicUsize = AtomicUsize::new(0);

/// `sleep MS` (with `--sleep-command`): how long to sleep; `None` for any other line.
fn sleep_request(message: &[u8]) -> Option<Duration> {
    let text = std::str::from_utf8(message).ok()?.trim_end();
    let milliseconds: u64 = text.strip_prefix("sleep ")?.trim().parse().ok()?;
    (milliseconds <= MAX_SLEEP_MS).then(|| Duration::from_millis(milliseconds))
}

// ANCHOR: blocking_call
/// Sleeps as `--sleep-command` says: a stand-in for any call that blocks a thread — reading a
/// big file with `std::fs`, a synchronous database driver, heavy computation.
async fn sleep_in_task(how: SleepHow, duration: Duration) {
    match how {
        // The mistake: a blocking call inside a task. No `.await`, so the task never gives its
        // worker thread back: every other task on that worker waits, ready or not. (The
        // `yield_now` first puts this task back on a worker: printing the line went through
        // `block_in_place`, which may have handed the worker's other tasks to another thread
        // until this task's next `.await` — and then the mistake would hide.)
        SleepHow::Blocking => {
            tokio::task::yield_now().await;
            std::thread::sleep(duration);
        }
        // The fix: the blocking call runs on one of tokio's threads for blocking work; this
        // task `.await`s its end and, meanwhile, its worker runs the other tasks.
        SleepHow::SpawnBlocking => {
            let _ = tokio::task::spawn_blocking(move || std::thread::sleep(duration)).await;
        }
    }
}
// ANCHOR_END: blocking_call

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleep_commands_are_bounded_and_nothing_else_sleeps() {
        assert_eq!(
            sleep_request(b"sleep 250\n"),
            Some(Duration::from_millis(250))
        );
        assert_eq!(sleep_request(b"sleep 10001\n"), None);
        assert_eq!(sleep_request(b"sleep soon\n"), None);
        assert_eq!(sleep_request(b"hello\n"), None);
        assert_eq!(sleep_request(&[0xff, b'\n']), None);
    }
}
