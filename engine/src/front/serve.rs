//! `impsd serve`: the engine plus, on every executor, the HTTP listeners, the CIR hub and
//! the STCP listener, wired to the shard that executor owns.
//!
//! ```text
//!   Engine::start (recover shards) -> per executor:
//!       CirHub + wake inbox   <- wake broadcast <- every shard's wake handler
//!       HTTP Listener(s)      -> ImpsService -> local shard (in place) or another (one hop)
//!         (a connection whose requests keep going to another shard moves to its executor)
//!       STCP Listener         -> HELO checked against the session's shard
//!   Running::shutdown: listeners stop accepting, in-flight requests finish, executors stop.
//! ```

use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use imps_protocol::Limits;

use super::csp::text;
use super::service::{
    self, Endpoint, ExecutorSnapshot, ServiceConfig, cir_session, csp, endpoint, health,
    trusted_msisdn,
};
use crate::cir::{
    CirConfig, CirHub, CirShared, StcpConfig, StcpListener, Validator, run_wake_inbox,
    wake_broadcast,
};
use crate::http::{
    HandoverPort, HttpLimits, HttpRequest, HttpResponse, HttpService, Listener, Method,
    handover_ports,
};
use crate::runtime::{LocalShard, RuntimeError};
use crate::server::{Engine, EngineClient, EngineConfig, EngineError};
use crate::settings::ServeSettings;
use crate::shard::{Admin, AdminDone, Reply, Request, Shard};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The engine could not start.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A listener could not start.
    #[error("shard {shard}: {message}")]
    Listener {
        /// The executor.
        shard: usize,
        /// What failed.
        message: String,
    },
    /// The executors failed.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// SSP federation could not start.
    #[error("federation: {0}")]
    Federation(String),
}

/// A running server.
#[derive(Debug)]
pub struct Running {
    engine: Engine,
    stop: Option<flume::Sender<()>>,
    /// HTTP addresses actually bound (one per configured address).
    pub http: Vec<SocketAddr>,
    /// The STCP address bound, if any.
    pub stcp: Option<SocketAddr>,
}

impl Running {
    /// A client for in-process requests.
    pub fn client(&self) -> EngineClient {
        self.engine.client()
    }

    /// Writes a snapshot of every shard now (see [`Engine::snapshot_now`]).
    pub fn snapshot(&self) -> Result<Vec<u64>, ServeError> {
        Ok(self.engine.snapshot_now()?)
    }

    /// Stops accepting, lets in-flight requests finish briefly, stops the engine.
    pub fn shutdown(mut self) -> Result<(), ServeError> {
        self.stop.take();
        // Listeners close as soon as they see the stop; give in-flight requests a moment.
        std::thread::sleep(Duration::from_millis(100));
        self.engine.shutdown()?;
        Ok(())
    }
}

struct ImpsService {
    local: LocalShard<Shard>,
    config: Rc<ServiceConfig>,
    hub: Rc<CirHub>,
    desk: Option<crate::peering::DeskHandle>,
}

impl HttpService for ImpsService {
    fn call(
        &self,
        request: HttpRequest,
        peer: SocketAddr,
    ) -> Pin<Box<dyn Future<Output = HttpResponse>>> {
        let call = self.call_homed(request, peer);
        Box::pin(async move { call.await.0 })
    }

    /// A CSP request's home is the shard that answered it (executor `i` owns shard `i`).
    fn call_homed(
        &self,
        request: HttpRequest,
        peer: SocketAddr,
    ) -> Pin<Box<dyn Future<Output = (HttpResponse, Option<usize>)>>> {
        let local = self.local.clone();
        let config = Rc::clone(&self.config);
        let hub = Rc::clone(&self.hub);
        let desk = self.desk.clone();
        Box::pin(async move {
            let post = matches!(request.method, Method::Post);
            let ct = request.header("content-type");
            if crate::peering::endpoint::is_ssp(post, &request.path, ct) {
                let path = request.path.clone();
                let body = request.body;
                return (
                    crate::peering::endpoint::serve_ssp(desk.as_ref(), &path, body).await,
                    None,
                );
            }
            let method = match &request.method {
                Method::Get => "GET",
                Method::Head => "HEAD",
                Method::Post => "POST",
                Method::Other(_) => "OTHER",
            };
            let response = match endpoint(method, &request.path) {
                Endpoint::Health => health(),
                Endpoint::Metrics => metrics(&local, desk.is_some()).await,
                Endpoint::Cir => match cir_session(request.query()) {
                    Some(session) => match hub.take_http_pending(session) {
                        Some(line) => text(200, &format!("{line}\r\n")),
                        None => HttpResponse::new(204),
                    },
                    None => text(400, "session=<SessionID> expected\n"),
                },
                Endpoint::Csp => {
                    let ct = request.header("content-type");
                    let msisdn = trusted_msisdn(
                        request.header("msisdn").or(request.header("x-msisdn")),
                        peer,
                        &config.trusted_proxies,
                    );
                    let hub = Some(&*hub);
                    return csp(&local, &config, ct, &request.body, peer, msisdn, hub).await;
                }
                Endpoint::MethodNotAllowed => {
                    HttpResponse::new(405).with_header("Allow", "GET, HEAD, POST")
                }
                Endpoint::NotFound => HttpResponse::new(404),
            };
            (response, None)
        })
    }
}

