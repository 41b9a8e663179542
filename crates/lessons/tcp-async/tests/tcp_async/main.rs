//! The tcp-async lesson's tests, in one test binary (one link, one process: `cargo test` stays
//! fast). Each module tells one part of the story; every test starts its own server on port 0,
//! so they run in parallel without meeting.
// In tests a panic is a failed test, with its message: unwrap is the clearest way to say so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod blocking;
mod book;
mod broadcast;
mod client;
mod demo;
mod errors;
mod hostile_peers;
mod interop_python;
mod interop_tools;
mod limits;
mod many;
mod shutdown;
mod tasks;
