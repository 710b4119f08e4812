//! A trivial responder in the generator's own thread: answers every request at once the way
//! a minimal CSP server would (a session on login, ServerPollMin on capability, success for
//! everything else, an empty answer to an idle poll). It measures what the generator itself
//! can drive, and gives the tests and the memory proof clients that really log in.

use std::collections::VecDeque;
use std::time::Duration;

use imps_protocol::common::CspResult;
use imps_protocol::primitives::*;
use imps_protocol::types::SessionId;
use imps_protocol::{Message, Primitive, StatusCode, TransactionMode};

use super::{DriverError, Transport};
use crate::client::Answer;

/// Answers requests like a minimal server.
#[derive(Debug, Default)]
pub struct Responder {
    sessions: u64,
    /// ServerPollMin it announces, seconds.
    pub server_poll_min: u32,
    /// Primitives it answers with 501 (by request name).
    pub unsupported: Vec<&'static str>,
    /// The STCP port it agrees to clients asking for STCP (none: no CIR is agreed).
    pub stcp_port: Option<u16>,
}

impl Responder {
    /// A responder announcing `server_poll_min`.
    pub fn new(server_poll_min: u32) -> Self {
        Self {
            server_poll_min,
            ..Self::default()
        }
    }

    /// The answer to `request` (`None`: an empty 200).
    pub fn answer(&mut self, request: &Message) -> Option<Message> {
        let t = request.session.transactions.first()?;
        if t.descriptor.mode == TransactionMode::Response {
            return None;
        }
        let ok = || CspResult::new(StatusCode::Successful);
        let name = t.content.name();
        let content: Primitive = if self.unsupported.contains(&name) {
            Status {
                result: CspResult::new(StatusCode::NotImplemented),
                client_id: None,
            }
            .into()
        } else {
            match &t.content {
                Primitive::LoginRequest(r)
                    if !r.digest_schemas.is_empty() && r.digest_bytes.is_none() =>
                {
                    LoginResponse {
                        client_id: r.client_id.clone(),
                        result: ok(),
                        nonce: Some("nonce".into()),
                        digest_schema: Some(DigestSchemaList(vec![DigestSchema::Md5])),
                        ..LoginResponse::default()
                    }
                    .into()
                }
                Primitive::LoginRequest(r) => {
                    self.sessions += 1;
                    LoginResponse {
                        client_id: r.client_id.clone(),
                        result: ok(),
                        session_id: Some(SessionId(format!("0-{:032x}", self.sessions))),
                        keep_alive_time: Some(300),
                        capability_request: Some(true),
                        ..LoginResponse::default()
                    }
                    .into()
                }
                Primitive::ClientCapabilityRequest(r) => {
                    let stcp = self.stcp_port.filter(|_| {
                        r.capability_list
                            .as_ref()
                            .is_some_and(|l| l.supported_cir_methods.contains(&CirMethod::Stcp))
                    });
                    ClientCapabilityResponse {
                        client_id: None,
                        capability_list: None,
                        agreed_capability_list: Some(AgreedCapabilityList {
                            server_poll_min: Some(self.server_poll_min),
                            supported_cir_methods: stcp
                                .map(|_| vec![CirMethod::Stcp])
                                .unwrap_or_default(),
                            tcp_address: stcp.map(|_| "127.0.0.1".into()),
                            tcp_port: stcp.map(u32::from),
                            ..AgreedCapabilityList::default()
                        }),
                    }
                    .into()
                }
                Primitive::GetListRequest(_) => GetListResponse::default().into(),
                Primitive::PollingRequest(_) => return None,
                _ => Status {
                    result: ok(),
                    client_id: None,
                }
                .into(),
            }
        };
        Some(Message::single(
            request.version,
            request.session.descriptor.session_id.clone(),
            TransactionMode::Response,
            t.descriptor.id.clone(),
            content,
        ))
    }
}

/// A transport whose answers come from a [`Responder`] at once.
#[derive(Debug, Default)]
pub struct Loopback {
    /// The responder.
    pub responder: Responder,
    ready: VecDeque<(u32, Answer)>,
}

impl Loopback {
    /// A loopback transport over `responder`.
    pub fn new(responder: Responder) -> Self {
        Self {
            responder,
            ready: VecDeque::new(),
        }
    }
}

impl Transport for Loopback {
    fn send(&mut self, client: u32, message: Message) {
        let answer = self.responder.answer(&message);
        self.ready.push_back((client, Answer::Csp(answer)));
    }

    fn poll(&mut self, timeout: Duration, out: &mut Vec<(u32, Answer)>) -> Result<(), DriverError> {
        if self.ready.is_empty() && !timeout.is_zero() {
            std::thread::sleep(timeout);
        }
        out.extend(self.ready.drain(..));
        Ok(())
    }

    fn in_flight(&self) -> usize {
        self.ready.len()
    }
}