/// Gathers every executor's numbers and renders them.
async fn metrics(local: &LocalShard<Shard>, federated: bool) -> HttpResponse {
    let mut all: Vec<ExecutorSnapshot> = Vec::with_capacity(local.shards());
    for i in 0..local.shards() {
        let snap = if i == local.index() {
            Some(service::snapshot(local))
        } else {
            match local
                .client()
                .spawn_on(i, |l| async move { service::snapshot(&l) })
            {
                Ok(pending) => pending.wait_async().await.ok(),
                Err(_) => None,
            }
        };
        all.push(snap.unwrap_or_default());
    }
    let mut text = service::render_snapshots(&all);
    if federated
        && let Ok(pending) = local
            .client()
            .spawn_on(0, |_| async { crate::peering::stats::peer_stats() })
        && let Ok(peers) = pending.wait_async().await
        && !peers.is_empty()
    {
        text.push_str(&crate::peering::stats::render_peer_stats(&peers));
    }
    HttpResponse::ok("text/plain; version=0.0.4", text)
}

/// Starts the engine and every listener.
pub fn start(settings: &ServeSettings) -> Result<Running, ServeError> {
    let desk_channel = crate::peering::desk_channel(settings);
    let engine = Engine::start(EngineConfig {
        data_dir: settings.data_dir.clone(),
        shards: settings.shards,
        access: settings.access_config(),
        pin: settings.pin,
        commit_window: Duration::from_micros(settings.commit_window_us),
        spin_before_park: (settings.spin_before_park_us > 0)
            .then(|| Duration::from_micros(settings.spin_before_park_us)),
        snapshot_every: match settings.snapshot_every {
            0 => crate::server::default_snapshot_every(),
            n => n,
        },
        federation: desk_channel.as_ref().map(|(tx, _)| tx.clone()),
    })?;
    let shards = engine.shards();
    let client = engine.client();
    let federation = match desk_channel {
        Some((_, out_rx)) => {
            Some(crate::peering::start(&client, settings, out_rx).map_err(ServeError::Federation)?)
        }
        None => None,
    };
    let shared = CirShared::new(1_000_000);
    let (broadcast, inboxes) = wake_broadcast(shards, 65_536);
    let inboxes = Arc::new(Mutex::new(
        inboxes.into_iter().map(Some).collect::<Vec<_>>(),
    ));
    let (stop_tx, stop_rx) = flume::bounded::<()>(1);
    let h = &settings.http;
    let limits = HttpLimits {
        max_head_bytes: h.max_head_bytes,
        max_body_bytes: h.max_body_bytes,
        header_timeout: Duration::from_millis(h.header_timeout_ms),
        body_timeout: Duration::from_millis(h.body_timeout_ms),
        idle_timeout: Duration::from_millis(h.idle_timeout_ms),
        max_connections: h.max_connections_per_shard,
        ..HttpLimits::default()
    };
    let cir_config = CirConfig {
        stcp: StcpConfig {
            addr: settings.cir.tcp,
            idle_timeout_ms: match settings.cir.tcp_idle_timeout_s {
                0 => StcpConfig::default().idle_timeout_ms,
                s => s.max(60) * 1000,
            },
            ..StcpConfig::default()
        },
        ..CirConfig::default()
    };
    let listen = settings.listen.clone();
    // Per listening address, one hand-over port per executor (taken by executor i).
    let ports: Vec<Vec<Option<HandoverPort>>> = listen
        .iter()
        .map(|_| handover_ports(shards).into_iter().map(Some).collect())
        .collect();
    let ports = Arc::new(Mutex::new(ports));
    let service_config = (
        Arc::<str>::from(settings.domain.as_str()),
        Limits {
            max_body: h.max_body_bytes,
            ..Limits::default()
        },
        h.trusted_proxies.clone(),
    );
    let pending = client
        .runtime()
        .spawn_on_each(move |local: LocalShard<Shard>| {
            let listen = listen.clone();
            let limits = limits.clone();
            let cir_config = cir_config.clone();
            let shared = shared.clone();
            let broadcast = broadcast.clone();
            let inbox = inboxes
                .lock()
                .ok()
                .and_then(|mut v| v.get_mut(local.index()).and_then(Option::take));
            let stop_rx = stop_rx.clone();
            let (domain, decode_limits, proxies) = service_config.clone();
            let federation = federation.clone();
            let my_ports: Vec<Option<HandoverPort>> = ports
                .lock()
                .map(|mut all| {
                    all.iter_mut()
                        .map(|of_addr| of_addr.get_mut(local.index()).and_then(Option::take))
                        .collect()
                })
                .unwrap_or_default();
            async move {
                let i = local.index();
                let desk = federation;
                let fail = |message: String| (i, message);
                let hub = CirHub::new(i, &cir_config, shared).map_err(|e| fail(e.to_string()))?;
                if let Some(inbox) = inbox {
                    local.spawn(run_wake_inbox(Rc::clone(&hub), inbox));
                }
                local.set_wake_handler(Some(Box::new(move |wake| {
                    broadcast.send(wake);
                })));
                let service = Rc::new(ImpsService {
                    local: local.clone(),
                    config: Rc::new(ServiceConfig {
                        domain: Rc::from(&*domain),
                        limits: decode_limits,
                        trusted_proxies: proxies,
                    }),
                    hub: Rc::clone(&hub),
                    desk,
                });
                let mut bound = Vec::new();
                let mut http_stats = Vec::new();
                let mut my_ports = my_ports.into_iter();
                for addr in listen {
                    let mut listener =
                        Listener::bind(addr, limits.clone()).map_err(|e| fail(e.to_string()))?;
                    if let Some(port) = my_ports.next().flatten() {
                        listener = listener.with_handover(port);
                    }
                    bound.push(listener.local_addr());
                    http_stats.push(listener.stats());
                    let service = Rc::clone(&service);
                    let stop = stop_rx.clone();
                    local.spawn(async move {
                        if let Err(e) = listener.run(service, stop).await {
                            tracing::error!(shard = i, error = %e, "HTTP listener failed");
                        }
                    });
                }
                service::register(Some(Rc::clone(&hub)), http_stats);
                let mut stcp = None;
                if let Some(addr) = cir_config.stcp.addr {
                    let listener = StcpListener::bind(addr, cir_config.stcp.clone())
                        .map_err(|e| fail(e.to_string()))?;
                    stcp = Some(listener.local_addr());
                    let validate = validator(local.clone());
                    let hub = Rc::clone(&hub);
                    let stop = stop_rx.clone();
                    local.spawn(async move {
                        if let Err(e) = listener.serve(hub, validate, stop).await {
                            tracing::error!(shard = i, error = %e, "STCP listener failed");
                        }
                    });
                }
                Ok::<_, (usize, String)>((bound, stcp))
            }
        })?;
    let mut http = Vec::new();
    let mut stcp = None;
    for p in pending {
        match p.wait()? {
            Ok((bound, tcp)) => {
                if http.is_empty() {
                    http = bound;
                }
                stcp = stcp.or(tcp);
            }
            Err((shard, message)) => return Err(ServeError::Listener { shard, message }),
        }
    }
    Ok(Running {
        engine,
        stop: Some(stop_tx),
        http,
        stcp,
    })
}

/// A HELO is valid when the session is live on its shard.
fn validator(local: LocalShard<Shard>) -> Validator {
    Rc::new(move |session_id: String| {
        let local = local.clone();
        Box::pin(async move {
            let request = Request::Admin(Admin::CheckSession {
                session_id: session_id.clone(),
            });
            let shard = crate::shard::route(&request, local.shards(), "");
            let reply = local.call_on(shard, request).await;
            matches!(reply, Ok(Reply::Admin(Ok(AdminDone::SessionAlive(true)))))
        })
    })
}
