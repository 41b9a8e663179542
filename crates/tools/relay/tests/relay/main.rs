//! relay: the integration tests, in one test binary (one link, one start-up). Each module
//! tells one part of the story; they run in parallel and share nothing, since every test starts
//! its own server on port 0.
// In tests a panic is a failed test, with its message: unwrap is the clearest way to say so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod errors;
mod tcp;
mod udp;
