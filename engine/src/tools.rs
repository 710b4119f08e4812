//! The `csp` tool's work, as functions over bytes so that tests need no process.

use std::fmt::Write as _;

use imps_protocol::{DecodeError, Encoding, Message};

/// One line for `csp check`: the version and the primitive of each transaction.
pub fn describe(message: &Message) -> String {
    let mut out = format!("CSP {}", message.version);
    for (i, t) in message.session.transactions.iter().enumerate() {
        let sep = if i == 0 { ": " } else { ", " };
        let _ = write!(out, "{sep}{} ({:?})", t.content.name(), t.descriptor.mode);
    }
    out
}

/// Decodes an XML body and describes it.
pub fn check(body: &[u8]) -> Result<String, DecodeError> {
    imps_protocol::decode(body, Encoding::Xml).map(|m| describe(&m))
}

/// Decodes an XML body and re-encodes it canonically.
pub fn format(body: &[u8]) -> Result<Vec<u8>, DecodeError> {
    imps_protocol::decode(body, Encoding::Xml).map(|m| imps_protocol::encode(&m))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOGIN: &str = r#"<?xml version="1.0"?>
<WV-CSP-Message xmlns="http://www.openmobilealliance.org/DTD/WV-CSP1.2"><Session>
<SessionDescriptor><SessionType>Outband</SessionType></SessionDescriptor>
<Transaction><TransactionDescriptor><TransactionMode>Request</TransactionMode>
<TransactionID>1</TransactionID></TransactionDescriptor>
<TransactionContent xmlns="http://www.openmobilealliance.org/DTD/WV-TRC1.2">
<Logout-Request/></TransactionContent></Transaction></Session></WV-CSP-Message>"#;

    #[test]
    fn check_names_version_and_primitive() {
        assert_eq!(
            check(LOGIN.as_bytes()).unwrap(),
            "CSP 1.2: Logout-Request (Request)"
        );
        assert!(check(b"<nope/>").is_err());
    }

    #[test]
    fn format_is_canonical_and_stable() {
        let once = format(LOGIN.as_bytes()).unwrap();
        assert_eq!(format(&once).unwrap(), once);
        assert!(
            String::from_utf8(once)
                .unwrap()
                .contains("<Logout-Request/>")
        );
    }
}
