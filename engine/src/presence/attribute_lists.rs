//! Attribute lists: which presence attributes a user authorizes, for one watcher, for the
//! members of one of their contact lists, or by default. Stored by name, so vendor
//! attributes survive. (Authorization itself, which reads these, comes with subscriptions.)

use imps_protocol::StatusCode;
use imps_protocol::common::CspResult;
use imps_protocol::primitives::{
    CreateAttributeListRequest, DefaultAttributeList, DeleteAttributeListRequest,
    GetAttributeListRequest, GetAttributeListResponse, Presence, PresenceSubList, Status,
};
use imps_protocol::types::{ContactListId, UserId};

use crate::record::{AttributeTarget, Record};
use crate::shard::Shard;
use crate::users::UserIdx;

/// Attribute lists one user may hold (755 beyond).
const MAX_ATTRIBUTE_LISTS: usize = 256;

impl Shard {
    /// Stores an attribute list (recovery and changes), replacing one for the same target.
    pub(crate) fn store_attribute_list(
        &mut self,
        owner: &str,
        target: AttributeTarget,
        names: Vec<String>,
    ) {
        let Some(user) = self.users.find(owner).and_then(|i| self.users.user_mut(i)) else {
            return;
        };
        match user.attribute_lists.iter_mut().find(|(t, _)| *t == target) {
            Some(entry) => entry.1 = names,
            None => user.attribute_lists.push((target, names)),
        }
        self.reauthorize_owner(owner);
    }

    /// Removes an attribute list (recovery and changes).
    pub(crate) fn drop_attribute_list(&mut self, owner: &str, target: &AttributeTarget) {
        if let Some(user) = self.users.find(owner).and_then(|i| self.users.user_mut(i)) {
            user.attribute_lists.retain(|(t, _)| t != target);
        }
        self.reauthorize_owner(owner);
    }

    /// The targets a request names: users, own contact lists, and the default list.
    fn attribute_targets(
        &self,
        idx: UserIdx,
        user_ids: &[UserId],
        lists: &[ContactListId],
        default: bool,
    ) -> Result<Vec<AttributeTarget>, StatusCode> {
        let domain = &self.config.domain;
        let owner = self.users.user(idx).ok_or(StatusCode::InvalidSession)?;
        let mut out = Vec::new();
        for u in user_ids {
            let id = u
                .normalize(domain)
                .map_err(|_| StatusCode::InvalidParameter)?;
            out.push(AttributeTarget::User(id));
        }
        for l in lists {
            let id = l
                .normalize(domain)
                .map_err(|_| StatusCode::InvalidParameter)?;
            let own = owner.contact_lists.iter().any(|c| {
                ContactListId::from(c.id.as_str())
                    .normalize(domain)
                    .is_ok_and(|n| n == id)
            });
            if !own {
                return Err(StatusCode::ContactListMissing);
            }
            out.push(AttributeTarget::List(id));
        }
        if default {
            out.push(AttributeTarget::Default);
        }
        Ok(out)
    }

    /// `CreateAttributeList-Request`: the attributes of its PresenceSubList, for each target.
    pub(crate) fn create_attribute_list(
        &mut self,
        idx: UserIdx,
        req: &CreateAttributeListRequest,
    ) -> Status {
        let result = (|| {
            let targets = self.attribute_targets(
                idx,
                &req.user_ids,
                &req.contact_lists,
                req.default_list == Some(true),
            )?;
            if targets.is_empty() {
                return Err(StatusCode::InvalidParameter);
            }
            let owner = self.users.user(idx).ok_or(StatusCode::InvalidSession)?;
            let new = targets
                .iter()
                .filter(|t| !owner.attribute_lists.iter().any(|(x, _)| x == *t))
                .count();
            if owner.attribute_lists.len() + new > MAX_ATTRIBUTE_LISTS {
                return Err(StatusCode::TooManyAttributeLists);
            }
            let owner = owner.id.to_string();
            let names: Vec<String> = req
                .sub_list
                .names()
                .into_iter()
                .map(str::to_owned)
                .collect();
            for target in targets {
                let record = Record::AttributeListPut(owner.clone(), target.clone(), names.clone());
                if self.append_record(&record).is_err() {
                    return Err(StatusCode::ServerError);
                }
                self.store_attribute_list(&owner, target, names.clone());
            }
            Ok(())
        })();
        Status::new(result.err().unwrap_or(StatusCode::Successful))
    }

    /// `DeleteAttributeList-Request`.
    pub(crate) fn delete_attribute_list(
        &mut self,
        idx: UserIdx,
        req: &DeleteAttributeListRequest,
    ) -> Status {
        let result = (|| {
            let targets = self.attribute_targets(
                idx,
                &req.user_ids,
                &req.contact_lists,
                req.default_list == Some(true),
            )?;
            let owner = self
                .users
                .user(idx)
                .map(|u| u.id.to_string())
                .ok_or(StatusCode::InvalidSession)?;
            for target in targets {
                let record = Record::AttributeListRemove(owner.clone(), target.clone());
                if self.append_record(&record).is_err() {
                    return Err(StatusCode::ServerError);
                }
                self.drop_attribute_list(&owner, &target);
            }
            Ok(())
        })();
        Status::new(result.err().unwrap_or(StatusCode::Successful))
    }

    /// `GetAttributeList-Request`: the default list when asked, and the lists of the users
    /// and contact lists named (all of them when none is named).
    pub(crate) fn get_attribute_list(
        &self,
        idx: UserIdx,
        req: &GetAttributeListRequest,
    ) -> GetAttributeListResponse {
        let mut response = GetAttributeListResponse {
            result: CspResult::new(StatusCode::Successful),
            ..Default::default()
        };
        let Some(owner) = self.users.user(idx) else {
            response.result = CspResult::new(StatusCode::InvalidSession);
            return response;
        };
        let users: Vec<UserId> = req
            .users
            .iter()
            .map(|u| u.user_id.clone())
            .chain(req.user_ids.iter().cloned())
            .collect();
        let named = match self.attribute_targets(idx, &users, &req.contact_lists, false) {
            Ok(t) => t,
            Err(code) => {
                response.result = CspResult::new(code);
                return response;
            }
        };
        let list_of = |names: &[String]| PresenceSubList::naming(names.iter().map(String::as_str));
        if req.default_list == Some(true)
            && let Some((_, names)) = owner
                .attribute_lists
                .iter()
                .find(|(t, _)| *t == AttributeTarget::Default)
        {
            response.default_attribute_list = Some(DefaultAttributeList {
                sub_lists: vec![list_of(names)],
            });
        }
        for (target, names) in &owner.attribute_lists {
            let wanted = match target {
                AttributeTarget::Default => false,
                other => named.is_empty() || named.contains(other),
            };
            if !wanted {
                continue;
            }
            let (user_id, contact_list) = match target {
                AttributeTarget::User(u) => (Some(UserId(u.clone())), None),
                AttributeTarget::List(l) => (None, Some(ContactListId(l.clone()))),
                AttributeTarget::Default => (None, None),
            };
            response.presences.push(Presence {
                user_id,
                contact_list,
                sub_lists: vec![list_of(names)],
            });
        }
        response
    }
}
