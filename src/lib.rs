//! How the roles of one process are put together: the api, the worker, or both (`serve`), all
//! stopping on one signal. The CLI in `main.rs` and the end-to-end tests start freeslot through
//! [`start`], so the tests run exactly what users run.

use std::net::TcpListener;
use std::sync::Arc;

use service::AppContext;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use worker::WorkerOptions;

pub struct Running {
    /// The api's port (0 when this process runs no api).
    pub port: u16,
    /// Finishes when every role has stopped after `stop` flipped to true.
    pub done: JoinHandle<anyhow::Result<()>>,
}

/// Runs the api on `api` (a bound listener, so the caller knows the port before anything
/// starts) and the worker with `worker`'s schedules, each if given, in the background until
/// `stop` becomes true; in-flight requests and jobs are then allowed to finish.
pub fn start(
    ctx: Arc<AppContext>,
    api: Option<TcpListener>,
    worker: Option<WorkerOptions>,
    stop: watch::Receiver<bool>,
) -> std::io::Result<Running> {
    let api = api
        .map(|listener| api::Application::build(ctx.clone(), listener))
        .transpose()?;
    let port = api.as_ref().map_or(0, api::Application::port);

    let api_task = api.map(|app| {
        let handle = app.handle();
        let notifier = ctx.notifier.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let _ = stop.wait_for(|s| *s).await;
            tracing::info!("api stopping: finishing in-flight requests");
            // Live streams never finish by themselves: they end now, cleanly.
            notifier.close();
            handle.stop(true).await;
        });
        tokio::spawn(app.run_until_stopped())
    });
    let worker_task = worker.map(|options| tokio::spawn(worker::run(ctx, options, stop.clone())));

    let done = tokio::spawn(async move {
        if let Some(task) = api_task {
            task.await??;
        }
        if let Some(task) = worker_task {
            task.await??;
        }
        Ok(())
    });
    Ok(Running { port, done })
}

/// Serves `/metrics` alone on `listener` until `stop` (a worker's `METRICS_ADDR`).
pub fn start_metrics(
    ctx: Arc<AppContext>,
    listener: TcpListener,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<JoinHandle<std::io::Result<()>>> {
    let server = api::metrics_server(ctx, listener)?;
    let handle = server.handle();
    tokio::spawn(async move {
        let _ = stop.wait_for(|s| *s).await;
        handle.stop(true).await;
    });
    Ok(tokio::spawn(server))
}
