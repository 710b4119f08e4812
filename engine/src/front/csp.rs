//! CSP over HTTP, without the sockets: what a POST body and its content type become (a
//! message to route, or an answer at once), and how an engine reply becomes a response.
//!
//! ```text
//!   Content-Type  -> CSP XML (any of the binding's types, or none)  -> decode XML
//!                 -> CSP WBXML (`.wbxml` or `+wbxml`)               -> decode WBXML
//!                 -> anything else                                  -> 415
//!   decode error  -> envelope unreadable                            -> HTTP 400
//!                 -> envelope readable                              -> CSP Status (402, 405, ...)
//!   reply         -> None                                           -> 200, empty body
//!                 -> Some(message)                                  -> 200, in its version, in the
//!                                                                      request's encoding
//! ```
//!
//! The answer's content type is the request's own CSP type, so a WBXML request gets a WBXML
//! answer of the same family (`application/vnd.wv.csp.wbxml` or `...+wbxml`).

use imps_protocol::common::CspResult;
use imps_protocol::primitives::Status;
use imps_protocol::types::TransactionId;
use imps_protocol::{
    ContentType, DecodeError, DecodeOptions, Encoding, Limits, Message, TransactionMode, Version,
    decode_with, encode_wbxml_into, encode_xml_into,
};

use crate::http::HttpResponse;

/// A plain-text answer.
pub fn text(status: u16, text: &str) -> HttpResponse {
    HttpResponse {
        content_type: Some("text/plain; charset=utf-8".into()),
        body: text.as_bytes().to_vec(),
        ..HttpResponse::new(status)
    }
}

/// What a POST body is.
#[derive(Debug)]
pub enum Prepared {
    /// A message to route to its shard; the reply is encoded with [`answer`].
    Message {
        /// The message.
        message: Message,
        /// The `Content-Type` to answer with.
        reply_type: String,
    },
    /// Nothing to route: answer this at once.
    Answer {
        /// The answer.
        answer: HttpResponse,
        /// The CSP status it carries, when it is a CSP answer (for metrics).
        csp_status: Option<u16>,
    },
}

/// Classifies and decodes a POST body.
pub fn prepare(content_type: Option<&str>, body: &[u8], limits: &Limits) -> Prepared {
    let ct = match content_type.map(ContentType::parse) {
        None => None,
        Some(Some(ct)) => Some(ct),
        Some(None) => {
            return Prepared::Answer {
                answer: text(415, "unsupported content type: CSP XML or WBXML expected\n"),
                csp_status: None,
            };
        }
    };
    let encoding = ct.map_or(Encoding::Xml, |c| c.encoding);
    let options = DecodeOptions {
        limits: *limits,
        version_hint: ct.and_then(|c| c.version),
        ..DecodeOptions::default()
    };
    match decode_with(body, encoding, &options) {
        Ok(message) => {
            let reply_type = reply_content_type(content_type, message.version);
            Prepared::Message {
                message,
                reply_type,
            }
        }
        Err(e) => decode_failure(&e, content_type, encoding, body, ct.and_then(|c| c.version)),
    }
}

/// The encoding an answer of `content_type` is written in.
fn encoding_of(content_type: &str) -> Encoding {
    ContentType::parse(content_type).map_or(Encoding::Xml, |c| c.encoding)
}

/// Appends `message` to `out` in `encoding`.
fn encode_in(message: &Message, encoding: Encoding, out: &mut Vec<u8>) {
    match encoding {
        Encoding::Xml => encode_xml_into(message, out),
        Encoding::Wbxml => encode_wbxml_into(message, out),
    }
}

/// The answer's content type: the client's own CSP type when it sent one, else its
/// version's.
fn reply_content_type(content_type: Option<&str>, version: Version) -> String {
    match content_type
        .and_then(|c| c.split(';').next())
        .map(str::trim)
    {
        Some(t) if t.to_ascii_lowercase().starts_with("application/vnd.wv.csp") => t.to_owned(),
        _ => version.content_type(Encoding::Xml).to_owned(),
    }
}

