//! Property test: every SSP message value survives `decode_ssp(encode_ssp(m)) == m`.

use imps_protocol::Limits;
use imps_protocol::raw::{RawElement, RawNode};
use imps_protocol::ssp::extension::{
    Feature, FeatureGroup, Features, GetUserProfileRequest, GetUserProfileResponse, ServiceRequest,
    ServiceResponse, UpdateUserProfileRequest, UserProfile,
};
use imps_protocol::ssp::joined::{GetJoinedUsersResponse, Mapping};
use imps_protocol::ssp::relay::{
    CancelInviteRequest, ContentIdList, DeliveryResult, DeliveryStatusReport,
    GetGroupSubStatusResponse, GetPresenceRequest, GetPresenceResponse, GroupChangeNotice,
    GroupChangeSubscription, InviteRequest, InviteResponse, JoinGroupRequest, JoinGroupResponse,
    LeaveGroupIndication, LeaveGroupRequest, NameList, PresenceNotification, SendMessageRequest,
    SendMessageResponse, SubscribeRequest, UnsubscribeRequest,
};
use imps_protocol::ssp::{
    ClientId, Content, ContentData, DetailedResult, LoginRequest, LoginResponse, MessageInfo,
    MetaInfo, Mode, Party, Payload, PresenceValue, ScreenName, SendSecretToken, Sender,
    SessionBlock, SetupContent, SetupTransaction, SspMessage, Status, Token, Transaction,
    UnknownPrimitive, User, decode_ssp, encode_ssp,
};
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;
use proptest::strategy::Union;

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9<>&\"'é]([a-zA-Z0-9<>&\"' é]{0,10}[a-zA-Z0-9<>&\"'])?"
}

fn id() -> impl Strategy<Value = String> {
    "(wv:)?[a-z0-9]{1,6}(/[a-z]{1,4})?@[a-z]{1,6}\\.[a-z]{2,3}"
}

fn domain() -> impl Strategy<Value = String> {
    "[a-z]{1,8}\\.[a-z]{2,3}"
}

fn tid() -> impl Strategy<Value = String> {
    "[0-9]{1,10}(-[0-9]{1,3})?"
}

fn status() -> impl Strategy<Value = Status> {
    let detailed = (
        any::<u16>(),
        of(text()),
        vec(id(), 0..2),
        vec(id(), 0..2),
        vec(screen_name(), 0..2),
        vec(domain(), 0..2),
    )
        .prop_map(
            |(code, description, user_ids, group_ids, screen_names, domains)| DetailedResult {
                code,
                description,
                user_ids,
                group_ids,
                screen_names,
                domains,
            },
        );
    (
        any::<u16>(),
        of(text()),
        vec(detailed, 0..2),
        of(any::<u32>()),
    )
        .prop_map(|(code, description, detailed, try_again_timeout)| Status {
            code,
            description,
            detailed,
            try_again_timeout,
        })
}

fn screen_name() -> impl Strategy<Value = ScreenName> {
    (of(id()), text()).prop_map(|(group_id, name)| ScreenName { group_id, name })
}

fn user() -> impl Strategy<Value = User> {
    let client = (of(text()), of(text())).prop_map(|(url, text)| ClientId { url, text });
    (id(), of(client)).prop_map(|(user_id, client_id)| User { user_id, client_id })
}

fn party() -> impl Strategy<Value = Party> {
    (vec(user(), 0..2), vec(id(), 0..2), vec(screen_name(), 0..2)).prop_map(
        |(users, group_ids, screen_names)| Party {
            users,
            group_ids,
            screen_names,
        },
    )
}

fn meta() -> impl Strategy<Value = MetaInfo> {
    (any::<bool>(), domain(), of(user())).prop_map(|(client_originated, requestor_domain, user)| {
        MetaInfo {
            client_originated,
            requestor_domain,
            user,
        }
    })
}

fn message_info() -> impl Strategy<Value = MessageInfo> {
    let sender = prop_oneof![
        user().prop_map(Sender::User),
        (id(), of(text())).prop_map(|(group_id, display)| Sender::Group { group_id, display }),
    ];
    (
        (of(text()), of(text()), of(text()), of(text())),
        (of(any::<u32>()), of(any::<u32>())),
        vec(party(), 0..2),
        of(sender),
        of(text()),
    )
        .prop_map(
            |(
                (message_id, message_uri, content_type, content_name),
                (content_size, validity),
                recipients,
                sender,
                date_time,
            )| MessageInfo {
                message_id,
                message_uri,
                content_type,
                content_name,
                content_size,
                validity,
                recipients,
                sender,
                date_time,
            },
        )
}

