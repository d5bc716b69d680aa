//! The `tandem` binary: serve the API, migrate the database, print the spec, run jobs.

use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tandem_api::config::{cors_origins, jwt_secret, DatabaseSettings, PublicUrl, ServeSettings};
use tandem_api::{demo, jobs, openapi, progress, telemetry, AppConfig, Application};
use tandem_domain::clock::Clock;
use tandem_domain::template::Language;
use tandem_persistence::Db;

// mimalloc instead of glibc's malloc, tuned by `allocator::tune`: an idle server holds
// about 5 MiB less (docs/performance.md, step 19).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "tandem",
    version,
    about = "Mentorship programs for online communities"
)]
struct Cli {
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true, env = "TANDEM_LOG_FORMAT", value_parser = ["text", "json"], default_value = "text")]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations and serve the API.
    Serve(Box<ServeSettings>),
    /// Apply pending migrations and exit.
    Migrate(DatabaseSettings),
    /// Print the OpenAPI document.
    Openapi,
    /// Fill the database (migrated first) with a demo community and print its logins;
    /// with `--scale`, generate benchmark data instead.
    Demo(DemoSettings),
    /// Run background jobs by hand or from cron.
    #[command(subcommand)]
    Jobs(JobsCommand),
}

#[derive(clap::Args)]
struct DemoSettings {
    #[command(flatten)]
    database: DatabaseSettings,
    /// The demo's language: its template, names and words.
    #[arg(long, value_parser = ["en", "it"], default_value = "en")]
    lang: String,
    /// Generate benchmark data instead: 1 is about 5,000 users and 4,000 pairings;
    /// fractions for small runs (0.01).
    #[arg(long)]
    scale: Option<f64>,
    /// The generator's seed: the same seed makes the same data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Where the generator lists the accounts and ids a load script can use.
    #[arg(long, default_value = "bench/data/users.json")]
    out: std::path::PathBuf,
}

#[derive(Subcommand)]
enum JobsCommand {
    /// Send the reminders due now and record completed pairings, then exit. Safe beside
    /// running servers: nothing is sent twice.
    RunOnce(DatabaseSettings),
}

struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
}

