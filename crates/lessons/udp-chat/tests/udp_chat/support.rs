//! Starting chats the way a student would, from the built binary, with stdin the test types
//! into; and plain UDP sockets for tests that play a peer by hand.
#![allow(dead_code)] // each test file uses some of these

use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::process::{ChildStdin, Command};

use assert_cmd::cargo::cargo_bin;
use test_support::testing::{Running, WAIT};

/// A running `udp-chat --bind 127.0.0.1:0 ARGS…` and its keyboard.
pub struct Chat {
    pub running: Running,
    stdin: Option<ChildStdin>,
}

impl Chat {
    /// Starts a chat and waits for its `bound to` line.
    pub fn start(args: &[&str]) -> Chat {
        let mut command = Command::new(cargo_bin!("udp-chat"));
        command.args(["--bind", "127.0.0.1:0"]).args(args);
        let (running, stdin) = Running::start_with_stdin(command);
        Chat {
            running,
            stdin: Some(stdin),
        }
    }

    /// Where the chat is bound.
    pub fn addr(&self) -> SocketAddr {
        self.running.addr()
    }

    /// Types a line, as if at the keyboard.
    pub fn type_line(&mut self, line: &str) {
        let stdin = self
            .stdin
            .as_mut()
            .unwrap_or_else(|| panic!("stdin is closed"));
        writeln!(stdin, "{line}").unwrap_or_else(|e| panic!("cannot type {line:?}: {e}"));
    }

    /// Ends the input, as Ctrl-D does.
    pub fn end_input(&mut self) {
        self.stdin = None;
    }

    /// Waits for a stdout line containing `text`.
    pub fn wait_for(&mut self, text: &str) -> String {
        self.running.wait_for(text)
    }
}

/// A UDP socket on 127.0.0.1 with a port from the OS, whose receives give up after [`WAIT`].
pub fn udp_socket() -> UdpSocket {
    let socket =
        UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("cannot bind 127.0.0.1:0: {e}"));
    socket
        .set_read_timeout(Some(WAIT))
        .unwrap_or_else(|e| panic!("cannot set a read timeout: {e}"));
    socket
}
