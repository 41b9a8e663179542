//! A lesson's options as its command line gives them, for the unit tests that check that
//! `Options::new` has the same defaults as clap.

use clap::{Args, Command, FromArgMatches};

/// Parses `args` (without the program's name) into `T`, the way the lesson's own command line
/// would. Panics with clap's message if they do not parse.
pub fn parse<T: Args + FromArgMatches>(args: &[&str]) -> T {
    let command = T::augment_args(Command::new("server"));
    let matches = command
        .try_get_matches_from(std::iter::once("server").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("{e}"));
    T::from_arg_matches(&matches).unwrap_or_else(|e| panic!("{e}"))
}
