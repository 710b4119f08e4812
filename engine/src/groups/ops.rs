//! The group's shard: every group request, checked against roles (Admin > Mod > User), the
//! reject list and limits; durable changes are answered once their record is on disk.

use std::sync::Arc;

use imps_protocol::common::{CspResult, Property, ScreenName, UserList};
use imps_protocol::primitives::{
    GetGroupMembersResponse, GetGroupPropsResponse, GetJoinedUsersResponse, GroupChangeNotice,
    JoinGroupResponse, Joined, LeaveGroupResponse, Left, Mapping, MappingList, OwnProperties,
    RejectListResponse, RoleMembers, Status, SubscribeGroupNoticeResponse, SubscribeType,
    UserMapList,
};
use imps_protocol::types::{GroupId, ScreenNameText, UserId};
use imps_protocol::{Primitive, StatusCode, Version};

use super::group::{Group, JoinedUser, Role};
use super::mesh::GroupMsg;
use crate::core::Millis;
use crate::presence::publication::SessionRef;
use crate::record::{GroupRecord, Record};
use crate::shard::{Shard, ShardMsg};

/// Groups one shard holds at most (815 beyond).
const MAX_GROUPS_PER_SHARD: usize = 1_000_000;
/// Joined users per group when the group sets no lower limit (817 beyond).
const MAX_JOINED: usize = 100_000;

fn status(code: StatusCode) -> Primitive {
    Status::new(code).into()
}

/// The normalized user IDs of a UserList (screen names are not members).
fn users_of(list: &UserList, domain: &str) -> Vec<String> {
    list.user_ids
        .iter()
        .chain(list.users.iter().map(|u| &u.user_id))
        .filter_map(|u| u.normalize(domain).ok())
        .collect()
}

fn user_list(users: impl IntoIterator<Item = String>) -> UserList {
    UserList {
        user_ids: users.into_iter().map(UserId).collect(),
        ..UserList::default()
    }
}

/// Who asks, and about which group.
pub(crate) struct Asker {
    pub(crate) session: SessionRef,
    pub(crate) user: Arc<str>,
    pub(crate) version: Version,
    pub(crate) group: Arc<str>,
}

impl Shard {
    /// Stores a group (recovery and changes).
    pub(crate) fn store_group(&mut self, record: GroupRecord) {
        let old = self.groups.get(record.id.as_str()).map(|g| &g.stored);
        self.group_index.put(old, &record);
        match self.groups.get_mut(record.id.as_str()) {
            Some(g) => g.stored = record,
            None => {
                if let Some(owner) = &record.owner {
                    *self.owned_groups.entry(owner.as_str().into()).or_default() += 1;
                }
                let id: Box<str> = record.id.clone().into_boxed_str();
                self.groups.insert(id, Group::new(record));
            }
        }
    }

