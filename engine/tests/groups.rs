//! Groups in the simulation harness (two shards): creation and ownership, joining with
//! screen names and the welcome note, restricted groups and members, roles, the reject list
//! forcing users out, properties and privileges, change notices, group and private
//! messages across shards, deletion, sessions leaving when they end, and durability.

mod common;

use common::{DOMAIN, World, group_of, id};
use imps_engine::record::Record;
use imps_engine::shard::Request;
use imps_engine::sim::SimClient;
use imps_protocol::common::{Group, Property, Recipient, ScreenName, UserList};
use imps_protocol::primitives::*;
use imps_protocol::types::{GroupId, ScreenNameText, UserId};
use imps_protocol::{Primitive, TransactionMode};

impl World {
    /// Server-originated requests waiting for `c`.
    fn inbox(&mut self, c: &mut SimClient) -> Vec<Primitive> {
        self.requests(c).into_iter().map(|(_, p)| p).collect()
    }
}

fn props(pairs: &[(&str, &str)]) -> GroupProperties {
    GroupProperties {
        properties: pairs
            .iter()
            .map(|(k, v)| Property {
                name: (*k).into(),
                value: Some((*v).into()),
            })
            .collect(),
        welcome_note: Some(WelcomeNote {
            content_type: imps_protocol::types::MimeType("text/plain".into()),
            content_encoding: None,
            content_data: "Welcome!".into(),
        }),
    }
}

fn create(g: &GroupId, pairs: &[(&str, &str)]) -> Primitive {
    CreateGroupRequest {
        group_id: g.clone(),
        properties: props(pairs),
        join_group: None,
        screen_name: None,
        subscribe_notification: None,
    }
    .into()
}

fn join(g: &GroupId, sname: &str, notices: bool) -> Primitive {
    JoinGroupRequest {
        group_id: g.clone(),
        screen_name: Some(ScreenName {
            sname: ScreenNameText(sname.into()),
            group_id: g.clone(),
        }),
        joined_request: Some(true),
        subscribe_notification: Some(notices),
        own_properties: None,
    }
    .into()
}

fn users(list: &[&SimClient]) -> UserList {
    UserList {
        user_ids: list.iter().map(|c| UserId(id(c))).collect(),
        ..UserList::default()
    }
}

fn to_group(g: &GroupId, sname: Option<&str>, text: &str) -> Primitive {
    let group = match sname {
        Some(s) => Group {
            group_id: None,
            screen_name: Some(ScreenName {
                sname: ScreenNameText(s.into()),
                group_id: g.clone(),
            }),
        },
        None => Group {
            group_id: Some(g.clone()),
            screen_name: None,
        },
    };
    SendMessageRequest {
        delivery_report: Some(false),
        message_info: MessageInfo {
            recipient: Some(Recipient {
                groups: vec![group],
                ..Recipient::default()
            }),
            ..MessageInfo::default()
        },
        content_data: Some(text.into()),
    }
    .into()
}

fn send_code(p: Primitive) -> u32 {
    match p {
        Primitive::SendMessageResponse(r) => r.result.code,
        other => panic!("unexpected {other:?}"),
    }
}

