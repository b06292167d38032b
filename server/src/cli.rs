//! The command line: `serve`, `migrate`, `keys generate`, `audit verify`, `user create`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands;

#[derive(Debug, Parser)]
#[command(name = "latchkey", version, about = "Latchkey: a control plane for API credentials")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the console and API (migrates the database first).
    Serve,
    /// Apply database migrations and create the default environments, then exit.
    Migrate,
    /// Server secrets.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Local accounts.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a fresh pepper, data key and audit signing key.
    Generate {
        /// Write each secret to a file (mode 0600) in this directory instead of printing it.
        #[arg(long)]
        out_dir: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain and check signed checkpoints; exit code 2 names a broken log.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a local account (for the first admin, and break-glass access).
    Create {
        #[arg(long)]
        username: String,
        /// admin, operator or auditor
        #[arg(long)]
        role: String,
        /// Limit the role to one environment (default: all environments).
        #[arg(long)]
        environment: Option<String>,
        /// Read the password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
    },
}

pub async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Serve => commands::serve::run().await,
        Command::Migrate => commands::migrate::run().await,
        Command::Keys(KeysCommand::Generate { out_dir }) => commands::keys::generate(out_dir.as_deref()),
        Command::Audit(AuditCommand::Verify) => commands::audit::verify().await,
        Command::User(UserCommand::Create { username, role, environment, password_stdin }) => {
            commands::user::create(&username, &role, environment.as_deref(), password_stdin).await
        }
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("latchkey: {message}");
            ExitCode::FAILURE
        }
    }
}
