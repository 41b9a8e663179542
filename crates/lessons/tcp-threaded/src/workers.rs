//! The three ways to serve a client once the accept loop has counted it in: on the accepting
//! thread itself (`--sequential`, to compare), on a new thread of its own (seed 000), or on one
//! of a fixed pool of threads (`--pool N`; the pool is in `pool.rs`). What serving a client
//! means is the server's business (`Server::serve_client`): the workers get it as a closure.

use std::io;
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use anyhow::Context;

use crate::admission::{Client, Clients};
use crate::options::Options;
use crate::pool::ThreadPool;

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
    /// Gives an accepted client to whoever serves it (`serve`), and returns to the accept loop
    /// at once — except in seed 002's mistake. `Err`: no thread could take it; the client was
    /// dropped with `serve`.
    pub fn hand_over(
        &mut self,
        client: Client,
        clients: &Arc<Clients>,
        serve: impl FnOnce(Client) + Send + 'static,
    ) -> io::Result<()> {
        let peer = client.peer;
        match self {
            Workers::AcceptingThread => serve(client),
            Workers::ThreadPerConnection(threads) => {
                // Forget the threads that have finished (their resources are already freed).
                threads.retain(|thread| !thread.is_finished());
                clients
                    .console
                    .trace(format_args!("thread::spawn() to serve {peer}"));
                // The thread gets `serve` and, in it, its own handle on the server: an Arc,
                // shared by all threads.
                let thread = thread::Builder::new()
                    .name(format!("client {peer}"))
                    .spawn(move || serve(client))?;
                threads.push(thread);
            }
            Workers::Pool(pool) => {
                clients
                    .console
                    .trace(format_args!("channel send: {peer} waits for a worker"));
                let shared = Arc::clone(clients);
                pool.execute(move |worker| {
                    shared.say(format_args!("worker {worker} serves {peer}"));
                    serve(client);
                })?;
            }
        }
        Ok(())
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
