//! The HTTP service of one executor: routes each request to its owning shard (in place
//! when it is this executor's shard, one channel crossing otherwise) and answers
//! `/health`, `/metrics` and the standalone-HTTP CIR endpoint.
//!
//! Counters live in thread-locals: each executor thread counts its own traffic, and
//! `/metrics` asks every executor for its numbers.

use std::cell::RefCell;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;

use hashbrown::HashMap;
use imps_protocol::{Limits, TransactionMode};

use super::csp::{Prepared, answer, prepare, text};
use super::metrics::{FrontStats, ShardGauges, render, result_code};
use crate::cir::CirHub;
use crate::http::HttpResponse;
use crate::http::HttpStats;
use crate::runtime::LocalShard;
use crate::shard::{Reply, Request, Shard, route};

thread_local! {
    static FRONT: RefCell<FrontStats> = RefCell::new(FrontStats::default());
    static EXTRA: RefCell<HashMap<&'static str, u64>> = RefCell::new(HashMap::new());
    static HUB: RefCell<Option<Rc<CirHub>>> = const { RefCell::new(None) };
    static HTTP: RefCell<Vec<Arc<HttpStats>>> = const { RefCell::new(Vec::new()) };
}

/// Registers this executor's CIR hub and HTTP listener counters for `/metrics`.
pub fn register(hub: Option<Rc<CirHub>>, http: Vec<Arc<HttpStats>>) {
    HUB.with(|h| *h.borrow_mut() = hub);
    HTTP.with(|h| *h.borrow_mut() = http);
}

/// Named counters of the HTTP layer and the CIR hub of this executor.
fn layer_counters(extra: &mut HashMap<&'static str, u64>) {
    HTTP.with(|h| {
        for stats in h.borrow().iter() {
            let s = stats.snapshot();
            for (name, v) in [
                ("imps_http_connections_open", s.connections_open),
                (
                    "imps_http_connections_accepted_total",
                    s.connections_accepted,
                ),
                ("imps_http_connections_refused_total", s.connections_refused),
                ("imps_http_requests_total", s.requests),
                ("imps_http_bad_requests_total", s.bad_request),
                ("imps_http_payload_too_large_total", s.payload_too_large),
                ("imps_http_header_timeouts_total", s.header_timeouts),
                ("imps_http_body_timeouts_total", s.body_timeouts),
                ("imps_http_idle_timeouts_total", s.idle_timeouts),
                ("imps_http_connections_moved_in_total", s.moved_in),
                ("imps_http_connections_moved_out_total", s.moved_out),
            ] {
                *extra.entry(name).or_insert(0) += v;
            }
        }
    });
    HUB.with(|h| {
        if let Some(hub) = h.borrow().as_ref() {
            let s = hub.stats();
            for (name, v) in [
                ("imps_cir_stcp_open", s.stcp_open),
                ("imps_cir_helo_ok_total", s.helo_ok),
                ("imps_cir_helo_refused_total", s.helo_refused),
                ("imps_cir_pings_total", s.pings),
                ("imps_cir_wvci_tcp_written_total", s.wvci_tcp_written),
                ("imps_cir_udp_sent_total", s.udp_sent),
                ("imps_cir_udp_errors_total", s.udp_errors),
                ("imps_cir_http_pending_total", s.http_pending),
            ] {
                *extra.entry(name).or_insert(0) += v;
            }
        }
    });
}

/// Adds `n` to a named per-executor counter reported by `/metrics` (CIR, HTTP layer).
pub fn count(name: &'static str, n: u64) {
    EXTRA.with(|e| *e.borrow_mut().entry(name).or_insert(0) += n);
}

/// Per-executor counters a metrics scrape collects.
#[derive(Debug, Clone, Default)]
pub struct ExecutorSnapshot {
    /// Front-end counters.
    pub front: FrontStats,
    /// Shard numbers.
    pub gauges: ShardGauges,
    /// Named counters.
    pub extra: HashMap<&'static str, u64>,
}

