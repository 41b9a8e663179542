//! Clients of the line protocol (tcp-threaded, tcp-nonblocking, tcp-async) played by a test:
//! a connection typed into by hand, and a lesson's client kept running with its stdin open.
//!
//! Like [`crate::testing`], these helpers panic on failure: they run only inside tests.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use crate::testing::{WAIT, connect};

/// A client played by hand: a connection with timeouts, and its incoming lines.
pub struct Peer {
    pub stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Peer {
    pub fn connect(addr: SocketAddr) -> Peer {
        let stream = connect(addr);
        let reader = BufReader::new(stream.try_clone().unwrap());
        Peer { stream, reader }
    }

    /// This side's address, as the server names it.
    pub fn addr(&self) -> SocketAddr {
        self.stream.local_addr().unwrap()
    }

    pub fn send(&mut self, line: &str) {
        self.stream
            .write_all(format!("{line}\n").as_bytes())
            .unwrap();
    }

    /// The next line, without its newline; "" at the end of the stream.
    pub fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        line.trim_end_matches('\n').to_owned()
    }

    /// Whether nothing arrives for half a second.
    pub fn stays_silent(&mut self) -> bool {
        self.stream
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut byte = [0u8; 1];
        let silent = matches!(
            self.reader.read(&mut byte),
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
        );
        self.stream.set_read_timeout(Some(WAIT)).unwrap();
        silent
    }

    /// Sends a line and returns the reply.
    pub fn ask(&mut self, line: &str) -> String {
        self.send(line);
        self.line()
    }
}

/// `PROGRAM client --connect ADDR ARGS…` as a child process whose stdin stays open until
/// `close_stdin`, so a test can see what it prints while it is still waiting for input.
pub struct LiveClient {
    child: Child,
    lines: Receiver<String>,
}

impl LiveClient {
    pub fn start(program: impl AsRef<OsStr>, addr: SocketAddr, args: &[&str]) -> LiveClient {
        let mut child = Command::new(program)
            .args(["client", "--connect", &addr.to_string()])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        LiveClient { child, lines }
    }

    /// Waits for a line containing `text` and returns it.
    pub fn wait_for(&mut self, text: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(error) => panic!("the client printed no line containing {text:?}: {error}"),
            }
        }
    }

    pub fn type_line(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
    }

    /// Types without pressing Enter.
    pub fn type_text(&mut self, text: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(text.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    pub fn close_stdin(&mut self) {
        drop(self.child.stdin.take());
    }

    /// Waits for the client to exit by itself; returns whether it succeeded.
    pub fn wait_for_exit(mut self) -> bool {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.success();
            }
            assert!(Instant::now() < deadline, "the client did not exit in time");
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for LiveClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `kill -SIGNAL PID`: the standard command, so the tests need no crate for signals.
#[cfg(unix)]
pub fn send_signal(signal: &str, pid: u32) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .expect("running kill");
    assert!(status.success(), "kill -{signal} {pid} failed");
}
