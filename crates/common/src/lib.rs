//! What every lesson shares but none of them teaches: parsing addresses, text encodings,
//! command-line arguments spelled the same way everywhere, console output, and the errors that
//! tell a student what to do. The socket calls themselves stay in the lessons.

pub mod addr;
pub mod busy;
pub mod cli;
pub mod console;
pub mod framing;
pub mod net;
pub mod random;
pub mod stalled;
pub mod text;

pub use addr::Addr;
pub use console::Console;
pub use text::Encoding;
