//! The desk's side of instant messages from other domains: each local recipient's shard
//! admits the message (block and grant lists, push or notification, offline store), then the
//! sending domain gets one SSP answer naming what failed.

use base64::Engine as _;
use imps_protocol::StatusCode;
use imps_protocol::ssp::Status;

use super::{Desk, DeskMsg};
use crate::federation::IncomingMessage;
use crate::peering::RemoteLetter;
use crate::peering::shard_side::FederationOp;
use crate::shard::{Admin, AdminDone, Reply, Request, route};

impl Desk {
    /// Delivers a message from another domain to each local recipient, then answers it.
    pub(super) fn deliver(&self, m: IncomingMessage) {
        let local = self.local.clone();
        let domain = self.domain.clone();
        let tx = self.tx.clone();
        let letter = remote_letter(&m);
        self.local.spawn(async move {
            let mut failed = Vec::new();
            for recipient in &m.recipients {
                let user = match imps_protocol::types::UserId::from(recipient.as_str())
                    .normalize(&domain)
                {
                    Ok(u) => u,
                    Err(_) => {
                        failed.push((StatusCode::UnknownUser, recipient.clone()));
                        continue;
                    }
                };
                let request = Request::Admin(Admin::Federation(FederationOp::Deliver {
                    recipient: user,
                    letter: Box::new(letter.clone()),
                }));
                let shard = route(&request, local.shards(), &domain);
                let code = match local.call_on(shard, request).await {
                    Ok(Reply::Admin(Ok(AdminDone::Delivered(code)))) => code,
                    _ => StatusCode::ServerError,
                };
                if code != StatusCode::Successful {
                    failed.push((code, recipient.clone()));
                }
            }
            let status = delivery_status(m.recipients.len(), &failed);
            let _ = tx.send(DeskMsg::Answered {
                inbound: m.inbound,
                status,
            });
        });
    }
}

/// A message from another domain in the shards' terms (content that is not UTF-8 goes as
/// BASE64).
pub(super) fn remote_letter(m: &IncomingMessage) -> RemoteLetter {
    let (content, base64) = match std::str::from_utf8(&m.content) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (
            base64::engine::general_purpose::STANDARD.encode(&m.content),
            true,
        ),
    };
    RemoteLetter {
        id: m.message_id.clone().unwrap_or_default(),
        sender: m.sender.clone(),
        content_type: m.content_type.clone(),
        content: Some(content),
        base64,
        report: m.delivery_report,
        screen_name: m.screen_name.clone(),
    }
}

/// The SSP status of a delivery to `asked` recipients of which `failed` failed: 200, the
/// failure's own code when every recipient failed the same way, else 201 with details.
fn delivery_status(asked: usize, failed: &[(StatusCode, String)]) -> Status {
    match failed {
        [] => crate::federation::status(StatusCode::Successful),
        [(code, _), rest @ ..] if failed.len() == asked && rest.iter().all(|(c, _)| c == code) => {
            crate::federation::status(*code)
        }
        _ => {
            let mut s = Status::new(201);
            for (code, user) in failed {
                s.detailed.push(imps_protocol::ssp::DetailedResult {
                    code: code.code(),
                    user_ids: vec![user.clone()],
                    ..Default::default()
                });
            }
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_status_names_what_failed() {
        assert_eq!(delivery_status(1, &[]).code, 200);
        let unknown = (StatusCode::UnknownUser, "wv:x@b.test".to_owned());
        assert_eq!(delivery_status(1, std::slice::from_ref(&unknown)).code, 531);
        let mixed = delivery_status(2, std::slice::from_ref(&unknown));
        assert_eq!(mixed.code, 201);
        assert_eq!(mixed.detailed[0].code, 531);
    }
}
