//! `loadgen`: simulated mobile IMPS clients against a CSP server or the engine in-process.
//!
//! `loadgen run --scenario FILE [--target URL | --in-process] [--clients N] [--duration 60s]
//! [--out DIR]` writes `DIR/report.json` and `DIR/report.html`, prints a summary, and exits 1
//! when an SLO of the scenario is missed. `loadgen memory --clients N` measures the state a
//! million idle clients take.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use imps_loadgen::driver::http::HttpTarget;
use imps_loadgen::run::{RunOptions, Target, run};
use imps_loadgen::scenario::{Scenario, parse_duration};
use imps_loadgen::users::{Provisioning, UserDirectory, provision, provision_rooms};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "loadgen", about = "Simulated mobile IMPS clients", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario.
    Run(Box<RunArgs>),
    /// Build N idle clients with their timers and print the memory they take.
    Memory {
        /// Clients.
        #[arg(long, default_value_t = 1_000_000)]
        clients: u32,
    },
}

#[derive(Args)]
struct RunArgs {
    /// The scenario (TOML; see loadgen/scenarios/).
    #[arg(long)]
    scenario: PathBuf,
    /// The CSP URL of the server.
    #[arg(
        long,
        default_value = "http://127.0.0.1:8080/imps",
        conflicts_with = "in_process"
    )]
    target: String,
    /// Start the engine in this process instead (on a fresh data directory).
    #[arg(long)]
    in_process: bool,
    /// Answer in the generator's own threads with a trivial responder (measures the
    /// generator alone).
    #[arg(long, conflicts_with_all = ["in_process"])]
    loopback: bool,
    /// Clients (overrides the scenario).
    #[arg(long)]
    clients: Option<u32>,
    /// Duration such as 60s or 5m (overrides the scenario).
    #[arg(long, value_parser = duration)]
    duration: Option<Duration>,
    /// Where report.json and report.html go.
    #[arg(long, default_value = "loadgen-report")]
    out: PathBuf,
    /// Scheduler threads (default: the scenario's, else one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// HTTP connections per scheduler (overrides the scenario).
    #[arg(long)]
    connections: Option<u16>,
    /// User ID prefix (users PREFIX1..PREFIXN; overrides the scenario).
    #[arg(long)]
    prefix: Option<String>,
    /// Their password (overrides the scenario).
    #[arg(long)]
    password: Option<String>,
    /// Read users from a CSV file of user,password lines instead.
    #[arg(long, conflicts_with = "prefix")]
    users_csv: Option<PathBuf>,
    /// Before running, create the users offline with `impsd users generate` into
    /// --data-dir (no server may be running on it).
    #[arg(long, requires = "data_dir")]
    provision: bool,
    /// Start `impsd serve` on the target's address and --data-dir for the run (after
    /// --provision, if given), and stop it at the end; its memory goes into the report.
    #[arg(long, requires = "data_dir", conflicts_with_all = ["in_process", "loopback"])]
    serve: bool,
    /// With --serve: the standalone-TCP CIR listener impsd advertises (default: a free port
    /// on the target's address); `off` serves no STCP (CIR clients then poll).
    #[arg(long, requires = "serve")]
    cir_tcp: Option<String>,
    /// The impsd binary for --provision and --serve.
    #[arg(long, default_value = "impsd")]
    impsd: PathBuf,
    /// The server's data directory (--provision), or the in-process engine's (default: a
    /// fresh directory under --out, removed afterwards).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Shards of a new data directory.
    #[arg(long)]
    shards: Option<u16>,
    /// How long to wait for answers in flight at the end.
    #[arg(long, value_parser = duration, default_value = "5s")]
    drain: Duration,
}

