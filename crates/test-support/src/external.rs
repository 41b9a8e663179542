//! Test support for programs the lessons did not write: the seeds' Python programs in
//! `interop/`, `nc` and `socat`. Like [`crate::testing::Running`], every wait has a deadline and
//! the program is killed when dropped. Unlike it, the program need not announce an address on
//! its first line (a Python seed prints its banner first), its stdin stays open for typing, and
//! its stdout is kept byte for byte as well as line by line (what `nc` received, exactly).
//!
//! Finding the programs: [`python3`] and [`openbsd_nc`] build on [`crate::testing::tool`], and
//! also check that what they found is the program the tests expect (a Windows `python3` that
//! only opens the Store, a macOS `nc` without `-N`). Missing or different, the test prints
//! `skipped:` on a student's machine and fails in CI.
// These helpers panic on failure: they run only inside tests, where a panic is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::testing::{REQUIRE_TOOLS, WAIT, announced, poll, tool};

/// A program running in the background with its stdin, stdout and stderr piped; killed and
/// reaped when dropped.
pub struct External {
    child: Child,
    /// The command line, for failure messages.
    command: String,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
}

/// How a program ended: its status and everything it printed.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Finished {
    /// Stdout as text (UTF-8; anything else shown as U+FFFD).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Fails the test, showing the output, unless the program exited with status 0.
    pub fn assert_success(&self) -> &Self {
        assert!(
            self.status.success(),
            "exited with {}\nstdout: {}\nstderr: {}",
            self.status,
            self.stdout_text(),
            self.stderr
        );
        self
    }
}

impl External {
    /// Starts `command` with stdin, stdout and stderr piped.
    pub fn start(mut command: Command) -> External {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        let stdin = child.stdin.take();
        let shown = format!("{command:?}");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (sender, lines) = mpsc::channel();
        let out = child.stdout.take().expect("stdout is piped");
        let err = child.stderr.take().expect("stderr is piped");
        let readers = vec![
            spawn_reader(out, Arc::clone(&stdout), Some(sender)),
            spawn_reader(err, Arc::clone(&stderr), None),
        ];
        External {
            child,
            command: shown,
            stdin,
            lines,
            stdout,
            stderr,
            readers,
        }
    }

    /// Waits for the line that announces the program's address, `listening on ADDR` or
    /// `bound to ADDR`, skipping the lines before it, and returns the address.
    pub fn addr(&mut self) -> SocketAddr {
        let deadline = Instant::now() + WAIT;
        loop {
            let line = self.next_line_before(deadline, "address line");
            if let Some(addr) = address_in(&line) {
                return addr;
            }
        }
    }

    /// Writes `line` and a newline to the program's stdin, as if typed.
    pub fn type_line(&mut self, line: &str) {
        self.write(format!("{line}\n").as_bytes());
    }

    /// Writes bytes to the program's stdin: a little, as typed (a pipe holds some 64 KiB; more
    /// than that to a program that does not read would wait here).
    pub fn write(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is still open");
        if let Err(e) = stdin.write_all(bytes).and_then(|()| stdin.flush()) {
            self.fail(&format!("cannot write to its stdin: {e}"));
        }
    }

    /// Closes the program's stdin: end of input, what Ctrl-D does in a terminal.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits for the next stdout line. A prompt printed without a newline (Python's `input()`)
    /// is part of the line that follows it.
    pub fn next_line(&mut self) -> String {
        self.next_line_before(Instant::now() + WAIT, "line")
    }

    /// Waits for a stdout line containing `text`, skipping others, and returns it.
    pub fn wait_for(&mut self, text: &str) -> String {
        let deadline = Instant::now() + WAIT;
        let what = format!("line containing {text:?}");
        loop {
            let line = self.next_line_before(deadline, &what);
            if line.contains(text) {
                return line;
            }
        }
    }

    /// Waits until stdout contains `text`, within a line or not (a reply with no newline);
    /// returns all of stdout so far.
    pub fn wait_for_stdout(&mut self, text: &str) -> String {
        let printed = || Some(String::from_utf8_lossy(&self.stdout()).into_owned());
        match poll(|| printed().filter(|stdout| stdout.contains(text))) {
            Some(stdout) => stdout,
            None => self.fail(&format!("no {text:?} on stdout within the time limit")),
        }
    }

    /// Waits until stderr contains `text`; returns all of stderr so far.
    pub fn wait_for_stderr(&mut self, text: &str) -> String {
        match poll(|| Some(self.stderr()).filter(|stderr| stderr.contains(text))) {
            Some(stderr) => stderr,
            None => self.fail(&format!("no {text:?} on stderr within the time limit")),
        }
    }

