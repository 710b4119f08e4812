//! Torn and corrupt tails of a real shard log (engine records: users with sealed passwords),
//! loaded back with `persist::load_shard` as the server does at startup: truncated at every
//! byte offset of its last records, every bit of them flipped, snapshots truncated, and a
//! restart that continues after the damage. Recovery must keep every complete record before
//! the damage, say what it dropped, and never panic.

/// Named `torn_tail` so that `cargo test -p imps-engine torn_tail` selects these tests.
#[cfg(test)]
mod torn_tail {
    use std::fs;
    use std::path::{Path, PathBuf};

    use imps_engine::config::AccessConfig;
    use imps_engine::core::LogSeq;
    use imps_engine::persist::{Provisioner, check_data_dir, load_shard};
    use imps_engine::record::Profile;
    use imps_engine::storage::{
        DamageKind, DataDir, FRAME_HEADER, FrameReader, RecoveryReport, write_snapshot,
    };

    /// Records whose every byte is damaged in turn.
    const LAST: usize = 3;

    /// A one-shard data directory with `n` users (`u1..=un`), written by the provisioning tool.
    fn provision(path: &Path, n: usize) {
        let mut p = Provisioner::open(path, Some(1), AccessConfig::default()).unwrap();
        for i in 1..=n {
            p.put_user(&format!("u{i}"), "secret", Profile::default())
                .unwrap();
        }
        p.finish().unwrap();
    }

    fn load(path: &Path) -> (Vec<String>, RecoveryReport) {
        let dir = DataDir::open_existing(path).unwrap();
        let key = dir.master_key().unwrap();
        let (shard, report) = load_shard(&dir, 0, AccessConfig::default(), key, [7; 32]).unwrap();
        let mut users: Vec<String> = shard.image().users.into_iter().map(|u| u.id).collect();
        users.sort();
        (users, report)
    }

    fn expected_users(n: usize) -> Vec<String> {
        let mut v: Vec<String> = (1..=n).map(|i| format!("wv:u{i}@imps.local")).collect();
        v.sort();
        v
    }

