//! The download client, in steps: ① decide where to save, ② connect, ③ send `GET name`,
//! ④ read the `OK <length>` header, ⑤ receive exactly `length` bytes into a temporary file,
//! ⑥ check that the server closed, ⑦ rename the temporary file to its final name.

use std::fs::{self, File, OpenOptions};
use std::io::{self, IsTerminal, Read, Write};
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
use indicatif::{ProgressBar, ProgressStyle};

use crate::protocol::{Header, MAX_HEADER, MAX_LISTING, RECEIVE_CHUNK, Request};

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

// ANCHOR: destination
/// Step ①: the final path and the temporary file beside it. Beside it, not in /tmp: a rename
/// is atomic only within one file system, and it is what makes the file appear complete or
/// not at all.
fn destination(name: &str, output: Option<&Path>) -> anyhow::Result<(PathBuf, PathBuf)> {
    let last = name.rsplit('/').next().unwrap_or(name);
    let from_name = || {
        if matches!(last, "" | "." | "..") {
            bail!("cannot tell a file name from {name:?}: add --output PATH");
        }
        Ok(PathBuf::from(last))
    };
    let path = match output {
        Some(dir) if dir.is_dir() => dir.join(from_name()?),
        Some(path) => path.to_path_buf(),
        None => from_name()?,
    };
    let Some(file_name) = path.file_name() else {
        bail!("cannot save to {}: not a file name", path.display());
    };
    // Check the folder now: after the server's `OK` would be a poor time to find it missing.
    if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty())
        && !folder.is_dir()
    {
        bail!(
            "cannot save to {}: no folder {}",
            path.display(),
            folder.display()
        );
    }
    let mut part_name = file_name.to_os_string();
    part_name.push(".part");
    let part = path.with_file_name(part_name);
    Ok((path, part))
}
// ANCHOR_END: destination

