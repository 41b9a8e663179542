//! Text on the wire: sockets carry bytes, people read text; an encoding turns one into the
//! other. Both directions are strict here: bytes that are not valid in the chosen encoding and
//! characters it cannot represent are errors the caller shows, never silently replaced. And
//! text from a peer is shown with its control characters escaped (see [`printable`]).

use std::borrow::Cow;
use std::fmt;
use std::fmt::Write as _;
use std::str::FromStr;

/// Labels to suggest when an encoding label is unknown.
pub const COMMON_LABELS: &str = "utf-8, gbk, gb18030, big5, shift_jis, euc-kr, windows-1252";

/// A text encoding usable in both directions, chosen by a WHATWG label (`utf-8`, `gbk`, …).
///
/// ```
/// use common::Encoding;
///
/// let gbk: Encoding = "gbk".parse()?;
/// assert_eq!(gbk.encode("你好").unwrap(), [0xc4, 0xe3, 0xba, 0xc3]);
/// assert_eq!(
///     Encoding::UTF_8.display(&[0xc4, 0xe3, 0xba, 0xc3, b'\n']),
///     "<4 bytes not valid UTF-8: c4 e3 ba c3> (valid GBK: try --encoding gbk)"
/// );
/// # Ok::<(), common::text::UnknownEncoding>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encoding(&'static encoding_rs::Encoding);

impl Default for Encoding {
    fn default() -> Self {
        Encoding(encoding_rs::UTF_8)
    }
}

impl Encoding {
    /// UTF-8, the lessons' default.
    pub const UTF_8: Encoding = Encoding(encoding_rs::UTF_8);

    /// Looks a label up the way browsers do (case and surrounding spaces do not matter).
    pub fn for_label(label: &str) -> Result<Self, UnknownEncoding> {
        let unknown = |reason| UnknownEncoding {
            label: label.to_owned(),
            reason,
        };
        let encoding = encoding_rs::Encoding::for_label(label.as_bytes())
            .ok_or_else(|| unknown(Reason::Unknown))?;
        // encoding_rs decodes UTF-16 (and the "replacement" encoding) but encodes them as
        // UTF-8: a program sending in them would send something else than it says.
        if encoding.output_encoding() != encoding {
            return Err(unknown(Reason::DecodeOnly(encoding.name())));
        }
        Ok(Encoding(encoding))
    }

    /// The encoding's canonical name, such as `UTF-8` or `GBK`.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// Bytes to text, refusing any byte sequence that is not valid in this encoding.
    pub fn decode(self, bytes: &[u8]) -> Result<String, DecodeError> {
        self.0
            .decode_without_bom_handling_and_without_replacement(bytes)
            .map(|text| text.into_owned())
            .ok_or_else(|| DecodeError {
                bytes: bytes.to_vec(),
                encoding: self,
            })
    }

    /// Text to bytes, refusing characters this encoding cannot represent.
    pub fn encode(self, text: &str) -> Result<Vec<u8>, EncodeError> {
        // encode() would replace such a character with an HTML reference such as &#128512;
        // and report it only through a flag: turn that into an error naming the character.
        let (bytes, _, unmappable) = self.0.encode(text);
        if !unmappable {
            return Ok(bytes.into_owned());
        }
        let mut buffer = [0u8; 4];
        let character = text
            .chars()
            .find(|c| self.0.encode(c.encode_utf8(&mut buffer)).2)
            .unwrap_or(char::REPLACEMENT_CHARACTER);
        Err(EncodeError {
            character,
            encoding: self,
        })
    }

    /// The same text in upper case, in this encoding (seed 004's server). Bytes that are not
    /// valid text come back unchanged: changing bytes of an unknown encoding could corrupt them.
    pub fn upper_case(self, bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
        self.decode(bytes)
            .ok()
            .and_then(|text| self.encode(&text.to_uppercase()).ok())
            .map_or(std::borrow::Cow::Borrowed(bytes), std::borrow::Cow::Owned)
    }

