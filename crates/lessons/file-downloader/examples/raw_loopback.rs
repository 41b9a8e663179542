//! The raw loopback limit: one file sent over 127.0.0.1 to a sink that reads and forgets it, with
//! no protocol, no disk write and no progress bar. `scripts/bench-download.sh` runs it to know
//! how fast the lesson's download could possibly be on this machine, and to compare two ways of
//! sending a file:
//!
//! ```text
//! cargo run --release -p file-downloader --example raw_loopback -- FILE                # io::copy
//! cargo run --release -p file-downloader --example raw_loopback -- FILE --send loop    # 64 KiB loop
//! cargo run --release -p file-downloader --example raw_loopback -- FILE --send sendfile  # Linux
//! cargo run --release -p file-downloader --example raw_loopback -- FILE --recv-buffer 8192
//! cargo run --release -p file-downloader --example raw_loopback -- FILE --save COPY     # sink writes COPY
//! ```
//!
//! It prints one line: `raw loopback (send=copy, recv-buffer=65536): N bytes in T s (R MB/s)`.
#![allow(clippy::expect_used, clippy::unwrap_used)] // a measuring tool, not lesson code

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Instant;

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let mut send = String::from("copy");
    let mut recv_buffer = 64 * 1024;
    let mut save = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--send" => send = args.next().expect("--send copy|loop"),
            "--recv-buffer" => {
                recv_buffer = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--recv-buffer BYTES")
            }
            "--save" => save = Some(args.next().expect("--save PATH")),
            _ => path = Some(arg),
        }
    }
    let path = path.expect("usage: raw_loopback FILE [--send copy|loop] [--recv-buffer BYTES]");
    assert!(
        ["copy", "loop", "sendfile"].contains(&send.as_str()),
        "--send is copy, loop or sendfile, not {send}"
    );

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let saved = save.clone();
    let sink = thread::spawn(move || -> io::Result<u64> {
        let (mut stream, _) = listener.accept()?;
        // The sink forgets what it reads, or (--save) writes it to a file like a downloader.
        let mut copy = saved.map(File::create).transpose()?;
        let mut buffer = vec![0u8; recv_buffer];
        let mut total = 0u64;
        loop {
            match stream.read(&mut buffer)? {
                0 => return Ok(total),
                n => {
                    if let Some(copy) = &mut copy {
                        copy.write_all(&buffer[..n])?;
                    }
                    total += n as u64
                }
            }
        }
    });

    let start = Instant::now();
    let mut file = File::open(&path)?;
    let mut stream = TcpStream::connect(addr)?;
    let sent = if send == "sendfile" {
        send_file(&file, &stream)?
    } else if send == "copy" {
        // What std offers: on Linux it may hand the work to the kernel (sendfile), elsewhere it
        // loops over an 8 KiB buffer.
        io::copy(&mut file, &mut stream)?
    } else {
        // What the lesson's server does: a fixed 64 KiB buffer, read then write_all.
        let mut buffer = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        loop {
            let n = file.read(&mut buffer)?;
            if n == 0 {
                break total;
            }
            stream.write_all(&buffer[..n])?;
            total += n as u64;
        }
    };
    drop(stream);
    let received = sink.join().expect("sink thread")?;
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(sent, received, "the sink must get every byte");
    let saving = if save.is_some() { ", saved" } else { "" };
    println!(
        "raw loopback (send={send}, recv-buffer={recv_buffer}{saving}): {received} bytes in {seconds:.2} s ({:.0} MB/s)",
        received as f64 / seconds / 1e6
    );
    Ok(())
}

/// sendfile(2) until the file ends: the kernel moves the pages to the socket.
#[cfg(target_os = "linux")]
fn send_file(file: &File, stream: &TcpStream) -> io::Result<u64> {
    let mut total = 0u64;
    loop {
        match rustix::fs::sendfile(stream, file, None, 1 << 30)? {
            0 => return Ok(total),
            n => total += n as u64,
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn send_file(_: &File, _: &TcpStream) -> io::Result<u64> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "sendfile is Linux only here",
    ))
}