// ANCHOR: download
/// A whole download: steps ① to ⑦.
fn download(options: &Options, name: &str, console: Console) -> anyhow::Result<()> {
    // ① Where to save, and whether we may.
    let (path, part) = destination(name, options.output.as_deref())?;
    if path.exists() && !options.force {
        bail!(
            "{} already exists: add --force to replace it",
            path.display()
        );
    }
    let offset = match fs::metadata(&part) {
        Ok(partial) if options.resume => partial.len(),
        Ok(partial) => {
            console.say(format_args!(
                "found {} ({} bytes) from an earlier try: starting again (use --resume to continue it)",
                part.display(),
                partial.len()
            ));
            0
        }
        Err(_) => 0,
    };

    // ② ③ Connect and ask.
    let started = Instant::now();
    let mut stream = connect(options, console)?;
    let request = Request::Get {
        name: name.to_owned(),
        offset,
    };
    send_request(&mut stream, &request, console)?;

    // ④ The header says how many bytes will follow, or why none will.
    let (header, early_body) = read_header(&mut stream, options.timeout, console)?;
    let length = match header {
        // The bytes start where we asked: appending them to the part we have is right.
        Header::Ok {
            length,
            offset: start,
        } if start == offset => length,
        // A server that ignored the offset (or answered another one): appending its bytes
        // would make a wrong file that looks right. The part file is left as it was.
        Header::Ok { offset: start, .. } if offset > 0 => bail!(
            "the server did not resume {name:?} at byte {offset}: its answer starts at byte {start}; {} is left as it was (to start again, delete it)",
            part.display()
        ),
        Header::Ok { offset: start, .. } => bail!(
            "the server answered with the bytes of {name:?} from byte {start}, but we asked for the whole file"
        ),
        // The reason is the server's text: shown escaped, like everything a peer sends.
        Header::Err(reason) if offset > 0 => bail!(
            "the server refused to resume {name:?} at byte {offset}: {}; to start again, delete {}",
            printable(&reason),
            part.display()
        ),
        Header::Err(reason) => bail!("the server refused {name:?}: {}", printable(&reason)),
    };
    if offset > 0 {
        console.say(format_args!(
            "resuming {name} at byte {offset}: {length} bytes to go"
        ));
    }

    // ANCHOR_END: download
    // ANCHOR: receive
    // ⑤ Receive into the temporary file. Only now does a file appear on disk: an `ERR` above
    // leaves nothing behind.
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .append(offset > 0)
        .truncate(offset == 0)
        .open(&part)
        .with_context(|| format!("creating {}", part.display()))?;
    let progress = progress_bar(offset + length, offset, options.no_progress);
    let received = receive_body(
        &mut stream,
        &mut file,
        &early_body,
        length,
        &progress,
        options.timeout,
    );
    progress.finish_and_clear();
    if let Err(Cut { received, error }) = received {
        // Nothing under the final name; say what happened and how much arrived.
        bail!(
            "{error:#} after {} of {} bytes of {name}; they are kept in {}: run the same command with --resume to continue",
            offset + received,
            offset + length,
            part.display()
        );
    }
    console.trace(format_args!("received the body: {length} bytes"));
    // ANCHOR_END: receive

    // ANCHOR: save
    // ⑥ After the body the server closes: one more read must return 0. More bytes would mean
    // the header lied, and the file could not be trusted.
    let mut probe = [0u8; 1];
    let extra = early_body.len() as u64 > length
        || read_some(
            &mut stream,
            &mut probe,
            options.timeout,
            "the end of the answer",
        )? != 0;
    if extra {
        bail!(
            "the server sent more than the {length} bytes it announced; {} is not trustworthy",
            part.display()
        );
    }
    // Make sure the bytes are on the disk, not only in the operating system's cache, before the
    // rename says "complete": after a power cut the renamed file must not be half empty.
    file.sync_all()
        .with_context(|| format!("writing {}", part.display()))?;
    drop(file);

    // ⑦ All `length` bytes are on disk: now, and only now, the file gets its real name.
    // (rename replaces an existing file, which --force allowed.)
    fs::rename(&part, &path)
        .with_context(|| format!("renaming {} to {}", part.display(), path.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    console.say(format_args!(
        "downloaded {name}: {length} bytes in {seconds:.2} s ({:.1} MB/s) -> {}",
        length as f64 / seconds.max(1e-9) / 1e6,
        path.display()
    ));
    Ok(())
}
// ANCHOR_END: save

/// Step ②: `TcpStream::connect_timeout`, trying each address a host name stands for.
fn connect(options: &Options, console: Console) -> anyhow::Result<TcpStream> {
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
fn send_request(stream: &mut TcpStream, request: &Request, console: Console) -> anyhow::Result<()> {
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
fn read_header(
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

// ANCHOR: receive_body
/// Step ⑤: write exactly `length` bytes to `file`: the ones that came with the header, then
/// whatever each read brings, through one 1 MiB buffer.
fn receive_body(
    stream: &mut TcpStream,
    file: &mut File,
    early_body: &[u8],
    length: u64,
    progress: &ProgressBar,
    timeout: Duration,
) -> Result<(), Cut> {
    let mut received = 0u64;
    let cut = |received, error| Cut { received, error };
    // Bytes that came with the header (never more than announced).
    let early = &early_body[..early_body
        .len()
        .min(usize::try_from(length).unwrap_or(usize::MAX))];
    file.write_all(early).map_err(|e| cut(0, e.into()))?;
    received += early.len() as u64;
    progress.inc(received);

    let mut buffer = vec![0u8; RECEIVE_CHUNK];
    while received < length {
        // Never ask for more than what is left: bytes after the body are not part of the file.
        let wanted = usize::try_from(length - received)
            .map_or(RECEIVE_CHUNK, |left| left.min(RECEIVE_CHUNK));
        let count = read_some(stream, &mut buffer[..wanted], timeout, "the file")
            .map_err(|error| cut(received, error))?;
        // recv returned 0: the server closed early. Seed 001 would save what it has and call it
        // the file; without a length nobody could even tell.
        if count == 0 {
            return Err(cut(
                received,
                anyhow::anyhow!("the server closed the connection"),
            ));
        }
        file.write_all(&buffer[..count])
            .map_err(|error| cut(received, anyhow::anyhow!("cannot write the file: {error}")))?;
        received += count as u64;
        progress.inc(count as u64);
    }
    Ok(())
}

/// A body that stopped short: how much of it arrived, and why the rest did not.
struct Cut {
    received: u64,
    error: anyhow::Error,
}
// ANCHOR_END: receive_body

/// One `read` with a clear message when it waited for `timeout` in vain.
fn read_some(
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

/// A progress bar with bytes, rate and time left, on stderr, only when stderr is a terminal:
/// in a pipe or a log file it would be noise.
fn progress_bar(total: u64, done: u64, never: bool) -> ProgressBar {
    if never || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total).with_position(done);
    if let Ok(style) = ProgressStyle::with_template(
        "{wide_bar} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
    ) {
        bar.set_style(style);
    }
    bar
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
