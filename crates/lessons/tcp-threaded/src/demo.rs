//! `tcp-threaded demo`: first the same five clients against one thread that serves them one after
//! another and against a thread per connection, timed; then seed 002's "concurrent" server as it
//! really is; then a three-client chat room. Everything runs in this process, on ports the OS
//! chooses; each line says who printed it.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use common::cli::TraceArg;
use common::{Addr, Console, Encoding};

use crate::client;
use crate::options;
use crate::server::{self, Server};

/// How many clients the timed runs start at once.
pub const CLIENTS: usize = 5;

/// How long each client keeps its connection after its echo: long enough to see who waits.
pub const HOLD: Duration = Duration::from_millis(200);

/// Every wait in the demo ends by then, whatever happens.
const DEADLINE: Duration = Duration::from_secs(10);

/// How long part 2 waits for an answer that seed 002's server does not give.
const NO_ANSWER: Duration = Duration::from_millis(500);

/// `tcp-threaded demo`.
#[derive(Args, Clone, Debug)]
pub struct Options {
    #[command(flatten)]
    pub trace: TraceArg,
}

/// Parts 1, 2 and 3.
pub fn run(options: &Options) -> anyhow::Result<()> {
    let trace = options.trace.trace;
    let demo = Console::new(trace).with_prefix("[demo] ");

    demo.say(format_args!(
        "1. {CLIENTS} clients connect at once; each sends a line, waits for its echo, stays {} ms, and leaves",
        HOLD.as_millis()
    ));
    demo.say("one thread accepts the clients and serves each until it leaves (--sequential, as tcp-echo does)");
    let sequential = timed_run(true, demo, trace)?;
    demo.say("one thread per connection (seed 000, done right)");
    let threaded = timed_run(false, demo, trace)?;
    demo.say(format_args!(
        "one thread per connection served them {:.1} times faster",
        sequential.as_secs_f64() / threaded.as_secs_f64()
    ));

    demo.say(
        "2. seed 002's \"concurrent\" server (--seed-002): one thread, one recv and one reply per client",
    );
    seed_002(trace)?;

    demo.say("3. a chat room (--broadcast): each line goes to the two other clients");
    chat(trace)
}

/// A server and a listener on 127.0.0.1:0, the server accepting on its own thread; `configure`
/// turns the address into the server's options.
fn start(
    configure: impl FnOnce(Addr) -> options::Options,
    trace: bool,
) -> anyhow::Result<(Arc<Server>, SocketAddr, JoinHandle<anyhow::Result<()>>)> {
    let console = Console::new(trace).with_prefix("[server] ");
    let listener: TcpListener =
        server::listen(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), console)?;
    let addr = listener.local_addr()?;
    let server = Server::new(&listener, configure(Addr::from_socket_addr(addr)), console)?;
    console.say(format_args!("listening on {addr}"));
    let serving = Arc::clone(&server);
    let thread = thread::spawn(move || serving.serve(listener));
    Ok((server, addr, thread))
}

/// Stops a server as Ctrl-C would, and waits for its summary.
fn stop(server: &Arc<Server>, thread: JoinHandle<anyhow::Result<()>>) -> anyhow::Result<()> {
    server.stop();
    thread
        .join()
        .map_err(|_| anyhow::anyhow!("the server thread panicked"))?
}

// ANCHOR: timed_run
/// Five clients at once against one server; prints when each got its echo and the total.
fn timed_run(sequential: bool, demo: Console, trace: bool) -> anyhow::Result<Duration> {
    let (server, addr, thread) = start(
        |listen| options::Options {
            sequential,
            // The clients' lines would interleave differently on every run: the times say it.
            quiet: true,
            ..options::Options::new(listen)
        },
        trace,
    )?;
    let started = Instant::now();
    let clients: Vec<_> = (1..=CLIENTS)
        .map(|number| thread::spawn(move || one_client(addr, number, started)))
        .collect();
    let mut echoes = Vec::new();
    for client in clients {
        let echo = client
            .join()
            .map_err(|_| anyhow::anyhow!("a client thread panicked"))??;
        echoes.push(echo);
    }
    let elapsed = started.elapsed();
    echoes.sort();
    let echoes: Vec<String> = echoes
        .iter()
        .map(|echo| format!("{:.2}", echo.as_secs_f64()))
        .collect();
    demo.say(format_args!("  echoes after {} s", echoes.join(", ")));
    demo.say(format_args!(
        "  all {CLIENTS} done after {:.2} s",
        elapsed.as_secs_f64()
    ));
    // The clients have closed; let the server see every close before it is stopped.
    if !server.wait_for_active(0, DEADLINE) {
        bail!("the server did not notice the clients leaving");
    }
    stop(&server, thread)?;
    Ok(elapsed)
}

/// One client of the timed runs: connect, send a line, wait for the echo, stay, leave.
/// Returns how long after the start the echo came.
fn one_client(addr: SocketAddr, number: usize, started: Instant) -> anyhow::Result<Duration> {
    let stream = TcpStream::connect_timeout(&addr, DEADLINE)?;
    stream.set_read_timeout(Some(DEADLINE))?;
    stream.set_write_timeout(Some(DEADLINE))?;
    (&stream).write_all(format!("hello from client {number}\n").as_bytes())?;
    let mut echo = String::new();
    BufReader::new(&stream)
        .read_line(&mut echo)
        .with_context(|| format!("client {number} waiting for its echo"))?;
    let arrived = started.elapsed();
    thread::sleep(HOLD);
    Ok(arrived)
}
// ANCHOR_END: timed_run