fn content_data() -> impl Strategy<Value = ContentData> {
    (of(text()), vec(any::<u8>(), 0..40))
        .prop_map(|(content_type, data)| ContentData { content_type, data })
}

/// A CSP-format payload: an element with attributes and either text or child elements.
fn raw() -> impl Strategy<Value = RawElement> {
    let leaf = ("[A-Z][a-zA-Z]{0,8}", of(text())).prop_map(|(name, t)| RawElement {
        name,
        attributes: Vec::new(),
        children: t.into_iter().map(RawNode::Text).collect(),
    });
    let attrs = (of("[a-z0-9 ]{0,6}"), of("[a-z0-9]{0,6}")).prop_map(|(a, b)| {
        let mut out = Vec::new();
        if let Some(a) = a {
            out.push(("xmlns".to_owned(), a));
        }
        if let Some(b) = b {
            out.push(("level".to_owned(), b));
        }
        out
    });
    ("[A-Z][a-zA-Z]{0,8}", attrs, vec(leaf, 0..3)).prop_map(|(name, attributes, children)| {
        RawElement {
            name,
            attributes,
            children: children.into_iter().map(RawNode::Element).collect(),
        }
    })
}

fn payload() -> impl Strategy<Value = Payload> {
    raw().prop_map(|e| Payload {
        attributes: e.attributes,
        children: e.children,
    })
}

fn presence_value() -> impl Strategy<Value = PresenceValue> {
    (id(), vec(raw(), 0..2)).prop_map(|(user_id, sub_lists)| PresenceValue { user_id, sub_lists })
}

fn names() -> impl Strategy<Value = NameList> {
    vec(text(), 0..3).prop_map(|names| NameList { names })
}

fn features() -> impl Strategy<Value = Features> {
    let group = prop_oneof![
        Just(FeatureGroup::Fundamental),
        Just(FeatureGroup::Presence),
        Just(FeatureGroup::Im),
        Just(FeatureGroup::Group),
        Just(FeatureGroup::Content),
        Just(FeatureGroup::UserProfile),
        "X[a-z]{1,6}Ext".prop_map(FeatureGroup::Other),
    ];
    let feature = (group, vec("[A-Z][a-zA-Z]{1,10}", 0..3))
        .prop_map(|(group, functions)| Feature { group, functions });
    vec(feature, 0..3).prop_map(|features| Features { features })
}

fn profile() -> impl Strategy<Value = UserProfile> {
    (
        id(),
        of(any::<bool>()),
        features(),
        vec((text(), text()), 0..2),
    )
        .prop_map(|(user_id, active, services, settings)| UserProfile {
            user_id,
            active,
            services,
            settings,
        })
}

fn subscription() -> impl Strategy<Value = GroupChangeSubscription> {
    (id(), of(meta())).prop_map(|(group_id, meta_info)| GroupChangeSubscription {
        group_id,
        meta_info,
    })
}

fn mapping() -> impl Strategy<Value = Mapping> {
    (text(), of(id())).prop_map(|(screen_name, user_id)| Mapping {
        screen_name,
        user_id,
    })
}

