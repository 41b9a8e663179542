//! A fixed pool of worker threads fed by a channel: the pattern of the last chapter of the Rust
//! book ("Turning Our Single-Threaded Server into a Multithreaded Server"), written for this
//! lesson. However many clients connect, the server runs at most `size` of them at once; the
//! others wait in the channel, in order, until a worker is free.

use std::io;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};

/// A job for a worker; it receives the worker's number, 1 to `size`, to say who serves whom.
type Job = Box<dyn FnOnce(usize) + Send + 'static>;

// ANCHOR: pool
/// `size` threads that take jobs from one channel, one job at a time each.
pub struct ThreadPool {
    workers: Vec<JoinHandle<()>>,
    /// `None` once the pool shuts down: dropping the sender tells the workers to stop.
    sender: Option<Sender<Job>>,
}

impl ThreadPool {
    /// Starts `size` workers. Fails if the operating system refuses to start a thread.
    pub fn new(size: usize) -> io::Result<ThreadPool> {
        let (sender, receiver) = mpsc::channel::<Job>();
        // One receiver, shared: whichever worker is free takes the next job.
        let receiver = Arc::new(Mutex::new(receiver));
        let mut workers = Vec::with_capacity(size);
        for number in 1..=size {
            let receiver = Arc::clone(&receiver);
            let worker = thread::Builder::new()
                .name(format!("worker {number}"))
                .spawn(move || work(number, &receiver))?;
            workers.push(worker);
        }
        Ok(ThreadPool {
            workers,
            sender: Some(sender),
        })
    }

    /// Queues a job; the first free worker runs it.
    pub fn execute(&self, job: impl FnOnce(usize) + Send + 'static) -> io::Result<()> {
        let sender = self.sender.as_ref().ok_or_else(no_workers)?;
        sender.send(Box::new(job)).map_err(|_| no_workers())
    }
}

/// A worker's life: take a job, run it, repeat, until the channel closes.
fn work(number: usize, receiver: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only while taking a job (it is released at the end of this
        // statement), never while running one: otherwise the workers would take turns.
        let next = receiver
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recv();
        match next {
            Ok(job) => job(number),
            // The sender is gone: the pool is shutting down.
            Err(_) => return,
        }
    }
}

impl Drop for ThreadPool {
    /// Closes the channel, lets the workers finish the jobs already queued, and joins them.
    fn drop(&mut self) {
        drop(self.sender.take());
        for worker in self.workers.drain(..) {
            // A worker that panicked has nothing left to clean up.
            let _ = worker.join();
        }
    }
}
// ANCHOR_END: pool

fn no_workers() -> io::Error {
    io::Error::other("the worker pool has stopped")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn every_job_runs_and_drop_waits_for_them() {
        let done = Arc::new(AtomicUsize::new(0));
        let pool = ThreadPool::new(3).unwrap();
        for _ in 0..10 {
            let done = Arc::clone(&done);
            pool.execute(move |_| {
                thread::sleep(Duration::from_millis(5));
                done.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
        }
        drop(pool);
        assert_eq!(done.load(Ordering::SeqCst), 10);
    }

    #[test]
    fn no_more_than_size_jobs_run_at_once() {
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let pool = ThreadPool::new(2).unwrap();
        for _ in 0..6 {
            let (running, most) = (Arc::clone(&running), Arc::clone(&most));
            pool.execute(move |number| {
                assert!((1..=2).contains(&number));
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                thread::sleep(Duration::from_millis(20));
                running.fetch_sub(1, Ordering::SeqCst);
            })
            .unwrap();
        }
        drop(pool);
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }
}
