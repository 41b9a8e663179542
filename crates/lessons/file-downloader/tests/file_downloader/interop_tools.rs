//! Raw requests from tools nobody here wrote — `printf 'GET name\n' | nc -N HOST PORT`, and
//! `socat` — and the exact bytes the server answers. CONTRACT.md fixes the shape: one request
//! per connection; `OK <length>\n` and exactly that many bytes, or one `ERR <reason>\n` line;
//! then the server closes. The tools are found on PATH; without them the tests print
//! `skipped:` (and fail in CI, where SOCKETS_REQUIRE_TOOLS=1).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use crate::support::{Scratch, random_bytes, server};
use test_support::external::{External, openbsd_nc};
use test_support::testing::tool;

/// `printf REQUEST | nc -N -w 5 HOST PORT`: the whole answer, up to the server's close.
fn nc_request(nc: &Path, addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut command = Command::new(nc);
    command
        .args(["-N", "-w", "5"])
        .arg(addr.ip().to_string())
        .arg(addr.port().to_string());
    let mut client = External::start(command);
    client.write(request);
    let finished = client.finish();
    finished.assert_success();
    finished.stdout
}

/// Checks an answer's shape against the contract and returns its body (`OK`) or its reason
/// (`ERR`), as `Ok`/`Err`.
fn contract(answer: &[u8]) -> Result<Vec<u8>, String> {
    let newline = answer
        .iter()
        .position(|&byte| byte == b'\n')
        .unwrap_or_else(|| panic!("no header line in {answer:?}"));
    let header = std::str::from_utf8(&answer[..newline]).expect("the header is UTF-8");
    let rest = &answer[newline + 1..];
    if let Some(length) = header.strip_prefix("OK ") {
        // `OK <length>` or, resuming, `OK <length> <offset>`.
        let length = length.split_once(' ').map_or(length, |(length, _)| length);
        let length: usize = length.parse().expect("OK <length>");
        assert_eq!(rest.len(), length, "exactly <length> bytes, then the close");
        Ok(rest.to_vec())
    } else if let Some(reason) = header.strip_prefix("ERR ") {
        assert!(rest.is_empty(), "nothing after the ERR line: {rest:?}");
        assert!(!reason.is_empty());
        Err(reason.to_owned())
    } else {
        panic!("neither OK nor ERR: {header:?}")
    }
}

/// A root with `hello.txt`, `docs/a.txt` and a 100,000-byte `big.bin`.
fn root() -> (Scratch, std::path::PathBuf, Vec<u8>) {
    let scratch = Scratch::new();
    let root = scratch.dir("root");
    scratch.file("root/hello.txt", b"hello\n");
    scratch.file("root/docs/a.txt", b"a\n");
    let big = random_bytes(100_000, 7);
    scratch.file("root/big.bin", &big);
    (scratch, root, big)
}

#[test]
fn get_with_nc_answers_ok_length_and_the_bytes() {
    let Some(nc_path) = openbsd_nc() else { return };
    let (_scratch, root, big) = root();
    let mut server = server(&root, &[]);
    let addr = server.addr();

    // printf 'GET hello.txt\n' | nc -N 127.0.0.1 PORT
    assert_eq!(
        nc_request(&nc_path, addr, b"GET hello.txt\n"),
        b"OK 6\nhello\n"
    );
    server.wait_for("sent hello.txt (6 bytes)");
    // A Windows line ending is accepted too.
    assert_eq!(
        nc_request(&nc_path, addr, b"GET hello.txt\r\n"),
        b"OK 6\nhello\n"
    );
    // A name with a folder, /-separated.
    assert_eq!(
        nc_request(&nc_path, addr, b"GET docs/a.txt\n"),
        b"OK 2\na\n"
    );
    // Resume from byte 2: the rest of the file, its length, and where it starts.
    assert_eq!(
        nc_request(&nc_path, addr, b"GET hello.txt 2\n"),
        b"OK 4 2\nllo\n"
    );
    // A binary file of 100,000 bytes, through nc, byte for byte.
    let answer = nc_request(&nc_path, addr, b"GET big.bin\n");
    assert_eq!(&answer[..10], b"OK 100000\n");
    assert_eq!(contract(&answer), Ok(big));
}

#[test]
fn list_with_socat_answers_size_tab_name_lines() {
    // printf 'LIST\n' | socat - TCP:127.0.0.1:PORT
    let Some(socat_path) = tool("socat") else {
        return;
    };
    let (_scratch, root, _) = root();
    let server = server(&root, &[]);
    let mut command = Command::new(socat_path);
    command.args(["-t", "5", "-", &format!("TCP:{}", server.addr())]);
    let mut client = External::start(command);
    client.write(b"LIST\n");
    let finished = client.finish();
    finished.assert_success();
    let listing = "100000\tbig.bin\n2\tdocs/a.txt\n6\thello.txt\n";
    assert_eq!(
        finished.stdout_text(),
        format!("OK {}\n{listing}", listing.len())
    );
    assert_eq!(contract(&finished.stdout), Ok(listing.as_bytes().to_vec()));
}

