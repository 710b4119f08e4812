//! The durable outbound queue of the federation: every [`QueueChange`] is appended to
//! `DATA/federation/queue.log` (frames with length and CRC32C from [`crate::storage`]),
//! written and `fdatasync`ed by a writer thread that groups whatever arrived meanwhile into
//! one sync (group commit) and reports the last durable record. On start the log is replayed,
//! rewritten with only the items still queued, and those items are handed back; it is
//! compacted the same way once enough records have been appended since.
//!
//! Instants are process-local, so the log keeps wall-clock milliseconds. Messages, delivery
//! reports and the service requests of local users ([`ItemOrigin::Service`]: presence,
//! invitations, groups, profiles) are logged; items relayed for other domains and the service
//! agreement are not (see [`QueueLog::record`]).
//!
//! A service record keeps only the SSP transaction: its [`RemoteRequest`] is derived again
//! from the transaction's content on replay (one source of truth, the very primitive the peer
//! gets). A record that no longer decodes (damaged, or from a version that wrote something
//! this one cannot read) is skipped with a warning and dropped by the rewrite that follows.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use imps_protocol::ssp::{
    SessionBlock, SspError, SspMessage, Transaction, decode_ssp, encode_ssp_into,
};
use imps_protocol::{Limits, StatusCode};

use crate::federation::{ItemOrigin, QueueChange, RemoteRequest};
use crate::storage::{FrameReader, encode_frame};

/// Records appended since the last compaction after which the log is rewritten.
const COMPACT_EVERY: u64 = 10_000;

/// Why the queue log could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueueLogError {
    /// A file operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// Why a record of the log could not be read back (the record is skipped).
#[derive(Debug, thiserror::Error)]
enum RecordError {
    /// The record ends before its last field.
    #[error("the record is cut short")]
    Truncated,
    /// The transaction does not decode as SSP.
    #[error("its transaction does not decode: {0}")]
    Ssp(#[from] SspError),
    /// The SSP holds no session transaction.
    #[error("it holds no session transaction")]
    NoTransaction,
    /// The origin tag is unknown.
    #[error("unknown origin tag {0}")]
    UnknownOrigin(u8),
    /// A service record whose transaction is not a service request.
    #[error("its transaction is not a service request")]
    NotAService,
    /// A service record whose request is incomplete (a party is missing).
    #[error("its service request is invalid ({0})")]
    InvalidService(StatusCode),
}

/// An item read back from the log, to be restored into the federation's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedItem {
    /// The peer.
    pub peer: String,
    /// The request.
    pub transaction: Transaction,
    /// Who waits for the outcome.
    pub origin: ItemOrigin,
    /// When it was queued, ms since the Unix epoch.
    pub enqueued_ms: u64,
    /// When it expires, ms since the Unix epoch.
    pub expires_ms: u64,
}

enum WriterMsg {
    /// Frames to append; the last record's sequence number.
    Append(Vec<u8>, u64),
    /// Replace the file by these frames; the last record's sequence number so far.
    Rewrite(Vec<u8>, u64),
}

/// The writing side, owned by the desk.
pub struct QueueLog {
    writer: flume::Sender<WriterMsg>,
    next_seq: u64,
    live: HashMap<(String, String), Vec<u8>>,
    since_compact: u64,
}

impl std::fmt::Debug for QueueLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueLog")
            .field("next_seq", &self.next_seq)
            .field("live", &self.live.len())
            .finish()
    }
}

