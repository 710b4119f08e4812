//! Contact lists: a user's named lists of contacts (user IDs with optional nicknames) and
//! their properties (`DisplayName`, `Default`). A list ID names its owner
//! (`wv:alice/friends@imps.local`); a user reads and writes only their own lists.

use imps_protocol::StatusCode;
use imps_protocol::common::{CspResult, Property, property};
use imps_protocol::primitives::{
    ContactListProperties, CreateListRequest, DeleteListRequest, GetListResponse,
    ListManageRequest, ListManageResponse, NickList, NickName, Status,
};
use imps_protocol::types::{ContactListId, UserId};

use crate::record::{ContactListRecord, ContactRecord, Record};
use crate::shard::Shard;
use crate::users::UserIdx;

/// The canonical form of a list ID, and whether `owner` (normalized) owns it.
fn own_list(list: &str, owner: &str, domain: &str) -> Result<String, StatusCode> {
    let norm = ContactListId::from(list)
        .normalize(domain)
        .map_err(|_| StatusCode::InvalidParameter)?;
    let (local, list_domain) = norm.rsplit_once('@').unwrap_or((norm.as_str(), ""));
    let user = local.split_once('/').map_or(local, |(u, _)| u);
    if format!("{user}@{list_domain}") == owner || (list_domain.is_empty() && user == owner) {
        Ok(norm)
    } else {
        Err(StatusCode::InvalidParameter)
    }
}

/// The list-name part of a list ID (`friends` in `wv:alice/friends@x`).
fn list_name(id: &str) -> &str {
    let local = id.rsplit_once('@').map_or(id, |(l, _)| l);
    local.split_once('/').map_or("", |(_, name)| name)
}

fn same_list(stored: &str, norm: &str, domain: &str) -> bool {
    // Normalizing only lowercases and completes the ID: ASCII names that differ in more
    // than case cannot match (the common case, without an allocation).
    let (a, b) = (list_name(stored.trim()), list_name(norm));
    if a.is_ascii() && b.is_ascii() && !a.eq_ignore_ascii_case(b) {
        return false;
    }
    ContactListId::from(stored)
        .normalize(domain)
        .is_ok_and(|n| n == norm)
}

fn properties(list: &ContactListRecord) -> ContactListProperties {
    let mut properties = Vec::new();
    if let Some(name) = &list.display_name {
        properties.push(Property {
            name: "DisplayName".into(),
            value: Some(name.clone()),
        });
    }
    properties.push(Property {
        name: "Default".into(),
        value: Some(if list.default { "T" } else { "F" }.into()),
    });
    ContactListProperties { properties }
}

fn nick_list(list: &ContactListRecord) -> NickList {
    let mut out = NickList::default();
    for c in &list.contacts {
        match &c.nick {
            Some(name) => out.nick_names.push(NickName {
                name: name.clone(),
                user_id: UserId(c.user.clone()),
            }),
            None => out.user_ids.push(UserId(c.user.clone())),
        }
    }
    out
}

/// The members a NickList names, normalized, with their nicknames.
fn members(list: &NickList, domain: &str) -> Result<Vec<ContactRecord>, StatusCode> {
    let mut out = Vec::new();
    for n in &list.nick_names {
        let user = n
            .user_id
            .normalize(domain)
            .map_err(|_| StatusCode::InvalidParameter)?;
        out.push(ContactRecord {
            user,
            nick: Some(n.name.clone()),
        });
    }
    for u in &list.user_ids {
        let user = u
            .normalize(domain)
            .map_err(|_| StatusCode::InvalidParameter)?;
        out.push(ContactRecord { user, nick: None });
    }
    Ok(out)
}

/// Applies `DisplayName` and `Default` properties.
fn apply_properties(
    list: &mut ContactListRecord,
    props: &ContactListProperties,
) -> Result<(), StatusCode> {
    if let Some(name) = property(&props.properties, "DisplayName") {
        list.display_name = Some(name.to_owned());
    }
    if let Some(default) = property(&props.properties, "Default") {
        list.default = match default.trim() {
            "T" | "t" => true,
            "F" | "f" => false,
            _ => return Err(StatusCode::InvalidContactListProperty),
        };
    }
    Ok(())
}

