//! A data directory: its FORMAT file, its lock, its shard directories and its master key.
//!
//! ```text
//! DIR/FORMAT            "imps-data 1\nshards N\n[layout G\n]routing R\n" (written atomically;
//!                       no routing line: routing 1, see crate::routing::ROUTING_VERSION)
//! DIR/LOCK              flock'ed exclusively by whoever has the directory open for writing
//! DIR/keys/master.key   32 random bytes, mode 0600, directory 0700
//! DIR/shard-<i>/        segments and snapshots of shard i
//! ```
//!
//! I/O boundary: blocking `std::fs` calls, done once at startup (or by offline tools).

use std::{
    fs::{self, File, OpenOptions, TryLockError},
    io::{self, Read as _},
    os::unix::fs::OpenOptionsExt as _,
    path::{Path, PathBuf},
};

use super::{
    error::{Result, StorageError},
    files,
};

pub(crate) const FORMAT_FILE: &str = "FORMAT";
const LOCK_FILE: &str = "LOCK";
pub(crate) const KEYS_DIR: &str = "keys";
pub(crate) const MASTER_KEY_FILE: &str = "master.key";
const FORMAT_MAGIC: &str = "imps-data 1";

/// The contents of the FORMAT file of a directory with `shards` shards in layout `layout`
/// (0: the original layout, written without a `layout` line), whose data is placed by
/// ownership rule `routing`.
pub(crate) fn format_text(shards: u16, layout: u64, routing: u32) -> String {
    let mut text = format!("{FORMAT_MAGIC}\nshards {shards}\n");
    if layout != 0 {
        text.push_str(&format!("layout {layout}\n"));
    }
    text.push_str(&format!("routing {routing}\n"));
    text
}

/// The directory holding shard `i` of layout `layout` under the data directory `path`.
pub(crate) fn layout_shard_dir(path: &Path, layout: u64, i: u16) -> PathBuf {
    if layout == 0 {
        path.join(format!("shard-{i}"))
    } else {
        layout_root(path, layout).join(format!("shard-{i}"))
    }
}

/// The directory holding every shard of layout `layout` (> 0).
pub(crate) fn layout_root(path: &Path, layout: u64) -> PathBuf {
    path.join(format!("layout-{layout}"))
}

/// What the FORMAT file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Format {
    shards: u16,
    layout: u64,
    routing: u32,
}

/// An opened data directory (not yet locked; see [`DataDir::lock`]).
#[derive(Debug, Clone)]
pub struct DataDir {
    path: PathBuf,
    shards: u16,
    /// Which generation of shard directories is current (changed by redistribution; see
    /// [`NewLayout`](super::NewLayout)).
    layout: u64,
    /// The ownership rule the data was placed by.
    routing: u32,
}

/// The exclusive lock on a data directory; released when dropped.
#[derive(Debug)]
pub struct DirLock {
    // Closing the file releases the flock.
    _file: File,
    path: PathBuf,
}

impl DirLock {
    /// The locked data directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl DataDir {
    /// Opens the data directory at `path`, creating it with `shards` shards if it has no
    /// FORMAT file yet. Fails with [`StorageError::ShardCount`] if it was created with another
    /// shard count. Creates the shard directories.
    pub fn open(path: impl Into<PathBuf>, shards: u16) -> Result<DataDir> {
        let path = path.into();
        if shards == 0 {
            return Err(StorageError::ZeroShards { path });
        }
        files::create_dir(&path, 0o755)?;
        let format = format_text(shards, 0, crate::routing::ROUTING_VERSION);
        files::create_file_once(&path, FORMAT_FILE, format.as_bytes(), 0o644)?;
        // Read back: another process may have created it first.
        let found =
            read_format(&path)?.ok_or_else(|| StorageError::NotADataDir { path: path.clone() })?;
        if found.shards != shards {
            return Err(StorageError::ShardCount {
                path,
                found: found.shards,
                requested: shards,
            });
        }
        let dir = DataDir {
            path,
            shards,
            layout: found.layout,
            routing: found.routing,
        };
        dir.create_shard_dirs()?;
        Ok(dir)
    }

