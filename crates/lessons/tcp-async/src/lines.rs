//! Where one line ends, read the async way. TCP delivers a stream of bytes with no boundaries,
//! so, as in the other TCP lessons, a message ends at `\n` (or after a short silence, or at the
//! end of the stream), and no message grows past a bound, whatever a peer sends.

use std::io;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// The longest line the server buffers; a longer one is handled in pieces of this size.
pub const MAX_LINE: usize = 64 * 1024;

// ANCHOR: read_line
/// Appends to `line` what one `recv` brings, up to the end of a line (`\n`) and at most until
/// `line` holds `max` bytes; bytes after the newline stay in the reader for the next call.
/// Returns how many bytes it appended: 0 means the peer closed its end. The caller calls it
/// again until the line is complete (`is_complete`). `on_recv(n)` runs each time `n` new bytes
/// came from the socket (for `--trace`).
///
/// Safe to cancel: the only `.await` is `fill_buf`, which takes nothing out of the reader.
/// What it returns is copied into `line` and consumed with no `.await` in between. So when a
/// `select!` or a `timeout` drops this future while it waits, every byte read so far is either
/// still in the reader's buffer or already in `line`, which the caller keeps: the next call
/// goes on where this one stopped.
pub async fn read_line<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    line: &mut Vec<u8>,
    max: usize,
    mut on_recv: impl FnMut(usize),
) -> io::Result<usize> {
    let was_empty = reader.buffer().is_empty();
    // recv(): this task sleeps (its worker thread runs other tasks) until bytes arrive — unless
    // some are already in the buffer.
    let available = reader.fill_buf().await?;
    if was_empty {
        on_recv(available.len());
    }
    // An empty `available` is recv returning 0: the peer closed its end.
    let room = max.saturating_sub(line.len()).min(available.len());
    let take = available[..room]
        .iter()
        .position(|&byte| byte == b'\n')
        .map_or(room, |at| at + 1);
    line.extend_from_slice(&available[..take]);
    reader.consume(take);
    Ok(take)
}
// ANCHOR_END: read_line

/// Whether `line` is a message to handle now: it ends with `\n`, or it is as long as allowed.
pub fn is_complete(line: &[u8], max: usize) -> bool {
    line.ends_with(b"\n") || line.len() >= max
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines_of(input: &[u8], max: usize) -> Vec<Vec<u8>> {
        let mut reader = BufReader::with_capacity(4, input);
        let mut line = Vec::new();
        let mut lines = Vec::new();
        loop {
            let appended = read_line(&mut reader, &mut line, max, |_| {})
                .await
                .unwrap();
            if appended == 0 {
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                return lines;
            }
            if is_complete(&line, max) {
                lines.push(std::mem::take(&mut line));
            }
        }
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn lines_split_across_reads_come_out_whole_and_the_rest_at_the_end() {
        let lines = block_on(lines_of(b"hello\nwor\r\nld", 100));
        assert_eq!(lines, [&b"hello\n"[..], b"wor\r\n", b"ld"]);
    }

    #[test]
    fn an_over_long_line_comes_out_in_pieces() {
        let lines = block_on(lines_of(b"abcdefg\nh\n", 3));
        assert_eq!(lines, [&b"abc"[..], b"def", b"g\n", b"h\n"]);
    }
}