    /// Decodes a line (or a message) for display: its trailing `\n` or `\r\n` removed,
    /// control characters escaped (see [`printable`]), so that whatever a peer sends shows as
    /// one line of plain text, and undecodable bytes shown as `<N bytes not valid …>` with a
    /// hint instead of failing.
    pub fn display(self, bytes: &[u8]) -> String {
        let line = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match self.decode(line) {
            Ok(text) => printable(&text).into_owned(),
            Err(error) => format!("{error} ({})", error.hint()),
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Encoding {
    type Err = UnknownEncoding;

    fn from_str(label: &str) -> Result<Self, Self::Err> {
        Encoding::for_label(label)
    }
}

// ANCHOR: printable
/// Text from a peer, made safe to print on a terminal or in a log: every character that could
/// act instead of being read is written as an escape. Ordinary text, Chinese included, comes
/// back unchanged (and borrowed).
///
/// A terminal obeys what it prints: ESC (`\x1b`) starts a command (`ESC[2J` clears the screen,
/// `ESC]0;…BEL` sets the window title), `\r` returns to the start of the line to overwrite it,
/// and `\n` starts a new line that a peer could dress up as `received from SOMEONE ELSE: …`.
/// So: `\n`, `\r` and `\t` are written like that, every other control character (C0, DEL,
/// C1) as `\xHH` or `\u{HHHH}`, the line and paragraph separators (U+2028, U+2029) and the
/// bidirectional overrides that can make a line read differently from what it holds
/// (U+202A–U+202E, U+2066–U+2069) as `\u{HHHH}`. A backslash itself is doubled, so that a peer
/// who sends the four characters `\x1b` is told apart from one who sends ESC.
///
/// ```
/// use common::text::printable;
///
/// assert_eq!(printable("hello, 你好"), "hello, 你好");
/// assert_eq!(printable("\x1b[2J\x07"), r"\x1b[2J\x07");
/// assert_eq!(printable("a\nreceived from 6.6.6.6:666: b"), r"a\nreceived from 6.6.6.6:666: b");
/// assert_eq!(printable(r"C:\x1b"), r"C:\\x1b");
/// ```
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => shown.push_str(r"\\"),
            '\n' => shown.push_str(r"\n"),
            '\r' => shown.push_str(r"\r"),
            '\t' => shown.push_str(r"\t"),
            c if c.is_ascii_control() => {
                let _ = write!(shown, r"\x{:02x}", c as u32);
            }
            c if needs_escape(c) => {
                let _ = write!(shown, r"\u{{{:x}}}", c as u32);
            }
            c => shown.push(c),
        }
    }
    Cow::Owned(shown)
}

/// Whether [`printable`] writes `c` as an escape.
fn needs_escape(c: char) -> bool {
    c == '\\'
        || c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}
// ANCHOR_END: printable

/// An encoding label that names no encoding this program can send and receive in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEncoding {
    label: String,
    reason: Reason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Reason {
    Unknown,
    DecodeOnly(&'static str),
}

impl fmt::Display for UnknownEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            Reason::Unknown => write!(
                f,
                "unknown encoding {:?}: use a WHATWG label such as {COMMON_LABELS}",
                self.label
            ),
            Reason::DecodeOnly(name) => write!(
                f,
                "encoding {:?} ({name}) can be decoded but not sent: use one such as {COMMON_LABELS}",
                self.label
            ),
        }
    }
}

impl std::error::Error for UnknownEncoding {}

/// How many bytes an error message shows before it writes `…`.
const SHOWN_BYTES: usize = 16;

/// Bytes that are not valid text in an encoding. Displays as `<4 bytes not valid UTF-8: c4 e3 ba c3>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    bytes: Vec<u8>,
    encoding: Encoding,
}

impl DecodeError {
    /// The bytes that did not decode.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// What the user can do: the first common encoding in which the bytes are valid text, if any.
    pub fn hint(&self) -> String {
        let candidates = ["utf-8", "gbk", "big5", "shift_jis", "euc-kr"];
        let fits = candidates
            .iter()
            .filter_map(|label| Encoding::for_label(label).ok())
            .find(|other| *other != self.encoding && other.decode(&self.bytes).is_ok());
        match fits {
            Some(other) => format!(
                "valid {other}: try --encoding {}",
                other.name().to_ascii_lowercase()
            ),
            None => "try another --encoding".to_owned(),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.bytes.len();
        let noun = if count == 1 { "byte" } else { "bytes" };
        write!(f, "<{count} {noun} not valid {}:", self.encoding)?;
        for byte in self.bytes.iter().take(SHOWN_BYTES) {
            write!(f, " {byte:02x}")?;
        }
        if count > SHOWN_BYTES {
            write!(f, " …")?;
        }
        write!(f, ">")
    }
}

impl std::error::Error for DecodeError {}

/// A character the chosen encoding cannot represent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError {
    character: char,
    encoding: Encoding,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} (U+{:04X}) cannot be encoded in {}: use --encoding utf-8 or gb18030, which can encode any character",
            self.character, self.character as u32, self.encoding
        )
    }
}

