//! The server's step ⑤: the answer to a request that is not refused. `OK <length>` (the header
//! that frames the body), then the body: a file's bytes, through a 64 KiB buffer or with
//! `--sendfile` straight from the page cache, or the `LIST` of files.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};

use common::Console;
use common::stalled;
use common::text::printable;

use crate::paths::Root;
use crate::protocol::{Header, SEND_CHUNK};

/// What `GET` sends: `length` bytes of `file` (already at `offset`).
pub struct Body<'a> {
    pub name: &'a str,
    pub file: File,
    pub offset: u64,
    pub length: u64,
}

/// How sending a body ended.
enum Sent {
    /// Every byte the header promised.
    All,
    /// The file ended early (it shrank after we measured it): this many bytes went out.
    Shrank(u64),
    /// The client went away, or stopped reading for --write-timeout, after this many bytes.
    Left(u64, io::Error),
}

// ANCHOR: send_file
/// Step ⑤: the header, then the body, through a 64 KiB buffer or, with `--sendfile`, straight
/// from the file to the socket. Memory use does not grow with the file either way: a 4 GiB
/// file costs what a 4 KiB one does. (Seed 001's server reads the whole file into memory first.)
pub fn send_file(
    mut stream: TcpStream,
    peer: SocketAddr,
    body: Body,
    sendfile: bool,
    console: Console,
) -> io::Result<()> {
    let Body {
        name,
        mut file,
        offset,
        length,
    } = body;
    // The client chose the name: the log shows it escaped, like everything a peer sends.
    let name = printable(name);
    // The header is the framing: the client knows exactly how many bytes make the whole file.
    // For a resumed download it also says where the bytes start: `OK <length> <offset>`.
    let header = Header::ok_line(length, offset);
    stream.write_all(header.as_bytes())?;
    console.trace(format_args!(
        "sendall({} bytes) -> {}",
        header.len(),
        header.trim_end()
    ));

    let sent = match sendfile {
        true => zero_copy::send(&mut stream, &mut file, length, console),
        false => copy_body(&mut stream, &mut file, length, console),
    };
    match sent {
        Sent::All if offset == 0 => {
            console.say(format_args!("sent {name} ({length} bytes) to {peer}"));
        }
        Sent::All => console.say(format_args!(
            "sent {name} ({length} bytes from byte {offset}) to {peer}"
        )),
        // The client will see a short body, and keep what it got for --resume.
        Sent::Shrank(sent) => console.say(format_args!(
            "{name} shrank while being sent: sent {sent} of {length} bytes to {peer}"
        )),
        // Log it, go on.
        Sent::Left(sent, error) => {
            let error = stalled::explain(&stream, error);
            console.say(format_args!(
                "{peer} left after {sent} of {length} bytes of {name}: {error}"
            ));
        }
    }
    Ok(())
}
// ANCHOR_END: send_file

// ANCHOR: copy_body
/// The body through one fixed 64 KiB buffer: read from the file (a copy from the page cache
/// into our buffer), send to the socket (a copy from our buffer into the socket's).
fn copy_body(stream: &mut TcpStream, file: &mut File, length: u64, console: Console) -> Sent {
    // take(length): even if the file grows meanwhile, we send what the header promised.
    let mut body = file.take(length);
    let mut buffer = vec![0u8; SEND_CHUNK];
    let mut sent = 0u64;
    let mut sends = 0u64;
    while sent < length {
        let read = match body.read(&mut buffer) {
            Ok(0) => return Sent::Shrank(sent),
            Ok(read) => read,
            Err(error) => return Sent::Left(sent, error),
        };
        if let Err(error) = stream.write_all(&buffer[..read]) {
            return Sent::Left(sent, error);
        }
        sent += read as u64;
        sends += 1;
    }
    console.trace(format_args!(
        "sent the body: {sends} × (read, sendall) of up to {SEND_CHUNK} bytes"
    ));
    Sent::All
}
// ANCHOR_END: copy_body

// ANCHOR: zero_copy
/// `--sendfile`: the kernel moves the bytes from the file's pages in the page cache to the
/// socket itself, with no trip through our memory and one system call for many megabytes.
#[cfg(target_os = "linux")]
mod zero_copy {
    use super::{Console, File, Sent, TcpStream, copy_body};

    /// What one sendfile call may move; it returns sooner when the socket buffer is full
    /// for --write-timeout, or when the file ends.
    const MOST: u64 = 1 << 30;

    pub fn send(stream: &mut TcpStream, file: &mut File, length: u64, console: Console) -> Sent {
        let mut sent = 0u64;
        let mut calls = 0u64;
        while sent < length {
            let wanted = (length - sent).min(MOST) as usize;
            // None: from the file's own position (the offset `open` seeked to), moved on by
            // what was sent.
            match rustix::fs::sendfile(&*stream, &*file, None, wanted) {
                Ok(0) => return Sent::Shrank(sent),
                Ok(count) => {
                    sent += count as u64;
                    calls += 1;
                }
                // Not for this file or socket (a file system without the support, say): the
                // copy loop does the rest, from where sendfile stopped.
                Err(refused) if sent == 0 && refusal(refused) => {
                    console.trace(format_args!(
                        "sendfile() -> {refused}: copying through a 64 KiB buffer instead"
                    ));
                    return copy_body(stream, file, length, console);
                }
                Err(error) => return Sent::Left(sent, error.into()),
            }
        }
        console.trace(format_args!(
            "sent the body: {calls} × sendfile(), nothing copied through our memory"
        ));
        Sent::All
    }

    /// The errors that mean "sendfile cannot do this", not "the client went away".
    fn refusal(error: rustix::io::Errno) -> bool {
        use rustix::io::Errno;
        [
            Errno::INVAL,
            Errno::NOSYS,
            Errno::OPNOTSUPP,
            Errno::OVERFLOW,
        ]
        .contains(&error)
    }
}

/// Elsewhere, no sendfile(2) with these semantics in std or rustix: the copy loop.
#[cfg(not(target_os = "linux"))]
mod zero_copy {
    use super::{Console, File, Sent, TcpStream, copy_body};

    pub fn send(stream: &mut TcpStream, file: &mut File, length: u64, console: Console) -> Sent {
        console.trace("sendfile() is Linux only: copying through a 64 KiB buffer instead");
        copy_body(stream, file, length, console)
    }
}
// ANCHOR_END: zero_copy

/// `LIST`: one `<size>\t<name>\n` line per file, framed like a file: `OK <length>` first.
pub fn send_list(
    mut stream: TcpStream,
    peer: SocketAddr,
    root: &Root,
    console: Console,
) -> io::Result<()> {
    let files = root.list();
    let listing: String = files
        .iter()
        .map(|(size, name)| format!("{size}\t{name}\n"))
        .collect();
    // Said before sending: the client moves on as soon as it has the list, without waiting for
    // us to close, so a line printed after the send could land after the next client's lines.
    // A send that fails is reported by the caller.
    console.say(format_args!("listed {} files for {peer}", files.len()));
    stream.write_all(Header::ok_line(listing.len() as u64, 0).as_bytes())?;
    stream.write_all(listing.as_bytes())?;
    Ok(())
}
