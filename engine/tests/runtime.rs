//! The thread-per-core runtime driving a toy key-value core on real glommio executors:
//! calls from many threads, batches, the cross-shard mesh, group commit (durable before
//! reply), timers, wake-ups, the local fast path, startup failures and shutdown.
//!
//! Every test body runs under a watchdog that fails it after 30 s instead of hanging.
//! `cargo test -p imps-engine --test runtime -- --nocapture` also prints throughput.

mod runtime_kv;

use imps_engine::core::LogSeq;
use imps_engine::runtime::{LocalShard, LogSink, MemoryLog, Runtime, RuntimeConfig, RuntimeError};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use runtime_kv::*;

#[test]
fn calls_from_many_threads_reach_both_shards() {
    bounded(|| {
        let runtime = start(2);
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                let client = runtime.client();
                std::thread::spawn(move || {
                    for i in 0..200u64 {
                        let shard = (i % 2) as usize;
                        let key = t * 1000 + i;
                        match client.call(shard, Req::Put(key, i)).expect("put") {
                            Rep::Stored { shard: s, .. } => assert_eq!(s, shard),
                            other => panic!("unexpected {other:?}"),
                        }
                        assert_eq!(
                            client.call(shard, Req::Get(key)).expect("get"),
                            Rep::Value {
                                shard,
                                value: Some(i)
                            }
                        );
                        // Keys live on their own shard only.
                        assert_eq!(
                            client.call(1 - shard, Req::Get(key)).expect("get"),
                            Rep::Value {
                                shard: 1 - shard,
                                value: None
                            }
                        );
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("client thread");
        }
        let client = runtime.client();
        let names: Vec<_> = (0..2)
            .map(
                |shard| match client.call(shard, Req::Whoami).expect("whoami") {
                    Rep::Shard { shard: s, thread } => {
                        assert_eq!(s, shard);
                        thread
                    }
                    other => panic!("unexpected {other:?}"),
                },
            )
            .collect();
        assert_ne!(names[0], names[1], "one executor thread per shard");
        assert!(matches!(
            client.call(2, Req::Get(1)),
            Err(RuntimeError::NoSuchShard {
                shard: 2,
                shards: 2
            })
        ));
        for shard in 0..2 {
            assert_eq!(stats(&runtime, shard).requests, 4 * 200 * 3 / 2 + 1);
        }
        runtime.shutdown().expect("clean shutdown");
    });
}

#[test]
fn call_batch_answers_in_request_order() {
    bounded(|| {
        let runtime = start(2);
        let client = runtime.client();
        let mut requests: Vec<Req> = (0..500).map(|k| Req::Put(k, k * 2)).collect();
        requests.extend((0..500).map(Req::Get));
        let replies = client.call_batch(1, requests).expect("batch");
        assert_eq!(replies.len(), 1000);
        for (k, reply) in replies[..500].iter().enumerate() {
            assert_eq!(
                *reply,
                Rep::Stored {
                    shard: 1,
                    seq: LogSeq(k as u64 + 1)
                }
            );
        }
        for (k, reply) in replies[500..].iter().enumerate() {
            assert_eq!(
                *reply,
                Rep::Value {
                    shard: 1,
                    value: Some(k as u64 * 2)
                }
            );
        }
        assert!(client.call_batch(0, Vec::new()).expect("empty").is_empty());

        // The async form, from inside an executor, to the other shard.
        let from_executor = runtime
            .spawn_on(0, |local: LocalShard<KvCore>| async move {
                local
                    .client()
                    .call_batch_async(1, vec![Req::Get(3), Req::Get(999)])
                    .await
            })
            .expect("spawn")
            .wait()
            .expect("task")
            .expect("batch");
        assert_eq!(
            from_executor,
            vec![
                Rep::Value {
                    shard: 1,
                    value: Some(6)
                },
                Rep::Value {
                    shard: 1,
                    value: None
                }
            ]
        );
    });
}

#[test]
fn cross_shard_round_trip() {
    bounded(|| {
        let runtime = start(2);
        let client = runtime.client();
        assert_eq!(
            client.call(0, Req::Forward { to: 1, x: 41 }).expect("0->1"),
            Rep::Forwarded { x: 42, by: 1 }
        );
        assert_eq!(
            client.call(1, Req::Forward { to: 0, x: 9 }).expect("1->0"),
            Rep::Forwarded { x: 10, by: 0 }
        );
        // A shard's message to itself is routed in place.
        assert_eq!(
            client.call(0, Req::Forward { to: 0, x: 1 }).expect("0->0"),
            Rep::Forwarded { x: 2, by: 0 }
        );
        let s0 = stats(&runtime, 0);
        let s1 = stats(&runtime, 1);
        assert_eq!(s0.mesh_local, 2, "ping and pong to itself");
        assert_eq!((s0.mesh_out, s0.mesh_in), (2, 2));
        assert_eq!((s1.mesh_out, s1.mesh_in), (2, 2));
        assert_eq!(s0.mesh_dropped + s1.mesh_dropped, 0);
    });
}

#[test]
fn mesh_messages_travel_in_batches() {
    bounded(|| {
        let runtime = start(2);
        let client = runtime.client();
        let requests = (0..2000).map(|x| Req::Forward { to: 1, x }).collect();
        let replies = client.call_batch(0, requests).expect("batch");
        for (x, reply) in replies.into_iter().enumerate() {
            assert_eq!(
                reply,
                Rep::Forwarded {
                    x: x as u64 + 1,
                    by: 1
                }
            );
        }
        let s0 = stats(&runtime, 0);
        let s1 = stats(&runtime, 1);
        assert_eq!(s0.mesh_out, 2000);
        assert_eq!(s1.mesh_out, 2000);
        println!(
            "mesh batching: shard 0 sent 2000 messages in {} batches, shard 1 answered in {}",
            s0.mesh_batches_out, s1.mesh_batches_out
        );
        assert!(
            s0.mesh_batches_out * 100 <= s0.mesh_out,
            "{} batches",
            s0.mesh_batches_out
        );
        assert!(
            s1.mesh_batches_out * 100 <= s1.mesh_out,
            "{} batches",
            s1.mesh_batches_out
        );
    });
}

#[test]
fn mesh_keeps_everything_when_channels_are_full() {
    bounded(|| {
        let runtime = Runtime::start(
            RuntimeConfig {
                mesh_capacity: 1,
                batch_max: 4,
                ..config(2)
            },
            KvCore::new,
        )
        .expect("start");
        let threads: Vec<_> = (0..6u64)
            .map(|t| {
                let client = runtime.client();
                std::thread::spawn(move || {
                    let from = (t % 2) as usize;
                    let to = 1 - from;
                    for round in 0..100u64 {
                        let pending: Vec<_> = (0..8)
                            .map(|i| {
                                client
                                    .submit(
                                        from,
                                        Req::Forward {
                                            to,
                                            x: round * 8 + i,
                                        },
                                    )
                                    .expect("submit")
                            })
                            .collect();
                        for (i, pending) in pending.into_iter().enumerate() {
                            assert_eq!(
                                pending.wait().expect("reply"),
                                Rep::Forwarded {
                                    x: round * 8 + i as u64 + 1,
                                    by: to
                                }
                            );
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("client thread");
        }
        let total: u64 = (0..2).map(|shard| stats(&runtime, shard).mesh_out).sum();
        assert_eq!(total, 2 * 6 * 100 * 8);
    });
}

#[test]
fn puts_reply_only_when_durable_and_commits_are_grouped() {
    bounded(|| {
        let logs: Vec<MemoryLog> = (0..2).map(|_| MemoryLog::new()).collect();
        let sinks = logs.clone();
        let runtime = Runtime::start(
            config(2).with_log(move |shard| Box::new(sinks[shard].clone())),
            KvCore::new,
        )
        .expect("start");
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                let client = runtime.client();
                let logs = logs.clone();
                std::thread::spawn(move || {
                    let check = |reply: Rep| match reply {
                        Rep::Stored { shard, seq } => {
                            assert!(
                                logs[shard].committed() >= seq,
                                "reply for {seq:?} before its commit"
                            );
                        }
                        other => panic!("unexpected {other:?}"),
                    };
                    for round in 0..20u64 {
                        let shard = ((t + round) % 2) as usize;
                        let batch = (0..50).map(|i| Req::Put(t * 10_000 + round * 100 + i, i));
                        for reply in client.call_batch(shard, batch.collect()).expect("batch") {
                            check(reply);
                        }
                        check(client.call(shard, Req::Put(t, round)).expect("put"));
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("client thread");
        }
        let puts = 4 * 20 * 51;
        let records: usize = logs.iter().map(MemoryLog::len).sum();
        let commits: u64 = logs.iter().map(MemoryLog::commits).sum();
        println!("group commit: {puts} puts, {commits} commits");
        assert_eq!(records, puts);
        assert!(
            commits * 10 < puts as u64,
            "{commits} commits for {puts} puts"
        );
        for (shard, log) in logs.iter().enumerate() {
            assert_eq!(
                log.committed(),
                log.last_seq(),
                "shard {shard} fully committed"
            );
            let s = stats(&runtime, shard);
            assert_eq!(s.durable, log.last_seq());
            assert_eq!(s.appends as usize, log.len());
        }
        assert_eq!(logs[0].records()[0].len(), 16);
    });
}

#[test]
fn slow_commits_group_concurrent_single_calls() {
    bounded(|| {
        let logs: Vec<TestLog> = (0..2)
            .map(|_| TestLog::new(Duration::from_millis(5)))
            .collect();
        let sinks = logs.clone();
        let runtime = Runtime::start(
            config(2).with_log(move |shard| Box::new(sinks[shard].clone())),
            KvCore::new,
        )
        .expect("start");
        // Eight callers per shard: while one commit is in flight, the others' records wait
        // for the next one.
        let threads: Vec<_> = (0..16u64)
            .map(|t| {
                let client = runtime.client();
                std::thread::spawn(move || {
                    for i in 0..20u64 {
                        let shard = (t % 2) as usize;
                        assert!(matches!(
                            client.call(shard, Req::Put(i, t)).expect("put"),
                            Rep::Stored { .. }
                        ));
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("client thread");
        }
        let puts = 16 * 20;
        let commits: u64 = logs.iter().map(|log| log.memory.commits()).sum();
        println!("slow group commit: {puts} single-call puts, {commits} commits");
        assert!(commits * 2 < puts, "{commits} commits for {puts} puts");
        for log in &logs {
            assert_eq!(log.memory.committed(), log.memory.last_seq());
        }
    });
}

#[test]
fn failed_commit_reports_no_durability_until_a_later_commit() {
    bounded(|| {
        let log = TestLog::new(Duration::ZERO);
        log.fail.store(true, Ordering::SeqCst);
        let sink = log.clone();
        let runtime = Runtime::start(
            config(1).with_log(move |_| Box::new(sink.clone())),
            KvCore::new,
        )
        .expect("start");
        let client = runtime.client();
        let first = client.submit(0, Req::Put(1, 1)).expect("submit");
        assert!(matches!(
            first.wait_timeout(Duration::from_millis(300)),
            Err(RuntimeError::Timeout)
        ));
        // The shard still serves.
        assert_eq!(
            client.call(0, Req::Get(1)).expect("get"),
            Rep::Value {
                shard: 0,
                value: Some(1)
            }
        );
        let s = stats(&runtime, 0);
        assert!(s.commit_errors >= 1);
        assert_eq!(s.durable, LogSeq(0));

        // The next commit succeeds and covers the earlier record too.
        log.fail.store(false, Ordering::SeqCst);
        assert_eq!(
            client.call(0, Req::Put(2, 2)).expect("put"),
            Rep::Stored {
                shard: 0,
                seq: LogSeq(2)
            }
        );
        assert_eq!(stats(&runtime, 0).durable, LogSeq(2));

        // A call still waiting when the runtime stops fails with Shutdown.
        log.fail.store(true, Ordering::SeqCst);
        let stuck = client.submit(0, Req::Put(3, 3)).expect("submit");
        runtime.shutdown().expect("shutdown");
        assert_eq!(stuck.wait(), Err(RuntimeError::Shutdown));
    });
}

#[test]
fn timers_fire_when_due_and_rearm_earlier() {
    bounded(|| {
        let runtime = start(2);
        let client = runtime.client();
        let t0 = Instant::now();
        let late = client.submit(0, Req::After(400)).expect("submit");
        std::thread::sleep(Duration::from_millis(5));
        let early = client.submit(0, Req::After(30)).expect("submit");
        match early.wait().expect("early timer") {
            Rep::Fired { due, now } => assert!(now >= due),
            other => panic!("unexpected {other:?}"),
        }
        let early_at = t0.elapsed();
        // The clock counts whole milliseconds: a deadline may come up to 1 ms early.
        assert!(early_at >= Duration::from_millis(29), "{early_at:?}");
        assert!(
            early_at < Duration::from_millis(350),
            "the earlier deadline re-armed the timer: {early_at:?}"
        );
        assert!(late.try_take().is_none(), "the 400 ms timer is not due yet");
        match late.wait().expect("late timer") {
            Rep::Fired { due, now } => assert!(now >= due),
            other => panic!("unexpected {other:?}"),
        }
        assert!(
            t0.elapsed() >= Duration::from_millis(399),
            "{:?}",
            t0.elapsed()
        );

        // Several timers in one batch, each fires at or after its deadline.
        let t1 = Instant::now();
        let replies = client
            .call_batch(1, vec![Req::After(50), Req::After(10), Req::After(30)])
            .expect("batch");
        assert!(
            t1.elapsed() >= Duration::from_millis(49),
            "{:?}",
            t1.elapsed()
        );
        let dues: Vec<_> = replies
            .into_iter()
            .map(|reply| match reply {
                Rep::Fired { due, now } => {
                    assert!(now >= due);
                    due
                }
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert!(dues[1] < dues[2] && dues[2] < dues[0], "{dues:?}");
        assert!(stats(&runtime, 1).timers >= 1);
    });
}

#[test]
fn wakes_reach_the_subscriber_or_the_local_handler() {
    bounded(|| {
        let runtime = start(2);
        let client = runtime.client();
        let wakes = client.wakes(1).expect("wakes");
        assert_eq!(client.call(1, Req::Wake(7)).expect("wake"), Rep::Done);
        assert_eq!(client.call(1, Req::Wake(8)).expect("wake"), Rep::Done);
        let timeout = Duration::from_secs(5);
        assert_eq!(wakes.recv_timeout(timeout), Ok(7));
        assert_eq!(wakes.recv_timeout(timeout), Ok(8));
        assert!(client.wakes(0).expect("wakes").is_empty());

        let seen = runtime
            .spawn_on(0, |local: LocalShard<KvCore>| async move {
                let seen = Rc::new(RefCell::new(Vec::new()));
                let sink = seen.clone();
                local.set_wake_handler(Some(Box::new(move |w| sink.borrow_mut().push(w))));
                local.call(Req::Wake(9)).await.expect("wake");
                local.call(Req::Wake(10)).await.expect("wake");
                local.set_wake_handler(None);
                seen.take()
            })
            .expect("spawn")
            .wait()
            .expect("task");
        assert_eq!(seen, vec![9, 10]);
        assert!(client.wakes(0).expect("wakes").is_empty());
    });
}

#[test]
fn local_fast_path_and_a_task_per_shard() {
    bounded(|| {
        let runtime = start(2);
        let results = runtime
            .spawn_on_each(|local: LocalShard<KvCore>| async move {
                let me = local.index();
                let other = (me + 1) % local.shards();
                let put = local.call(Req::Put(100, me as u64)).await.expect("put");
                // A request the core answers at once is answered before submit returns.
                let get = local.submit(Req::Get(100));
                assert!(get.is_ready());
                let get = get.await.expect("get");
                let many = local.submit_all((0..3).map(|_| Req::Whoami));
                let mut threads = Vec::new();
                for reply in many {
                    match reply.await.expect("whoami") {
                        Rep::Shard { thread, .. } => threads.push(thread),
                        other => panic!("unexpected {other:?}"),
                    }
                }
                assert!(threads.iter().all(|t| *t == thread_name()));
                let remote = local
                    .client()
                    .call_async(other, Req::Get(100))
                    .await
                    .expect("remote get");
                let forwarded = local
                    .call(Req::Forward { to: other, x: 0 })
                    .await
                    .expect("forward");
                (me, put, get, remote, forwarded)
            })
            .expect("spawn")
            .into_iter()
            .map(|task| task.wait().expect("task"))
            .collect::<Vec<_>>();
        for (me, put, get, remote, forwarded) in results {
            let other = 1 - me;
            assert_eq!(
                put,
                Rep::Stored {
                    shard: me,
                    seq: LogSeq(1)
                }
            );
            assert_eq!(
                get,
                Rep::Value {
                    shard: me,
                    value: Some(me as u64)
                }
            );
            // The other shard's task may or may not have stored its key yet.
            assert!(matches!(
                remote,
                Rep::Value { shard, value: None } | Rep::Value { shard, value: Some(_) }
                    if shard == other
            ));
            assert_eq!(forwarded, Rep::Forwarded { x: 1, by: other });
        }
    });
}

#[test]
fn cores_are_built_on_their_executor_threads() {
    bounded(|| {
        let built = Arc::new(Mutex::new(Vec::new()));
        let record = built.clone();
        let runtime = Runtime::start(config(2), move |shard| {
            record.lock().expect("lock").push((shard, thread_name()));
            KvCore::new(shard)
        })
        .expect("start");
        let client = runtime.client();
        let mut built = built.lock().expect("lock").clone();
        built.sort();
        assert_eq!(built.len(), 2);
        for (shard, thread) in built {
            assert_eq!(
                client.call(shard, Req::Whoami).expect("whoami"),
                Rep::Shard { shard, thread }
            );
        }
    });
}

#[test]
fn pinned_shards_run_on_their_cpu() {
    bounded(|| {
        let online: Vec<usize> = glommio::CpuSet::online()
            .map(|cpus| cpus.iter().map(|l| l.cpu).collect())
            .unwrap_or_default();
        let runtime = Runtime::start(
            RuntimeConfig {
                pin: true,
                ..config(2)
            },
            KvCore::new,
        )
        .expect("start");
        let allowed = runtime
            .spawn_on_each(|_local: LocalShard<KvCore>| async move {
                let status =
                    std::fs::read_to_string("/proc/thread-self/status").unwrap_or_default();
                status
                    .lines()
                    .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
                    .map(|list| list.trim().to_owned())
            })
            .expect("spawn")
            .into_iter()
            .map(|task| task.wait().expect("task"))
            .collect::<Vec<_>>();
        println!("pinning: online CPUs {online:?}, shard CPU lists {allowed:?}");
        for (shard, allowed) in allowed.into_iter().enumerate() {
            if online.contains(&shard)
                && let Some(allowed) = allowed
            {
                assert_eq!(allowed, shard.to_string(), "shard {shard} pinned");
            }
        }
        assert_eq!(
            runtime.client().call(1, Req::Get(0)).expect("get"),
            Rep::Value {
                shard: 1,
                value: None
            }
        );
    });
}

#[test]
fn shutdown_joins_and_fails_later_calls() {
    bounded(|| {
        let drops = Arc::new(Mutex::new(Vec::new()));
        let record = drops.clone();
        let runtime = Runtime::start(config(2), move |shard| {
            let mut core = KvCore::new(shard);
            core.drops = Some(record.clone());
            core
        })
        .expect("start");
        let client = runtime.client();
        let waiting = client.submit(0, Req::After(60_000)).expect("submit");
        // A never-ending task (like a listener) does not keep the runtime alive.
        let forever = runtime
            .spawn_on(1, |_local: LocalShard<KvCore>| async move {
                loop {
                    glommio::timer::sleep(Duration::from_millis(5)).await;
                }
            })
            .expect("spawn");
        let t0 = Instant::now();
        runtime.shutdown().expect("shutdown");
        assert!(t0.elapsed() < Duration::from_secs(5));
        // Both cores were dropped, each on its own executor thread.
        let drops = drops.lock().expect("lock").clone();
        assert_eq!(drops.len(), 2, "{drops:?}");
        assert!(
            drops.iter().all(|t| t.starts_with("imps-shard")),
            "{drops:?}"
        );
        assert_eq!(waiting.wait(), Err(RuntimeError::Shutdown));
        assert_eq!(forever.wait(), Err::<(), _>(RuntimeError::Shutdown));
        assert_eq!(client.call(0, Req::Get(1)), Err(RuntimeError::Shutdown));
        assert_eq!(
            client.call_batch(1, vec![Req::Get(1)]),
            Err(RuntimeError::Shutdown)
        );
        assert!(matches!(
            client.spawn_on(0, |_local| async {}),
            Err(RuntimeError::Shutdown)
        ));

        // Dropping a busy runtime shuts it down too.
        let runtime = start(2);
        let client = runtime.client();
        let busy =
            std::thread::spawn(
                move || {
                    while client.call(0, Req::Forward { to: 1, x: 0 }).is_ok() {}
                },
            );
        std::thread::sleep(Duration::from_millis(50));
        drop(runtime);
        busy.join().expect("busy client ends with the runtime");
    });
}

#[test]
fn shutdown_under_load_never_strands_a_caller() {
    bounded(|| {
        for round in 0..8u64 {
            let runtime = Runtime::start(
                RuntimeConfig {
                    inbox_capacity: 4,
                    mesh_capacity: 1,
                    ..config(2)
                },
                KvCore::new,
            )
            .expect("start");
            let clients: Vec<_> = (0..4u64)
                .map(|t| {
                    let client = runtime.client();
                    std::thread::spawn(move || {
                        let mut served = 0u64;
                        for i in 0.. {
                            let shard = ((t + i) % 2) as usize;
                            let result = match i % 4 {
                                0 => client.call(shard, Req::Put(i, t)).map(|_| ()),
                                1 => client
                                    .call(
                                        shard,
                                        Req::Forward {
                                            to: 1 - shard,
                                            x: i,
                                        },
                                    )
                                    .map(|_| ()),
                                2 => client
                                    .call_batch(shard, (0..16).map(Req::Get).collect())
                                    .map(|_| ()),
                                _ => client.call(shard, Req::After(1)).map(|_| ()),
                            };
                            match result {
                                Ok(()) => served += 1,
                                Err(RuntimeError::Shutdown) => break,
                                Err(other) => panic!("unexpected {other:?}"),
                            }
                        }
                        served
                    })
                })
                .collect();
            std::thread::sleep(Duration::from_millis(20 + round * 5));
            runtime.shutdown().expect("shutdown");
            for client in clients {
                client.join().expect("client ends with the runtime");
            }
        }
    });
}

#[test]
fn startup_failures_are_reported_without_hanging() {
    bounded(|| {
        assert!(matches!(
            Runtime::start(config(0), KvCore::new),
            Err(RuntimeError::Config(_))
        ));
        let panicking = Runtime::start(config(2), |shard| {
            assert!(shard != 1, "shard 1 refuses to start");
            KvCore::new(shard)
        });
        assert!(
            matches!(panicking, Err(RuntimeError::Start { shard: 1, .. })),
            "{panicking:?}"
        );
        let failing = Runtime::start_with(config(2), |shard| async move {
            if shard == 0 {
                Err("disk on fire".into())
            } else {
                Ok((
                    KvCore::new(shard),
                    Box::new(MemoryLog::new()) as Box<dyn LogSink>,
                ))
            }
        });
        match failing {
            Err(RuntimeError::Start { shard: 0, message }) => {
                assert!(message.contains("disk on fire"), "{message}")
            }
            other => panic!("unexpected {other:?}"),
        }
        // And a good start after all that.
        let runtime = start(2);
        assert!(runtime.client().call(1, Req::Get(0)).is_ok());
    });
}

#[test]
fn throughput() {
    bounded(|| {
        let runtime = start(2);
        let window = Duration::from_millis(700);

        // call_batch from one thread per shard.
        let threads: Vec<_> = (0..2)
            .map(|shard| {
                let client = runtime.client();
                std::thread::spawn(move || {
                    let t0 = Instant::now();
                    let mut done = 0u64;
                    while t0.elapsed() < window {
                        let batch = (0..1024).map(|k| Req::Get(k % 64)).collect();
                        done += client.call_batch(shard, batch).expect("batch").len() as u64;
                    }
                    (done, t0.elapsed())
                })
            })
            .collect();
        let mut batched = 0.0;
        for thread in threads {
            let (done, took) = thread.join().expect("thread");
            batched += done as f64 / took.as_secs_f64();
        }

        // Single blocking calls from four threads.
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let client = runtime.client();
                std::thread::spawn(move || {
                    let t0 = Instant::now();
                    let mut done = 0u64;
                    while t0.elapsed() < window {
                        client.call(t % 2, Req::Get(1)).expect("call");
                        done += 1;
                    }
                    (done, t0.elapsed())
                })
            })
            .collect();
        let mut single = 0.0;
        for thread in threads {
            let (done, took) = thread.join().expect("thread");
            single += done as f64 / took.as_secs_f64();
        }

        // The local fast path, one task per shard.
        let local: f64 = runtime
            .spawn_on_each(move |local: LocalShard<KvCore>| async move {
                let t0 = Instant::now();
                let mut done = 0u64;
                while t0.elapsed() < window {
                    for _ in 0..256 {
                        local.call(Req::Get(1)).await.expect("local");
                    }
                    done += 256;
                }
                done as f64 / t0.elapsed().as_secs_f64()
            })
            .expect("spawn")
            .into_iter()
            .map(|task| task.wait().expect("task"))
            .sum();

        // Cross-shard round trips, batched.
        let t0 = Instant::now();
        let mut trips = 0u64;
        let client = runtime.client();
        while t0.elapsed() < window {
            let batch = (0..1024).map(|x| Req::Forward { to: 1, x }).collect();
            trips += client.call_batch(0, batch).expect("batch").len() as u64;
        }
        let mesh = trips as f64 / t0.elapsed().as_secs_f64();

        println!(
            "throughput (2 shards, {} build): call_batch {batched:.0} req/s, single call \
             {single:.0} req/s, local submit {local:.0} req/s, batched cross-shard round \
             trips {mesh:.0}/s",
            if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
        );
    });
}

#[test]
fn calls_from_executors_are_batched_and_answered_each() {
    bounded(|| {
        let runtime = start(2);
        let results = runtime
            .spawn_on_each(|local: LocalShard<KvCore>| async move {
                let me = local.index();
                let other = (me + 1) % local.shards();
                // Many concurrent calls from tasks on this executor to the other shard
                // (batched into few inbox items) and to itself (in place).
                let mut pending = Vec::new();
                for i in 0..500u64 {
                    let local = local.clone();
                    let target = if i % 5 == 0 { me } else { other };
                    pending.push(glommio::spawn_local(async move {
                        local
                            .call_on(target, Req::Whoami)
                            .await
                            .map(|r| (target, r))
                    }));
                }
                let mut answered = 0;
                for p in pending {
                    match p.await.expect("answer") {
                        (target, Rep::Shard { shard, .. }) => {
                            assert_eq!(shard, target);
                            answered += 1;
                        }
                        (_, other) => panic!("unexpected {other:?}"),
                    }
                }
                let missing = local.call_on(9, Req::Whoami).await;
                assert!(missing.is_err());
                answered
            })
            .expect("spawned");
        for r in results {
            assert_eq!(r.wait().expect("task"), 500);
        }
        runtime.shutdown().expect("shutdown");
    });
}
