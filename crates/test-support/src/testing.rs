//! Test support: run a lesson's server as a child process, learn its address from its first
//! line, follow what it prints, and never leave it running after the test.
//!
//! Every wait here has a deadline, so a server that hangs fails its test instead of hanging CI.
//! These helpers panic on failure: they run only inside tests, where a panic is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long any single wait may take before the test fails. Generous: CI machines are slow and
/// tests run in parallel; a correct program answers in milliseconds.
pub const WAIT: Duration = Duration::from_secs(15);

/// Asks `ready` every 10 ms until it has an answer, for [`WAIT`] at most: the answer, or `None`
/// when the time is up. For what a program has printed so far, which is collected on threads
/// of its own.
pub(crate) fn poll<T>(mut ready: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(answer) = ready() {
            return Some(answer);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// A lesson program running in the background, killed and reaped when dropped.
pub struct Running {
    child: Child,
    addr: SocketAddr,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr: Arc<Mutex<String>>,
}

impl Running {
    /// Starts `command` and waits for its first stdout line, `listening on ADDR` or
    /// `bound to ADDR`. Start servers on port 0: the line tells which port they got.
    pub fn start(command: Command) -> Running {
        let (running, _stdin) = Running::spawn(command, Stdio::null());
        running
    }

    /// Like [`Running::start`], but with stdin piped instead of empty: for interactive programs
    /// such as a chat. Write the program's input lines to the returned handle; drop it to end
    /// the input (what Ctrl-D does in a terminal).
    pub fn start_with_stdin(command: Command) -> (Running, std::process::ChildStdin) {
        let (running, stdin) = Running::spawn(command, Stdio::piped());
        (running, stdin.expect("stdin is piped"))
    }

    /// Spawns the program and reads its address line; the stdin handle if `stdin` was piped.
    fn spawn(mut command: Command, stdin: Stdio) -> (Running, Option<std::process::ChildStdin>) {
        let mut child = command
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        let stdin = child.stdin.take();
        let lines = spawn_line_reader(child.stdout.take().expect("stdout is piped"));
        let stderr = spawn_collector(child.stderr.take().expect("stderr is piped"));
        let mut running = Running {
            child,
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            lines,
            seen: Vec::new(),
            stderr,
        };
        let first = match running.lines.recv_timeout(WAIT) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => running.fail("no address line within the time limit"),
            Err(RecvTimeoutError::Disconnected) => {
                running.fail("the program exited before printing its address")
            }
        };
        running.seen.push(first.clone());
        let addr = announced(&first)
            .unwrap_or_else(|| panic!("first line should announce the address, got {first:?}"));
        running.addr = addr
            .parse()
            .unwrap_or_else(|e| panic!("bad address in {first:?}: {e}"));
        (running, stdin)
    }

    /// Waits until the program's stderr contains `text`, and returns all of stderr so far.
    /// Stderr is read on its own thread, so a message may arrive a moment after the stdout line
    /// that followed it.
    pub fn wait_for_stderr(&mut self, text: &str) -> String {
        match poll(|| Some(self.stderr()).filter(|stderr| stderr.contains(text))) {
            Some(stderr) => stderr,
            None => self.fail(&format!("no {text:?} on stderr within the time limit")),
        }
    }

    /// The address from the first line.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits for the next stdout line.
    pub fn next_line(&mut self) -> String {
        let deadline = Instant::now() + WAIT;
        match self.lines.recv_timeout(deadline - Instant::now()) {
            Ok(line) => {
                self.seen.push(line.clone());
                line
            }
            Err(RecvTimeoutError::Timeout) => self.fail("no line within the time limit"),
            Err(RecvTimeoutError::Disconnected) => self.fail("stdout closed"),
        }
    }

    /// Waits for a stdout line containing `text`, skipping others, and returns it.
    pub fn wait_for(&mut self, text: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => self.fail(&format!(
                    "no line containing {text:?} within the time limit"
                )),
                Err(RecvTimeoutError::Disconnected) => {
                    self.fail(&format!("stdout closed before a line containing {text:?}"))
                }
            }
        }
    }

    /// The program's process id, for tests that send it a signal (`kill -TERM PID`).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Every stdout line printed so far, without waiting for more: for a check that something
    /// has NOT happened yet (has the server dropped that client already?).
    pub fn printed_so_far(&mut self) -> &[String] {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        &self.seen
    }

    /// Every stdout line seen so far.
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    /// What the program wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Waits for the program to exit by itself; returns its status and the rest of its stdout.
    pub fn wait_for_exit(mut self) -> (ExitStatus, Vec<String>) {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    let mut rest = Vec::new();
                    // The reader thread ends at end of file, shortly after the exit.
                    while let Ok(line) = self.lines.recv_timeout(WAIT) {
                        rest.push(line);
                    }
                    return (status, rest);
                }
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
                Ok(None) => self.fail("did not exit within the time limit"),
                Err(e) => self.fail(&format!("cannot wait for it: {e}")),
            }
        }
    }

    fn fail(&mut self, what: &str) -> ! {
        // If the program has exited, give the collector a moment to read its last words.
        for _ in 0..20 {
            if !matches!(self.child.try_wait(), Ok(None)) {
                thread::sleep(Duration::from_millis(100));
                break;
            }
            thread::sleep(Duration::from_millis(10));
        }
        panic!(
            "{what}\nstdout so far: {:#?}\nstderr so far: {}",
            self.seen,
            self.stderr()
        )
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Kill and reap, so that no server outlives its test, even a failed one.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_line_reader(stdout: impl Read + Send + 'static) -> Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let text = String::from_utf8_lossy(&line);
                    let text = text.trim_end_matches(['\n', '\r']).to_owned();
                    if sender.send(text).is_err() {
                        break;
                    }
                }
            }
        }
    });
    receiver
}