/// Adds or renames contacts, keeping the order; refuses beyond `max`.
fn add_contacts(
    list: &mut ContactListRecord,
    add: Vec<ContactRecord>,
    max: usize,
) -> Result<(), StatusCode> {
    for c in add {
        match list.contacts.iter_mut().find(|x| x.user == c.user) {
            Some(existing) => {
                if c.nick.is_some() {
                    existing.nick = c.nick;
                }
            }
            None => {
                if list.contacts.len() >= max {
                    return Err(StatusCode::TooManyContacts);
                }
                list.contacts.push(c);
            }
        }
    }
    Ok(())
}

impl Shard {
    fn owner_of(&self, idx: UserIdx) -> Option<String> {
        self.users.user(idx).map(|u| u.id.to_string())
    }

    /// Stores a list (recovery and changes): replaces one with the same ID; a default list
    /// makes the others non-default.
    pub(crate) fn store_contact_list(&mut self, owner: &str, list: ContactListRecord) {
        let domain = self.config.domain.clone();
        let Some(norm) = ContactListId::from(list.id.as_str())
            .normalize(&domain)
            .ok()
        else {
            return;
        };
        let Some(user) = self.users.find(owner).and_then(|i| self.users.user_mut(i)) else {
            return;
        };
        if list.default {
            for l in &mut user.contact_lists {
                l.default = false;
            }
        }
        let members = |l: &ContactListRecord| -> Vec<String> {
            l.contacts.iter().map(|c| c.user.clone()).collect()
        };
        let after = members(&list);
        let before = match user
            .contact_lists
            .iter_mut()
            .find(|l| same_list(&l.id, &norm, &domain))
        {
            Some(existing) => std::mem::replace(existing, list),
            None => {
                user.contact_lists.push(list);
                ContactListRecord {
                    id: String::new(),
                    display_name: None,
                    default: false,
                    contacts: Vec::new(),
                }
            }
        };
        let before = members(&before);
        let added: Vec<String> = after
            .iter()
            .filter(|u| !before.contains(u))
            .cloned()
            .collect();
        let removed: Vec<String> = before.into_iter().filter(|u| !after.contains(u)).collect();
        self.reauthorize_owner(owner);
        if !added.is_empty() || !removed.is_empty() {
            self.followed_list_changed(owner, &norm, &added, &removed);
        }
    }

    /// Deletes a list (recovery and changes).
    pub(crate) fn drop_contact_list(&mut self, owner: &str, list_id: &str) {
        let domain = self.config.domain.clone();
        let Some(norm) = ContactListId::from(list_id).normalize(&domain).ok() else {
            return;
        };
        let Some(user) = self.users.find(owner).and_then(|i| self.users.user_mut(i)) else {
            return;
        };
        let mut removed = Vec::new();
        user.contact_lists.retain(|l| {
            let gone = same_list(&l.id, &norm, &domain);
            if gone {
                removed.extend(l.contacts.iter().map(|c| c.user.clone()));
            }
            !gone
        });
        self.reauthorize_owner(owner);
        if !removed.is_empty() {
            self.followed_list_changed(owner, &norm, &[], &removed);
        }
    }

    /// Stores a changed list and logs it (the answer waits for the record to be durable).
    fn put_contact_list(&mut self, owner: &str, list: ContactListRecord) -> Result<(), StatusCode> {
        let record = Record::ContactListPut(owner.to_owned(), list.clone());
        if self.append_record(&record).is_err() {
            return Err(StatusCode::ServerError);
        }
        self.store_contact_list(owner, list);
        Ok(())
    }

    /// `GetList-Request`.
    pub(crate) fn get_list(&self, idx: UserIdx) -> GetListResponse {
        let Some(user) = self.users.user(idx) else {
            return GetListResponse::default();
        };
        let default = user
            .contact_lists
            .iter()
            .find(|l| l.default)
            .or(user.contact_lists.first());
        GetListResponse {
            contact_lists: user
                .contact_lists
                .iter()
                .map(|l| ContactListId(l.id.clone()))
                .collect(),
            default_contact_list: default.map(|l| ContactListId(l.id.clone())),
        }
    }

