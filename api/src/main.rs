//! The `tandem` binary: serve the API, migrate the database, print the spec, run jobs.

use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tandem_api::config::{jwt_secret, DatabaseSettings, PublicUrl, ServeSettings};
use tandem_api::{demo, jobs, openapi, telemetry, AppConfig, Application};
use tandem_domain::clock::Clock;
use tandem_domain::template::Language;
use tandem_persistence::Db;

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
    Serve(ServeSettings),
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
    let cli = Cli::parse();
    telemetry::init(cli.log_format == "json");
    let result = match cli.command {
        Command::Serve(settings) => serve(settings),
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
    let applied = db.migrate()?;
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
    let report = jobs::run_once(&db, SystemClock.now()).context("running the reminder job")?;
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
            "generated in {:.1} s: {} users, {} groups, {} programs, {} enrolments, {} pairings, {} check-in entries, {} messages",
            started.elapsed().as_secs_f64(),
            c.users, c.groups, c.programs, c.enrolments, c.pairings, c.check_in_entries, c.messages
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
    let db = open_migrated(&settings.database)?;
    let listener =
        TcpListener::bind(&settings.bind).with_context(|| format!("binding {}", settings.bind))?;
    let public_url =
        PublicUrl::configured_or_bound(settings.public_url.as_deref(), listener.local_addr()?)?;
    tracing::info!(address = %listener.local_addr()?, public_url = public_url.as_str(), "serving; docs at /docs");
    actix_web::rt::System::new().block_on(async move {
        Application::build(
            listener,
            db,
            Arc::new(SystemClock),
            AppConfig {
                jwt_secret: secret,
                workers: settings.workers,
                limits: settings.limits,
                jobs_interval: settings.jobs.interval(),
                public_url,
            },
        )?
        .run_until_stopped()
        .await
        .context("serving")
    })
}
