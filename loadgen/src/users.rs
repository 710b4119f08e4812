//! The simulated users: who client `i` logs in as, and with what password.
//!
//! Either `PREFIX1..PREFIXN` sharing one password (what `impsd users generate` makes; no
//! per-client memory), or a table read from a CSV file of `user,password` lines (the
//! format of `impsd users import`). [`provision`] runs `impsd users generate` offline,
//! [`provision_rooms`] `impsd groups add` for the scenario's public rooms.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// Why the users could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UsersError {
    /// The CSV file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A CSV line is not a user.
    #[error("in {path}: {source}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// Which line and why.
        source: imps_engine::csv::CsvError,
    },
    /// The CSV file holds fewer users than clients were asked for.
    #[error("{path} holds {have} users, {want} clients were asked for")]
    TooFew {
        /// The file.
        path: PathBuf,
        /// Users in it.
        have: usize,
        /// Clients asked for.
        want: usize,
    },
    /// `impsd users generate` could not run or failed.
    #[error("provisioning with {impsd} failed: {reason}")]
    Provision {
        /// The binary.
        impsd: PathBuf,
        /// What went wrong (its stderr).
        reason: String,
    },
}

/// Where the user IDs and passwords come from.
#[derive(Debug, Clone)]
pub enum UserDirectory {
    /// `PREFIX1..PREFIXN`, one password.
    Prefix {
        /// The prefix.
        prefix: Arc<str>,
        /// The password.
        password: Arc<str>,
    },
    /// Read from a file: (user, password) per client.
    Table(Arc<[(Box<str>, Box<str>)]>),
}

impl UserDirectory {
    /// `PREFIX1..` with `password`.
    pub fn prefix(prefix: &str, password: &str) -> Self {
        Self::Prefix {
            prefix: prefix.into(),
            password: password.into(),
        }
    }

    /// Reads `user,password[,...]` lines from `path`; at least `want` of them.
    pub fn from_csv(path: &Path, want: usize) -> Result<Self, UsersError> {
        let text = std::fs::read_to_string(path).map_err(|source| UsersError::Read {
            path: path.to_owned(),
            source,
        })?;
        let users = imps_engine::csv::parse_users(&text).map_err(|source| UsersError::Csv {
            path: path.to_owned(),
            source,
        })?;
        if users.len() < want {
            return Err(UsersError::TooFew {
                path: path.to_owned(),
                have: users.len(),
                want,
            });
        }
        Ok(Self::Table(
            users
                .into_iter()
                .map(|u| (u.user.into_boxed_str(), u.password.into_boxed_str()))
                .collect(),
        ))
    }

    /// The user ID of user `index` (0-based), as a client writes it in Login-Request.
    pub fn user_id(&self, index: u32) -> String {
        match self {
            Self::Prefix { prefix, .. } => format!("{prefix}{}", u64::from(index) + 1),
            Self::Table(t) => t
                .get(index as usize)
                .map_or_else(String::new, |(u, _)| u.to_string()),
        }
    }

    /// The password of user `index`.
    pub fn password(&self, index: u32) -> &str {
        match self {
            Self::Prefix { password, .. } => password,
            Self::Table(t) => t.get(index as usize).map_or("", |(_, p)| p),
        }
    }

    /// How many users there are (`None`: as many as asked for).
    pub fn len(&self) -> Option<usize> {
        match self {
            Self::Prefix { .. } => None,
            Self::Table(t) => Some(t.len()),
        }
    }

    /// True for an empty table.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }
}

/// The user's address as a contact: `wv:USER@DOMAIN` (an ID with a domain is kept).
pub fn contact_address(user_id: &str, domain: &str) -> String {
    let bare = user_id
        .strip_prefix("wv:")
        .or_else(|| user_id.strip_prefix("WV:"))
        .unwrap_or(user_id);
    if bare.contains('@') || domain.is_empty() {
        format!("wv:{bare}")
    } else {
        format!("wv:{bare}@{domain}")
    }
}

/// What to provision: `count` users `PREFIX1..` with one password, into `data_dir`.
#[derive(Debug, Clone)]
pub struct Provisioning {
    /// The `impsd` binary.
    pub impsd: PathBuf,
    /// The server's data directory (no server may run on it).
    pub data_dir: PathBuf,
    /// Shards of a new data directory.
    pub shards: Option<u16>,
    /// The service's domain.
    pub domain: String,
    /// Users to create.
    pub count: u32,
    /// Their prefix.
    pub prefix: String,
    /// Their password.
    pub password: String,
}

/// Runs `impsd users generate` for `p` and waits for it.
pub fn provision(p: &Provisioning) -> Result<(), UsersError> {
    let mut cmd = Command::new(&p.impsd);
    cmd.args(["users", "generate", "--count"])
        .arg(p.count.to_string())
        .arg("--prefix")
        .arg(&p.prefix)
        .arg("--password")
        .arg(&p.password)
        .arg("--domain")
        .arg(&p.domain)
        .arg("--data-dir")
        .arg(&p.data_dir);
    if let Some(shards) = p.shards {
        cmd.arg("--shards").arg(shards.to_string());
    }
    let failed = |reason: String| UsersError::Provision {
        impsd: p.impsd.clone(),
        reason,
    };
    let out = cmd.output().map_err(|e| failed(e.to_string()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(failed(
            String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        ))
    }
}

/// Runs `impsd groups add --group /PREFIXroomK` for `k` in `1..=rooms` (the public rooms
/// of a scenario's `[groups]`), into the data directory of `p`.
pub fn provision_rooms(p: &Provisioning, room_prefix: &str, rooms: u16) -> Result<(), UsersError> {
    let failed = |reason: String| UsersError::Provision {
        impsd: p.impsd.clone(),
        reason,
    };
    for k in 1..=rooms {
        let mut cmd = Command::new(&p.impsd);
        cmd.args(["groups", "add", "--group"])
            .arg(format!("/{room_prefix}room{k}"))
            .arg("--name")
            .arg(format!("Room {k}"))
            .arg("--domain")
            .arg(&p.domain)
            .arg("--data-dir")
            .arg(&p.data_dir);
        if let Some(shards) = p.shards {
            cmd.arg("--shards").arg(shards.to_string());
        }
        let out = cmd.output().map_err(|e| failed(e.to_string()))?;
        if !out.status.success() {
            return Err(failed(
                String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_users_are_numbered_from_one() {
        let d = UserDirectory::prefix("user", "pw");
        assert_eq!(d.user_id(0), "user1");
        assert_eq!(d.user_id(999_999), "user1000000");
        assert_eq!(d.password(5), "pw");
        assert_eq!(d.len(), None);
    }

    #[test]
    fn csv_users_and_shortfall() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("u.csv");
        std::fs::write(&path, "user,password\nalice,a1\nbob,b2\n").unwrap();
        let d = UserDirectory::from_csv(&path, 2).unwrap();
        assert_eq!(d.user_id(1), "bob");
        assert_eq!(d.password(0), "a1");
        assert!(matches!(
            UserDirectory::from_csv(&path, 3),
            Err(UsersError::TooFew { have: 2, .. })
        ));
    }

    #[test]
    fn contact_addresses() {
        assert_eq!(
            contact_address("user7", "imps.local"),
            "wv:user7@imps.local"
        );
        assert_eq!(
            contact_address("wv:bob@x.org", "imps.local"),
            "wv:bob@x.org"
        );
        assert_eq!(contact_address("bob", ""), "wv:bob");
    }
}
