//! Which files the server may send: only regular files inside `--root`. Seed 001's server opens
//! whatever name a client sends, so `GET /etc/passwd` or `GET ../../home/you/.ssh/id_rsa` hands
//! anyone on the network any file the server can read. Three checks stop that:
//!
//! 1. the name, as text, before touching the disk: relative, no `..`, no control characters;
//! 2. the open itself, made *beneath* a handle on the root that no path can climb out of: a
//!    symlink that leads outside makes the open fail, whenever it was put there;
//! 3. the type of what was opened (`fstat` of the handle), not of what the name pointed to a
//!    moment before: only a regular file is sent.
//!
//! The first check alone misses a symlink inside the root that points out of it; the second
//! alone would still let the disk be probed with `..` names. And checks 2 and 3 must be made on
//! the open handle, never by looking the name up once to check it and again to open it: between
//! the two, someone who can write in the root can swap the name (see `open_file`).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use cap_std::ambient_authority;
#[cfg(unix)]
use cap_std::fs::OpenOptionsExt;
use cap_std::fs::{Dir, OpenOptions};

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
    if relative.as_os_str().is_empty() {
        // `.` or `./`: the root itself (a directory, so refused when it is opened).
        relative.push(".");
    }
    Ok(relative)
}
// ANCHOR_END: check_name

// ANCHOR: open_file
/// The served folder: a handle on it, opened once at startup, and its path for messages.
pub struct Root {
    /// cap-std's `Dir`: every path opened through it is resolved beneath it (with `openat2`
    /// and `RESOLVE_BENEATH` on Linux, step by step with `openat` elsewhere), and a `..` or a
    /// symlink that would climb out of it fails the open.
    dir: Dir,
    path: PathBuf,
}

impl Root {
    /// Checks 1 to 3 for `GET name`: the file itself, opened, and its size.
    ///
    /// Never "check the path, then open the path": `File::open` looks the name up again, and
    /// what it finds then is whatever is there *then* (time of check to time of use, TOCTOU).
    /// Swapping a name between a file and a symlink to `/etc/shadow` while asking for it wins
    /// that race now and then. Here the name is looked up once, by the open, and every check
    /// after it is about the handle it returned.
    pub fn open_file(&self, name: &str) -> Result<(File, u64), Refusal> {
        let relative = check_name(name)?;
        // Check 2: open beneath the root, read-only, and without waiting: opening a named pipe
        // blocks until someone opens its other end, so it must not block before we know what
        // it is. (O_NONBLOCK changes nothing for reading a regular file.)
        let mut options = OpenOptions::new();
        options.read(true);
        #[cfg(unix)]
        options.custom_flags(nonblocking());
        let file = match self.dir.open_with(&relative, &options) {
            Ok(file) => file,
            Err(error) => return Err(self.why_not(&relative, error)),
        };
        // Check 3: fstat() of the handle: what we opened, not what the name is now.
        let metadata = file.metadata().map_err(|e| Refusal::CannotRead(e.kind()))?;
        if !metadata.is_file() {
            // A directory, a named pipe, a device: not a download.
            return Err(Refusal::NotAFile);
        }
        Ok((file.into_std(), metadata.len()))
    }
    // ANCHOR_END: open_file

    /// Why the open failed, for the `ERR` line. The check is done: this only names the reason.
    fn why_not(&self, relative: &Path, error: io::Error) -> Refusal {
        match error.kind() {
            // `a.txt/b`: part of the path is a file, so there is no such file either.
            io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => Refusal::NoSuchFile,
            // A directory cannot be opened as a file everywhere (Windows).
            _ if self.dir.metadata(relative).is_ok_and(|m| !m.is_file()) => Refusal::NotAFile,
            // cap-std says "permission denied" for a path that leads outside the root. Tell it
            // from a file we may not read by where the path really leads.
            io::ErrorKind::PermissionDenied
                if self
                    .path
                    .join(relative)
                    .canonicalize()
                    .is_ok_and(|real| !real.starts_with(&self.path)) =>
            {
                Refusal::OutsideTheRoot
            }
            kind => Refusal::CannotRead(kind),
        }
    }

    /// `--root DIR`: its canonical path, and a handle on it, checked once at startup.
    pub fn open(dir: &Path) -> io::Result<Root> {
        let cannot_use = |error: io::Error| {
            io::Error::new(
                error.kind(),
                format!("cannot use --root {}: {error}", dir.display()),
            )
        };
        let path = dir.canonicalize().map_err(cannot_use)?;
        if !path.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("cannot use --root {}: not a directory", dir.display()),
            ));
        }
        let dir = Dir::open_ambient_dir(&path, ambient_authority()).map_err(cannot_use)?;
        Ok(Root { dir, path })
    }

    /// The root's canonical path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The files a client may ask for, as `(size, name)`, sorted by name: regular files under
    /// the root, and symlinks that lead to one inside it. Names a client could not ask for
    /// (not UTF-8, control characters, `\`, `:`) are left out. Everything is looked up
    /// through the root's handle, so a symlink swapped in meanwhile cannot show what is
    /// outside, not even a size.
    pub fn list(&self) -> Vec<(u64, String)> {
        let mut files = Vec::new();
        self.walk(&self.dir, "", 0, &mut files);
        files.sort_by(|a, b| a.1.cmp(&b.1));
        files
    }

    fn walk(&self, dir: &Dir, prefix: &str, depth: usize, files: &mut Vec<(u64, String)>) {
        let Ok(entries) = dir.entries() else {
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
            let Ok(relative) = check_name(&name) else {
                continue;
            };
            // file_type() does not follow symlinks: a symlink to a directory is not walked
            // into, so a link to `..` cannot make this loop forever.
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if depth < MAX_DEPTH
                    && let Ok(subdir) = entry.open_dir()
                {
                    self.walk(&subdir, &format!("{name}/"), depth + 1, files);
                }
            } else if let Ok(metadata) = self.dir.metadata(&relative)
                && metadata.is_file()
            {
                // metadata() follows symlinks, beneath the root only.
                files.push((metadata.len(), name));
            }
        }
    }
}

/// `O_NONBLOCK` (and `O_NOCTTY`: opening a terminal device must not make it ours), as the
/// flags `open` takes.
#[cfg(unix)]
fn nonblocking() -> i32 {
    use rustix::fs::OFlags;
    (OFlags::NONBLOCK | OFlags::NOCTTY).bits() as i32
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
