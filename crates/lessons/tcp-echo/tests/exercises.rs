//! Checks for the chapter's exercises that change the code (docs/src/tcp-echo.md, "Exercises").
//! They fail until the exercise is done, so they are ignored in the normal run. Check your work:
//!
//! ```text
//! cargo test -p tcp-echo --test exercises -- --ignored
//! ```

#[path = "tcp_echo/support.rs"]
mod support;

use predicates::str::contains;
use support::{client, server};

#[test]
#[ignore = "exercise 5: add --reverse to the server, then run with --ignored"]
fn exercise_5_reverse_replies_with_the_characters_reversed() {
    let server = server(&["--reverse"]);
    client(server.addr(), &["--message", "abc", "--message", "你好"])
        .assert()
        .success()
        .stdout(contains("received: cba\n"))
        .stdout(contains("received: 好你\n"));
}