impl QueueLog {
    /// Opens (or creates) the log under `data_dir`, replays and compacts it, and starts the
    /// writer thread. Returns the log, the items still queued, and the channel on which the
    /// writer reports the last durable sequence number.
    pub fn open(
        data_dir: &Path,
    ) -> Result<(QueueLog, Vec<LoggedItem>, flume::Receiver<u64>), QueueLogError> {
        let dir = data_dir.join("federation");
        std::fs::create_dir_all(&dir).map_err(|source| QueueLogError::Io {
            op: "create",
            path: dir.clone(),
            source,
        })?;
        let path = dir.join("queue.log");
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => {
                return Err(QueueLogError::Io {
                    op: "read",
                    path,
                    source,
                });
            }
        };
        let mut live: HashMap<(String, String), Vec<u8>> = HashMap::new();
        let mut order: Vec<(String, String)> = Vec::new();
        // A torn or damaged tail ends the replay: what follows it was never acknowledged.
        for payload in FrameReader::new(&bytes) {
            match payload.first() {
                Some(1) => match decode_item(payload) {
                    Ok(item) => {
                        let key = (item.peer.clone(), item.transaction.transaction_id.clone());
                        order.push(key.clone());
                        live.insert(key, payload.to_vec());
                    }
                    Err(e) => tracing::warn!(
                        path = %path.display(),
                        error = %e,
                        "federation queue log: record skipped"
                    ),
                },
                Some(2) => {
                    let mut r = Reader(&payload[1..]);
                    if let (Some(peer), Some(tid)) = (r.string(), r.string()) {
                        live.remove(&(peer, tid));
                    }
                }
                _ => {}
            }
        }
        // An item queued again (its peer lost the session) appears twice in `order`: keep
        // its first place, once.
        let mut seen = HashSet::new();
        order.retain(|k| live.contains_key(k) && seen.insert(k.clone()));
        let items: Vec<LoggedItem> = order
            .iter()
            .filter_map(|k| live.get(k).and_then(|p| decode_item(p).ok()))
            .collect();
        let frames = frames_of(order.iter().filter_map(|k| live.get(k)));
        rewrite(&path, &frames)?;
        let file = open_append(&path)?;
        let (tx, rx) = flume::unbounded::<WriterMsg>();
        let (durable_tx, durable_rx) = flume::unbounded::<u64>();
        std::thread::Builder::new()
            .name("imps-ssp-queue".into())
            .spawn(move || writer(path, file, rx, durable_tx))
            .map_err(|source| QueueLogError::Io {
                op: "start the writer of",
                path: dir.join("queue.log"),
                source,
            })?;
        Ok((
            QueueLog {
                writer: tx,
                next_seq: 1,
                live,
                since_compact: 0,
            },
            items,
            durable_rx,
        ))
    }

    /// Appends `change` (wall clock: `now_ms` at `now`); the record's sequence number, or
    /// `None` when nothing is logged for it (relayed items, the agreement request, and the
    /// removal of an item that was not logged).
    pub fn record(
        &mut self,
        change: &QueueChange,
        now: std::time::Instant,
        now_ms: u64,
    ) -> Option<u64> {
        let wall = |t: std::time::Instant| {
            if t >= now {
                now_ms.saturating_add(u64::try_from((t - now).as_millis()).unwrap_or(u64::MAX))
            } else {
                now_ms.saturating_sub(u64::try_from((now - t).as_millis()).unwrap_or(u64::MAX))
            }
        };
        let payload = match change {
            QueueChange::Enqueued(item) => {
                let logged = LoggedItem {
                    peer: item.peer.clone(),
                    transaction: item.transaction.clone(),
                    origin: item.origin.clone(),
                    enqueued_ms: wall(item.enqueued_at),
                    expires_ms: wall(item.expires_at),
                };
                // Messages, reports and service requests are logged. Relayed items are not:
                // the relay entry that leads their answer back to the other domain is gone
                // after a restart (and that domain retries on its own). Nor is the agreement
                // request: it belongs to one session and is redone when a new one comes up.
                let payload = encode_item(&logged)?;
                self.live.insert(
                    (item.peer.clone(), item.transaction.transaction_id.clone()),
                    payload.clone(),
                );
                payload
            }
            QueueChange::Removed {
                peer,
                transaction_id,
                ..
            } => {
                self.live.remove(&(peer.clone(), transaction_id.clone()))?;
                let mut p = vec![2u8];
                put_str(&mut p, peer);
                put_str(&mut p, transaction_id);
                p
            }
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        self.since_compact += 1;
        let frames = frames_of(std::iter::once(&payload));
        let msg = if self.since_compact >= COMPACT_EVERY {
            self.since_compact = 0;
            WriterMsg::Rewrite(frames_of(self.live.values()), seq)
        } else {
            WriterMsg::Append(frames, seq)
        };
        // A writer that stopped (its disk failed) never reports the record durable.
        let _ = self.writer.send(msg);
        Some(seq)
    }
}

