//! Client capability negotiation: what the session keeps of the client's `CapabilityList`,
//! and the agreed list returned (`CapabilityList` in 1.1, `AgreedCapabilityList` from 1.2).

use imps_protocol::Version;
use imps_protocol::primitives::{
    AgreedCapabilityList, Bearer, CapabilityList, CirMethod, CirUrl, ClientCapabilityRequest,
    ClientCapabilityResponse, DeliveryMethod,
};
use imps_protocol::types::Url;

use super::session::Capabilities;
use crate::config::AccessConfig;

/// The wake-up methods this server offers for `version`.
fn offered(config: &AccessConfig, version: Version) -> Vec<CirMethod> {
    let mut out = Vec::new();
    if config.cir_tcp.is_some() {
        out.push(CirMethod::Stcp);
    }
    if config.cir_udp {
        out.push(CirMethod::Sudp);
    }
    if config.cir_http_url.is_some() && version != Version::V1_1 {
        out.push(CirMethod::Shttp);
    }
    out
}

/// Negotiates: the capabilities kept for the session and the response primitive. The
/// standalone-HTTP CIRURL names the session (`<cir_http_url>?session=<session_id>`), so
/// that the client polls it as given.
pub fn negotiate(
    req: &ClientCapabilityRequest,
    version: Version,
    config: &AccessConfig,
    session_id: &str,
) -> (Capabilities, ClientCapabilityResponse) {
    let list = req.capability_list.clone().unwrap_or_default();
    let cir: Vec<CirMethod> = offered(config, version)
        .into_iter()
        .filter(|m| list.supported_cir_methods.contains(m))
        .collect();
    let bearers: Vec<Bearer> = if list.supported_bearers.is_empty() {
        vec![Bearer::Http]
    } else {
        list.supported_bearers
            .iter()
            .filter(|b| matches!(b, Bearer::Http | Bearer::Https))
            .cloned()
            .collect()
    };
    let content_length = list
        .accepted_content_length
        .unwrap_or(config.max_content_length)
        .min(config.max_content_length);
    let push = !matches!(list.initial_delivery_method, Some(DeliveryMethod::Notify));
    let udp_port = list
        .udp_port
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p != 0)
        .or(cir.contains(&CirMethod::Sudp).then_some(3717));
    let caps = Capabilities {
        push,
        accepted_content_length: content_length,
        accepted_content_types: list
            .accepted_content_types
            .iter()
            .map(|t| t.0.clone())
            .collect(),
        base64: list
            .accepted_transfer_encodings
            .iter()
            .any(|e| e.trim().eq_ignore_ascii_case("BASE64")),
        cir_methods: cir.iter().map(|m| m.as_str().to_owned()).collect(),
        udp_port,
        multi_trans: list.multi_trans.unwrap_or(1).clamp(1, 16),
        parser_size: list.parser_size.unwrap_or(content_length),
    };
    let stcp = cir.contains(&CirMethod::Stcp);
    let (tcp_address, tcp_port) = match (&config.cir_tcp, stcp) {
        (Some((addr, port)), true) => (Some(addr.clone()), Some(u32::from(*port))),
        _ => (None, None),
    };
    let poll_min = Some(config.server_poll_min_s);
    let delivery = Some(if push {
        DeliveryMethod::Push
    } else {
        DeliveryMethod::Notify
    });
    let response = if version == Version::V1_1 {
        ClientCapabilityResponse {
            client_id: req.client_id.clone(),
            capability_list: Some(CapabilityList {
                client_type: list.client_type.clone(),
                initial_delivery_method: delivery,
                accepted_content_types: list.accepted_content_types.clone(),
                any_content: list.any_content,
                accepted_charsets: list.accepted_charsets.clone(),
                accepted_transfer_encodings: list.accepted_transfer_encodings.clone(),
                accepted_content_length: Some(content_length),
                supported_bearers: bearers,
                multi_trans: Some(caps.multi_trans),
                parser_size: list.parser_size,
                supported_cir_methods: cir,
                udp_port: caps.udp_port.map(u32::from),
                tcp_address,
                tcp_port,
                server_poll_min: poll_min,
                default_language: list.default_language.clone(),
                ..CapabilityList::default()
            }),
            agreed_capability_list: None,
        }
    } else {
        let shttp = cir.contains(&CirMethod::Shttp);
        ClientCapabilityResponse {
            client_id: None,
            capability_list: None,
            agreed_capability_list: Some(AgreedCapabilityList {
                supported_bearers: bearers,
                supported_cir_methods: cir,
                tcp_address,
                tcp_port,
                server_poll_min: poll_min,
                cir_url: config
                    .cir_http_url
                    .as_ref()
                    .filter(|_| shttp)
                    .map(|u| CirUrl {
                        url: Url(format!("{u}?session={session_id}")),
                    }),
                initial_delivery_method: delivery,
                accepted_content_length: Some(content_length),
                multi_trans: Some(caps.multi_trans),
                parser_size: list.parser_size,
                udp_port: caps.udp_port.map(u32::from),
                extensions: Vec::new(),
            }),
        }
    };
    (caps, response)
}
