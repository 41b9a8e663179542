//! `tcp-async demo`: first a hundred clients at once against a server with one worker thread;
//! then the mistake async code makes, measured: a blocking call in one task stalls another
//! client, and `spawn_blocking` does not; then a three-client chat room. Everything runs in this
//! process, on ports the OS chooses: each server on a runtime of its own, the clients as tasks
//! of the demo's runtime. Each line says who printed it.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use common::cli::TraceArg;
use common::{Addr, Console};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep, timeout};

use crate::options::{self, SleepHow};
use crate::server::{self, Server};

/// How many clients part 1 starts at once. (The benchmark goes to ten thousand; a hundred
/// stays within every system's default limit of open files.)
pub const CLIENTS: usize = 100;

/// Part 2: how long client A's line makes its task sleep, and when client B speaks.
pub const SLEEP: Duration = Duration::from_millis(500);
pub const B_SPEAKS_AFTER: Duration = Duration::from_millis(100);

/// Every wait in the demo ends by then, whatever happens.
const DEADLINE: Duration = Duration::from_secs(10);

/// `tcp-async demo`.
#[derive(Args, Clone, Debug)]
pub struct Options {
    #[command(flatten)]
    pub trace: TraceArg,
}

/// The demo's clients are tasks on a one-thread runtime of their own.
pub fn run(options: &Options) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .context("starting the demo's runtime")?;
    runtime.block_on(demo(options.trace.trace))
}

async fn demo(trace: bool) -> anyhow::Result<()> {
    let demo = Console::new(trace).with_prefix("[demo] ");
    demo.say(format_args!(
        "1. {CLIENTS} clients connect at once to a server with one worker thread; each sends a line and waits for its echo"
    ));
    crowd(demo, trace).await?;

    demo.say(format_args!(
        "2. one worker thread; client A sends `sleep {}`, client B sends a line {} ms later",
        SLEEP.as_millis(),
        B_SPEAKS_AFTER.as_millis()
    ));
    demo.say("--sleep-command blocking: std::thread::sleep inside A's task (the mistake)");
    let (_, stalled) = blocking_call(SleepHow::Blocking, demo, trace).await?;
    demo.say(
        "--sleep-command spawn-blocking: the same sleep on tokio's blocking threads (the fix)",
    );
    let (_, unstalled) = blocking_call(SleepHow::SpawnBlocking, demo, trace).await?;
    demo.say(format_args!(
        "B waited {} ms behind A's blocking sleep, {} ms with spawn_blocking",
        stalled.as_millis(),
        unstalled.as_millis()
    ));

    demo.say("3. a chat room (--broadcast): each line goes to the two other clients");
    chat(trace).await
}

/// A server running on a thread and a runtime of its own.
struct Running {
    server: Arc<Server>,
    addr: SocketAddr,
    done: oneshot::Receiver<anyhow::Result<()>>,
}

/// Starts a server on 127.0.0.1:0 with the options `configure` makes of its address, its
/// runtime on a thread of its own.
async fn start(
    configure: impl FnOnce(Addr) -> options::Options + Send + 'static,
    trace: bool,
) -> anyhow::Result<Running> {
    let console = Console::new(trace).with_prefix("[server] ");
    let (started, starting) = oneshot::channel();
    let (finished, done) = oneshot::channel();
    std::thread::Builder::new()
        .name("demo server".into())
        .spawn(move || {
            let options = configure(Addr::from_socket_addr(SocketAddr::from((
                Ipv4Addr::LOCALHOST,
                0,
            ))));
            let result = (|| {
                let runtime = server::runtime(options.worker_threads())?;
                let result = runtime.block_on(async {
                    let addr = options.listen.resolve_one()?;
                    let listener = server::listen(addr, console)?;
                    let addr = listener.local_addr()?;
                    let server = Server::new(options, console);
                    console.say(format_args!("listening on {addr}"));
                    let _ = started.send((Arc::clone(&server), addr));
                    server.serve(listener).await
                });
                runtime.shutdown_background();
                result
            })();
            let _ = finished.send(result);
        })
        .context("starting the server's thread")?;
    let (server, addr) = timeout(DEADLINE, starting)
        .await
        .context("the server did not start in time")?
        .context("the server could not start")?;
    Ok(Running { server, addr, done })
}

impl Running {
    /// Stops the server as Ctrl-C would, and waits for its summary.
    async fn stop(self) -> anyhow::Result<()> {
        // The clients have closed; let the server see every close before it is stopped.
        if !self.server.wait_for_active(0, DEADLINE).await {
            bail!("the server did not notice the clients leaving");
        }
        self.server.stop();
        timeout(DEADLINE, self.done)
            .await
            .context("the server did not stop in time")?
            .context("the server's thread ended early")?
    }
}

/// Connects, with the demo's deadline.
async fn connect(addr: SocketAddr) -> anyhow::Result<TcpStream> {
    Ok(timeout(DEADLINE, TcpStream::connect(addr)).await??)
}

/// Sends `line` and waits for one line back; returns how long that took.
async fn ask(stream: &mut TcpStream, line: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let (reader, mut writer) = stream.split();
    writer.write_all(format!("{line}\n").as_bytes()).await?;
    let mut echo = String::new();
    timeout(DEADLINE, BufReader::new(reader).read_line(&mut echo))
        .await
        .with_context(|| format!("no echo of {line:?} in time"))??;
    if echo.trim_end() != line {
        bail!("sent {line:?}, got {echo:?} back");
    }
    Ok(started.elapsed())
}

