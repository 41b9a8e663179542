//! The wire protocol, shared by the server and the client. One request per connection:
//!
//! ```text
//! client → server   GET <name>\n   or   GET <name> <offset>\n   or   LIST\n
//! server → client   OK <length>\n<length bytes>   or   ERR <reason>\n,   then close
//!                   OK <length> <offset>\n<length bytes>   (the answer to GET <name> <offset>)
//! ```
//!
//! The `OK <length>` header is the *framing*: TCP delivers bytes with no boundaries, so the
//! client cannot tell "the file ended" from "the rest is still on its way" unless the server
//! says how many bytes to expect. Seed 001's downloader has no header and trusts one recv(1024).
//!
//! A resumed download's header also says where its bytes start, like HTTP's `Content-Range`:
//! a server that ignored the offset and sent the whole file would otherwise have it appended
//! to the part the client already has, and the saved file would be wrong with nothing to show.

use std::fmt;

/// The longest request line the server reads, `\n` included. A client that sends more is
/// refused: otherwise it could make the server buffer without end.
pub const MAX_REQUEST: usize = 4096;

/// The longest file name, in bytes, that the server accepts.
pub const MAX_NAME: usize = 1024;

/// The longest `OK <length>` / `ERR <reason>` line the client reads.
pub const MAX_HEADER: usize = 1024;

/// The server sends file bodies through a buffer of this size: 16,384 reads and sends for a
/// 1 GiB file rather than std::io::copy's 131,072 (it uses 8 KiB), and a 4 GiB file costs no
/// more memory than a 4 KiB one. (Measured: a bigger one sends no faster.)
pub const SEND_CHUNK: usize = 64 * 1024;

/// The longest `LIST` answer the client accepts: what `MAX_LISTED` lines of the longest names
/// and sizes take. A server that announces more is lying, and must not make the client buffer
/// gigabytes.
pub const MAX_LISTING: u64 = 10_000 * (20 + 1 + MAX_NAME as u64 + 1);

/// The client receives into a buffer of this size and writes it to the file in one call. Here
/// the size shows: writing the file is the costly half of a download, and 1 MiB writes made a
/// 1 GiB download over 127.0.0.1 about 40% faster than 64 KiB ones (see the chapter).
pub const RECEIVE_CHUNK: usize = 1024 * 1024;

// ANCHOR: request
/// What a client asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `GET name` (offset 0) or `GET name offset`: the file's bytes from `offset` on.
    Get { name: String, offset: u64 },
    /// `LIST`: the files under the root, one `<size>\t<name>\n` line each.
    List,
}

impl Request {
    /// Reads one request line (without its `\n`; a `\r` before it is allowed, for telnet).
    pub fn parse(line: &[u8]) -> Result<Request, Refusal> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = std::str::from_utf8(line).map_err(|_| Refusal::NotUtf8)?;
        if line == "LIST" {
            return Ok(Request::List);
        }
        let Some(rest) = line.strip_prefix("GET ") else {
            return Err(Refusal::UnknownCommand);
        };
        // A trailing " <digits>" is the offset to resume from. (So a client asking for a file
        // whose name ends in a space and digits adds " 0": see `Request::line`.)
        let (name, offset) = match rest.rsplit_once(' ') {
            Some((name, digits))
                if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) =>
            {
                (name, digits.parse().map_err(|_| Refusal::BadOffset)?)
            }
            _ => (rest, 0),
        };
        Ok(Request::Get {
            name: name.to_owned(),
            offset,
        })
    }

    /// The request as it goes on the wire, `\n` included.
    pub fn line(&self) -> String {
        match self {
            Request::List => "LIST\n".to_owned(),
            Request::Get { name, offset } => {
                let ends_in_a_number = name.rsplit_once(' ').is_some_and(|(_, last)| {
                    !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit())
                });
                if *offset > 0 || ends_in_a_number {
                    format!("GET {name} {offset}\n")
                } else {
                    format!("GET {name}\n")
                }
            }
        }
    }
}
// ANCHOR_END: request

// ANCHOR: header
/// What the server answers: the header line, before any body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Header {
    /// `OK <length>` (offset 0) or `OK <length> <offset>`: exactly `length` bytes follow, the
    /// file's bytes from `offset` on, then the server closes.
    Ok { length: u64, offset: u64 },
    /// `ERR <reason>`: nothing follows.
    Err(String),
}

impl Header {
    /// The `OK` line for the bytes of a file from `offset` on, `\n` included.
    pub fn ok_line(length: u64, offset: u64) -> String {
        match offset {
            0 => format!("OK {length}\n"),
            _ => format!("OK {length} {offset}\n"),
        }
    }

