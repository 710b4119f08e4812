//! Who may send a user messages: a block list and a grant list, each applied only while its
//! InUse flag is set. A blocked sender never gets through; while the grant list is in use,
//! only granted senders do. Stored durably (GetBlockedList, BlockEntity).

use imps_protocol::StatusCode;
use imps_protocol::Version;
use imps_protocol::common::ScreenName;
use imps_protocol::primitives::{
    AccessList, BlockEntityRequest, EntityList, GetBlockedListRequest, GetBlockedListResponse,
    InUse,
};
use imps_protocol::types::{GroupId, ScreenNameText, UserId};

use crate::record::{AccessListsRecord, Record};
use crate::shard::Shard;
use crate::users::UserIdx;

/// The stored names of the entities of a list.
fn entities(list: &EntityList, domain: &str) -> Result<Vec<String>, StatusCode> {
    let mut out = Vec::new();
    for u in &list.user_ids {
        out.push(u.normalize(domain).map_err(|_| StatusCode::UnknownUser)?);
    }
    // Groups by their normalized ID (as group messages name them).
    let group = |g: &GroupId| {
        g.normalize(domain)
            .unwrap_or_else(|_| g.0.trim().to_owned())
    };
    for g in &list.group_ids {
        out.push(format!("group:{}", group(g)));
    }
    for s in &list.screen_names {
        out.push(format!("sn:{}:{}", s.sname.0.trim(), group(&s.group_id)));
    }
    Ok(out)
}

/// A stored list as an `EntityList`.
fn entity_list(names: &[String]) -> EntityList {
    let mut out = EntityList::default();
    for n in names {
        if let Some(g) = n.strip_prefix("group:") {
            out.group_ids.push(GroupId(g.to_owned()));
        } else if let Some(s) = n.strip_prefix("sn:") {
            let (name, group) = s.split_once(':').unwrap_or((s, ""));
            out.screen_names.push(ScreenName {
                sname: ScreenNameText(name.to_owned()),
                group_id: GroupId(group.to_owned()),
            });
        } else {
            out.user_ids.push(UserId(n.clone()));
        }
    }
    out
}

/// Applies one list's changes (InUse, whole list, additions, removals).
fn apply(
    in_use: &mut bool,
    names: &mut Vec<String>,
    change: &AccessList,
    domain: &str,
) -> Result<(), StatusCode> {
    if let Some(InUse(Some(b))) = change.in_use {
        *in_use = b;
    }
    if let Some(whole) = &change.entity_list {
        *names = entities(whole, domain)?;
    }
    if let Some(add) = &change.add_list {
        for n in entities(add, domain)? {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    if let Some(remove) = &change.remove_list {
        let gone = entities(remove, domain)?;
        names.retain(|n| !gone.contains(n));
    }
    Ok(())
}

impl Shard {
    /// True when `idx` accepts messages from `sender` (a normalized user ID).
    pub(crate) fn im_allows(&self, idx: UserIdx, sender: &str) -> bool {
        self.im_allows_from(idx, &[sender])
    }

    /// True when `idx` accepts a message from `sender` sent to `group` (normalized),
    /// shown with screen name `sname`: the group and the screen name are entities of the
    /// lists too.
    pub(crate) fn im_allows_in_group(
        &self,
        idx: UserIdx,
        sender: &str,
        group: &str,
        sname: Option<&str>,
    ) -> bool {
        let group_entity = format!("group:{group}");
        let sn_entity = sname.map(|s| format!("sn:{s}:{group}"));
        let mut names = vec![sender, group_entity.as_str()];
        if let Some(sn) = &sn_entity {
            names.push(sn);
        }
        self.im_allows_from(idx, &names)
    }

    /// The block list names none of `names`, and the grant list (when in use) one of them.
    fn im_allows_from(&self, idx: UserIdx, names: &[&str]) -> bool {
        let Some(a) = self
            .users
            .user(idx)
            .and_then(|u| u.im.as_deref())
            .map(|m| &m.access)
        else {
            return true;
        };
        let named = |list: &[String]| list.iter().any(|n| names.contains(&n.as_str()));
        if a.block_in_use && named(&a.block) {
            return false;
        }
        !a.grant_in_use || named(&a.grant)
    }

    /// Sets a user's lists (recovery and changes).
    pub(crate) fn store_access_lists(&mut self, owner: &str, lists: AccessListsRecord) {
        if let Some(idx) = self.users.find(owner)
            && let Some(m) = self.mailbox_mut(idx)
        {
            m.access = lists;
        }
    }

    /// `GetBlockedList-Request`.
    pub(crate) fn blocked_list(
        &self,
        idx: UserIdx,
        _req: &GetBlockedListRequest,
        version: Version,
    ) -> GetBlockedListResponse {
        let a = self
            .users
            .user(idx)
            .and_then(|u| u.im.as_deref())
            .map(|m| m.access.clone())
            .unwrap_or_default();
        let list = |in_use: bool, names: &[String]| AccessList {
            in_use: Some(InUse(Some(in_use))),
            entity_list: Some(entity_list(names)),
            add_list: None,
            remove_list: None,
        };
        let v13 = version == Version::V1_3;
        GetBlockedListResponse {
            block_list: Some(list(a.block_in_use, &a.block)),
            grant_list: Some(list(a.grant_in_use, &a.grant)),
            block_list_in_use: v13.then_some(a.block_in_use),
            grant_list_in_use: v13.then_some(a.grant_in_use),
        }
    }

    /// `BlockEntity-Request`: changes both lists at once, durably.
    pub(crate) fn block_entity(&mut self, idx: UserIdx, req: &BlockEntityRequest) -> StatusCode {
        let domain = self.config.domain.clone();
        let max = self.config.max_access_list;
        let Some(owner) = self.users.user(idx).map(|u| u.id.to_string()) else {
            return StatusCode::InvalidSession;
        };
        let mut a = self
            .users
            .user(idx)
            .and_then(|u| u.im.as_deref())
            .map(|m| m.access.clone())
            .unwrap_or_default();
        let result = (|| {
            if let Some(b) = &req.block_list {
                apply(&mut a.block_in_use, &mut a.block, b, &domain)?;
            }
            if let Some(g) = &req.grant_list {
                apply(&mut a.grant_in_use, &mut a.grant, g, &domain)?;
            }
            if let Some(b) = req.block_list_in_use {
                a.block_in_use = b;
            }
            if let Some(g) = req.grant_list_in_use {
                a.grant_in_use = g;
            }
            if a.block.len() > max || a.grant.len() > max {
                return Err(StatusCode::InvalidParameter);
            }
            Ok(())
        })();
        if let Err(code) = result {
            return code;
        }
        if self
            .append_record(&Record::AccessListsPut(owner.clone(), a.clone()))
            .is_err()
        {
            return StatusCode::ServerError;
        }
        self.store_access_lists(&owner, a);
        StatusCode::Successful
    }
}
