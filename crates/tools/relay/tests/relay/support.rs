//! Starting the relay the way a student would, and plain sockets that play the client and the
//! server around it.
#![allow(dead_code)] // each test file uses some of these

use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::Command;
use std::thread;

use assert_cmd::cargo::cargo_bin;
use test_support::testing::{Running, WAIT};

/// `relay MODE --listen 127.0.0.1:0 --to UPSTREAM ARGS…`, past its two opening lines.
pub fn relay(mode: &str, upstream: SocketAddr, args: &[&str]) -> Running {
    let mut command = Command::new(cargo_bin!("relay"));
    command
        .args([
            mode,
            "--listen",
            "127.0.0.1:0",
            "--to",
            &upstream.to_string(),
        ])
        .args(args);
    let mut running = Running::start(command);
    running.wait_for("relaying to ");
    running
}

/// A UDP socket on 127.0.0.1 whose receives give up after [`WAIT`].
pub fn udp_socket() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    socket
}

/// A UDP server that answers every datagram with `SENDER says TEXT`, on its own thread.
pub fn udp_echo_server() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    thread::spawn(move || {
        let mut buffer = [0u8; 2048];
        while let Ok((size, from)) = socket.recv_from(&mut buffer) {
            let text = String::from_utf8_lossy(&buffer[..size]);
            let _ = socket.send_to(format!("{from} says {text}").as_bytes(), from);
        }
    });
    addr
}

/// A TCP server for one connection: echoes every byte until the client shuts down its
/// writing half, then sends `bye` and closes. Only a passed-on half-close gets the `bye`.
pub fn tcp_echo_then_bye() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut reader = stream.try_clone().unwrap();
        let mut writer = stream;
        // Returns at the end of the stream: the client's shutdown(Write), passed on.
        if std::io::copy(&mut reader, &mut writer).is_ok() {
            use std::io::Write;
            let _ = writer.write_all(b"bye");
        }
    });
    addr
}

/// A TCP connection with read and write timeouts.
pub fn tcp_connect(addr: SocketAddr) -> TcpStream {
    test_support::testing::connect(addr)
}
