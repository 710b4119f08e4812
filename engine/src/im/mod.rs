//! Instant messaging, sans-IO, as plain functions over a [`crate::shard::Shard`]:
//!
//! ```text
//!   sender's shard                               recipient's shard
//!   SendMessage-Request --> checks, MessageID
//!     one Post per recipient shard ------------>  block/grant lists, quota
//!                                                 online:  NewMessage (push) or
//!                                                          MessageNotification (notify/get)
//!                                                 offline: stored durably first
//!     SendMessage-Response <-------- Posted ----  (sent once the records are durable)
//!   DeliveryReport-Request <-------- Report ----  delivered / rejected / forwarded /
//!                                                 expired / blocked / unknown user
//! ```
//!
//! A message is one shared [`mailbox::Letter`] for all its recipients. Messages wait in the
//! recipient's [`mailbox::Mailbox`] until the client confirms delivery (MessageDelivered),
//! rejects or forwards them, or they expire. Messages for offline users are acknowledged
//! only once their record is durable; a user's last session ending makes what still waits
//! durable too.

pub mod access;
pub(crate) mod deliver;
pub mod mailbox;
pub mod mesh;
pub(crate) mod retrieve;
pub(crate) mod send;