    /// Reads the server's first line (without its `\n`).
    pub fn parse(line: &[u8]) -> Result<Header, String> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = String::from_utf8_lossy(line);
        if let Some(numbers) = text.strip_prefix("OK ") {
            let (length, offset) = numbers.split_once(' ').unwrap_or((numbers, "0"));
            return match (length.parse(), offset.parse()) {
                (Ok(length), Ok(offset)) => Ok(Header::Ok { length, offset }),
                _ => Err(format!("bad length or offset in {text:?}")),
            };
        }
        if let Some(reason) = text.strip_prefix("ERR ") {
            // Kept as the server sent it: the client escapes it where it shows it.
            return Ok(Header::Err(reason.to_owned()));
        }
        Err(format!(
            "expected \"OK <length>\" or \"ERR <reason>\", got {text:?}"
        ))
    }
}
// ANCHOR_END: header

// ANCHOR: refusal
/// Why the server says `ERR`. The `Display` text is the reason sent on the wire.
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    /// The line is not UTF-8.
    NotUtf8,
    /// Neither `GET` nor `LIST`.
    UnknownCommand,
    /// An offset too large for a number.
    BadOffset,
    /// `GET ` and nothing after it.
    EmptyName,
    /// Longer than `MAX_NAME`.
    NameTooLong,
    /// NUL, newline, tab, escape…: never part of a file name a client should ask for.
    ControlCharacter,
    /// `/etc/passwd`, `\Windows`, `C:\…`, `C:…`.
    Absolute,
    /// `a\b`: a directory separator on Windows, so refused everywhere.
    Backslash,
    /// `a:b`: a drive or an alternate data stream on Windows, so refused everywhere.
    Colon,
    /// A `..` component, or a symlink that leads out of the root.
    OutsideTheRoot,
    /// Nothing by that name.
    NoSuchFile,
    /// A directory, a device, a pipe: only regular files are served.
    NotAFile,
    /// An offset past the end of the file.
    OffsetPastTheEnd { offset: u64, size: u64 },
    /// The file exists but cannot be read (permissions, for instance).
    CannotRead(std::io::ErrorKind),
    /// A request line longer than `MAX_REQUEST`.
    RequestTooLong,
    /// No complete request line within the time limit.
    TooSlow { seconds: f64 },
    /// Too many downloads at once.
    Busy { limit: usize },
}
// ANCHOR_END: refusal

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotUtf8 => write!(f, "the request is not UTF-8"),
            Refusal::UnknownCommand => {
                write!(
                    f,
                    "unknown request: use GET <name>, GET <name> <offset> or LIST"
                )
            }
            Refusal::BadOffset => write!(f, "bad offset"),
            Refusal::EmptyName => write!(f, "empty name"),
            Refusal::NameTooLong => write!(f, "name too long (over {MAX_NAME} bytes)"),
            Refusal::ControlCharacter => write!(f, "control character in the name"),
            Refusal::Absolute => write!(f, "absolute path: ask for a name inside the root"),
            Refusal::Backslash => write!(f, "backslash in the name: use / between directories"),
            Refusal::Colon => write!(f, "colon in the name"),
            Refusal::OutsideTheRoot => write!(f, "outside the root"),
            Refusal::NoSuchFile => write!(f, "no such file"),
            Refusal::NotAFile => write!(f, "not a file"),
            Refusal::OffsetPastTheEnd { offset, size } => {
                write!(f, "offset {offset} is past the end ({size} bytes)")
            }
            Refusal::CannotRead(kind) => write!(f, "cannot read it: {kind}"),
            Refusal::RequestTooLong => write!(f, "request too long (over {MAX_REQUEST} bytes)"),
            Refusal::TooSlow { seconds } => write!(f, "no complete request within {seconds} s"),
            Refusal::Busy { limit } => {
                write!(f, "busy: {limit} downloads running, try again later")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(name: &str, offset: u64) -> Request {
        Request::Get {
            name: name.to_owned(),
            offset,
        }
    }

    #[test]
    fn requests_parse() {
        assert_eq!(Request::parse(b"LIST"), Ok(Request::List));
        assert_eq!(Request::parse(b"LIST\r"), Ok(Request::List));
        assert_eq!(Request::parse(b"GET a.txt"), Ok(get("a.txt", 0)));
        assert_eq!(Request::parse(b"GET a.txt 1024"), Ok(get("a.txt", 1024)));
        assert_eq!(
            Request::parse(b"GET my file.txt"),
            Ok(get("my file.txt", 0))
        );
        assert_eq!(
            Request::parse(b"GET report 2024 0"),
            Ok(get("report 2024", 0))
        );
        assert_eq!(
            Request::parse("GET 你好.txt\r".as_bytes()),
            Ok(get("你好.txt", 0))
        );
        assert_eq!(Request::parse(b"GET "), Ok(get("", 0)));
        assert_eq!(Request::parse(b"PUT a"), Err(Refusal::UnknownCommand));
        assert_eq!(Request::parse(b"get a"), Err(Refusal::UnknownCommand));
        assert_eq!(Request::parse(b"GET \xff"), Err(Refusal::NotUtf8));
        assert_eq!(
            Request::parse(b"GET a 99999999999999999999999"),
            Err(Refusal::BadOffset)
        );
    }

    #[test]
    fn request_lines_round_trip() {
        for request in [
            Request::List,
            get("a.txt", 0),
            get("a.txt", 7),
            get("report 2024", 0),
            get("report 2024", 3),
            get("你好.txt", 0),
        ] {
            let line = request.line();
            assert!(line.ends_with('\n'), "{line:?}");
            let parsed = Request::parse(line.trim_end_matches('\n').as_bytes());
            assert_eq!(parsed, Ok(request));
        }
        assert_eq!(get("a.txt", 0).line(), "GET a.txt\n");
    }

    #[test]
    fn headers_parse() {
        let ok = |length, offset| Ok(Header::Ok { length, offset });
        assert_eq!(Header::parse(b"OK 0"), ok(0, 0));
        assert_eq!(Header::parse(b"OK 1234\r"), ok(1234, 0));
        assert_eq!(Header::parse(b"OK 990 10"), ok(990, 10));
        assert_eq!(Header::parse(b"OK 990 10\r"), ok(990, 10));
        assert!(Header::parse(b"OK 990 ").is_err());
        assert!(Header::parse(b"OK 990 -1").is_err());
        assert!(Header::parse(b"OK 990 10 3").is_err());
        assert!(Header::parse(b" OK 990").is_err());
        assert_eq!(
            Header::parse(b"ERR no such file"),
            Ok(Header::Err("no such file".into()))
        );
        assert_eq!(
            Header::parse(b"ERR \x1b[2Jgone\x07\r"),
            Ok(Header::Err("\x1b[2Jgone\x07".into()))
        );
        assert!(Header::parse(b"OK -1").is_err());
        assert!(Header::parse(b"OK").is_err());
        assert!(Header::parse(b"hello").is_err());
    }
}

