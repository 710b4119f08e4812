//! The HTTP/1.1 server layer: a sans-IO request parser ([`RequestParser`]) and response
//! writer ([`HttpResponse::write_to`]), and, on glommio, a connection loop and a
//! [`Listener`] that hand each request to an [`HttpService`]. It knows nothing of CSP: the
//! service does.
//!
//! The I/O boundary is the listener and the connection loop (`listener.rs`, `conn.rs`):
//! everything else here is plain data and pure functions. Services are `Rc`-based and run on
//! the connection's executor (nothing needs to be `Send`).
//!
//! # Use: one listener per executor
//!
//! ```ignore
//! use std::rc::Rc;
//! use imps_engine::http::{HttpLimits, HttpRequest, HttpResponse, Listener};
//!
//! // On each executor (glommio binds with SO_REUSEPORT, so all can bind the same address):
//! let service = Rc::new(|request: HttpRequest, _peer| async move {
//!     HttpResponse::ok("text/plain", request.path)
//! });
//! let listener = Listener::bind(addr, HttpLimits::default())?;
//! let (port, stats) = (listener.local_addr().port(), listener.stats());
//! listener.run(service, stop_rx.clone()).await?; // until a message or all senders dropped
//! ```
//!
//! With several executors, [`handover_ports`] links their listeners so that a connection
//! whose requests keep being served by another executor moves there (see
//! [`HttpService::call_homed`] and [`Listener::with_handover`]).

mod conn;
mod handover;
mod limits;
mod listener;
mod parse;
mod request;
mod response;
mod signal;
mod stats;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

pub use handover::{BALANCE_SLACK, FIRST_STREAK, HandoverPort, MAX_MOVES, handover_ports};
pub use limits::HttpLimits;
pub use listener::{Listener, serve};
pub use parse::{ParseError, ParseEvent, Phase, RequestParser};
pub use request::{HttpRequest, Method, Version};
pub use response::{CONTINUE, HttpResponse, SERVER, WriteOptions, reason_phrase};
pub use stats::{HttpStats, HttpStatsSnapshot, TimeoutKind};

/// What answers requests. Called once per request, in the order the requests arrived on a
/// connection (the next request of the connection waits for this response), on the
/// connection's executor.
///
/// Closures `Fn(HttpRequest, SocketAddr) -> impl Future<Output = HttpResponse>` implement it.
pub trait HttpService: 'static {
    /// Answers `request` from `peer`.
    fn call(
        &self,
        request: HttpRequest,
        peer: SocketAddr,
    ) -> Pin<Box<dyn Future<Output = HttpResponse>>>;

    /// Like [`HttpService::call`], also naming the executor that served the request in place
    /// (`Some(i)`: executor `i`, as numbered by [`handover_ports`]; `None`: any). A listener
    /// with a [`HandoverPort`] moves a connection whose requests keep going to the same
    /// other executor over to it. The default serves with `call` and names none.
    fn call_homed(
        &self,
        request: HttpRequest,
        peer: SocketAddr,
    ) -> Pin<Box<dyn Future<Output = (HttpResponse, Option<usize>)>>> {
        let call = self.call(request, peer);
        Box::pin(async move { (call.await, None) })
    }
}

impl<F, Fut> HttpService for F
where
    F: Fn(HttpRequest, SocketAddr) -> Fut + 'static,
    Fut: Future<Output = HttpResponse> + 'static,
{
    fn call(
        &self,
        request: HttpRequest,
        peer: SocketAddr,
    ) -> Pin<Box<dyn Future<Output = HttpResponse>>> {
        Box::pin(self(request, peer))
    }
}

/// A failure of the listener (connections' own failures only close them).
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The address could not be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The listening socket failed.
    #[error("listener I/O error: {0}")]
    Io(#[from] std::io::Error),
}