fn texts(inbox: &[Primitive]) -> Vec<(String, Option<String>)> {
    inbox
        .iter()
        .filter_map(|p| match p {
            Primitive::NewMessage(m) => {
                let from = m
                    .message_info
                    .sender
                    .as_ref()
                    .and_then(|s| s.group.as_ref())
                    .and_then(|g| g.screen_name.as_ref())
                    .map(|s| s.sname.0.clone());
                Some((m.content_data.clone().unwrap_or_default(), from))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn create_join_and_talk_across_shards() {
    let mut w = World::new(13);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    let mut carol = w.online("carol", 0);
    let g = group_of(&alice.user, "club");
    // Only the owner's namespace; a name is required; no duplicates.
    let theirs = GroupId(format!("wv:{}/club@{DOMAIN}", bob.user));
    assert_eq!(w.status(&mut alice, create(&theirs, &[("Name", "x")])), 402);
    assert_eq!(
        w.status(&mut alice, create(&g, &[("Topic", "no name")])),
        822
    );
    w.sim.set_auto_durable(false);
    let m = alice.message(vec![(
        TransactionMode::Request,
        None,
        create(&g, &[("Name", "Club"), ("Searchable", "T")]),
    )]);
    let token = w.sim.submit(Request::csp(m));
    assert!(
        w.sim.take_reply(token).is_none(),
        "held until the group is durable"
    );
    w.sim.make_durable();
    assert!(w.sim.take_reply(token).is_some());
    w.sim.set_auto_durable(true);
    assert!(
        w.sim
            .log(0)
            .iter()
            .any(|r| matches!(Record::from_bytes(r), Ok(Record::GroupPut(_))))
    );
    assert_eq!(w.status(&mut bob, create(&g, &[("Name", "again")])), 801);
    // Joining: welcome note, joined users, unique screen names, no double join.
    let Primitive::JoinGroupResponse(r) = w.call(&mut alice, join(&g, "Al", true)) else {
        panic!("join response expected")
    };
    assert_eq!(
        r.welcome_note.map(|n| n.content_data).as_deref(),
        Some("Welcome!")
    );
    assert_eq!(w.status(&mut bob, join(&g, "Al", false)), 811);
    let Primitive::JoinGroupResponse(r) = w.call(&mut bob, join(&g, "Bobby", false)) else {
        panic!("join response expected")
    };
    let names: Vec<String> = r
        .user_map_list
        .and_then(|l| l.user_mapping)
        .map(|m| m.mappings.into_iter().map(|m| m.sname.0).collect())
        .unwrap_or_default();
    assert_eq!(names, vec!["Al".to_owned(), "Bobby".to_owned()]);
    assert_eq!(w.status(&mut bob, join(&g, "Other", false)), 807);
    // alice subscribed to notices: she hears bob joining.
    let notices = w.inbox(&mut alice);
    assert!(
        notices
            .iter()
            .any(|p| matches!(p, Primitive::GroupChangeNotice(n) if n.joined.is_some())),
        "{notices:?}"
    );
    // A group message reaches every other joined user, sender shown by screen name.
    assert_eq!(
        send_code(w.call(&mut bob, to_group(&g, None, "hi all"))),
        200
    );
    assert_eq!(
        texts(&w.inbox(&mut alice)),
        vec![("hi all".to_owned(), Some("Bobby".to_owned()))]
    );
    assert!(
        texts(&w.inbox(&mut bob)).is_empty(),
        "not echoed to the sender"
    );
    // Not joined: 808.
    assert_eq!(
        send_code(w.call(&mut carol, to_group(&g, None, "me too"))),
        808
    );
    // Private message to a screen name.
    assert_eq!(
        send_code(w.call(&mut alice, to_group(&g, Some("Bobby"), "psst"))),
        200
    );
    assert_eq!(
        texts(&w.inbox(&mut bob)),
        vec![("psst".to_owned(), Some("Al".to_owned()))]
    );
    // Private messaging off for the group: 812.
    let set = SetGroupPropsRequest {
        group_id: g.clone(),
        properties: Some(props(&[("PrivateMessaging", "F")])),
        own_properties: None,
    };
    assert_eq!(w.status(&mut bob, set.clone().into()), 816, "only admins");
    assert_eq!(w.status(&mut alice, set.into()), 200);
    assert_eq!(
        send_code(w.call(&mut alice, to_group(&g, Some("Bobby"), "psst"))),
        812
    );
}

#[test]
fn restricted_groups_roles_and_the_reject_list() {
    let mut w = World::new(13);
    let mut alice = w.online("alice", 1);
    let mut bob = w.online("bob", 0);
    let mut carol = w.online("carol", 1);
    let g = group_of(&alice.user, "vip");
    let p = create(&g, &[("Name", "VIP"), ("AccessType", "Restricted")]);
    assert_eq!(w.status(&mut alice, p), 200);
    assert_eq!(w.status(&mut bob, join(&g, "b", false)), 803);
    let add = AddGroupMembersRequest {
        group_id: g.clone(),
        user_list: users(&[&bob, &carol]),
    };
    assert_eq!(
        w.status(&mut bob, add.clone().into()),
        816,
        "members cannot add"
    );
    assert_eq!(w.status(&mut alice, add.into()), 200);
    assert!(matches!(
        w.call(&mut bob, join(&g, "b", false)),
        Primitive::JoinGroupResponse(_)
    ));
    // carol becomes a moderator and bans bob: he is forced out and cannot come back.
    let promote = MemberAccessRequest {
        group_id: g.clone(),
        admin: None,
        moderators: Some(RoleMembers {
            user_list: users(&[&carol]),
        }),
        users: None,
    };
    assert_eq!(w.status(&mut alice, promote.into()), 200);
    let ban = RejectListRequest {
        group_id: g.clone(),
        add_list: Some(EntityList {
            user_ids: vec![UserId(id(&bob))],
            ..EntityList::default()
        }),
        remove_list: None,
    };
    let Primitive::RejectListResponse(r) = w.call(&mut carol, ban.into()) else {
        panic!("reject list expected")
    };
    assert_eq!(
        r.user_list.map(|l| l.user_ids),
        Some(vec![UserId(id(&bob))])
    );
    let forced = w.inbox(&mut bob);
    assert!(
        forced
            .iter()
            .any(|p| matches!(p, Primitive::LeaveGroupResponse(l) if l.result.code == 809)),
        "{forced:?}"
    );
    assert_eq!(w.status(&mut bob, join(&g, "b", false)), 809);
    let Primitive::GetGroupMembersResponse(m) = w.call(
        &mut carol,
        GetGroupMembersRequest {
            group_id: g.clone(),
        }
        .into(),
    ) else {
        panic!("members expected")
    };
    assert_eq!(
        m.moderators.map(|r| r.user_list.user_ids),
        Some(vec![UserId(id(&carol))])
    );
}

#[test]
fn deletion_tells_joined_users_and_ending_sessions_leave() {
    let mut w = World::new(13);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    let mut carol = w.online("carol", 1);
    let g = group_of(&alice.user, "tmp");
    assert_eq!(w.status(&mut alice, create(&g, &[("Name", "Tmp")])), 200);
    w.call(&mut alice, join(&g, "a", false));
    w.call(&mut bob, join(&g, "b", false));
    w.call(&mut carol, join(&g, "c", false));
    // carol's session ends: she is no longer joined.
    let m = carol.message(vec![(
        TransactionMode::Request,
        None,
        LogoutRequest {}.into(),
    )]);
    carol.send(&mut w.sim, m);
    let Primitive::GetJoinedUsersResponse(j) = w.call(
        &mut alice,
        GetJoinedUsersRequest {
            group_id: g.clone(),
        }
        .into(),
    ) else {
        panic!("joined users expected")
    };
    let names: Vec<String> = j
        .user_map_list
        .and_then(|l| l.user_mapping)
        .map(|m| m.mappings.into_iter().map(|m| m.sname.0).collect())
        .unwrap_or_default();
    assert_eq!(names, vec!["a".to_owned(), "b".to_owned()]);
    assert_eq!(
        w.status(
            &mut bob,
            DeleteGroupRequest {
                group_id: g.clone()
            }
            .into()
        ),
        816
    );
    assert_eq!(
        w.status(
            &mut alice,
            DeleteGroupRequest {
                group_id: g.clone()
            }
            .into()
        ),
        200
    );
    let told = w.inbox(&mut bob);
    assert!(
        told.iter()
            .any(|p| matches!(p, Primitive::LeaveGroupResponse(_))),
        "{told:?}"
    );
    assert_eq!(w.status(&mut bob, join(&g, "b", false)), 800);
    assert!(
        w.sim
            .log(0)
            .iter()
            .any(|r| matches!(Record::from_bytes(r), Ok(Record::GroupRemove(_))))
    );
}

#[test]
fn block_lists_apply_to_groups_and_screen_names() {
    let mut w = World::new(13);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    let mut carol = w.online("carol", 0);
    let mut dave = w.online("dave", 1);
    let g = group_of(&alice.user, "talk");
    assert_eq!(w.status(&mut alice, create(&g, &[("Name", "Talk")])), 200);
    w.call(&mut alice, join(&g, "Al", false));
    w.call(&mut bob, join(&g, "Bo", false));
    w.call(&mut carol, join(&g, "Ca", false));
    w.call(&mut dave, join(&g, "Da", false));
    let block = |entities: EntityList| BlockEntityRequest {
        block_list: Some(AccessList {
            in_use: Some(InUse(Some(true))),
            add_list: Some(entities),
            ..AccessList::default()
        }),
        ..BlockEntityRequest::default()
    };
    // bob blocks alice's screen name in the group; carol blocks the whole group.
    let sname = block(EntityList {
        screen_names: vec![ScreenName {
            sname: ScreenNameText("Al".into()),
            group_id: g.clone(),
        }],
        ..EntityList::default()
    });
    assert_eq!(w.status(&mut bob, sname.into()), 200);
    let whole = block(EntityList {
        group_ids: vec![g.clone()],
        ..EntityList::default()
    });
    assert_eq!(w.status(&mut carol, whole.into()), 200);
    assert_eq!(
        send_code(w.call(&mut alice, to_group(&g, None, "news"))),
        200
    );
    assert!(texts(&w.inbox(&mut bob)).is_empty(), "bob blocked Al");
    assert!(
        texts(&w.inbox(&mut carol)).is_empty(),
        "carol blocked the group"
    );
    assert_eq!(texts(&w.inbox(&mut dave)).len(), 1);
    // Others in the group still reach bob.
    assert_eq!(send_code(w.call(&mut dave, to_group(&g, None, "hi"))), 200);
    assert_eq!(
        texts(&w.inbox(&mut bob)),
        vec![("hi".to_owned(), Some("Da".to_owned()))]
    );
}

#[test]
fn an_auto_delete_group_goes_when_its_last_user_leaves() {
    let mut w = World::new(13);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    let g = group_of(&alice.user, "brief");
    let p = create(&g, &[("Name", "Brief"), ("AutoDelete", "T")]);
    assert_eq!(w.status(&mut alice, p), 200);
    w.call(&mut alice, join(&g, "a", false));
    w.call(&mut bob, join(&g, "b", false));
    let leave = LeaveGroupRequest {
        group_id: g.clone(),
    };
    assert!(matches!(
        w.call(&mut bob, leave.into()),
        Primitive::LeaveGroupResponse(_)
    ));
    assert!(matches!(
        w.call(&mut bob, join(&g, "b", false)),
        Primitive::JoinGroupResponse(_)
    ));
    // alice's session ends, then bob leaves: nobody is joined, the group is gone.
    let m = alice.message(vec![(
        TransactionMode::Request,
        None,
        LogoutRequest {}.into(),
    )]);
    alice.send(&mut w.sim, m);
    let leave = LeaveGroupRequest {
        group_id: g.clone(),
    };
    w.call(&mut bob, leave.into());
    assert_eq!(w.status(&mut bob, join(&g, "b", false)), 800);
    let removed = w
        .sim
        .log(0)
        .iter()
        .filter(|r| matches!(Record::from_bytes(r), Ok(Record::GroupRemove(_))))
        .count();
    assert_eq!(removed, 1);
}

#[test]
fn a_user_owns_a_bounded_number_of_groups() {
    let mut w = World::new(17);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    let max = imps_engine::config::AccessConfig::default().max_groups_per_user;
    for i in 0..max {
        let g = group_of(&alice.user, &format!("g{i}"));
        assert_eq!(w.status(&mut alice, create(&g, &[("Name", "G")])), 200);
    }
    let one_more = group_of(&alice.user, "more");
    assert_eq!(
        w.status(&mut alice, create(&one_more, &[("Name", "G")])),
        814
    );
    // Another user's count is their own.
    let theirs = group_of(&bob.user, "mine");
    assert_eq!(w.status(&mut bob, create(&theirs, &[("Name", "B")])), 200);
    // Deleting one makes room again.
    let first = group_of(&alice.user, "g0");
    let delete = DeleteGroupRequest { group_id: first };
    assert_eq!(w.status(&mut alice, delete.into()), 200);
    assert_eq!(
        w.status(&mut alice, create(&one_more, &[("Name", "G")])),
        200
    );
    let another = group_of(&alice.user, "x");
    assert_eq!(
        w.status(&mut alice, create(&another, &[("Name", "G")])),
        814
    );
}

/// alice (shard 0) with bob and carol (shard 1), and alice's group `name` created with
/// `props`.
fn three_and_a_group(
    seed: u64,
    name: &str,
    props: &[(&str, &str)],
) -> (World, [SimClient; 3], GroupId) {
    let mut w = World::new(seed);
    let mut alice = w.online("alice", 0);
    let bob = w.online("bob", 1);
    let carol = w.online("carol", 1);
    let g = group_of(&alice.user, name);
    assert_eq!(w.status(&mut alice, create(&g, props)), 200);
    (w, [alice, bob, carol], g)
}

fn joined_ids(r: &GetJoinedUsersResponse) -> Vec<(String, Option<String>)> {
    mapped(r.user_map_list.as_ref())
}

/// (screen name, user ID if shown) of a joined-user mapping list.
fn mapped(list: Option<&UserMapList>) -> Vec<(String, Option<String>)> {
    list.and_then(|l| l.user_mapping.as_ref())
        .map(|m| {
            m.mappings
                .iter()
                .map(|m| (m.sname.0.clone(), m.user_id.as_ref().map(|u| u.0.clone())))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn screen_names_hide_user_ids_unless_the_group_shows_them() {
    let (mut w, [mut alice, mut bob, mut carol], g) =
        three_and_a_group(19, "masks", &[("Name", "Masks")]);
    w.call(&mut bob, join(&g, "Bee", false));
    let Primitive::JoinGroupResponse(r) = w.call(&mut carol, join(&g, "Cee", false)) else {
        panic!("join response expected")
    };
    assert_eq!(
        mapped(r.user_map_list.as_ref()),
        vec![
            ("Bee".to_owned(), None),
            ("Cee".to_owned(), Some(id(&carol)))
        ],
        "another user's ID stays hidden; one's own is shown"
    );
    let get = || GetJoinedUsersRequest {
        group_id: g.clone(),
    };
    let Primitive::GetJoinedUsersResponse(r) = w.call(&mut bob, get().into()) else {
        panic!("joined users expected")
    };
    assert_eq!(
        joined_ids(&r),
        vec![("Bee".to_owned(), Some(id(&bob))), ("Cee".to_owned(), None)]
    );
    // The owner (an administrator) sees everyone's ID.
    let Primitive::GetJoinedUsersResponse(r) = w.call(&mut alice, get().into()) else {
        panic!("joined users expected")
    };
    assert_eq!(
        joined_ids(&r),
        vec![
            ("Bee".to_owned(), Some(id(&bob))),
            ("Cee".to_owned(), Some(id(&carol)))
        ]
    );
    // ShowID T: everyone sees the IDs; a value other than T/F is refused.
    let set = |v: &str| SetGroupPropsRequest {
        group_id: g.clone(),
        properties: Some(props(&[("ShowID", v)])),
        own_properties: None,
    };
    assert_ne!(w.status(&mut alice, set("maybe").into()), 200);
    assert_eq!(w.status(&mut alice, set("T").into()), 200);
    let Primitive::GetJoinedUsersResponse(r) = w.call(&mut bob, get().into()) else {
        panic!("joined users expected")
    };
    assert_eq!(
        joined_ids(&r),
        vec![
            ("Bee".to_owned(), Some(id(&bob))),
            ("Cee".to_owned(), Some(id(&carol)))
        ]
    );
}

#[test]
fn a_restricted_group_shows_its_properties_to_members_only() {
    let props = [("Name", "Inner"), ("AccessType", "Restricted")];
    let (mut w, [mut alice, mut bob, mut carol], g) = three_and_a_group(23, "inner", &props);
    let get = || GetGroupPropsRequest {
        group_id: g.clone(),
    };
    assert_eq!(w.status(&mut bob, get().into()), 810);
    let add = AddGroupMembersRequest {
        group_id: g.clone(),
        user_list: users(&[&bob]),
    };
    assert_eq!(w.status(&mut alice, add.into()), 200);
    let Primitive::GetGroupPropsResponse(r) = w.call(&mut bob, get().into()) else {
        panic!("properties expected for a member")
    };
    let name = r
        .properties
        .and_then(|p| imps_protocol::common::property(&p.properties, "Name").map(str::to_owned));
    assert_eq!(name.as_deref(), Some("Inner"));
    assert_eq!(w.status(&mut carol, get().into()), 810);
    // An open group shows its properties to anyone.
    let open = group_of(&alice.user, "outer");
    assert_eq!(
        w.status(&mut alice, create(&open, &[("Name", "Outer")])),
        200
    );
    let get_open = GetGroupPropsRequest { group_id: open };
    assert!(matches!(
        w.call(&mut carol, get_open.into()),
        Primitive::GetGroupPropsResponse(_)
    ));
}

fn delivery(g: Option<&GroupId>, method: DeliveryMethod) -> Primitive {
    SetDeliveryMethodRequest {
        delivery_method: method,
        accepted_content_length: None,
        group_id: g.cloned(),
    }
    .into()
}

#[test]
fn group_messages_are_fetched_by_notify_sessions_and_methods_are_set_per_group() {
    let (mut w, [mut alice, mut bob, mut carol], g) =
        three_and_a_group(29, "mail", &[("Name", "Mail")]);
    // Not joined yet: no method for the group.
    assert_eq!(
        w.status(&mut carol, delivery(Some(&g), DeliveryMethod::Push)),
        808
    );
    w.call(&mut alice, join(&g, "Al", false));
    w.call(&mut bob, join(&g, "Bo", false));
    w.call(&mut carol, join(&g, "Ca", false));
    // carol fetches her messages (notify/get) ...
    assert_eq!(
        w.status(&mut carol, delivery(None, DeliveryMethod::Notify)),
        200
    );
    // ... and alice, who takes pushes, wants this group's by notification.
    assert_eq!(
        w.status(&mut alice, delivery(Some(&g), DeliveryMethod::Notify)),
        200
    );
    assert_eq!(send_code(w.call(&mut bob, to_group(&g, None, "one"))), 200);
    for c in [&mut carol, &mut alice] {
        let inbox = w.inbox(c);
        let [Primitive::MessageNotification(n)] = inbox.as_slice() else {
            panic!("one notification expected, got {inbox:?}")
        };
        let mid = n.message_info.message_id.clone().expect("a MessageID");
        let list = GetMessageListRequest {
            group_id: Some(g.clone()),
            message_count: None,
        };
        let Primitive::GetMessageListResponse(l) = w.call(c, list.clone().into()) else {
            panic!("a list expected")
        };
        let ids: Vec<_> = l
            .messages
            .iter()
            .filter_map(|m| m.message_id.clone())
            .collect();
        assert_eq!(ids, vec![mid.clone()]);
        let personal = GetMessageListRequest {
            group_id: None,
            message_count: None,
        };
        let Primitive::GetMessageListResponse(l) = w.call(c, personal.into()) else {
            panic!("a list expected")
        };
        assert!(l.messages.is_empty(), "not among personal messages");
        let get = GetMessageRequest {
            message_id: mid.clone(),
        };
        let Primitive::GetMessageResponse(m) = w.call(c, get.into()) else {
            panic!("the message expected")
        };
        assert_eq!(m.content_data.as_deref(), Some("one"));
        let sender = m
            .message_info
            .sender
            .and_then(|s| s.group)
            .and_then(|g| g.screen_name)
            .map(|s| s.sname.0);
        assert_eq!(sender.as_deref(), Some("Bo"), "shown by screen name");
        let delivered = MessageDelivered {
            message_id: mid.clone(),
        };
        assert_eq!(w.status(c, delivered.clone().into()), 200);
        assert_eq!(w.status(c, delivered.into()), 426, "delivered once");
        let Primitive::GetMessageListResponse(l) = w.call(c, list.into()) else {
            panic!("a list expected")
        };
        assert!(l.messages.is_empty());
    }
    // carol now wants this group's messages pushed; a rejected one is simply gone.
    assert_eq!(
        w.status(&mut carol, delivery(Some(&g), DeliveryMethod::Push)),
        200
    );
    assert_eq!(send_code(w.call(&mut bob, to_group(&g, None, "two"))), 200);
    assert_eq!(
        texts(&w.inbox(&mut carol)),
        vec![("two".to_owned(), Some("Bo".to_owned()))]
    );
    let inbox = w.inbox(&mut alice);
    let [Primitive::MessageNotification(n)] = inbox.as_slice() else {
        panic!("one notification expected, got {inbox:?}")
    };
    let reject = RejectMessageRequest {
        message_ids: vec![n.message_info.message_id.clone().expect("id")],
    };
    assert_eq!(w.status(&mut alice, reject.into()), 200);
    // Leaving forgets the group's method and what waited.
    assert_eq!(
        send_code(w.call(&mut bob, to_group(&g, None, "three"))),
        200
    );
    let leave = LeaveGroupRequest {
        group_id: g.clone(),
    };
    assert!(matches!(
        w.call(&mut alice, leave.into()),
        Primitive::LeaveGroupResponse(_)
    ));
    let list = GetMessageListRequest {
        group_id: Some(g.clone()),
        message_count: None,
    };
    let Primitive::GetMessageListResponse(l) = w.call(&mut alice, list.into()) else {
        panic!("a list expected")
    };
    assert!(l.messages.is_empty(), "{l:?}");
}
