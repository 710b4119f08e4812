//! Operator operations on a shard: accounts (durable) and forced disconnects.

use imps_protocol::StatusCode;
use imps_protocol::types::UserId;

use super::{Reply, Shard};
use crate::core::{Millis, Token};
use crate::record::{Profile, Record, UserRecord};

/// An operator's operation.
#[derive(Debug, Clone)]
pub enum Admin {
    /// Creates or replaces an account.
    PutUser {
        /// The user ID in any spelling (`alice`, `wv:alice@imps.local`).
        user: String,
        /// The password (sealed before it is stored).
        password: String,
        /// Searchable profile.
        profile: Profile,
    },
    /// Removes an account (its sessions end with 601).
    RemoveUser {
        /// The user ID.
        user: String,
    },
    /// Ends every session of a user with 601.
    Disconnect {
        /// The user ID.
        user: String,
    },
    /// Is this session live? (CIR channels check a HELO with it.)
    CheckSession {
        /// The SessionID text.
        session_id: String,
    },
    /// Counts users and sessions.
    Stats,
    /// SSP federation: what the desk asks of a user's shard.
    Federation(crate::peering::FederationOp),
}

impl Admin {
    /// The user the operation is about (for routing).
    pub fn user(&self) -> Option<&str> {
        match self {
            Admin::PutUser { user, .. }
            | Admin::RemoveUser { user }
            | Admin::Disconnect { user } => Some(user),
            Admin::Federation(op) => Some(op.user()),
            Admin::Stats | Admin::CheckSession { .. } => None,
        }
    }
}

/// A successful operator operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminDone {
    /// The account is stored (durably).
    UserPut,
    /// The account is gone (durably).
    UserRemoved,
    /// This many sessions were ended.
    Disconnected(usize),
    /// Whether the session is live.
    SessionAlive(bool),
    /// Counts of this shard.
    Stats {
        /// Accounts.
        users: usize,
        /// Live sessions.
        sessions: usize,
    },
    /// A federation operation was done.
    Federated,
    /// A message from another domain was admitted (200) or why not.
    Delivered(imps_protocol::StatusCode),
    /// A request of another domain was served: its status and what goes with it.
    Served {
        /// The outcome.
        status: imps_protocol::ssp::Status,
        /// What goes with it.
        answer: Box<crate::federation::Answer>,
    },
}

/// Why an operator operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// The user ID does not parse.
    #[error("invalid user ID {0:?}")]
    BadUserId(String),
    /// No such account.
    #[error("unknown user {0}")]
    UnknownUser(String),
    /// The password could not be sealed.
    #[error("could not seal the password")]
    Seal,
    /// The record could not be written.
    #[error("could not write the record: {0}")]
    Record(String),
}

impl Shard {
    /// Appends `record`; `done` once it is durable, or why it could not be written.
    fn logged(&mut self, record: &Record, done: AdminDone) -> Result<AdminDone, AdminError> {
        self.append_record(record)
            .map(|()| done)
            .map_err(|e| AdminError::Record(e.to_string()))
    }

    pub(crate) fn handle_admin(&mut self, now: Millis, token: Token, op: Admin) {
        let domain = self.config.domain.clone();
        let normalize = |user: &str| {
            UserId::from(user)
                .normalize(&domain)
                .map_err(|_| AdminError::BadUserId(user.to_owned()))
        };
        match op {
            Admin::PutUser {
                user,
                password,
                profile,
            } => {
                let id = match normalize(&user) {
                    Ok(id) => id,
                    Err(e) => return self.reply(token, Reply::Admin(Err(e))),
                };
                let Ok(sealed) = self.sealer.seal(&password, &mut self.rng) else {
                    return self.reply(token, Reply::Admin(Err(AdminError::Seal)));
                };
                let record = UserRecord {
                    id,
                    sealed_password: sealed,
                    profile,
                };
                self.users.put(record.clone());
                let done = self.logged(&Record::UserPut(record), AdminDone::UserPut);
                self.reply(token, Reply::Admin(done));
            }
            Admin::RemoveUser { user } => {
                let id = match normalize(&user) {
                    Ok(id) => id,
                    Err(e) => return self.reply(token, Reply::Admin(Err(e))),
                };
                let Some(idx) = self.users.find(&id) else {
                    return self.reply(token, Reply::Admin(Err(AdminError::UnknownUser(id))));
                };
                // The account goes now: its sessions end at once (their next request gets
                // 601), since nothing may refer to the freed user slot.
                self.end_user_sessions(now, idx, StatusCode::ForcedLogout);
                self.users.remove(&id);
                self.challenges.remove(&idx);
                let done = self.logged(&Record::UserRemove(id), AdminDone::UserRemoved);
                self.reply(token, Reply::Admin(done));
            }
            Admin::Disconnect { user } => {
                let id = match normalize(&user) {
                    Ok(id) => id,
                    Err(e) => return self.reply(token, Reply::Admin(Err(e))),
                };
                let Some(idx) = self.users.find(&id) else {
                    return self.reply(token, Reply::Admin(Err(AdminError::UnknownUser(id))));
                };
                let n = self.close_user_sessions(now, idx, StatusCode::ForcedLogout);
                self.reply(token, Reply::Admin(Ok(AdminDone::Disconnected(n))));
            }
            Admin::CheckSession { session_id } => {
                let alive = crate::access::session_id::parse_session_id(&session_id)
                    .filter(|(shard, _)| *shard == self.id)
                    .and_then(|(_, key)| self.sessions.find(&key))
                    .and_then(|slot| self.sessions.get(slot))
                    .is_some_and(|s| s.state == crate::access::session::SessionState::Active);
                self.reply(token, Reply::Admin(Ok(AdminDone::SessionAlive(alive))));
            }
            Admin::Stats => {
                let done = AdminDone::Stats {
                    users: self.users.len(),
                    sessions: self.sessions.len(),
                };
                self.reply(token, Reply::Admin(Ok(done)));
            }
            Admin::Federation(op) => self.handle_federation(now, token, op),
        }
    }
}
