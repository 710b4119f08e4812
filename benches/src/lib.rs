//! Fixtures for the benches: compact CSP 1.2 messages shaped like real mobile traffic.
//!
//! Kept in a library so that a test can check they decode to what the benches claim to
//! measure.

#![warn(missing_docs, unreachable_pub)]

/// This process's resident set size, bytes (0 when unknown).
pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

const CSP: &str = "http://www.openmobilealliance.org/DTD/WV-CSP1.2";
const TRC: &str = "http://www.openmobilealliance.org/DTD/WV-TRC1.2";
const PA: &str = "http://www.openmobilealliance.org/DTD/WV-PA1.2";

fn envelope(session: Option<&str>, txn: &str, content: &str) -> Vec<u8> {
    let descriptor = match session {
        Some(id) => format!(
            "<SessionDescriptor><SessionType>Inband</SessionType><SessionID>{id}</SessionID>\
             </SessionDescriptor>"
        ),
        None => "<SessionDescriptor><SessionType>Outband</SessionType></SessionDescriptor>".into(),
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><WV-CSP-Message xmlns=\"{CSP}\"><Session>\
         {descriptor}<Transaction><TransactionDescriptor><TransactionMode>Request\
         </TransactionMode><TransactionID>{txn}</TransactionID></TransactionDescriptor>\
         <TransactionContent xmlns=\"{TRC}\">{content}</TransactionContent></Transaction>\
         </Session></WV-CSP-Message>"
    )
    .into_bytes()
}

/// A plain-password Login-Request as a phone sends it.
pub fn login_request() -> Vec<u8> {
    envelope(
        None,
        "IMApp01#12345@NOK6630",
        "<Login-Request><UserID>wv:alice@imps.example.com</UserID><ClientID><URL>\
         http://imps.example.com/client/6630</URL></ClientID><Password>s3cret-Passw0rd</Password>\
         <TimeToLive>1800</TimeToLive><SessionCookie>wv:alice#20261124#328746293</SessionCookie>\
         </Login-Request>",
    )
}

/// A SendMessage-Request with a delivery report and a short text.
pub fn send_message_request() -> Vec<u8> {
    envelope(
        Some("2zrev0w230a8f77c1e5d4b3a"),
        "1042",
        "<SendMessage-Request><DeliveryReport>T</DeliveryReport><MessageInfo>\
         <ContentType>text/plain</ContentType><ContentSize>118</ContentSize><Recipient><User>\
         <UserID>wv:bob@imps.example.com</UserID></User></Recipient><Sender><User><UserID>\
         wv:alice@imps.example.com</UserID></User></Sender><DateTime>20261124T101500Z</DateTime>\
         <Validity>3600</Validity></MessageInfo><ContentData>Hi Bob! Are we still on for lunch \
         at noon? I booked the table by the window &amp; told them we might be 5 min late.\
         </ContentData></SendMessage-Request>",
    )
}

/// A PresenceNotification-Request carrying `users` users' presence, each with the attributes a
/// phone publishes (OnlineStatus, ClientInfo, UserAvailability, StatusText, StatusMood, Alias).
pub fn presence_notification(users: usize) -> Vec<u8> {
    let mut content = String::from("<PresenceNotification-Request>");
    for i in 0..users {
        content.push_str(&format!(
            "<Presence><UserID>wv:friend{i}@imps.example.com</UserID>\
             <PresenceSubList xmlns=\"{PA}\"><OnlineStatus><Qualifier>T</Qualifier>\
             <PresenceValue>T</PresenceValue></OnlineStatus><ClientInfo><Qualifier>T</Qualifier>\
             <ClientType>MOBILE_PHONE</ClientType><DevManufacturer>Nokia</DevManufacturer>\
             <Model>6630</Model><Language>eng</Language></ClientInfo><UserAvailability>\
             <Qualifier>T</Qualifier><PresenceValue>AVAILABLE</PresenceValue></UserAvailability>\
             <StatusText><Qualifier>T</Qualifier><PresenceValue>At the office until 6</PresenceValue>\
             </StatusText><StatusMood><Qualifier>T</Qualifier><PresenceValue>HAPPY</PresenceValue>\
             </StatusMood><Alias><Qualifier>T</Qualifier><PresenceValue>Friend {i}</PresenceValue>\
             </Alias></PresenceSubList></Presence>"
        ));
    }
    content.push_str("</PresenceNotification-Request>");
    envelope(Some("2zrev0w230a8f77c1e5d4b3a"), "s-77", &content)
}

#[cfg(test)]
mod tests {
    use imps_protocol::{Encoding, decode, encode};

    use super::*;

    #[test]
    fn fixtures_decode_to_their_primitives() {
        for (bytes, name) in [
            (login_request(), "Login-Request"),
            (send_message_request(), "SendMessage-Request"),
            (presence_notification(20), "PresenceNotification-Request"),
        ] {
            let m = decode(&bytes, Encoding::Xml).expect("fixture decodes");
            assert_eq!(m.session.transactions[0].content.name(), name);
            let again = decode(&encode(&m), Encoding::Xml).expect("re-encoding decodes");
            assert_eq!(again, m);
        }
        let m = decode(&presence_notification(20), Encoding::Xml).expect("decodes");
        let encoded = String::from_utf8(encode(&m)).expect("utf-8");
        assert_eq!(encoded.matches("<Presence>").count(), 20);
        assert_eq!(
            encoded.matches("<StatusMood>").count(),
            20,
            "attributes are modelled"
        );
    }
}
