//! `server --busy-poll`: the first loop everyone writes after `setblocking(False)`, kept to be
//! measured, not copied. Every socket is non-blocking, so nothing ever waits: the loop asks the
//! listening socket for a client, then every client for bytes, then starts again at once. It
//! serves everyone — and when nobody says anything it still spins, a whole core at 100 %, asking
//! sockets that have nothing to say. (Echo only: no lines, no room, no timeouts.)

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::Console;

use crate::options::Options;

// ANCHOR: busy_loop
/// Asks every socket in turn, for ever, until a signal comes.
pub fn serve(
    listener: TcpListener,
    options: &Options,
    console: Console,
    stop: &AtomicUsize,
) -> anyhow::Result<()> {
    let mut clients: Vec<(TcpStream, SocketAddr)> = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut served = 0u64;
    while stop.load(Ordering::SeqCst) == 0 {
        // Anyone waiting to connect? accept() returns WouldBlock at once if not.
        match listener.accept() {
            Ok((stream, peer)) => {
                if stream.set_nonblocking(true).is_err() {
                    continue; // one client's failure is not the server's
                }
                served += 1;
                clients.push((stream, peer));
                say(
                    options,
                    console,
                    format_args!("connection from {peer} ({} active)", clients.len()),
                );
            }
            Err(error) if error.kind() == ErrorKind::WouldBlock => {}
            Err(error) => console.say(format_args!("accept() failed: {error}")),
        }
        // Anything from anyone? Each read returns WouldBlock at once if not — and we ask again,
        // and again: this is where the core burns.
        clients.retain_mut(|(stream, peer)| match stream.read(&mut chunk) {
            Ok(0) => {
                say(
                    options,
                    console,
                    format_args!("{peer} closed the connection"),
                );
                false
            }
            // Not the way to write to a non-blocking socket (a full buffer fails the write with
            // WouldBlock and drops the client): the readiness loop queues what is owed instead.
            Ok(received) => stream.write_all(&chunk[..received]).is_ok(),
            Err(error) if error.kind() == ErrorKind::WouldBlock => true,
            Err(_) => false,
        });
    }
    console.say("stopping: no new connections");
    console.say(format_args!(
        "served {served} connection{}",
        if served == 1 { "" } else { "s" }
    ));
    Ok(())
}
// ANCHOR_END: busy_loop

fn say(options: &Options, console: Console, line: std::fmt::Arguments) {
    if !options.quiet {
        console.say(line);
    }
}