/// Property tests: the request line parser fed inputs nobody would think of. A case costs
/// microseconds, so proptest's default 256 cases each.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Request lines, most of them almost right: the two commands, with or without names,
    /// spaces, digits, `\r`, invalid UTF-8 and control bytes.
    fn request_like() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..64),
            "(GET|LIST|GET |get |PUT )[ -~\r\t]{0,20}( [0-9]{0,25})?\r?"
                .prop_map(String::into_bytes),
            prop::collection::vec(any::<u8>(), 0..32)
                .prop_map(|name| [b"GET ".as_slice(), &name].concat()),
        ]
    }

    proptest! {
        #[test]
        fn prop_no_request_line_makes_the_parser_panic(line in request_like()) {
            // A request or a refusal, never a panic. Whatever parses, and names no control
            // character (the server refuses those), goes back on the wire as one line that
            // parses to the same request.
            let parsed = Request::parse(&line);
            if let Ok(request) = parsed
                && !matches!(&request, Request::Get { name, .. } if name.chars().any(char::is_control))
            {
                let again = request.line();
                prop_assert_eq!(Request::parse(again.trim_end_matches('\n').as_bytes()), Ok(request));
            }
        }

        #[test]
        fn prop_every_request_round_trips(
            // What a client may ask for: any text without control characters (the server
            // refuses those), spaces and trailing numbers included.
            name in "[^\\p{Cc}]{0,12}( [0-9]{1,22})?",
            offset in prop_oneof![Just(0u64), any::<u64>()],
        ) {
            let request = Request::Get { name, offset };
            let line = request.line();
            // One line: a single `\n`, at the end.
            prop_assert_eq!(line.find('\n'), Some(line.len() - 1));
            prop_assert_eq!(Request::parse(&line.as_bytes()[..line.len() - 1]), Ok(request));
        }

        #[test]
        fn prop_no_header_line_makes_the_client_panic(line in prop::collection::vec(any::<u8>(), 0..40)) {
            let _ = Header::parse(&line);
        }

        #[test]
        fn prop_every_ok_header_round_trips(length in any::<u64>(), offset in prop_oneof![Just(0u64), any::<u64>()]) {
            let line = Header::ok_line(length, offset);
            prop_assert_eq!(
                Header::parse(line.trim_end_matches('\n').as_bytes()),
                Ok(Header::Ok { length, offset })
            );
        }
    }
}
