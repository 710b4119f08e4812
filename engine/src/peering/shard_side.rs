//! The shards' side of federation: remote recipients of a message are handed to the desk as
//! one part of the SendMessage answer; messages and delivery reports from other domains enter
//! the ordinary delivery path (block and grant lists, push or notification, offline store).

use std::sync::Arc;

use imps_protocol::StatusCode;
use imps_protocol::common::{CspResult, DetailedResult};
use imps_protocol::primitives::DeliveryReportRequest;
use imps_protocol::types::{DateTime, UserId};

use super::{FederationOut, RemoteLetter, is_remote};
use crate::core::{Millis, Token};
use crate::federation::{Answer, RemoteRequest};
use crate::im::mailbox::{Letter, content_size};
use crate::shard::{AdminDone, Reply, Shard};
use imps_protocol::ssp::Status;

/// What the desk asks of a shard (carried by [`crate::shard::Admin::Federation`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FederationOp {
    /// The outcome of the remote recipients of a message sent on this shard.
    Posted {
        /// The local sender (for routing).
        sender: String,
        /// The waiting request.
        query: u64,
        /// Its part.
        part: u32,
        /// Per remote recipient: 200, or why not.
        results: Vec<(String, StatusCode)>,
    },
    /// A message from another domain for a local user; answered with
    /// [`AdminDone::Delivered`].
    Deliver {
        /// The local recipient.
        recipient: String,
        /// The message.
        letter: Box<RemoteLetter>,
    },
    /// A delivery report (or the late outcome of a send) for a local sender.
    Report {
        /// The local sender.
        sender: String,
        /// The remote recipient.
        recipient: String,
        /// The message id.
        message_id: String,
        /// The outcome.
        code: StatusCode,
        /// When it was delivered (ISO 8601), if it was.
        delivery_time: Option<String>,
    },
    /// The outcome of a request a local user of this shard sent to another domain (see
    /// [`FederationOut::Request`]); `query` 0 when nobody waits any more (answered late, or
    /// restored from the queue log after a restart).
    Outcome {
        /// The local user who asked.
        user: String,
        /// The waiting request.
        query: u64,
        /// Its part.
        part: u32,
        /// What was asked.
        request: Box<RemoteRequest>,
        /// The remote domain's answer (or 503/504/506/516 from the federation).
        status: Status,
        /// What came with it.
        answer: Box<Answer>,
    },
    /// A request of a user of another domain for the local user or group `target`;
    /// answered with [`AdminDone::Served`].
    Serve {
        /// The local user or group it is about (normalized).
        target: String,
        /// The request (its users all belong to this shard).
        request: Box<RemoteRequest>,
    },
    /// A notice of another domain for local users (all of this shard); `target` is one
    /// of them.
    Notice {
        /// A local user it is for.
        target: String,
        /// The domain it came from.
        origin: String,
        /// The notice.
        notice: Box<RemoteRequest>,
    },
    /// A new session with the domain `domain` came up (it may have restarted and forgotten
    /// the soft state it held for our users): the shard sends again its users' presence
    /// subscriptions to that domain's users and joins of that domain's groups.
    PeerUp {
        /// The peer domain.
        domain: String,
    },
    /// A message of a user of another domain for the local group `group`; answered with
    /// [`AdminDone::Delivered`].
    GroupMessage {
        /// The group (normalized).
        group: String,
        /// The message.
        letter: Box<RemoteLetter>,
        /// The screen name it is addressed to within the group, if any.
        to_screen_name: Option<String>,
    },
}

impl FederationOp {
    /// The local user the operation is about (its shard handles it).
    pub fn user(&self) -> &str {
        match self {
            FederationOp::Posted { sender, .. } | FederationOp::Report { sender, .. } => sender,
            FederationOp::Deliver { recipient, .. } => recipient,
            FederationOp::Outcome { user, .. } => user,
            FederationOp::Serve { target, .. } | FederationOp::Notice { target, .. } => target,
            FederationOp::GroupMessage { group, .. } => group,
            FederationOp::PeerUp { domain } => domain,
        }
    }
}

impl Shard {
    /// Connects the shard to the federation desk (`None`: no federation, users of other
    /// domains are unknown users as before).
    pub fn set_federation(&mut self, desk: Option<flume::Sender<FederationOut>>) {
        self.federation = desk;
    }

    /// Takes the users of other domains out of `users` when federation is on.
    pub(crate) fn take_remote(&self, users: &mut Vec<String>) -> Vec<String> {
        if self.federation.is_none() {
            return Vec::new();
        }
        let local = &self.config.domain;
        let (remote, kept): (Vec<String>, Vec<String>) =
            users.drain(..).partition(|u| is_remote(u, local));
        *users = kept;
        remote
    }

    /// Hands the remote `recipients` of `letter` to the desk as part (`query`, `part`);
    /// false when the desk is gone.
    pub(crate) fn post_remote(
        &mut self,
        (query, part): (u64, u32),
        letter: &Letter,
        recipients: Vec<String>,
    ) -> bool {
        if self.federation.is_none() {
            return false;
        }
        let out = FederationOut::Send {
            shard: self.id,
            query,
            part,
            letter: RemoteLetter {
                id: letter.id.to_string(),
                sender: letter.sender.to_string(),
                content_type: letter.content_type.as_deref().map(str::to_owned),
                content: letter.content.clone(),
                base64: letter.base64,
                report: letter.report,
                screen_name: None,
            },
            recipients,
        };
        self.hand_to_desk(out)
    }

