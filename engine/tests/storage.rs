//! Integration tests of the per-shard storage: logs written with `SyncLog` and `ShardLog`,
//! damaged in every way we can think of, and read back with `recover`.

/// Named `storage` so that `cargo test -p imps-engine storage` selects these tests.
#[cfg(test)]
mod storage {
    use std::{
        cell::RefCell,
        fs,
        future::Future,
        path::{Path, PathBuf},
        rc::Rc,
        sync::Mutex,
        time::Duration,
    };

    use imps_engine::{
        core::LogSeq,
        storage::{
            DamageKind, FRAME_HEADER, RecoveryReport, ShardLog, ShardLogConfig, StorageError,
            SyncLog, recover, run_group_commit, segment_file_name, snapshot_file_name,
            write_snapshot, write_snapshot_async,
        },
    };
    use proptest::prelude::*;

    /// The payload of record `seq`: varied lengths, content tied to the seq.
    fn payload(seq: u64) -> Vec<u8> {
        let len = 1 + (seq * 7 % 61) as usize;
        let mut p = seq.to_le_bytes().to_vec();
        p.resize(len.max(8), (seq % 251) as u8);
        p
    }

    /// Writes records `first..=last` with a new `SyncLog`; returns the segment path.
    fn write_records(dir: &Path, first: u64, last: u64) -> PathBuf {
        let mut log = SyncLog::create(dir, LogSeq(first)).unwrap();
        for seq in first..=last {
            assert_eq!(log.append(&payload(seq)).unwrap(), LogSeq(seq));
        }
        assert_eq!(log.commit().unwrap(), LogSeq(last));
        log.path().to_path_buf()
    }

    #[derive(Debug, Default)]
    struct Replayed {
        snapshots: Vec<(LogSeq, Vec<u8>)>,
        records: Vec<(LogSeq, Vec<u8>)>,
    }

    fn recover_all(dir: &Path) -> (RecoveryReport, Replayed) {
        let mut out = Replayed::default();
        let snapshots = RefCell::new(Vec::new());
        let report = recover::<()>(
            dir,
            |seq, bytes| {
                snapshots.borrow_mut().push((seq, bytes.to_vec()));
                Ok(())
            },
            |seq, bytes| {
                out.records.push((seq, bytes.to_vec()));
                Ok(())
            },
        )
        .unwrap();
        out.snapshots = snapshots.into_inner();
        (report, out)
    }

    fn assert_records(replayed: &Replayed, first: u64, last: u64) {
        let expected: Vec<(LogSeq, Vec<u8>)> =
            (first..=last).map(|s| (LogSeq(s), payload(s))).collect();
        assert_eq!(replayed.records.len(), expected.len());
        assert!(
            replayed.records == expected,
            "records {first}..={last} differ"
        );
    }

    /// Offsets at which each frame of a segment written by `write_records(_, first, _)` starts.
    fn frame_starts(first: u64, last: u64) -> Vec<usize> {
        let mut at = 0;
        (first..=last)
            .map(|s| {
                let start = at;
                at += FRAME_HEADER + payload(s).len();
                start
            })
            .collect()
    }

    #[test]
    fn recover_replays_1000_records_in_order() {
        let dir = tempfile::tempdir().unwrap();
        write_records(dir.path(), 1, 1000);
        let (report, replayed) = recover_all(dir.path());
        assert_records(&replayed, 1, 1000);
        assert!(replayed.snapshots.is_empty());
        assert_eq!(report.snapshot_seq, None);
        assert_eq!(report.records_replayed, 1000);
        assert_eq!(report.next_seq, LogSeq(1001));
        assert!(report.damage.is_empty());
    }

    #[test]
    fn truncation_inside_the_last_two_records_keeps_complete_records() {
        let src = tempfile::tempdir().unwrap();
        let segment = write_records(src.path(), 1, 1000);
        let bytes = fs::read(&segment).unwrap();
        let starts = frame_starts(1, 1000);
        let name = segment.file_name().unwrap();
        for cut in starts[998]..bytes.len() {
            let dir = tempfile::tempdir().unwrap();
            fs::write(dir.path().join(name), &bytes[..cut]).unwrap();
            let (report, replayed) = recover_all(dir.path());
            let complete = (0..1000)
                .filter(|&i| starts[i] + FRAME_HEADER + payload(i as u64 + 1).len() <= cut)
                .count() as u64;
            assert_records(&replayed, 1, complete);
            assert_eq!(report.next_seq, LogSeq(complete + 1), "cut {cut}");
            if starts.contains(&cut) {
                assert!(report.damage.is_empty(), "cut {cut}");
            } else {
                assert_eq!(report.damage.len(), 1, "cut {cut}");
                let damage = &report.damage[0];
                assert!(
                    matches!(damage.kind, DamageKind::Torn | DamageKind::Padding),
                    "cut {cut}: {damage}"
                );
                let offset = starts[complete as usize] as u64;
                assert_eq!(damage.offset, offset);
                assert_eq!(damage.dropped_bytes, cut as u64 - offset);
                assert_eq!(damage.path, dir.path().join(name));
            }
        }
    }

