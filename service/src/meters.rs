//! Prometheus metrics (contract, "Metrics"): one recorder per process, written to through the
//! `metrics` facade by whoever does the work, rendered in the text format by `render`.
//!
//! Names and labels are the contract's. Labels hold only bounded values — route patterns
//! (`/api/tasks/{id}`, never a path with an id), providers, outcomes, job names — so a series
//! never names a user or a secret. `freeslot_calendars` and the process's memory and CPU are
//! read when a scrape asks, not kept up to date in between.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use entity::{Provider, SyncStatus, calendars};
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, Iterable, QuerySelect};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Request latencies: 5 ms … 10 s.
const HTTP_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Sync runs: 50 ms … 10 min (a 20,000-event first sync takes tens of seconds).
const SYNC_BUCKETS: &[f64] = &[
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];

/// The process's recorder, installed on first use. Tests start several apps in one process:
/// they share it, as the api and the worker of `freeslot serve` do.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("http_request_duration_seconds".into()),
                HTTP_BUCKETS,
            )
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full("freeslot_sync_duration_seconds".into()),
                    SYNC_BUCKETS,
                )
            })
            .expect("bucket lists are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder (a test harness's) may be installed already: then this handle
        // renders an empty registry rather than failing the app.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was installed already; /metrics will be empty");
        }
        describe();
        // Series of a few fixed labels start at 0, so that rate() sees their first increase
        // and a dashboard finds them before anything happened.
        for outcome in ["delivered", "failed", "gone"] {
            counter!("freeslot_webhook_deliveries_total", "outcome" => outcome).increment(0);
        }
        for result in ["hit", "miss"] {
            counter!("freeslot_engine_cache_requests_total", "result" => result).increment(0);
        }
        handle
    })
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "http_requests_total",
        "HTTP requests answered, by route pattern"
    );
    describe_histogram!(
        "http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request, by route pattern"
    );
    describe_counter!("freeslot_sync_runs_total", "Calendar sync runs, by outcome");
    describe_histogram!(
        "freeslot_sync_duration_seconds",
        Unit::Seconds,
        "How long a calendar sync run took"
    );
    describe_counter!(
        "freeslot_sync_events_total",
        "Events a sync added, updated or removed"
    );
    describe_counter!("freeslot_jobs_total", "Background jobs run, by outcome");
    describe_gauge!(
        "freeslot_calendars",
        "Calendars, by provider and sync status"
    );
    describe_counter!(
        "freeslot_webhook_deliveries_total",
        "Webhook delivery attempts, by outcome"
    );
    describe_counter!(
        "freeslot_engine_cache_requests_total",
        "Availability engine cache lookups: hit or miss"
    );
    describe_gauge!(
        "process_resident_memory_bytes",
        Unit::Bytes,
        "Resident memory of this process"
    );
    // A gauge: the facade's counters are integers, CPU time is not (rate() reads it alike).
    describe_gauge!(
        "process_cpu_seconds_total",
        Unit::Seconds,
        "CPU time this process used (user + system)"
    );
}

/// One answered request. `route` is the matched pattern or `unmatched`.
pub fn http_request(method: &str, route: &str, status: u16, took: Duration) {
    handle();
    counter!("http_requests_total", "method" => method.to_owned(), "route" => route.to_owned(),
        "status" => status.to_string())
    .increment(1);
    histogram!("http_request_duration_seconds", "route" => route.to_owned())
        .record(took.as_secs_f64());
}

/// One finished sync run: `outcome` is `succeeded` or `failed`.
pub fn sync_run(
    provider: Provider,
    outcome: &'static str,
    took: Duration,
    added: u64,
    updated: u64,
    removed: u64,
) {
    handle();
    let p = provider.as_str();
    counter!("freeslot_sync_runs_total", "provider" => p, "outcome" => outcome).increment(1);
    histogram!("freeslot_sync_duration_seconds", "provider" => p).record(took.as_secs_f64());
    for (change, n) in [("added", added), ("updated", updated), ("removed", removed)] {
        if n > 0 {
            counter!("freeslot_sync_events_total", "provider" => p, "change" => change)
                .increment(n);
        }
    }
}

/// One job the worker ran: `outcome` is `succeeded` or `failed`.
pub fn job(job: &'static str, outcome: &'static str) {
    handle();
    counter!("freeslot_jobs_total", "job" => job, "outcome" => outcome).increment(1);
}

/// One webhook delivery attempt: `delivered`, `failed` or `gone` (the receiver said 410).
pub fn webhook_delivery(outcome: &'static str) {
    handle();
    counter!("freeslot_webhook_deliveries_total", "outcome" => outcome).increment(1);
}

/// One engine cache lookup: `hit` or `miss`.
pub fn engine_cache(result: &'static str) {
    handle();
    counter!("freeslot_engine_cache_requests_total", "result" => result).increment(1);
}

/// The metrics in the Prometheus text format, with the calendar counts and the process's
/// memory and CPU read now. An unreachable database leaves the calendar counts as they were
/// last read: the metrics matter most during an outage.
pub async fn render(db: &DatabaseConnection) -> String {
    let handle = handle();
    match calendar_counts(db).await {
        Ok(counts) => {
            for ((provider, status), n) in counts {
                gauge!("freeslot_calendars", "provider" => provider, "status" => status).set(n);
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not count calendars for the metrics"),
    }
    if let Some((rss, cpu)) = process_usage() {
        gauge!("process_resident_memory_bytes").set(rss as f64);
        gauge!("process_cpu_seconds_total").set(cpu);
    }
    handle.render()
}

/// Calendars per (provider, status), every combination present (0 where none), so a status
/// that empties reads 0 instead of its last count.
async fn calendar_counts(
    db: &DatabaseConnection,
) -> Result<BTreeMap<(&'static str, &'static str), f64>, DbErr> {
    let rows: Vec<(Provider, SyncStatus)> = calendars::Entity::find()
        .select_only()
        .column(calendars::Column::Provider)
        .column(calendars::Column::SyncStatus)
        .into_tuple()
        .all(db)
        .await?;
    let mut counts = BTreeMap::new();
    for provider in Provider::iter() {
        for status in SyncStatus::iter() {
            counts.insert((provider.as_str(), status.as_str()), 0.0);
        }
    }
    for (provider, status) in &rows {
        *counts
            .entry((provider.as_str(), status.as_str()))
            .or_default() += 1.0;
    }
    Ok(counts)
}

/// Whether `presented` (an `Authorization` header) opens `/metrics`: anything when no
/// `METRICS_TOKEN` is set, else exactly `Bearer <token>` (compared in constant time).
pub fn authorized(token: Option<&str>, presented: Option<&str>) -> bool {
    use subtle::ConstantTimeEq;
    let Some(token) = token else {
        return true;
    };
    let Some(given) = presented.and_then(|h| h.strip_prefix("Bearer ")) else {
        return false;
    };
    bool::from(given.trim().as_bytes().ct_eq(token.as_bytes()))
}

/// Resident bytes and CPU seconds of this process, from `/proc` (Linux; None elsewhere).
fn process_usage() -> Option<(u64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let rss_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces, so split after its `)`): utime and
    // stime are the 12th and 13th, in clock ticks — USER_HZ, 100 on Linux.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some((rss_kib * 1024, ticks as f64 / 100.0))
}