    fn only_segment(path: &Path) -> PathBuf {
        let shard = path.join("shard-0");
        let mut segs: Vec<PathBuf> = fs::read_dir(&shard)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "wal"))
            .collect();
        assert_eq!(segs.len(), 1, "{segs:?}");
        segs.remove(0)
    }

    /// (start, end) of every frame in `bytes`.
    fn frames(bytes: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut start = 0;
        for p in FrameReader::new(bytes) {
            out.push((start, start + FRAME_HEADER + p.len()));
            start += FRAME_HEADER + p.len();
        }
        out
    }

    #[test]
    fn truncation_at_every_offset_of_the_last_records() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        provision(&data, 10);
        let seg = only_segment(&data);
        let bytes = fs::read(&seg).unwrap();
        let frames = frames(&bytes);
        assert_eq!(frames.len(), 10);
        assert_eq!(frames[9].1, bytes.len());
        for cut in frames[10 - LAST].0..=bytes.len() {
            fs::write(&seg, &bytes[..cut]).unwrap();
            let complete = frames.iter().filter(|(_, end)| *end <= cut).count();
            let (users, report) = load(&data);
            assert_eq!(users, expected_users(complete), "cut at {cut}");
            assert_eq!(report.next_seq, LogSeq(complete as u64 + 1));
            if frames.iter().any(|(_, end)| *end == cut) {
                assert!(report.damage.is_empty(), "cut {cut}: {:?}", report.damage);
            } else {
                assert_eq!(report.damage.len(), 1, "cut {cut}");
                let d = &report.damage[0];
                assert_eq!(d.kind, DamageKind::Torn, "cut {cut}: {d}");
                assert_eq!(d.offset, frames[complete].0 as u64);
                assert_eq!(d.dropped_bytes, (cut - frames[complete].0) as u64);
                assert!(report.lost_data());
            }
        }
    }

    #[test]
    fn every_bit_of_the_last_records_flipped() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        provision(&data, 10);
        let seg = only_segment(&data);
        let bytes = fs::read(&seg).unwrap();
        let frames = frames(&bytes);
        let mut damaged = bytes.clone();
        for at in frames[10 - LAST].0..bytes.len() {
            let hit = frames
                .iter()
                .position(|(s, e)| (*s..*e).contains(&at))
                .unwrap();
            for bit in 0..8 {
                damaged[at] ^= 1 << bit;
                fs::write(&seg, &damaged).unwrap();
                let (users, report) = load(&data);
                assert_eq!(users, expected_users(hit), "byte {at} bit {bit}");
                assert_eq!(report.next_seq, LogSeq(hit as u64 + 1));
                assert_eq!(report.damage.len(), 1, "byte {at} bit {bit}");
                let d = &report.damage[0];
                assert!(
                    matches!(d.kind, DamageKind::Corrupt | DamageKind::Torn),
                    "byte {at} bit {bit}: {d}"
                );
                assert_eq!(d.offset, frames[hit].0 as u64);
                assert_eq!(d.dropped_bytes, (bytes.len() - frames[hit].0) as u64);
                damaged[at] ^= 1 << bit;
            }
        }
        // `impsd check`'s verdict on a flip in the middle: lost data, naming the segment.
        damaged[frames[5].0 + FRAME_HEADER + 2] ^= 0x08;
        fs::write(&seg, &damaged).unwrap();
        let checks = check_data_dir(&data).unwrap();
        assert!(!checks[0].is_sound(), "{:?}", checks[0]);
        assert!(checks[0].lost[0].contains("log-00000000000000000001.wal"));
    }

    #[test]
    fn restart_after_a_torn_tail_continues_cleanly() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        provision(&data, 6);
        let seg = only_segment(&data);
        let bytes = fs::read(&seg).unwrap();
        let frames = frames(&bytes);
        // A crash in the middle of writing record 6.
        fs::write(&seg, &bytes[..frames[5].0 + 11]).unwrap();
        // The next run (here: the provisioning tool) recovers 5 records and continues at 6.
        let mut p = Provisioner::open(&data, Some(1), AccessConfig::default()).unwrap();
        p.put_user("late", "pw", Profile::default()).unwrap();
        p.finish().unwrap();
        let (users, report) = load(&data);
        let mut want = expected_users(5);
        want.push("wv:late@imps.local".into());
        want.sort();
        assert_eq!(users, want);
        assert_eq!(report.next_seq, LogSeq(7));
        // The old torn bytes are behind the new segment's start: not read, not reported.
        assert!(report.damage.is_empty(), "{:?}", report.damage);
        let checks = check_data_dir(&data).unwrap();
        assert!(
            checks[0].is_sound() && checks[0].tails.is_empty(),
            "{checks:?}"
        );
    }

    #[test]
    fn truncated_snapshot_falls_back_to_the_log() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        provision(&data, 8);
        let dir = DataDir::open_existing(&data).unwrap();
        let key = dir.master_key().unwrap();
        let (shard, _) = load_shard(&dir, 0, AccessConfig::default(), key, [1; 32]).unwrap();
        let image = shard.image().to_bytes().unwrap();
        write_snapshot(&dir.shard_dir(0), LogSeq(8), &image).unwrap();
        let (users, report) = load(&data);
        assert_eq!(users, expected_users(8));
        assert_eq!(report.snapshot_seq, Some(LogSeq(8)));
        assert_eq!(report.records_replayed, 0);
        let snap = fs::read_dir(dir.shard_dir(0))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "snap"))
            .unwrap();
        let bytes = fs::read(&snap).unwrap();
        for cut in 0..bytes.len() {
            fs::write(&snap, &bytes[..cut]).unwrap();
            let (users, report) = load(&data);
            assert_eq!(users, expected_users(8), "cut {cut}");
            assert_eq!(report.snapshot_seq, None);
            assert_eq!(report.records_replayed, 8);
            assert!(
                matches!(report.damage[0].kind, DamageKind::Snapshot(_)),
                "{:?}",
                report.damage
            );
        }
    }
}
