//! A delay line: datagrams wait in a queue ordered by the time they are due, and one scheduler
//! thread sends each when its time comes. One thread for all of them, however many are waiting:
//! a thread per datagram would cost a stack for every datagram in flight.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// A datagram on its way: what to send, from which socket, to whom.
pub struct Outgoing {
    pub datagram: Vec<u8>,
    pub socket: Arc<UdpSocket>,
    /// Where to send it; `None` for a connected socket, which knows.
    pub to: Option<SocketAddr>,
    /// Who sent it to the relay, and for whom it is meant: for the relay's lines.
    pub from: SocketAddr,
    pub destination: SocketAddr,
}

struct Waiting {
    due: Instant,
    /// Arrival order: two datagrams due at the same instant leave in the order they came.
    order: u64,
    outgoing: Outgoing,
}

impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap pops the greatest: reversed, so the earliest due comes out first.
        (other.due, other.order).cmp(&(self.due, self.order))
    }
}
impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        self.order == other.order
    }
}
impl Eq for Waiting {}

/// At most this many bytes wait on the line; beyond, datagrams are dropped, as a router drops
/// what no longer fits its queue. Bounds the relay's memory whatever its clients send.
const MAX_WAITING_BYTES: usize = 32 * 1024 * 1024;

#[derive(Default)]
struct Queue {
    waiting: BinaryHeap<Waiting>,
    bytes: usize,
    next_order: u64,
}

/// The queue, shared by the threads that receive and the one that sends.
pub struct DelayLine {
    delay: Duration,
    queue: Mutex<Queue>,
    changed: Condvar,
}

impl DelayLine {
    pub fn new(delay: Duration) -> Arc<DelayLine> {
        Arc::new(DelayLine {
            delay,
            queue: Mutex::new(Queue::default()),
            changed: Condvar::new(),
        })
    }

    /// Queues a datagram that arrived just now; it leaves `delay` later. Returns false, and
    /// drops it, if the line is full.
    pub fn push(&self, outgoing: Outgoing) -> bool {
        let due = Instant::now() + self.delay;
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if queue.bytes + outgoing.datagram.len() > MAX_WAITING_BYTES {
            return false;
        }
        queue.bytes += outgoing.datagram.len();
        let order = queue.next_order;
        queue.next_order += 1;
        queue.waiting.push(Waiting {
            due,
            order,
            outgoing,
        });
        // The scheduler may be asleep until a later datagram's time, or with nothing to do.
        self.changed.notify_one();
        true
    }

    /// Starts the scheduler thread: it calls `send` with each datagram when it is due.
    pub fn start(self: &Arc<Self>, send: impl Fn(Outgoing) + Send + 'static) {
        let line = Arc::clone(self);
        thread::spawn(move || {
            loop {
                let outgoing = line.next_due();
                send(outgoing);
            }
        });
    }

    /// Waits until the earliest datagram is due and takes it out of the queue.
    fn next_due(&self) -> Outgoing {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let now = Instant::now();
            let wait = match queue.waiting.peek() {
                Some(first) if first.due <= now => {
                    if let Some(first) = queue.waiting.pop() {
                        queue.bytes -= first.outgoing.datagram.len();
                        return first.outgoing;
                    }
                    continue;
                }
                Some(first) => first.due - now,
                // Nothing queued: sleep until a push wakes us.
                None => Duration::from_secs(3600),
            };
            queue = self
                .changed
                .wait_timeout(queue, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn outgoing(text: &str, socket: &Arc<UdpSocket>) -> Outgoing {
        let addr = socket.local_addr().unwrap();
        Outgoing {
            datagram: text.as_bytes().to_vec(),
            socket: Arc::clone(socket),
            to: Some(addr),
            from: addr,
            destination: addr,
        }
    }

    #[test]
    fn datagrams_leave_in_order_after_the_delay() {
        let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
        let line = DelayLine::new(Duration::from_millis(100));
        let (sent, leaving) = mpsc::channel();
        line.start(move |outgoing| {
            let _ = sent.send((Instant::now(), outgoing.datagram));
        });
        let start = Instant::now();
        for text in ["one", "two", "three"] {
            assert!(line.push(outgoing(text, &socket)));
        }
        let mut order = Vec::new();
        for _ in 0..3 {
            let (at, datagram) = leaving.recv_timeout(Duration::from_secs(15)).unwrap();
            assert!(at - start >= Duration::from_millis(100));
            order.push(String::from_utf8(datagram).unwrap());
        }
        assert_eq!(order, ["one", "two", "three"]);
    }

    #[test]
    fn a_full_line_refuses_more() {
        let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
        // Never started: nothing leaves.
        let line = DelayLine::new(Duration::from_secs(1));
        let big = "x".repeat(60_000);
        let fits = MAX_WAITING_BYTES / big.len();
        for _ in 0..fits {
            assert!(line.push(outgoing(&big, &socket)));
        }
        assert!(!line.push(outgoing(&big, &socket)));
    }
}
