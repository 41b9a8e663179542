//! The echo servers' workload (tcp-echo, tcp-threaded, long-short): newline-terminated
//! messages of 1 B to 64 KiB, written three ways — one write each, pipelined (several in one
//! write before reading any reply), or one byte per write — and every echo compared byte for
//! byte with what was sent.

use std::io::{Read, Write};
use std::net::TcpStream;

use crate::rng::Rng;

/// The longest message, newline included: the servers' line limit.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// A pipelined batch stays under this many bytes. Much more, and neither side would read while
/// both write: the server's replies fill our receive buffer, its writes block, it stops reading,
/// and our writes block in turn.
const MAX_IN_FLIGHT: usize = 128 * 1024;

/// A message written one byte per write is at most this long (each byte is a system call and,
/// with Nagle off, a TCP segment).
const MAX_BYTE_BY_BYTE: usize = 512;

/// One connection: `messages` messages, each echo checked. Returns how many were checked.
pub fn session(mut stream: TcpStream, rng: &mut Rng, messages: usize) -> Result<u64, String> {
    let mut checked = 0u64;
    while (checked as usize) < messages {
        let left = messages - checked as usize;
        let batch = match rng.range(0, 9) {
            // Pipelined: several messages in one write, then all their echoes.
            0..=2 if left > 1 => {
                let mut batch = vec![message(rng, MAX_MESSAGE)];
                while batch.len() < left.min(8) {
                    let next = message(rng, MAX_MESSAGE);
                    if batch.iter().map(Vec::len).sum::<usize>() + next.len() > MAX_IN_FLIGHT {
                        break;
                    }
                    batch.push(next);
                }
                stream
                    .write_all(&batch.concat())
                    .map_err(|e| format!("sending {} pipelined messages: {e}", batch.len()))?;
                batch
            }
            // Byte by byte: the server must put the message together from many reads.
            3..=4 => {
                let one = message(rng, MAX_BYTE_BY_BYTE);
                for byte in one.chunks(1) {
                    stream
                        .write_all(byte)
                        .map_err(|e| format!("sending a message byte by byte: {e}"))?;
                }
                vec![one]
            }
            // One message, one write.
            _ => {
                let one = message(rng, MAX_MESSAGE);
                stream
                    .write_all(&one)
                    .map_err(|e| format!("sending a message: {e}"))?;
                vec![one]
            }
        };
        for sent in batch {
            check_echo(&mut stream, &sent, checked)?;
            checked += 1;
        }
    }
    Ok(checked)
}

/// A message of 1 to `max` bytes: printable ASCII, then a newline (a 1-byte message is a bare
/// newline).
fn message(rng: &mut Rng, max: usize) -> Vec<u8> {
    let length = rng.size(max);
    let mut message: Vec<u8> = rng
        .bytes(length - 1)
        .into_iter()
        .map(|byte| b' ' + byte % 95)
        .collect();
    message.push(b'\n');
    message
}

/// Reads exactly as many bytes as were sent and compares them.
fn check_echo(stream: &mut TcpStream, sent: &[u8], number: u64) -> Result<(), String> {
    let mut echo = vec![0u8; sent.len()];
    stream.read_exact(&mut echo).map_err(|e| {
        format!(
            "reading the echo of message {number} ({} bytes): {e}",
            sent.len()
        )
    })?;
    if echo != sent {
        let at = echo.iter().zip(sent).position(|(a, b)| a != b).unwrap_or(0);
        return Err(format!(
            "the echo of message {number} ({} bytes) differs from it at byte {at}",
            sent.len()
        ));
    }
    Ok(())
}
