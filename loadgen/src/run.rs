//! A whole run: the model built from the scenario, clients split over one scheduler per
//! core, each with its own driver, a progress line on a terminal, then the schedulers'
//! measurements merged into the report.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use imps_engine::server::{Engine, EngineConfig};

use crate::client::SimClient;
use crate::driver::Transport;
use crate::driver::http::{HttpDriver, HttpTarget};
use crate::driver::inproc::InProcess;
use crate::driver::loopback::{Loopback, Responder};
use crate::model::Model;
use crate::report::{Memory, Report, RunFacts};
use crate::scenario::Scenario;
use crate::scheduler::{Progress, Scheduler, SchedulerError};
use crate::stats::{Stats, StatsError};
use crate::users::UserDirectory;

/// Why a run failed (a missed SLO is not a failure: see [`Report::slo_passed`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// A scheduler stopped.
    #[error(transparent)]
    Scheduler(#[from] SchedulerError),
    /// Measurements could not be merged.
    #[error(transparent)]
    Stats(#[from] StatsError),
    /// The in-process engine could not be set up.
    #[error("in-process engine: {0}")]
    Engine(String),
    /// The target is unusable.
    #[error(transparent)]
    Driver(#[from] crate::driver::DriverError),
    /// A scheduler thread panicked.
    #[error("a scheduler thread panicked")]
    Panicked,
}

/// Where the load goes.
#[derive(Debug, Clone)]
pub enum Target {
    /// A CSP server over HTTP.
    Http(HttpTarget),
    /// An engine started in this process on a fresh data directory holding the users.
    InProcess {
        /// The data directory (created; must not hold an engine's lock).
        data_dir: PathBuf,
        /// Its shards (default: cores).
        shards: Option<u16>,
    },
    /// The trivial responder in each scheduler's own thread: what the generator alone
    /// can drive.
    Loopback,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The scenario (flags already applied).
    pub scenario: Scenario,
    /// The target.
    pub target: Target,
    /// The users.
    pub users: UserDirectory,
    /// Schedulers (threads).
    pub threads: usize,
    /// How long to wait for answers in flight at the end.
    pub drain: Duration,
}

/// Resident memory of this process, bytes (0 where `/proc` is not there).
pub fn rss_bytes() -> u64 {
    rss_from("/proc/self/status")
}

/// Resident memory of process `pid`, bytes (0 where it cannot be read).
pub fn process_rss_bytes(pid: u32) -> u64 {
    rss_from(&format!("/proc/{pid}/status"))
}

fn rss_from(path: &str) -> u64 {
    let status = std::fs::read_to_string(path).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// The clients of scheduler `t` of `threads`: users `lo..hi`.
pub fn slice(population: u32, threads: usize, t: usize) -> (u32, u32) {
    let n = u64::from(population);
    let k = threads.max(1) as u64;
    let lo = n * t as u64 / k;
    let hi = n * (t as u64 + 1) / k;
    (lo as u32, hi as u32)
}

/// Builds every client of the model, split per scheduler.
pub fn build_clients(model: &Model, scenario: &Scenario, threads: usize) -> Vec<Vec<SimClient>> {
    let sizes = model.contact_sizes(scenario);
    (0..threads)
        .map(|t| {
            let (lo, hi) = slice(model.population, threads, t);
            (lo..hi)
                .map(|u| SimClient::new(model, u, sizes.get(u as usize).copied().unwrap_or(0)))
                .collect()
        })
        .collect()
}

fn start_engine(
    data_dir: &std::path::Path,
    shards: Option<u16>,
    model: &Model,
) -> Result<Engine, RunError> {
    use imps_engine::config::AccessConfig;
    use imps_engine::persist::Provisioner;
    use imps_engine::record::Profile;
    let engine_err = |e: &dyn std::fmt::Display| RunError::Engine(e.to_string());
    let access = AccessConfig {
        domain: model.domain.clone(),
        ..AccessConfig::default()
    };
    let mut p = Provisioner::open(data_dir, shards, access.clone()).map_err(|e| engine_err(&e))?;
    for u in 0..model.population {
        p.put_user(
            &model.users.user_id(u),
            model.users.password(u),
            Profile::default(),
        )
        .map_err(|e| engine_err(&e))?;
    }
    for k in 1..=model.rooms {
        p.put_group(imps_engine::record::GroupRecord {
            id: format!("/{}room{k}", model.room_prefix),
            owner: None,
            properties: vec![
                ("Name".to_owned(), format!("Room {k}")),
                ("Type".to_owned(), "Public".to_owned()),
                ("AccessType".to_owned(), "Open".to_owned()),
            ],
            welcome: None,
            members: Vec::new(),
            reject: Vec::new(),
        })
        .map_err(|e| engine_err(&e))?;
    }
    p.finish().map_err(|e| engine_err(&e))?;
    let mut config = EngineConfig::new(data_dir);
    config.access = access;
    config.pin = false;
    Engine::start(config).map_err(|e| engine_err(&e))
}

/// Runs the scenario; returns the report (also written by the caller).
pub fn run(opts: &RunOptions) -> Result<Report, RunError> {
    let scenario = &opts.scenario;
    let model = Arc::new(Model::new(scenario, None, opts.users.clone()));
    let threads = opts.threads.max(1).min(model.population as usize);
    let engine = match &opts.target {
        Target::InProcess { data_dir, shards } => Some(start_engine(data_dir, *shards, &model)?),
        Target::Http(_) | Target::Loopback => None,
    };
    let per_thread = build_clients(&model, scenario, threads);
    let progress = Progress::default();
    let start = Instant::now();
    let duration = scenario.duration;
    let results: Vec<Result<(Stats, usize), RunError>> = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for (t, clients) in per_thread.into_iter().enumerate() {
            let model = model.clone();
            let progress = &progress;
            let target = &opts.target;
            let engine = engine.as_ref().map(Engine::client);
            let drain = opts.drain;
            handles.push(scope.spawn(move || -> Result<(Stats, usize), RunError> {
                match (target, engine) {
                    (Target::Http(http), _) => {
                        let driver =
                            HttpDriver::new(http, t, scenario.connections, scenario.mix.cir_ping)?;
                        go(model, clients, driver, start, duration, drain, progress)
                    }
                    (Target::InProcess { .. }, Some(engine)) => go(
                        model,
                        clients,
                        InProcess::new(engine),
                        start,
                        duration,
                        drain,
                        progress,
                    ),
                    (Target::InProcess { .. }, None) => Err(RunError::Engine("not started".into())),
                    (Target::Loopback, _) => {
                        let driver = Loopback::new(Responder::new(10));
                        go(model, clients, driver, start, duration, drain, progress)
                    }
                }
            }));
        }
        watch(&progress, start, duration, scenario.clients, &handles);
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err(RunError::Panicked)))
            .collect()
    });
    let duration_s = start.elapsed().min(duration).as_secs_f64();
    let mut merged = Stats::new()?;
    let mut memory = 0usize;
    for r in results {
        let (stats, mem) = r?;
        merged.merge(&stats)?;
        memory += mem;
    }
    let rss = rss_bytes();
    if let Some(engine) = engine {
        engine
            .shutdown()
            .map_err(|e| RunError::Engine(e.to_string()))?;
    }
    let facts = RunFacts {
        scenario: scenario.name.clone(),
        target: match &opts.target {
            Target::Http(h) => h.url.clone(),
            Target::InProcess { .. } => "in-process".into(),
            Target::Loopback => "loopback".into(),
        },
        clients: model.population,
        duration_s,
        rss_bytes: rss,
        memory: Memory {
            client_state_bytes: std::mem::size_of::<SimClient>(),
            per_client_bytes: memory as f64 / f64::from(model.population),
        },
    };
    Ok(Report::build(facts, &merged, &scenario.slo))
}

