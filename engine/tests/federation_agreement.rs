//! The service agreement across in-memory domains (the network is in `federation_net`):
//! features not agreed refused with 506 on both sides, a peer without the extension (as
//! Baraza), and the agreement's own bookkeeping (its timer, its queue records).

mod federation_net;

use federation_net::{
    GROUP, Net, config, last_result, notices, pair, posts_with, request, requests, send_results,
    services_pair, subscribe, take,
};
use imps_engine::federation::{
    GroupJoin, InvitationAnswer, QueueChange, RemoteRequest, TransmitKind,
};
use imps_protocol::StatusCode;
use imps_protocol::ssp::extension::{FeatureGroup, Features};

#[test]
fn a_feature_not_agreed_is_refused_506_on_both_sides() {
    let mut cb = config("b.test", &["a.test"], &[]);
    cb.offered = Features::groups([
        FeatureGroup::Fundamental,
        FeatureGroup::Presence,
        FeatureGroup::Im,
    ]);
    let mut net = Net::new(vec![
        (config("a.test", &["b.test"], &[]), &["wv:alice@a.test"][..]),
        (cb, &["wv:bob@b.test"][..]),
    ]);
    let join = RemoteRequest::JoinGroup(GroupJoin {
        user: "wv:alice@a.test".into(),
        group: GROUP.into(),
        ..GroupJoin::default()
    });
    // Queued before the agreement: failed with 506 once it is known, never sent.
    request(&mut net, "a.test", join.clone()).expect("queued before the agreement");
    net.settle();
    assert_eq!(last_result(&net, "a.test").0, 506);
    assert!(requests(&net.nodes[1]).is_empty());
    let agreed = net.nodes[0].fed.agreed_features("b.test").expect("agreed");
    assert!(!agreed.contains(&FeatureGroup::Group));
    assert!(agreed.contains(&FeatureGroup::Im));
    // After the agreement: refused at once.
    assert_eq!(
        request(&mut net, "a.test", join),
        Err(StatusCode::ServiceNotAgreed)
    );
    // A peer that sends it anyway gets 506 from b.
    net.nodes[0].hold = true;
    let tid = net.send("a.test", "wv:alice", "wv:bob@b.test", false);
    let t = take(&mut net, "a.test", TransmitKind::Request);
    let xml = String::from_utf8(t.body.clone()).expect("utf-8");
    let start = xml.find("<SendMessageRequest").expect("request");
    let end = xml.find("</SendMessageRequest>").expect("end") + "</SendMessageRequest>".len();
    let forged = format!(
        "{}<JoinGroupRequest groupID=\"{GROUP}\"><MetaInfo clientOriginated=\"Yes\">\
         <Requestor serviceID=\"wv:@a.test\"><User userID=\"wv:alice@a.test\"/></Requestor>\
         </MetaInfo></JoinGroupRequest>{}",
        &xml[..start],
        &xml[end..]
    );
    let now = net.now;
    net.nodes[1]
        .fed
        .handle_incoming(now, None, forged.as_bytes())
        .expect("accepted");
    net.nodes[0].fed.handle_ack(now, "b.test", &tid);
    net.nodes[0].hold = false;
    net.settle();
    assert!(requests(&net.nodes[1]).is_empty());
    assert_eq!(send_results(&net.nodes[0]), vec![506]);
}

/// `xml` with the element `name` (first occurrence, start to end tag) replaced by `by`.
fn replace_element(xml: &str, name: &str, by: &str) -> String {
    let (Some(start), Some(end)) = (
        xml.find(&format!("<{name}")),
        xml.find(&format!("</{name}>")),
    ) else {
        return xml.to_owned();
    };
    let end = end + name.len() + 3;
    format!("{}{by}{}", &xml[..start], &xml[end..])
}

/// A peer without the agreement extension, as Baraza: its own offer is an element we do not
/// know, and it answers ours with 405.
fn like_baraza(xml: &str) -> String {
    let xml = replace_element(xml, "ServiceRequest", "<FeatureProbeRequest/>");
    replace_element(&xml, "ServiceResponse", "<Status code=\"405\"/>")
}

