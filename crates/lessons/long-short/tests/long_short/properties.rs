//! Property tests of the server's framing, over real connections: whatever bytes a client
//! sends, cut into writes wherever it likes, the echo is exactly what it sent, and nothing a
//! client sends stops the server. One server serves every case (a few milliseconds each), so
//! 64 cases per property keep this file under a second.
// The helpers below panic like the tests do: in a test, a panic is a failure.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use test_support::testing::connect;

use crate::support::{assert_counts, client, server};

const CASES: u32 = 64;

/// Sends `stream` to the server in writes cut at `cuts`, then closes our sending half (the
/// last line may have no newline: the server answers it at the end of the stream), and
/// returns everything the server sent back until it closed.
fn echo(addr: SocketAddr, stream: &[u8], cuts: &[prop::sample::Index]) -> Vec<u8> {
    let mut at: Vec<usize> = cuts.iter().map(|cut| cut.index(stream.len() + 1)).collect();
    at.extend([0, stream.len()]);
    at.sort_unstable();
    let mut connection = connect(addr);
    // Each write leaves as its own segment, as far as the kernel lets it.
    connection.set_nodelay(true).unwrap();
    let mut reply = Vec::new();
    for write in at.windows(2) {
        connection.write_all(&stream[write[0]..write[1]]).unwrap();
    }
    connection.shutdown(Shutdown::Write).unwrap();
    connection.read_to_end(&mut reply).unwrap();
    reply
}

/// The server answers a normal client run in full, whatever came before.
fn assert_still_serving(addr: SocketAddr) {
    let output = client(addr, &["--mode", "long", "--count", "20"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_counts(&output.stdout, &[("errors", "0")]);
}

#[test]
fn prop_requests_split_at_any_points_come_back_exactly() {
    let server = server(&[]);
    let requests = (
        // Text and bytes alike: invalid UTF-8, `\r`, NUL; lines up to 2 KiB.
        prop::collection::vec(
            prop::collection::vec(any::<u8>(), 0..2048).prop_map(|mut line| {
                line.retain(|&b| b != b'\n');
                line.push(b'\n');
                line
            }),
            0..12,
        ),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|mut last| {
            last.retain(|&b| b != b'\n');
            last
        }),
        prop::collection::vec(any::<prop::sample::Index>(), 0..20),
    );
    let mut runner = TestRunner::new(Config::with_cases(CASES));
    runner
        .run(&requests, |(lines, last, cuts)| {
            let sent = [lines.concat(), last].concat();
            let reply = echo(server.addr(), &sent, &cuts);
            prop_assert!(
                reply == sent,
                "sent {} bytes, got {}",
                sent.len(),
                reply.len()
            );
            Ok(())
        })
        .unwrap();
    assert_still_serving(server.addr());
}

#[test]
fn prop_no_bytes_stop_the_server() {
    let server = server(&[]);
    // Anything, sometimes with a line over the 64 KiB limit in it.
    let anything = (
        prop::collection::vec(any::<u8>(), 0..4096),
        prop::option::weighted(0.2, 65_536usize..70_000),
        prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    );
    let mut runner = TestRunner::new(Config::with_cases(CASES));
    runner
        .run(&anything, |(mut bytes, over_long, cuts)| {
            if let Some(length) = over_long {
                bytes.extend(std::iter::repeat_n(b'x', length));
            }
            let reply = echo(server.addr(), &bytes, &cuts);
            let refusal = b"error: request over 65536 bytes; closing the connection\n";
            // The echo of everything, or of every line before the over-long one and then
            // the error line.
            prop_assert!(
                reply == bytes
                    || (reply.ends_with(refusal)
                        && bytes.starts_with(&reply[..reply.len() - refusal.len()])),
                "sent {} bytes, got {}",
                bytes.len(),
                reply.len()
            );
            Ok(())
        })
        .unwrap();
    assert_still_serving(server.addr());
}
