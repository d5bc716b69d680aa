//! Background jobs: the reminder job, run by a loop inside `tandem serve` and by
//! `tandem jobs run-once` for operators and cron.
//!
//! A run claims the pairings whose `next_event_at` has come (one probe of a partial
//! index when nothing is due, never a scan of every pairing), runs each one's step
//! (`workflows::reminders::step`) and commits per batch. Exactly once rests on the claim
//! and on the notifications' unique keys, as `pairings::claim_due` explains.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::Either;
use tandem_domain::clock::{storable, Clock};
use tandem_persistence::{pairings, Db, StoreError};

use crate::workflows::{reminders, WorkflowError};

/// Pairings claimed and committed together: small enough to keep locks short.
pub(crate) const BATCH: usize = 100;

/// How long a pairing whose step failed for good (not contention) waits before it is
/// tried again, so one bad row cannot hold back everyone else's reminders.
const RETRY_FAILED_AFTER: chrono::Duration = chrono::Duration::hours(1);

/// Whether and how often `tandem serve` runs the jobs.
#[derive(Debug, Clone, clap::Args)]
pub struct JobSettings {
    /// `on` runs the reminder job in the server; `off` leaves it to `tandem jobs run-once`.
    #[arg(long, env = "TANDEM_JOBS", default_value = "on", value_parser = ["on", "off"])]
    pub jobs: String,
    /// Seconds between two runs.
    #[arg(long, env = "TANDEM_JOBS_INTERVAL_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub jobs_interval_secs: u64,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            jobs: "on".into(),
            jobs_interval_secs: 60,
        }
    }
}

impl JobSettings {
    /// The loop's interval, or `None` when the jobs are off.
    pub fn interval(&self) -> Option<Duration> {
        (self.jobs == "on").then(|| Duration::from_secs(self.jobs_interval_secs))
    }
}

/// What a run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct JobReport {
    /// Pairings whose plan was run.
    pub planned: usize,
    /// Notifications stored.
    pub sent: usize,
    /// Pairings recorded completed.
    pub completed: usize,
    /// Pairings whose step failed (logged; tried again later).
    pub failed: usize,
}

impl JobReport {
    fn add(&mut self, other: JobReport) {
        self.planned += other.planned;
        self.sent += other.sent;
        self.completed += other.completed;
        self.failed += other.failed;
    }

    /// Did the run change anything?
    pub fn is_idle(&self) -> bool {
        *self == JobReport::default()
    }
}

impl std::fmt::Display for JobReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} pairings planned, {} notifications sent, {} pairings completed, {} failed",
            self.planned, self.sent, self.completed, self.failed
        )
    }
}

/// Runs the reminder job once at `now`, batch after batch until nothing is due.
/// Blocking: call it from a blocking thread.
pub fn run_once(db: &Db, now: DateTime<Utc>) -> Result<JobReport, WorkflowError> {
    run_once_with(db, now, |_| {})
}

/// [`run_once`], telling `on_batch` the running totals after each committed batch (for
/// progress on a terminal). Each run is counted in the metrics with its duration and
/// outcome: `ok`, `failed` (some pairings failed and wait for a retry) or `error` (the
/// run stopped; the next one retries).
pub fn run_once_with(
    db: &Db,
    now: DateTime<Utc>,
    mut on_batch: impl FnMut(&JobReport),
) -> Result<JobReport, WorkflowError> {
    let started = std::time::Instant::now();
    let result = run_batches(db, storable(now), &mut on_batch);
    let outcome = match &result {
        Ok(report) if report.failed > 0 => "failed",
        Ok(_) => "ok",
        Err(_) => "error",
    };
    metrics::counter!("tandem_job_runs_total", "job" => JOB, "outcome" => outcome).increment(1);
    metrics::histogram!("tandem_job_run_duration_seconds", "job" => JOB, "outcome" => outcome)
        .record(started.elapsed().as_secs_f64());
    result
}

/// The reminder job's name in the metrics.
const JOB: &str = "reminders";

fn run_batches(
    db: &Db,
    now: DateTime<Utc>,
    on_batch: &mut dyn FnMut(&JobReport),
) -> Result<JobReport, WorkflowError> {
    let mut report = JobReport::default();
    loop {
        let batch = db.write(|conn| run_batch(conn, now))?;
        report.add(batch);
        on_batch(&report);
        // Every planned pairing moved its next run past `now` (or to never), so a short
        // batch means nothing more is due, except rows other nodes hold right now.
        if batch.planned < BATCH {
            return Ok(report);
        }
    }
}

