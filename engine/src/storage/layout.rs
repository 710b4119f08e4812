//! Changing the shard count of a data directory, crash-safely: a new generation of shard
//! directories is written beside the current one, and one atomic rename of the FORMAT file
//! switches to it.
//!
//! ```text
//! DIR/FORMAT                "imps-data 1\nshards M\n"            (layout 0: DIR/shard-<i>)
//! DIR/layout-<g>/shard-<j> (being written: not referenced by FORMAT, ignored, replaced by
//!                           the next attempt)
//! DIR/FORMAT                "imps-data 1\nshards N\nlayout <g>\nrouting R\n"   <- the commit point
//! then the old generation's directories are deleted.
//! ```
//!
//! Each new shard gets one snapshot (at seq 1) holding its share of the data; its log
//! continues at seq 2. A crash before the FORMAT rename leaves the old layout untouched and
//! in use; after it, the new layout is complete and durable (every file and directory was
//! fsynced before the rename). Leftovers of either kind are deleted right after the commit,
//! or by [`DataDir::remove_stale_layouts`] at the next startup.
//!
//! I/O boundary: blocking `std::fs`, at startup, with the directory lock held.

use std::{
    fs, io,
    path::{Path, PathBuf},
};

use super::{
    datadir::{DataDir, DirLock, FORMAT_FILE, format_text, layout_root, layout_shard_dir},
    error::{Result, StorageError},
    files,
    snapshot::write_snapshot,
};
use crate::core::LogSeq;

/// A new layout being written (see the module docs).
#[derive(Debug)]
pub struct NewLayout {
    path: PathBuf,
    shards: u16,
    layout: u64,
}

impl NewLayout {
    /// Starts a layout of `shards` shards for `dir`, whose lock the caller holds (`lock`
    /// proves it). Deletes what an interrupted earlier attempt left.
    pub fn begin(dir: &DataDir, lock: &DirLock, shards: u16) -> Result<NewLayout> {
        let path = dir.path().to_path_buf();
        if lock.path() != path {
            return Err(StorageError::Locked { path });
        }
        if shards == 0 {
            return Err(StorageError::ZeroShards { path });
        }
        let layout = dir.layout() + 1;
        let root = layout_root(&path, layout);
        remove_dir(&root)?;
        files::create_dir(&root, 0o755)?;
        for i in 0..shards {
            files::create_dir(&layout_shard_dir(&path, layout, i), 0o755)?;
        }
        Ok(NewLayout {
            path,
            shards,
            layout,
        })
    }

    /// The number of shards of the new layout.
    pub fn shards(&self) -> u16 {
        self.shards
    }

    /// Writes new shard `i`'s whole state (a snapshot at seq 1, durable).
    pub fn write_shard(&self, i: u16, image: &[u8]) -> Result<()> {
        if i >= self.shards {
            return Err(StorageError::io(
                "write",
                layout_shard_dir(&self.path, self.layout, i),
                io::Error::other(format!("the new layout has {} shards", self.shards)),
            ));
        }
        write_snapshot(
            &layout_shard_dir(&self.path, self.layout, i),
            LogSeq(1),
            image,
        )
    }

    /// Switches the data directory to the new layout (the atomic FORMAT replacement), then
    /// deletes the old layout's shard directories. Returns the directory as now opened.
    pub fn commit(self) -> Result<DataDir> {
        files::fsync_dir(&layout_root(&self.path, self.layout))?;
        files::fsync_dir(&self.path)?;
        let format = format_text(self.shards, self.layout, crate::routing::ROUTING_VERSION);
        files::replace_file(&self.path, FORMAT_FILE, &[format.as_bytes()], 0o644)?;
        let now = DataDir::open_existing(&self.path)?;
        now.remove_stale(&self.lock_proof())?;
        Ok(now)
    }

    fn lock_proof(&self) -> LockProof<'_> {
        LockProof(&self.path)
    }
}

/// Shows that the caller holds the directory lock (a [`DirLock`] or a [`NewLayout`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LockProof<'a>(&'a Path);

