//! `impsd`: the IMPS server and its operator commands.
//!
//! `impsd serve` runs the server (defaults serve as-is on a laptop: 127.0.0.1:8080,
//! `./data`); `--config FILE` reads every knob from TOML and flags override it. SIGINT or
//! SIGTERM stop it gracefully. `impsd users add | generate | import` write accounts into a
//! data directory while no server runs (the directory is locked; a running server makes
//! them fail with a clear message). `impsd check` verifies a data directory (exit 1 when
//! data was lost); `impsd backup --to DIR2` copies one consistently, even while a server
//! runs on it (restore: start impsd on the copy).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use imps_engine::config::AccessConfig;
use imps_engine::persist::Provisioner;
use imps_engine::record::Profile;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "impsd", about = "Wireless Village / OMA IMPS server", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage user accounts (while no server runs on the data directory).
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage the service provider's public groups (while no server runs).
    #[command(subcommand)]
    Groups(GroupsCommand),
    /// Verify every snapshot and log record of a data directory (exit 1 on lost data).
    Check {
        /// The data directory.
        #[arg(long, default_value = "./data")]
        data_dir: PathBuf,
    },
    /// Copy a data directory, consistently, even while a server runs on it.
    Backup {
        /// The data directory.
        #[arg(long, default_value = "./data")]
        data_dir: PathBuf,
        /// Where to put the copy (a new or empty directory); start impsd on it to restore.
        #[arg(long)]
        to: PathBuf,
    },
}

#[derive(Args)]
struct ServeArgs {
    /// HTTP listen address (repeatable); default 127.0.0.1:8080.
    #[arg(long)]
    listen: Vec<std::net::SocketAddr>,
    /// The data directory; default ./data.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Shards (default: cores; an existing data directory must match).
    #[arg(long)]
    shards: Option<u16>,
    /// The service's domain; default imps.local.
    #[arg(long)]
    domain: Option<String>,
    /// Standalone TCP CIR listener (advertised to clients).
    #[arg(long)]
    cir_tcp: Option<std::net::SocketAddr>,
    /// TOML configuration file (see README); flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Do not pin shards to CPUs.
    #[arg(long)]
    no_pin: bool,
    /// An SSP peer domain and its URL, `b.test=http://host:port/ssp` (repeatable).
    #[arg(long = "peer", value_name = "DOMAIN=URL")]
    peers: Vec<String>,
    /// A shared secret with a peer, `b.test=SECRET` (repeatable).
    #[arg(long = "peer-secret", value_name = "DOMAIN=SECRET")]
    peer_secrets: Vec<String>,
    /// Reach a domain through another, `c.test=b.test` (repeatable).
    #[arg(long = "route", value_name = "DOMAIN=VIA")]
    routes: Vec<String>,
    /// Find other domains' SSP servers by DNS SRV (`_imps-server._tcp.<domain>`).
    #[arg(long)]
    dns_srv: bool,
    /// The name server for `--dns-srv`, `IP:PORT` (default: /etc/resolv.conf's first).
    #[arg(long, value_name = "IP:PORT")]
    dns_server: Option<String>,
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    use imps_engine::settings::ServeSettings;
    let mut settings = match &args.config {
        Some(path) => ServeSettings::load(path)?,
        None => ServeSettings::default(),
    };
    if !args.listen.is_empty() {
        settings.listen = args.listen;
    }
    if let Some(d) = args.data_dir {
        settings.data_dir = d;
    }
    if args.shards.is_some() {
        settings.shards = args.shards;
    }
    if let Some(d) = args.domain {
        settings.domain = d;
    }
    if args.cir_tcp.is_some() {
        settings.cir.tcp = args.cir_tcp;
    }
    if args.no_pin {
        settings.pin = false;
    }
    settings
        .federation
        .apply_cli(&args.peers, &args.peer_secrets, &args.routes)?;
    if args.dns_srv {
        settings.federation.dns_srv = true;
    }
    if args.dns_server.is_some() {
        settings.federation.dns_server = args.dns_server;
    }
    settings.validate()?;
    let running = imps_engine::front::serve::start(&settings)
        .with_context(|| format!("cannot start on {}", settings.data_dir.display()))?;
    for addr in &running.http {
        tracing::info!(%addr, "serving CSP over HTTP");
        println!("listening on http://{addr}/imps");
    }
    if let Some(addr) = running.stcp {
        tracing::info!(%addr, "serving STCP CIR");
        println!("cir tcp on {addr}");
    }
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGUSR1,
    ])?;
    for sig in signals.forever() {
        if sig != signal_hook::consts::SIGUSR1 {
            tracing::info!(signal = sig, "stopping");
            break;
        }
        // SIGUSR1: a snapshot of every shard now (compacts the logs).
        match running.snapshot() {
            Ok(covered) => {
                tracing::info!(?covered, "snapshots written on demand");
                println!("snapshot {covered:?}");
                let _ = std::io::stdout().flush();
            }
            Err(e) => tracing::warn!(error = %e, "snapshot on demand failed"),
        }
    }
    running.shutdown()?;
    println!("stopped");
    Ok(())
}