// ANCHOR: crowd
/// Part 1: `CLIENTS` tasks connect at once, each sends a line and waits for its echo; all stay
/// connected until every echo is back, so the server holds them all at the same time.
async fn crowd(demo: Console, trace: bool) -> anyhow::Result<()> {
    let running = start(
        |listen| options::Options {
            workers: Some(1),
            // A hundred clients' lines would interleave differently on every run.
            quiet: true,
            ..options::Options::new(listen)
        },
        trace,
    )
    .await?;
    let started = Instant::now();
    let (echoed, mut echoes) = mpsc::channel(CLIENTS);
    let (leave, may_leave) = tokio::sync::watch::channel(false);
    for number in 1..=CLIENTS {
        let (echoed, mut may_leave) = (echoed.clone(), may_leave.clone());
        let addr = running.addr;
        tokio::spawn(async move {
            let asked = async {
                let mut stream = connect(addr).await?;
                ask(&mut stream, &format!("hello from client {number}")).await?;
                anyhow::Ok(stream)
            };
            match asked.await {
                Ok(stream) => {
                    let _ = echoed.send(Ok(())).await;
                    // Connected until every client has had its echo.
                    let _ = may_leave.wait_for(|leave| *leave).await;
                    drop(stream);
                }
                Err(error) => {
                    let _ = echoed.send(Err(error)).await;
                }
            }
        });
    }
    for _ in 0..CLIENTS {
        match timeout(DEADLINE, echoes.recv()).await {
            Ok(Some(Ok(()))) => {}
            Ok(Some(Err(error))) => return Err(error.context("a client failed")),
            _ => bail!("the clients did not all get their echo in time"),
        }
    }
    let elapsed = started.elapsed();
    if !running.server.wait_for_active(CLIENTS, DEADLINE).await {
        bail!("the server never had all {CLIENTS} clients at once");
    }
    demo.say(format_args!(
        "  all {CLIENTS} echoed after {:.2} s, all {CLIENTS} connected at once: {CLIENTS} tasks, 1 worker thread",
        elapsed.as_secs_f64(),
    ));
    let _ = leave.send(true);
    running.stop().await
}
// ANCHOR_END: crowd

// ANCHOR: blocking_demo
/// Part 2: A's `sleep` line, then B's line; returns how long A and B waited for their echoes.
async fn blocking_call(
    how: SleepHow,
    demo: Console,
    trace: bool,
) -> anyhow::Result<(Duration, Duration)> {
    let running = start(
        move |listen| options::Options {
            workers: Some(1),
            sleep_command: Some(how),
            quiet: true,
            ..options::Options::new(listen)
        },
        trace,
    )
    .await?;
    let mut a = connect(running.addr).await?;
    let mut b = connect(running.addr).await?;
    let a_asks = tokio::spawn(async move {
        let waited = ask(&mut a, &format!("sleep {}", SLEEP.as_millis())).await;
        (a, waited)
    });
    sleep(B_SPEAKS_AFTER).await;
    let b_waited = ask(&mut b, "hello from B").await?;
    let (a, a_waited) = a_asks.await.context("client A's task")?;
    let a_waited = a_waited?;
    demo.say(format_args!(
        "  A's echo after {} ms, B's after {} ms",
        a_waited.as_millis(),
        b_waited.as_millis()
    ));
    drop((a, b));
    running.stop().await?;
    Ok((a_waited, b_waited))
}
// ANCHOR_END: blocking_demo

/// The chat room's three clients.
const NAMES: [&str; 3] = ["[alice] ", "[bob] ", "[carol] "];

/// Who says what, in order.
const CONVERSATION: [(usize, &str); 3] = [
    (0, "hello, everyone"),
    (1, "你好，爱丽丝"),
    (2, "bye for now"),
];

/// Part 3: three clients join one by one, take turns speaking, and leave one by one.
async fn chat(trace: bool) -> anyhow::Result<()> {
    let running = start(
        |listen| options::Options {
            broadcast: true,
            ..options::Options::new(listen)
        },
        trace,
    )
    .await?;
    let (heard, mut hearing) = mpsc::channel(16);
    let mut clients = Vec::new();
    for (index, name) in NAMES.into_iter().enumerate() {
        let console = Console::new(trace).with_prefix(name);
        let stream = connect(running.addr).await?;
        console.say(format_args!("connected from {}", stream.local_addr()?));
        // The server's line about this client comes before the next one connects.
        if !running.server.wait_for_active(index + 1, DEADLINE).await {
            bail!("the server did not accept {name}in time");
        }
        let (reader, writer) = stream.into_split();
        // Each client's receiving task prints what arrives, as `tcp-async client` does.
        let heard = heard.clone();
        let receiver = tokio::spawn(async move {
            let mut lines = BufReader::new(reader).lines();
            while let Some(line) = lines.next_line().await? {
                console.say(format_args!("received: {line}"));
                let _ = heard.send(index).await;
            }
            anyhow::Ok(())
        });
        clients.push((writer, console, receiver));
    }

    for (speaker, text) in CONVERSATION {
        let (writer, console, _) = &mut clients[speaker];
        console.say(format_args!("sent: {text}"));
        writer.write_all(format!("{text}\n").as_bytes()).await?;
        // Everyone else hears it before the next one speaks.
        for _ in 1..NAMES.len() {
            if !matches!(timeout(DEADLINE, hearing.recv()).await, Ok(Some(_))) {
                bail!("a client did not receive {text:?} in time");
            }
        }
    }

    let mut still_here = NAMES.len();
    for (mut writer, console, receiver) in clients {
        console.say("closing the connection");
        writer.shutdown().await?;
        still_here -= 1;
        if !running.server.wait_for_active(still_here, DEADLINE).await {
            bail!("the server did not notice a client leaving");
        }
        timeout(DEADLINE, receiver)
            .await
            .context("a client's receiving task did not end")?
            .context("a client's receiving task")??;
    }
    running.stop().await
}
