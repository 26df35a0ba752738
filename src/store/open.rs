//! Opening a store read-only so that every read sees all committed data, `-wal` included,
//! and so that nothing is left beside the store afterwards.
//!
//! SQLite's own locking is the only way to read a live WAL store consistently: a reader
//! holds a mark in the `-shm` index that stops a checkpoint from overwriting pages it still
//! needs. A read-only connection creates `-wal` and `-shm` when they are missing and leaves
//! them behind; [`Sidecars`] notes which existed before and removes the others once no
//! other process has the store open. Where SQLite cannot make its `-shm` file (a read-only
//! directory or mount), the store is read as `immutable` when it has no WAL content, else
//! from a private copy of the database and its `-wal`.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rusqlite::{Connection, OpenFlags};

use super::{Result, StoreError};

/// How a connection reaches the store.
#[derive(Debug)]
pub enum Access {
    /// Through SQLite's locks: consistent while other processes write.
    Shared,
    /// The store could not take part in SQLite's locking (a read-only place), and has no
    /// WAL content: read as it is on disk.
    Immutable,
    /// A read-only place with WAL content: a private copy of the database and its `-wal`.
    Copy { _dir: tempfile::TempDir },
}

impl Access {
    /// Whether other processes' writes show through `PRAGMA data_version`; otherwise a
    /// follower must reopen the store when its files change.
    pub fn sees_writes(&self) -> bool {
        matches!(self, Access::Shared)
    }
}

/// The files of a store whose size or modification time tell that it changed.
pub fn signature(db: &Path) -> Vec<Option<(u64, SystemTime)>> {
    [db.to_path_buf(), sidecar(db, "-wal")]
        .iter()
        .map(|p| {
            std::fs::metadata(p)
                .ok()
                .map(|m| (m.len(), m.modified().unwrap_or(SystemTime::UNIX_EPOCH)))
        })
        .collect()
}

/// Opens `db` (a canonical path) read-only; see the module's notes.
pub fn open_read_only(db: &Path) -> Result<(Connection, Access), rusqlite::Error> {
    let conn = connect(db, &Access::Shared)?;
    // The first read is where SQLite opens (or fails to make) its `-wal` and `-shm` files.
    match conn.query_row("SELECT COUNT(*) FROM sqlite_master", [], |_| Ok(())) {
        Ok(()) => return Ok((conn, Access::Shared)),
        Err(e) if !cannot_share(&e) || !is_wal(db) => return Err(e),
        Err(_) => {}
    }
    drop(conn);
    let wal = sidecar(db, "-wal");
    let has_wal = std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0);
    if !has_wal {
        let conn = connect(db, &Access::Immutable)?;
        return Ok((conn, Access::Immutable));
    }
    let copy = private_copy(db).map_err(|e| {
        rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
            Some(format!("copying the store and its -wal to read them: {e}")),
        )
    })?;
    let access = Access::Copy { _dir: copy };
    let conn = connect(db, &access)?;
    conn.query_row("SELECT COUNT(*) FROM sqlite_master", [], |_| Ok(()))?;
    Ok((conn, access))
}

/// A read-only connection to `db` (a canonical path), reaching it as `access` says: the
/// store's own, and its read-ahead helper's.
pub fn connect(db: &Path, access: &Access) -> Result<Connection, rusqlite::Error> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    match access {
        Access::Shared => Connection::open_with_flags(db, flags),
        Access::Immutable => Connection::open_with_flags(
            format!("file:{}?immutable=1", uri_path(db)),
            flags | OpenFlags::SQLITE_OPEN_URI,
        ),
        Access::Copy { _dir } => Connection::open_with_flags(_dir.path().join("store.db"), flags),
    }
}

/// Copies the database and its `-wal` until a copy is taken while neither changed.
fn private_copy(db: &Path) -> std::io::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new().prefix("eventscope-").tempdir()?;
    for _ in 0..5 {
        let before = signature(db);
        std::fs::copy(db, dir.path().join("store.db"))?;
        std::fs::copy(sidecar(db, "-wal"), dir.path().join("store.db-wal"))?;
        if signature(db) == before {
            return Ok(dir);
        }
    }
    Err(std::io::Error::other(
        "the files kept changing while they were copied",
    ))
}

/// SQLite could not create or use the `-shm` index it needs beside a WAL store.
fn cannot_share(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen)
    )
}