fn content() -> impl Strategy<Value = Content> {
    let arms: Vec<BoxedStrategy<Content>> = vec![
        status().prop_map(Content::Status).boxed(),
        (
            of(any::<bool>()),
            of(meta()),
            message_info(),
            of(content_data()),
        )
            .prop_map(|(delivery_report, meta_info, message_info, content)| {
                Content::SendMessageRequest(SendMessageRequest {
                    delivery_report,
                    meta_info,
                    message_info,
                    content,
                })
            })
            .boxed(),
        (of(text()), status())
            .prop_map(|(message_id, status)| {
                Content::SendMessageResponse(SendMessageResponse { message_id, status })
            })
            .boxed(),
        (of(meta()), of(status()), of(text()), of(message_info()))
            .prop_map(|(meta_info, result, delivery_time, message_info)| {
                Content::DeliveryStatusReport(DeliveryStatusReport {
                    meta_info,
                    delivery_result: result.map(|status| DeliveryResult { status }),
                    delivery_time,
                    message_info,
                })
            })
            .boxed(),
        (of(meta()), vec(id(), 0..3), of(payload()))
            .prop_map(|(meta_info, user_ids, attribute_list)| {
                Content::SubscribeRequest(SubscribeRequest {
                    meta_info,
                    user_ids,
                    attribute_list,
                })
            })
            .boxed(),
        (of(meta()), vec(id(), 0..3))
            .prop_map(|(meta_info, user_ids)| {
                Content::UnsubscribeRequest(UnsubscribeRequest {
                    meta_info,
                    user_ids,
                })
            })
            .boxed(),
        (of(meta()), vec(user(), 0..3), vec(presence_value(), 0..3))
            .prop_map(|(meta_info, recipients, values)| {
                Content::PresenceNotification(PresenceNotification {
                    meta_info,
                    recipients,
                    values,
                })
            })
            .boxed(),
        (of(meta()), vec(id(), 0..3), of(payload()))
            .prop_map(|(meta_info, user_ids, attribute_list)| {
                Content::GetPresenceRequest(GetPresenceRequest {
                    meta_info,
                    user_ids,
                    attribute_list,
                })
            })
            .boxed(),
        (status(), vec(presence_value(), 0..3))
            .prop_map(|(status, values)| {
                Content::GetPresenceResponse(GetPresenceResponse { status, values })
            })
            .boxed(),
        (
            (text(), of(text()), of(any::<u32>()), of(meta())),
            (of(party()), of(party()), vec(id(), 0..2), vec(id(), 0..2)),
            (
                of(payload()),
                of(vec(text(), 0..2)),
                of(text()),
                of(screen_name()),
            ),
        )
            .prop_map(
                |(
                    (invite_id, invite_type, validity, meta_info),
                    (inviting, invited, group_id, application_id),
                    (attribute_list, urls, invite_note, screen_name),
                )| {
                    Content::InviteRequest(InviteRequest {
                        invite_id,
                        invite_type,
                        validity,
                        meta_info,
                        inviting,
                        invited,
                        group_id,
                        application_id,
                        attribute_list,
                        content_ids: urls.map(|urls| ContentIdList { urls }),
                        invite_note,
                        screen_name,
                    })
                },
            )
            .boxed(),
        (
            (text(), of(any::<bool>()), of(status())),
            (of(party()), of(party()), of(text()), of(screen_name())),
        )
            .prop_map(
                |(
                    (invite_id, acceptance, status),
                    (inviting, responding, response_note, screen_name),
                )| {
                    Content::InviteResponse(InviteResponse {
                        invite_id,
                        acceptance,
                        status,
                        inviting,
                        responding,
                        response_note,
                        screen_name,
                    })
                },
            )
            .boxed(),
        (
            text(),
            of(meta()),
            of(party()),
            of(party()),
            of(id()),
            of(text()),
        )
            .prop_map(
                |(invite_id, meta_info, canceling, canceled, group_id, cancel_note)| {
                    Content::CancelInviteRequest(CancelInviteRequest {
                        invite_id,
                        meta_info,
                        canceling,
                        canceled,
                        group_id,
                        cancel_note,
                    })
                },
            )
            .boxed(),
        (
            id(),
            of(any::<bool>()),
            of(any::<bool>()),
            of(meta()),
            of(screen_name()),
            of(payload()),
        )
            .prop_map(
                |(
                    group_id,
                    joined_list_request,
                    subscribe_notif,
                    meta_info,
                    screen_name,
                    own_properties,
                )| {
                    Content::JoinGroupRequest(JoinGroupRequest {
                        group_id,
                        joined_list_request,
                        subscribe_notif,
                        meta_info,
                        screen_name,
                        own_properties,
                    })
                },
            )
            .boxed(),
        (status(), of(names()), of(payload()))
            .prop_map(|(status, joined_list, welcome_note)| {
                Content::JoinGroupResponse(JoinGroupResponse {
                    status,
                    joined_list,
                    welcome_note,
                })
            })
            .boxed(),
        (id(), of(meta()))
            .prop_map(|(group_id, meta_info)| {
                Content::LeaveGroupRequest(LeaveGroupRequest {
                    group_id,
                    meta_info,
                })
            })
            .boxed(),
        (id(), vec(user(), 0..2), of(status()), of(text()))
            .prop_map(|(group_id, recipients, status, reason)| {
                Content::LeaveGroupIndication(LeaveGroupIndication {
                    group_id,
                    recipients,
                    status,
                    reason,
                })
            })
            .boxed(),
        subscription()
            .prop_map(Content::SubscribeGroupChangeRequest)
            .boxed(),
        subscription()
            .prop_map(Content::UnsubscribeGroupChangeRequest)
            .boxed(),
        subscription()
            .prop_map(Content::GetGroupSubStatusRequest)
            .boxed(),
        subscription()
            .prop_map(Content::GetJoinedUsersRequest)
            .boxed(),
        (id(), of(any::<bool>()), of(status()))
            .prop_map(|(group_id, subscribed, status)| {
                Content::GetGroupSubStatusResponse(GetGroupSubStatusResponse {
                    group_id,
                    subscribed,
                    status,
                })
            })
            .boxed(),
        (
            of(status()),
            vec(mapping(), 0..3),
            vec(mapping(), 0..3),
            vec(mapping(), 0..3),
        )
            .prop_map(|(status, admins, users, blocked)| {
                Content::GetJoinedUsersResponse(GetJoinedUsersResponse {
                    status,
                    admins,
                    users,
                    blocked,
                })
            })
            .boxed(),
        (
            id(),
            vec(user(), 0..2),
            (of(names()), of(names())),
            (of(payload()), of(payload()), of(payload()), of(payload())),
        )
            .prop_map(|(group_id, recipients, (joined, left), (jb, lb, gp, op))| {
                Content::GroupChangeNotice(GroupChangeNotice {
                    group_id,
                    recipients,
                    joined,
                    left,
                    joined_blocked: jb,
                    left_blocked: lb,
                    group_properties: gp,
                    own_properties: op,
                })
            })
            .boxed(),
        (of(meta()), features())
            .prop_map(|(meta_info, offered)| {
                Content::ServiceRequest(ServiceRequest { meta_info, offered })
            })
            .boxed(),
        (status(), features())
            .prop_map(|(status, agreed)| {
                Content::ServiceResponse(ServiceResponse { status, agreed })
            })
            .boxed(),
        (of(meta()), vec(id(), 0..3))
            .prop_map(|(meta_info, user_ids)| {
                Content::GetUserProfileRequest(GetUserProfileRequest {
                    meta_info,
                    user_ids,
                })
            })
            .boxed(),
        (status(), vec(profile(), 0..2))
            .prop_map(|(status, profiles)| {
                Content::GetUserProfileResponse(GetUserProfileResponse { status, profiles })
            })
            .boxed(),
        (of(meta()), profile())
            .prop_map(|(meta_info, profile)| {
                Content::UpdateUserProfileRequest(UpdateUserProfileRequest { meta_info, profile })
            })
            .boxed(),
        raw()
            .prop_map(|mut e| {
                e.name = format!("Xt{}", e.name);
                Content::Unknown(UnknownPrimitive::new(e))
            })
            .boxed(),
    ];
    Union::new(arms)
}

