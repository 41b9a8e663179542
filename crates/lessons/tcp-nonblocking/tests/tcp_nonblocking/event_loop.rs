//! What only an event loop gets wrong: one thread for everyone means that whatever blocks,
//! blocks everyone; whatever is buffered, is buffered for everyone. These tests prove that one
//! thread serves thousands, that a client that floods or never reads delays nobody, and that
//! memory stays bounded whatever a client sends.

use std::io::{ErrorKind, Read, Write};
use std::thread;
use std::time::Duration;

use predicates::str::contains;
use test_support::hostile::{NonReader, lines};

use crate::support::{Peer, client, server};

#[test]
fn one_server_thread_serves_two_thousand_clients_at_once() {
    if test_support::testing::skip_under_wine(
        "with the other tests running beside it, Wine ended the 2,000-connection client with \
         exit code 1 and no output (alone, under Wine too, it passes)",
    ) {
        return;
    }
    let mut server = server(&[]);
    let load = thread::spawn({
        let addr = server.addr();
        move || {
            client(addr, &["--connections", "2000", "--messages", "3"])
                .assert()
                .success()
                .stdout(contains(
                    "2000 connections, 6000 replies checked, 0 errors, ",
                ))
        }
    });
    // The client holds every connection until all are answered: 2000 at once.
    server.wait_for("(2000 active)");
    #[cfg(target_os = "linux")]
    {
        // Besides the loop, only the ctrlc crate's thread, asleep until a signal comes.
        let threads = crate::support::thread_names(server.id());
        assert_eq!(threads, ["ctrl-c", "tcp-nonblocking"], "{threads:?}");
    }
    load.join().unwrap();
    server.wait_for("closed the connection (0 active)");
}

#[test]
fn a_client_that_floods_and_never_reads_does_not_delay_another_clients_echo() {
    let mut server = server(&["--write-timeout", "2"]);
    // 16 MiB of lines to echo, and not one byte read back.
    let flood = NonReader::start(server.addr(), lines(512, 32 * 1024));
    server.wait_for("(1 active)");
    // Let the flood fill every buffer between the two first.
    thread::sleep(Duration::from_millis(300));
    let mut other = Peer::connect(server.addr());
    for round in 0..10 {
        let line = format!("meanwhile {round}");
        assert_eq!(other.ask(&line), line);
    }
    // Every echo came back while the flooder was still connected and stuck: a loop that waited
    // for the flooder would have answered only after dropping it, 2 s on.
    let dropped = server
        .printed_so_far()
        .iter()
        .any(|line| line.contains("stopped reading"));
    assert!(!dropped, "the echoes waited for the flooder to be dropped");
    // Then the flooder, stuck, is dropped for not reading.
    let line = server.wait_for("stopped reading");
    assert!(
        line.contains(
            " failed: the client stopped reading: nothing could be sent for 2 s (--write-timeout)"
        ),
        "{line}"
    );
    flood.assert_closed();
    assert_eq!(other.ask("still here"), "still here");
}

#[cfg(target_os = "linux")]
#[test]
fn a_fifty_mebibyte_line_without_a_newline_keeps_memory_bounded() {
    let server = server(&["--quiet"]);
    let pid = server.id();
    let before = crate::support::proc_status(pid, "VmRSS:");
    let mut peer = Peer::connect(server.addr());
    let mut sending = peer.stream.try_clone().unwrap();
    const SIZE: usize = 50 * 1024 * 1024;
    let sender = thread::spawn(move || {
        let block = vec![b'x'; 1024 * 1024];
        for _ in 0..SIZE / block.len() {
            sending.write_all(&block).unwrap();
        }
    });
    // The server echoes it in pieces as it comes; read it all back.
    let mut received = 0;
    let mut chunk = vec![0u8; 256 * 1024];
    while received < SIZE {
        let count = peer.stream.read(&mut chunk).unwrap();
        assert!(count > 0, "the server closed after {received} bytes");
        assert!(chunk[..count].iter().all(|&byte| byte == b'x'));
        received += count;
    }
    sender.join().unwrap();
    assert_eq!(received, SIZE);
    // The most the server ever held in memory: nowhere near 50 MiB more than at the start.
    let peak = crate::support::proc_status(pid, "VmHWM:");
    assert!(
        peak < before + 16 * 1024,
        "peak {peak} kB, at start {before} kB"
    );
}

