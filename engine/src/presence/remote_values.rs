//! Presence as it crosses domains: the attributes asked (an SSP `AttributeList` of empty CSP
//! presence elements) to and from a mask, and a publisher's presence (an SSP `PresenceValue`
//! holding CSP `PresenceSubList` elements) to and from [`PresenceSubList`], through the CSP
//! codec ([`imps_protocol::ssp::csp`]).

use imps_protocol::Limits;
use imps_protocol::primitives::PresenceSubList;
use imps_protocol::raw::{RawElement, RawNode};
use imps_protocol::ssp::csp::{presence_sub_list, presence_sub_list_element};
use imps_protocol::ssp::{Payload, PresenceValue};

use super::mask;
use super::reactive::names_of;

/// The `AttributeList` asking for the attributes of `wanted` (none: all of them). Vendor
/// attributes are not named: a mask does not keep their names.
pub(crate) fn attributes_of(wanted: u32) -> Option<Payload> {
    if wanted & mask::KNOWN == mask::KNOWN {
        return None;
    }
    let list = PresenceSubList::naming(names_of(wanted));
    let element = presence_sub_list_element(&list).ok()?;
    Some(Payload::of(element.children.into_iter().filter_map(
        |c| match c {
            RawNode::Element(e) => Some(e),
            RawNode::Text(_) => None,
        },
    )))
}

/// The mask an `AttributeList` asks for (none, empty or unreadable: all).
pub(crate) fn wanted_of(attributes: Option<&Payload>) -> u32 {
    let Some(payload) = attributes else {
        return mask::ALL;
    };
    let raw = RawElement {
        name: "PresenceSubList".to_owned(),
        attributes: payload.attributes.clone(),
        children: payload.children.clone(),
    };
    match presence_sub_list(&raw, &Limits::default()) {
        Ok(list) if !list.is_empty() => mask::of_names(list.names()),
        _ => mask::ALL,
    }
}

/// The `PresenceValue` of `user` showing `list`; None when it cannot be encoded.
pub(crate) fn value_of(user: &str, list: &PresenceSubList) -> Option<PresenceValue> {
    let element = presence_sub_list_element(list).ok()?;
    Some(PresenceValue {
        user_id: user.to_owned(),
        sub_lists: vec![element],
    })
}

/// The presence a `PresenceValue` carries, its sub-lists merged; the sub-lists that do not
/// decode are skipped (None when none does).
pub(crate) fn sub_list_of(value: &PresenceValue) -> Option<PresenceSubList> {
    let mut out: Option<PresenceSubList> = None;
    for raw in &value.sub_lists {
        match presence_sub_list(raw, &Limits::default()) {
            Ok(list) => out
                .get_or_insert_with(PresenceSubList::default)
                .merge_from(&list),
            Err(e) => tracing::debug!(user = %value.user_id, error = %e, "remote presence skipped"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use imps_protocol::primitives::{OnlineStatus, StatusText};

    #[test]
    fn attribute_lists_round_trip() {
        let wanted = mask::of_names(["OnlineStatus", "StatusText"]);
        let payload = attributes_of(wanted).expect("a list");
        assert_eq!(wanted_of(Some(&payload)), wanted);
        assert_eq!(attributes_of(mask::ALL), None);
        assert_eq!(wanted_of(None), mask::ALL);
        assert_eq!(wanted_of(Some(&Payload::default())), mask::ALL);
    }

    #[test]
    fn values_round_trip() {
        let list = PresenceSubList {
            online_status: Some(OnlineStatus {
                qualifier: Some(true),
                value: Some(true),
            }),
            status_text: Some(StatusText {
                qualifier: Some(true),
                value: Some("at lunch".into()),
            }),
            ..PresenceSubList::default()
        };
        let value = value_of("wv:bob@b.test", &list).expect("encodes");
        assert_eq!(value.user_id, "wv:bob@b.test");
        assert_eq!(sub_list_of(&value), Some(list));
        let broken = PresenceValue {
            user_id: "wv:bob@b.test".into(),
            sub_lists: vec![RawElement::default()],
        };
        assert_eq!(sub_list_of(&broken), None);
    }
}