    #[test]
    fn bit_flip_stops_before_the_flipped_record() {
        let dir = tempfile::tempdir().unwrap();
        let segment = write_records(dir.path(), 1, 1000);
        let starts = frame_starts(1, 1000);
        let mut bytes = fs::read(&segment).unwrap();
        bytes[starts[499] + FRAME_HEADER + 3] ^= 0x04;
        fs::write(&segment, &bytes).unwrap();
        let (report, replayed) = recover_all(dir.path());
        assert_records(&replayed, 1, 499);
        assert_eq!(report.next_seq, LogSeq(500));
        assert_eq!(report.damage.len(), 1);
        assert_eq!(report.damage[0].kind, DamageKind::Corrupt);
        assert_eq!(report.damage[0].offset, starts[499] as u64);
        assert_eq!(
            report.damage[0].dropped_bytes,
            (bytes.len() - starts[499]) as u64
        );
        assert!(report.lost_data());
    }

    #[test]
    fn snapshot_then_new_segment_replays_only_later_records() {
        let dir = tempfile::tempdir().unwrap();
        let first = write_records(dir.path(), 1, 500);
        write_snapshot(dir.path(), LogSeq(200), b"state at 200").unwrap();
        let second = write_records(dir.path(), 501, 1000);
        write_snapshot(dir.path(), LogSeq(500), b"state at 500").unwrap();

        // The old segment (records 1..=500) and the old snapshot are gone.
        assert!(!first.exists());
        assert!(second.exists());
        assert!(!dir.path().join(snapshot_file_name(LogSeq(200))).exists());
        assert!(dir.path().join(snapshot_file_name(LogSeq(500))).exists());

        let (report, replayed) = recover_all(dir.path());
        assert_eq!(
            replayed.snapshots,
            vec![(LogSeq(500), b"state at 500".to_vec())]
        );
        assert_records(&replayed, 501, 1000);
        assert_eq!(report.snapshot_seq, Some(LogSeq(500)));
        assert_eq!(report.records_replayed, 500);
        assert_eq!(report.next_seq, LogSeq(1001));
        assert!(report.damage.is_empty());
    }

    #[test]
    fn snapshot_in_the_middle_of_a_segment_skips_covered_records() {
        let dir = tempfile::tempdir().unwrap();
        let segment = write_records(dir.path(), 1, 1000);
        write_snapshot(dir.path(), LogSeq(500), b"s").unwrap();
        assert!(segment.exists(), "the newest segment is never deleted");
        let (report, replayed) = recover_all(dir.path());
        assert_eq!(replayed.snapshots.len(), 1);
        assert_records(&replayed, 501, 1000);
        assert_eq!(report.next_seq, LogSeq(1001));

        // A snapshot past the end of the log: nothing to replay.
        write_snapshot(dir.path(), LogSeq(1200), b"t").unwrap();
        let (report, replayed) = recover_all(dir.path());
        assert!(replayed.records.is_empty());
        assert_eq!(report.next_seq, LogSeq(1201));
    }

