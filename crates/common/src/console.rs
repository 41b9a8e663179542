//! Where a lesson's program reports what happens. Events and received text go to stdout, one
//! whole line at a time; trace lines and prompts go to stderr. In a `demo`, where a server and a
//! client share one process, each side's lines carry a prefix such as `[server] `.

use std::fmt::Display;
use std::io::{self, IsTerminal, Write};

/// One side's output: its prefix, and whether `--trace` is on.
#[derive(Clone, Copy, Debug, Default)]
pub struct Console {
    prefix: &'static str,
    trace: bool,
}

impl Console {
    /// Output with no prefix; `trace` turns on the `trace: …` lines.
    pub fn new(trace: bool) -> Self {
        Console { prefix: "", trace }
    }

    /// The same output with every line prefixed, as `demo` shows each side.
    pub fn with_prefix(self, prefix: &'static str) -> Self {
        Console { prefix, ..self }
    }

    /// One line on stdout, flushed at once so tests and pipes see it immediately.
    pub fn say(&self, line: impl Display) {
        // One write per whole line, so that lines from two threads (or stdout and stderr
        // sent to one terminal) never mix. A closed stdout (`| head`) must not panic the
        // program: the line is simply lost.
        let line = format!("{}{line}\n", self.prefix);
        let mut out = io::stdout().lock();
        let _ = out.write_all(line.as_bytes()).and_then(|()| out.flush());
    }

    /// `trace: CALL` on stderr, when `--trace` is on: the socket call that just happened.
    pub fn trace(&self, call: impl Display) {
        if self.trace {
            let line = format!("{}trace: {call}\n", self.prefix);
            let _ = io::stderr().lock().write_all(line.as_bytes());
        }
    }

    /// Whether trace lines are printed.
    pub fn tracing(&self) -> bool {
        self.trace
    }

    /// `> ` on stderr when stdin is a terminal, so that piped input produces no prompts.
    pub fn prompt(&self) {
        if io::stdin().is_terminal() {
            let mut err = io::stderr().lock();
            let _ = write!(err, "{}> ", self.prefix).and_then(|()| err.flush());
        }
    }

    /// Ends the prompt's line when input ends at a prompt (Ctrl-D), so the next line starts clean.
    pub fn end_prompt(&self) {
        if io::stdin().is_terminal() {
            let _ = writeln!(io::stderr().lock());
        }
    }
}
