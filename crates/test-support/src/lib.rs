//! What the lessons' tests share, and nothing a lesson runs: every lesson and tool takes this
//! crate as a dev-dependency only.
//!
//! - [`testing`]: start a lesson's binary, learn its address from its `listening on ADDR` line,
//!   follow what it prints, compare a run with a transcript; every wait has a deadline.
//! - [`external`]: the seeds' Python programs, nc and socat as peers.
//! - [`peer`]: a hand-played TCP peer and a live client with its stdin open.
//! - [`hostile`]: peers that misbehave (reset, never read, trickle, flood).
//! - [`options`]: a lesson's options parsed as its command line would.

pub mod external;
pub mod hostile;
pub mod options;
pub mod peer;
pub mod testing;
