//! The server under test: started from its command line, its address read from its first
//! line (`listening on ADDR`), its output drained so that it never blocks on a full pipe, its
//! memory read from /proc, and stopped at the end. Or one already running, given by address
//! (and process id, for its memory).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// How many of the server's last output lines are kept, to show when something goes wrong.
const TAIL: usize = 20;

pub struct Server {
    /// The process, if the soak started it.
    child: Option<Child>,
    pid: Option<u32>,
    pub addr: SocketAddr,
    output: Arc<Mutex<Output>>,
}

/// What the server printed that matters here.
#[derive(Default)]
struct Output {
    /// The last lines, stdout and stderr mixed.
    tail: VecDeque<String>,
    /// Every line that reports a panic.
    panics: Vec<String>,
}

impl Server {
    /// Runs `command` and waits (at most `wait`) for its `listening on ADDR` line.
    pub fn start(command: &[String], wait: Duration) -> Result<Server, String> {
        let (program, args) = command.split_first().ok_or("no server command given")?;
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| format!("cannot start {program}: {error}"))?;
        let output = Arc::new(Mutex::new(Output::default()));
        let (first_line, first) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            drain(stdout, Arc::clone(&output), Some(first_line));
        }
        if let Some(stderr) = child.stderr.take() {
            drain(stderr, Arc::clone(&output), None);
        }
        let line = first.recv_timeout(wait).unwrap_or_default();
        let addr = line
            .strip_prefix("listening on ")
            .and_then(|addr| addr.parse().ok());
        let mut server = Server {
            pid: Some(child.id()),
            child: Some(child),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            output,
        };
        match addr {
            Some(addr) => {
                server.addr = addr;
                Ok(server)
            }
            None => Err(format!(
                "{program} printed no `listening on ADDR` line within {} s:\n{}",
                wait.as_secs_f64(),
                server.tail()
            )),
        }
    }

    /// A server that is already running at `addr`, process `pid` if known.
    pub fn attach(addr: SocketAddr, pid: Option<u32>) -> Server {
        Server {
            child: None,
            pid,
            addr,
            output: Arc::default(),
        }
    }

    /// The server's resident memory in KiB (VmRSS in /proc/PID/status): Linux only.
    pub fn rss_kib(&self) -> Option<u64> {
        if !cfg!(target_os = "linux") {
            return None;
        }
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid?)).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// Why the server is no longer fit to serve: it exited, or it panicked.
    pub fn trouble(&mut self) -> Option<String> {
        if let Some(child) = &mut self.child
            && let Ok(Some(status)) = child.try_wait()
        {
            return Some(format!("the server exited ({status})"));
        }
        let panics = self
            .output
            .lock()
            .map(|o| o.panics.join("\n"))
            .unwrap_or_default();
        (!panics.is_empty()).then(|| format!("the server panicked:\n{panics}"))
    }

    /// The server's last lines of output, stdout and stderr mixed.
    pub fn tail(&self) -> String {
        let lines = self
            .output
            .lock()
            .map(|o| o.tail.clone())
            .unwrap_or_default();
        lines.into_iter().collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Reads `stream` to its end on a thread of its own, keeping the last lines and any line that
/// reports a panic. The first line goes to `first`.
fn drain(
    stream: impl Read + Send + 'static,
    output: Arc<Mutex<Output>>,
    mut first: Option<mpsc::Sender<String>>,
) {
    thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            // Lines of echoed messages can be 64 KiB long: keep their start only.
            let text: String = String::from_utf8_lossy(&line)
                .trim_end()
                .chars()
                .take(200)
                .collect();
            if let Some(first) = first.take() {
                let _ = first.send(text.clone());
            }
            if let Ok(mut output) = output.lock() {
                if text.contains("panicked") {
                    output.panics.push(text.clone());
                }
                if output.tail.len() == TAIL {
                    output.tail.pop_front();
                }
                output.tail.push_back(text);
            }
            line.clear();
        }
    });
}
