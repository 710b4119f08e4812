//! Messaging between shards: a message posted to the recipients a shard owns, the outcome
//! per recipient, and delivery reports travelling back to the sender's shard.

use std::sync::Arc;

use imps_protocol::StatusCode;
use imps_protocol::primitives::DeliveryReportRequest;

use super::mailbox::Letter;

/// A messaging message between shards.
#[derive(Debug)]
pub enum ImMsg {
    /// Sender's shard to recipients' shard.
    Post {
        /// The waiting request (0: nobody waits).
        query: u64,
        /// Its part.
        part: u32,
        /// The message.
        letter: Arc<Letter>,
        /// Recipients owned by the destination shard (normalized user IDs).
        recipients: Vec<Arc<str>>,
    },
    /// The outcome per recipient (sent once stored messages are durable).
    Posted {
        /// The request.
        query: u64,
        /// Its part.
        part: u32,
        /// Per recipient: 200, or why not.
        results: Vec<(Arc<str>, StatusCode)>,
    },
    /// A delivery report for a sender of the destination shard.
    Report {
        /// The sender (normalized user ID).
        sender: Arc<str>,
        /// The report.
        report: Box<DeliveryReportRequest>,
    },
}
