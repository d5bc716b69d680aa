//! Prometheus metrics: one recorder per process (the `metrics` facade, rendered by
//! `metrics-exporter-prometheus` on `GET /metrics`). Requests are counted per route
//! template, never per raw path, so the number of series stays bounded.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;

use metrics::{Counter, Histogram};

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

// The request series' handles, per worker thread. Registering a series (its labels
// built, hashed and looked up in the recorder's registry, twice) was 3% of a cheap
// read's CPU; a held handle only adds to atomics. Bounded like the series themselves:
// route templates times methods times statuses.
thread_local! {
    static REQUEST_SERIES: RefCell<HashMap<String, Vec<RequestSeries>>> = RefCell::default();
}

struct RequestSeries {
    method: &'static str,
    status: u16,
    count: Counter,
    latency: Histogram,
}

impl RequestSeries {
    fn register(method: &'static str, route: &str, status: u16) -> Self {
        let labels = [
            ("method", method.to_owned()),
            ("route", route.to_owned()),
            ("status", status.to_string()),
        ];
        Self {
            method,
            status,
            count: metrics::counter!("tandem_http_requests_total", &labels),
            latency: metrics::histogram!("tandem_http_request_duration_seconds", &labels),
        }
    }

    fn record(&self, seconds: f64) {
        self.count.increment(1);
        self.latency.record(seconds);
    }
}

/// Counts an answered request and its latency under its route template.
pub fn record_request(method: &'static str, route: String, status: u16, seconds: f64) {
    REQUEST_SERIES.with_borrow_mut(|by_route| {
        let held = by_route.get_mut(route.as_str()).and_then(|series| {
            series
                .iter_mut()
                .find(|s| s.method == method && s.status == status)
        });
        if let Some(series) = held {
            series.record(seconds);
            return;
        }
        let series = RequestSeries::register(method, &route, status);
        series.record(seconds);
        by_route.entry(route).or_default().push(series);
    });
}

#[cfg(test)]
mod tests {
    use super::{install, record_request};

    fn count_of(exposition: &str, route: &str, status: u16) -> Option<String> {
        exposition
            .lines()
            .filter(|line| line.starts_with("tandem_http_requests_total{"))
            .filter(|line| line.contains(&format!("route=\"{route}\"")))
            .find(|line| line.contains(&format!("status=\"{status}\"")))
            .and_then(|line| line.rsplit(' ').next().map(str::to_owned))
    }

    #[test]
    fn held_series_keep_counting_apart() {
        let recorder = install().expect("this test process's recorder");
        let route = "/test/held-series/{id}";
        for _ in 0..3 {
            record_request("GET", route.to_owned(), 200, 0.001);
        }
        record_request("GET", route.to_owned(), 404, 0.002);
        // Another thread holds its own handles of the same series.
        std::thread::spawn(move || record_request("GET", route.to_owned(), 200, 0.001))
            .join()
            .expect("the recording thread");
        let exposition = recorder.render();
        assert_eq!(
            count_of(&exposition, route, 200).as_deref(),
            Some("4"),
            "{exposition}"
        );
        assert_eq!(
            count_of(&exposition, route, 404).as_deref(),
            Some("1"),
            "{exposition}"
        );
    }
}