/// One batch: claims what is due, runs each step, frees the completed places. The demo
/// runs it inside its own transaction at past instants.
pub(crate) fn run_batch(
    conn: &mut tandem_persistence::DbConn,
    now: DateTime<Utc>,
) -> Result<JobReport, WorkflowError> {
    let limit = i64::try_from(BATCH).unwrap_or(i64::MAX);
    let claimed = pairings::claim_due(conn, now, limit)?;
    if let Some(oldest) = claimed.oldest_due {
        // How late the oldest event was when claimed: grows when the job falls behind.
        let lag = (now - oldest).to_std().unwrap_or_default();
        metrics::histogram!("tandem_job_lag_seconds", "job" => JOB).record(lag.as_secs_f64());
    }
    let claimed = claimed.pairings;
    let mut report = JobReport {
        planned: claimed.len(),
        ..JobReport::default()
    };
    let mut places = Vec::new();
    for pairing in claimed {
        let id = pairing.id;
        let step =
            tandem_persistence::db::savepoint(conn, |conn| reminders::step(conn, pairing, now));
        match step {
            Ok(step) => {
                report.sent += step.sent;
                if let Some(freed) = step.places {
                    report.completed += 1;
                    places.extend(freed);
                }
            }
            // Contention or an outage passes: the whole batch is retried next run.
            Err(
                error @ WorkflowError::Store(
                    StoreError::Busy(_)
                    | StoreError::Unavailable(_)
                    | StoreError::ConnectionLost(_),
                ),
            ) => {
                return Err(error);
            }
            Err(error) => {
                tracing::error!(pairing_id = %id, error = %error, "reminder step failed; trying again later");
                report.failed += 1;
                pairings::schedule_next(conn, id, Some(now + RETRY_FAILED_AFTER))?;
            }
        }
    }
    reminders::free_places(conn, places)?;
    Ok(report)
}

/// The jobs' loop inside `tandem serve`, and how to stop it.
pub struct JobLoop {
    stop: Arc<tokio::sync::watch::Sender<bool>>,
    task: actix_web::rt::task::JoinHandle<()>,
}

impl JobLoop {
    /// Asks the loop to stop and waits for it: a run in progress finishes (and commits
    /// its batch) first; no new run starts.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        if let Err(error) = self.task.await {
            tracing::warn!(error = %error, "the job loop ended abnormally");
        }
    }
}

/// Runs the jobs every `interval` until [`JobLoop::stop`]: off the async workers (the
/// database work runs on the blocking pool), at the injected clock's time. A run that
/// did something is logged; a failed one too, and the next run tries again. The stop
/// signal is looked at between runs only, never inside one. `stop` may be set from
/// elsewhere too (the server's stop signal, before its drain).
pub fn spawn_loop(
    db: Db,
    clock: Arc<dyn Clock>,
    interval: Duration,
    stop: Arc<tokio::sync::watch::Sender<bool>>,
) -> JobLoop {
    let mut stopped = stop.subscribe();
    let task = actix_web::rt::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // A tick that is due as the stop comes does not start a run.
            let stopping = {
                let tick = std::pin::pin!(ticks.tick());
                let stop = std::pin::pin!(stopped.wait_for(|stop| *stop));
                matches!(
                    futures_util::future::select(tick, stop).await,
                    Either::Right(_)
                )
            };
            if stopping || *stopped.borrow() {
                return;
            }
            // Debug only: every tick would flood the info log; a test of the stop reads it.
            tracing::debug!("job run starting");
            let db = db.clone();
            let now = clock.now();
            match actix_web::web::block(move || run_once(&db, now)).await {
                Ok(Ok(report)) if report.is_idle() => {}
                Ok(Ok(report)) => tracing::info!(
                    planned = report.planned,
                    sent = report.sent,
                    completed = report.completed,
                    failed = report.failed,
                    "reminder job ran"
                ),
                Ok(Err(error)) => {
                    tracing::warn!(error = %error, "reminder job failed; next run retries")
                }
                Err(error) => tracing::warn!(error = %error, "reminder job did not run"),
            }
        }
    });
    JobLoop { stop, task }
}
