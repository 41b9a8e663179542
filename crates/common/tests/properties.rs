//! Property tests for the two parsers every lesson leans on, the ADDR argument and the line
//! framing (`Pending`), and for the escaping that shows a peer's text (`printable`). Each case is a few microseconds, so proptest's default 256 cases each.
//! A failure prints the smallest input that breaks the property.

mod properties {
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};

    use common::framing::Pending;
    use common::text::printable;
    use common::{Addr, Encoding};
    use proptest::prelude::*;

    /// Text that looks like an address often enough to reach every branch of the parser:
    /// digits, dots, colons, brackets, hex letters, a few others.
    fn address_like() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9a-fA-F:.\\[\\]%_ -]{0,40}",
            "[0-9]{0,7}",
            ":[0-9]{0,7}",
            "\\[[0-9a-f:.]{0,20}\\]:[0-9]{0,6}",
            "[a-z0-9.-]{0,20}:[0-9+-]{0,6}",
            any::<String>(),
        ]
    }

    /// A host name a resolver would accept: dot-separated labels of letters, digits, `-` (not at
    /// either end) and `_`, with at least one letter somewhere so that it is not an IPv4 typo.
    fn host_name() -> impl Strategy<Value = String> {
        let label = "[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,8}[a-zA-Z0-9_])?";
        (
            prop::collection::vec(label, 0..4),
            "[a-zA-Z_][a-zA-Z0-9_]{0,8}",
        )
            .prop_map(|(mut labels, last)| {
                labels.push(last);
                labels.join(".")
            })
    }

    /// Text rich in what `printable` must deal with: control characters (C0, DEL, C1), the
    /// Unicode line separators and bidi overrides, backslashes and the characters of escapes
    /// (`x`, `u`, `{`, hex digits), next to Chinese and any other character.
    fn tricky_text() -> impl Strategy<Value = String> {
        let tricky = prop_oneof![
            (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap_or('?')),
            (0x7fu32..0xa0).prop_map(|c| char::from_u32(c).unwrap_or('?')),
            prop::sample::select(vec![
                '\\', 'x', 'u', '{', '}', '1', 'b', 'n', '\u{2028}', '\u{2029}', '\u{202e}',
                '\u{2066}', '你', '好',
            ]),
            any::<char>(),
        ];
        prop::collection::vec(tricky, 0..40).prop_map(|chars| chars.into_iter().collect())
    }

    /// Reads `printable`'s output back: the inverse of the escaping, or `None` if the text is not
    /// something `printable` could have written.
    fn unescape(shown: &str) -> Option<String> {
        let mut text = String::new();
        let mut chars = shown.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                text.push(c);
                continue;
            }
            match chars.next()? {
                '\\' => text.push('\\'),
                'n' => text.push('\n'),
                'r' => text.push('\r'),
                't' => text.push('\t'),
                'x' => {
                    let hex: String = chars.by_ref().take(2).collect();
                    text.push(char::from(u8::from_str_radix(&hex, 16).ok()?));
                }
                'u' => {
                    if chars.next()? != '{' {
                        return None;
                    }
                    let hex: String = chars.by_ref().take_while(|&c| c != '}').collect();
                    text.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                _ => return None,
            }
        }
        Some(text)
    }

    proptest! {
        #[test]
        fn prop_printable_output_holds_no_control_character(text in tricky_text()) {
            // Nothing a terminal would obey, and nothing that starts a new line anywhere.
            let shown = printable(&text);
            prop_assert!(
                !shown.chars().any(|c| c.is_control()
                    || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')),
                "{text:?} shows as {shown:?}"
            );
        }

        #[test]
        fn prop_different_texts_stay_distinguishable(text in tricky_text()) {
            // printable can be undone exactly, so two different texts never show the same.
            let shown = printable(&text);
            prop_assert_eq!(unescape(&shown), Some(text.clone()), "shown as {:?}", shown);
        }

        #[test]
        fn prop_text_without_escapes_prints_unchanged(text in "[^\\\\\\p{Cc}\u{2028}-\u{202e}\u{2066}-\u{2069}]{0,40}") {
            prop_assert_eq!(printable(&text), text.as_str());
        }

        #[test]
        fn prop_any_bytes_from_a_peer_show_as_one_line_without_controls(
            bytes in prop::collection::vec(any::<u8>(), 0..64),
            label in prop::sample::select(vec!["utf-8", "gbk", "big5", "shift_jis", "windows-1252"]),
        ) {
            let encoding: Encoding = label.parse().map_err(|e| TestCaseError::fail(format!("{e}")))?;
            let shown = encoding.display(&bytes);
            prop_assert!(!shown.chars().any(char::is_control), "{bytes:?} in {label} shows as {shown:?}");
        }

        #[test]
        fn prop_no_text_makes_the_address_parser_panic(text in address_like()) {
            // Ok or a clear error, never a panic; and an error names what was typed.
            if let Err(error) = text.parse::<Addr>() {
                let message = error.to_string();
                prop_assert!(!message.is_empty());
                prop_assert!(text.is_empty() || message.contains(&format!("{text:?}")), "{message}");
            }
        }

        #[test]
        fn prop_whatever_parses_prints_as_text_that_parses_to_the_same_address(
            text in address_like()
        ) {
            if let Ok(addr) = text.parse::<Addr>() {
                let shown = addr.to_string();
                prop_assert_eq!(shown.parse::<Addr>(), Ok(addr), "{:?} printed as {:?}", text, shown);
            }
        }

        #[test]
        fn prop_every_ip_and_port_round_trips(ip in any::<IpAddr>(), port in any::<u16>()) {
            let addr = Addr::from_socket_addr(SocketAddr::new(ip, port));
            let shown = addr.to_string();
            // The text is the standard one: what SocketAddr prints.
            prop_assert_eq!(&shown, &SocketAddr::new(ip, port).to_string());
            prop_assert_eq!(shown.parse::<Addr>(), Ok(addr));
        }

        #[test]
        fn prop_every_host_name_and_port_round_trips(host in host_name(), port in any::<u16>()) {
            let text = format!("{host}:{port}");
            let addr: Addr = text.parse().map_err(|e| TestCaseError::fail(format!("{e}")))?;
            prop_assert_eq!(addr.to_string(), text);
            prop_assert_eq!(addr.port(), port);
        }

        #[test]
        fn prop_a_bare_port_means_this_machine_and_colon_port_every_interface(port in any::<u16>()) {
            prop_assert_eq!(port.to_string().parse::<Addr>(), Ok(Addr::localhost(port)));
            let every = Addr::from_socket_addr(SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), port));
            prop_assert_eq!(format!(":{port}").parse::<Addr>(), Ok(every));
        }

        #[test]
        fn prop_pending_never_loses_or_invents_a_byte(
            steps in prop::collection::vec(
                prop_oneof![
                    prop::collection::vec(any::<u8>(), 0..40).prop_map(Step::Push),
                    (1usize..50).prop_map(Step::TakeLine),
                    Just(Step::TakeRest),
                ],
                0..40,
            )
        ) {
            // Whatever the order of pushes and takes, and whatever the bytes: no panic, every
            // message is at most `max` bytes and ends at its first newline or at `max`, and the
            // messages put end to end are exactly the bytes pushed.
            let mut pending = Pending::default();
            let (mut pushed, mut taken) = (Vec::new(), Vec::new());
            for step in steps {
                match step {
                    Step::Push(bytes) => {
                        pending.push(&bytes);
                        pushed.extend_from_slice(&bytes);
                    }
                    Step::TakeLine(max) => {
                        if let Some(line) = pending.take_line(max) {
                            prop_assert!(!line.is_empty() && line.len() <= max);
                            let newline = line.iter().position(|&b| b == b'\n');
                            prop_assert!(
                                newline == Some(line.len() - 1)
                                    || (newline.is_none() && line.len() == max),
                                "{line:?} with max {max}"
                            );
                            taken.extend_from_slice(&line);
                        }
                    }
                    Step::TakeRest => {
                        if let Some(rest) = pending.take_rest() {
                            prop_assert!(!rest.is_empty());
                            taken.extend_from_slice(&rest);
                        }
                        prop_assert!(pending.is_empty());
                    }
                }
            }
            taken.extend(pending.take_rest().unwrap_or_default());
            prop_assert_eq!(taken, pushed);
        }

        #[test]
        fn prop_lines_split_at_any_points_come_out_whole(
            lines in prop::collection::vec("[^\n]{0,30}\n", 0..20),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..30),
            last in "[^\n]{0,10}",
        ) {
            // The stream is cut into reads anywhere, as TCP may do; lines come out as sent,
            // and what has no newline comes out last, at the end of the stream.
            let stream: Vec<u8> = lines.concat().into_bytes().into_iter().chain(last.bytes()).collect();
            let mut at: Vec<usize> = cuts.iter().map(|cut| cut.index(stream.len() + 1)).collect();
            at.extend([0, stream.len()]);
            at.sort_unstable();
            let mut pending = Pending::default();
            let mut received = Vec::new();
            for read in at.windows(2) {
                pending.push(&stream[read[0]..read[1]]);
                while let Some(line) = pending.take_line(64 * 1024) {
                    received.push(String::from_utf8(line).map_err(|e| TestCaseError::fail(e.to_string()))?);
                }
            }
            prop_assert_eq!(&received, &lines);
            let rest = pending.take_rest().map(String::from_utf8);
            prop_assert_eq!(rest, (!last.is_empty()).then(|| Ok(last.clone())));
        }
    }

    /// One thing done to a `Pending`.
    #[derive(Clone, Debug)]
    enum Step {
        Push(Vec<u8>),
        TakeLine(usize),
        TakeRest,
    }
}