// ANCHOR: seed_002
/// Part 2: alice connects and says nothing; bob talks; then alice talks; then bob again.
fn seed_002(trace: bool) -> anyhow::Result<()> {
    let (server, addr, thread) = start(
        |listen| options::Options {
            seed_002: true,
            ..options::Options::new(listen)
        },
        trace,
    )?;
    let mut alice = Talker::connect(addr, "[alice] ", trace)?;
    alice.console.say("connected, says nothing yet");
    if !server.wait_for_active(1, DEADLINE) {
        bail!("the server did not accept alice in time");
    }
    let mut bob = Talker::connect(addr, "[bob] ", trace)?;
    bob.send("hello")?;
    bob.no_answer("the server's one thread is waiting in alice's recv")?;
    alice.send("now")?;
    alice.answer()?;
    // Alice answered: the thread went back to accept(), and bob is served at last.
    bob.answer()?;
    bob.send("and again")?;
    bob.no_answer("seed 002 answers each client once")?;
    // Bob's accept() closed alice's socket.
    alice.closed()?;
    stop(&server, thread)
}

/// A client of part 2: its connection, a reader for the answers, and who it is.
struct Talker {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
    console: Console,
}

impl Talker {
    fn connect(addr: SocketAddr, name: &'static str, trace: bool) -> anyhow::Result<Talker> {
        let stream = TcpStream::connect_timeout(&addr, DEADLINE)?;
        stream.set_write_timeout(Some(DEADLINE))?;
        let reader = BufReader::new(stream.try_clone()?);
        let console = Console::new(trace).with_prefix(name);
        Ok(Talker {
            stream,
            reader,
            console,
        })
    }

    fn send(&mut self, text: &str) -> anyhow::Result<()> {
        self.console.say(format_args!("sent: {text}"));
        Ok((&self.stream).write_all(format!("{text}\n").as_bytes())?)
    }

    /// The next line, within `wait`; `None` if it did not come.
    fn line(&mut self, wait: Duration) -> anyhow::Result<Option<String>> {
        self.stream.set_read_timeout(Some(wait))?;
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(_) => Ok(Some(line.trim_end().to_owned())),
            Err(error) if common::net::is_timeout(&error) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    fn answer(&mut self) -> anyhow::Result<()> {
        match self.line(DEADLINE)? {
            Some(line) if !line.is_empty() => {
                self.console.say(format_args!("received: {line}"));
                Ok(())
            }
            _ => bail!("no answer in time"),
        }
    }

    fn no_answer(&mut self, why: &str) -> anyhow::Result<()> {
        if let Some(line) = self.line(NO_ANSWER)? {
            bail!("an answer that seed 002 would not give: {line:?}");
        }
        self.console.say(format_args!(
            "no answer after {:.1} s: {why}",
            NO_ANSWER.as_secs_f64()
        ));
        Ok(())
    }

    fn closed(&mut self) -> anyhow::Result<()> {
        match self.line(DEADLINE)? {
            Some(line) if line.is_empty() => {
                self.console.say("the server closed the connection");
                Ok(())
            }
            _ => bail!("the connection was not closed"),
        }
    }
}
// ANCHOR_END: seed_002

/// The chat room's three clients.
const NAMES: [&str; 3] = ["[alice] ", "[bob] ", "[carol] "];

/// Who says what, in order.
const CONVERSATION: [(usize, &str); 3] = [
    (0, "hello, everyone"),
    (1, "你好，爱丽丝"),
    (2, "bye for now"),
];

/// Part 2: three clients join one by one, take turns speaking, and leave one by one.
fn chat(trace: bool) -> anyhow::Result<()> {
    let (server, addr, thread) = start(
        |listen| options::Options {
            broadcast: true,
            ..options::Options::new(listen)
        },
        trace,
    )?;
    let (heard, hearing) = mpsc::channel();
    let mut clients = Vec::new();
    for (index, name) in NAMES.into_iter().enumerate() {
        let console = Console::new(trace).with_prefix(name);
        let stream = TcpStream::connect_timeout(&addr, DEADLINE)?;
        stream.set_write_timeout(Some(DEADLINE))?;
        console.say(format_args!("connected from {}", stream.local_addr()?));
        // The server's line about this client comes before the next one connects.
        if !server.wait_for_active(index + 1, DEADLINE) {
            bail!("the server did not accept {name}in time");
        }
        // Each client's receive thread, as in `tcp-threaded client`.
        let receiving = stream.try_clone()?;
        let heard = heard.clone();
        let receiver = thread::spawn(move || {
            client::receive(&receiving, Encoding::UTF_8, console, false, || {
                let _ = heard.send(index);
            })
        });
        clients.push((stream, console, receiver));
    }

    for (speaker, text) in CONVERSATION {
        let (stream, console, _) = &clients[speaker];
        console.say(format_args!("sent: {text}"));
        let mut stream: &TcpStream = stream;
        stream.write_all(format!("{text}\n").as_bytes())?;
        // Everyone else hears it before the next one speaks.
        for _ in 1..NAMES.len() {
            if hearing.recv_timeout(DEADLINE).is_err() {
                bail!("a client did not receive {text:?} in time");
            }
        }
    }

    let mut still_here = NAMES.len();
    for (stream, console, receiver) in clients {
        console.say("closing the connection");
        stream.shutdown(Shutdown::Write)?;
        still_here -= 1;
        if !server.wait_for_active(still_here, DEADLINE) {
            bail!("the server did not notice a client leaving");
        }
        receiver
            .join()
            .map_err(|_| anyhow::anyhow!("a receive thread panicked"))?
            .context("receiving")?;
    }
    stop(&server, thread)
}