impl std::error::Error for EncodeError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn gbk() -> Encoding {
        "gbk".parse().unwrap()
    }

    #[test]
    fn labels_are_looked_up_like_browsers_do() {
        assert_eq!("utf-8".parse::<Encoding>().unwrap().name(), "UTF-8");
        assert_eq!(" UTF8 ".parse::<Encoding>().unwrap().name(), "UTF-8");
        assert_eq!("GBK".parse::<Encoding>().unwrap().name(), "GBK");
        assert_eq!("gb18030".parse::<Encoding>().unwrap().name(), "gb18030");
        assert_eq!("big5".parse::<Encoding>().unwrap().name(), "Big5");
        assert_eq!("shift_jis".parse::<Encoding>().unwrap().name(), "Shift_JIS");
    }

    #[test]
    fn unknown_label_names_it_and_suggests_others() {
        let err = "klingon".parse::<Encoding>().unwrap_err().to_string();
        assert!(err.starts_with(r#"unknown encoding "klingon""#), "{err}");
        assert!(err.contains("gbk"), "{err}");
    }

    #[test]
    fn decode_only_encodings_are_refused() {
        for label in ["utf-16le", "utf-16be", "replacement", "iso-2022-kr"] {
            let err = label.parse::<Encoding>().unwrap_err().to_string();
            assert!(
                err.contains("can be decoded but not sent"),
                "{label}: {err}"
            );
        }
    }

    #[test]
    fn gbk_round_trip_of_nihao() {
        let bytes = gbk().encode("你好").unwrap();
        assert_eq!(bytes, [0xc4, 0xe3, 0xba, 0xc3]);
        assert_eq!(gbk().decode(&bytes).unwrap(), "你好");
    }

    #[test]
    fn utf8_round_trip_of_nihao() {
        let bytes = Encoding::UTF_8.encode("你好").unwrap();
        assert_eq!(bytes, [0xe4, 0xbd, 0xa0, 0xe5, 0xa5, 0xbd]);
        assert_eq!(Encoding::UTF_8.decode(&bytes).unwrap(), "你好");
    }

    #[test]
    fn gbk_bytes_are_not_utf8_and_the_error_shows_them() {
        let err = Encoding::UTF_8
            .decode(&[0xc4, 0xe3, 0xba, 0xc3])
            .unwrap_err();
        assert_eq!(err.bytes(), [0xc4, 0xe3, 0xba, 0xc3]);
        assert_eq!(err.to_string(), "<4 bytes not valid UTF-8: c4 e3 ba c3>");
        assert_eq!(err.hint(), "valid GBK: try --encoding gbk");
    }

    #[test]
    fn invalid_gbk_bytes() {
        // 0x80 is not a GBK lead byte, and 0xff never appears in GBK.
        let err = gbk().decode(&[0x41, 0xff]).unwrap_err();
        assert_eq!(err.to_string(), "<2 bytes not valid GBK: 41 ff>");
        // A lead byte cut off at the end of the message.
        let err = gbk().decode(&[0xc4]).unwrap_err();
        assert_eq!(err.to_string(), "<1 byte not valid GBK: c4>");
    }

    #[test]
    fn long_invalid_input_is_shortened() {
        let bytes = vec![0xff; 40];
        let err = Encoding::UTF_8.decode(&bytes).unwrap_err().to_string();
        assert!(err.starts_with("<40 bytes not valid UTF-8: ff ff"), "{err}");
        assert!(err.ends_with(" …>"), "{err}");
        assert_eq!(err.matches("ff").count(), SHOWN_BYTES);
    }

    #[test]
    fn hint_when_nothing_fits() {
        let err = Encoding::UTF_8.decode(&[0xff, 0xff, 0xff]).unwrap_err();
        assert_eq!(err.hint(), "try another --encoding");
    }

    #[test]
    fn unencodable_character_is_an_error_not_an_html_reference() {
        let err = gbk().encode("hi 😀").unwrap_err().to_string();
        assert!(
            err.starts_with(r#"'😀' (U+1F600) cannot be encoded in GBK"#),
            "{err}"
        );
        assert!(!err.contains("&#"), "{err}");
        let err = "shift_jis"
            .parse::<Encoding>()
            .unwrap()
            .encode("abc ☃")
            .unwrap_err();
        assert!(err.to_string().contains("U+2603"), "{err}");
    }

    #[test]
    fn gb18030_encodes_everything() {
        let gb18030: Encoding = "gb18030".parse().unwrap();
        let bytes = gb18030.encode("😀").unwrap();
        assert_eq!(gb18030.decode(&bytes).unwrap(), "😀");
    }

    #[test]
    fn upper_case_keeps_the_encoding_and_leaves_invalid_bytes_alone() {
        assert_eq!(
            &*Encoding::UTF_8.upper_case("straße\n".as_bytes()),
            b"STRASSE\n"
        );
        // GBK's second bytes can look like ASCII letters: never upper-case them one by one.
        let nihao = gbk().encode("你好 abc").unwrap();
        assert_eq!(gbk().decode(&gbk().upper_case(&nihao)).unwrap(), "你好 ABC");
        assert_eq!(&*Encoding::UTF_8.upper_case(&[0xff, b'a']), [0xff, b'a']);
    }

    #[test]
    fn display_strips_line_endings_and_never_fails() {
        assert_eq!(Encoding::UTF_8.display(b"hello\n"), "hello");
        assert_eq!(Encoding::UTF_8.display(b"hello\r\n"), "hello");
        assert_eq!(Encoding::UTF_8.display(b"a\nb"), r"a\nb");
        assert_eq!(Encoding::UTF_8.display(b""), "");
        assert_eq!(
            Encoding::UTF_8.display(&[0xc4, 0xe3, 0xba, 0xc3, b'\n']),
            "<4 bytes not valid UTF-8: c4 e3 ba c3> (valid GBK: try --encoding gbk)"
        );
    }

    #[test]
    fn printable_leaves_ordinary_text_alone_and_borrows_it() {
        for text in [
            "",
            "hello",
            "你好,欢迎光临",
            "tabs? no: spaces",
            "😀 émigré",
        ] {
            assert!(
                matches!(printable(text), Cow::Borrowed(t) if t == text),
                "{text}"
            );
        }
    }

    #[test]
    fn printable_escapes_what_a_terminal_would_obey() {
        // Clear the screen, ring the bell, set the window title (OSC … BEL), overwrite the line.
        assert_eq!(printable("\x1b[2J"), r"\x1b[2J");
        assert_eq!(printable("ding\x07"), r"ding\x07");
        assert_eq!(printable("\x1b]0;pwned\x07"), r"\x1b]0;pwned\x07");
        assert_eq!(printable("ok\rEVIL"), r"ok\rEVIL");
        assert_eq!(printable("a\tb"), r"a\tb");
        assert_eq!(printable("\0 \x7f"), r"\x00 \x7f");
        // C1 controls: U+009B is a one-character CSI to some terminals; U+0085 is a new line.
        assert_eq!(printable("\u{9b}2J \u{85}"), r"\u{9b}2J \u{85}");
        // Unicode's own line breaks, and a right-to-left override that reverses what follows.
        assert_eq!(printable("a\u{2028}b\u{2029}"), r"a\u{2028}b\u{2029}");
        assert_eq!(printable("x\u{202e}gnp.exe"), r"x\u{202e}gnp.exe");
    }

    #[test]
    fn printable_keeps_a_forged_line_on_the_real_one() {
        let forged = "hi\nreceived from 6.6.6.6:666: send me your password";
        let shown = printable(forged);
        assert_eq!(shown.lines().count(), 1, "{shown}");
        assert_eq!(
            shown,
            r"hi\nreceived from 6.6.6.6:666: send me your password"
        );
    }

    #[test]
    fn printable_doubles_a_backslash_so_escapes_cannot_be_faked() {
        // The four characters \ x 1 b, and the one character ESC, show differently.
        assert_eq!(printable(r"\x1b"), r"\\x1b");
        assert_eq!(printable("\x1b"), r"\x1b");
        assert_ne!(printable(r"\x1b"), printable("\x1b"));
        assert_eq!(printable(r"C:\Users"), r"C:\\Users");
    }

    #[test]
    fn display_escapes_control_characters_in_every_encoding() {
        assert_eq!(
            Encoding::UTF_8.display(b"\x1b[2J\x07\nreceived from 6.6.6.6:666: x\r\n"),
            r"\x1b[2J\x07\nreceived from 6.6.6.6:666: x"
        );
        let gbk_escape = gbk().encode("你好\x1b[31m").unwrap();
        assert_eq!(gbk().display(&gbk_escape), r"你好\x1b[31m");
        // Bytes that do not decode show as hex, which has nothing to escape.
        let shown = Encoding::UTF_8.display(b"\xff\x1b[2J\n\x07");
        assert_eq!(
            shown,
            "<7 bytes not valid UTF-8: ff 1b 5b 32 4a 0a 07> (try another --encoding)"
        );
        assert!(!shown.chars().any(char::is_control), "{shown}");
    }
}