    /// Every stdout byte so far.
    pub fn stdout(&self) -> Vec<u8> {
        self.stdout.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Stderr so far, as text.
    pub fn stderr(&self) -> String {
        let bytes = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The program's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Closes stdin and waits for the program to exit by itself; fails the test if it has not
    /// exited within the time limit (and kills it).
    pub fn finish(self) -> Finished {
        self.finish_within(WAIT)
    }

    /// Like [`External::finish`], with a time limit of `limit`.
    pub fn finish_within(mut self, limit: Duration) -> Finished {
        self.close_stdin();
        let deadline = Instant::now() + limit;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return self.collect(status),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
                Ok(None) => {
                    let _ = self.child.kill();
                    self.fail(&format!("did not exit within {} s", limit.as_secs_f64()))
                }
                Err(e) => self.fail(&format!("cannot wait for it: {e}")),
            }
        }
    }

    /// Kills the program (one that never ends by itself, such as a server) and returns what it
    /// printed until then.
    pub fn stop(mut self) -> Finished {
        let _ = self.child.kill();
        let status = self.child.wait().expect("wait for a killed child");
        self.collect(status)
    }

    /// The status, and all output once the reader threads have reached the end of the pipes.
    fn collect(self, status: ExitStatus) -> Finished {
        let deadline = Instant::now() + WAIT;
        while self.readers.iter().any(|reader| !reader.is_finished()) {
            if Instant::now() >= deadline {
                // A grandchild may hold the pipes open: take what has arrived.
                break;
            }
            thread::sleep(Duration::from_millis(5));
        }
        Finished {
            status,
            stdout: self.stdout(),
            stderr: self.stderr(),
        }
    }

    fn next_line_before(&mut self, deadline: Instant, what: &str) -> String {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(left) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => {
                self.fail(&format!("no {what} within the time limit"))
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.fail(&format!("stdout closed before {what}"))
            }
        }
    }

    fn fail(&mut self, what: &str) -> ! {
        // If the program has exited, give the readers a moment to collect its last words.
        thread::sleep(Duration::from_millis(100));
        panic!(
            "{what}\nprogram: {}\nstdout so far: {:#?}\nstderr so far: {}",
            self.command,
            String::from_utf8_lossy(&self.stdout()),
            self.stderr()
        )
    }
}

