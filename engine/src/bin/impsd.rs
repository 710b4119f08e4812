//! `impsd`: the IMPS server and its operator commands.
//!
//! `impsd users add | generate | import` write accounts into a data directory while no
//! server runs (the directory is locked; a running server makes them fail with a clear
//! message).

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
    /// Manage user accounts (while no server runs on the data directory).
    #[command(subcommand)]
    Users(UsersCommand),
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
    let cores = std::thread::available_parallelism()
        .map(|n| u16::try_from(n.get()).unwrap_or(1))
        .unwrap_or(1);
    let config = AccessConfig {
        domain: store.domain.clone(),
        ..AccessConfig::default()
    };
    Provisioner::open(&store.data_dir, store.shards, cores, config)
        .with_context(|| format!("cannot open data directory {}", store.data_dir.display()))
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let Command::Users(cmd) = cli.command;
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
