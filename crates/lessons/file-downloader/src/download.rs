//! A download, in steps: ① decide where to save, ② connect, ③ send `GET name`, ④ read the
//! `OK <length>` header, ⑤ receive exactly `length` bytes into a temporary file, ⑥ check that
//! the server closed, ⑦ rename the temporary file to its final name. `download` calls them in
//! that order; steps ② to ④, which `--list` needs too, are in `ask.rs`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, IsTerminal, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use common::Console;
use common::text::printable;
use indicatif::{ProgressBar, ProgressStyle};

use crate::ask::{connect, read_header, read_some, send_request};
use crate::options::Options;
use crate::protocol::{Header, RECEIVE_CHUNK, Request};

// ANCHOR: download
/// A whole download: steps ① to ⑦, one function each.
pub fn download(options: &Options, name: &str, console: Console) -> anyhow::Result<()> {
    // ① Where to save, whether we may, and from which byte.
    let destination = destination(name, options, console)?;

    // ② ③ Connect and ask.
    let started = Instant::now();
    let mut stream = connect(options, console)?;
    let request = Request::Get {
        name: name.to_owned(),
        offset: destination.offset,
    };
    send_request(&mut stream, &request, console)?;

    // ④ The header says how many bytes will follow, or why none will.
    let (header, early_body) = read_header(&mut stream, options.timeout, console)?;
    let length = check_header(header, name, &destination, console)?;

    // ⑤ Exactly `length` bytes, into the temporary file.
    let file = receive(
        &mut stream,
        &early_body,
        length,
        name,
        &destination,
        options,
    )?;
    console.trace(format_args!("received the body: {length} bytes"));

    // ⑥ Then the server closes: nothing more may come.
    check_end(
        &mut stream,
        &early_body,
        length,
        &destination,
        options.timeout,
    )?;

    // ⑦ On the disk, and only then under the real name.
    save(file, &destination)?;
    let seconds = started.elapsed().as_secs_f64();
    console.say(format_args!(
        "downloaded {name}: {length} bytes in {seconds:.2} s ({:.1} MB/s) -> {}",
        length as f64 / seconds.max(1e-9) / 1e6,
        destination.path.display()
    ));
    Ok(())
}
// ANCHOR_END: download

// ANCHOR: destination
/// Where a download goes, as step ① decides it.
struct Destination {
    /// The final name: it appears only at step ⑦, complete.
    path: PathBuf,
    /// `NAME.part` beside it, where the bytes arrive until then.
    part: PathBuf,
    /// The first byte to ask for: the size of the part file with `--resume`, otherwise 0.
    offset: u64,
}

/// Step ①: the final path and the temporary file beside it, and the byte to start from. Beside
/// it, not in /tmp: a rename is atomic only within one file system, and it is what makes the
/// file appear complete or not at all.
fn destination(name: &str, options: &Options, console: Console) -> anyhow::Result<Destination> {
    let last = name.rsplit('/').next().unwrap_or(name);
    let from_name = || {
        if matches!(last, "" | "." | "..") {
            bail!("cannot tell a file name from {name:?}: add --output PATH");
        }
        Ok(PathBuf::from(last))
    };
    let path = match options.output.as_deref() {
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
    Ok(Destination { path, part, offset })
}
// ANCHOR_END: destination

// ANCHOR: check_header
/// Step ④, after the line is read: how many bytes will follow. Only `OK` for the very byte we
/// asked to start from will do.
fn check_header(
    header: Header,
    name: &str,
    destination: &Destination,
    console: Console,
) -> anyhow::Result<u64> {
    let Destination { part, offset, .. } = destination;
    let offset = *offset;
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
    Ok(length)
}
// ANCHOR_END: check_header

// ANCHOR: receive
/// Step ⑤: the temporary file, and the body into it. Only now does a file appear on disk: an
/// `ERR` above leaves nothing behind.
fn receive(
    stream: &mut TcpStream,
    early_body: &[u8],
    length: u64,
    name: &str,
    destination: &Destination,
    options: &Options,
) -> anyhow::Result<File> {
    let Destination { part, offset, .. } = destination;
    let offset = *offset;
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .append(offset > 0)
        .truncate(offset == 0)
        .open(part)
        .with_context(|| format!("creating {}", part.display()))?;
    let progress = progress_bar(offset + length, offset, options.no_progress);
    let received = receive_body(
        stream,
        &mut file,
        early_body,
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
    Ok(file)
}
// ANCHOR_END: receive

// ANCHOR: receive_body
/// Writes exactly `length` bytes to `file`: the ones that came with the header, then whatever
/// each read brings, through one 1 MiB buffer.
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

// ANCHOR: save
/// Step ⑥: after the body the server closes, so one more read must return 0. More bytes would
/// mean the header lied, and the file could not be trusted.
fn check_end(
    stream: &mut TcpStream,
    early_body: &[u8],
    length: u64,
    destination: &Destination,
    timeout: Duration,
) -> anyhow::Result<()> {
    let mut probe = [0u8; 1];
    let extra = early_body.len() as u64 > length
        || read_some(stream, &mut probe, timeout, "the end of the answer")? != 0;
    if extra {
        bail!(
            "the server sent more than the {length} bytes it announced; {} is not trustworthy",
            destination.part.display()
        );
    }
    Ok(())
}

/// Step ⑦: all `length` bytes are in the temporary file; now, and only now, the file gets its
/// real name. (rename replaces an existing file, which --force allowed.)
fn save(file: File, destination: &Destination) -> anyhow::Result<()> {
    let Destination { path, part, .. } = destination;
    // Make sure the bytes are on the disk, not only in the operating system's cache, before the
    // rename says "complete": after a power cut the renamed file must not be half empty.
    file.sync_all()
        .with_context(|| format!("writing {}", part.display()))?;
    drop(file);
    fs::rename(part, path)
        .with_context(|| format!("renaming {} to {}", part.display(), path.display()))
}
// ANCHOR_END: save

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