    /// Opens the data directory at `path` as a server or tool started with `--shards`
    /// would: with `Some(n)` it must have (or is created with) `n` shards; with `None` an
    /// existing directory keeps its own count and a new one gets one shard per core.
    pub fn open_as(path: impl Into<PathBuf>, shards: Option<u16>) -> Result<DataDir> {
        let path = path.into();
        match shards {
            Some(n) => DataDir::open(path, n),
            None if path.join(FORMAT_FILE).exists() => DataDir::open_existing(path),
            None => {
                let cores = std::thread::available_parallelism()
                    .map_or(1, |n| u16::try_from(n.get()).unwrap_or(1));
                DataDir::open(path, cores)
            }
        }
    }

    /// Opens an existing data directory, taking the shard count from its FORMAT file.
    pub fn open_existing(path: impl Into<PathBuf>) -> Result<DataDir> {
        let path = path.into();
        let Format {
            shards,
            layout,
            routing,
        } = read_format(&path)?.ok_or_else(|| StorageError::NotADataDir { path: path.clone() })?;
        let dir = DataDir {
            path,
            shards,
            layout,
            routing,
        };
        dir.create_shard_dirs()?;
        Ok(dir)
    }

    /// Opens an existing data directory for reading only (`impsd check`, `impsd backup`):
    /// creates nothing.
    pub fn open_read_only(path: impl Into<PathBuf>) -> Result<DataDir> {
        let path = path.into();
        let Format {
            shards,
            layout,
            routing,
        } = read_format(&path)?.ok_or_else(|| StorageError::NotADataDir { path: path.clone() })?;
        Ok(DataDir {
            path,
            shards,
            layout,
            routing,
        })
    }

    fn create_shard_dirs(&self) -> Result<()> {
        for i in 0..self.shards {
            files::create_dir(&self.shard_dir(i), 0o755)?;
        }
        Ok(())
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The number of shards the directory was created with.
    pub fn shards(&self) -> u16 {
        self.shards
    }

    /// The directory of shard `i` (`DIR/shard-<i>`, or `DIR/layout-<n>/shard-<i>` after a
    /// redistribution); exists for every `i < shards()`.
    pub fn shard_dir(&self, i: u16) -> PathBuf {
        layout_shard_dir(&self.path, self.layout, i)
    }

    /// The generation of shard directories in use (0 until the first redistribution).
    pub fn layout(&self) -> u64 {
        self.layout
    }

    /// The ownership rule the data was placed by ([`crate::routing::ROUTING_VERSION`] for
    /// directories written by this build; older ones are redistributed at startup).
    pub fn routing(&self) -> u32 {
        self.routing
    }

    /// Takes the exclusive lock on `DIR/LOCK` without waiting; fails with
    /// [`StorageError::Locked`] if another process (or another `DirLock` in this process)
    /// holds it. The lock is released when the returned guard is dropped.
    pub fn lock(&self) -> Result<DirLock> {
        let lock_path = self.path.join(LOCK_FILE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o644)
            .open(&lock_path)
            .map_err(|e| StorageError::io("open", &lock_path, e))?;
        // `File::try_lock` is flock(LOCK_EX | LOCK_NB) on Linux.
        match file.try_lock() {
            Ok(()) => Ok(DirLock {
                _file: file,
                path: self.path.clone(),
            }),
            Err(TryLockError::WouldBlock) => Err(StorageError::Locked {
                path: self.path.clone(),
            }),
            Err(TryLockError::Error(e)) => Err(StorageError::io("lock", lock_path, e)),
        }
    }

    /// The master key: `DIR/keys/master.key`, created with 32 random bytes (mode 0600, in a
    /// 0700 directory) the first time, read afterwards.
    pub fn master_key(&self) -> Result<[u8; 32]> {
        let keys = self.path.join(KEYS_DIR);
        let key_path = keys.join(MASTER_KEY_FILE);
        if let Some(key) = read_key(&key_path)? {
            return Ok(key);
        }
        files::create_dir(&keys, 0o700)?;
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(StorageError::Random)?;
        files::create_file_once(&keys, MASTER_KEY_FILE, &key, 0o600)?;
        // Read back: a concurrent creator may have won.
        read_key(&key_path)?.ok_or_else(|| {
            StorageError::io(
                "read",
                &key_path,
                io::Error::new(io::ErrorKind::NotFound, "vanished right after creation"),
            )
        })
    }
}

/// Reads the key file, `None` if it does not exist.
fn read_key(path: &Path) -> Result<Option<[u8; 32]>> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StorageError::io("open", path, e)),
    };
    let mut bytes = Vec::with_capacity(33);
    file.by_ref()
        .take(33)
        .read_to_end(&mut bytes)
        .map_err(|e| StorageError::io("read", path, e))?;
    let key = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| StorageError::BadMasterKey {
        path: path.to_path_buf(),
        len: file
            .metadata()
            .map(|m| m.len())
            .unwrap_or(bytes.len() as u64),
    })?;
    Ok(Some(key))
}