    #[test]
    fn write_snapshot_deletes_old_segments_and_snapshots() {
        let dir = tempfile::tempdir().unwrap();
        let s1 = write_records(dir.path(), 1, 100);
        write_snapshot(dir.path(), LogSeq(100), b"a").unwrap();
        let s101 = write_records(dir.path(), 101, 200);
        let s201 = write_records(dir.path(), 201, 300);
        let old_tmp = dir
            .path()
            .join(format!("{}.1.tmp", snapshot_file_name(LogSeq(120))));
        let new_tmp = dir
            .path()
            .join(format!("{}.1.tmp", snapshot_file_name(LogSeq(900))));
        fs::write(&old_tmp, b"leftover").unwrap();
        fs::write(&new_tmp, b"in progress").unwrap();

        write_snapshot(dir.path(), LogSeq(150), b"b").unwrap();
        assert!(!s1.exists(), "records 1..=100 are covered");
        assert!(s101.exists(), "records up to 200 are not all covered");
        assert!(!dir.path().join(snapshot_file_name(LogSeq(100))).exists());
        assert!(!old_tmp.exists());
        assert!(new_tmp.exists(), "may belong to a snapshot being written");

        write_snapshot(dir.path(), LogSeq(1000), b"c").unwrap();
        assert!(!s101.exists());
        assert!(s201.exists(), "the newest segment is never deleted");
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn contiguous_segment_after_a_torn_one_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let first = write_records(dir.path(), 1, 10);
        let starts = frame_starts(1, 10);
        let bytes = fs::read(&first).unwrap();
        fs::write(&first, &bytes[..starts[9] + 5]).unwrap();
        // A restart recovers 1..=9, reports the torn record, and writes on from 10 in a new
        // segment.
        let (report, _) = recover_all(dir.path());
        assert_eq!(report.next_seq, LogSeq(10));
        assert_eq!(report.damage.len(), 1);
        assert_eq!(report.damage[0].kind, DamageKind::Torn);
        assert_eq!(report.damage[0].path, first);
        write_records(dir.path(), 10, 20);

        // From then on the new segment supersedes the torn bytes, which are not re-reported.
        let (report, replayed) = recover_all(dir.path());
        assert_records(&replayed, 1, 20);
        assert_eq!(report.next_seq, LogSeq(21));
        assert!(report.damage.is_empty(), "{:?}", report.damage);
    }

    #[test]
    fn segment_after_a_gap_is_not_applied() {
        let dir = tempfile::tempdir().unwrap();
        let first = write_records(dir.path(), 1, 10);
        let starts = frame_starts(1, 10);
        let bytes = fs::read(&first).unwrap();
        let second = write_records(dir.path(), 11, 20);
        fs::write(&first, &bytes[..starts[7] + 3]).unwrap();

        let (report, replayed) = recover_all(dir.path());
        assert_records(&replayed, 1, 7);
        assert_eq!(report.next_seq, LogSeq(8));
        assert_eq!(report.damage.len(), 2);
        assert_eq!(report.damage[0].kind, DamageKind::Torn);
        assert_eq!(
            report.damage[1].kind,
            DamageKind::Gap {
                expected: LogSeq(8),
                first: LogSeq(11)
            }
        );
        assert_eq!(report.damage[1].path, second);

        // Starting the new history at 8 sets the stale segment aside for good.
        let mut log = SyncLog::create(dir.path(), LogSeq(8)).unwrap();
        assert_eq!(log.set_aside().len(), 1);
        assert!(!second.exists());
        for seq in 8..=15 {
            log.append(&payload(seq)).unwrap();
        }
        log.commit().unwrap();
        let (report, replayed) = recover_all(dir.path());
        assert_records(&replayed, 1, 15);
        assert_eq!(report.next_seq, LogSeq(16));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn random_damage_never_panics(
            cut in 0usize..4000,
            flips in proptest::collection::vec((0usize..4000, any::<u8>()), 0..4),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let segment = write_records(dir.path(), 1, 100);
            let mut bytes = fs::read(&segment).unwrap();
            for (at, mask) in flips {
                if let Some(b) = bytes.get_mut(at) {
                    *b ^= mask;
                }
            }
            bytes.truncate(cut);
            fs::write(&segment, &bytes).unwrap();
            fs::write(dir.path().join(snapshot_file_name(LogSeq(5))), &bytes[..bytes.len() / 2]).unwrap();
            let (report, replayed) = recover_all(dir.path());
            for (seq, p) in &replayed.records {
                prop_assert_eq!(p, &payload(seq.0));
            }
            prop_assert!(report.next_seq.0 >= 1);
        }
    }

    // ---- ShardLog (glommio) ----

    /// Glommio executors lock memory; run one at a time.
    static EXECUTOR: Mutex<()> = Mutex::new(());

    /// Runs `make()` on a fresh glommio executor, failing after 60 s.
    fn on_glommio<T, F, Fut>(make: F) -> T
    where
        T: Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = T> + 'static,
    {
        let _one = EXECUTOR.lock().unwrap_or_else(|e| e.into_inner());
        glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
            .spawn(move || async move {
                glommio::timer::timeout(Duration::from_secs(60), async move { Ok(make().await) })
                    .await
                    .expect("test timed out")
            })
            .unwrap()
            .join()
            .unwrap()
    }

