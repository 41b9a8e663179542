//! Races on the file system: a name swapped, while a client asks for it, between a regular file
//! and a symlink to a file outside the root, or a named pipe. A server that checks a path and
//! then opens it again by name (check-then-open) can be fooled in between; one that opens once,
//! beneath the root, and checks what it opened cannot. Unix only: symlinks and named pipes are
//! made with Unix calls.

use std::fs;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{Scratch, server};
use test_support::testing::connect;

/// What sits outside the root: if these bytes ever come back, the server leaked.
const CANARY: &[u8] = b"CANARY: a secret outside the root";
/// What the raced name holds when it is the regular file.
const INSIDE: &[u8] = b"inside the root";

/// The bounds of each race: this many requests, or this long, whichever ends first.
const REQUESTS: usize = 2000;
const RACE_TIME: Duration = Duration::from_secs(5);
/// Clients asking at once.
const CLIENTS: usize = 4;

/// Swaps `root/race.txt` between the regular file `file` and what `other` makes, until told to
/// stop. Each swap is a rename over the name: atomic, so the name always exists.
struct Swapper {
    stop: Arc<AtomicBool>,
    handle: Option<thread::JoinHandle<u64>>,
}

impl Swapper {
    fn start(root: &Path, file: PathBuf, other: impl Fn(&Path) + Send + 'static) -> Swapper {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let name = root.join("race.txt");
        let spare = root.join(".spare");
        let handle = thread::spawn(move || {
            let mut swaps = 0u64;
            while !flag.load(Ordering::Relaxed) {
                let _ = fs::remove_file(&spare);
                fs::hard_link(&file, &spare).unwrap();
                fs::rename(&spare, &name).unwrap();
                other(&spare);
                fs::rename(&spare, &name).unwrap();
                swaps += 1;
            }
            swaps
        });
        Swapper {
            stop,
            handle: Some(handle),
        }
    }

    /// Stops swapping; returns how many swaps it made.
    fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take().unwrap().join().unwrap()
    }
}

impl Drop for Swapper {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// `GET race.txt` from `CLIENTS` threads until `REQUESTS` answers or `RACE_TIME`; each answer
/// is handed to `check` with how long it took. Returns how many answers were checked.
fn hammer(addr: SocketAddr, check: impl Fn(&[u8], Duration) + Send + Sync + 'static) -> usize {
    let check = Arc::new(check);
    let started = Instant::now();
    let threads: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let check = Arc::clone(&check);
            thread::spawn(move || {
                let mut answered = 0;
                while answered < REQUESTS / CLIENTS && started.elapsed() < RACE_TIME {
                    let asked = Instant::now();
                    let mut stream = connect(addr);
                    stream
                        .set_read_timeout(Some(Duration::from_secs(3)))
                        .unwrap();
                    stream.write_all(b"GET race.txt\n").unwrap();
                    let mut answer = Vec::new();
                    if let Err(error) = stream.read_to_end(&mut answer) {
                        panic!(
                            "no answer after {:?} ({} bytes so far): {error}",
                            asked.elapsed(),
                            answer.len()
                        );
                    }
                    check(&answer, asked.elapsed());
                    answered += 1;
                }
                answered
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).sum()
}

/// A scratch folder with the canary outside `root/`, the regular file's master copy, and
/// `root/race.txt` to begin with.
fn race_scratch() -> (Scratch, PathBuf, PathBuf) {
    let scratch = Scratch::new();
    scratch.file("canary.txt", CANARY);
    let file = scratch.file("inside.txt", INSIDE);
    let root = scratch.dir("root");
    fs::copy(&file, root.join("race.txt")).unwrap();
    (scratch, root, file)
}

#[test]
fn a_name_swapped_with_a_symlink_out_of_the_root_never_leaks_the_outside_file() {
    let (scratch, root, file) = race_scratch();
    let canary = scratch.path().join("canary.txt");
    let server = server(&root, &["--max-clients", "64"]);
    let swapper = Swapper::start(&root, file, move |spare| symlink(&canary, spare).unwrap());
    let answers = hammer(server.addr(), |answer, _| {
        let text = String::from_utf8_lossy(answer);
        assert!(
            !text.contains("CANARY"),
            "the outside file leaked: {text:?}"
        );
        // The file, or a refusal: nothing else.
        assert!(
            text == "OK 15\ninside the root" || text.starts_with("ERR "),
            "{text:?}"
        );
    });
    let swaps = swapper.stop();
    assert!(
        answers >= 100 && swaps >= 100,
        "{answers} answers, {swaps} swaps"
    );
}

#[test]
fn a_name_swapped_with_a_named_pipe_is_answered_in_time_and_never_blocks_a_thread() {
    let (scratch, root, file) = race_scratch();
    // One named pipe, hard-linked in and out of the root (a hard link to a pipe is the pipe).
    let fifo = scratch.path().join("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo failed");
    let server = server(&root, &["--max-clients", "64", "--request-timeout", "2"]);
    let swapper = Swapper::start(&root, file, move |spare| {
        fs::hard_link(&fifo, spare).unwrap()
    });
    let answers = hammer(server.addr(), |answer, took| {
        let text = String::from_utf8_lossy(answer);
        assert!(
            text == "OK 15\ninside the root" || text == "ERR not a file\n",
            "{text:?}"
        );
        // Within the request timeout, whatever the name was.
        assert!(took < Duration::from_secs(2), "answered after {took:?}");
    });
    let swaps = swapper.stop();
    assert!(
        answers >= 100 && swaps >= 100,
        "{answers} answers, {swaps} swaps"
    );
    // No thread is left stuck in open(): 64 more clients at once are all served.
    fs::write(root.join("after.txt"), b"after").unwrap();
    let streams: Vec<_> = (0..64)
        .map(|_| {
            let mut stream = connect(server.addr());
            stream.write_all(b"GET after.txt\n").unwrap();
            stream
        })
        .collect();
    for mut stream in streams {
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        assert_eq!(answer, b"OK 5\nafter");
    }
}
