//! The client's command line, and the steps a download and `--list` share: ② connect,
//! ③ send one request line, ④ read the header line. The download's own steps, from ① decide
//! where to save to ⑦ rename the finished file, are in `download.rs`.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use common::cli::{TraceArg, parse_seconds};
use common::framing::Pending;
use common::net::{connect_error, is_timeout};
use common::text::printable;
use common::{Addr, Console};

use crate::download::download;
use crate::protocol::{Header, MAX_HEADER, MAX_LISTING, Request};

/// `file-downloader client`: what to download, from where, to where.
#[derive(Args, Clone, Debug)]
pub struct Options {
    /// The file to download, named as the server lists it (`docs/a.txt`)
    #[arg(value_name = "NAME", required_unless_present = "list")]
    pub name: Option<String>,

    /// Print the server's files instead of downloading one
    #[arg(long, conflicts_with_all = ["name", "output", "force", "resume"])]
    pub list: bool,

    /// The server: HOST:PORT, [IPV6]:PORT or PORT
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7890")]
    pub connect: Addr,

    /// Save as PATH (an existing directory: save inside it) instead of NAME's last part in the current directory
    #[arg(long, short, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Replace the file if it already exists
    #[arg(long)]
    pub force: bool,

    /// Continue an interrupted download from its temporary `.part` file
    #[arg(long)]
    pub resume: bool,

    /// Never show the progress bar (it shows only when stderr is a terminal anyway)
    #[arg(long)]
    pub no_progress: bool,

    /// Seconds to wait for the connection, and for each piece of the answer, before giving up
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = parse_seconds)]
    pub timeout: Duration,

    #[command(flatten)]
    pub trace: TraceArg,
}

/// Checks NAME before anything happens: it must fit on one request line. Returns why not.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("invalid NAME \"\": name the file to download, or use --list".into());
    }
    if name.chars().any(char::is_control) {
        return Err(format!(
            "invalid NAME {name:?}: names cannot contain control characters"
        ));
    }
    Ok(())
}

/// `file-downloader client`: download one file, or `--list` the server's files.
pub fn run(options: &Options, console: Console) -> anyhow::Result<()> {
    match &options.name {
        Some(name) if !options.list => download(options, name, console),
        _ => list(options, console),
    }
}

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

/// `--list`: `LIST`, then the `<size>\t<name>` lines, shown as a table.
fn list(options: &Options, console: Console) -> anyhow::Result<()> {
    let mut stream = connect(options, console)?;
    send_request(&mut stream, &Request::List, console)?;
    let (header, early) = read_header(&mut stream, options.timeout, console)?;
    let length = match header {
        // Never more than a real list can be: the answer is kept in memory.
        Header::Ok { length, .. } if length > MAX_LISTING => bail!(
            "the server announced a list of {length} bytes, more than any list can be ({MAX_LISTING} bytes)"
        ),
        Header::Ok { length, offset: 0 } => length,
        Header::Ok { offset, .. } => bail!("the server answered LIST from byte {offset}"),
        Header::Err(reason) => bail!(
            "the server refused to list its files: {}",
            printable(&reason)
        ),
    };
    let mut listing = early;
    (&mut stream)
        .take(length.saturating_sub(listing.len() as u64))
        .read_to_end(&mut listing)
        .context("receiving the list")?;
    if (listing.len() as u64) < length {
        bail!(
            "the server closed the connection after {} of {length} bytes of the list",
            listing.len()
        );
    }
    let listing = String::from_utf8_lossy(&listing);
    let mut count = 0;
    for line in listing.lines() {
        // The names come from the server: shown escaped, one file per line whatever they hold.
        let (size, name) = line.split_once('\t').unwrap_or(("?", line));
        let (size, name) = (printable(size), printable(name));
        console.say(format_args!("{size:>12}  {name}"));
        count += 1;
    }
    console.say(format_args!("{count} files"));
    Ok(())
}

/// The address a client connects to, for the demo.
pub fn options_for(
    addr: SocketAddr,
    name: Option<&str>,
    output: &Path,
    trace: TraceArg,
) -> Options {
    Options {
        name: name.map(str::to_owned),
        list: name.is_none(),
        connect: Addr::from_socket_addr(addr),
        output: Some(output.to_path_buf()),
        force: false,
        resume: false,
        no_progress: true,
        timeout: Duration::from_secs(5),
        trace,
    }
}
