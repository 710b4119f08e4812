//! Search in the simulation harness (two shards): users by every profile field with
//! partial, case-insensitive matches from both shards, combined pairs, paging with SearchID
//! and SearchIndex, StopSearch, the refusals (424, 425, 536, 537, 402), online status only
//! where the searcher may see it, searchable groups only (by ID, name, topic, owner and
//! joined user), and the index following profile changes, removals and group changes.

mod common;

use common::{DOMAIN, World, group_of, name_on};
use imps_engine::record::Profile;
use imps_engine::search::find::MAX_HITS;
use imps_engine::shard::{Admin, AdminDone, Reply, Request};
use imps_engine::sim::SimClient;
use imps_protocol::common::{Property, ScreenName};
use imps_protocol::primitives::*;
use imps_protocol::types::{GroupId, ScreenNameText, SearchId, UserId};
use imps_protocol::{Primitive, Version};

fn wv(name: &str) -> String {
    format!("wv:{name}@{DOMAIN}")
}

fn profile(first: &str, last: &str, email: &str, alias: &str, mobile: &str) -> Profile {
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    Profile {
        first_name: some(first),
        last_name: some(last),
        email: some(email),
        alias: some(alias),
        mobile: some(mobile),
    }
}

impl World {
    /// Creates (or replaces) an account with a profile; returns its name.
    fn put(&mut self, name: &str, p: Profile) -> String {
        let reply = self.sim.call(Request::Admin(Admin::PutUser {
            user: name.into(),
            password: "pw".into(),
            profile: p,
        }));
        assert!(
            matches!(reply, Some(Reply::Admin(Ok(AdminDone::UserPut)))),
            "{reply:?}"
        );
        name.to_owned()
    }

    /// A new user on `shard` with profile `p`.
    fn user_on(&mut self, base: &str, shard: u16, p: Profile) -> String {
        let name = name_on(base, shard);
        self.put(&name, p)
    }

    fn login(&mut self, name: &str) -> SimClient {
        let mut c = SimClient::new(name, Version::V1_2);
        c.login(&mut self.sim, "pw").expect("login");
        c
    }

    fn search(&mut self, c: &mut SimClient, pairs: &[(SearchElement, &str)]) -> Primitive {
        self.call(c, first(pairs, None))
    }

    /// The IDs a one-page search finds.
    fn found(&mut self, c: &mut SimClient, pairs: &[(SearchElement, &str)]) -> Vec<String> {
        let r = response(self.search(c, pairs));
        assert!(r.completion_flag, "one page");
        ids(&r)
    }
}

fn first(pairs: &[(SearchElement, &str)], limit: Option<u32>) -> Primitive {
    SearchRequest {
        pairs: pairs
            .iter()
            .map(|(element, s)| SearchPair {
                element: element.clone(),
                string: (*s).into(),
            })
            .collect(),
        limit,
        search_id: None,
        index: None,
    }
    .into()
}

fn next(id: &SearchId, index: u32) -> Primitive {
    SearchRequest {
        pairs: vec![],
        limit: None,
        search_id: Some(id.clone()),
        index: Some(index),
    }
    .into()
}

fn response(p: Primitive) -> SearchResponse {
    match p {
        Primitive::SearchResponse(r) => *r,
        other => panic!("a Search-Response expected, got {other:?}"),
    }
}

fn code(p: &Primitive) -> u32 {
    match p {
        Primitive::Status(s) => s.result.code,
        other => panic!("a Status expected, got {other:?}"),
    }
}