fn decode_failure(
    e: &DecodeError,
    content_type: Option<&str>,
    encoding: Encoding,
    body: &[u8],
    hint: Option<Version>,
) -> Prepared {
    if e.is_envelope_error() {
        let status = if matches!(e, DecodeError::TooLarge { .. }) {
            413
        } else {
            400
        };
        return Prepared::Answer {
            answer: text(status, &format!("not a CSP message: {e}\n")),
            csp_status: None,
        };
    }
    let head = &body[..body.len().min(4096)];
    // WBXML names its version in the public id; its ids are not sniffed (tokens, not text).
    let (version, head) = match encoding {
        Encoding::Xml => (sniff_version(head), head),
        Encoding::Wbxml => (
            head.get(1)
                .and_then(|&id| Version::from_wbxml_public_id(u32::from(id))),
            &[][..],
        ),
    };
    let version = version.or(hint).unwrap_or(Version::V1_2);
    let code = e.status();
    let mut result = CspResult::new(code);
    result.description = Some(e.to_string());
    let mut message = Message::single(
        version,
        sniff_element(head, "SessionID").map(Into::into),
        TransactionMode::Response,
        sniff_element(head, "TransactionID").map(TransactionId),
        Status {
            result,
            client_id: None,
        }
        .into(),
    );
    if message.session.descriptor.session_id.is_none() {
        message.session.descriptor.session_type = imps_protocol::SessionType::Outband;
    }
    let mut body = Vec::with_capacity(512);
    encode_in(&message, encoding, &mut body);
    Prepared::Answer {
        answer: HttpResponse {
            content_type: Some(reply_content_type(content_type, version)),
            body,
            ..HttpResponse::new(200)
        },
        csp_status: Some(code.code()),
    }
}

/// The CSP version named by a namespace in the first bytes of a body.
fn sniff_version(head: &[u8]) -> Option<Version> {
    let text = String::from_utf8_lossy(head);
    Version::ALL
        .into_iter()
        .rev()
        .find(|v| text.contains(v.csp_namespace()))
}

/// The text of the first `<name>...</name>` in the first bytes of a body, if short and plain.
fn sniff_element(head: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(head);
    let open = format!("<{name}>");
    let start = text.find(&open)? + open.len();
    let end = start + text[start..].find('<')?;
    let value = text[start..end].trim();
    (!value.is_empty() && value.len() <= 128 && !value.contains('&')).then(|| value.to_owned())
}