    /// Sends the delivery report of `recipient` to the sender of `letter` when that sender is
    /// of another domain; false when the report stays here.
    pub(crate) fn report_remote(
        &mut self,
        letter: &Letter,
        recipient: &str,
        code: StatusCode,
        delivered_ms: Option<u64>,
    ) -> bool {
        if self.federation.is_none() || !is_remote(&letter.sender, &self.config.domain) {
            return false;
        }
        // A closed desk (shutting down) loses the report, as a lost session would.
        self.hand_to_desk(FederationOut::Report {
            original_sender: letter.sender.to_string(),
            recipient: recipient.to_owned(),
            message_id: letter.id.to_string(),
            code,
            delivered_ms,
        });
        true
    }

    /// Runs an operation of the desk.
    pub(crate) fn handle_federation(&mut self, now: Millis, token: Token, op: FederationOp) {
        match op {
            FederationOp::Posted {
                query,
                part,
                results,
                ..
            } => {
                let results = results
                    .into_iter()
                    .map(|(u, c)| (Arc::<str>::from(u.as_str()), c))
                    .collect();
                self.handle_posted(query, part, results);
                self.reply(token, Reply::Admin(Ok(AdminDone::Federated)));
            }
            FederationOp::Deliver { recipient, letter } => {
                let code = self.deliver_remote(now, &recipient, *letter);
                self.reply(token, Reply::Admin(Ok(AdminDone::Delivered(code))));
            }
            FederationOp::Report {
                sender,
                recipient,
                message_id,
                code,
                delivery_time,
            } => {
                let mut result = CspResult::new(code);
                if code != StatusCode::Successful {
                    result.detailed.push(DetailedResult {
                        code: u32::from(code.code()),
                        user_ids: vec![UserId(recipient.clone())],
                        ..DetailedResult::default()
                    });
                }
                let letter = Letter {
                    id: message_id.into_boxed_str(),
                    sender: Arc::from(sender.as_str()),
                    content_type: None,
                    base64: false,
                    content: None,
                    size: 0,
                    report: true,
                    sent_ms: 0,
                    expires_ms: 0,
                };
                let mut info = letter.info(Some(&recipient));
                info.date_time = None;
                info.validity = None;
                info.content_size = None;
                let report = DeliveryReportRequest {
                    result,
                    delivery_time: delivery_time
                        .as_deref()
                        .and_then(|t| DateTime::parse_str(t).ok()),
                    message_info: info,
                };
                self.handle_report(&sender, report);
                self.reply(token, Reply::Admin(Ok(AdminDone::Federated)));
            }
            FederationOp::Outcome {
                query,
                part,
                request,
                status,
                answer,
                ..
            } => {
                self.remote_outcome(now, (query, part), *request, status, *answer);
                self.reply(token, Reply::Admin(Ok(AdminDone::Federated)));
            }
            FederationOp::Serve { request, .. } => {
                let (status, answer) = self.serve_remote(now, *request);
                let answer = Box::new(answer);
                self.reply(
                    token,
                    Reply::Admin(Ok(AdminDone::Served { status, answer })),
                );
            }
            FederationOp::Notice { origin, notice, .. } => {
                self.remote_notice(now, &origin, *notice);
                self.reply(token, Reply::Admin(Ok(AdminDone::Federated)));
            }
            FederationOp::PeerUp { domain } => {
                self.resubscribe_remote(&domain);
                self.rejoin_remote_groups(&domain);
                self.reply(token, Reply::Admin(Ok(AdminDone::Federated)));
            }
            FederationOp::GroupMessage {
                group,
                letter,
                to_screen_name,
            } => {
                let code = self.remote_group_message(now, &group, *letter, to_screen_name);
                self.reply(token, Reply::Admin(Ok(AdminDone::Delivered(code))));
            }
        }
    }

    /// Admits a message from another domain for `recipient`: 200, or why not (531 for an
    /// unknown user, 532 when the recipient blocks the sender, ...).
    fn deliver_remote(&mut self, now: Millis, recipient: &str, letter: RemoteLetter) -> StatusCode {
        if crate::federation::im::is_group_id(&letter.sender) {
            return self.deliver_from_remote_group(now, recipient, letter);
        }
        let (sender, report) = (letter.sender.clone(), letter.report);
        match self.letter_from_remote(now, letter, sender, report) {
            Ok(letter) => self.admit(&letter, recipient),
            Err(code) => code,
        }
    }

    /// A letter from a message of another domain, sent by `sender` (normalized).
    pub(crate) fn letter_from_remote(
        &mut self,
        now: Millis,
        letter: RemoteLetter,
        sender: String,
        report: bool,
    ) -> Result<Arc<Letter>, StatusCode> {
        let size = content_size(letter.content.as_deref(), letter.base64)
            .ok_or(StatusCode::InvalidParameter)?;
        if size > self.config.max_content_length {
            return Err(StatusCode::UnableToDeliver);
        }
        let sent_ms = self.wall_ms(now);
        let validity = u64::from(self.config.max_message_validity_s);
        let id = if letter.id.is_empty() {
            self.new_message_id()
        } else {
            letter.id
        };
        Ok(Arc::new(Letter {
            id: id.into_boxed_str(),
            sender: Arc::from(sender.as_str()),
            content_type: letter.content_type.map(String::into_boxed_str),
            base64: letter.base64,
            content: letter.content,
            size,
            report,
            sent_ms,
            expires_ms: sent_ms.saturating_add(validity * 1000),
        }))
    }
}
