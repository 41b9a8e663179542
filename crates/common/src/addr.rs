//! Socket addresses as students type them: `HOST:PORT`, `[IPV6]:PORT`, `PORT`, `:PORT`.
//!
//! Parsing only checks the text; looking a host name up happens later, in [`Addr::resolve`], so
//! that a typo in a port is a usage error (exit 2) while an unknown host is a run-time error
//! (exit 1) reported when the program tries to use it.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::str::FromStr;

/// What an ADDR argument accepts, for error messages and `--help`.
pub const ADDR_FORMS: &str =
    "HOST:PORT, [IPV6]:PORT, PORT (meaning 127.0.0.1:PORT) or :PORT (meaning all interfaces)";

/// A host and a port, as given on the command line.
///
/// ```
/// use common::Addr;
///
/// let addr: Addr = "8899".parse()?;
/// assert_eq!(addr.to_string(), "127.0.0.1:8899");
/// let every_interface: Addr = ":7788".parse()?;
/// assert_eq!(every_interface.to_string(), "0.0.0.0:7788");
/// let error = "127.0.0.1:99999".parse::<Addr>().unwrap_err();
/// assert_eq!(
///     error.to_string(),
///     r#"invalid port "99999" in "127.0.0.1:99999": ports are 0–65535"#
/// );
/// # Ok::<(), common::addr::AddrError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Addr {
    host: Host,
    port: u16,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Host {
    Ip(IpAddr),
    Name(String),
}

impl Addr {
    /// `127.0.0.1:PORT`: where the lessons listen and connect by default.
    pub const fn localhost(port: u16) -> Self {
        Addr {
            host: Host::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            port,
        }
    }

    /// The address of an IP and port, for a server's real bound address.
    pub const fn from_socket_addr(addr: SocketAddr) -> Self {
        Addr {
            host: Host::Ip(addr.ip()),
            port: addr.port(),
        }
    }

    /// The port; 0 asks the operating system to choose one.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The socket addresses this stands for: one for an IP, all of a host name's addresses.
    pub fn resolve(&self) -> Result<Vec<SocketAddr>, ResolveError> {
        match &self.host {
            Host::Ip(ip) => Ok(vec![SocketAddr::new(*ip, self.port)]),
            Host::Name(name) => {
                let found: Vec<SocketAddr> = (name.as_str(), self.port)
                    .to_socket_addrs()
                    .map_err(|source| ResolveError {
                        addr: self.to_string(),
                        source,
                    })?
                    .collect();
                if found.is_empty() {
                    return Err(ResolveError {
                        addr: self.to_string(),
                        source: io::Error::new(io::ErrorKind::NotFound, "no addresses found"),
                    });
                }
                Ok(found)
            }
        }
    }

    /// The first address this stands for: what a server binds to.
    pub fn resolve_one(&self) -> Result<SocketAddr, ResolveError> {
        // resolve() never returns an empty list.
        self.resolve().map(|found| found[0])
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Host::Ip(ip) => write!(f, "{}", SocketAddr::new(*ip, self.port)),
            Host::Name(name) => write!(f, "{name}:{}", self.port),
        }
    }
}

impl FromStr for Addr {
    type Err = AddrError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |problem: Problem| AddrError {
            input: text.to_owned(),
            problem,
        };
        let port_of = |port: &str| parse_port(port).map_err(error);