fn spawn_collector(stderr: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let collected = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&collected);
    thread::spawn(move || {
        let mut reader = BufReader::new(stderr);
        let mut line = Vec::new();
        while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            if let Ok(mut all) = sink.lock() {
                all.push_str(&String::from_utf8_lossy(&line));
            }
            line.clear();
        }
    });
    collected
}

/// A plain TCP connection for tests that play a client by hand, with read and write timeouts so
/// that a silent server fails the test instead of hanging it.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, WAIT)
        .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
    stream
        .set_read_timeout(Some(WAIT))
        .expect("set_read_timeout");
    stream
        .set_write_timeout(Some(WAIT))
        .expect("set_write_timeout");
    stream
}

/// The address text in a server's first line, `listening on ADDR` (TCP) or `bound to ADDR` (UDP).
pub(crate) fn announced(line: &str) -> Option<&str> {
    line.strip_prefix("listening on ")
        .or_else(|| line.strip_prefix("bound to "))
}

/// The environment variable that makes a missing third-party program (`python3`, `nc`, `socat`)
/// fail its tests instead of skipping them. `.ci/run` sets it after installing them.
pub const REQUIRE_TOOLS: &str = "SOCKETS_REQUIRE_TOOLS";

/// Finds a third-party program the interoperability tests drive, on `PATH`.
///
/// A student's machine may lack `socat` or `nc`; there the test says so on stderr and returns
/// `None`, so that `cargo test --workspace` still passes on a fresh machine. In CI, where
/// `SOCKETS_REQUIRE_TOOLS=1`, a missing program fails the test: nothing is skipped silently.
pub fn tool(name: &str) -> Option<std::path::PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .flat_map(|dir| {
                let plain = dir.join(name);
                let exe = dir.join(format!("{name}.exe"));
                [plain, exe]
            })
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        let required = std::env::var_os(REQUIRE_TOOLS).is_some_and(|value| value == "1");
        assert!(
            !required,
            "`{name}` is not installed, and {REQUIRE_TOOLS}=1 requires it \
             (Debian: apt-get install netcat-openbsd socat python3)"
        );
        eprintln!("skipped: `{name}` is not installed (set {REQUIRE_TOOLS}=1 to make this fail)");
    }
    found
}

/// Whether this test runs as a Windows program under Wine, as `scripts/windows-tests.sh` runs
/// the tests in CI: Wine puts `WINECONFIGDIR` (its prefix) in every program's environment.
pub fn under_wine() -> bool {
    cfg!(windows) && std::env::var_os("WINECONFIGDIR").is_some()
}

/// For a test that checks a Windows behaviour Wine does not emulate: under Wine, prints
/// `skipped under Wine: WHY` on stderr and returns true, and the test returns at once; anywhere
/// else, real Windows included, returns false and the test goes on.
/// `scripts/windows-tests.sh` counts these lines as skipped tests.
pub fn skip_under_wine(why: &str) -> bool {
    let wine = under_wine();
    if wine {
        eprintln!("skipped under Wine: {why}");
    }
    wine
}

/// A TCP port that refuses connections for as long as the value lives: a socket is bound to it
/// but never listens, so the kernel answers a connect with RST, and no other test running in
/// parallel can take the port in the meantime (unlike [`free_port`], which releases it).
pub struct RefusedPort {
    _socket: socket2::Socket,
    port: u16,
}

