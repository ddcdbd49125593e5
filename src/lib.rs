//! How the roles of one process are put together: the api, the worker, or both (`serve`), all
//! stopping on one signal. The CLI in `main.rs` and the end-to-end tests start freeslot through
//! [`start`], so the tests run exactly what users run.

use std::net::SocketAddr;
use std::sync::Arc;

use service::AppContext;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use worker::WorkerOptions;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Roles {
    Serve,
    Api,
    Worker,
}

impl Roles {
    fn api(self) -> bool {
        matches!(self, Roles::Serve | Roles::Api)
    }
    fn worker(self) -> bool {
        matches!(self, Roles::Serve | Roles::Worker)
    }
}

pub struct Running {
    /// The api's port (0 when this process runs no api).
    pub port: u16,
    /// Finishes when every role has stopped after `stop` flipped to true.
    pub done: JoinHandle<anyhow::Result<()>>,
}

/// Binds the api (if any) right away, so the port is known, then runs the roles in the background
/// until `stop` becomes true; in-flight requests and jobs are then allowed to finish.
pub fn start(
    ctx: Arc<AppContext>,
    bind: SocketAddr,
    roles: Roles,
    worker_options: WorkerOptions,
    stop: watch::Receiver<bool>,
) -> std::io::Result<Running> {
    let api = if roles.api() {
        Some(api::Application::build(ctx.clone(), bind)?)
    } else {
        None
    };
    let port = api.as_ref().map_or(0, api::Application::port);

    let api_task = api.map(|app| {
        let handle = app.handle();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let _ = stop.wait_for(|s| *s).await;
            tracing::info!("api stopping: finishing in-flight requests");
            handle.stop(true).await;
        });
        tokio::spawn(app.run_until_stopped())
    });
    let worker_task = roles
        .worker()
        .then(|| tokio::spawn(worker::run(ctx, worker_options, stop.clone())));

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