/// The user or group IDs of a page.
fn ids(r: &SearchResponse) -> Vec<String> {
    let Some(result) = &r.result else {
        return Vec::new();
    };
    let users = result
        .user_list
        .iter()
        .flat_map(|l| l.user_ids.iter().map(|u| u.0.clone()));
    let groups = result
        .group_list
        .iter()
        .flat_map(|l| l.group_ids.iter().map(|g| g.0.clone()));
    users.chain(groups).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

use SearchElement as E;

#[test]
fn users_are_found_by_every_field_from_both_shards() {
    let mut w = World::new(21);
    let anna = w.user_on(
        "anna",
        0,
        profile(
            "Anna-Liisa",
            "Virtanen",
            "anna.v@example.com",
            "Annie",
            "+358 40 111",
        ),
    );
    let annika = w.user_on(
        "annika",
        1,
        profile(
            "Annika",
            "Korhonen",
            "ak@example.org",
            "Nika",
            "+358 50 222",
        ),
    );
    let bob = w.user_on("bob", 1, profile("Bob", "Virta", "bob@example.com", "", ""));
    let mut me = w.login(&bob);
    assert_eq!(
        sorted(w.found(&mut me, &[(E::UserFirstName, "ANN")])),
        sorted(vec![wv(&anna), wv(&annika)]),
        "a prefix, case-insensitive, on both shards"
    );
    assert_eq!(
        w.found(&mut me, &[(E::UserFirstName, "liisa")]),
        vec![wv(&anna)]
    );
    assert_eq!(
        w.found(&mut me, &[(E::UserFirstName, "nna")]),
        Vec::<String>::new(),
        "matches start at a word"
    );
    assert_eq!(
        sorted(w.found(&mut me, &[(E::UserLastName, "virt")])),
        sorted(vec![wv(&anna), wv(&bob)])
    );
    assert_eq!(
        w.found(&mut me, &[(E::UserEmailAddress, "ak@")]),
        vec![wv(&annika)]
    );
    assert_eq!(
        w.found(&mut me, &[(E::UserEmailAddress, "example")]),
        Vec::<String>::new(),
        "the domain of an address does not start a match"
    );
    assert_eq!(
        w.found(&mut me, &[(E::UserAlias, "nik")]),
        vec![wv(&annika)]
    );
    assert_eq!(
        w.found(&mut me, &[(E::UserMobileNumber, "35850")]),
        vec![wv(&annika)]
    );
    assert_eq!(
        w.found(&mut me, &[(E::UserId, &wv(&anna))]),
        vec![wv(&anna)]
    );
    assert_eq!(
        w.found(&mut me, &[(E::UserId, "annik*")]),
        vec![wv(&annika)]
    );
    // Pairs combine: every one must match.
    assert_eq!(
        w.found(
            &mut me,
            &[(E::UserFirstName, "ann"), (E::UserLastName, "kor")]
        ),
        vec![wv(&annika)]
    );
    assert!(
        w.found(
            &mut me,
            &[(E::UserFirstName, "bob"), (E::UserLastName, "kor")]
        )
        .is_empty()
    );
}

#[test]
fn results_come_in_pages_until_stopped() {
    let mut w = World::new(21);
    let mut names = Vec::new();
    for i in 0..7u16 {
        let name = w.user_on(&format!("pager{i}x"), i % 2, profile("Pat", "", "", "", ""));
        names.push(wv(&name));
    }
    let me = w.user_on("me", 0, Profile::default());
    let mut me = w.login(&me);
    let r = response(w.call(&mut me, first(&[(E::UserFirstName, "pat")], Some(3))));
    assert_eq!((r.findings, r.index, r.completion_flag), (7, 3, false));
    let id = r.search_id.clone().expect("a SearchID");
    let mut seen = ids(&r);
    let r = response(w.call(&mut me, next(&id, 3)));
    assert_eq!((r.findings, r.index, r.completion_flag), (7, 6, false));
    seen.extend(ids(&r));
    let r = response(w.call(&mut me, next(&id, 6)));
    assert_eq!((r.index, r.completion_flag), (7, true));
    seen.extend(ids(&r));
    assert_eq!(seen, sorted(names), "every result once, in order");
    // An earlier page again; then bad indexes and IDs.
    let again = response(w.call(&mut me, next(&id, 0)));
    assert_eq!(ids(&again).len(), 3);
    assert_eq!(code(&w.call(&mut me, next(&id, 7))), 425);
    assert_eq!(code(&w.call(&mut me, next(&id, 99))), 425);
    assert_eq!(
        code(&w.call(&mut me, next(&SearchId("nope".into()), 0))),
        424
    );
    // Another session of the same user does not see this search.
    let mut other = SimClient::new(&me.user, Version::V1_2).with_client("http://other/");
    other.login(&mut w.sim, "pw").expect("login");
    assert_eq!(code(&w.call(&mut other, next(&id, 0))), 424);
    // StopSearch ends it.
    let stop = StopSearchRequest {
        search_id: id.clone(),
    };
    assert_eq!(code(&w.call(&mut me, stop.clone().into())), 200);
    assert_eq!(code(&w.call(&mut me, next(&id, 3))), 424);
    assert_eq!(code(&w.call(&mut me, stop.into())), 424);
}

#[test]
fn broad_or_malformed_searches_are_refused() {
    let mut w = World::new(21);
    let me = w.user_on("me", 1, Profile::default());
    let mut me = w.login(&me);
    let mut s = |w: &mut World, pairs: &[(E, &str)]| code(&w.search(&mut me, pairs));
    assert_eq!(s(&mut w, &[(E::UserFirstName, "a")]), 537);
    assert_eq!(s(&mut w, &[(E::UserAlias, " * ")]), 537);
    assert_eq!(s(&mut w, &[]), 537);
    assert_eq!(
        s(&mut w, &[(E::UserOnlineStatus, "T")]),
        537,
        "everyone online"
    );
    assert_eq!(
        s(&mut w, &[(E::UserAlias, "ab"), (E::GroupName, "cd")]),
        402
    );
    assert_eq!(
        s(&mut w, &[(E::UserAlias, "ab"), (E::UserOnlineStatus, "X")]),
        402
    );
    assert_eq!(s(&mut w, &[(E::GroupUserIdAutojoin, "me")]), 402);
}

#[test]
fn too_many_hits_is_536() {
    let mut w = World::new(21);
    for i in 0..=MAX_HITS {
        w.put(&format!("crowd{i}"), profile("Crowd", "", "", "", ""));
    }
    let me = w.user_on("me", 0, Profile::default());
    let mut me = w.login(&me);
    assert_eq!(
        code(&w.search(&mut me, &[(E::UserFirstName, "crowd")])),
        536
    );
    // Narrowed down, the same users are found.
    let r = response(w.search(&mut me, &[(E::UserId, "crowd99")]));
    assert_eq!(r.findings, 11, "crowd99 and crowd990..crowd999");
}

#[test]
fn online_status_is_searched_only_where_the_searcher_may_see_it() {
    let mut w = World::new(21);
    let bob = w.user_on("bob", 1, profile("", "", "", "Bobby", ""));
    let carol = w.user_on("carol", 0, profile("", "", "", "Bobcat", ""));
    let alice = w.user_on("alice", 0, Profile::default());
    let mut alice = w.login(&alice);
    let mut bob_c = w.login(&bob);
    let online = [(E::UserAlias, "bob"), (E::UserOnlineStatus, "T")];
    let offline = [(E::UserAlias, "bob"), (E::UserOnlineStatus, "F")];
    // Nobody lets alice see their online status: found by neither value.
    assert!(w.found(&mut alice, &online).is_empty());
    assert!(w.found(&mut alice, &offline).is_empty());
    assert_eq!(w.found(&mut alice, &[(E::UserAlias, "bob")]).len(), 2);
    // bob grants alice (reactively): his status is now searchable for her.
    let grant = PresenceAuthUser {
        user_id: UserId(wv(&alice.user)),
        acceptance: true,
        sub_list: None,
    };
    assert_eq!(code(&w.call(&mut bob_c, grant.into())), 200);
    assert_eq!(w.found(&mut alice, &online), vec![wv(&bob)]);
    assert!(w.found(&mut alice, &offline).is_empty());
    // bob logs out: offline now.
    assert!(matches!(
        w.call(&mut bob_c, LogoutRequest {}.into()),
        Primitive::Disconnect(_)
    ));
    assert!(w.found(&mut alice, &online).is_empty());
    assert_eq!(w.found(&mut alice, &offline), vec![wv(&bob)]);
    // carol never granted anything: never found through her status.
    assert!(!w.found(&mut alice, &offline).contains(&wv(&carol)));
}

#[test]
fn the_index_follows_profile_changes_and_removals() {
    let mut w = World::new(21);
    let dora = w.user_on("dora", 1, profile("Dora", "Explorer", "", "", ""));
    let me = w.user_on("me", 0, Profile::default());
    let mut me = w.login(&me);
    assert_eq!(
        w.found(&mut me, &[(E::UserLastName, "expl")]),
        vec![wv(&dora)]
    );
    w.put(&dora, profile("Dora", "Navigator", "", "", ""));
    assert!(w.found(&mut me, &[(E::UserLastName, "expl")]).is_empty());
    assert_eq!(
        w.found(&mut me, &[(E::UserLastName, "navi")]),
        vec![wv(&dora)]
    );
    let removed = w
        .sim
        .call(Request::Admin(Admin::RemoveUser { user: dora.clone() }));
    assert!(matches!(
        removed,
        Some(Reply::Admin(Ok(AdminDone::UserRemoved)))
    ));
    assert!(w.found(&mut me, &[(E::UserLastName, "navi")]).is_empty());
    assert!(w.found(&mut me, &[(E::UserId, "dora")]).is_empty());
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
        welcome_note: None,
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

#[test]
fn only_searchable_groups_are_found() {
    let mut w = World::new(21);
    let olga = w.user_on("olga", 0, Profile::default());
    let mut olga = w.login(&olga);
    let pete = w.user_on("pete", 1, Profile::default());
    let mut pete = w.login(&pete);
    let nina = w.user_on("nina", 1, Profile::default());
    let mut nina = w.login(&nina);
    let pete_name = pete.user.clone();
    // On both shards: olga's groups live on hers, nina's on hers.
    let chess = group_of(&olga.user, "chess");
    let chess2 = group_of(&nina.user, "chess");
    let hidden = group_of(&nina.user, "secret");
    let pairs = [
        ("Name", "Chess Club"),
        ("Topic", "Sicilian openings"),
        ("Searchable", "T"),
    ];
    assert_eq!(code(&w.call(&mut olga, create(&chess, &pairs))), 200);
    let pairs2 = [
        ("Name", "Chess Juniors"),
        ("Topic", "Endgames"),
        ("Searchable", "T"),
    ];
    assert_eq!(code(&w.call(&mut nina, create(&chess2, &pairs2))), 200);
    let hidden_props = [("Name", "Chess Secret"), ("Searchable", "F")];
    assert_eq!(
        code(&w.call(&mut nina, create(&hidden, &hidden_props))),
        200
    );
    let both = sorted(vec![chess.0.clone(), chess2.0.clone()]);
    assert_eq!(sorted(w.found(&mut pete, &[(E::GroupName, "chess")])), both);
    assert_eq!(
        w.found(&mut pete, &[(E::GroupName, "juni")]),
        vec![chess2.0.clone()]
    );
    assert_eq!(
        w.found(&mut pete, &[(E::GroupTopic, "SICIL")]),
        vec![chess.0.clone()]
    );
    assert_eq!(
        w.found(&mut pete, &[(E::GroupId, "secret")]),
        Vec::<String>::new()
    );
    let olga_name = olga.user.clone();
    let by_owner = w.found(&mut pete, &[(E::GroupUserIdOwner, &olga_name)]);
    assert_eq!(by_owner, vec![chess.0.clone()], "owner, by a bare user ID");
    let nina_name = nina.user.clone();
    assert_eq!(
        w.found(&mut pete, &[(E::GroupUserIdOwner, &nina_name)]),
        vec![chess2.0.clone()],
        "the hidden one is not listed"
    );
    assert!(
        w.found(&mut pete, &[(E::GroupUserIdOwner, &pete_name)])
            .is_empty()
    );
    assert_eq!(
        w.found(
            &mut pete,
            &[(E::GroupName, "chess"), (E::GroupTopic, "endg")]
        ),
        vec![chess2.0.clone()]
    );
    // Joined users: pete joins the first club.
    let join = JoinGroupRequest {
        group_id: chess.clone(),
        screen_name: Some(ScreenName {
            sname: ScreenNameText("p".into()),
            group_id: chess.clone(),
        }),
        joined_request: None,
        subscribe_notification: None,
        own_properties: None,
    };
    assert!(matches!(
        w.call(&mut pete, join.into()),
        Primitive::JoinGroupResponse(_)
    ));
    let joined = [(E::GroupUserIdJoined, wv(&pete.user))];
    let joined: Vec<(E, &str)> = joined
        .iter()
        .map(|(e, s)| (e.clone(), s.as_str()))
        .collect();
    assert_eq!(w.found(&mut olga, &joined), vec![chess.0.clone()]);
    // No longer searchable: gone from every index; deleted: gone.
    let set = SetGroupPropsRequest {
        group_id: chess2.clone(),
        properties: Some(props(&[("Searchable", "F")])),
        own_properties: None,
    };
    assert_eq!(code(&w.call(&mut nina, set.into())), 200);
    assert_eq!(
        w.found(&mut pete, &[(E::GroupName, "chess")]),
        vec![chess.0.clone()]
    );
    let delete = DeleteGroupRequest {
        group_id: chess.clone(),
    };
    assert_eq!(code(&w.call(&mut olga, delete.into())), 200);
    assert!(w.found(&mut pete, &[(E::GroupName, "chess")]).is_empty());
    assert!(w.found(&mut olga, &joined).is_empty());
}
