//! The three ways to serve a client once the accept loop has counted it in: on the accepting
//! thread itself (`--sequential`, to compare), on a new thread of its own (seed 000), or on one
//! of a fixed pool of threads (`--pool N`; the pool is in `pool.rs`).

use std::sync::Arc;
use std::thread::{self, JoinHandle};

use anyhow::Context;

use crate::options::Options;
use crate::pool::ThreadPool;
use crate::server::{Client, Server};

// ANCHOR: workers
/// Who serves the connections that the accept loop hands over.
pub enum Workers {
    /// `--sequential`: the accepting thread serves each client itself until it leaves, as
    /// tcp-echo's server does, so the next client waits. One thread is not concurrency.
    AcceptingThread,
    /// Seed 000: a new thread for every connection. The handles are kept so that the threads
    /// can be joined at the end.
    ThreadPerConnection(Vec<JoinHandle<()>>),
    /// `--pool N`: N threads, started once; connections wait in the pool's channel.
    Pool(ThreadPool),
}
// ANCHOR_END: workers

impl Workers {
    /// The workers the options ask for: a pool (`--pool N`), the accepting thread
    /// (`--sequential`), or else a thread per connection.
    pub fn start(options: &Options) -> anyhow::Result<Workers> {
        Ok(match options.pool {
            Some(size) => Workers::Pool(
                ThreadPool::new(usize::from(size)).context("starting the worker threads")?,
            ),
            None if options.sequential => Workers::AcceptingThread,
            None => Workers::ThreadPerConnection(Vec::new()),
        })
    }

    // ANCHOR: hand_over
    /// Gives an accepted client to whoever serves it, and returns to the accept loop at once —
    /// except in seed 002's mistake.
    pub fn hand_over(&mut self, server: &Arc<Server>, client: Client) {
        let (number, peer) = (client.number, client.peer);
        match self {
            Workers::AcceptingThread => server.serve_client(client),
            Workers::ThreadPerConnection(threads) => {
                // Forget the threads that have finished (their resources are already freed).
                threads.retain(|thread| !thread.is_finished());
                server
                    .console
                    .trace(format_args!("thread::spawn() to serve {peer}"));
                // The thread gets its own handle on the server: an Arc, shared by all threads.
                let shared = Arc::clone(server);
                let spawned = thread::Builder::new()
                    .name(format!("client {peer}"))
                    .spawn(move || shared.serve_client(client));
                match spawned {
                    Ok(thread) => threads.push(thread),
                    // The OS refused a thread; the connection was dropped with the closure.
                    Err(error) => server.lost(number, peer, error),
                }
            }
            Workers::Pool(pool) => {
                server
                    .console
                    .trace(format_args!("channel send: {peer} waits for a worker"));
                let shared = Arc::clone(server);
                let queued = pool.execute(move |worker| {
                    shared.say(format_args!("worker {worker} serves {peer}"));
                    shared.serve_client(client);
                });
                if let Err(error) = queued {
                    server.lost(number, peer, error);
                }
            }
        }
    }
    // ANCHOR_END: hand_over

    /// Waits for every client thread (they have all finished their clients by now).
    pub fn join(self) {
        match self {
            Workers::AcceptingThread => {}
            Workers::ThreadPerConnection(threads) => {
                for thread in threads {
                    let _ = thread.join();
                }
            }
            // Dropping the pool closes its channel and joins its workers.
            Workers::Pool(pool) => drop(pool),
        }
    }
}