fn mode() -> impl Strategy<Value = Mode> {
    prop_oneof![Just(Mode::Request), Just(Mode::Response)]
}

fn token() -> impl Strategy<Value = Token> {
    prop_oneof![
        "[0-9a-f]{1,32}".prop_map(|s| Token::plain(s.into_bytes())),
        vec(any::<u8>(), 0..33).prop_map(Token::base64),
    ]
}

fn setup() -> impl Strategy<Value = SetupTransaction> {
    let send = (domain(), of("[A-Z-]{1,6}"), of("[0-9.]{1,4}"), token()).prop_map(
        |(domain, protocol, protocol_version, secret)| {
            SetupContent::SendSecretToken(SendSecretToken {
                domain,
                protocol,
                protocol_version,
                secret,
            })
        },
    );
    let login = (
        domain(),
        of(any::<u32>()),
        vec(any::<u8>(), 16),
        of(vec(any::<u8>(), 32)),
    )
        .prop_map(|(domain, time_to_live, digest, keyed)| {
            SetupContent::LoginRequest(LoginRequest {
                domain,
                time_to_live,
                digest: Token::base64(digest),
                keyed_digest: keyed.map(Token::base64),
            })
        });
    let response = (
        "[0-9]{1,8}@[a-z]{1,6}\\.[a-z]{2}",
        of(any::<u32>()),
        status(),
    )
        .prop_map(|(session_id, time_to_live, status)| {
            SetupContent::LoginResponse(LoginResponse {
                session_id,
                time_to_live,
                status,
            })
        });
    (mode(), tid(), prop_oneof![send, login, response]).prop_map(
        |(mode, transaction_id, content)| SetupTransaction {
            mode,
            transaction_id,
            content,
        },
    )
}

fn message() -> impl Strategy<Value = SspMessage> {
    let transaction = (mode(), tid(), vec(domain(), 0..3), content()).prop_map(
        |(mode, transaction_id, relay_path, content)| Transaction {
            mode,
            transaction_id,
            relay_path,
            content,
        },
    );
    prop_oneof![
        setup().prop_map(SspMessage::Setup),
        ("[0-9]{1,8}@[a-z]{1,6}\\.[a-z]{2}", vec(transaction, 1..4)).prop_map(
            |(session_id, transactions)| SspMessage::Session(SessionBlock {
                session_id,
                transactions,
            })
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decode_inverts_encode(m in message()) {
        let bytes = encode_ssp(&m);
        let back = decode_ssp(&bytes, &Limits::default());
        prop_assert_eq!(back, Ok(m), "{}", String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..400)) {
        let _ = decode_ssp(&bytes, &Limits::default());
    }
}
