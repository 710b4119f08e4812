//! Our extension primitives for what SSP.md §7 leaves unknown: service discovery and
//! agreement (`ServiceRequest` / `ServiceResponse`) and user profiles
//! (`GetUserProfileRequest` / `GetUserProfileResponse` / `UpdateUserProfileRequest`).
//!
//! They mirror CSP's Service-Request: a side lists the feature groups (and, optionally, the
//! functions of each) it offers; the answer lists the agreed ones. Names are in
//! [`super::names`], so a normative SSP schema can replace them.

use std::fmt;

use crate::raw::RawElement;

use super::common::{
    Element, MetaInfo, Status, bool_attr, ids, read_all, read_opt, write_all, write_ids, write_opt,
};
use super::error::SspError;
use super::names::{attr, el};
use super::tree::{Lookup, Writer};

/// A feature group of SSP.md §1 (names as CSP's Service-Request tree spells them).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FeatureGroup {
    /// Session, service and transaction management (`FundamentalFeat`).
    Fundamental,
    /// Presence (`PresenceFeat`).
    Presence,
    /// Instant messaging (`IMFeat`).
    Im,
    /// Groups (`GroupFeat`).
    Group,
    /// Shared content (`ContentFeat`).
    Content,
    /// User profile management (`UserProfileFeat`).
    UserProfile,
    /// Any other name.
    Other(String),
}

impl FeatureGroup {
    /// The wire name.
    pub fn name(&self) -> &str {
        match self {
            Self::Fundamental => "FundamentalFeat",
            Self::Presence => "PresenceFeat",
            Self::Im => "IMFeat",
            Self::Group => "GroupFeat",
            Self::Content => "ContentFeat",
            Self::UserProfile => "UserProfileFeat",
            Self::Other(s) => s,
        }
    }

    /// Parses a wire name (case-insensitive for the known ones).
    pub fn parse(name: &str) -> Self {
        let known = [
            Self::Fundamental,
            Self::Presence,
            Self::Im,
            Self::Group,
            Self::Content,
            Self::UserProfile,
        ];
        known
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(name.trim()))
            .unwrap_or_else(|| Self::Other(name.trim().to_owned()))
    }
}

impl fmt::Display for FeatureGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One offered or agreed feature group, with the functions of it (none = the whole group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feature {
    /// The group.
    pub group: FeatureGroup,
    /// Function names (`IMSendFunc`, ...), as in CSP.
    pub functions: Vec<String>,
}

impl Element for Feature {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        let group = FeatureGroup::parse(e.required_attr(attr::NAME)?);
        let functions = e
            .children_named(el::FUNCTION)
            .map(|f| f.required_attr(attr::NAME).map(|n| n.trim().to_owned()))
            .collect::<Result<_, _>>()?;
        Ok(Self { group, functions })
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.start(name);
        w.attr(attr::NAME, self.group.name());
        for f in &self.functions {
            w.start(el::FUNCTION);
            w.attr(attr::NAME, f);
            w.end(el::FUNCTION);
        }
        w.end(name);
    }
}

/// `Features`: a set of feature groups.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Features {
    /// The groups.
    pub features: Vec<Feature>,
}

impl Features {
    /// Whole groups, without function detail.
    pub fn groups(groups: impl IntoIterator<Item = FeatureGroup>) -> Self {
        Self {
            features: groups
                .into_iter()
                .map(|g| Feature {
                    group: g,
                    functions: Vec::new(),
                })
                .collect(),
        }
    }

    /// True when `group` is in the set.
    pub fn contains(&self, group: &FeatureGroup) -> bool {
        self.features.iter().any(|f| &f.group == group)
    }

    /// The groups both sets hold (the minimal interoperability of SSP.md §1), with the
    /// functions both list (a group without functions stands for all of them).
    pub fn intersect(&self, other: &Features) -> Features {
        let mut out = Vec::new();
        for mine in &self.features {
            let Some(theirs) = other.features.iter().find(|f| f.group == mine.group) else {
                continue;
            };
            let functions = match (mine.functions.is_empty(), theirs.functions.is_empty()) {
                (true, _) => theirs.functions.clone(),
                (false, true) => mine.functions.clone(),
                (false, false) => mine
                    .functions
                    .iter()
                    .filter(|f| theirs.functions.contains(f))
                    .cloned()
                    .collect(),
            };
            out.push(Feature {
                group: mine.group.clone(),
                functions,
            });
        }
        Features { features: out }
    }
}

