//! Command-line arguments that every lesson spells the same way.

use std::fmt::Display;

use clap::Args;

use crate::text::Encoding;

/// `--encoding LABEL`: how text becomes bytes on the wire.
#[derive(Args, Clone, Copy, Debug)]
pub struct EncodingArg {
    /// Text encoding on the wire: a WHATWG label such as utf-8, gbk, gb18030, big5 or shift_jis
    #[arg(long, value_name = "LABEL", default_value = "utf-8")]
    pub encoding: Encoding,
}

/// `--trace`: show each socket call as it happens.
#[derive(Args, Clone, Copy, Debug)]
pub struct TraceArg {
    /// Print each socket call to stderr as it happens, e.g. `trace: accept() -> 127.0.0.1:50312`
    #[arg(long)]
    pub trace: bool,
}

/// Stops with a usage error (exit 2), for arguments that parse but cannot work together, such
/// as a `--reply` text that the chosen `--encoding` cannot represent.
pub fn usage_error(message: impl Display) -> ! {
    clap::Error::raw(
        clap::error::ErrorKind::ValueValidation,
        format!("{message}\n"),
    )
    .exit()
}

/// Checks `--reply TEXT` against `--encoding` before a server starts: a fixed reply the encoding
/// cannot carry is a usage error. Returns the message for [`usage_error`].
pub fn check_reply(reply: Option<&str>, encoding: Encoding) -> Result<(), String> {
    match reply.map(|text| encoding.encode(text)) {
        Some(Err(error)) => Err(format!("invalid value for --reply: {error}")),
        _ => Ok(()),
    }
}

/// The lines a client sends: the `--message` options if any were given, otherwise stdin's lines
/// (with a `> ` prompt when stdin is a terminal). Line endings, `\n` or `\r\n`, are removed.
pub fn input_lines(
    messages: &[String],
    console: crate::Console,
) -> Box<dyn Iterator<Item = std::io::Result<String>> + '_> {
    use std::io::BufRead;
    if !messages.is_empty() {
        return Box::new(messages.iter().cloned().map(Ok));
    }
    let mut stdin = std::io::stdin().lock();
    Box::new(std::iter::from_fn(move || {
        console.prompt();
        let mut line = String::new();
        match stdin.read_line(&mut line) {
            Ok(0) => {
                console.end_prompt();
                None
            }
            Ok(_) => Some(Ok(line.trim_end_matches(['\n', '\r']).to_owned())),
            Err(error) => Some(Err(error)),
        }
    }))
}

/// Parses a number of seconds such as `5` or `0.5`, for `--timeout`-like options.
pub fn parse_seconds(text: &str) -> Result<std::time::Duration, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|seconds| seconds.is_finite() && *seconds > 0.0 && *seconds <= 86_400.0)
        .map(std::time::Duration::from_secs_f64)
        .ok_or_else(|| {
            format!("invalid duration {text:?}: use seconds from 0.001 to 86400, such as 5 or 0.5")
        })
}

/// Ends `main`: nothing on success; on failure `error: …` with every cause, one line, exit 1.
pub fn finish<E: Display>(result: Result<(), E>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints anyhow's whole chain of causes: "connecting to X: refused".
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn seconds() {
        assert_eq!(parse_seconds("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_seconds("0.25"), Ok(Duration::from_millis(250)));
        for bad in ["0", "-1", "soon", "NaN", "inf", "1e9", ""] {
            let err = parse_seconds(bad).unwrap_err();
            assert!(
                err.starts_with(&format!("invalid duration {bad:?}")),
                "{err}"
            );
        }
    }
}
