//! `GetJoinedUsersResponse`: who is in a group, as screen-name to user mappings. Baraza sends
//! `JoinedUser` but parses `JoinedUsers`, and writes `UserID userid=` in lower case (SSP.md §9):
//! both spellings are read, `JoinedUser` and `userID` are written.

use crate::raw::RawElement;

use super::common::{Element, Status, read_opt, write_opt};
use super::error::SspError;
use super::names::{attr, el};
use super::tree::{Lookup, Writer};

/// One screen name and the user behind it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mapping {
    /// The screen name (`SName`).
    pub screen_name: String,
    /// The user (`UserID userID=`), when disclosed.
    pub user_id: Option<String>,
}

impl Element for Mapping {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        let user_id = e.child(el::USER_ID).and_then(|u| {
            u.attr(attr::USER_ID)
                .map(|v| v.trim().to_owned())
                .or_else(|| {
                    let t = u.text().trim().to_owned();
                    (!t.is_empty()).then_some(t)
                })
        });
        Ok(Self {
            screen_name: e.child_text(el::SNAME).unwrap_or_default(),
            user_id,
        })
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.start(name);
        w.text_element(el::SNAME, &self.screen_name);
        if let Some(u) = &self.user_id {
            w.start(el::USER_ID);
            w.attr(attr::USER_ID, u);
            w.end(el::USER_ID);
        }
        w.end(name);
    }
}

/// `GetJoinedUsersResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GetJoinedUsersResponse {
    /// The outcome.
    pub status: Option<Status>,
    /// Joined administrators.
    pub admins: Vec<Mapping>,
    /// Joined ordinary users.
    pub users: Vec<Mapping>,
    /// Joined blocked users.
    pub blocked: Vec<Mapping>,
}

/// Every `Mapping` below `e`, at any depth (`UserMapList/UserMapping/Mapping`, or flatter).
fn mappings(e: &RawElement, out: &mut Vec<Mapping>) -> Result<(), SspError> {
    for child in e.elements() {
        if child.local_name() == el::MAPPING {
            out.push(Mapping::read(child)?);
        } else {
            mappings(child, out)?;
        }
    }
    Ok(())
}

fn mappings_of(e: &RawElement, names: &[&str]) -> Result<Vec<Mapping>, SspError> {
    let mut out = Vec::new();
    for child in e.elements().filter(|c| names.contains(&c.local_name())) {
        mappings(child, &mut out)?;
    }
    Ok(out)
}

fn write_mappings(list: &[Mapping], name: &str, w: &mut Writer<'_>) {
    if list.is_empty() {
        return;
    }
    w.start(name);
    w.start(el::USER_MAP_LIST);
    w.start(el::USER_MAPPING);
    for m in list {
        m.write(el::MAPPING, w);
    }
    w.end(el::USER_MAPPING);
    w.end(el::USER_MAP_LIST);
    w.end(name);
}

impl Element for GetJoinedUsersResponse {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        Ok(Self {
            status: read_opt(e, el::STATUS)?,
            admins: mappings_of(e, &[el::JOINED_ADMIN])?,
            users: mappings_of(e, &[el::JOINED_USER, el::JOINED_USERS])?,
            blocked: mappings_of(e, &[el::JOINED_BLOCKED])?,
        })
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.start(name);
        write_opt(&self.status, el::STATUS, w);
        write_mappings(&self.admins, el::JOINED_ADMIN, w);
        write_mappings(&self.users, el::JOINED_USER, w);
        write_mappings(&self.blocked, el::JOINED_BLOCKED, w);
        w.end(name);
    }
}