#[derive(Args)]
struct Store {
    /// The data directory.
    #[arg(long, default_value = "./data")]
    data_dir: PathBuf,
    /// Shards of a new data directory (an existing one keeps its own); default: cores.
    #[arg(long)]
    shards: Option<u16>,
    /// The service's domain.
    #[arg(long, default_value = "imps.local")]
    domain: String,
}

#[derive(Subcommand)]
enum GroupsCommand {
    /// Add (or replace) a public group.
    Add {
        #[command(flatten)]
        store: Store,
        /// GroupID of a service group (`/lobby`, `wv:/lobby@imps.local`).
        #[arg(long)]
        group: String,
        /// Its name.
        #[arg(long)]
        name: String,
        /// Its topic.
        #[arg(long)]
        topic: Option<String>,
        /// Only members may join.
        #[arg(long)]
        restricted: bool,
        /// Found by search.
        #[arg(long)]
        searchable: bool,
        /// Most users joined at once.
        #[arg(long)]
        max_active_users: Option<u32>,
        /// The welcome note shown to joining users.
        #[arg(long)]
        welcome: Option<String>,
        /// Administrators (repeatable).
        #[arg(long)]
        admin: Vec<String>,
        /// Members (repeatable).
        #[arg(long)]
        member: Vec<String>,
    },
}

fn add_group(cmd: GroupsCommand) -> anyhow::Result<()> {
    let GroupsCommand::Add {
        store,
        group,
        name,
        topic,
        restricted,
        searchable,
        max_active_users,
        welcome,
        admin,
        member,
    } = cmd;
    let mut properties = vec![
        ("Name".to_owned(), name),
        ("Type".to_owned(), "Public".to_owned()),
        (
            "AccessType".to_owned(),
            if restricted { "Restricted" } else { "Open" }.to_owned(),
        ),
        (
            "Searchable".to_owned(),
            if searchable { "T" } else { "F" }.to_owned(),
        ),
    ];
    if let Some(t) = topic {
        properties.push(("Topic".to_owned(), t));
    }
    if let Some(m) = max_active_users {
        properties.push(("MaxActiveUsers".to_owned(), m.to_string()));
    }
    let members = admin
        .into_iter()
        .map(|u| (u, 2u8))
        .chain(member.into_iter().map(|u| (u, 0u8)))
        .collect();
    let record = imps_engine::record::GroupRecord {
        id: group.clone(),
        owner: None,
        properties,
        welcome: welcome.map(|w| ("text/plain".to_owned(), w)),
        members,
        reject: Vec::new(),
    };
    let mut p = open(&store)?;
    p.put_group(record)
        .with_context(|| format!("cannot add group {group}"))?;
    p.finish()?;
    println!("added public group {group}");
    Ok(())
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Add (or replace) one user.
    Add {
        #[command(flatten)]
        store: Store,
        /// User ID (`alice`, `wv:alice@imps.local`).
        #[arg(long)]
        user: String,
        /// Password.
        #[arg(long)]
        password: String,
        /// First name.
        #[arg(long)]
        first_name: Option<String>,
        /// Last name.
        #[arg(long)]
        last_name: Option<String>,
        /// E-mail address.
        #[arg(long)]
        email: Option<String>,
        /// Alias.
        #[arg(long)]
        alias: Option<String>,
        /// Mobile number.
        #[arg(long)]
        mobile: Option<String>,
    },
    /// Generate users PREFIX1..PREFIXN with one password.
    Generate {
        #[command(flatten)]
        store: Store,
        /// How many.
        #[arg(long)]
        count: u64,
        /// User ID prefix.
        #[arg(long, default_value = "user")]
        prefix: String,
        /// Their password.
        #[arg(long, default_value = "pass")]
        password: String,
    },
    /// Import users from a CSV file: user,password[,first,last,email,alias,mobile].
    Import {
        #[command(flatten)]
        store: Store,
        /// The CSV file.
        file: PathBuf,
    },
}