    /// `CreateList-Request`: 701 when it exists, 753 beyond the per-user limit.
    pub(crate) fn create_list(&mut self, idx: UserIdx, req: &CreateListRequest) -> Status {
        let result = (|| {
            let owner = self.owner_of(idx).ok_or(StatusCode::InvalidSession)?;
            let domain = self.config.domain.clone();
            let norm = own_list(req.contact_list.as_str(), &owner, &domain)?;
            let lists = self
                .users
                .user(idx)
                .map(|u| u.contact_lists.as_slice())
                .unwrap_or_default();
            if lists.iter().any(|l| same_list(&l.id, &norm, &domain)) {
                return Err(StatusCode::ContactListExists);
            }
            if lists.len() >= self.config.max_contact_lists {
                return Err(StatusCode::TooManyContactLists);
            }
            let mut list = ContactListRecord {
                id: req.contact_list.as_str().trim().to_owned(),
                display_name: None,
                default: lists.is_empty(),
                contacts: Vec::new(),
            };
            if let Some(props) = &req.properties {
                apply_properties(&mut list, props)?;
            }
            if let Some(nicks) = &req.nick_list {
                let max = self.config.max_contacts_per_list;
                add_contacts(&mut list, members(nicks, &domain)?, max)?;
            }
            self.put_contact_list(&owner, list)
        })();
        Status::new(result.err().unwrap_or(StatusCode::Successful))
    }

    /// `DeleteList-Request`: 700 when it does not exist.
    pub(crate) fn delete_list(&mut self, idx: UserIdx, req: &DeleteListRequest) -> Status {
        let result = (|| {
            let owner = self.owner_of(idx).ok_or(StatusCode::InvalidSession)?;
            let domain = self.config.domain.clone();
            let norm = own_list(req.contact_list.as_str(), &owner, &domain)
                .map_err(|_| StatusCode::ContactListMissing)?;
            let exists = self.users.user(idx).is_some_and(|u| {
                u.contact_lists
                    .iter()
                    .any(|l| same_list(&l.id, &norm, &domain))
            });
            if !exists {
                return Err(StatusCode::ContactListMissing);
            }
            let record = Record::ContactListRemove(owner.clone(), req.contact_list.0.clone());
            if self.append_record(&record).is_err() {
                return Err(StatusCode::ServerError);
            }
            self.drop_contact_list(&owner, req.contact_list.as_str());
            Ok(())
        })();
        Status::new(result.err().unwrap_or(StatusCode::Successful))
    }

    /// `ListManage-Request`: add or remove contacts, set properties, and (when asked, and
    /// always in 1.1) answer with the list.
    pub(crate) fn list_manage(
        &mut self,
        idx: UserIdx,
        req: &ListManageRequest,
        always_list: bool,
    ) -> ListManageResponse {
        let mut answer = ListManageResponse::default();
        let result = (|| {
            let owner = self.owner_of(idx).ok_or(StatusCode::InvalidSession)?;
            let domain = self.config.domain.clone();
            let norm = own_list(req.contact_list.as_str(), &owner, &domain)
                .map_err(|_| StatusCode::ContactListMissing)?;
            let mut list = self
                .users
                .user(idx)
                .and_then(|u| {
                    u.contact_lists
                        .iter()
                        .find(|l| same_list(&l.id, &norm, &domain))
                })
                .cloned()
                .ok_or(StatusCode::ContactListMissing)?;
            let before = list.clone();
            if let Some(add) = &req.add_nick_list {
                let max = self.config.max_contacts_per_list;
                add_contacts(&mut list, members(add, &domain)?, max)?;
            }
            if let Some(remove) = &req.remove_nick_list {
                let gone: Vec<String> = remove
                    .user_ids
                    .iter()
                    .filter_map(|u| u.normalize(&domain).ok())
                    .collect();
                list.contacts.retain(|c| !gone.contains(&c.user));
            }
            if let Some(props) = &req.properties {
                apply_properties(&mut list, props)?;
            }
            if list != before {
                self.put_contact_list(&owner, list.clone())?;
            }
            if always_list || req.receive_list == Some(true) {
                answer.nick_list = Some(nick_list(&list));
                answer.properties = Some(properties(&list));
            }
            Ok(())
        })();
        answer.result = CspResult::new(result.err().unwrap_or(StatusCode::Successful));
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_belong_to_their_owner() {
        let d = "imps.local";
        assert!(own_list("wv:alice/friends@imps.local", "wv:alice@imps.local", d).is_ok());
        assert!(own_list("WV:Alice/Friends", "wv:alice@imps.local", d).is_ok());
        assert_eq!(
            own_list("wv:bob/friends@imps.local", "wv:alice@imps.local", d),
            Err(StatusCode::InvalidParameter)
        );
        assert!(own_list("wv:alice", "wv:alice@imps.local", d).is_err());
    }
}