/// The HTTP answer to an engine reply, encoded as `reply_type` says (XML or WBXML).
pub fn answer(reply: Option<&Message>, reply_type: &str) -> HttpResponse {
    match reply {
        None => HttpResponse::new(200),
        Some(message) => {
            let mut body = Vec::with_capacity(1024);
            encode_in(message, encoding_of(reply_type), &mut body);
            HttpResponse::ok(reply_type, body)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imps_protocol::{Primitive, decode, encode};

    const KA: &str = "<?xml version=\"1.0\"?><WV-CSP-Message xmlns=\"http://www.openmobilealliance.org/DTD/WV-CSP1.2\"><Session><SessionDescriptor><SessionType>Inband</SessionType><SessionID>0-abc</SessionID></SessionDescriptor><Transaction><TransactionDescriptor><TransactionMode>Request</TransactionMode><TransactionID>t9</TransactionID></TransactionDescriptor><TransactionContent xmlns=\"http://www.openmobilealliance.org/DTD/WV-TRC1.2\">CONTENT</TransactionContent></Transaction></Session></WV-CSP-Message>";

    fn answer_of(p: Prepared) -> (HttpResponse, Option<u16>) {
        match p {
            Prepared::Answer { answer, csp_status } => (answer, csp_status),
            Prepared::Message { .. } => panic!("expected an answer"),
        }
    }

    #[test]
    fn content_types_are_checked() {
        let body = KA.replace("CONTENT", "<KeepAlive-Request/>");
        let limits = Limits::default();
        for ct in [
            None,
            Some("application/vnd.wv.csp.xml"),
            Some("application/vnd.wv.csp+xml; charset=utf-8"),
            Some("text/xml"),
            Some("application/xml"),
        ] {
            match prepare(ct, body.as_bytes(), &limits) {
                Prepared::Message { reply_type, .. } => {
                    if let Some(t) = ct.filter(|t| t.contains("vnd.wv")) {
                        assert!(t.starts_with(&reply_type));
                    } else {
                        assert_eq!(reply_type, "application/vnd.wv.csp.xml");
                    }
                }
                other => panic!("{ct:?}: {other:?}"),
            }
        }
        let (a, _) = answer_of(prepare(Some("text/html"), body.as_bytes(), &limits));
        assert_eq!(a.status, 415);
        // XML sent as WBXML is not WBXML.
        let (a, _) = answer_of(prepare(
            Some("application/vnd.wv.csp.wbxml"),
            body.as_bytes(),
            &limits,
        ));
        assert_eq!(a.status, 400);
    }

    #[test]
    fn wbxml_is_decoded_and_answered_in_wbxml() {
        let body = KA.replace("CONTENT", "<KeepAlive-Request/>");
        let m = decode(body.as_bytes(), Encoding::Xml).unwrap();
        let wbxml = imps_protocol::encode_wbxml(&m);
        let limits = Limits::default();
        for ct in [
            "application/vnd.wv.csp.wbxml",
            "application/vnd.wv.csp+wbxml; charset=utf-8",
        ] {
            match prepare(Some(ct), &wbxml, &limits) {
                Prepared::Message {
                    message,
                    reply_type,
                } => {
                    assert_eq!(message, m);
                    assert!(ct.starts_with(&reply_type));
                    let a = answer(Some(&message), &reply_type);
                    assert_eq!(a.content_type.as_deref(), Some(reply_type.as_str()));
                    assert_eq!(a.body, wbxml);
                }
                other => panic!("{ct}: {other:?}"),
            }
        }
        // A readable WBXML envelope without a Transaction gets a WBXML CSP Status.
        let no_transaction = [
            0x03, 0x11, 0x6A, 0x00, 0xC9, 0x08, 0x03, b'1', b'.', b'2', 0x00, 0x01, 0x6D, 0x6E,
            0x70, 0x80, 0x19, 0x01, 0x01, 0x01, 0x01,
        ];
        let (a, code) = answer_of(prepare(
            Some("application/vnd.wv.csp.wbxml"),
            &no_transaction,
            &limits,
        ));
        assert_eq!((a.status, code), (200, Some(402)), "{:?}", a.body);
        let status = decode(&a.body, Encoding::Wbxml).unwrap();
        assert_eq!(status.version, Version::V1_2);
        assert!(
            matches!(&status.session.transactions[0].content, Primitive::Status(s) if s.result.code == 402)
        );
    }

    #[test]
    fn decode_errors_are_answered_in_csp_or_http() {
        let limits = Limits::default();
        let (a, code) = answer_of(prepare(None, b"<html>", &limits));
        assert_eq!((a.status, code), (400, None));
        let bad = KA.replace("CONTENT", "<Teleport-Request/>");
        let (a, code) = answer_of(prepare(None, bad.as_bytes(), &limits));
        assert_eq!((a.status, code), (200, Some(405)));
        let m = decode(&a.body, Encoding::Xml).unwrap();
        assert_eq!(m.version, Version::V1_2);
        let t = &m.session.transactions[0];
        assert_eq!(t.descriptor.id.as_ref().map(|i| i.0.as_str()), Some("t9"));
        assert!(matches!(&t.content, Primitive::Status(s) if s.result.code == 405));
        let (a, _) = answer_of(prepare(None, &vec![b' '; 2 << 20], &limits));
        assert_eq!(a.status, 413);
    }

    #[test]
    fn replies_are_encoded_or_empty() {
        let empty = answer(None, "x");
        assert_eq!((empty.status, empty.body.len()), (200, 0));
        let body = KA.replace("CONTENT", "<KeepAlive-Request/>");
        let m = decode(body.as_bytes(), Encoding::Xml).unwrap();
        let a = answer(Some(&m), "application/vnd.wv.csp.xml");
        assert_eq!(a.body, encode(&m));
    }
}