/// Reads `dir/FORMAT`: shard count and layout, or `None` if the file does not exist.
fn read_format(dir: &Path) -> Result<Option<Format>> {
    let path = dir.join(FORMAT_FILE);
    let text = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StorageError::io("read", &path, e)),
    };
    parse_format(&text)
        .map(Some)
        .map_err(|reason| StorageError::BadFormat { path, reason })
}

fn parse_format(bytes: &[u8]) -> std::result::Result<Format, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_string())?;
    let mut lines = text.lines();
    match lines.next() {
        Some(FORMAT_MAGIC) => {}
        Some(other) if other.starts_with("imps-data ") => {
            return Err(format!(
                "unsupported format {other:?} (this build reads {FORMAT_MAGIC:?})"
            ));
        }
        _ => return Err(format!("the first line is not {FORMAT_MAGIC:?}")),
    }
    let shards = lines
        .next()
        .and_then(|l| l.strip_prefix("shards "))
        .ok_or_else(|| "the second line is not \"shards N\"".to_string())?;
    let shards = match shards.trim().parse::<u16>() {
        Ok(n) if n > 0 => n,
        _ => {
            return Err(format!(
                "shard count {shards:?} is not a number from 1 to 65535"
            ));
        }
    };
    let (mut layout, mut routing) = (0, 1);
    for line in lines {
        if let Some(n) = line.strip_prefix("layout ") {
            layout = n
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("layout {n:?} is not a number"))?;
        } else if let Some(n) = line.strip_prefix("routing ") {
            routing = n
                .trim()
                .parse::<u32>()
                .map_err(|_| format!("routing {n:?} is not a number"))?;
        }
    }
    Ok(Format {
        shards,
        layout,
        routing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn create_writes_format_and_shard_dirs() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("data");
        let dir = DataDir::open(&path, 3).unwrap();
        assert_eq!(dir.shards(), 3);
        assert_eq!(dir.path(), path);
        assert_eq!(
            fs::read_to_string(path.join("FORMAT")).unwrap(),
            "imps-data 1\nshards 3\nrouting 2\n"
        );
        assert_eq!(dir.routing(), crate::routing::ROUTING_VERSION);
        for i in 0..3 {
            assert!(dir.shard_dir(i).is_dir());
        }
        assert_eq!(dir.shard_dir(2), path.join("shard-2"));
    }

    #[test]
    fn reopen_with_same_count_and_open_existing() {
        let tmp = tempfile::tempdir().unwrap();
        DataDir::open(tmp.path(), 2).unwrap();
        assert_eq!(DataDir::open(tmp.path(), 2).unwrap().shards(), 2);
        assert_eq!(DataDir::open_existing(tmp.path()).unwrap().shards(), 2);
    }

    #[test]
    fn other_count_is_refused_with_advice() {
        let tmp = tempfile::tempdir().unwrap();
        DataDir::open(tmp.path(), 2).unwrap();
        let err = DataDir::open(tmp.path(), 4).unwrap_err();
        assert!(matches!(
            err,
            StorageError::ShardCount {
                found: 2,
                requested: 4,
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            format!(
                "data directory {} was created with 2 shards, not 4; use --shards 2, or start \
                 the server with --shards 4 to redistribute its data",
                tmp.path().display()
            )
        );
    }

    #[test]
    fn open_existing_needs_format() {
        let tmp = tempfile::tempdir().unwrap();
        let err = DataDir::open_existing(tmp.path()).unwrap_err();
        assert!(matches!(err, StorageError::NotADataDir { .. }), "{err}");
        assert!(matches!(
            DataDir::open(tmp.path(), 0),
            Err(StorageError::ZeroShards { .. })
        ));
    }

    #[test]
    fn bad_format_is_reported() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("FORMAT"), "imps-data 2\nshards 1\n").unwrap();
        let err = DataDir::open_existing(tmp.path()).unwrap_err();
        assert!(matches!(err, StorageError::BadFormat { .. }), "{err}");
        fs::write(tmp.path().join("FORMAT"), "imps-data 1\nshards 0\n").unwrap();
        assert!(DataDir::open(tmp.path(), 1).is_err());
        assert_eq!(
            parse_format(b"imps-data 1\nshards 65535\n"),
            Ok(Format {
                shards: 65535,
                layout: 0,
                routing: 1,
            })
        );
        assert_eq!(
            parse_format(format_text(3, 7, 2).as_bytes()),
            Ok(Format {
                shards: 3,
                layout: 7,
                routing: 2,
            })
        );
        assert!(parse_format(b"imps-data 1\nshards 2\nlayout x\n").is_err());
        assert!(parse_format(b"imps-data 1\nshards 2\nrouting x\n").is_err());
        assert!(parse_format(b"imps-data 1\nshards 65536\n").is_err());
        assert!(parse_format(b"\xff").is_err());
    }

    #[test]
    fn lock_twice_is_refused_and_released_on_drop() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::open(tmp.path(), 1).unwrap();
        let lock = dir.lock().unwrap();
        assert_eq!(lock.path(), tmp.path());
        let err = dir.lock().unwrap_err();
        assert!(matches!(err, StorageError::Locked { .. }));
        assert!(
            err.to_string()
                .ends_with("is in use by another process (a running impsd?)")
        );
        drop(lock);
        dir.lock().unwrap();
    }

    #[test]
    fn master_key_is_created_once_with_mode_0600() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::open(tmp.path(), 1).unwrap();
        let key = dir.master_key().unwrap();
        assert_eq!(dir.master_key().unwrap(), key);
        let again = DataDir::open_existing(tmp.path()).unwrap();
        assert_eq!(again.master_key().unwrap(), key);
        assert_ne!(key, [0u8; 32]);
        let key_path = tmp.path().join("keys/master.key");
        let mode = fs::metadata(&key_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = fs::metadata(tmp.path().join("keys"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        assert_eq!(fs::read(&key_path).unwrap(), key);
    }

    #[test]
    fn damaged_master_key_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::open(tmp.path(), 1).unwrap();
        fs::create_dir_all(tmp.path().join("keys")).unwrap();
        fs::write(tmp.path().join("keys/master.key"), b"short").unwrap();
        let err = dir.master_key().unwrap_err();
        assert!(
            matches!(err, StorageError::BadMasterKey { len: 5, .. }),
            "{err}"
        );
    }
}