impl RefusedPort {
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// See [`RefusedPort`]: what a test of "connection refused" should connect to.
pub fn refused_port() -> RefusedPort {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    let any: SocketAddr = "127.0.0.1:0".parse().expect("address");
    socket.bind(&any.into()).expect("bind 127.0.0.1:0");
    let port = socket
        .local_addr()
        .ok()
        .and_then(|addr| addr.as_socket())
        .map(|addr| addr.port())
        .expect("local_addr");
    RefusedPort {
        _socket: socket,
        port,
    }
}

/// Closes a listener so that the very next connect is refused. Dropping it is not always
/// enough when tests run side by side: a child process that another test is starting holds a
/// copy of every descriptor between its fork and its exec, and the socket keeps listening
/// until then. shutdown() takes it out of the listening table at once on Linux; elsewhere it
/// may fail, and the drop does what it can.
pub fn stop_listening(listener: std::net::TcpListener) {
    let _ = socket2::SockRef::from(&listener).shutdown(std::net::Shutdown::Both);
    drop(listener);
}

/// Keeps `port` refusing connections after its listener was closed, for as long as the value
/// lives: a socket bound to it (with SO_REUSEADDR, since the listener's accepted connections may
/// still be open) that never listens. Without it, another test running in parallel could take
/// the port, or a client's own connect could. `None` if the port was taken meanwhile.
pub fn keep_refusing(port: u16) -> Option<RefusedPort> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).ok()?;
    socket.set_reuse_address(true).ok()?;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    socket.bind(&addr.into()).ok()?;
    Some(RefusedPort {
        _socket: socket,
        port,
    })
}

/// A port on which nothing listens (for the moment): bound by the OS, then released. Another
/// test may take it at any time: to test "connection refused", use [`refused_port`].
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr").port()
}

/// Checks a program's output against a transcript the book shows: line by line, where `[..]` in
/// the transcript stands for any text within that line (a port, a time). Lines prefixed
/// `[server] `, `[client] `… are compared side by side: each side's lines must match in order,
/// but how two threads' lines interleave may differ from run to run. On a mismatch the test
/// fails showing both, so the transcript can be updated along with the program.
pub fn assert_transcript(actual: &str, transcript_path: &std::path::Path) {
    let expected = std::fs::read_to_string(transcript_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", transcript_path.display()));
    let same = by_side(actual).len() == by_side(&expected).len()
        && by_side(&expected).iter().all(|(side, patterns)| {
            let lines = by_side(actual).remove(side).unwrap_or_default();
            lines.len() == patterns.len()
                && lines
                    .iter()
                    .zip(patterns)
                    .all(|(line, pattern)| line_matches(line, pattern))
        });
    assert!(
        same,
        "output differs from the transcript {}\n--- expected\n{expected}--- actual\n{actual}",
        transcript_path.display()
    );
}

/// The lines of each side, keyed by their `[side] ` prefix (empty for unprefixed lines).
fn by_side(text: &str) -> std::collections::BTreeMap<&str, Vec<&str>> {
    let mut sides = std::collections::BTreeMap::<&str, Vec<&str>>::new();
    for line in text.lines() {
        let side = line
            .strip_prefix('[')
            .and_then(|rest| rest.split_once("] "))
            .map_or("", |(side, _)| side);
        sides.entry(side).or_default().push(line);
    }
    sides
}

/// Whether `line` matches `pattern`, in which each `[..]` matches any run of characters.
fn line_matches(line: &str, pattern: &str) -> bool {
    let mut parts = pattern.split("[..]");
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::{by_side, line_matches};

    #[test]
    fn sides_are_told_apart_by_their_prefix() {
        let sides = by_side("[server] a\n[client] b\n[server] c\nplain\n");
        assert_eq!(sides[""], ["plain"]);
        assert_eq!(sides["server"], ["[server] a", "[server] c"]);
        assert_eq!(sides["client"], ["[client] b"]);
    }

    #[test]
    fn wildcards_match_within_a_line() {
        assert!(line_matches(
            "listening on 127.0.0.1:4242",
            "listening on 127.0.0.1:[..]"
        ));
        assert!(line_matches("a 1 b 22 c", "a [..] b [..] c"));
        assert!(line_matches("exact", "exact"));
        assert!(!line_matches("exact!", "exact"));
        assert!(!line_matches(
            "listening on [::1]:1",
            "listening on 127.0.0.1:[..]"
        ));
        assert!(!line_matches("ab", "a[..]b[..]b"));
        assert!(line_matches("abb", "a[..]b[..]b"));
    }
}
