//! Per-shard append-only logs, snapshots and recovery (being written).
