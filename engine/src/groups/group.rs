//! One group: its properties, members with roles, reject list (all durable) and the users
//! joined right now (soft).

use std::sync::Arc;

use imps_protocol::common::{Property, property};
use imps_protocol::primitives::{GroupProperties, WelcomeNote};
use imps_protocol::types::MimeType;

use crate::presence::publication::SessionRef;
use crate::record::GroupRecord;

/// A member's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// An ordinary member.
    User = 0,
    /// A moderator: manages members and the reject list.
    Mod = 1,
    /// An administrator: also roles and properties.
    Admin = 2,
}

impl Role {
    /// From the stored byte.
    pub fn from_u8(b: u8) -> Self {
        match b {
            2 => Role::Admin,
            1 => Role::Mod,
            _ => Role::User,
        }
    }

    /// The `PrivilegeLevel` text.
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Mod => "Mod",
            Role::User => "User",
        }
    }
}

/// A user joined to the group now.
#[derive(Debug, Clone)]
pub struct JoinedUser {
    /// The user's normalized ID.
    pub user: Arc<str>,
    /// The session that joined.
    pub session: SessionRef,
    /// The screen name (unique in the group).
    pub screen_name: Box<str>,
    /// Gets GroupChangeNotice.
    pub notices: bool,
    /// Accepts private messages.
    pub private_messaging: bool,
}

/// A group.
#[derive(Debug, Clone)]
pub struct Group {
    /// The stored part.
    pub stored: GroupRecord,
    /// Joined users.
    pub joined: Vec<JoinedUser>,
}

impl Group {
    /// A group from its stored form.
    pub fn new(stored: GroupRecord) -> Self {
        Self {
            stored,
            joined: Vec::new(),
        }
    }

    /// A property's value.
    pub fn prop(&self, name: &str) -> Option<&str> {
        self.stored
            .properties
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn flag(&self, name: &str, default: bool) -> bool {
        match self.prop(name) {
            Some(v) => v.trim().eq_ignore_ascii_case("T"),
            None => default,
        }
    }

    /// Only members may join.
    pub fn restricted(&self) -> bool {
        self.prop("AccessType")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("Restricted"))
    }

    /// Found by search.
    pub fn searchable(&self) -> bool {
        self.flag("Searchable", false)
    }

    /// Private messages between joined users allowed.
    pub fn private_messaging(&self) -> bool {
        self.flag("PrivateMessaging", true)
    }

    /// Joined users' user IDs are shown to everyone in the group, not only their screen
    /// names (`ShowID`, default F: screen names keep users anonymous).
    pub fn show_id(&self) -> bool {
        self.flag("ShowID", false)
    }

    /// May `user` see the group's details (properties, joined users)? A restricted group
    /// is visible to its members only; an open one to everybody.
    pub fn visible_to(&self, user: &str) -> bool {
        !self.restricted() || self.role(user).is_some()
    }

    /// The user ID of joined user `j` as `viewer` (with `role` in the group) may see it:
    /// their own, everyone's to moderators and administrators, and everyone's when the
    /// group shows IDs.
    pub fn shown_id(&self, j: &JoinedUser, viewer: &str, role: Option<Role>) -> Option<String> {
        let shown = self.show_id() || role.is_some_and(|r| r >= Role::Mod) || *j.user == *viewer;
        shown.then(|| j.user.to_string())
    }

    /// Deleted when the last joined user leaves.
    pub fn auto_delete(&self) -> bool {
        self.flag("AutoDelete", false)
    }

    /// Most users joined at once (0: no limit but the server's).
    pub fn max_active(&self) -> usize {
        self.prop("MaxActiveUsers")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    /// The role of `user` (None: not a member).
    pub fn role(&self, user: &str) -> Option<Role> {
        if self.stored.owner.as_deref() == Some(user) {
            return Some(Role::Admin);
        }
        self.stored
            .members
            .iter()
            .find(|(u, _)| u == user)
            .map(|(_, r)| Role::from_u8(*r))
    }

    /// True when `user` is on the reject list.
    pub fn rejected(&self, user: &str) -> bool {
        self.stored.reject.iter().any(|u| u == user)
    }

    /// May `user` be joined now (membership, reject list)?
    pub fn admits(&self, user: &str) -> bool {
        !self.rejected(user) && (!self.restricted() || self.role(user).is_some())
    }

    /// Applies properties; `Err(name)` for a value this server refuses.
    pub fn set_properties(&mut self, props: &GroupProperties) -> Result<(), String> {
        for p in &props.properties {
            let value = p.value.clone().unwrap_or_default();
            let ok = match p.name.as_str() {
                "AccessType" => ["Open", "Restricted"].contains(&value.trim()),
                "Type" => ["Public", "Private"].contains(&value.trim()),
                "PrivateMessaging" | "Searchable" | "AutoDelete" | "ShowID" => {
                    ["T", "F"].contains(&value.trim())
                }
                "MaxActiveUsers" => value.trim().parse::<u32>().is_ok(),
                _ => true,
            };
            if !ok {
                return Err(p.name.clone());
            }
            match self
                .stored
                .properties
                .iter_mut()
                .find(|(k, _)| *k == p.name)
            {
                Some(entry) => entry.1 = value,
                None => self.stored.properties.push((p.name.clone(), value)),
            }
        }
        if let Some(w) = &props.welcome_note {
            self.stored.welcome = Some((w.content_type.0.clone(), w.content_data.clone()));
        }
        Ok(())
    }

    /// The properties as sent to clients.
    pub fn properties(&self) -> GroupProperties {
        let mut properties: Vec<Property> = self
            .stored
            .properties
            .iter()
            .map(|(k, v)| Property {
                name: k.clone(),
                value: Some(v.clone()),
            })
            .collect();
        for (name, default) in [("AccessType", "Open"), ("PrivateMessaging", "T")] {
            if property(&properties, name).is_none() {
                properties.push(Property {
                    name: name.into(),
                    value: Some(default.into()),
                });
            }
        }
        GroupProperties {
            properties,
            welcome_note: self.welcome_note(),
        }
    }

    /// The welcome note.
    pub fn welcome_note(&self) -> Option<WelcomeNote> {
        self.stored.welcome.as_ref().map(|(t, d)| WelcomeNote {
            content_type: MimeType(t.clone()),
            content_encoding: None,
            content_data: d.clone(),
        })
    }

    /// The joined user of a session.
    pub fn joined_by(&self, session: SessionRef) -> Option<&JoinedUser> {
        self.joined.iter().find(|j| j.session == session)
    }
}
