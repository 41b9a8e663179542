//! long-short: the integration tests, in one test binary (one link, one start-up). Each module
//! tells one part of the story; they run in parallel and share nothing, since every test starts
//! its own server on port 0. The exercises' checks are the `exercises` binary beside this one.
// In tests a panic is a failed test, with its message: unwrap is the clearest way to say so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod book;
mod demo;
mod errors;
mod hostile_peers;
mod interop_python;
mod interop_tools;
mod limits;
mod modes;
mod properties;
mod server;
mod terminal;