impl Drop for External {
    fn drop(&mut self) {
        // Kill and reap, so that no program outlives its test, even a failed one.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Copies everything `from` yields into `into` as soon as it arrives, and, if `lines` is given,
/// sends each line (without its line ending) there too; a last line without a newline is sent
/// at the end.
fn spawn_reader(
    mut from: impl Read + Send + 'static,
    into: Arc<Mutex<Vec<u8>>>,
    lines: Option<mpsc::Sender<String>>,
) -> JoinHandle<()> {
    thread::spawn(move || {
        let send = |line: &[u8]| {
            if let Some(lines) = &lines {
                let text = String::from_utf8_lossy(line);
                // The receiver may be gone (a test that no longer reads): keep copying.
                let _ = lines.send(text.trim_end_matches(['\n', '\r']).to_owned());
            }
        };
        let mut chunk = [0u8; 8192];
        let mut pending = Vec::new();
        loop {
            let received = match from.read(&mut chunk) {
                Ok(0) => break,
                Ok(received) => received,
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            if let Ok(mut all) = into.lock() {
                all.extend_from_slice(&chunk[..received]);
            }
            pending.extend_from_slice(&chunk[..received]);
            while let Some(at) = pending.iter().position(|&byte| byte == b'\n') {
                let line: Vec<u8> = pending.drain(..=at).collect();
                send(&line);
            }
        }
        if !pending.is_empty() {
            send(&pending);
        }
    })
}

/// The address in a `listening on ADDR` or `bound to ADDR` line.
fn address_in(line: &str) -> Option<SocketAddr> {
    announced(line).and_then(|addr| addr.trim().parse().ok())
}

/// The repository's root directory (where `interop/` and `scripts/` are).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `python3 -u SCRIPT ARGS…`, for a script path relative to the repository's root, such as
/// `interop/000_tcp_server.py`. Python's stdout and stdin speak UTF-8 whatever the locale, and
/// its output is not held back in a buffer.
pub fn python_script(python: &Path, script: &str, args: &[&str]) -> Command {
    let path = repo_root().join(script);
    assert!(path.is_file(), "no such script: {}", path.display());
    let mut command = Command::new(python);
    command
        .arg("-u")
        .arg(path)
        .args(args)
        .env("PYTHONIOENCODING", "utf-8")
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    command
}

/// One of the seeds' Python programs, `python3 interop/SCRIPT ARGS…`, running until dropped.
pub fn seed(python: &Path, script: &str, args: &[&str]) -> External {
    External::start(python_script(python, &format!("interop/{script}"), args))
}

/// A seed's server bound to 127.0.0.1, on a port the OS picks, and the address it printed.
pub fn seed_server(python: &Path, script: &str) -> (External, SocketAddr) {
    let mut server = seed(python, script, &["127.0.0.1", "0"]);
    let addr = server.addr();
    (server, addr)
}

/// Python 3, found on `PATH` by [`tool`] and checked to run: `None` (with a notice) on a
/// machine without it, a failed test in CI.
pub fn python3() -> Option<PathBuf> {
    let python = tool("python3")?;
    let works = Command::new(&python)
        .args(["-c", "import sys; sys.exit(sys.version_info[0] != 3)"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    checked("python3", &python, works, "it does not run Python 3 code")
}

/// netcat-openbsd's `nc`, found on `PATH` by [`tool`] and checked to know `-N` (shut down the
/// sending half at end of input) and `-q`, which the tests use. Another netcat (BusyBox, GNU,
/// macOS's) counts as missing: `None` with a notice, or a failed test in CI.
pub fn openbsd_nc() -> Option<PathBuf> {
    let nc = tool("nc")?;
    let usage = Command::new(&nc)
        .arg("-h")
        .stdin(Stdio::null())
        .output()
        .map(|output| {
            let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&output.stderr));
            text
        })
        .unwrap_or_default();
    let works = usage.contains("OpenBSD netcat") || (usage.contains("-N") && usage.contains("-q"));
    checked("nc", &nc, works, "it is not netcat-openbsd (no -N and -q)")
}

/// `found` if it `works`; otherwise a skip notice, or a panic when tools are required.
fn checked(name: &str, found: &Path, works: bool, why: &str) -> Option<PathBuf> {
    if works {
        return Some(found.to_path_buf());
    }
    let required = std::env::var_os(REQUIRE_TOOLS).is_some_and(|value| value == "1");
    assert!(
        !required,
        "`{name}` at {} cannot be used: {why}; {REQUIRE_TOOLS}=1 requires it \
         (Debian: apt-get install netcat-openbsd socat python3)",
        found.display()
    );
    eprintln!(
        "skipped: `{name}` at {} cannot be used: {why}",
        found.display()
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_line_is_recognised() {
        assert_eq!(
            address_in("listening on 127.0.0.1:4242"),
            Some(SocketAddr::from(([127, 0, 0, 1], 4242)))
        );
        assert_eq!(
            address_in("bound to [::1]:7"),
            Some("[::1]:7".parse().unwrap())
        );
        assert_eq!(address_in("-----server------"), None);
        assert_eq!(address_in("listening on nowhere"), None);
    }

    /// A program that is there wherever these tests run, built for the system they run on:
    /// this test binary itself. (Cargo's path, fixed at build time, names a Linux program when
    /// the tests are built on Linux for Windows and run under Wine.)
    fn this_test_binary() -> Command {
        Command::new(std::env::current_exe().unwrap())
    }

    #[test]
    fn output_is_kept_as_bytes_and_as_lines() {
        // The test harness lists one test by its exact name: a line we know in advance.
        let listed = "external::tests::the_address_line_is_recognised: test";
        let mut command = this_test_binary();
        command.args([
            "--list",
            "--exact",
            "external::tests::the_address_line_is_recognised",
        ]);
        let mut program = External::start(command);
        assert_eq!(program.next_line(), listed);
        let finished = program.finish();
        finished.assert_success();
        assert!(
            finished
                .stdout
                .starts_with(format!("{listed}\n").as_bytes())
        );
        assert!(finished.stdout.ends_with(b"\n"));
    }

    #[test]
    fn a_program_that_fails_is_reported_as_such() {
        let mut command = this_test_binary();
        command.arg("--no-such-option");
        let finished = External::start(command).finish();
        assert!(!finished.status.success());
        assert!(!finished.stderr.is_empty());
    }

    #[test]
    fn the_seeds_are_where_the_tests_look_for_them() {
        assert!(repo_root().join("interop/README.md").is_file());
    }
}
