//! The CSP parts of group primitives that cross domains as CSP XML inside SSP (properties,
//! own properties, welcome notes: SSP.md §5), to and from the CSP types.

use imps_protocol::Limits;
use imps_protocol::node::Node;
use imps_protocol::raw::RawElement;
use imps_protocol::ssp::Payload;
use imps_protocol::ssp::csp::{from_csp, to_csp};

/// The payload of CSP `value` written as `tag` (`None` when it cannot be written).
pub(super) fn to_payload<T: Node>(value: &T, tag: &'static str) -> Option<Payload> {
    let e = from_csp(value, tag).ok()?;
    Some(Payload {
        attributes: e.attributes,
        children: e.children,
    })
}

/// The CSP value a payload carries as `tag` (`None` when it does not decode: another
/// domain's data is never trusted to be well formed).
pub(super) fn from_payload<T: Node>(payload: &Payload, tag: &str) -> Option<T> {
    let e = RawElement {
        name: tag.to_owned(),
        attributes: payload.attributes.clone(),
        children: payload.children.clone(),
    };
    to_csp(&e, &Limits::default()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use imps_protocol::common::Property;
    use imps_protocol::primitives::{GroupProperties, WelcomeNote};
    use imps_protocol::types::MimeType;

    #[test]
    fn group_properties_cross_as_csp_xml() {
        let props = GroupProperties {
            properties: vec![Property {
                name: "Name".into(),
                value: Some("chat & more".into()),
            }],
            welcome_note: Some(WelcomeNote {
                content_type: MimeType("text/plain".into()),
                content_encoding: None,
                content_data: "Welcome!".into(),
            }),
        };
        let payload = to_payload(&props, "GroupProperties").expect("written");
        let back: Option<GroupProperties> = from_payload(&payload, "GroupProperties");
        assert_eq!(back, Some(props));
        let bad = Payload::of([RawElement {
            name: "Property".into(),
            ..RawElement::default()
        }]);
        assert_eq!(from_payload::<WelcomeNote>(&bad, "WelcomeNote"), None);
    }
}
