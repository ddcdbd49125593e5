//! The `freeslot` command: one binary for every role.

mod telemetry;

use anyhow::Context;
use clap::{Parser, Subcommand};
use freeslot::WorkerOptions;
use migration::{Migrator, MigratorTrait};
use service::{AppContext, Settings};
use std::process::ExitCode;
use tokio::sync::watch;

#[derive(Parser)]
#[command(
    name = "freeslot",
    version,
    about = "Self-hostable availability backend: one picture of your time across every calendar.",
    long_about = "Self-hostable availability backend: one picture of your time across every calendar.\n\n\
        Configuration comes from environment variables (and a `.env` file in the working directory); \
        with none at all, `freeslot serve` runs embedded on SQLite (./freeslot.db) and generates its \
        secrets on first start."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the api and the worker in one process (the embedded default); applies pending migrations first.
    Serve,
    /// Run only the HTTP api (production: any number of these beside workers). Applies pending migrations first.
    Api,
    /// Run only the background worker: job queue and schedules. Applies pending migrations first.
    Worker,
    /// Manage the database schema without starting anything else.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
}

#[derive(Subcommand)]
enum MigrateAction {
    /// Apply pending migrations (all, or the next N).
    Up {
        #[arg(long)]
        steps: Option<u32>,
    },
    /// Roll back applied migrations: the last one by default, the last N with --steps, all with --all.
    Down {
        #[arg(long, conflicts_with = "all")]
        steps: Option<u32>,
        #[arg(long)]
        all: bool,
    },
    /// List every migration and whether it is applied.
    Status,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("freeslot: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&settings);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("freeslot: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("freeslot: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    let (api, worker) = match command {
        Command::Serve => (true, true),
        Command::Api => (true, false),
        Command::Worker => (false, true),
        Command::Migrate { action } => return migrate(action, &settings).await,
    };
    // Bound before anything else starts: a taken port fails the command at once.
    let listener = api
        .then(|| std::net::TcpListener::bind(settings.bind_addr))
        .transpose()
        .with_context(|| format!("cannot listen on {}", settings.bind_addr))?;
    // A worker alone serves its metrics on METRICS_ADDR (the api's are on its own port).
    let metrics = match settings.metrics_addr {
        Some(addr) if !api => Some(
            std::net::TcpListener::bind(addr)
                .with_context(|| format!("cannot listen on METRICS_ADDR {addr}"))?,
        ),
        _ => None,
    };
    let ctx = AppContext::init(settings).await?;
    let stop = shutdown_channel();
    let metrics = metrics
        .map(|listener| {
            tracing::info!(addr = ?listener.local_addr().ok(), "metrics listening");
            freeslot::start_metrics(ctx.clone(), listener, stop.clone())
        })
        .transpose()?;
    let running = freeslot::start(ctx, listener, worker.then(WorkerOptions::default), stop)?;
    running.done.await??;
    if let Some(metrics) = metrics {
        metrics.await??;
    }
    tracing::info!("stopped");
    Ok(())
}

async fn migrate(action: MigrateAction, settings: &Settings) -> anyhow::Result<()> {
    use service::db::{Step, migrate_step};
    let db = service::db::connect(&settings.database_url).await?;
    match action {
        MigrateAction::Up { steps } => migrate_step(&db, Step::Up(steps)).await?,
        MigrateAction::Down { all: true, .. } => migrate_step(&db, Step::Reset).await?,
        MigrateAction::Down { steps, all: false } => {
            migrate_step(&db, Step::Down(steps.unwrap_or(1))).await?
        }
        MigrateAction::Status => {
            for m in Migrator::get_migration_with_status(&db).await? {
                println!(
                    "{:<10} {}",
                    format!("{:?}", m.status()).to_lowercase(),
                    m.name()
                );
            }
        }
    }
    Ok(())
}

/// Flips to `true` on the first SIGINT or SIGTERM; every part of the process watches it.
fn shutdown_channel() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown signal received");
        let _ = tx.send(true);
    });
    rx
}

async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