        if text.is_empty() {
            return Err(error(Problem::Empty));
        }
        // PORT alone means this machine only: the safe default for a lesson.
        if text.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Addr::localhost(port_of(text)?));
        }
        // [IPV6]:PORT
        if let Some(rest) = text.strip_prefix('[') {
            let Some((ip, after)) = rest.split_once(']') else {
                return Err(error(Problem::UnclosedBracket));
            };
            let Some(port) = after.strip_prefix(':') else {
                return Err(error(Problem::MissingPort));
            };
            let ip = ip
                .parse::<std::net::Ipv6Addr>()
                .map_err(|_| error(Problem::BadIpv6(ip.to_owned())))?;
            return Ok(Addr {
                host: Host::Ip(IpAddr::V6(ip)),
                port: port_of(port)?,
            });
        }
        let Some((host, port)) = text.rsplit_once(':') else {
            return Err(error(Problem::MissingPort));
        };
        // :PORT means every interface, like Python's ('', PORT).
        if host.is_empty() {
            return Ok(Addr {
                host: Host::Ip(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
                port: port_of(port)?,
            });
        }
        if host.contains(':') {
            return Err(error(Problem::Ipv6WithoutBrackets));
        }
        let port = port_of(port)?;
        if let Ok(ip) = host.parse::<Ipv4Addr>() {
            return Ok(Addr {
                host: Host::Ip(IpAddr::V4(ip)),
                port,
            });
        }
        if !is_host_name(host) {
            return Err(error(Problem::BadHost(host.to_owned())));
        }
        Ok(Addr {
            host: Host::Name(host.to_owned()),
            port,
        })
    }
}

fn parse_port(text: &str) -> Result<u16, Problem> {
    if text.is_empty() {
        return Err(Problem::MissingPort);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Problem::BadPort(text.to_owned()));
    }
    text.parse().map_err(|_| Problem::BadPort(text.to_owned()))
}

/// Letters, digits, `-` (not at either end of a label), `_` and dots between labels: what a
/// resolver would accept. A string of
/// digits and dots is not a name: it is a mistyped IPv4 address (`127.0.0.256`).
fn is_host_name(host: &str) -> bool {
    host.len() <= 253
        && !host.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// An ADDR argument that cannot be an address: names the bad value and what is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrError {
    input: String,
    problem: Problem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Problem {
    Empty,
    MissingPort,
    BadPort(String),
    UnclosedBracket,
    BadIpv6(String),
    Ipv6WithoutBrackets,
    BadHost(String),
}

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let input = &self.input;
        match &self.problem {
            Problem::Empty => write!(f, "the address is empty: use {ADDR_FORMS}"),
            Problem::MissingPort => {
                write!(f, "no port in {input:?}: use {ADDR_FORMS}")
            }
            Problem::BadPort(port) => {
                write!(f, "invalid port {port:?} in {input:?}: ports are 0–65535")
            }
            Problem::UnclosedBracket => {
                write!(
                    f,
                    "missing ']' in {input:?}: write IPv6 addresses as [::1]:PORT"
                )
            }
            Problem::BadIpv6(ip) => {
                write!(
                    f,
                    "invalid IPv6 address {ip:?} in {input:?}: for example [::1]:8899"
                )
            }
            Problem::Ipv6WithoutBrackets => write!(
                f,
                "ambiguous address {input:?}: put an IPv6 address in brackets, as in [::1]:8899"
            ),
            Problem::BadHost(host) => write!(
                f,
                "invalid host {host:?} in {input:?}: use an IP address such as 127.0.0.1 or a host name such as localhost"
            ),
        }
    }
}

impl std::error::Error for AddrError {}

/// A host name that could not be looked up.
#[derive(Debug)]
pub struct ResolveError {
    addr: String,
    source: io::Error,
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot resolve {}: {} (check the host name, or use an IP address such as 127.0.0.1)",
            self.addr, self.source
        )
    }
}

impl std::error::Error for ResolveError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<String, String> {
        text.parse::<Addr>()
            .map(|addr| addr.to_string())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn host_and_port() {
        assert_eq!(parse("127.0.0.1:8899"), Ok("127.0.0.1:8899".into()));
        assert_eq!(parse("0.0.0.0:80"), Ok("0.0.0.0:80".into()));
    }

    #[test]
    fn bracketed_ipv6() {
        assert_eq!(parse("[::1]:8899"), Ok("[::1]:8899".into()));
        assert_eq!(parse("[::]:0"), Ok("[::]:0".into()));
    }

    #[test]
    fn bare_port_means_localhost() {
        assert_eq!(parse("8899"), Ok("127.0.0.1:8899".into()));
        assert_eq!(parse("0"), Ok("127.0.0.1:0".into()));
    }