impl Element for Features {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        Ok(Self {
            features: read_all(e, el::FEATURE)?,
        })
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.start(name);
        write_all(&self.features, el::FEATURE, w);
        w.end(name);
    }
}

/// Extension `ServiceRequest`: the requesting domain's offer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceRequest {
    /// The requesting domain.
    pub meta_info: Option<MetaInfo>,
    /// What it offers and wants to use.
    pub offered: Features,
}

impl Element for ServiceRequest {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        Ok(Self {
            meta_info: read_opt(e, el::META_INFO)?,
            offered: read_opt(e, el::FEATURES)?.unwrap_or_default(),
        })
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.start(name);
        write_opt(&self.meta_info, el::META_INFO, w);
        self.offered.write(el::FEATURES, w);
        w.end(name);
    }
}

/// Extension `ServiceResponse`: the agreed features.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceResponse {
    /// The outcome.
    pub status: Status,
    /// The agreement.
    pub agreed: Features,
}

impl Element for ServiceResponse {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        Ok(Self {
            status: Status::read(e.required_child(el::STATUS)?)?,
            agreed: read_opt(e, el::FEATURES)?.unwrap_or_default(),
        })
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.start(name);
        self.status.write(el::STATUS, w);
        self.agreed.write(el::FEATURES, w);
        w.end(name);
    }
}

/// Extension `UserProfile`: subscribed services, active state and settings of a user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserProfile {
    /// The user.
    pub user_id: String,
    /// Active (logged in somewhere).
    pub active: Option<bool>,
    /// The services the user subscribes to.
    pub services: Features,
    /// Privacy and terminal settings as (name, value).
    pub settings: Vec<(String, String)>,
}

impl Element for UserProfile {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        let settings = e
            .children_named(el::SETTING)
            .map(|s| {
                s.required_attr(attr::NAME)
                    .map(|n| (n.trim().to_owned(), s.text().trim().to_owned()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            user_id: e.required_attr(attr::USER_ID)?.trim().to_owned(),
            active: bool_attr(e, attr::ACTIVE)?,
            services: read_opt(e, el::FEATURES)?.unwrap_or_default(),
            settings,
        })
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.start(name);
        w.attr(attr::USER_ID, &self.user_id);
        w.attr_bool(attr::ACTIVE, self.active);
        self.services.write(el::FEATURES, w);
        for (k, v) in &self.settings {
            w.start(el::SETTING);
            w.attr(attr::NAME, k);
            w.text(v);
            w.end(el::SETTING);
        }
        w.end(name);
    }
}

/// Extension `GetUserProfileRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GetUserProfileRequest {
    /// The asking side.
    pub meta_info: Option<MetaInfo>,
    /// Whose profiles.
    pub user_ids: Vec<String>,
}

impl Element for GetUserProfileRequest {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        Ok(Self {
            meta_info: read_opt(e, el::META_INFO)?,
            user_ids: ids(e, el::USER_ID, attr::USER_ID)?,
        })
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.start(name);
        write_opt(&self.meta_info, el::META_INFO, w);
        write_ids(&self.user_ids, el::USER_ID, attr::USER_ID, w);
        w.end(name);
    }
}

/// Extension `GetUserProfileResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GetUserProfileResponse {
    /// The outcome.
    pub status: Status,
    /// The profiles.
    pub profiles: Vec<UserProfile>,
}

impl Element for GetUserProfileResponse {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        Ok(Self {
            status: Status::read(e.required_child(el::STATUS)?)?,
            profiles: read_all(e, el::USER_PROFILE)?,
        })
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.start(name);
        self.status.write(el::STATUS, w);
        write_all(&self.profiles, el::USER_PROFILE, w);
        w.end(name);
    }
}

/// Extension `UpdateUserProfileRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpdateUserProfileRequest {
    /// The updating side.
    pub meta_info: Option<MetaInfo>,
    /// The new profile.
    pub profile: UserProfile,
}

impl Element for UpdateUserProfileRequest {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        Ok(Self {
            meta_info: read_opt(e, el::META_INFO)?,
            profile: UserProfile::read(e.required_child(el::USER_PROFILE)?)?,
        })
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.start(name);
        write_opt(&self.meta_info, el::META_INFO, w);
        self.profile.write(el::USER_PROFILE, w);
        w.end(name);
    }
}