fn main() -> ExitCode {
    tandem_api::allocator::tune();
    let cli = Cli::parse();
    telemetry::init(cli.log_format == "json");
    let result = match cli.command {
        Command::Serve(settings) => serve(*settings),
        Command::Migrate(settings) => migrate(&settings),
        Command::Openapi => {
            print!("{}", openapi::spec_json());
            Ok(())
        }
        Command::Jobs(JobsCommand::RunOnce(settings)) => jobs_run_once(&settings),
        Command::Demo(settings) => demo(&settings),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("tandem: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn open_migrated(settings: &DatabaseSettings) -> anyhow::Result<Db> {
    let db = Db::open(&settings.db_config()).context("opening the database")?;
    // The bar is made at the first migration applied, when the count is known.
    let mut bar: Option<progress::Progress> = None;
    let applied = db.migrate_with(|step| {
        let bar = bar.get_or_insert_with(|| progress::bar(step.pending as u64, "migrating"));
        bar.step(
            1,
            &format!(
                "applied migration {}/{}: {}",
                step.index, step.pending, step.name
            ),
        );
    })?;
    if let Some(bar) = bar {
        bar.finish();
    }
    tracing::info!(applied, engine = ?db.engine(), "database migrated");
    Ok(db)
}

fn migrate(settings: &DatabaseSettings) -> anyhow::Result<()> {
    open_migrated(settings).map(|_| ())
}

fn jobs_run_once(settings: &DatabaseSettings) -> anyhow::Result<()> {
    // No migrating from cron: the schema moves with deployments (`tandem migrate`,
    // `tandem serve`), not beside servers that may still run the previous version.
    let db = Db::open(&settings.db_config()).context("opening the database")?;
    let bar = progress::bar(0, "reminder job");
    let mut planned = 0;
    let report = jobs::run_once_with(&db, SystemClock.now(), |so_far| {
        bar.step(
            (so_far.planned - planned) as u64,
            &format!("reminder job, batch committed: {so_far}"),
        );
        planned = so_far.planned;
    });
    bar.finish();
    let report = report.context("running the reminder job")?;
    println!("reminder job: {report}");
    if report.failed > 0 {
        anyhow::bail!("{} pairings failed (see the log)", report.failed);
    }
    Ok(())
}

fn demo(settings: &DemoSettings) -> anyhow::Result<()> {
    let db = open_migrated(&settings.database)?;
    let now = SystemClock.now();
    if let Some(scale) = settings.scale {
        let options = demo::generator::Options {
            scale,
            seed: settings.seed,
            out: settings.out.clone(),
        };
        let started = std::time::Instant::now();
        let summary = demo::generator::generate(&db, &options, now)?;
        let c = summary.counts;
        println!(
            "generated in {:.1} s: {} users, {} groups, {} programs, {} enrolments, {} pairings, {} check-in entries, {} messages; {} busy members",
            started.elapsed().as_secs_f64(),
            c.users, c.groups, c.programs, c.enrolments, c.pairings, c.check_in_entries, c.messages,
            summary.busy_members
        );
        println!(
            "logins, ids and the password: {}",
            summary.credentials.display()
        );
        return Ok(());
    }
    let language = Language::from_code(&settings.lang).unwrap_or_default();
    let community = demo::community::fill(&db, language, now)?;
    if community.created {
        println!("The demo community is ready.");
    } else {
        println!("The demo community was already there; nothing was added.");
    }
    println!(
        "Log in with any of these (password: {}):",
        community.password
    );
    for login in &community.logins {
        println!(
            "  {:<48} {:<18} {}",
            login.email, login.display_name, login.role
        );
    }
    Ok(())
}

fn serve(settings: ServeSettings) -> anyhow::Result<()> {
    let secret = jwt_secret(&settings)?;
    let cors_origins = cors_origins(settings.cors_origins.as_deref())?;
    let db = open_migrated(&settings.database)?;
    let listener =
        TcpListener::bind(&settings.bind).with_context(|| format!("binding {}", settings.bind))?;
    let public_url =
        PublicUrl::configured_or_bound(settings.public_url.as_deref(), listener.local_addr()?)?;
    tracing::info!(address = %listener.local_addr()?, public_url = public_url.as_str(), "serving; docs at /docs");
    actix_web::rt::System::new().block_on(async move {
        // Listening before the application is built: a signal during start-up then
        // stops the server gracefully as soon as it runs, rather than killing it.
        let stop = stop_signal().context("listening for stop signals")?;
        let app = Application::build(
            listener,
            db,
            Arc::new(SystemClock),
            AppConfig {
                jwt_secret: secret,
                workers: settings.workers,
                limits: settings.limits,
                jobs_interval: settings.jobs.interval(),
                public_url,
                cors_origins,
                metrics_token: settings.metrics_token.filter(|t| !t.is_empty()),
                shutdown_timeout: Duration::from_secs(settings.shutdown_timeout_secs),
                export_deadline: Duration::from_secs(settings.export_deadline_secs),
            },
        )?;
        let server = app.stopper();
        let shutdown_timeout = settings.shutdown_timeout_secs;
        actix_web::rt::spawn(async move {
            let signal = stop.await;
            tracing::info!(
                signal,
                shutdown_timeout,
                "stopping: no new connections; in-flight requests and a job run in progress finish first"
            );
            server.stop(true).await;
        });
        app.run_until_stopped().await.context("serving")?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// Resolves at SIGTERM (orchestrators, `kill`) or SIGINT (Ctrl-C), naming it: both
/// stop gracefully. The handlers are installed at once, before the first poll.
#[cfg(unix)]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = &'static str>> {
    use futures_util::future::{select, Either};
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        let terminated = std::pin::pin!(terminate.recv());
        let interrupted = std::pin::pin!(interrupt.recv());
        match select(terminated, interrupted).await {
            Either::Left(_) => "SIGTERM",
            Either::Right(_) => "SIGINT",
        }
    })
}

#[cfg(not(unix))]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = &'static str>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    })
}
