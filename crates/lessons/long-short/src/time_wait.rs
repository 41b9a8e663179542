//! Counting the sockets in TIME_WAIT that a run leaves behind, on each side of the connection.
//! Linux lists every TCP socket in `/proc/net/tcp` (IPv4) and `/proc/net/tcp6` (IPv6), one per
//! line, with the state as a hex number: `06` is TIME_WAIT. Other systems have no such file;
//! `netstat -an` shows the same sockets there.

use std::net::SocketAddr;

/// What every report line starts with, whatever the system.
pub const HEADING: &str = "TIME_WAIT after the run:";

/// `TIME_WAIT after the run: N sockets on the client's side, M on the server's side (…)`, or
/// why they could not be counted.
#[cfg(target_os = "linux")]
pub fn report(server: SocketAddr) -> String {
    match linux::settled_count(server) {
        Ok(counts) => format!(
            "{HEADING} {} sockets on the client's side, {} on the server's side (connections with {server})",
            counts.client_time_wait, counts.server_time_wait
        ),
        Err(error) => format!("{HEADING} cannot read /proc/net/tcp: {error}"),
    }
}

/// Elsewhere: say how to look instead.
#[cfg(not(target_os = "linux"))]
pub fn report(_server: SocketAddr) -> String {
    format!(
        "{HEADING} not counted on this system (the count reads Linux's /proc/net/tcp); see them with: netstat -an | grep TIME_WAIT"
    )
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
    use std::time::{Duration, Instant};

    /// Socket states as `/proc/net/tcp` numbers them (include/net/tcp_states.h).
    const FIN_WAIT1: u8 = 0x04;
    const FIN_WAIT2: u8 = 0x05;
    const TIME_WAIT: u8 = 0x06;

    /// Sockets of connections with one server, as this machine sees them.
    #[derive(Debug, Default, PartialEq, Eq)]
    pub struct Counts {
        /// TIME_WAIT sockets whose remote end is the server: the clients closed first.
        pub client_time_wait: usize,
        /// TIME_WAIT sockets whose local end is the server: the server closed first.
        pub server_time_wait: usize,
        /// Client sockets that have sent their FIN and wait for the server's.
        pub client_closing: usize,
    }

    // ANCHOR: count
    /// Counts once the last connections have finished closing: a client socket enters
    /// TIME_WAIT only when the server's FIN has come back, a moment after our close().
    pub fn settled_count(server: SocketAddr) -> io::Result<Counts> {
        // Normally microseconds; the limit is for a server that never closes its side.
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let counts = count(server)?;
            if counts.client_closing == 0 || Instant::now() > deadline {
                return Ok(counts);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Reads both tables once.
    pub fn count(server: SocketAddr) -> io::Result<Counts> {
        let server = (server.ip().to_canonical(), server.port());
        let mut counts = Counts::default();
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let text = match std::fs::read_to_string(table) {
                Ok(text) => text,
                // A kernel without IPv6 has no tcp6 table.
                Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                Err(error) => return Err(error),
            };
            // The first line holds the column names.
            for (local, remote, state) in text.lines().skip(1).filter_map(parse_line) {
                let client_side = (remote.ip().to_canonical(), remote.port()) == server;
                let server_side = (local.ip().to_canonical(), local.port()) == server;
                match state {
                    TIME_WAIT if client_side => counts.client_time_wait += 1,
                    TIME_WAIT if server_side => counts.server_time_wait += 1,
                    FIN_WAIT1 | FIN_WAIT2 if client_side => counts.client_closing += 1,
                    _ => {}
                }
            }
        }
        Ok(counts)
    }

    /// One line: `  0: 0100007F:1F91 0100007F:D2A4 06 …`, that is, the slot number, the local
    /// and the remote address, and the state.
    pub fn parse_line(line: &str) -> Option<(SocketAddr, SocketAddr, u8)> {
        let mut fields = line.split_whitespace().skip(1);
        let local = parse_endpoint(fields.next()?)?;
        let remote = parse_endpoint(fields.next()?)?;
        let state = u8::from_str_radix(fields.next()?, 16).ok()?;
        Some((local, remote, state))
    }

    /// `0100007F:1F91` is 127.0.0.1:8081. The kernel prints the address as 32-bit words in the
    /// machine's own byte order (so 127.0.0.1 reads backwards on a PC), the port as a plain
    /// number.
    fn parse_endpoint(text: &str) -> Option<SocketAddr> {
        let (address, port) = text.split_once(':')?;
        let port = u16::from_str_radix(port, 16).ok()?;
        let word = |at: usize| {
            let hex = address.get(at..at + 8)?;
            u32::from_str_radix(hex, 16).ok().map(u32::to_ne_bytes)
        };
        let ip = match address.len() {
            8 => IpAddr::V4(Ipv4Addr::from(word(0)?)),
            32 => {
                let mut bytes = [0u8; 16];
                for (index, chunk) in bytes.chunks_exact_mut(4).enumerate() {
                    chunk.copy_from_slice(&word(index * 8)?);
                }
                IpAddr::V6(Ipv6Addr::from(bytes))
            }
            _ => return None,
        };
        Some(SocketAddr::new(ip, port))
    }
    // ANCHOR_END: count

    #[cfg(all(test, target_endian = "little"))]
    mod tests {
        use super::*;

        #[test]
        fn an_ipv4_line_in_time_wait() {
            let line = "  12: 0100007F:D2A4 0100007F:1F91 06 00000000:00000000 03:000016B2 00000000     0        0 0 3 0000000000000000";
            let (local, remote, state) = parse_line(line).unwrap();
            assert_eq!(local, "127.0.0.1:53924".parse().unwrap());
            assert_eq!(remote, "127.0.0.1:8081".parse().unwrap());
            assert_eq!(state, TIME_WAIT);
        }

        #[test]
        fn an_ipv6_line() {
            let line = "   0: 00000000000000000000000001000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1 0000000000000000 100 0 0 10 0";
            let (local, remote, state) = parse_line(line).unwrap();
            assert_eq!(local, "[::1]:8081".parse().unwrap());
            assert_eq!(remote, "[::]:0".parse().unwrap());
            assert_eq!(state, 0x0A, "LISTEN");
        }

        #[test]
        fn the_heading_and_broken_lines_are_skipped() {
            assert_eq!(parse_line("  sl  local_address rem_address   st"), None);
            assert_eq!(parse_line("  1: 0100007F 0100007F:1F91 06"), None);
            assert_eq!(parse_line(""), None);
        }
    }
}