fn duration(s: &str) -> Result<Duration, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    match real_main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("loadgen: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// A free TCP port on `ip` (bound and released).
fn free_port(ip: std::net::IpAddr) -> anyhow::Result<std::net::SocketAddr> {
    let l = std::net::TcpListener::bind((ip, 0)).context("finding a free port")?;
    Ok(l.local_addr()?)
}

fn real_main() -> anyhow::Result<ExitCode> {
    match Cli::parse().command {
        Command::Run(args) => run_command(*args),
        Command::Memory { clients } => {
            let m = imps_loadgen::memory::measure_idle_memory(clients);
            println!("{m}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn run_command(args: RunArgs) -> anyhow::Result<ExitCode> {
    let mut scenario = Scenario::load(&args.scenario)?;
    if let Some(n) = args.clients {
        scenario.clients = n;
    }
    if let Some(d) = args.duration {
        scenario.duration = d;
    }
    if let Some(c) = args.connections {
        scenario.connections = c;
    }
    if let Some(p) = args.prefix {
        scenario.users.prefix = p;
    }
    if let Some(p) = args.password {
        scenario.users.password = p;
    }
    if let Some(csv) = args.users_csv {
        scenario.users.csv = Some(csv);
    }
    scenario.validate()?;
    let users = match &scenario.users.csv {
        Some(csv) => UserDirectory::from_csv(csv, scenario.clients as usize)?,
        None => UserDirectory::prefix(&scenario.users.prefix, &scenario.users.password),
    };
    if args.provision {
        let data_dir = args
            .data_dir
            .clone()
            .context("--provision needs --data-dir")?;
        eprintln!(
            "provisioning {} users into {}",
            scenario.clients,
            data_dir.display()
        );
        let provisioning = Provisioning {
            impsd: args.impsd.clone(),
            data_dir,
            shards: args.shards,
            domain: scenario.users.domain.clone(),
            count: scenario.clients,
            prefix: scenario.users.prefix.clone(),
            password: scenario.users.password.clone(),
        };
        provision(&provisioning)?;
        if scenario.groups.rooms > 0 {
            eprintln!("creating {} public rooms", scenario.groups.rooms);
            provision_rooms(
                &provisioning,
                &scenario.groups.prefix,
                scenario.groups.rooms,
            )?;
        }
    }
    let server = if args.serve {
        let target = HttpTarget::parse(&args.target)?;
        let data_dir = args.data_dir.clone().context("--serve needs --data-dir")?;
        let cir_tcp = match args.cir_tcp.as_deref() {
            Some("off") => None,
            Some(addr) => Some(
                addr.parse::<std::net::SocketAddr>()
                    .with_context(|| format!("--cir-tcp {addr}"))?,
            ),
            None => Some(free_port(target.addr.ip())?),
        };
        Some(Server::start(
            &args.impsd,
            &target,
            &data_dir,
            args.shards,
            cir_tcp,
        )?)
    } else {
        None
    };
    let mut fresh_dir = None;
    let target = if args.loopback {
        Target::Loopback
    } else if args.in_process {
        let data_dir = match args.data_dir.clone().filter(|_| !args.provision) {
            Some(d) => d,
            None => {
                let d = args.out.join(format!("engine-data-{}", std::process::id()));
                fresh_dir = Some(d.clone());
                d
            }
        };
        Target::InProcess {
            data_dir,
            shards: args.shards,
        }
    } else {
        Target::Http(HttpTarget::parse(&args.target)?)
    };
    let threads = args
        .threads
        .or((scenario.threads > 0).then_some(usize::from(scenario.threads)))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let options = RunOptions {
        scenario,
        target,
        users,
        threads,
        drain: args.drain,
    };
    let result = run(&options);
    if let Some(d) = fresh_dir {
        let _ = std::fs::remove_dir_all(d);
    }
    let mut report = result?;
    if let Some(server) = &server {
        report.target_rss_bytes = Some(imps_loadgen::run::process_rss_bytes(server.0.id()));
    }
    drop(server);
    report
        .write(&args.out)
        .with_context(|| format!("writing the report into {}", args.out.display()))?;
    print!("{}", report.summary());
    println!("report: {}", args.out.join("report.json").display());
    Ok(if report.slo_passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `impsd serve` started for the run; stopped (SIGTERM, then killed) when dropped.
struct Server(std::process::Child);

impl Server {
    fn start(
        impsd: &std::path::Path,
        target: &HttpTarget,
        data_dir: &std::path::Path,
        shards: Option<u16>,
        cir_tcp: Option<std::net::SocketAddr>,
    ) -> anyhow::Result<Server> {
        use std::io::{Read as _, Write as _};
        let mut cmd = std::process::Command::new(impsd);
        cmd.args(["serve", "--listen", &target.addr.to_string()])
            .arg("--data-dir")
            .arg(data_dir)
            .stdout(std::process::Stdio::null());
        if let Some(n) = shards {
            cmd.arg("--shards").arg(n.to_string());
        }
        if let Some(addr) = cir_tcp {
            cmd.arg("--cir-tcp").arg(addr.to_string());
        }
        let mut server = Server(
            cmd.spawn()
                .with_context(|| format!("starting {}", impsd.display()))?,
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(600);
        loop {
            if let Some(status) = server.0.try_wait()? {
                anyhow::bail!("impsd serve exited: {status}");
            }
            let healthy = std::net::TcpStream::connect(target.addr).and_then(|mut s| {
                s.set_read_timeout(Some(Duration::from_secs(5)))?;
                s.write_all(b"GET /health HTTP/1.1\r\nHost: l\r\nConnection: close\r\n\r\n")?;
                let mut head = [0u8; 12];
                s.read_exact(&mut head)?;
                Ok(head.ends_with(b"200"))
            });
            if matches!(healthy, Ok(true)) {
                return Ok(server);
            }
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "impsd serve did not become healthy"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