fn go<T: Transport>(
    model: Arc<Model>,
    clients: Vec<SimClient>,
    transport: T,
    start: Instant,
    duration: Duration,
    drain: Duration,
    progress: &Progress,
) -> Result<(Stats, usize), RunError> {
    let scheduler = Scheduler::new(model, clients, transport, start)?;
    Ok(scheduler.run(duration, drain, progress)?)
}

/// Prints progress once a second on a terminal, and warns (always) when the generator
/// falls more than a second behind its schedule.
fn watch<T>(
    progress: &Progress,
    start: Instant,
    duration: Duration,
    clients: u32,
    handles: &[std::thread::ScopedJoinHandle<'_, T>],
) {
    let live = std::io::stderr().is_terminal();
    let mut last = (Instant::now(), 0u64);
    let mut last_warning: Option<Instant> = None;
    while handles.iter().any(|h| !h.is_finished()) {
        std::thread::sleep(Duration::from_millis(200));
        if last.0.elapsed() < Duration::from_secs(1) {
            continue;
        }
        let now = Instant::now();
        let t = progress.transactions.load(Ordering::Relaxed);
        let tps = (t - last.1) as f64 / now.duration_since(last.0).as_secs_f64();
        last = (now, t);
        let lag_ms = progress.lag_us.swap(0, Ordering::Relaxed) / 1000;
        if live {
            eprint!(
                "\r{:>5.0}s/{}s online {}/{} tps {:>8.0} errors {} p99 {} ms lag {} ms   ",
                start.elapsed().as_secs_f64(),
                duration.as_secs(),
                progress.online.load(Ordering::Relaxed),
                clients,
                tps,
                progress.errors.load(Ordering::Relaxed),
                progress.p99_us.swap(0, Ordering::Relaxed) / 1000,
                lag_ms
            );
        }
        if lag_ms > 1000 && last_warning.is_none_or(|w| w.elapsed() > Duration::from_secs(5)) {
            last_warning = Some(Instant::now());
            eprintln!(
                "{}warning: the generator is {lag_ms} ms behind its schedule (latency still counts from the intended times)",
                if live { "\n" } else { "" }
            );
        }
    }
    if live {
        eprintln!();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_cover_the_population_once() {
        for threads in 1..5 {
            let mut next = 0;
            for t in 0..threads {
                let (lo, hi) = slice(1001, threads, t);
                assert_eq!(lo, next);
                next = hi;
            }
            assert_eq!(next, 1001);
        }
    }

    #[test]
    fn rss_is_read() {
        assert!(rss_bytes() > 0);
        assert!(process_rss_bytes(std::process::id()) > 0);
        assert_eq!(process_rss_bytes(u32::MAX), 0);
    }
}
