//! SSP federation wired into `impsd serve` (issue 11): the sans-IO [`crate::federation`]
//! state machine driven by a desk task on executor 0, a small HTTP/1.1 client that POSTs its
//! transmits to the peers, the SSP endpoint on the CSP listener, and the hooks by which the
//! shards hand messages for remote users to the desk and take messages from other domains.
//!
//! ```text
//!   shard (SendMessage to wv:bob@b.test) --FederationOut--> desk --Transmit--> POST peer
//!   POST /ssp (peer) --> endpoint --DeskMsg::Incoming--> desk --Admin::DeliverRemote--> shard
//!   desk: SendResult / answer_wait --> Admin::RemotePosted (the SendMessage-Response)
//!   shard (report for a remote sender) --FederationOut::Report--> desk --> peer
//! ```

pub mod client;
pub mod desk;
pub mod discovery;
pub mod endpoint;
pub mod queue_log;
mod sender;
pub(crate) mod service_side;
pub mod settings;
mod shard_side;
pub mod stats;
mod user_profile;

use imps_protocol::StatusCode;

pub use desk::{DeskHandle, DeskMsg, DeskTiming, start_desk};
pub use settings::FederationSettings;
pub use shard_side::FederationOp;
pub use stats::PeerStats;

/// What a shard hands to the federation desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FederationOut {
    /// A message of a local user for users of other domains; the desk answers the part
    /// (`query`, `part`) of shard `shard` with [`crate::shard::Admin::RemotePosted`].
    Send {
        /// The shard waiting for the outcome.
        shard: usize,
        /// The waiting request.
        query: u64,
        /// Its part.
        part: u32,
        /// The message.
        letter: RemoteLetter,
        /// The remote recipients (normalized user IDs).
        recipients: Vec<String>,
    },
    /// The delivery report of a local recipient for a sender of another domain.
    Report {
        /// The remote sender.
        original_sender: String,
        /// The local recipient.
        recipient: String,
        /// The message id the sender knows.
        message_id: String,
        /// The delivery outcome.
        code: StatusCode,
        /// When it was delivered, ms since the Unix epoch.
        delivered_ms: Option<u64>,
    },
    /// A local user's request for another domain (presence, invitation, group); the outcome
    /// comes back to part (`query`, `part`) of shard `shard` as
    /// [`FederationOp::Outcome`] (`query` 0: nobody waits).
    Request {
        /// The shard of the asking user.
        shard: usize,
        /// The waiting request (0: none).
        query: u64,
        /// Its part.
        part: u32,
        /// The request; its acting user is local.
        request: Box<crate::federation::RemoteRequest>,
    },
    /// A presence value of a local user for watchers of other domains (batched per domain
    /// by the federation).
    Presence {
        /// The remote watchers.
        watchers: Vec<String>,
        /// The value (the publisher and its attributes).
        value: imps_protocol::ssp::PresenceValue,
    },
}

/// An instant message crossing a domain border, in the shards' terms.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RemoteLetter {
    /// The message id (the sender domain's).
    pub id: String,
    /// The sender (`wv:alice@a.test`).
    pub sender: String,
    /// MIME type.
    pub content_type: Option<String>,
    /// The content as CSP carries it.
    pub content: Option<String>,
    /// `content` is BASE64 text.
    pub base64: bool,
    /// The sender asked for delivery reports.
    pub report: bool,
    /// When `sender` is a group relaying a member's message: that member's screen name.
    pub screen_name: Option<String>,
}

/// The way from the shards to the desk, when peers are configured: the sender goes into
/// [`crate::server::EngineConfig::federation`] (so a shard rebuilt after a log failure is
/// connected again), the receiver to [`start`].
pub type DeskChannel = (flume::Sender<FederationOut>, flume::Receiver<FederationOut>);

/// A [`DeskChannel`] when `settings` configure peers.
pub fn desk_channel(settings: &crate::settings::ServeSettings) -> Option<DeskChannel> {
    settings.federation.enabled().then(flume::unbounded)
}

/// Starts the desk on executor 0, reading what the shards send on `out_rx`; the handle is
/// for the SSP endpoint.
pub fn start(
    client: &crate::server::EngineClient,
    settings: &crate::settings::ServeSettings,
    out_rx: flume::Receiver<FederationOut>,
) -> Result<DeskHandle, String> {
    let f = &settings.federation;
    let config = f.to_config(&settings.domain).map_err(|e| e.to_string())?;
    let timing = DeskTiming {
        answer_wait: std::time::Duration::from_millis(f.answer_wait_ms),
        connect_timeout: std::time::Duration::from_millis(f.connect_timeout_ms.max(1)),
        response_timeout: std::time::Duration::from_millis(f.send_timeout_ms.max(1)),
        discovery: f
            .name_server()
            .map_err(|e| e.to_string())?
            .map(|server| discovery::Discovery {
                server,
                timeout: std::time::Duration::from_millis(f.dns_timeout_ms.max(1)),
                retry: std::time::Duration::from_secs(f.dns_retry_s),
            }),
    };
    let seed = crate::persist::os_seed().map_err(|e| e.to_string())?;
    let queue = queue_log::QueueLog::open(&settings.data_dir).map_err(|e| e.to_string())?;
    let pending = client
        .runtime()
        .spawn_on(
            0,
            move |local: crate::runtime::LocalShard<crate::shard::Shard>| async move {
                start_desk(&local, config, timing, seed, queue, out_rx)
            },
        )
        .map_err(|e| e.to_string())?;
    pending.wait().map_err(|e| e.to_string())?
}

/// True when `user` (normalized, `wv:name@domain`) belongs to another domain than `local`.
pub(crate) fn is_remote(user: &str, local: &str) -> bool {
    user.rsplit_once('@')
        .is_some_and(|(_, d)| !d.is_empty() && !d.eq_ignore_ascii_case(local))
}

#[cfg(test)]
mod tests {
    use super::is_remote;

    #[test]
    fn users_of_other_domains_are_remote() {
        assert!(is_remote("wv:bob@b.test", "a.test"));
        assert!(!is_remote("wv:bob@A.test", "a.test"));
        assert!(!is_remote("wv:bob", "a.test"));
    }
}
