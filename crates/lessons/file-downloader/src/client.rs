//! The client: `run` downloads one file (`download.rs`) or `--list`s the server's files (below).
//! Both start with the same steps, ② connect, ③ send one request line, ④ read the header line,
//! from `ask.rs`; the options they read are in `options.rs`.

use std::io::Read;

use anyhow::{Context, bail};
use common::Console;
use common::text::printable;

use crate::ask::{connect, read_header, send_request};
use crate::download::download;
use crate::options::Options;
use crate::protocol::{Header, MAX_LISTING, Request};

/// `file-downloader client`: download one file, or `--list` the server's files.
pub fn run(options: &Options, console: Console) -> anyhow::Result<()> {
    match &options.name {
        Some(name) if !options.list => download(options, name, console),
        _ => list(options, console),
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
