//! Reading the user's files whole (reducers, mappings, keymap, theme, `--map` files) with
//! a bound: a file larger than its limit, or one that is not a regular file (a FIFO, a
//! device such as /dev/zero, an endless stream), is refused in one line naming the file
//! and the limit instead of being read until memory runs out.

use std::io::Read;
use std::path::Path;

/// The most a reducer, a snapshot mapping or a `--map` file may hold.
pub const PROGRAM_LIMIT: u64 = 1 << 20;
/// The most a keymap or theme may hold.
pub const SETTINGS_LIMIT: u64 = 256 << 10;

/// The text of `path`, at most `limit` bytes; `what` names it in messages ("keymap"),
/// which start with it and the path.
pub fn read_bounded(path: &Path, limit: u64, what: &str) -> Result<String, String> {
    read_bounded_text(path, limit, what).map_err(|e| format!("{what} {}: {e}", path.display()))
}

/// [`read_bounded`] whose messages leave the caller to name the file.
pub fn read_bounded_text(path: &Path, limit: u64, what: &str) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file (a directory, FIFO or device); give a file".into());
    }
    let too_big = || format!("larger than {}, the most a {what} may be", size(limit));
    if meta.len() > limit {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    // A file that grew while it was read.
    if bytes.len() as u64 > limit {
        return Err(too_big());
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())
}

/// A byte count as people read it: 1 MiB, 256 KiB.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_and_large_files_are_refused() {
        let e = read_bounded(Path::new("/dev/zero"), 10, "reducer").unwrap_err();
        assert!(e.contains("/dev/zero: not a regular file"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.jq");
        std::fs::write(&big, "x".repeat(11)).unwrap();
        let e = read_bounded(&big, 10, "reducer").unwrap_err();
        assert!(
            e.contains("larger than 10 bytes, the most a reducer may be"),
            "{e}"
        );
        std::fs::write(&big, ".").unwrap();
        assert_eq!(read_bounded(&big, 10, "reducer").unwrap(), ".");
        assert_eq!(size(1 << 20), "1 MiB");
    }
}

/// Writes `text` to a new file named after `stem` (made safe: no path, no leading dot,
/// at most 100 characters) in `dir`: created exclusively, never through a symlink, never
/// over an existing file (`stem-1.json`, `stem-2.json`, … instead). `private` makes it
/// readable by the user only (0600).
pub fn write_new(
    dir: &Path,
    stem: &str,
    text: &str,
    private: bool,
) -> std::io::Result<std::path::PathBuf> {
    write_new_as(dir, stem, "json", text, private)
}

/// [`write_new`] with another extension (`ndjson` for a test fixture).
pub fn write_new_as(
    dir: &Path,
    stem: &str,
    ext: &str,
    text: &str,
    private: bool,
) -> std::io::Result<std::path::PathBuf> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut safe: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if safe.is_empty() || safe.starts_with('.') {
        safe.insert(0, '_');
    }
    for n in 0..1000 {
        let name = match n {
            0 => format!("{safe}.{ext}"),
            n => format!("{safe}-{n}.{ext}"),
        };
        let path = dir.join(name);
        let opened = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW)
            .mode(if private { 0o600 } else { 0o666 })
            .open(&path);
        match opened {
            Ok(mut f) => {
                f.write_all(text.as_bytes())?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        format!("{safe}.{ext} and 999 numbered copies exist"),
    ))
}

/// Writes `text` to `path`, which must not exist yet: created exclusively, never through
/// a symlink, never over a file.
pub fn create_exclusive(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(test)]
mod write_tests {
    use super::*;

    #[test]
    fn new_files_only_never_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.txt");
        std::fs::write(&target, "keep").unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join("A-1.json")).unwrap();
        let first = write_new(dir.path(), "A-1", "{}", false).unwrap();
        assert_eq!(first, dir.path().join("A-1-1.json"));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        let second = write_new(dir.path(), "A-1", "{}", false).unwrap();
        assert_eq!(second, dir.path().join("A-1-2.json"));
        let hidden = write_new(dir.path(), "../.bashrc", "{}", true).unwrap();
        assert_eq!(hidden, dir.path().join("_.._.bashrc.json"));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&hidden).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