/// This executor's numbers (run on the executor).
pub fn snapshot(local: &LocalShard<Shard>) -> ExecutorSnapshot {
    let stats = local.stats();
    let (users, sessions, (sent, received), (early, refused)) = local.with_core(|s| {
        (
            s.user_count() as u64,
            s.session_count() as u64,
            s.presence_deliveries(),
            s.sessions.poll_violations(),
        )
    });
    let (syncs, sync_us) = crate::server::log_sync_totals();
    ExecutorSnapshot {
        front: FRONT.with(|f| f.borrow().clone()),
        gauges: ShardGauges {
            users,
            sessions,
            inbox_depth: stats.requests.saturating_sub(stats.replies),
            wakes: stats.wakes,
            log_syncs: syncs,
            log_sync_us: sync_us,
        },
        extra: {
            let mut extra = EXTRA.with(|e| e.borrow().clone());
            layer_counters(&mut extra);
            extra.insert("imps_presence_deliveries_sent_total", sent);
            extra.insert("imps_presence_deliveries_received_total", received);
            extra.insert("imps_polls_early_total", early);
            extra.insert("imps_polls_refused_total", refused);
            extra
        },
    }
}

/// Renders snapshots of every executor (index = shard).
pub fn render_snapshots(all: &[ExecutorSnapshot]) -> String {
    let front: Vec<FrontStats> = all.iter().map(|s| s.front.clone()).collect();
    let gauges: Vec<ShardGauges> = all.iter().map(|s| s.gauges).collect();
    let mut names: Vec<&'static str> = all.iter().flat_map(|s| s.extra.keys().copied()).collect();
    names.sort_unstable();
    names.dedup();
    let extra: Vec<(&str, &str, Vec<u64>)> = names
        .iter()
        .map(|n| {
            let values = all
                .iter()
                .map(|s| s.extra.get(n).copied().unwrap_or(0))
                .collect();
            (*n, "Front-end counter.", values)
        })
        .collect();
    render(&front, &gauges, &extra)
}

/// What the service needs besides the shard.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// The service's domain (routing of user IDs).
    pub domain: Rc<str>,
    /// Decoder limits.
    pub limits: Limits,
    /// Addresses whose `MSISDN` header is trusted.
    pub trusted_proxies: Vec<IpAddr>,
}

/// What a request to the service is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET`/`HEAD /health`.
    Health,
    /// `GET /metrics`.
    Metrics,
    /// `GET /cir?session=ID` (standalone HTTP CIR).
    Cir,
    /// `POST /imps` or `POST /`.
    Csp,
    /// A known path with the wrong method.
    MethodNotAllowed,
    /// Anything else.
    NotFound,
}

/// Classifies a request line.
pub fn endpoint(method: &str, path: &str) -> Endpoint {
    match (method, path) {
        ("GET" | "HEAD", "/health") => Endpoint::Health,
        ("GET" | "HEAD", "/metrics") => Endpoint::Metrics,
        ("GET" | "HEAD", "/cir") => Endpoint::Cir,
        ("POST", "/imps" | "/") => Endpoint::Csp,
        (_, "/health" | "/metrics" | "/cir" | "/imps" | "/") => Endpoint::MethodNotAllowed,
        _ => Endpoint::NotFound,
    }
}

/// The network-asserted MSISDN of a request: the `MSISDN` header, only when the request
/// came from a trusted operator proxy.
pub fn trusted_msisdn<'a>(
    header: Option<&'a str>,
    peer: SocketAddr,
    proxies: &[IpAddr],
) -> Option<&'a str> {
    let value = header?.trim();
    let plausible = !value.is_empty()
        && value.len() <= 20
        && value
            .trim_start_matches('+')
            .bytes()
            .all(|b| b.is_ascii_digit());
    (plausible && proxies.contains(&peer.ip())).then_some(value)
}

/// Stamps a network-asserted MSISDN into every Login-Request's ClientID: the session is
/// then identified by what the operator's network says, not by what the handset claims.
pub fn apply_msisdn(message: &mut imps_protocol::Message, msisdn: &str) {
    for t in &mut message.session.transactions {
        if let imps_protocol::Primitive::LoginRequest(login) = &mut t.content {
            login.client_id.msisdn = Some(msisdn.to_owned());
        }
    }
}

