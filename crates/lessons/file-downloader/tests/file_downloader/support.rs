//! Starting the lesson's server and client the way a student would, in folders of their own.
#![allow(clippy::unwrap_used)] // test helpers: a panic is a failed test
#![allow(dead_code)] // each test file uses a different part of this

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use assert_cmd::cargo::{cargo_bin, cargo_bin_cmd};
use test_support::testing::{Running, WAIT};

/// `file-downloader server --listen 127.0.0.1:0 --root ROOT ARGS…`, running until dropped.
pub fn server(root: &Path, args: &[&str]) -> Running {
    let mut command = Command::new(cargo_bin!("file-downloader"));
    command
        .args(["server", "--listen", "127.0.0.1:0", "--root"])
        .arg(root)
        .args(args);
    let mut running = Running::start(command);
    running.wait_for("serving files from");
    running
}

/// `file-downloader client --connect ADDR ARGS…`, run in `dir` (where it saves by default),
/// with a deadline.
pub fn client(addr: SocketAddr, dir: &Path, args: &[&str]) -> assert_cmd::Command {
    let mut command = cargo_bin_cmd!("file-downloader");
    command
        .args(["client", "--connect", &addr.to_string()])
        .args(args)
        .current_dir(dir)
        .timeout(WAIT);
    command
}

/// A fresh folder under the system's temporary directory, removed with its contents on drop.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new() -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let path = std::env::temp_dir().join(format!(
            "file-downloader-test-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir(&path).unwrap();
        // Canonical, so that it compares equal to what the server prints (macOS: /private/var).
        Scratch(path.canonicalize().unwrap())
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A subfolder, created.
    pub fn dir(&self, name: &str) -> PathBuf {
        let dir = self.0.join(name);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Writes a file (and its folders) and returns its path.
    pub fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// `size` bytes that look random (xorshift64), different for each `seed`.
pub fn random_bytes(size: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut bytes = Vec::with_capacity(size + 8);
    while bytes.len() < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(size);
    bytes
}

/// Fails unless the two files hold the same bytes, saying where they first differ (without
/// printing megabytes of bytes).
pub fn assert_same_file(original: &Path, copy: &Path) {
    let a = fs::read(original).unwrap_or_else(|e| panic!("{}: {e}", original.display()));
    let b = fs::read(copy).unwrap_or_else(|e| panic!("{}: {e}", copy.display()));
    assert_eq!(
        a.len(),
        b.len(),
        "{} and {} differ in size",
        original.display(),
        copy.display()
    );
    if let Some(at) = a.iter().zip(&b).position(|(x, y)| x != y) {
        panic!(
            "{} and {} differ at byte {at}",
            original.display(),
            copy.display()
        );
    }
}

/// The names in a folder, sorted.
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
