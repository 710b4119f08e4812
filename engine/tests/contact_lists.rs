//! Contact lists in the simulation harness: create, read, change and delete lists, the
//! default list, limits, ownership, durability before acknowledgement, and recovery.

use imps_engine::config::AccessConfig;
use imps_engine::core::LogSeq;
use imps_engine::record::Record;
use imps_engine::shard::{Reply, Request, Shard, ShardSetup};
use imps_engine::sim::{Sim, SimClient};
use imps_protocol::common::Property;
use imps_protocol::primitives::*;
use imps_protocol::types::{ContactListId, UserId};
use imps_protocol::{Primitive, Version};

fn sim(config: AccessConfig) -> (Sim, SimClient) {
    let mut sim = Sim::new(2, config, 11);
    for u in ["alice", "bob", "carol"] {
        assert!(sim.add_user(u, "pw"));
    }
    let mut alice = SimClient::new("alice", Version::V1_2);
    alice.login(&mut sim, "pw").expect("login");
    (sim, alice)
}

fn code(p: Option<Primitive>) -> u32 {
    match p {
        Some(Primitive::Status(s)) => s.result.code,
        Some(Primitive::ListManageResponse(r)) => r.result.code,
        other => panic!("unexpected {other:?}"),
    }
}

fn create(id: &str, members: &[(&str, Option<&str>)], props: &[(&str, &str)]) -> Primitive {
    let mut nick_list = NickList::default();
    for (user, nick) in members {
        match nick {
            Some(n) => nick_list.nick_names.push(NickName {
                name: (*n).into(),
                user_id: UserId((*user).into()),
            }),
            None => nick_list.user_ids.push(UserId((*user).into())),
        }
    }
    CreateListRequest {
        contact_list: ContactListId(id.into()),
        nick_list: Some(nick_list),
        properties: Some(ContactListProperties {
            properties: props
                .iter()
                .map(|(k, v)| Property {
                    name: (*k).into(),
                    value: Some((*v).into()),
                })
                .collect(),
        }),
    }
    .into()
}