    #[test]
    fn colon_port_means_all_interfaces() {
        assert_eq!(parse(":7788"), Ok("0.0.0.0:7788".into()));
    }

    #[test]
    fn host_names_are_kept_for_later_lookup() {
        assert_eq!(parse("localhost:8899"), Ok("localhost:8899".into()));
        assert_eq!(parse("my-host.example:1"), Ok("my-host.example:1".into()));
    }

    #[test]
    fn port_zero_and_the_largest_port() {
        assert_eq!("127.0.0.1:0".parse::<Addr>().map(|a| a.port()), Ok(0));
        assert_eq!(parse("127.0.0.1:65535"), Ok("127.0.0.1:65535".into()));
    }

    #[test]
    fn port_out_of_range_names_the_value_and_the_range() {
        assert_eq!(
            parse("127.0.0.1:99999"),
            Err(r#"invalid port "99999" in "127.0.0.1:99999": ports are 0–65535"#.into())
        );
        assert_eq!(
            parse("99999"),
            Err(r#"invalid port "99999" in "99999": ports are 0–65535"#.into())
        );
    }

    #[test]
    fn non_numeric_port() {
        let err = parse("localhost:http").unwrap_err();
        assert!(
            err.starts_with(r#"invalid port "http" in "localhost:http""#),
            "{err}"
        );
        let err = parse("127.0.0.1:-1").unwrap_err();
        assert!(err.starts_with(r#"invalid port "-1""#), "{err}");
        let err = parse("127.0.0.1:+80").unwrap_err();
        assert!(err.starts_with(r#"invalid port "+80""#), "{err}");
    }

    #[test]
    fn missing_port() {
        for text in ["localhost", "127.0.0.1", "127.0.0.1:", "[::1]", "[::1]:"] {
            let err = parse(text).unwrap_err();
            assert!(err.contains("port"), "{text}: {err}");
            assert!(err.contains(&format!("{text:?}")), "{text}: {err}");
        }
    }

    #[test]
    fn empty_address() {
        assert!(parse("").unwrap_err().starts_with("the address is empty"));
    }

    #[test]
    fn ipv6_needs_brackets() {
        let err = parse("::1:8899").unwrap_err();
        assert!(err.contains("[::1]:8899"), "{err}");
    }

    #[test]
    fn bad_ipv6_in_brackets() {
        let err = parse("[::g]:80").unwrap_err();
        assert!(err.starts_with(r#"invalid IPv6 address "::g""#), "{err}");
        let err = parse("[::1:80").unwrap_err();
        assert!(err.starts_with("missing ']'"), "{err}");
    }

    #[test]
    fn bad_hosts() {
        for host in ["127.0.0.256", "a b", "bad..name", "-", "x/y", "主机"] {
            let err = parse(&format!("{host}:80")).unwrap_err();
            assert!(err.starts_with(&format!("invalid host {host:?}")), "{err}");
        }
    }

    #[test]
    fn resolving_an_ip_needs_no_lookup() {
        let addr: Addr = "[::1]:5".parse().unwrap();
        assert_eq!(addr.resolve().unwrap(), vec!["[::1]:5".parse().unwrap()]);
    }

    #[test]
    fn resolving_localhost_finds_a_loopback_address() {
        let addr: Addr = "localhost:8899".parse().unwrap();
        let found = addr.resolve().unwrap();
        assert!(
            found
                .iter()
                .all(|a| a.ip().is_loopback() && a.port() == 8899),
            "{found:?}"
        );
    }

    #[test]
    fn an_unknown_host_is_a_clear_error() {
        // .invalid is reserved (RFC 6761): it never resolves.
        let addr: Addr = "no-such-host.invalid:80".parse().unwrap();
        let err = addr.resolve().unwrap_err().to_string();
        assert!(
            err.starts_with("cannot resolve no-such-host.invalid:80: "),
            "{err}"
        );
    }
}
