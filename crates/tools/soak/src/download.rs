//! file-downloader's workload, adapted to its protocol of one request per connection: the soak
//! writes files of random sizes into the server's root, then downloads them. A short
//! connection fetches a small file (1 B – 64 KiB), sometimes from an offset (a resume), its
//! request sometimes written one byte per write. A long one fetches a large file (256 KiB –
//! 2 MiB), reading it in pieces of random sizes. Every header and every byte is checked.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

use crate::rng::Rng;

/// How many small files (1 B – 64 KiB) the soak writes into the root.
const SMALL: usize = 64;

/// How many large ones (256 KiB – 2 MiB).
const LARGE: usize = 16;

/// The files the soak wrote, by kind, with their contents.
pub struct Files {
    small: Vec<(String, Vec<u8>)>,
    large: Vec<(String, Vec<u8>)>,
}

impl Files {
    /// Writes the files into `root` (which the server serves).
    pub fn create(root: &Path, rng: &Rng) -> Result<Files, String> {
        // Numbers of their own, apart from the connections' (see `phase` in main.rs).
        let write = |kind: &str, number: usize, size: usize| {
            let mut rng =
                rng.fork((2 << 40) + number as u64 + if kind == "large" { 1 << 32 } else { 0 });
            let name = format!("soak-{kind}-{number:02}.bin");
            let contents = rng.bytes(size);
            std::fs::write(root.join(&name), &contents)
                .map_err(|e| format!("writing {}: {e}", root.join(&name).display()))?;
            Ok::<_, String>((name, contents))
        };
        let mut sizes = rng.fork(3 << 40);
        let small = (0..SMALL)
            .map(|n| write("small", n, sizes.size(64 * 1024)))
            .collect::<Result<_, _>>()?;
        let large = (0..LARGE)
            .map(|n| write("large", n, sizes.range(256 * 1024, 2 * 1024 * 1024)))
            .collect::<Result<_, _>>()?;
        Ok(Files { small, large })
    }

    /// One short connection: a small file, whole or from an offset.
    pub fn short(&self, stream: TcpStream, rng: &mut Rng) -> Result<u64, String> {
        let (name, contents) = &self.small[rng.range(0, SMALL - 1)];
        let offset = if rng.chance(20) {
            rng.range(0, contents.len())
        } else {
            0
        };
        fetch(stream, rng, name, contents, offset)
    }

    /// One long connection: a large file, read in pieces.
    pub fn long(&self, stream: TcpStream, rng: &mut Rng) -> Result<u64, String> {
        let (name, contents) = &self.large[rng.range(0, LARGE - 1)];
        fetch(stream, rng, name, contents, 0)
    }
}

/// `GET name [offset]`, then `OK length` (`OK length offset` for a resume, which confirms where
/// the bytes start) and exactly the file's bytes from `offset` on.
fn fetch(
    mut stream: TcpStream,
    rng: &mut Rng,
    name: &str,
    contents: &[u8],
    offset: usize,
) -> Result<u64, String> {
    let request = match offset {
        0 => format!("GET {name}\n"),
        _ => format!("GET {name} {offset}\n"),
    };
    let sending = |e| format!("sending {request:?}: {e}");
    if rng.chance(20) {
        for byte in request.as_bytes().chunks(1) {
            stream.write_all(byte).map_err(sending)?;
        }
    } else {
        stream.write_all(request.as_bytes()).map_err(sending)?;
    }
    // The answer, read in pieces of random sizes until the server closes.
    let mut answer = Vec::with_capacity(contents.len() + 32);
    let mut piece = vec![0u8; 64 * 1024];
    loop {
        let size = rng.range(1, piece.len());
        match stream.read(&mut piece[..size]) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&piece[..n]),
            Err(e) => return Err(format!("reading the answer to {request:?}: {e}")),
        }
    }
    let expected = &contents[offset..];
    let header = match offset {
        0 => format!("OK {}\n", expected.len()),
        _ => format!("OK {} {offset}\n", expected.len()),
    };
    if !answer.starts_with(header.as_bytes()) {
        let start = String::from_utf8_lossy(&answer[..answer.len().min(60)]).into_owned();
        return Err(format!(
            "{request:?} was answered {start:?}, not {header:?}"
        ));
    }
    if &answer[header.len()..] != expected {
        return Err(format!(
            "{request:?}: the {} bytes after the header are not the file's {} bytes from byte {offset}",
            answer.len() - header.len(),
            expected.len()
        ));
    }
    Ok(1)
}