    #[test]
    fn shard_log_group_commits_10000_appends_from_many_tasks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let syncs = on_glommio(move || async move {
            let log = Rc::new(ShardLog::create(&path, LogSeq(1)).await.unwrap());
            let order = Rc::new(RefCell::new(Vec::new()));
            let tasks: Vec<_> = (0..8u64)
                .map(|task| {
                    let log = log.clone();
                    let order = order.clone();
                    glommio::spawn_local(async move {
                        for i in 0..1250u64 {
                            let body = format!("task {task} record {i}").into_bytes();
                            let seq = log.append(&body).unwrap();
                            order.borrow_mut().push((seq, body));
                            let durable = log.commit().await.unwrap();
                            assert!(durable >= seq);
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await;
            }
            assert_eq!(log.durable(), LogSeq(10_000));
            assert_eq!(log.last_appended(), LogSeq(10_000));
            let mut order = order.take();
            order.sort();
            assert_eq!(order.len(), 10_000);
            assert_eq!(order.last().unwrap().0, LogSeq(10_000));
            let syncs = log.syncs();
            // Without closing (an unclean stop): the segment may end with padding.
            drop(log);
            (syncs, order)
        });
        let (syncs, order) = syncs;
        assert!(syncs < 10_000 / 4, "{syncs} syncs for 10000 records");
        assert!(syncs > 0);

        let (report, replayed) = recover_all(dir.path());
        assert_eq!(report.next_seq, LogSeq(10_001));
        assert!(!report.lost_data(), "{:?}", report.damage);
        assert!(report.damage.iter().all(|d| d.kind == DamageKind::Padding));
        let expected: Vec<(LogSeq, Vec<u8>)> = order;
        assert!(replayed.records == expected);
    }

    #[test]
    fn run_group_commit_reports_durable_seqs_monotonically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let reported = on_glommio(move || async move {
            let log = Rc::new(ShardLog::create(&path, LogSeq(1)).await.unwrap());
            let reported = Rc::new(RefCell::new(Vec::new()));
            let committer = {
                let reported = reported.clone();
                glommio::spawn_local(run_group_commit(
                    log.clone(),
                    Duration::from_millis(1),
                    move |seq| reported.borrow_mut().push(seq),
                ))
            };
            for round in 0..50u64 {
                for i in 0..20u64 {
                    log.append(&payload(round * 20 + i + 1)).unwrap();
                }
                glommio::timer::sleep(Duration::from_micros(300)).await;
            }
            while log.durable() < LogSeq(1000) {
                glommio::timer::sleep(Duration::from_millis(1)).await;
            }
            assert_eq!(log.close().await.unwrap(), LogSeq(1000));
            committer.await.unwrap();
            assert!(log.append(b"late").is_err());
            reported.take()
        });
        assert!(reported.windows(2).all(|w| w[0] < w[1]), "{reported:?}");
        assert_eq!(reported.last(), Some(&LogSeq(1000)));
        assert!(reported.len() < 1000);

        let (report, replayed) = recover_all(dir.path());
        assert_records(&replayed, 1, 1000);
        assert!(
            report.damage.is_empty(),
            "closed cleanly: {:?}",
            report.damage
        );
    }

    #[test]
    fn run_group_commit_with_zero_window_commits_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        on_glommio(move || async move {
            let log = Rc::new(ShardLog::create(&path, LogSeq(1)).await.unwrap());
            let reported = Rc::new(RefCell::new(Vec::new()));
            let committer = {
                let reported = reported.clone();
                glommio::spawn_local(run_group_commit(log.clone(), Duration::ZERO, move |seq| {
                    reported.borrow_mut().push(seq)
                }))
            };
            for seq in 1..=5 {
                log.append(&payload(seq)).unwrap();
                while log.durable() < LogSeq(seq) {
                    glommio::timer::sleep(Duration::from_micros(100)).await;
                }
            }
            log.close().await.unwrap();
            committer.await.unwrap();
            assert_eq!(reported.take(), (1..=5).map(LogSeq).collect::<Vec<_>>());
        });
    }

    #[test]
    fn shard_log_rotates_segments_and_continues_after_sync_log() {
        let dir = tempfile::tempdir().unwrap();
        write_records(dir.path(), 1, 100);
        let path = dir.path().to_path_buf();
        on_glommio(move || async move {
            let config = ShardLogConfig {
                segment_bytes: 4096,
            };
            let log = ShardLog::create_with(&path, LogSeq(101), config)
                .await
                .unwrap();
            for seq in 101..=2000 {
                assert_eq!(log.append(&payload(seq)).unwrap(), LogSeq(seq));
                if seq % 37 == 0 {
                    log.commit().await.unwrap();
                }
            }
            assert_eq!(log.close().await.unwrap(), LogSeq(2000));
            assert!(matches!(
                log.append(b"x"),
                Err(StorageError::LogFailed { .. })
            ));
        });
        let segments = fs::read_dir(dir.path()).unwrap().count();
        assert!(segments > 5, "{segments} segments");
        let (report, replayed) = recover_all(dir.path());
        assert_records(&replayed, 1, 2000);
        assert!(report.damage.is_empty(), "{:?}", report.damage);

        // A snapshot deletes the covered segments.
        write_snapshot(dir.path(), LogSeq(1500), b"snap").unwrap();
        let (report, replayed) = recover_all(dir.path());
        assert_records(&replayed, 1501, 2000);
        assert_eq!(report.next_seq, LogSeq(2001));
        assert!(fs::read_dir(dir.path()).unwrap().count() < segments);
        assert!(!dir.path().join(segment_file_name(LogSeq(1))).exists());
    }

    #[test]
    fn deferred_shard_log_creates_its_segment_on_the_first_commit() {
        let dir = tempfile::tempdir().unwrap();
        write_records(dir.path(), 1, 3);
        let path = dir.path().to_path_buf();
        on_glommio(move || async move {
            let config = ShardLogConfig::default();
            let log = ShardLog::create_deferred(&path, LogSeq(4), config).unwrap();
            let segment = path.join(segment_file_name(LogSeq(4)));
            assert_eq!(log.segment_path(), segment);
            assert!(!segment.exists());
            assert_eq!(log.append(&payload(4)).unwrap(), LogSeq(4));
            assert_eq!(log.append(&payload(5)).unwrap(), LogSeq(5));
            assert_eq!(log.commit().await.unwrap(), LogSeq(5));
            assert!(segment.exists());
            log.close().await.unwrap();
        });
        let (report, replayed) = recover_all(dir.path());
        assert_records(&replayed, 1, 5);
        assert!(report.damage.is_empty(), "{:?}", report.damage);
    }

    #[test]
    fn cancelled_commit_fails_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        on_glommio(move || async move {
            let log = ShardLog::create(&path, LogSeq(1)).await.unwrap();
            log.append(b"one").unwrap();
            log.commit().await.unwrap();
            log.append(b"two").unwrap();
            // Cancelled before its write starts (while letting other tasks append): harmless.
            let mut commit = Box::pin(log.commit());
            assert!(futures_lite::future::poll_once(&mut commit).await.is_none());
            drop(commit);
            assert_eq!(log.commit().await.unwrap(), LogSeq(2));

            log.append(b"three").unwrap();
            let mut commit = Box::pin(log.commit());
            // Start the write, then give up on it: what reached the disk is unknown.
            assert!(futures_lite::future::poll_once(&mut commit).await.is_none());
            let writing = futures_lite::future::poll_once(&mut commit).await;
            assert!(
                writing.is_none(),
                "a DMA write does not complete synchronously"
            );
            drop(commit);
            assert_eq!(log.durable(), LogSeq(2));
            assert!(matches!(
                log.commit().await,
                Err(StorageError::LogFailed { durable: 2, .. })
            ));
            assert!(log.append(b"four").is_err());
        });
    }