#[test]
fn malformed_requests_from_nc_get_one_err_line_each() {
    let Some(nc_path) = openbsd_nc() else { return };
    let (_scratch, root, _) = root();
    let server = server(&root, &[]);
    let unknown = "unknown request: use GET <name>, GET <name> <offset> or LIST";
    let cases: [(&[u8], &str); 14] = [
        (b"FOO\n", unknown),
        (b"get hello.txt\n", unknown),
        (b"GET\n", unknown),
        (b"\n", unknown),
        (b"LIST everything\n", unknown),
        (b"GET \n", "empty name"),
        (b"GET nope.txt\n", "no such file"),
        (b"GET docs\n", "not a file"),
        (b"GET ../secret\n", "outside the root"),
        (
            b"GET /etc/passwd\n",
            "absolute path: ask for a name inside the root",
        ),
        (
            b"GET a\\b\n",
            "backslash in the name: use / between directories",
        ),
        (b"GET a\x00b\n", "control character in the name"),
        (b"GET \xff\xfe\n", "the request is not UTF-8"),
        (b"GET hello.txt 99\n", "offset 99 is past the end (6 bytes)"),
    ];
    for (request, reason) in cases {
        // printf REQUEST | nc -N 127.0.0.1 PORT
        let answer = nc_request(&nc_path, server.addr(), request);
        assert_eq!(
            String::from_utf8_lossy(&answer),
            format!("ERR {reason}\n"),
            "for {:?}",
            String::from_utf8_lossy(request)
        );
        assert_eq!(contract(&answer), Err(reason.to_owned()));
    }
}

#[test]
fn a_request_over_4_kib_is_refused() {
    // head -c 5000 /dev/zero | tr '\0' a | nc -N 127.0.0.1 PORT
    let Some(nc_path) = openbsd_nc() else { return };
    let (_scratch, root, _) = root();
    let server = server(&root, &[]);
    let answer = nc_request(&nc_path, server.addr(), &[b'a'; 5000]);
    assert_eq!(answer, b"ERR request too long (over 4096 bytes)\n");
}

#[test]
fn a_request_without_newline_from_nc_that_keeps_sending_open_times_out() {
    // printf 'GET hello.txt' | nc -w 5 127.0.0.1 PORT: without -N the request never ends.
    let Some(nc_path) = openbsd_nc() else { return };
    let (_scratch, root, _) = root();
    let mut server = server(&root, &["--request-timeout", "0.3"]);
    let mut command = Command::new(&nc_path);
    command
        .args(["-w", "5"])
        .arg(server.addr().ip().to_string())
        .arg(server.addr().port().to_string());
    let mut client = External::start(command);
    client.write(b"GET hello.txt");
    let finished = client.finish();
    assert_eq!(
        finished.stdout_text(),
        "ERR no complete request within 0.3 s\n"
    );
    server.wait_for("no complete request within 0.3 s");
}

#[test]
fn nc_that_connects_and_sends_nothing_gets_nothing() {
    // nc -N 127.0.0.1 PORT < /dev/null
    let Some(nc_path) = openbsd_nc() else { return };
    let (_scratch, root, _) = root();
    let mut server = server(&root, &[]);
    assert_eq!(nc_request(&nc_path, server.addr(), b""), b"");
    server.wait_for("closed the connection without a request");
}

#[test]
fn the_books_raw_requests_transcript() {
    // The commands and answers the book's "Mixing the Python tutorials and the Rust lessons"
    // page shows, run for real (on a port the OS picks; the book says 7890, the default).
    let Some(nc_path) = openbsd_nc() else { return };
    let scratch = Scratch::new();
    let root = scratch.dir("root");
    scratch.file("root/hello.txt", b"hello\n");
    scratch.file("root/docs/a.txt", b"a\n");
    let server = server(&root, &[]);
    let requests: [(&str, &[u8]); 8] = [
        (r"GET hello.txt\n", b"GET hello.txt\n"),
        (r"GET hello.txt 2\n", b"GET hello.txt 2\n"),
        (r"LIST\n", b"LIST\n"),
        (r"GET nope.txt\n", b"GET nope.txt\n"),
        (r"GET ../etc/passwd\n", b"GET ../etc/passwd\n"),
        (r"GET /etc/passwd\n", b"GET /etc/passwd\n"),
        (r"hello.txt", b"hello.txt"),
        (r"get hello.txt\n", b"get hello.txt\n"),
    ];
    let mut transcript = String::new();
    for (printf, request) in requests {
        let answer = nc_request(&nc_path, server.addr(), request);
        transcript.push_str(&format!("$ printf '{printf}' | nc -N 127.0.0.1 7890\n"));
        transcript.push_str(&String::from_utf8_lossy(&answer));
    }
    test_support::testing::assert_transcript(
        &transcript,
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts/nc-requests.txt"),
    );
}