fn get_list(sim: &mut Sim, c: &mut SimClient) -> GetListResponse {
    match c.call(sim, GetListRequest {}.into()) {
        Some(Primitive::GetListResponse(r)) => *r,
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn create_read_change_delete() {
    let (mut sim, mut alice) = sim(AccessConfig::default());
    assert!(get_list(&mut sim, &mut alice).contact_lists.is_empty());
    let friends = "wv:alice/friends@imps.local";
    let made = alice.call(
        &mut sim,
        create(
            friends,
            &[("bob", Some("Bobby")), ("wv:Carol@imps.local", None)],
            &[("DisplayName", "Friends")],
        ),
    );
    assert_eq!(code(made), 200);
    // The first list is the default one.
    let lists = get_list(&mut sim, &mut alice);
    assert_eq!(lists.contact_lists, vec![ContactListId(friends.into())]);
    assert_eq!(
        lists.default_contact_list,
        Some(ContactListId(friends.into()))
    );
    // Duplicate (any spelling): 701.
    let again = alice.call(&mut sim, create("WV:Alice/Friends", &[], &[]));
    assert_eq!(code(again), 701);
    // A second list made the default.
    let work = "wv:alice/work@imps.local";
    assert_eq!(
        code(alice.call(&mut sim, create(work, &[], &[("Default", "T")]))),
        200
    );
    let lists = get_list(&mut sim, &mut alice);
    assert_eq!(lists.default_contact_list, Some(ContactListId(work.into())));
    // ListManage: add, remove, read back.
    let manage = ListManageRequest {
        contact_list: ContactListId(friends.into()),
        add_nick_list: Some(NickList {
            nick_names: vec![NickName {
                name: "Dee".into(),
                user_id: UserId("dave@imps.local".into()),
            }],
            user_ids: vec![],
        }),
        remove_nick_list: Some(RemoveNickList {
            user_ids: vec![UserId("carol".into())],
        }),
        properties: None,
        receive_list: Some(true),
    };
    let Some(Primitive::ListManageResponse(r)) = alice.call(&mut sim, manage.into()) else {
        panic!("no answer")
    };
    assert_eq!(r.result.code, 200);
    let nicks = r.nick_list.expect("list returned");
    let names: Vec<_> = nicks.nick_names.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["Bobby", "Dee"]);
    assert!(nicks.user_ids.is_empty(), "carol removed");
    let props = r.properties.expect("properties");
    assert!(
        props
            .properties
            .iter()
            .any(|p| p.name == "DisplayName" && p.value.as_deref() == Some("Friends"))
    );
    // Delete: then 700 for it.
    let del = DeleteListRequest {
        contact_list: ContactListId(friends.into()),
    };
    assert_eq!(code(alice.call(&mut sim, del.clone().into())), 200);
    assert_eq!(code(alice.call(&mut sim, del.into())), 700);
    let missing = ListManageRequest {
        contact_list: ContactListId(friends.into()),
        ..Default::default()
    };
    assert_eq!(code(alice.call(&mut sim, missing.into())), 700);
}

#[test]
fn limits_and_ownership() {
    let config = AccessConfig {
        max_contact_lists: 2,
        max_contacts_per_list: 2,
        ..AccessConfig::default()
    };
    let (mut sim, mut alice) = sim(config);
    assert_eq!(
        code(alice.call(&mut sim, create("wv:alice/a", &[], &[]))),
        200
    );
    assert_eq!(
        code(alice.call(&mut sim, create("wv:alice/b", &[], &[]))),
        200
    );
    assert_eq!(
        code(alice.call(&mut sim, create("wv:alice/c", &[], &[]))),
        753
    );
    let three = [("bob", None), ("carol", None), ("dave", None)];
    assert_eq!(
        code(alice.call(&mut sim, create("wv:alice/a2", &three, &[]))),
        753
    );
    let add = ListManageRequest {
        contact_list: ContactListId("wv:alice/a".into()),
        add_nick_list: Some(NickList {
            nick_names: vec![],
            user_ids: three.iter().map(|(u, _)| UserId((*u).into())).collect(),
        }),
        ..Default::default()
    };
    assert_eq!(code(alice.call(&mut sim, add.into())), 754);
    // Nobody touches another user's lists.
    let mut bob = SimClient::new("bob", Version::V1_2);
    bob.login(&mut sim, "pw").unwrap();
    assert_eq!(
        code(bob.call(&mut sim, create("wv:alice/evil", &[], &[]))),
        402
    );
    let del = DeleteListRequest {
        contact_list: ContactListId("wv:alice/a".into()),
    };
    assert_eq!(code(bob.call(&mut sim, del.into())), 700);
    assert_eq!(get_list(&mut sim, &mut alice).contact_lists.len(), 2);
    // A bad property value: 752.
    let bad = ListManageRequest {
        contact_list: ContactListId("wv:alice/a".into()),
        properties: Some(ContactListProperties {
            properties: vec![Property {
                name: "Default".into(),
                value: Some("maybe".into()),
            }],
        }),
        ..Default::default()
    };
    assert_eq!(code(alice.call(&mut sim, bad.into())), 752);
}

#[test]
fn acknowledged_only_when_durable_and_recovered_from_the_log() {
    let (mut sim, mut alice) = sim(AccessConfig::default());
    sim.set_auto_durable(false);
    let shard =
        imps_engine::access::session_id::parse_session_id(alice.session.as_ref().unwrap().as_str())
            .unwrap()
            .0;
    let message = alice.message(vec![(
        imps_protocol::TransactionMode::Request,
        None,
        create("wv:alice/friends", &[("bob", Some("B"))], &[]),
    )]);
    let token = sim.submit(Request::csp(message));
    assert!(
        sim.take_reply(token).is_none(),
        "held until the record is on disk"
    );
    sim.make_durable();
    assert!(matches!(sim.take_reply(token), Some(Reply::Csp(Some(_)))));
    sim.set_auto_durable(true);

    // Replay the shard's log into a fresh shard: the account and the list come back.
    let mut fresh = Shard::new(ShardSetup {
        id: shard,
        shards: 2,
        config: AccessConfig::default(),
        master_key: [0x5A; 32],
        seed: [2; 32],
        next_seq: LogSeq(1),
    });
    for bytes in sim.log(shard) {
        fresh.apply(Record::from_bytes(bytes).expect("record"));
    }
    let image = fresh.image();
    let (owner, list) = &image.contact_lists[0];
    assert_eq!(owner, "wv:alice@imps.local");
    assert_eq!(list.contacts[0].nick.as_deref(), Some("B"));
    // And through a snapshot image too.
    let mut restored = Shard::new(ShardSetup {
        id: shard,
        shards: 2,
        config: AccessConfig::default(),
        master_key: [0x5A; 32],
        seed: [3; 32],
        next_seq: LogSeq(1),
    });
    restored.restore(image.clone());
    assert_eq!(restored.image(), image);
}

#[test]
fn attribute_lists_for_users_lists_and_default() {
    let (mut sim, mut alice) = sim(AccessConfig::default());
    let friends = "wv:alice/friends@imps.local";
    assert_eq!(
        code(alice.call(&mut sim, create(friends, &[("bob", None)], &[]))),
        200
    );
    let attrs = PresenceSubList::naming(["OnlineStatus", "StatusText", "VendorMood"]);
    let made = CreateAttributeListRequest {
        sub_list: attrs.clone(),
        user_ids: vec![UserId("bob".into())],
        contact_lists: vec![ContactListId(friends.into())],
        default_list: Some(true),
    };
    assert_eq!(code(alice.call(&mut sim, made.into())), 200);
    // A list that is not hers: 700.
    let foreign = CreateAttributeListRequest {
        sub_list: attrs.clone(),
        user_ids: vec![],
        contact_lists: vec![ContactListId("wv:bob/friends@imps.local".into())],
        default_list: None,
    };
    assert_eq!(code(alice.call(&mut sim, foreign.into())), 700);
    let get = |sim: &mut Sim, alice: &mut SimClient, users: Vec<UserId>| {
        let req = GetAttributeListRequest {
            default_list: Some(true),
            contact_lists: vec![],
            users: vec![],
            user_ids: users,
        };
        match alice.call(sim, req.into()) {
            Some(Primitive::GetAttributeListResponse(r)) => *r,
            other => panic!("unexpected {other:?}"),
        }
    };
    let all = get(&mut sim, &mut alice, vec![]);
    assert_eq!(all.result.code, 200);
    let default = all.default_attribute_list.expect("default list");
    assert_eq!(
        default.sub_lists[0].names(),
        ["OnlineStatus", "StatusText", "VendorMood"]
    );
    assert_eq!(all.presences.len(), 2, "bob and the friends list");
    assert!(all.presences.iter().any(|p| p.contact_list.is_some()));
    let carol = get(&mut sim, &mut alice, vec![UserId("carol".into())]);
    assert!(carol.presences.is_empty());
    let del = DeleteAttributeListRequest {
        user_ids: vec![UserId("wv:bob@imps.local".into())],
        contact_lists: vec![],
        default_list: None,
    };
    assert_eq!(code(alice.call(&mut sim, del.into())), 200);
    let after = get(&mut sim, &mut alice, vec![]);
    assert_eq!(after.presences.len(), 1);
    assert!(after.presences[0].contact_list.is_some());
    // Stored durably: the log replays into the same lists.
    let shard =
        imps_engine::access::session_id::parse_session_id(alice.session.as_ref().unwrap().as_str())
            .unwrap()
            .0;
    let mut fresh = Shard::new(ShardSetup {
        id: shard,
        shards: 2,
        config: AccessConfig::default(),
        master_key: [0x5A; 32],
        seed: [4; 32],
        next_seq: LogSeq(1),
    });
    for bytes in sim.log(shard) {
        fresh.apply(Record::from_bytes(bytes).expect("record"));
    }
    let image = fresh.image();
    assert_eq!(
        image.attribute_lists.len(),
        2,
        "{:?}",
        image.attribute_lists
    );
}