    #[test]
    fn shard_log_refuses_bad_records_without_numbering_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        on_glommio(move || async move {
            let log = ShardLog::create(&path, LogSeq(1)).await.unwrap();
            assert!(matches!(log.append(b""), Err(StorageError::EmptyRecord)));
            let big = vec![0u8; imps_engine::storage::MAX_RECORD + 1];
            assert!(matches!(
                log.append(&big),
                Err(StorageError::RecordTooLarge { .. })
            ));
            assert_eq!(log.append(b"ok").unwrap(), LogSeq(1));
            assert_eq!(log.commit().await.unwrap(), LogSeq(1));
            // Nothing new: commit returns at once without a sync.
            assert_eq!(log.commit().await.unwrap(), LogSeq(1));
            assert_eq!(log.syncs(), 1);
            assert!(matches!(
                ShardLog::create(&path, LogSeq(0)).await,
                Err(StorageError::ZeroSeq { .. })
            ));
        });
    }

    #[test]
    fn write_snapshot_async_runs_off_the_executor() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        on_glommio(move || async move {
            write_snapshot_async(path, LogSeq(3), b"three".to_vec())
                .await
                .unwrap();
        });
        let (report, replayed) = recover_all(dir.path());
        assert_eq!(replayed.snapshots, vec![(LogSeq(3), b"three".to_vec())]);
        assert_eq!(report.next_seq, LogSeq(4));
    }
}
