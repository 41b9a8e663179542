//! Where one message ends. TCP delivers a stream of bytes with no boundaries: one `read` may
//! return half a line, or three lines at once. So the lessons decide: a message ends at `\n` —
//! or, for peers that send no newline (like the tutorials' Python programs), after a short
//! silence. The tcp-echo lesson explains this; the later TCP lessons reuse it.

use std::time::Duration;

/// How long a pause ends a message that has no newline.
pub const SILENCE: Duration = Duration::from_millis(250);

// ANCHOR: pending
/// Bytes received but not yet handed out as messages.
#[derive(Debug, Default)]
pub struct Pending {
    bytes: Vec<u8>,
    /// How far `bytes` is known to hold no `\n`, so each byte is searched once.
    searched: usize,
}

impl Pending {
    /// Adds what one `read` returned.
    pub fn push(&mut self, received: &[u8]) {
        self.bytes.extend_from_slice(received);
    }

    /// The first complete line, with its `\n`; or the first `max` bytes when that many have
    /// arrived without a newline, so that a peer cannot make us buffer without limit.
    pub fn take_line(&mut self, max: usize) -> Option<Vec<u8>> {
        let newline = self.bytes[self.searched..]
            .iter()
            .position(|&byte| byte == b'\n')
            .map(|at| self.searched + at);
        let end = match newline {
            Some(at) if at < max => at + 1,
            _ if self.bytes.len() >= max => max,
            _ => {
                self.searched = self.bytes.len();
                return None;
            }
        };
        self.searched = 0;
        Some(self.bytes.drain(..end).collect())
    }

    /// Everything left, as one last message (at end of stream, or after a silence).
    pub fn take_rest(&mut self) -> Option<Vec<u8>> {
        self.searched = 0;
        (!self.bytes.is_empty()).then(|| std::mem::take(&mut self.bytes))
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}
// ANCHOR_END: pending

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_split_across_reads_comes_out_whole() {
        let mut pending = Pending::default();
        pending.push(b"hel");
        assert_eq!(pending.take_line(100), None);
        pending.push(b"lo\nwor");
        assert_eq!(pending.take_line(100), Some(b"hello\n".to_vec()));
        assert_eq!(pending.take_line(100), None);
        assert_eq!(pending.take_rest(), Some(b"wor".to_vec()));
        assert!(pending.is_empty());
    }

    #[test]
    fn two_lines_in_one_read_come_out_one_by_one() {
        let mut pending = Pending::default();
        pending.push(b"a\r\nb\n");
        assert_eq!(pending.take_line(100), Some(b"a\r\n".to_vec()));
        assert_eq!(pending.take_line(100), Some(b"b\n".to_vec()));
        assert_eq!(pending.take_line(100), None);
        assert_eq!(pending.take_rest(), None);
    }

    #[test]
    fn an_over_long_line_comes_out_in_pieces() {
        let mut pending = Pending::default();
        pending.push(b"abcdefg\n");
        assert_eq!(pending.take_line(3), Some(b"abc".to_vec()));
        assert_eq!(pending.take_line(3), Some(b"def".to_vec()));
        assert_eq!(pending.take_line(3), Some(b"g\n".to_vec()));
        assert_eq!(pending.take_line(3), None);
    }

    #[test]
    fn searching_resumes_where_it_stopped() {
        let mut pending = Pending::default();
        pending.push(b"abc");
        assert_eq!(pending.take_line(100), None);
        pending.push(b"\n");
        assert_eq!(pending.take_line(100), Some(b"abc\n".to_vec()));
    }
}
