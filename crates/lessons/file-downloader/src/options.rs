//! `file-downloader client`'s options: what to download, from where, to where (the server's are
//! in `server.rs`). clap reads them from the command line; the demo builds them with
//! `options_for`. `client.rs`, `download.rs` and `ask.rs` all read them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use common::Addr;
use common::cli::{TraceArg, parse_seconds};

/// `file-downloader client`: what to download, from where, to where.
#[derive(Args, Clone, Debug)]
pub struct Options {
    /// The file to download, named as the server lists it (`docs/a.txt`)
    #[arg(value_name = "NAME", required_unless_present = "list")]
    pub name: Option<String>,

    /// Print the server's files instead of downloading one
    #[arg(long, conflicts_with_all = ["name", "output", "force", "resume"])]
    pub list: bool,

    /// The server: HOST:PORT, [IPV6]:PORT or PORT
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7890")]
    pub connect: Addr,

    /// Save as PATH (an existing directory: save inside it) instead of NAME's last part in the current directory
    #[arg(long, short, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Replace the file if it already exists
    #[arg(long)]
    pub force: bool,

    /// Continue an interrupted download from its temporary `.part` file
    #[arg(long)]
    pub resume: bool,

    /// Never show the progress bar (it shows only when stderr is a terminal anyway)
    #[arg(long)]
    pub no_progress: bool,

    /// Seconds to wait for the connection, and for each piece of the answer, before giving up
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = parse_seconds)]
    pub timeout: Duration,

    #[command(flatten)]
    pub trace: TraceArg,
}

/// Checks NAME before anything happens: it must fit on one request line. Returns why not.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("invalid NAME \"\": name the file to download, or use --list".into());
    }
    if name.chars().any(char::is_control) {
        return Err(format!(
            "invalid NAME {name:?}: names cannot contain control characters"
        ));
    }
    Ok(())
}

/// The address a client connects to, for the demo.
pub fn options_for(
    addr: SocketAddr,
    name: Option<&str>,
    output: &Path,
    trace: TraceArg,
) -> Options {
    Options {
        name: name.map(str::to_owned),
        list: name.is_none(),
        connect: Addr::from_socket_addr(addr),
        output: Some(output.to_path_buf()),
        force: false,
        resume: false,
        no_progress: true,
        timeout: Duration::from_secs(5),
        trace,
    }
}