/// Answers a CSP POST: decode, route, call the owning shard, encode; also names the shard
/// (executor) that answered, if the request got that far. `msisdn` is the trusted MSISDN
/// header, if any (see [`trusted_msisdn`]); `hub` tells whether a session's standalone TCP
/// wake-up channel is up (the CIR flag of 1.2+ answers).
pub async fn csp(
    local: &LocalShard<Shard>,
    config: &ServiceConfig,
    content_type: Option<&str>,
    body: &[u8],
    peer: SocketAddr,
    msisdn: Option<&str>,
    hub: Option<&CirHub>,
) -> (HttpResponse, Option<usize>) {
    let (mut message, reply_type) = match prepare(content_type, body, &config.limits) {
        Prepared::Message {
            message,
            reply_type,
        } => (message, reply_type),
        Prepared::Answer { answer, csp_status } => {
            FRONT.with(|f| {
                let mut f = f.borrow_mut();
                if let Some(code) = csp_status {
                    f.decode_error(code);
                } else {
                    f.decode_error(answer.status);
                }
                f.http(answer.status);
            });
            return (answer, None);
        }
    };
    if let Some(msisdn) = msisdn {
        apply_msisdn(&mut message, msisdn);
    }
    // The primitives answered in place, in order (a poll is answered by queued
    // transactions, not by a response of its own), to count each answer.
    let names: Vec<&'static str> = message
        .session
        .transactions
        .iter()
        .filter(|t| t.descriptor.mode == TransactionMode::Request)
        .filter(|t| !matches!(t.content, imps_protocol::Primitive::PollingRequest(_)))
        .map(|t| t.content.kind())
        .collect();
    let request = Request::csp_from(message, peer);
    let shard = route(&request, local.shards(), &config.domain);
    let reply = local.call_on(shard, request).await;
    let mut reply = match reply {
        Ok(Reply::Csp(m)) => m,
        Ok(Reply::Admin(_)) | Err(_) => {
            FRONT.with(|f| f.borrow_mut().http(503));
            return (text(503, "service unavailable\n"), Some(shard));
        }
    };
    if let (Some(m), Some(hub)) = (reply.as_mut(), hub)
        && m.session.cir == Some(true)
    {
        let up = m
            .session
            .descriptor
            .session_id
            .as_ref()
            .is_some_and(|sid| hub.has_tcp(sid.as_str()));
        m.session.cir = Some(up);
    }
    FRONT.with(|f| {
        let mut f = f.borrow_mut();
        if let Some(m) = &reply {
            let answers = m
                .session
                .transactions
                .iter()
                .filter(|t| t.descriptor.mode == TransactionMode::Response);
            for (i, t) in answers.enumerate() {
                let name = names.get(i).copied().unwrap_or("Response");
                f.transaction(name, result_code(&t.content));
            }
        }
        f.http(200);
    });
    (answer(reply.as_ref(), &reply_type), Some(shard))
}

/// The session ID asked about by `GET /cir?session=ID`.
pub fn cir_session(query: Option<&str>) -> Option<&str> {
    query?
        .split('&')
        .find_map(|kv| kv.strip_prefix("session="))
        .filter(|s| !s.is_empty() && s.len() <= 64)
}

/// The `/health` answer.
pub fn health() -> HttpResponse {
    text(200, "ok\n")
}

/// Shared service state of one executor.
pub struct ServiceState {
    /// The executor's shard.
    pub local: LocalShard<Shard>,
    /// Settings.
    pub config: ServiceConfig,
}

impl std::fmt::Debug for ServiceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceState")
            .field("shard", &self.local.index())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_cir_queries() {
        assert_eq!(endpoint("GET", "/health"), Endpoint::Health);
        assert_eq!(endpoint("HEAD", "/health"), Endpoint::Health);
        assert_eq!(endpoint("POST", "/imps"), Endpoint::Csp);
        assert_eq!(endpoint("POST", "/"), Endpoint::Csp);
        assert_eq!(endpoint("GET", "/imps"), Endpoint::MethodNotAllowed);
        assert_eq!(endpoint("GET", "/nope"), Endpoint::NotFound);
        assert_eq!(cir_session(Some("a=1&session=0-ab")), Some("0-ab"));
        assert_eq!(cir_session(Some("session=")), None);
        assert_eq!(cir_session(None), None);
    }

    #[test]
    fn msisdn_is_trusted_only_from_proxies() {
        let proxy: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let phone: SocketAddr = "10.9.9.9:5000".parse().unwrap();
        let proxies = ["10.0.0.1".parse().unwrap()];
        assert_eq!(
            trusted_msisdn(Some("+358401234"), proxy, &proxies),
            Some("+358401234")
        );
        assert_eq!(trusted_msisdn(Some("+358401234"), phone, &proxies), None);
        assert_eq!(trusted_msisdn(Some("12; drop"), proxy, &proxies), None);
        assert_eq!(trusted_msisdn(None, proxy, &proxies), None);
    }
}