#[test]
fn garbage_bytes_keep_it_serving() {
    let mut server = server(&[]);
    let mut noisy = Peer::connect(server.addr());
    // Every byte value, NULs and invalid UTF-8 included, some lines very long.
    let mut garbage: Vec<u8> = (0..=255u8).cycle().take(200_000).collect();
    garbage.extend_from_slice(&[0xff, 0xfe, 0x00, b'\r', b'\n']);
    noisy.stream.write_all(&garbage).unwrap();
    let mut echo = vec![0u8; garbage.len()];
    noisy.stream.read_exact(&mut echo).unwrap();
    assert_eq!(echo, garbage);
    server.wait_for("not valid");
    let mut next = Peer::connect(server.addr());
    assert_eq!(next.ask("still serving?"), "still serving?");
}

#[test]
fn invalid_bytes_are_shown_and_echoed_and_the_server_goes_on() {
    let mut server = server(&[]);
    let mut peer = Peer::connect(server.addr());
    // 你好 in GBK: not UTF-8.
    peer.stream
        .write_all(&[0xc4, 0xe3, 0xba, 0xc3, b'\n'])
        .unwrap();
    let mut echo = [0u8; 5];
    peer.stream.read_exact(&mut echo).unwrap();
    assert_eq!(echo, [0xc4, 0xe3, 0xba, 0xc3, b'\n']);
    let line = server.wait_for("not valid");
    assert!(line.ends_with("(valid GBK: try --encoding gbk)"), "{line}");
    assert_eq!(peer.ask("still here"), "still here");
}

/// CPU time (user + system) a process has used so far, in clock ticks.
#[cfg(target_os = "linux")]
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // After the command name in parentheses: fields 14 and 15 are utime and stime.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn the_busy_poll_loop_burns_cpu_while_idle_and_the_readiness_loop_does_not() {
    let busy = server(&["--busy-poll"]);
    let poll = server(&[]);
    let _a = Peer::connect(busy.addr());
    let _b = Peer::connect(poll.addr());
    let (busy_before, poll_before) = (cpu_ticks(busy.id()), cpu_ticks(poll.id()));
    // 100 ticks a second. On a crowded machine the busy loop gets only part of a core: wait
    // until it has burnt a tenth of a second (4 s at most), then see what the other one used.
    let started = std::time::Instant::now();
    let mut busy_used = 0;
    while busy_used < 10 && started.elapsed() < Duration::from_secs(4) {
        thread::sleep(Duration::from_millis(200));
        busy_used = cpu_ticks(busy.id()) - busy_before;
    }
    let poll_used = cpu_ticks(poll.id()) - poll_before;
    assert!(
        busy_used >= 10,
        "busy-poll used only {busy_used} ticks in 4 s"
    );
    // Meanwhile the readiness loop slept in poll(): (almost) nothing.
    assert!(
        poll_used <= 2,
        "the readiness loop used {poll_used} ticks while idle"
    );
}

#[test]
fn the_busy_poll_loop_still_echoes() {
    let server = server(&["--busy-poll"]);
    let mut peer = Peer::connect(server.addr());
    assert_eq!(peer.ask("spin"), "spin");
    let mut byte = [0u8; 1];
    drop(peer.stream.shutdown(std::net::Shutdown::Write));
    let end = peer.stream.read(&mut byte);
    assert!(
        matches!(end, Ok(0)) || matches!(end, Err(ref e) if e.kind() == ErrorKind::ConnectionReset)
    );
}
