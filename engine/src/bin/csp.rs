//! `csp`: check and re-format CSP messages.
//!
//! `csp check FILE...` decodes each file and prints its version and primitives (exit 1 if any
//! fails); `csp fmt FILE` prints the canonical re-encoding.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "csp",
    about = "Check and format Wireless Village / OMA IMPS CSP messages"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode each file; print its version and primitives.
    Check {
        /// CSP XML files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the canonical encoding of a file.
    Fmt {
        /// A CSP XML file.
        file: PathBuf,
    },
}

fn main() -> anyhow::Result<ExitCode> {
    match Cli::parse().command {
        Command::Check { files } => {
            let mut failed = 0usize;
            for file in &files {
                let body =
                    std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
                match imps_engine::tools::check(&body) {
                    Ok(line) => println!("{}: {line}", file.display()),
                    Err(e) => {
                        failed += 1;
                        println!(
                            "{}: ERROR {e} (status {})",
                            file.display(),
                            e.status().code()
                        );
                    }
                }
            }
            if failed > 0 {
                eprintln!("{failed} of {} files failed", files.len());
                return Ok(ExitCode::FAILURE);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Fmt { file } => {
            let body =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let out = imps_engine::tools::format(&body)
                .with_context(|| format!("decoding {}", file.display()))?;
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&out)?;
            stdout.write_all(b"\n")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
