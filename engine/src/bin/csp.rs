//! `csp`: check and re-format CSP messages.
//!
//! `csp check FILE...` decodes each file and prints its version and primitives (exit 1 if any
//! fails); `csp fmt FILE` prints the canonical re-encoding. `csp xml2wbxml [FILE]` and
//! `csp wbxml2xml [FILE]` convert a message (from FILE, or stdin when absent or `-`) between
//! XML and WBXML, in the message's own version, to stdout.

use std::io::{Read as _, Write as _};
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
    /// Convert a CSP XML message to WBXML (binary, to stdout).
    Xml2wbxml {
        /// A CSP XML file; stdin when absent or `-`.
        file: Option<PathBuf>,
    },
    /// Convert a CSP WBXML message to canonical XML (to stdout).
    Wbxml2xml {
        /// A CSP WBXML file; stdin when absent or `-`.
        file: Option<PathBuf>,
    },
}

/// The bytes of `file`, or of stdin when it is absent or `-`.
fn read_input(file: Option<&PathBuf>) -> anyhow::Result<Vec<u8>> {
    match file.filter(|f| f.as_os_str() != "-") {
        Some(file) => std::fs::read(file).with_context(|| format!("reading {}", file.display())),
        None => {
            let mut body = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut body)
                .context("reading stdin")?;
            Ok(body)
        }
    }
}

/// Decodes the input in `from` and writes it to stdout in `to`.
fn convert(
    file: Option<&PathBuf>,
    from: imps_protocol::Encoding,
    to: imps_protocol::Encoding,
) -> anyhow::Result<ExitCode> {
    let body = read_input(file)?;
    let name = file.map_or_else(|| "stdin".to_owned(), |f| f.display().to_string());
    let message = imps_protocol::decode(&body, from)
        .with_context(|| format!("decoding {name} as {from:?}"))?;
    let mut out = Vec::with_capacity(body.len() * 2);
    imps_protocol::encode_into(&message, to, &mut out)?;
    if to == imps_protocol::Encoding::Xml {
        out.push(b'\n');
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&out)?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
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
        Command::Xml2wbxml { file } => convert(
            file.as_ref(),
            imps_protocol::Encoding::Xml,
            imps_protocol::Encoding::Wbxml,
        ),
        Command::Wbxml2xml { file } => convert(
            file.as_ref(),
            imps_protocol::Encoding::Wbxml,
            imps_protocol::Encoding::Xml,
        ),
    }
}