fn frames_of<'a>(payloads: impl Iterator<Item = &'a Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    for p in payloads {
        // Payloads are never empty (they start with their tag) and far below the limit.
        let _ = encode_frame(p, &mut out);
    }
    out
}

fn open_append(path: &Path) -> Result<File, QueueLogError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| QueueLogError::Io {
            op: "open",
            path: path.to_path_buf(),
            source,
        })
}

/// Replaces the file at `path` by `frames`, durably (temporary file, sync, rename, sync of
/// the directory).
fn rewrite(path: &Path, frames: &[u8]) -> Result<(), QueueLogError> {
    let io = |op, source| QueueLogError::Io {
        op,
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("log.tmp");
    let mut f = File::create(&tmp).map_err(|e| io("create", e))?;
    f.write_all(frames).map_err(|e| io("write", e))?;
    f.sync_data().map_err(|e| io("sync", e))?;
    std::fs::rename(&tmp, path).map_err(|e| io("rename", e))?;
    if let Some(dir) = path.parent() {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io("sync the directory of", e))?;
    }
    Ok(())
}

/// The writer thread: appends, syncs once per batch, reports the last durable record.
fn writer(
    path: PathBuf,
    mut file: File,
    rx: flume::Receiver<WriterMsg>,
    durable: flume::Sender<u64>,
) {
    while let Ok(first) = rx.recv() {
        let mut last = 0;
        let mut pending = vec![first];
        pending.extend(rx.try_iter());
        let mut result = Ok(());
        for msg in pending {
            result = result.and_then(|()| match msg {
                WriterMsg::Append(frames, seq) => {
                    last = seq;
                    file.write_all(&frames).map_err(|e| e.to_string())
                }
                WriterMsg::Rewrite(frames, seq) => {
                    last = seq;
                    rewrite(&path, &frames)
                        .and_then(|()| open_append(&path))
                        .map(|f| file = f)
                        .map_err(|e| e.to_string())
                }
            });
        }
        match result.and_then(|()| file.sync_data().map_err(|e| e.to_string())) {
            Ok(()) => {
                if durable.send(last).is_err() {
                    return;
                }
            }
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "federation queue log failed");
                return;
            }
        }
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
        None => out.push(0),
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u64(&mut self) -> Option<u64> {
        self.take(8)?.try_into().ok().map(u64::from_le_bytes)
    }

    fn string(&mut self) -> Option<String> {
        let len = u32::from_le_bytes(self.take(4)?.try_into().ok()?) as usize;
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }

    fn opt(&mut self) -> Option<Option<String>> {
        match self.u8()? {
            0 => Some(None),
            _ => self.string().map(Some),
        }
    }
}

/// The log form of a queued message, report or service request; `None` for items that are
/// not logged.
fn encode_item(item: &LoggedItem) -> Option<Vec<u8>> {
    let mut out = vec![1u8];
    put_str(&mut out, &item.peer);
    let mut xml = Vec::new();
    encode_ssp_into(
        &SspMessage::Session(SessionBlock {
            session_id: "queue".into(),
            transactions: vec![item.transaction.clone()],
        }),
        &mut xml,
    );
    put_str(&mut out, &String::from_utf8_lossy(&xml));
    match &item.origin {
        ItemOrigin::Message {
            sender,
            recipient,
            message_id,
        } => {
            out.push(1);
            put_str(&mut out, sender);
            put_str(&mut out, recipient);
            put_opt(&mut out, message_id.as_deref());
        }
        ItemOrigin::DeliveryReport {
            original_sender,
            recipient,
            message_id,
        } => {
            out.push(2);
            put_str(&mut out, original_sender);
            put_str(&mut out, recipient);
            put_opt(&mut out, message_id.as_deref());
        }
        // Only the tag: the request is derived again from the transaction on replay. A
        // transaction it cannot be derived from would be skipped then: not logged at all.
        ItemOrigin::Service(request) => {
            match RemoteRequest::from_content(&item.transaction.content) {
                Some(Ok(_)) => out.push(3),
                other => {
                    tracing::warn!(
                        peer = %item.peer,
                        transaction_id = %item.transaction.transaction_id,
                        ?request,
                        derived = ?other,
                        "service request not logged: its transaction does not carry it"
                    );
                    return None;
                }
            }
        }
        ItemOrigin::Relay { .. } | ItemOrigin::Agreement => return None,
    }
    out.extend_from_slice(&item.enqueued_ms.to_le_bytes());
    out.extend_from_slice(&item.expires_ms.to_le_bytes());
    Some(out)
}

