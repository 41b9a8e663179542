//! The async client: tcp-threaded's client without its receive thread. One task waits for
//! whichever comes first — a line you type, or bytes from the server — with `tokio::select!`,
//! so that what arrives is printed while you type. Steps: ① socket and ② connect, ③ send each
//! line, ④ recv whenever the server sends, ⑤ close.

use std::io::{self, IsTerminal};
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use common::cli::{EncodingArg, TraceArg, parse_seconds};
use common::framing::SILENCE;
use common::net::connect_error;
use common::{Addr, Console};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines, Stdin};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep_until, timeout};

use crate::lines::{is_complete, read_line};

/// The longest line printed as one; a longer one is printed in pieces.
const MAX_LINE: usize = 1024 * 1024;

/// `tcp-async client`: where to connect and what to send.
#[derive(Args, Clone, Debug)]
pub struct Options {
    /// The server: HOST:PORT, [IPV6]:PORT or PORT
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9999")]
    pub connect: Addr,

    /// Send this message instead of reading lines from stdin (repeat it to send several)
    #[arg(long = "message", value_name = "TEXT")]
    pub messages: Vec<String>,

    /// Seconds to wait for the connection, and for the server to finish after the end of input
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = parse_seconds)]
    pub timeout: Duration,

    #[command(flatten)]
    pub encoding: EncodingArg,

    #[command(flatten)]
    pub trace: TraceArg,
}

/// `tcp-async client`: one task on a one-thread runtime is all a client needs.
pub fn run(options: &Options, console: Console) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .context("starting the runtime")?;
    let result = runtime.block_on(talk(options, console));
    // tokio reads stdin on a thread of its own, which may still be waiting for a line nobody
    // will type: do not wait for it.
    runtime.shutdown_background();
    result
}

/// Where the lines to send come from: the `--message` options, or stdin.
enum Input<'a> {
    Messages(std::slice::Iter<'a, String>),
    Stdin(Lines<BufReader<Stdin>>),
}

impl Input<'_> {
    /// The next line, without its `\n` or `\r\n`; `None` at the end of input. Safe to cancel:
    /// `next_line` keeps a half-typed line for the next call.
    async fn next(&mut self) -> io::Result<Option<String>> {
        match self {
            Input::Messages(messages) => Ok(messages.next().cloned()),
            Input::Stdin(lines) => Ok(lines
                .next_line()
                .await?
                .map(|line| line.trim_end_matches('\r').to_owned())),
        }
    }
}

// ANCHOR: talk
/// Connect, then send what you type and print what arrives, whichever comes first, until the
/// server closes (or, after the end of input, `--timeout` seconds at most).
async fn talk(options: &Options, console: Console) -> anyhow::Result<()> {
    let encoding = options.encoding.encoding;
    let candidates = options.connect.resolve()?;
    console.say(format_args!("connecting to {}", options.connect));
    // ① socket() and ② connect().
    let mut stream = connect(&candidates, options.timeout, console).await?;
    let (reader, mut writer) = stream.split();
    let mut from_server = BufReader::new(reader);
    let mut input = if options.messages.is_empty() {
        Input::Stdin(BufReader::new(tokio::io::stdin()).lines())
    } else {
        Input::Messages(options.messages.iter())
    };
    let at_prompt = options.messages.is_empty() && io::stdin().is_terminal();
    let show = |line: &[u8]| {
        // The line takes the place of the `> ` prompt, which comes back below it.
        if at_prompt {
            eprint!("\r");
        }
        console.say(format_args!("received: {}", encoding.display(line)));
        if at_prompt {
            console.prompt();
        }
    };
    let mut received = Vec::new();
    let mut sending = true;
    let mut give_up = Instant::now();
    let mut unsent = 0;
    console.prompt();
    loop {
        tokio::select! {
            // ③ a line to send: typed, or the next --message.
            line = input.next(), if sending => {
                let Some(line) = line.context("reading stdin")? else {
                    // End of input: close our sending half (the server's recv returns 0), and
                    // let the server answer what it has and close — or give it `--timeout`.
                    console.end_prompt();
                    sending = false;
                    give_up = Instant::now() + options.timeout;
                    console.say("end of input: waiting for the server to finish");
                    writer.shutdown().await.context("shutdown(SHUT_WR)")?;
                    console.trace("shutdown(SHUT_WR)");
                    continue;
                };
                let mut request = match encoding.encode(&line) {
                    Ok(bytes) => bytes,
                    Err(error) => {
                        // Never send a silently altered message: say why, and go on.
                        eprintln!("error: not sent: {error}");
                        unsent += 1;
                        continue;
                    }
                };
                request.push(b'\n');
                console.say(format_args!("sent: {}", common::text::printable(&line)));
                timeout(options.timeout, writer.write_all(&request))
                    .await
                    .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()))
                    .with_context(|| format!("sending {line:?}"))?;
                console.trace(format_args!("sendall({} bytes)", request.len()));
                console.prompt();
            }
            // ④ what the server sends, printed the moment a line is complete — at `\n`, or
            // after a short silence for servers that send no newline.
            outcome = timeout(SILENCE, read_line(&mut from_server, &mut received, MAX_LINE, |n| {
                console.trace(format_args!("recv(8192) -> {n} bytes"));
            })) => {
                match outcome {
                    Err(_silence) => {
                        if !received.is_empty() {
                            show(&std::mem::take(&mut received));
                        }
                    }
                    Ok(Err(error)) => return Err(error).context("receiving"),
                    // recv returned 0: the server closed the connection.
                    Ok(Ok(0)) => {
                        if !received.is_empty() {
                            show(&received);
                        }
                        if at_prompt && sending {
                            eprint!("\r");
                        }
                        console.say("the server closed the connection");
                        break;
                    }
                    Ok(Ok(_)) => {
                        if is_complete(&received, MAX_LINE) {
                            show(&std::mem::take(&mut received));
                        }
                    }
                }
            }
            () = sleep_until(give_up), if !sending => {
                console.say(format_args!(
                    "the server did not close the connection within {} s: closing it",
                    options.timeout.as_secs_f64()
                ));
                break;
            }
        }
    }
    // ⑤ close().
    drop(stream);
    console.trace("close()");
    if unsent > 0 {
        bail!("{unsent} message(s) could not be encoded in {encoding} and were not sent");
    }
    Ok(())
}
// ANCHOR_END: talk

/// Steps ① and ②: try each address a host name stands for, each for `limit` at most.
pub async fn connect(
    candidates: &[SocketAddr],
    limit: Duration,
    console: Console,
) -> anyhow::Result<TcpStream> {
    let mut last_error = None;
    for &addr in candidates {
        let connected = timeout(limit, TcpStream::connect(addr))
            .await
            .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()));
        match connected {
            Ok(stream) => {
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