/// A WAL-mode database: header bytes 18 and 19 are 2.
pub fn is_wal(db: &Path) -> bool {
    use std::io::Read;
    let mut header = [0u8; 20];
    std::fs::File::open(db)
        .and_then(|mut f| f.read_exact(&mut header))
        .is_ok_and(|()| {
            header.starts_with(b"SQLite format 3\0") && header[18] == 2 && header[19] == 2
        })
}

/// `db` with `suffix` appended to its file name, as SQLite names its files.
pub fn sidecar(db: &Path, suffix: &str) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// A path as the body of a `file:` URI: `%`, `?` and `#` are escaped.
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' | '?' | '#' => out.push_str(&format!("%{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The real file behind `path` (SQLite names `-wal` and `-shm` after it, not after a
/// symlink), or a clear error.
pub fn resolve(path: &Path) -> Result<PathBuf> {
    if !path.exists() {
        return Err(StoreError::NotFound(path.to_path_buf()));
    }
    Ok(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
}

/// Which of SQLite's files beside a store existed before eventscope opened it.
#[derive(Debug)]
pub struct Sidecars {
    db: PathBuf,
    existed: [bool; 2],
}

const SUFFIXES: [&str; 2] = ["-wal", "-shm"];

impl Sidecars {
    /// Notes the files beside `db` (a canonical path) as they are now.
    pub fn note(db: &Path) -> Sidecars {
        Sidecars {
            db: db.to_path_buf(),
            existed: SUFFIXES.map(|s| sidecar(db, s).exists()),
        }
    }

    /// Removes the sidecar files that did not exist when noted, unless another process
    /// has the store open (it holds a lock on the database or its `-shm`); a `-wal` is
    /// removed only while it holds no frames. Returns whether anything was left.
    ///
    /// Call it once this process's connections are closed: locks are per process, so the
    /// check cannot see this process's own.
    pub fn clean_up(&self) -> bool {
        let created: Vec<PathBuf> = SUFFIXES
            .iter()
            .zip(self.existed)
            .filter(|(_, existed)| !existed)
            .map(|(s, _)| sidecar(&self.db, s))
            .filter(|p| p.exists())
            .collect();
        if created.is_empty() {
            return false;
        }
        if locked_by_others(&self.db) || locked_by_others(&sidecar(&self.db, "-shm")) {
            return true;
        }
        let mut left = false;
        for p in created {
            let is_wal = p.as_os_str().to_string_lossy().ends_with("-wal");
            if is_wal && std::fs::metadata(&p).is_ok_and(|m| m.len() > 0) {
                left = true;
                continue;
            }
            left |= std::fs::remove_file(&p).is_err() && p.exists();
        }
        left
    }
}

/// Whether some process holds a POSIX lock anywhere in `file` (SQLite's readers and
/// writers lock bytes of the database and of its `-shm` for as long as they have it open).
fn locked_by_others(file: &Path) -> bool {
    use nix::fcntl::{fcntl, FcntlArg};
    let Ok(f) = std::fs::File::open(file) else {
        return false;
    };
    let mut probe = libc::flock {
        l_type: libc::F_WRLCK as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    };
    match fcntl(&f, FcntlArg::F_GETLK(&mut probe)) {
        Ok(_) => probe.l_type != libc::F_UNLCK as libc::c_short,
        // Unknown: keep the files rather than pull them from under someone.
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecars_made_by_a_read_are_removed_and_others_kept() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        let c = Connection::open(&db).unwrap();
        c.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0))
            .unwrap();
        c.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
            .unwrap();
        drop(c);
        assert!(!sidecar(&db, "-wal").exists());
        let noted = Sidecars::note(&db);
        let (conn, access) = open_read_only(&db).unwrap();
        assert!(matches!(access, Access::Shared));
        assert!(sidecar(&db, "-shm").exists(), "SQLite made its index");
        drop(conn);
        assert!(!noted.clean_up(), "nothing left");
        assert!(!sidecar(&db, "-shm").exists() && !sidecar(&db, "-wal").exists());

        std::fs::write(sidecar(&db, "-shm"), b"").unwrap();
        let noted = Sidecars::note(&db);
        let (conn, _) = open_read_only(&db).unwrap();
        drop(conn);
        noted.clean_up();
        assert!(sidecar(&db, "-shm").exists(), "a file that was there stays");
    }
}
