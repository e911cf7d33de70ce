//! `yaddash-hq`: the HQ server binary.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use yaddash_hq::config::{DataDir, Settings};
use yaddash_hq::server::{App, serve};
use yaddash_hq::{init, store};

/// Yaddash HQ server: a blind relay for encrypted bundles.
#[derive(Parser)]
#[command(name = "yaddash-hq", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a data directory, or replace its coordinator set, from the
    /// coordinators' trust file and print the server's public key.
    /// Coordinators no longer in the file are revoked (no quorum needed: this
    /// runs on the server host).
    Init {
        /// Data directory.
        #[arg(long)]
        data: PathBuf,
        /// The coordinators' `yaddash trust export` file.
        #[arg(long)]
        trust: PathBuf,
        /// Settings file (for `database_url`).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Revoke a coordinator at once (its requests, approvals and enrollment
    /// codes are refused from now on). No quorum needed: this runs on the
    /// server host. The last coordinator cannot be revoked.
    RevokeCoordinator {
        /// Data directory.
        #[arg(long)]
        data: PathBuf,
        /// The coordinator's device id.
        #[arg(long)]
        coordinator: uuid::Uuid,
        /// Settings file (for `database_url`).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Serve.
    Serve {
        /// Data directory.
        #[arg(long)]
        data: PathBuf,
        /// Address to listen on (overrides the settings; port 0 picks one).
        #[arg(long)]
        listen: Option<String>,
        /// Settings file (TOML).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Where chunks and bundles live: `fs` (default, under --data) or
        /// `s3://BUCKET[/PREFIX]` for any S3-compatible store (overrides the
        /// `blob_store` setting; endpoint and region: `s3_endpoint`,
        /// `s3_region`, `s3_allow_http`; credentials: AWS_ACCESS_KEY_ID,
        /// AWS_SECRET_ACCESS_KEY).
        #[arg(long)]
        blob_store: Option<String>,
    },
}

fn main() -> ExitCode {
    // No core dumps, no ptrace by the same user, private files (umask 077).
    yaddash_os::harden_process();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("yaddash-hq: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Init {
            data,
            trust,
            config,
        } => {
            let settings = Settings::load(config.as_deref()).map_err(|e| e.to_string())?;
            let text = std::fs::read_to_string(&trust)
                .map_err(|e| format!("cannot read {}: {e}", trust.display()))?;
            std::fs::create_dir_all(&data)
                .map_err(|e| format!("cannot create {}: {e}", data.display()))?;
            let store =
                store::open(Some(&settings.database_url), &data).map_err(|e| e.to_string())?;
            let s = init(&DataDir(data), &text, &*store)?;
            println!("headquarters:  {}", s.hq_id);
            println!("coordinators:  {}", s.coordinators);
            println!("server key:    {}", s.server_key);
            println!("fingerprint:   {}", s.fingerprint);
            if !s.new_key {
                println!("(the existing server key was kept)");
            }
            Ok(())
        }
        Command::RevokeCoordinator {
            data,
            coordinator,
            config,
        } => {
            let settings = Settings::load(config.as_deref()).map_err(|e| e.to_string())?;
            let store =
                store::open(Some(&settings.database_url), &data).map_err(|e| e.to_string())?;
            let version = yaddash_hq::revoke_coordinator(&*store, coordinator)?;
            println!(
                "revoked coordinator {coordinator}; the coordinator set is now version {version}"
            );
            Ok(())
        }
        Command::Serve {
            data,
            listen,
            config,
            blob_store,
        } => {
            let mut settings = Settings::load(config.as_deref()).map_err(|e| e.to_string())?;
            if let Some(l) = listen {
                settings.listen = l;
            }
            if let Some(b) = blob_store {
                settings.blob_store = b;
            }
            let store =
                store::open(Some(&settings.database_url), &data).map_err(|e| e.to_string())?;
            let listen = settings.listen.clone();
            let app = Arc::new(App::new(settings, DataDir(data), store)?);
            let rt = tokio::runtime::Builder::new_multi_thread()
                .max_blocking_threads(yaddash_hq::server::BLOCKING_THREADS)
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(&listen)
                    .await
                    .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
                let addr = listener.local_addr().map_err(|e| e.to_string())?;
                println!("listening on http://{addr}");
                use std::io::Write;
                let _ = std::io::stdout().flush();
                serve(listener, app).await.map_err(|e| e.to_string())
            })
        }
    }
}
