//! `--broadcast`: the chat room as queues. tcp-threaded gave each member a writer thread and a
//! channel; here a member's queue is its `owed` list, and a line is built once and shared
//! (`Arc<[u8]>`) by every queue. A member whose queue is full is not reading: it is dropped at
//! once, and nobody waits for it.

use std::net::SocketAddr;
use std::sync::Arc;

use common::Encoding;
use mio::Token;

use crate::connection::{Ending, QUEUE};
use crate::table::Table;

/// `PEER: TEXT\n`, in the room's encoding (the peer's address is ASCII, which every encoding
/// the lessons offer writes the same way).
fn tagged(speaker: SocketAddr, line: &[u8], encoding: Encoding) -> Arc<[u8]> {
    let tag = format!("{speaker}: ");
    let mut message = encoding.encode(&tag).unwrap_or_else(|_| tag.into_bytes());
    message.extend_from_slice(line);
    if !message.ends_with(b"\n") {
        message.push(b'\n');
    }
    message.into()
}

// ANCHOR: broadcast
/// `--broadcast`: queue `PEER: TEXT` for every other client, and send what can be sent
/// now. One copy of the line, shared by every queue. A client whose queue is full is not
/// reading: it is dropped, and nobody waits for it.
pub fn broadcast(table: &mut Table, speaker: SocketAddr, line: &[u8]) {
    let message = tagged(speaker, line, table.options.encoding.encoding);
    let mut ended = Vec::new();
    let console = table.console;
    // The speaker is out of the table while it is served: it does not hear itself.
    for (&token, listener) in &mut table.connections {
        if listener.owed.len() >= QUEUE {
            ended.push((token, Ending::Dropped));
            continue;
        }
        listener.owe(Arc::clone(&message));
        if let Err(error) = listener.flush(console) {
            ended.push((token, Ending::Failed(error)));
        }
    }
    for (token, ending) in ended {
        if let Some(listener) = table.take(token) {
            table.close(listener, ending);
        }
    }
    // The others' interests and deadlines change with what they are owed.
    let tokens: Vec<Token> = table.connections.keys().copied().collect();
    for token in tokens {
        if let Some(listener) = table.take(token) {
            table.put_back(token, listener);
        }
    }
}
// ANCHOR_END: broadcast
