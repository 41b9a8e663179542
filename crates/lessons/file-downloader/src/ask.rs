//! The steps a download and `--list` share: ② connect, ③ send one request line, ④ read the
//! header line, and the one read that says what it waited for. The download's own steps, from
//! ① decide where to save to ⑦ rename the finished file, are in `download.rs`; `--list` is in
//! `client.rs`.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use common::Console;
use common::framing::Pending;
use common::net::{connect_error, is_timeout};
use common::text::printable;

use crate::options::Options;
use crate::protocol::{Header, MAX_HEADER, Request};

/// Step ②: `TcpStream::connect_timeout`, trying each address a host name stands for.
pub fn connect(options: &Options, console: Console) -> anyhow::Result<TcpStream> {
    let candidates = options.connect.resolve()?;
    let mut last_error = None;
    for addr in candidates {
        match TcpStream::connect_timeout(&addr, options.timeout) {
            Ok(stream) => {
                console.trace(format_args!("connect({addr})"));
                // Every read waits at most --timeout: a server that stops sending cannot hang us.
                stream.set_read_timeout(Some(options.timeout))?;
                stream.set_write_timeout(Some(options.timeout))?;
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

/// Step ③: one request line.
pub fn send_request(
    stream: &mut TcpStream,
    request: &Request,
    console: Console,
) -> anyhow::Result<()> {
    let line = request.line();
    // Said first, so that it comes before the server's "received from" in the demo.
    console.say(format_args!("sent: {}", line.trim_end()));
    stream
        .write_all(line.as_bytes())
        .context("sending the request")?;
    console.trace(format_args!("sendall({} bytes)", line.len()));
    Ok(())
}

// ANCHOR: read_header
/// Step ④: read up to the first `\n`. The same read may bring the first bytes of the body
/// along: they are returned too, not lost. The whole line must come within `timeout`, not each
/// read: a server that drips a byte a second would otherwise hold us for as long as it likes.
pub fn read_header(
    stream: &mut TcpStream,
    timeout: Duration,
    console: Console,
) -> anyhow::Result<(Header, Vec<u8>)> {
    let deadline = Instant::now() + timeout;
    let mut pending = Pending::default();
    let mut chunk = [0u8; 1024];
    let line = loop {
        if let Some(line) = pending.take_line(MAX_HEADER) {
            break line;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let received = match left.is_zero() {
            true => Err(io::ErrorKind::TimedOut.into()),
            false => stream
                .set_read_timeout(Some(left))
                .and_then(|()| stream.read(&mut chunk)),
        };
        let received = match received {
            Ok(received) => received,
            Err(error) if is_timeout(&error) && pending.is_empty() => bail!(
                "the server sent nothing for {} s while we waited for the answer",
                timeout.as_secs_f64()
            ),
            Err(error) if is_timeout(&error) => bail!(
                "the server sent no complete answer line within {} s",
                timeout.as_secs_f64()
            ),
            Err(error) => return Err(error).context("receiving the answer"),
        };
        console.trace(format_args!("recv(1024) -> {received} bytes"));
        if received == 0 {
            match pending.take_rest() {
                Some(rest) => break rest,
                None => bail!("the server closed the connection without answering"),
            }
        }
        pending.push(&chunk[..received]);
    };
    let Some(line) = line.strip_suffix(b"\n") else {
        bail!(
            "the server's answer is not a header line: {:?}…",
            String::from_utf8_lossy(&line[..line.len().min(40)])
        );
    };
    let header = Header::parse(line)
        .map_err(|problem| anyhow::anyhow!("the server's answer makes no sense: {problem}"))?;
    console.say(format_args!(
        "received: {}",
        printable(String::from_utf8_lossy(line).trim_end())
    ));
    // From here on, each read waits at most `timeout` again.
    stream.set_read_timeout(Some(timeout))?;
    Ok((header, pending.take_rest().unwrap_or_default()))
}
// ANCHOR_END: read_header

/// One `read` with a clear message when it waited for `timeout` in vain.
pub fn read_some(
    stream: &mut TcpStream,
    buffer: &mut [u8],
    timeout: Duration,
    what: &str,
) -> anyhow::Result<usize> {
    match stream.read(buffer) {
        Ok(count) => Ok(count),
        Err(error) if is_timeout(&error) => bail!(
            "the server sent nothing for {} s while we waited for {what}",
            timeout.as_secs_f64()
        ),
        Err(error) => Err(error).with_context(|| format!("receiving {what}")),
    }
}
