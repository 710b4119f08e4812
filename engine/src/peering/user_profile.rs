//! User profile management across domains (FEATURES.txt §10.5, the SSP extension primitives
//! of [`imps_protocol::ssp::extension`]): another domain's server asks for the profiles of
//! local users on behalf of one of its users.
//!
//! A profile says which services the user subscribes to (the feature groups agreed by its
//! live sessions, or every group the server offers when it has none), whether it is active
//! (logged in), and its terminal settings (what its most recent session negotiated). The
//! user's presence authorization decides what the asking user may learn: `active` only with
//! `OnlineStatus` granted, terminal settings only with `ClientInfo` granted.
//!
//! Updates from other domains are refused (403): a local user's profile is changed by the
//! user and this server only; no other domain speaks for it.

use imps_protocol::StatusCode;
use imps_protocol::primitives::FEATURES;
use imps_protocol::ssp::Status;
use imps_protocol::ssp::extension::{FeatureGroup, Features, UserProfile};

use crate::access::service;
use crate::federation::Answer;
use crate::presence::mask;
use crate::shard::Shard;
use crate::users::UserIdx;

use super::service_side::ssp_status;

/// The feature groups a server offers when a user has no session to say more.
const OFFERED: [FeatureGroup; 4] = [
    FeatureGroup::Fundamental,
    FeatureGroup::Presence,
    FeatureGroup::Im,
    FeatureGroup::Group,
];

impl Shard {
    /// The profiles of local `users` (all of this shard) as `requester` may see them.
    pub(crate) fn serve_profiles(&mut self, requester: &str, users: &[String]) -> (Status, Answer) {
        let mut failed = Vec::new();
        let mut profiles = Vec::new();
        for user in users {
            match self.users.find(user) {
                Some(idx) => profiles.push(self.profile_of(idx, user, requester)),
                None => failed.push((StatusCode::UnknownUser, user.clone())),
            }
        }
        let status = crate::presence::remote_status(&failed, users.len());
        (status, Answer::Profiles(profiles))
    }

    /// A remote update of a local user's profile: refused.
    pub(crate) fn refuse_profile_update(&self, user: &str) -> (Status, Answer) {
        let code = if self.users.find(user).is_some() {
            StatusCode::Forbidden
        } else {
            StatusCode::UnknownUser
        };
        let mut status = ssp_status(code);
        if code == StatusCode::Forbidden {
            status.description = Some("profiles are updated by their home domain only".into());
        }
        (status, Answer::None)
    }

    fn profile_of(&self, idx: UserIdx, user: &str, requester: &str) -> UserProfile {
        let granted = self.authorization(idx, requester).mask();
        let shows = |attribute: &str| mask::bit_of(attribute).is_some_and(|b| granted & b != 0);
        let sessions: Vec<_> = self
            .users
            .user(idx)
            .map(|u| u.sessions.clone())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|slot| self.sessions.get(slot))
            .collect();
        let agreed = sessions
            .iter()
            .filter_map(|s| s.agreed)
            .fold(0u64, |a, b| a | b);
        let services = if agreed == 0 {
            Features::groups(OFFERED)
        } else {
            Features::groups(groups_of(agreed))
        };
        let mut settings = Vec::new();
        if shows("ClientInfo")
            && let Some(caps) = sessions
                .iter()
                .max_by_key(|s| s.last_active)
                .and_then(|s| s.caps.as_deref())
        {
            let delivery = if caps.push { "P" } else { "N" };
            settings.push(("DeliveryMethod".to_owned(), delivery.to_owned()));
            settings.push((
                "AcceptedContentLength".to_owned(),
                caps.accepted_content_length.to_string(),
            ));
            if !caps.accepted_content_types.is_empty() {
                settings.push((
                    "AcceptedContentType".to_owned(),
                    caps.accepted_content_types.join(","),
                ));
            }
            settings.push(("ParserSize".to_owned(), caps.parser_size.to_string()));
            settings.push(("MultiTrans".to_owned(), caps.multi_trans.to_string()));
        }
        UserProfile {
            user_id: user.to_owned(),
            active: shows("OnlineStatus").then_some(!sessions.is_empty()),
            services,
            settings,
        }
    }
}

/// The feature groups with at least one leaf in the `agreed` set.
fn groups_of(agreed: u64) -> Vec<FeatureGroup> {
    FEATURES
        .iter()
        .filter(|(_, functions)| {
            functions
                .iter()
                .flat_map(|(_, leaves)| leaves.iter())
                .any(|leaf| service::bit(leaf).is_some_and(|b| agreed & b != 0))
        })
        .map(|(feature, _)| FeatureGroup::parse(feature))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreed_leaves_name_their_feature_groups() {
        let set = service::set_of(["GETPR", "NEWM"]);
        assert_eq!(
            groups_of(set),
            vec![FeatureGroup::Presence, FeatureGroup::Im]
        );
        assert!(groups_of(0).is_empty());
    }
}
