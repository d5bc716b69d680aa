//! Prometheus metrics: one recorder per process (the `metrics` facade, rendered by
//! `metrics-exporter-prometheus` on `GET /metrics`). Requests are counted per route
//! template, never per raw path, so the number of series stays bounded.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tandem_persistence::Db;

/// Histogram buckets in seconds, from a fast read to a slow job run.
const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0, 300.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's recorder once (tests start many servers in one process) and
/// answers its handle; `None` when another recorder was installed first.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
                .and_then(|builder| builder.install_recorder());
            match recorder {
                Ok(handle) => {
                    // Histogram samples wait in buffers until drained: drain them every
                    // few seconds even when nobody scrapes, so memory stays flat.
                    let upkeep = handle.clone();
                    let spawned = std::thread::Builder::new()
                        .name("metrics-upkeep".into())
                        .spawn(move || loop {
                            std::thread::sleep(std::time::Duration::from_secs(5));
                            upkeep.run_upkeep();
                        });
                    if let Err(error) = spawned {
                        tracing::warn!(error = %error, "no metrics upkeep thread");
                    }
                    Some(handle)
                }
                Err(error) => {
                    tracing::warn!(error = %error, "metrics are off: no recorder");
                    None
                }
            }
        })
        .as_ref()
}

/// The exposition: the pools' usage as of now, then everything recorded.
pub fn render(db: &Db) -> String {
    for usage in db.pool_usage() {
        let in_use = usage.connections.saturating_sub(usage.idle);
        metrics::gauge!("tandem_db_pool_max_connections", "pool" => usage.pool)
            .set(f64::from(usage.max));
        metrics::gauge!("tandem_db_pool_connections", "pool" => usage.pool, "state" => "idle")
            .set(f64::from(usage.idle));
        metrics::gauge!("tandem_db_pool_connections", "pool" => usage.pool, "state" => "in_use")
            .set(f64::from(in_use));
    }
    install().map(PrometheusHandle::render).unwrap_or_default()
}

/// Counts an answered request and its latency under its route template.
pub fn record_request(method: &str, route: String, status: u16, seconds: f64) {
    let labels = [
        ("method", method.to_owned()),
        ("route", route),
        ("status", status.to_string()),
    ];
    metrics::counter!("tandem_http_requests_total", &labels).increment(1);
    metrics::histogram!("tandem_http_request_duration_seconds", &labels).record(seconds);
}