impl<'a> From<&'a DirLock> for LockProof<'a> {
    fn from(lock: &'a DirLock) -> Self {
        LockProof(lock.path())
    }
}

impl DataDir {
    /// Deletes the shard directories of layouts other than the current one: what a
    /// redistribution interrupted after its commit (or before it) left behind. They are
    /// never read (FORMAT names the current layout). Needs the lock; returns what was
    /// deleted.
    pub fn remove_stale_layouts(&self, lock: &DirLock) -> Result<Vec<PathBuf>> {
        self.remove_stale(&LockProof::from(lock))
    }

    fn remove_stale(&self, lock: &LockProof<'_>) -> Result<Vec<PathBuf>> {
        if lock.0 != self.path() {
            return Err(StorageError::Locked {
                path: self.path().to_path_buf(),
            });
        }
        let entries =
            fs::read_dir(self.path()).map_err(|e| StorageError::io("list", self.path(), e))?;
        let mut removed = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| StorageError::io("list", self.path(), e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let stale = match (name.strip_prefix("shard-"), name.strip_prefix("layout-")) {
                (Some(i), _) => self.layout() != 0 && i.parse::<u16>().is_ok(),
                (_, Some(g)) => g.parse::<u64>().is_ok_and(|g| g != self.layout()),
                _ => false,
            };
            if stale && entry.path().is_dir() {
                remove_dir(&entry.path())?;
                removed.push(entry.path());
            }
        }
        if !removed.is_empty() {
            files::fsync_dir(self.path())?;
        }
        Ok(removed)
    }
}

fn remove_dir(dir: &Path) -> Result<()> {
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StorageError::io("remove", dir, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{SyncLog, recover};

    fn snapshot_of(dir: &Path) -> Option<Vec<u8>> {
        let mut found = None;
        recover::<()>(
            dir,
            |_, bytes| {
                found = Some(bytes.to_vec());
                Ok(())
            },
            |_, _| Ok(()),
        )
        .unwrap();
        found
    }

    #[test]
    fn uncommitted_layout_is_ignored_and_a_committed_one_replaces_the_old() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::open(tmp.path(), 2).unwrap();
        let mut log = SyncLog::create(&dir.shard_dir(0), LogSeq(1)).unwrap();
        log.append(b"old record").unwrap();
        log.commit().unwrap();
        let lock = dir.lock().unwrap();

        // Interrupted: written but not committed; the old layout stays in use.
        let new = NewLayout::begin(&dir, &lock, 3).unwrap();
        new.write_shard(0, b"zero").unwrap();
        assert!(new.write_shard(3, b"no such shard").is_err());
        drop(new);
        let again = DataDir::open_existing(tmp.path()).unwrap();
        assert_eq!((again.shards(), again.layout()), (2, 0));
        assert!(
            again
                .shard_dir(0)
                .join("log-00000000000000000001.wal")
                .exists()
        );

        // A new attempt replaces the leftover and commits.
        let new = NewLayout::begin(&dir, &lock, 3).unwrap();
        for i in 0..3 {
            new.write_shard(i, format!("shard {i}").as_bytes()).unwrap();
        }
        let now = new.commit().unwrap();
        assert_eq!((now.shards(), now.layout()), (3, 1));
        assert_eq!(now.shard_dir(2), tmp.path().join("layout-1/shard-2"));
        assert_eq!(snapshot_of(&now.shard_dir(2)), Some(b"shard 2".to_vec()));
        assert!(!tmp.path().join("shard-0").exists(), "old layout deleted");
        assert!(DataDir::open(tmp.path(), 2).is_err());
        assert_eq!(DataDir::open(tmp.path(), 3).unwrap().layout(), 1);

        // And once more: layout 2 replaces layout 1.
        let new = NewLayout::begin(&now, &lock, 1).unwrap();
        new.write_shard(0, b"all").unwrap();
        let last = new.commit().unwrap();
        assert_eq!((last.shards(), last.layout()), (1, 2));
        assert!(!tmp.path().join("layout-1").exists());
        assert_eq!(snapshot_of(&last.shard_dir(0)), Some(b"all".to_vec()));
    }
}
