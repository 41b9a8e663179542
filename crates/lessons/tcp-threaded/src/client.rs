//! The client with a receive thread — seed 002's idea, done right. One thread reads your lines
//! and sends them; another prints whatever the server sends, the moment it arrives, so that in
//! a chat room the others' lines show up while you type. Steps: ① socket and ② connect,
//! ③ send each line, ④ recv on the receive thread, ⑤ close.

use std::io::{self, IsTerminal, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use common::cli::{EncodingArg, TraceArg, input_lines, parse_seconds};
use common::framing::{Pending, SILENCE};
use common::net::{connect_error, is_timeout};
use common::{Addr, Console, Encoding};

/// The longest line printed as one; a longer one is printed in pieces.
const MAX_LINE: usize = 1024 * 1024;

/// `tcp-threaded client`: where to connect and what to send.
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

// ANCHOR: run
/// `tcp-threaded client`: connect, start the receive thread, then send every input line.
pub fn run(options: &Options, console: Console) -> anyhow::Result<()> {
    let encoding = options.encoding.encoding;
    let candidates = options.connect.resolve()?;
    console.say(format_args!("connecting to {}", options.connect));
    // ① socket() and ② connect().
    let stream = connect(&candidates, options.timeout, console)?;
    stream.set_write_timeout(Some(options.timeout))?;

    // ④ on its own thread: print what arrives, as it arrives. When the server closes while
    // we are still sending (or waiting for you to type), there is nothing left to do: exit.
    let sending = Arc::new(AtomicBool::new(true));
    let (ended, end) = mpsc::channel();
    let receiving = stream.try_clone().context("cloning the socket handle")?;
    let still_sending = Arc::clone(&sending);
    let at_prompt = options.messages.is_empty() && io::stdin().is_terminal();
    thread::Builder::new()
        .name("receive".into())
        .spawn(move || {
            let outcome = receive(&receiving, encoding, console, at_prompt, || {});
            if still_sending.load(Ordering::SeqCst) {
                if at_prompt {
                    eprint!("\r");
                }
                process::exit(match report(outcome, console) {
                    Ok(()) => 0,
                    Err(error) => {
                        eprintln!("error: {error:#}");
                        1
                    }
                });
            }
            let _ = ended.send(outcome);
        })
        .context("starting the receive thread")?;

    // ③ send each line, on this thread, while the receive thread prints the replies.
    let mut unsent = 0;
    for line in input_lines(&options.messages, console) {
        let line = line.context("reading stdin")?;
        let mut request = match encoding.encode(&line) {
            Ok(bytes) => bytes,
            Err(error) => {
                // Never send a silently altered message: say why, and go on with the next.
                eprintln!("error: not sent: {error}");
                unsent += 1;
                continue;
            }
        };
        request.push(b'\n');
        console.say(format_args!("sent: {line}"));
        if let Err(error) = (&stream).write_all(&request) {
            // The server has gone: the receive thread knows how, and says so.
            sending.store(false, Ordering::SeqCst);
            if let Ok(outcome) = end.recv_timeout(Duration::from_secs(1)) {
                report(outcome, console)?;
            }
            return Err(error).with_context(|| format!("sending {line:?}"));
        }
        console.trace(format_args!("sendall({} bytes)", request.len()));
    }

    // End of input: close our sending half (the server's recv returns 0), and let the server
    // answer what it has and close — or give it `--timeout` seconds.
    sending.store(false, Ordering::SeqCst);
    console.say("end of input: waiting for the server to finish");
    stream
        .shutdown(Shutdown::Write)
        .context("shutdown(SHUT_WR)")?;
    console.trace("shutdown(SHUT_WR)");
    match end.recv_timeout(options.timeout) {
        Ok(outcome) => report(outcome, console)?,
        Err(_) => console.say(format_args!(
            "the server did not close the connection within {} s: closing it",
            options.timeout.as_secs_f64()
        )),
    }
    // ⑤ close().
    drop(stream);
    console.trace("close()");
    if unsent > 0 {
        bail!("{unsent} message(s) could not be encoded in {encoding} and were not sent");
    }
    Ok(())
}
// ANCHOR_END: run

/// Says how the connection ended: the server closed it (fine), or it failed (an error).
fn report(outcome: io::Result<()>, console: Console) -> anyhow::Result<()> {
    outcome.context("receiving")?;
    console.say("the server closed the connection");
    Ok(())
}

/// Steps ① and ②, as in tcp-echo: try each address a host name stands for.
fn connect(
    candidates: &[SocketAddr],
    timeout: Duration,
    console: Console,
) -> anyhow::Result<TcpStream> {
    let mut last_error = None;
    for &addr in candidates {
        match TcpStream::connect_timeout(&addr, timeout) {
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

// ANCHOR: receive
/// Step ④, the receive thread's loop: print each line as `received: TEXT` the moment it is
/// complete — at `\n`, or after a short silence for servers that send no newline — until the
/// server closes (`Ok`) or the connection fails. `on_line` runs after each printed line.
/// `at_prompt`: someone is typing at a terminal, after a `> ` prompt.
pub fn receive(
    mut stream: &TcpStream,
    encoding: Encoding,
    console: Console,
    at_prompt: bool,
    mut on_line: impl FnMut(),
) -> io::Result<()> {
    stream.set_read_timeout(Some(SILENCE))?;
    let mut pending = Pending::default();
    let mut chunk = [0u8; 1024];
    let mut show = |line: Vec<u8>| {
        // The line takes the place of the `> ` prompt, which comes back below it.
        if at_prompt {
            eprint!("\r");
        }
        console.say(format_args!("received: {}", encoding.display(&line)));
        if at_prompt {
            console.prompt();
        }
        on_line();
    };
    loop {
        let received = match stream.read(&mut chunk) {
            Ok(received) => received,
            Err(error) if is_timeout(&error) => {
                if let Some(line) = pending.take_rest() {
                    show(line);
                }
                continue;
            }
            Err(error) => return Err(error),
        };
        console.trace(format_args!("recv(1024) -> {received} bytes"));
        // recv returned 0: the server closed the connection. Seed 002's client loop never
        // checks this, and spins.
        if received == 0 {
            if let Some(line) = pending.take_rest() {
                show(line);
            }
            return Ok(());
        }
        pending.push(&chunk[..received]);
        while let Some(line) = pending.take_line(MAX_LINE) {
            show(line);
        }
    }
}
// ANCHOR_END: receive