#[test]
fn a_peer_without_the_agreement_extension_gets_what_we_offer() {
    let mut net = services_pair();
    net.nodes[1].rewrite = Some(like_baraza);
    request(
        &mut net,
        "a.test",
        subscribe("wv:alice@a.test", "wv:bob@b.test"),
    )
    .expect("queued");
    net.settle();
    assert_eq!(last_result(&net, "a.test").0, 200);
    assert_eq!(net.nodes[0].fed.agreed_features("b.test"), None);
    // b itself knows the extension and took a's offer; a answered b's probe 405.
    assert!(net.nodes[1].fed.agreed_features("a.test").is_some());
    assert!(
        posts_with(&net, "b.test", "FeatureProbeRequest") > 0,
        "the rewrite took place"
    );
    assert!(
        posts_with(&net, "a.test", "code=\"405\"") > 0,
        "a refused the probe"
    );
    // Both directions keep working with each side's own offer.
    let answer = InvitationAnswer {
        invite_id: "inv-1".into(),
        inviting: "wv:alice@a.test".into(),
        responding: "wv:bob@b.test".into(),
        accepted: false,
        note: None,
    };
    request(
        &mut net,
        "b.test",
        RemoteRequest::InviteAnswer(answer.clone()),
    )
    .expect("queued");
    net.settle();
    assert_eq!(
        notices(&net.nodes[0]),
        vec![RemoteRequest::InviteAnswer(answer)]
    );
}

/// Items queued while our `ServiceRequest` waits for its answer are not due: after
/// `handle_timeout` the next timeout lies ahead (a runtime waiting for it would spin).
#[test]
fn items_waiting_for_the_agreement_do_not_keep_the_timer_due() {
    let mut net = pair();
    net.nodes[0].hold = true;
    net.nodes[1].hold = true;
    net.send("a.test", "wv:alice", "wv:bob@b.test", false);
    // Move the POSTs by hand until a's ServiceRequest reached b; b's answer stays held.
    let mut asked = false;
    for _ in 0..100 {
        let mut moved = false;
        for i in 0..2 {
            let Some(t) = net.nodes[i].fed.poll_transmit() else {
                continue;
            };
            moved = true;
            let service_request = i == 0
                && t.kind == TransmitKind::Request
                && String::from_utf8_lossy(&t.body).contains("ServiceRequest");
            net.deliver(i, &t);
            if service_request {
                asked = true;
                break;
            }
        }
        if asked || !moved {
            break;
        }
    }
    assert!(asked, "a sent its ServiceRequest");
    let now = net.now;
    assert!(net.nodes[0].fed.is_live(now, "b.test"));
    assert_eq!(net.nodes[0].fed.queued("b.test"), 1, "the message waits");
    net.nodes[0].fed.handle_timeout(now);
    let next = net.nodes[0].fed.next_timeout(now);
    assert!(next.is_none_or(|t| t > now), "due again at once: {next:?}");
    net.nodes[0].hold = false;
    net.nodes[1].hold = false;
    net.settle();
    assert_eq!(send_results(&net.nodes[0]), vec![200]);
}

/// The agreement request is session-scoped: even answered before its POST is acknowledged,
/// it never shows in the queue changes a durable log keeps.
#[test]
fn the_agreement_request_never_shows_in_the_queue_changes() {
    let mut net = pair();
    net.nodes[0].hold = true;
    net.nodes[1].hold = true;
    net.send("a.test", "wv:alice", "wv:bob@b.test", false);
    let mut asked = None;
    for _ in 0..100 {
        let mut moved = false;
        for i in 0..2 {
            let Some(t) = net.nodes[i].fed.poll_transmit() else {
                continue;
            };
            moved = true;
            if i == 0
                && t.kind == TransmitKind::Request
                && String::from_utf8_lossy(&t.body).contains("ServiceRequest")
            {
                asked = Some(t);
                break;
            }
            net.deliver(i, &t);
        }
        if asked.is_some() || !moved {
            break;
        }
    }
    let t = asked.expect("a sent its ServiceRequest");
    let now = net.now;
    net.nodes[1]
        .fed
        .handle_incoming(now, None, &t.body)
        .expect("b takes it");
    // b's answer reaches a before a learns that its POST was accepted.
    let answer = take(&mut net, "b.test", TransmitKind::Response);
    net.nodes[0]
        .fed
        .handle_incoming(now, None, &answer.body)
        .expect("a takes the answer");
    net.nodes[0]
        .fed
        .handle_ack(now, &t.peer_domain, &t.transaction_id);
    net.nodes[0].hold = false;
    net.nodes[1].hold = false;
    net.settle();
    assert_eq!(send_results(&net.nodes[0]), vec![200]);
    let named: Vec<&str> = net.nodes[0]
        .changes
        .iter()
        .map(|c| match c {
            QueueChange::Enqueued(item) => item.transaction_id(),
            QueueChange::Removed { transaction_id, .. } => transaction_id.as_str(),
        })
        .collect();
    assert!(!named.is_empty(), "the message was logged");
    assert!(
        !named.contains(&t.transaction_id.as_str()),
        "agreement {} in {named:?}",
        t.transaction_id
    );
}
