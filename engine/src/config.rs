//! What a shard needs to know about its deployment: domain, session timing, login policy,
//! the CIR channels offered and the service provider's details. Plain data with defaults
//! that serve as-is on a laptop; read from TOML by the server binary.

use serde::Deserialize;

use crate::credentials::DigestScheme;

/// The service provider's details for `GetSPInfo-Response`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpInfo {
    /// Provider name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Home page.
    pub url: Option<String>,
    /// Logo MIME type (with `logo_base64`).
    pub logo_content_type: Option<String>,
    /// Logo bytes, Base64.
    pub logo_base64: Option<String>,
}

impl Default for SpInfo {
    fn default() -> Self {
        Self {
            name: "IMPS engine".into(),
            description: Some("Wireless Village / OMA IMPS service".into()),
            url: None,
            logo_content_type: None,
            logo_base64: None,
        }
    }
}

/// Session and login policy of the access service.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccessConfig {
    /// The service's domain: `alice` means `wv:alice@<domain>`.
    pub domain: String,
    /// Keep-alive time given when the client asks for none, seconds.
    pub keep_alive_default_s: u32,
    /// Shortest keep-alive time granted, seconds.
    pub keep_alive_min_s: u32,
    /// Longest keep-alive time granted, seconds.
    pub keep_alive_max_s: u32,
    /// Result code of a digest challenge (401 default; some clients want 200).
    pub challenge_code: u16,
    /// How long a login nonce stays valid, milliseconds.
    pub nonce_ttl_ms: u64,
    /// Accept a plain `Password` login.
    pub allow_plain_password: bool,
    /// Digest schemes the server accepts, best first.
    #[serde(skip)]
    pub digest_schemes: Vec<DigestScheme>,
    /// Minimum seconds between polls (`ServerPollMin`).
    pub server_poll_min_s: u32,
    /// Standalone TCP CIR address offered to clients (host, port).
    pub cir_tcp: Option<(String, u16)>,
    /// Standalone UDP CIR offered.
    pub cir_udp: bool,
    /// Standalone HTTP CIR URL offered (1.2+).
    pub cir_http_url: Option<String>,
    /// Largest content a client may be sent or send, bytes.
    pub max_content_length: u32,
    /// Sessions one user may hold at once.
    pub max_sessions_per_user: usize,
    /// Server-originated transactions queued per session before new ones are refused.
    pub outbox_limit: usize,
    /// Contact lists one user may have (753 beyond).
    pub max_contact_lists: usize,
    /// Contacts one list may hold (754 beyond).
    pub max_contacts_per_list: usize,
    /// Sessions watching one user at most (754 beyond).
    pub max_watchers_per_user: usize,
    /// Users one session may subscribe to (754 beyond).
    pub max_subscriptions_per_session: usize,
    /// Presences per PresenceNotification-Request sent to a client.
    pub presences_per_notification: usize,
    /// Messages waiting for one recipient at most (507 beyond).
    pub max_waiting_messages: usize,
    /// Bytes of messages waiting for one recipient at most (507 beyond).
    pub max_waiting_bytes: usize,
    /// Longest a message waits for delivery, seconds (its Validity can only be shorter).
    pub max_message_validity_s: u32,
    /// Recipients of one SendMessage-Request at most.
    pub max_recipients: usize,
    /// Entries of a block or grant list at most.
    pub max_access_list: usize,
    /// Private groups one user may own at once (814 beyond).
    pub max_groups_per_user: usize,
    /// How long an ended session's ID is remembered (to answer 600/601 instead of 604), ms.
    pub ended_memory_ms: u64,
    /// The service provider's details.
    pub sp_info: SpInfo,
}

impl Default for AccessConfig {
    fn default() -> Self {
        Self {
            domain: "imps.local".into(),
            keep_alive_default_s: 300,
            keep_alive_min_s: 30,
            keep_alive_max_s: 3600,
            challenge_code: 401,
            nonce_ttl_ms: 30_000,
            allow_plain_password: true,
            digest_schemes: vec![DigestScheme::Sha1, DigestScheme::Md5],
            server_poll_min_s: 10,
            cir_tcp: None,
            cir_udp: false,
            cir_http_url: None,
            max_content_length: 65_536,
            max_sessions_per_user: 8,
            outbox_limit: 256,
            max_contact_lists: 32,
            max_contacts_per_list: 1000,
            max_watchers_per_user: 100_000,
            max_subscriptions_per_session: 5_000,
            presences_per_notification: 50,
            max_waiting_messages: 1000,
            max_waiting_bytes: 4 << 20,
            max_message_validity_s: 7 * 86_400,
            max_recipients: 1000,
            max_access_list: 1000,
            max_groups_per_user: 50,
            ended_memory_ms: 3_600_000,
            sp_info: SpInfo::default(),
        }
    }
}