    /// Removes a group (recovery and changes).
    pub(crate) fn drop_group(&mut self, id: &str) -> Option<Group> {
        let group = self.groups.remove(id)?;
        self.group_index.remove(&group.stored);
        for j in &group.joined {
            self.group_index.note_left(&j.user, id);
        }
        if let Some(owner) = &group.stored.owner
            && let Some(n) = self.owned_groups.get_mut(owner.as_str())
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.owned_groups.remove(owner.as_str());
            }
        }
        Some(group)
    }

    /// Logs the stored part of a group and keeps it.
    fn save_group(&mut self, record: GroupRecord) -> Result<(), StatusCode> {
        if self
            .append_record(&Record::GroupPut(record.clone()))
            .is_err()
        {
            return Err(StatusCode::ServerError);
        }
        self.store_group(record);
        Ok(())
    }

    /// Sends `primitive` to the joined sessions `filter` picks, one batch per shard.
    fn notify_joined(
        &mut self,
        group: &str,
        primitive: Primitive,
        left: bool,
        filter: impl Fn(&JoinedUser) -> bool,
    ) {
        let Some(g) = self.groups.get(group) else {
            return;
        };
        let mut by_shard: Vec<Vec<SessionRef>> = vec![Vec::new(); self.shards];
        for j in g.joined.iter().filter(|j| filter(j)) {
            if let Some(b) = by_shard.get_mut(usize::from(j.session.shard)) {
                b.push(j.session);
            }
        }
        let remote = self.remote_members(group, &filter);
        self.notify_remote_members(group, &primitive, remote);
        let primitive = Arc::new(primitive);
        let left = left.then(|| Arc::from(group));
        for (shard, to) in by_shard.into_iter().enumerate() {
            if !to.is_empty() {
                let msg = GroupMsg::Notify {
                    to,
                    primitive: primitive.clone(),
                    left: left.clone(),
                };
                self.send_after_records(shard, ShardMsg::Group(msg));
            }
        }
    }

    /// Tells notice subscribers about a change.
    fn change_notice(
        &mut self,
        group: &str,
        notice: GroupChangeNotice,
        except: Option<SessionRef>,
    ) {
        self.notify_joined(group, notice.into(), false, |j| {
            j.notices && Some(j.session) != except
        });
    }

    /// Makes joined users the group no longer admits leave (unsolicited LeaveGroup-Response).
    fn force_out(&mut self, group: &str, code: StatusCode) {
        let Some(g) = self.groups.get_mut(group) else {
            return;
        };
        let (out, keep): (Vec<JoinedUser>, Vec<JoinedUser>) = {
            let stored = g.clone();
            g.joined.drain(..).partition(|j| !stored.admits(&j.user))
        };
        g.joined = keep;
        for j in &out {
            self.group_index.note_left(&j.user, group);
        }
        if out.is_empty() {
            return;
        }
        let notice = LeaveGroupResponse {
            group_id: Some(GroupId(group.to_owned())),
            result: CspResult::new(code),
        };
        let sessions: Vec<SessionRef> = out.iter().map(|j| j.session).collect();
        if let Some(g) = self.groups.get_mut(group) {
            // Notify the leavers through a temporary view of them.
            let saved = std::mem::replace(&mut g.joined, out.clone());
            self.notify_joined(group, notice.into(), true, |j| {
                sessions.contains(&j.session)
            });
            if let Some(g) = self.groups.get_mut(group) {
                g.joined = saved;
            }
        }
        let left = Left {
            screen_names: out
                .iter()
                .map(|j| ScreenName {
                    sname: ScreenNameText(j.screen_name.to_string()),
                    group_id: GroupId(group.to_owned()),
                })
                .collect(),
            user_list: None,
        };
        self.change_notice(
            group,
            GroupChangeNotice {
                group_id: GroupId(group.to_owned()),
                left: Some(left),
                ..GroupChangeNotice::default()
            },
            None,
        );
    }

    /// A group request from a user's shard.
    pub(crate) fn handle_group_request(
        &mut self,
        now: Millis,
        from: usize,
        (query, part): (u64, u32),
        asker: Asker,
        request: Primitive,
    ) {
        let (content, membership) = self.group_request(now, &asker, request);
        let msg = GroupMsg::Answer {
            query,
            part,
            session: asker.session,
            content: Box::new(content),
            membership,
        };
        self.send_after_records(from, ShardMsg::Group(msg));
    }

    pub(super) fn group_request(
        &mut self,
        _now: Millis,
        a: &Asker,
        request: Primitive,
    ) -> (Primitive, Option<(Arc<str>, bool)>) {
        let group = a.group.clone();
        let none = |code| (status(code), None);
        if let Primitive::CreateGroupRequest(req) = &request {
            return match self.create_group(a, req) {
                Ok(joined) => (
                    status(StatusCode::Successful),
                    joined.then_some((group, true)),
                ),
                Err(code) => none(code),
            };
        }
        let Some((role, was_joined)) = self
            .groups
            .get(&*group)
            .map(|g| (g.role(&a.user), g.joined_by(a.session).is_some()))
        else {
            return none(StatusCode::GroupMissing);
        };
        let at_least = |r: Role| role.is_some_and(|x| x >= r);
        let domain = self.config.domain.clone();
        match request {
            Primitive::DeleteGroupRequest(_) => {
                if !at_least(Role::Admin) {
                    return none(StatusCode::InsufficientGroupPrivileges);
                }
                if self
                    .append_record(&Record::GroupRemove(group.to_string()))
                    .is_err()
                {
                    return none(StatusCode::ServerError);
                }
                let notice = LeaveGroupResponse {
                    group_id: Some(GroupId(group.to_string())),
                    result: CspResult::new(StatusCode::GroupMissing),
                };
                let asker = a.session;
                self.notify_joined(&group, notice.into(), true, |j| j.session != asker);
                self.drop_group(&group);
                (
                    status(StatusCode::Successful),
                    was_joined.then_some((group, false)),
                )
            }
            Primitive::JoinGroupRequest(req) => match self.join_group(a, &req) {
                Ok(resp) => (resp.into(), Some((group, true))),
                Err(code) => none(code),
            },
            Primitive::LeaveGroupRequest(_) => {
                let Some(g) = self.groups.get_mut(&*group) else {
                    return none(StatusCode::GroupMissing);
                };
                let Some(i) = g.joined.iter().position(|j| j.session == a.session) else {
                    return none(StatusCode::GroupNotJoined);
                };
                let j = g.joined.remove(i);
                self.group_index.note_left(&j.user, &group);
                self.change_notice(
                    &group,
                    GroupChangeNotice {
                        group_id: GroupId(group.to_string()),
                        left: Some(Left {
                            screen_names: vec![ScreenName {
                                sname: ScreenNameText(j.screen_name.to_string()),
                                group_id: GroupId(group.to_string()),
                            }],
                            user_list: None,
                        }),
                        ..GroupChangeNotice::default()
                    },
                    None,
                );
                self.auto_delete(&group);
                let resp = LeaveGroupResponse {
                    group_id: Some(GroupId(group.to_string())),
                    result: CspResult::new(StatusCode::Successful),
                };
                (resp.into(), Some((group, false)))
            }
            Primitive::GetGroupPropsRequest(_) => {
                let Some(g) = self.groups.get(&*group) else {
                    return none(StatusCode::GroupMissing);
                };
                if !g.visible_to(&a.user) {
                    return none(StatusCode::NotGroupMember);
                }
                let own = own_properties(g, a);
                let resp = GetGroupPropsResponse {
                    properties: Some(g.properties()),
                    own_properties: Some(own),
                };
                (resp.into(), None)
            }
            Primitive::SetGroupPropsRequest(req) => {
                let Some(g) = self.groups.get(&*group) else {
                    return none(StatusCode::GroupMissing);
                };
                let mut g = g.clone();
                if let Some(props) = &req.properties {
                    if !at_least(Role::Admin) {
                        return none(StatusCode::InsufficientGroupPrivileges);
                    }
                    if g.set_properties(props).is_err() {
                        return none(StatusCode::InvalidGroupProperties);
                    }
                }
                if let Some(own) = &req.own_properties {
                    let Some(j) = g.joined.iter_mut().find(|j| j.session == a.session) else {
                        return none(StatusCode::GroupNotJoined);
                    };
                    for p in &own.properties {
                        if p.name.eq_ignore_ascii_case("PrivateMessaging") {
                            j.private_messaging = p.value.as_deref().is_some_and(|v| v == "T");
                        }
                    }
                }
                if req.properties.is_some()
                    && let Err(code) = self.save_group(g.stored.clone())
                {
                    return none(code);
                }
                if let Some(stored) = self.groups.get_mut(&*group) {
                    stored.joined = g.joined;
                }
                if let Some(props) = req.properties {
                    self.change_notice(
                        &group,
                        GroupChangeNotice {
                            group_id: GroupId(group.to_string()),
                            properties: Some(props),
                            ..GroupChangeNotice::default()
                        },
                        Some(a.session),
                    );
                }
                none(StatusCode::Successful)
            }
            Primitive::GetGroupMembersRequest(_) => {
                if !at_least(Role::Mod) {
                    return none(StatusCode::InsufficientGroupPrivileges);
                }
                let Some(g) = self.groups.get(&*group) else {
                    return none(StatusCode::GroupMissing);
                };
                let by_role = |r: Role| {
                    let mut users: Vec<String> = g
                        .stored
                        .members
                        .iter()
                        .filter(|(_, x)| Role::from_u8(*x) == r)
                        .map(|(u, _)| u.clone())
                        .collect();
                    if r == Role::Admin
                        && let Some(o) = &g.stored.owner
                        && !users.contains(o)
                    {
                        users.insert(0, o.clone());
                    }
                    (!users.is_empty()).then(|| RoleMembers {
                        user_list: user_list(users),
                    })
                };
                let resp = GetGroupMembersResponse {
                    admin: by_role(Role::Admin),
                    moderators: by_role(Role::Mod),
                    users: by_role(Role::User),
                };
                (resp.into(), None)
            }
            Primitive::AddGroupMembersRequest(req) => {
                if !at_least(Role::Mod) {
                    return none(StatusCode::InsufficientGroupPrivileges);
                }
                let Some(g) = self.groups.get(&*group) else {
                    return none(StatusCode::GroupMissing);
                };
                let mut stored = g.stored.clone();
                for u in users_of(&req.user_list, &domain) {
                    if !stored.members.iter().any(|(m, _)| *m == u) {
                        stored.members.push((u, Role::User as u8));
                    }
                }
                match self.save_group(stored) {
                    Ok(()) => none(StatusCode::Successful),
                    Err(code) => none(code),
                }
            }
            Primitive::RemoveGroupMembersRequest(req) => {
                if !at_least(Role::Mod) {
                    return none(StatusCode::InsufficientGroupPrivileges);
                }
                let Some(g) = self.groups.get(&*group) else {
                    return none(StatusCode::GroupMissing);
                };
                let gone = users_of(&req.user_list, &domain);
                let mut stored = g.stored.clone();
                stored.members.retain(|(m, _)| !gone.contains(m));
                if let Err(code) = self.save_group(stored) {
                    return none(code);
                }
                self.force_out(&group, StatusCode::NotGroupMember);
                none(StatusCode::Successful)
            }
            Primitive::MemberAccessRequest(req) => {
                if !at_least(Role::Admin) {
                    return none(StatusCode::InsufficientGroupPrivileges);
                }
                let Some(g) = self.groups.get(&*group) else {
                    return none(StatusCode::GroupMissing);
                };
                let mut stored = g.stored.clone();
                for (list, role) in [
                    (&req.admin, Role::Admin),
                    (&req.moderators, Role::Mod),
                    (&req.users, Role::User),
                ] {
                    let Some(list) = list else { continue };
                    for u in users_of(&list.user_list, &domain) {
                        match stored.members.iter_mut().find(|(m, _)| *m == u) {
                            Some(entry) => entry.1 = role as u8,
                            None => stored.members.push((u, role as u8)),
                        }
                    }
                }
                match self.save_group(stored) {
                    Ok(()) => none(StatusCode::Successful),
                    Err(code) => none(code),
                }
            }
            Primitive::RejectListRequest(req) => {
                if !at_least(Role::Mod) {
                    return none(StatusCode::InsufficientGroupPrivileges);
                }
                let Some(g) = self.groups.get(&*group) else {
                    return none(StatusCode::GroupMissing);
                };
                let mut stored = g.stored.clone();
                let changed = req.add_list.is_some() || req.remove_list.is_some();
                if let Some(add) = &req.add_list {
                    for u in add
                        .user_ids
                        .iter()
                        .filter_map(|u| u.normalize(&domain).ok())
                    {
                        if !stored.reject.contains(&u) {
                            stored.reject.push(u);
                        }
                    }
                }
                if let Some(remove) = &req.remove_list {
                    let gone: Vec<String> = remove
                        .user_ids
                        .iter()
                        .filter_map(|u| u.normalize(&domain).ok())
                        .collect();
                    stored.reject.retain(|u| !gone.contains(u));
                }
                let list = stored.reject.clone();
                if changed {
                    if let Err(code) = self.save_group(stored) {
                        return none(code);
                    }
                    self.force_out(&group, StatusCode::RejectedFromGroup);
                }
                let resp = RejectListResponse {
                    user_list: Some(user_list(list)),
                };
                (resp.into(), None)
            }
            Primitive::SubscribeGroupNoticeRequest(req) => {
                let Some(g) = self.groups.get_mut(&*group) else {
                    return none(StatusCode::GroupMissing);
                };
                let Some(j) = g.joined.iter_mut().find(|j| j.session == a.session) else {
                    return none(StatusCode::GroupNotJoined);
                };
                match req.subscribe_type {
                    SubscribeType::Get => {
                        let resp = SubscribeGroupNoticeResponse { value: j.notices };
                        (resp.into(), None)
                    }
                    SubscribeType::Subscribe => {
                        j.notices = true;
                        none(StatusCode::Successful)
                    }
                    SubscribeType::Unsubscribe => {
                        j.notices = false;
                        none(StatusCode::Successful)
                    }
                }
            }
            Primitive::GetJoinedUsersRequest(_) => {
                let Some(g) = self.groups.get(&*group) else {
                    return none(StatusCode::GroupMissing);
                };
                if g.joined_by(a.session).is_none() && role.is_none() {
                    return none(StatusCode::GroupNotJoined);
                }
                let mapping = |j: &JoinedUser| Mapping {
                    sname: ScreenNameText(j.screen_name.to_string()),
                    user_id: g.shown_id(j, &a.user, role).map(UserId),
                };
                let resp = GetJoinedUsersResponse {
                    admin_map_list: None,
                    user_map_list: Some(UserMapList {
                        user_mapping: Some(MappingList {
                            mappings: g.joined.iter().map(mapping).collect(),
                        }),
                    }),
                };
                (resp.into(), None)
            }
            _ => none(StatusCode::NotImplemented),
        }
    }

    fn create_group(
        &mut self,
        a: &Asker,
        req: &imps_protocol::primitives::CreateGroupRequest,
    ) -> Result<bool, StatusCode> {
        if self.groups.contains_key(&*a.group) {
            return Err(StatusCode::GroupExists);
        }
        // A user's group is named after them: wv:<user>/<name>@<domain>.
        let (local, domain) = a.group.rsplit_once('@').unwrap_or((&a.group, ""));
        let owner_part = local.split_once('/').map(|(u, _)| u);
        let user_local = a.user.rsplit_once('@').map_or(&*a.user, |(u, _)| u);
        if owner_part != Some(user_local) || !a.user.ends_with(&format!("@{domain}")) {
            return Err(StatusCode::InvalidParameter);
        }
        if self.groups.len() >= MAX_GROUPS_PER_SHARD {
            return Err(StatusCode::TooManyGroupsForServer);
        }
        // The owner lives on this shard with their groups (see `crate::routing`).
        let owned = self.owned_groups.get(&*a.user).copied().unwrap_or(0);
        if owned as usize >= self.config.max_groups_per_user {
            return Err(StatusCode::TooManyGroupsForUser);
        }
        let mut g = Group::new(GroupRecord {
            id: a.group.to_string(),
            owner: Some(a.user.to_string()),
            properties: Vec::new(),
            welcome: None,
            members: vec![(a.user.to_string(), Role::Admin as u8)],
            reject: Vec::new(),
        });
        g.set_properties(&req.properties)
            .map_err(|_| StatusCode::InvalidGroupProperties)?;
        if g.prop("Name").is_none_or(|n| n.trim().is_empty()) {
            return Err(StatusCode::GroupNameOrTopicMissing);
        }
        self.save_group(g.stored)?;
        if req.join_group == Some(true) {
            let join = imps_protocol::primitives::JoinGroupRequest {
                group_id: GroupId(a.group.to_string()),
                screen_name: req.screen_name.clone(),
                joined_request: None,
                subscribe_notification: req.subscribe_notification,
                own_properties: None,
            };
            self.join_group(a, &join)?;
            return Ok(true);
        }
        Ok(false)
    }

    fn join_group(
        &mut self,
        a: &Asker,
        req: &imps_protocol::primitives::JoinGroupRequest,
    ) -> Result<JoinGroupResponse, StatusCode> {
        let g = self
            .groups
            .get_mut(&*a.group)
            .ok_or(StatusCode::GroupMissing)?;
        if g.rejected(&a.user) {
            return Err(StatusCode::RejectedFromGroup);
        }
        let role = g.role(&a.user);
        if g.restricted() && role.is_none() {
            return Err(StatusCode::GroupIsRestricted);
        }
        if g.joined_by(a.session).is_some() {
            return Err(StatusCode::GroupAlreadyJoined);
        }
        let max = match g.max_active() {
            0 => MAX_JOINED,
            n => n.min(MAX_JOINED),
        };
        if g.joined.len() >= max {
            return Err(StatusCode::TooManyJoinedUsers);
        }
        let sname: Box<str> = match &req.screen_name {
            Some(s) if !s.sname.0.trim().is_empty() => s.sname.0.trim().into(),
            _ => {
                let local = a.user.trim_start_matches("wv:");
                local.split('@').next().unwrap_or(local).into()
            }
        };
        if g.joined.iter().any(|j| j.screen_name == sname) {
            return Err(StatusCode::ScreenNameInUse);
        }
        let private_messaging = req.own_properties.as_ref().is_none_or(|o| {
            imps_protocol::common::property(&o.properties, "PrivateMessaging") != Some("F")
        });
        g.joined.push(JoinedUser {
            user: a.user.clone(),
            session: a.session,
            screen_name: sname.clone(),
            notices: req.subscribe_notification == Some(true),
            private_messaging,
        });
        self.group_index.note_joined(&a.user, &a.group);
        let joined_users: Vec<&JoinedUser> = g.joined.iter().collect();
        let mut response = JoinGroupResponse {
            welcome_note: g.welcome_note(),
            ..JoinGroupResponse::default()
        };
        if req.joined_request == Some(true) {
            if a.version == Version::V1_1 {
                response.user_list = Some(UserList {
                    screen_names: joined_users
                        .iter()
                        .map(|j| ScreenName {
                            sname: ScreenNameText(j.screen_name.to_string()),
                            group_id: GroupId(a.group.to_string()),
                        })
                        .collect(),
                    ..UserList::default()
                });
            } else {
                response.user_map_list = Some(UserMapList {
                    user_mapping: Some(MappingList {
                        mappings: joined_users
                            .iter()
                            .map(|j| Mapping {
                                sname: ScreenNameText(j.screen_name.to_string()),
                                user_id: g.shown_id(j, &a.user, role).map(UserId),
                            })
                            .collect(),
                    }),
                });
            }
        }
        let joined = Joined {
            screen_names: vec![ScreenName {
                sname: ScreenNameText(sname.to_string()),
                group_id: GroupId(a.group.to_string()),
            }],
            user_map_list: None,
        };
        self.change_notice(
            &a.group,
            GroupChangeNotice {
                group_id: GroupId(a.group.to_string()),
                joined: Some(joined),
                ..GroupChangeNotice::default()
            },
            Some(a.session),
        );
        Ok(response)
    }

    /// A session ended: it leaves the groups named.
    pub(crate) fn handle_group_session_ended(&mut self, session: SessionRef, groups: &[Arc<str>]) {
        for group in groups {
            let Some(g) = self.groups.get_mut(&**group) else {
                continue;
            };
            let before = g.joined.len();
            let left: Vec<ScreenName> = g
                .joined
                .iter()
                .filter(|j| j.session == session)
                .map(|j| ScreenName {
                    sname: ScreenNameText(j.screen_name.to_string()),
                    group_id: GroupId(group.to_string()),
                })
                .collect();
            let user = g.joined_by(session).map(|j| j.user.clone());
            g.joined.retain(|j| j.session != session);
            if let Some(user) = user {
                self.group_index.note_left(&user, group);
            }
            if g.joined.len() != before {
                self.change_notice(
                    group,
                    GroupChangeNotice {
                        group_id: GroupId(group.to_string()),
                        left: Some(Left {
                            screen_names: left,
                            user_list: None,
                        }),
                        ..GroupChangeNotice::default()
                    },
                    None,
                );
                self.auto_delete(group);
            }
        }
    }

    /// A group with `AutoDelete` T is deleted (durably) when its last joined user leaves.
    fn auto_delete(&mut self, group: &str) {
        let empty_auto = self
            .groups
            .get(group)
            .is_some_and(|g| g.joined.is_empty() && g.auto_delete());
        if empty_auto
            && self
                .append_record(&Record::GroupRemove(group.to_owned()))
                .is_ok()
        {
            self.drop_group(group);
        }
    }
}

/// The asker's own properties in a group.
fn own_properties(g: &Group, a: &Asker) -> OwnProperties {
    let mut properties = vec![
        Property {
            name: "IsMember".into(),
            value: Some(if g.role(&a.user).is_some() { "T" } else { "F" }.into()),
        },
        Property {
            name: "PrivilegeLevel".into(),
            value: Some(g.role(&a.user).unwrap_or(Role::User).name().into()),
        },
    ];
    if let Some(j) = g.joined_by(a.session) {
        properties.push(Property {
            name: "ScreenName".into(),
            value: Some(j.screen_name.to_string()),
        });
        properties.push(Property {
            name: "PrivateMessaging".into(),
            value: Some(if j.private_messaging { "T" } else { "F" }.into()),
        });
    }
    OwnProperties { properties }
}
