//! `file-downloader demo`: a server on a temporary folder and a client downloading from it, in
//! one process, on a port the OS chooses. Each side's lines carry a prefix, so the conversation
//! reads top to bottom. Everything it creates is removed at the end.

use std::fs;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::Args;
use common::cli::TraceArg;
use common::{Addr, Console};

use crate::{client, options, paths, server};

/// The size of the demo's big file: several MiB, far more than seed 001's one recv(1024).
const BIG: usize = 4 * 1024 * 1024;

/// `file-downloader demo`.
#[derive(Args, Clone, Debug)]
pub struct Options {
    #[command(flatten)]
    pub trace: TraceArg,
}

// ANCHOR: demo
/// Serves `shared/` (three files) and downloads into `downloads/`: the list, each file, a name
/// that climbs out of the root towards `secret.txt`, and a name that does not exist.
pub fn run(options: &Options) -> anyhow::Result<()> {
    let trace = options.trace;
    let scratch = Scratch::new()?;
    let shared = scratch.0.join("shared");
    let downloads = scratch.0.join("downloads");
    fs::create_dir_all(&shared)?;
    fs::create_dir_all(&downloads)?;
    fs::write(shared.join("hello.txt"), "hello, world\n")?;
    fs::write(shared.join("你好.txt"), "你好，世界\n")?;
    fs::write(shared.join("big.bin"), pseudo_random(BIG))?;
    fs::write(scratch.0.join("secret.txt"), "outside the server's root\n")?;

    let server_console = Console::new(trace.trace).with_prefix("[server] ");
    let client_console = Console::new(trace.trace).with_prefix("[client] ");
    let server_options = server::Options {
        root: shared.clone(),
        trace,
        ..server::Options::new(Addr::localhost(0))
    };
    // Listen before the client starts, so that its connection cannot come too early.
    let root = paths::Root::open(&shared)?;
    let listener = server::listen(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), server_console)?;
    let addr = listener.local_addr()?;
    server_console.say("serving files from a temporary folder: hello.txt, 你好.txt, big.bin");
    // The server runs until the demo is done with it (below).
    let stop = Arc::new(AtomicBool::new(false));
    let server = thread::spawn({
        let stop = Arc::clone(&stop);
        move || server::serve(listener, root, &server_options, server_console, &stop)
    });

    let requests = [
        None, // --list
        Some("hello.txt"),
        Some("你好.txt"),
        Some("big.bin"),
        Some("../secret.txt"),
        Some("missing.txt"),
    ];
    for name in requests {
        let options = options::options_for(addr, name, &downloads, trace);
        if let Err(error) = client::run(&options, client_console) {
            // What the client would print on stderr, shown here in the conversation.
            client_console.say(format_args!("error: {error:#}"));
        }
    }

    // The downloads are byte-for-byte the originals, and the refusals left no file behind.
    for name in ["hello.txt", "你好.txt", "big.bin"] {
        if fs::read(shared.join(name))? != fs::read(downloads.join(name))? {
            bail!("{name} differs from the original");
        }
    }
    let saved = fs::read_dir(&downloads)?.count();
    if saved != 3 {
        bail!("expected 3 files in downloads/, found {saved}");
    }
    client_console
        .say("checked: the 3 downloads match the originals byte for byte; nothing else was saved");
    // Stop the server, so that it closes its handle on the root folder: Windows deletes no
    // folder that a program holds open. The flag, then one connection to wake its accept().
    stop.store(true, Ordering::Relaxed);
    let _ = TcpStream::connect(addr);
    let _ = server.join();
    Ok(())
}
// ANCHOR_END: demo

/// Bytes that look random (xorshift), the same every run, so the big file is not all zeros.
fn pseudo_random(size: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..size)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// A fresh folder in the system's temporary directory, removed with everything in it on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> anyhow::Result<Scratch> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "file-downloader-demo-{}-{nanos}",
            std::process::id()
        ));
        fs::create_dir(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Scratch(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = remove(&self.0);
    }
}

/// Removes the folder. A client's thread in the stopped server may hold the root open a moment
/// longer (on Windows that keeps the folder): try again for up to a second.
fn remove(path: &Path) -> io::Result<()> {
    let mut tries = 0;
    loop {
        match fs::remove_dir_all(path) {
            Err(_) if tries < 20 && path.exists() => {
                tries += 1;
                thread::sleep(Duration::from_millis(50));
            }
            result => return result,
        }
    }
}
