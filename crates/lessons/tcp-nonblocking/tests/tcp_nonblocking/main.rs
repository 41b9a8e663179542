//! The lesson's integration tests, in one test binary (one link, one start-up): each module
//! tells one part of the story. They run in parallel and share nothing: every test starts its
//! own server on port 0.
// In tests a panic is a failed test, with its message: unwrap is the clearest way to say so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod book;
mod broadcast;
mod client;
mod demo;
mod echo;
mod errors;
mod event_loop;
mod hostile;
mod interop_python;
mod interop_tools;
mod limits;
#[cfg(unix)]
mod shutdown;