fn decode_item(payload: &[u8]) -> Result<LoggedItem, RecordError> {
    let mut r = Reader(payload.get(1..).ok_or(RecordError::Truncated)?);
    let peer = r.string().ok_or(RecordError::Truncated)?;
    let xml = r.string().ok_or(RecordError::Truncated)?;
    let transaction = match decode_ssp(xml.as_bytes(), &Limits::default())? {
        SspMessage::Session(block) => block
            .transactions
            .into_iter()
            .next()
            .ok_or(RecordError::NoTransaction)?,
        SspMessage::Setup(_) => return Err(RecordError::NoTransaction),
    };
    let origin = match r.u8().ok_or(RecordError::Truncated)? {
        tag @ (1 | 2) => {
            let (a, b, id) = (r.string(), r.string(), r.opt());
            let (Some(a), Some(b), Some(id)) = (a, b, id) else {
                return Err(RecordError::Truncated);
            };
            if tag == 1 {
                ItemOrigin::Message {
                    sender: a,
                    recipient: b,
                    message_id: id,
                }
            } else {
                ItemOrigin::DeliveryReport {
                    original_sender: a,
                    recipient: b,
                    message_id: id,
                }
            }
        }
        3 => match RemoteRequest::from_content(&transaction.content) {
            Some(Ok(request)) => ItemOrigin::Service(Box::new(request)),
            Some(Err(code)) => return Err(RecordError::InvalidService(code)),
            None => return Err(RecordError::NotAService),
        },
        tag => return Err(RecordError::UnknownOrigin(tag)),
    };
    Ok(LoggedItem {
        peer,
        transaction,
        origin,
        enqueued_ms: r.u64().ok_or(RecordError::Truncated)?,
        expires_ms: r.u64().ok_or(RecordError::Truncated)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::federation::{QueuedItem, RemovalReason};
    use imps_protocol::ssp::{Content, Mode, Status};
    use std::time::{Duration, Instant};

    pub(super) fn item(tid: &str, now: Instant) -> QueuedItem {
        QueuedItem {
            peer: "b.test".into(),
            transaction: Transaction::new(Mode::Request, tid, Content::Status(Status::new(200))),
            origin: ItemOrigin::Message {
                sender: "wv:alice@a.test".into(),
                recipient: "wv:bob@b.test".into(),
                message_id: Some("m1".into()),
            },
            enqueued_at: now,
            expires_at: now + Duration::from_secs(60),
        }
    }

    #[test]
    fn queued_items_survive_a_restart_and_removed_ones_do_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let now = Instant::now();
        {
            let (mut log, items, durable) = QueueLog::open(dir.path()).expect("open");
            assert!(items.is_empty());
            log.record(
                &QueueChange::Enqueued(Box::new(item("t1", now))),
                now,
                1_000_000,
            );
            log.record(
                &QueueChange::Enqueued(Box::new(item("t2", now))),
                now,
                1_000_000,
            );
            let last = log.record(
                &QueueChange::Removed {
                    peer: "b.test".into(),
                    transaction_id: "t1".into(),
                    reason: RemovalReason::Acknowledged,
                },
                now,
                1_000_000,
            );
            let mut seen = 0;
            while seen < last.expect("logged") {
                seen = durable
                    .recv_timeout(Duration::from_secs(5))
                    .expect("durable");
            }
        }
        let (_, items, _) = QueueLog::open(dir.path()).expect("reopen");
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].transaction.transaction_id, "t2");
        assert_eq!(items[0].expires_ms, 1_060_000);
        assert_eq!(items[0].origin, item("t2", now).origin);
        // A torn tail is ignored.
        let path = dir.path().join("federation/queue.log");
        let mut bytes = std::fs::read(&path).expect("read");
        bytes.extend_from_slice(&[9, 0, 0, 0, 1]);
        std::fs::write(&path, bytes).expect("write");
        let (_, items, _) = QueueLog::open(dir.path()).expect("reopen torn");
        assert_eq!(items.len(), 1);
    }
}

#[cfg(test)]
#[path = "queue_log_tests.rs"]
mod service_tests;