fn open(store: &Store) -> anyhow::Result<Provisioner> {
    let config = AccessConfig {
        domain: store.domain.clone(),
        ..AccessConfig::default()
    };
    Provisioner::open(&store.data_dir, store.shards, config)
        .with_context(|| format!("cannot open data directory {}", store.data_dir.display()))
}

/// `impsd check`: prints what it found per shard; exits 1 when data was lost.
fn check(data_dir: &std::path::Path) -> anyhow::Result<()> {
    let start = Instant::now();
    let checks = imps_engine::persist::check_data_dir(data_dir)
        .with_context(|| format!("cannot check {}", data_dir.display()))?;
    let mut sound = true;
    for (i, c) in checks.iter().enumerate() {
        println!(
            "shard {i}: {} records in {} segments, {} of {} snapshots intact, continues at seq {}",
            c.records, c.segments, c.good_snapshots, c.snapshots, c.next_seq.0
        );
        for t in &c.tails {
            println!("  tail: {t}");
        }
        for l in &c.lost {
            println!("  DAMAGE: {l}");
        }
        sound &= c.is_sound();
    }
    let records: u64 = checks.iter().map(|c| c.records).sum();
    println!(
        "{}: {records} records on {} shards checked in {:.2} s: {}",
        data_dir.display(),
        checks.len(),
        start.elapsed().as_secs_f64(),
        if sound { "ok" } else { "DAMAGED" }
    );
    if !sound {
        std::process::exit(1);
    }
    Ok(())
}

/// `impsd backup`: a consistent copy of a (possibly running) data directory.
fn backup(data_dir: &std::path::Path, to: &std::path::Path) -> anyhow::Result<()> {
    let start = Instant::now();
    let report = imps_engine::storage::backup(data_dir, to)
        .with_context(|| format!("cannot back up {} to {}", data_dir.display(), to.display()))?;
    let last: Vec<String> = report.last_seq.iter().map(|s| s.0.to_string()).collect();
    println!(
        "backed up {} ({}) to {}: {} files, {} bytes, {} shards (last records {}) in {:.2} s",
        data_dir.display(),
        if report.online { "online" } else { "offline" },
        to.display(),
        report.files,
        report.bytes,
        report.shards,
        last.join(", "),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cmd = match cli.command {
        Command::Serve(args) => return serve(args),
        Command::Check { data_dir } => return check(&data_dir),
        Command::Backup { data_dir, to } => return backup(&data_dir, &to),
        Command::Groups(cmd) => return add_group(cmd),
        Command::Users(cmd) => cmd,
    };
    let start = Instant::now();
    let report = match cmd {
        UsersCommand::Add {
            store,
            user,
            password,
            first_name,
            last_name,
            email,
            alias,
            mobile,
        } => {
            let mut p = open(&store)?;
            let profile = Profile {
                first_name,
                last_name,
                email,
                alias,
                mobile,
            };
            p.put_user(&user, &password, profile)
                .with_context(|| format!("cannot add user {user}"))?;
            p.finish()?
        }
        UsersCommand::Generate {
            store,
            count,
            prefix,
            password,
        } => {
            let mut p = open(&store)?;
            for i in 1..=count {
                p.put_user(&format!("{prefix}{i}"), &password, Profile::default())?;
            }
            p.finish()?
        }
        UsersCommand::Import { store, file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let users = imps_engine::csv::parse_users(&text)
                .with_context(|| format!("in {}", file.display()))?;
            let mut p = open(&store)?;
            for u in users {
                let user = u.user.clone();
                p.put_user(&u.user, &u.password, u.profile)
                    .with_context(|| format!("cannot import user {user}"))?;
            }
            p.finish()?
        }
    };
    println!(
        "wrote {} users in {:.2} s; the data directory holds {} users on {} shards",
        report.written,
        start.elapsed().as_secs_f64(),
        report.users,
        report.shards
    );
    Ok(())
}
