//! Which files the server may send: only regular files inside `--root`. Seed 001's server opens
//! whatever name a client sends, so `GET /etc/passwd` or `GET ../../home/you/.ssh/id_rsa` hands
//! anyone on the network any file the server can read. Two checks stop that:
//!
//! 1. the name, as text, before touching the disk: relative, no `..`, no control characters;
//! 2. the real path, after the operating system resolved every symlink: still inside the root.
//!
//! The first check alone misses a symlink inside the root that points out of it; the second alone
//! would still let the disk be probed with `..` names. Both are cheap.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::protocol::{MAX_NAME, Refusal};

/// At most this many files in a `LIST` answer, so that a huge tree cannot exhaust memory.
pub const MAX_LISTED: usize = 10_000;

/// How deep `LIST` looks into subdirectories.
const MAX_DEPTH: usize = 16;

// ANCHOR: check_name
/// Check 1: the name as text. Returns the relative path it names inside the root.
pub fn check_name(name: &str) -> Result<PathBuf, Refusal> {
    if name.is_empty() {
        return Err(Refusal::EmptyName);
    }
    if name.len() > MAX_NAME {
        return Err(Refusal::NameTooLong);
    }
    // NUL ends a string for the operating system: "a.txt\0.jpg" could pass a check on the
    // ending and open a.txt. Newlines and escapes would forge lines in the server's log.
    if name.chars().any(char::is_control) {
        return Err(Refusal::ControlCharacter);
    }
    // `/etc/passwd`, `\Windows\win.ini`, `C:\…`, `C:x`: joining an absolute path to the root
    // *replaces* the root (Path::join), so these would escape it without a single `..`.
    let bytes = name.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if name.starts_with(['/', '\\']) || drive {
        return Err(Refusal::Absolute);
    }
    // On Windows `\` separates directories (so `..\x` is a `..`) and `:` names a drive or a
    // stream. Refusing them everywhere makes the server behave the same on every system.
    if name.contains('\\') {
        return Err(Refusal::Backslash);
    }
    if name.contains(':') {
        return Err(Refusal::Colon);
    }
    let mut relative = PathBuf::new();
    for component in name.split('/') {
        match component {
            // `a//b` and `./a`: nothing to add.
            "" | "." => {}
            // The one component that climbs out. Refused even where it would stay inside
            // (`a/../b`): a client has no reason to send it.
            ".." => return Err(Refusal::OutsideTheRoot),
            _ => relative.push(component),
        }
    }
    Ok(relative)
}
// ANCHOR_END: check_name

// ANCHOR: resolve
/// Check 2: the file on disk. `root` must already be canonical (see `open_root`). Returns the
/// file's real path: inside the root, and a regular file.
pub fn resolve(root: &Path, name: &str) -> Result<PathBuf, Refusal> {
    let relative = check_name(name)?;
    // canonicalize() asks the operating system for the real path: every symlink followed,
    // every `.` and `..` gone. Whatever the name looked like, this is the file we would open.
    let real = root.join(relative).canonicalize().map_err(not_found)?;
    // Compared by components, not by text: /srv/files2 does not start with /srv/files.
    if !real.starts_with(root) {
        return Err(Refusal::OutsideTheRoot);
    }
    // A directory, a device or a named pipe (whose open() would block) is not a download.
    let metadata = fs::metadata(&real).map_err(not_found)?;
    if !metadata.is_file() {
        return Err(Refusal::NotAFile);
    }
    Ok(real)
}
// ANCHOR_END: resolve

/// `--root DIR` as a canonical path, checked once at startup.
pub fn open_root(dir: &Path) -> io::Result<PathBuf> {
    let root = dir.canonicalize().map_err(|error| {
        io::Error::new(
            error.kind(),
            format!("cannot use --root {}: {error}", dir.display()),
        )
    })?;
    if !root.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot use --root {}: not a directory", dir.display()),
        ));
    }
    Ok(root)
}

fn not_found(error: io::Error) -> Refusal {
    match error.kind() {
        // `a.txt/b`: part of the path is a file, so there is no such file either.
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => Refusal::NoSuchFile,
        kind => Refusal::CannotRead(kind),
    }
}

/// The files a client may ask for, as `(size, name)`, sorted by name: regular files under the
/// root, and symlinks that resolve to one inside it. Names a client could not ask for (not
/// UTF-8, control characters, `\`, `:`) are left out.
pub fn list(root: &Path) -> Vec<(u64, String)> {
    let mut files = Vec::new();
    walk(root, root, "", 0, &mut files);
    files.sort_by(|a, b| a.1.cmp(&b.1));
    files
}

fn walk(root: &Path, dir: &Path, prefix: &str, depth: usize, files: &mut Vec<(u64, String)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if files.len() >= MAX_LISTED {
            return;
        }
        let Ok(file_name) = entry.file_name().into_string() else {
            continue;
        };
        let name = format!("{prefix}{file_name}");
        if check_name(&name).is_err() {
            continue;
        }
        // file_type() does not follow symlinks: a symlink to a directory is not walked into,
        // so a link to `..` cannot make this loop forever.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if depth < MAX_DEPTH {
                walk(root, &entry.path(), &format!("{name}/"), depth + 1, files);
            }
        } else if let Ok(real) = resolve(root, &name)
            && let Ok(metadata) = fs::metadata(real)
        {
            files.push((metadata.len(), name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_relative_paths() {
        assert_eq!(check_name("a.txt"), Ok(PathBuf::from("a.txt")));
        assert_eq!(
            check_name("docs/a.txt"),
            Ok(PathBuf::from("docs").join("a.txt"))
        );
        assert_eq!(
            check_name("./docs//a.txt"),
            Ok(PathBuf::from("docs").join("a.txt"))
        );
        assert_eq!(check_name("你好.txt"), Ok(PathBuf::from("你好.txt")));
        assert_eq!(
            check_name("my file 2.txt"),
            Ok(PathBuf::from("my file 2.txt"))
        );
        assert_eq!(check_name("..."), Ok(PathBuf::from("...")));
    }

    #[test]
    fn names_that_could_leave_the_root_are_refused() {
        for (name, refusal) in [
            ("", Refusal::EmptyName),
            ("../x", Refusal::OutsideTheRoot),
            ("a/../../x", Refusal::OutsideTheRoot),
            ("a/..", Refusal::OutsideTheRoot),
            ("..", Refusal::OutsideTheRoot),
            ("/etc/passwd", Refusal::Absolute),
            ("//server/share", Refusal::Absolute),
            ("\\Windows\\win.ini", Refusal::Absolute),
            ("C:\\Windows\\win.ini", Refusal::Absolute),
            ("c:/x", Refusal::Absolute),
            ("C:x", Refusal::Absolute),
            ("..\\x", Refusal::Backslash),
            ("a\\..\\..\\x", Refusal::Backslash),
            ("notes.txt:stream", Refusal::Colon),
            ("a\0.txt", Refusal::ControlCharacter),
            ("a\nLIST", Refusal::ControlCharacter),
            ("a\u{1b}[2J", Refusal::ControlCharacter),
            ("a\u{85}b", Refusal::ControlCharacter),
        ] {
            assert_eq!(check_name(name), Err(refusal), "{name:?}");
        }
        assert_eq!(check_name(&"x".repeat(MAX_NAME)).map(|_| ()), Ok(()));
        assert_eq!(
            check_name(&"x".repeat(MAX_NAME + 1)),
            Err(Refusal::NameTooLong)
        );
    }
}
