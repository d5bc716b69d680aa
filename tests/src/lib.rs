//! The test harness: each test starts the real server on port 0 with a database of its
//! own and talks HTTP to it.
//!
//! `TANDEM_TEST_BACKEND=postgres` (with `TANDEM_TEST_DATABASE_URL` naming a server)
//! runs the suite on PostgreSQL, one fresh database per test; otherwise on SQLite, one
//! file per test in a temporary folder.
//!
//! Tests tell stories: the steps people take are methods of [`TestApp`] (`register`,
//! `create_group` and `join` here, programs, enrolments and pairings in [`story`]), the
//! usual beginnings are named structs in [`scenarios`], and the bodies they send come
//! from [`answers`] and [`templates`]. Test modules import from this crate only, never
//! from each other.

pub mod answers;
pub mod client;
pub mod db;
pub mod journey;
pub mod process;
pub mod scenarios;
pub mod story;
pub mod templates;

use std::net::TcpListener;
use std::sync::Arc;

use serde_json::{json, Value};
use tandem_api::config::PublicUrl;
use tandem_api::limits::LimitSettings;
use tandem_api::{AppConfig, Application};

pub use client::{Request, Response};
pub use db::TestDb;
pub use scenarios::{GroupWithMembers, OpenProgram, PairCandidates, PairedProgram};

/// The secret the test servers sign with, so tests can forge tokens on purpose.
pub const JWT_SECRET: &str = "test-secret-that-is-long-enough-for-hs256!";

pub struct TestApp {
    pub base_url: String,
    agent: ureq::Agent,
    handle: actix_web::dev::ServerHandle,
    /// The server's clock: `app.clock.advance(…)` moves its time forward.
    pub clock: Arc<TestClock>,
    /// The server's database, for running jobs as `tandem jobs run-once` would.
    database: tandem_persistence::Db,
    /// Shared by the nodes of one database; dropped after the last of them.
    db: Arc<TestDb>,
}

/// A registered user and their tokens.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub token: String,
    pub refresh_token: String,
}

/// The limits tests run with unless they test limits: rate limits off (every test user
/// registers from 127.0.0.1), and hashing callers wait long rather than get 503.
pub fn relaxed_limits() -> LimitSettings {
    LimitSettings {
        rate_limits: "off".into(),
        password_hashing_wait_ms: 60_000,
        ..LimitSettings::default()
    }
}

impl TestApp {
    /// A server with a database of its own. Its background jobs are off: tests run
    /// them at the moments they choose with [`TestApp::run_jobs`].
    pub fn spawn() -> TestApp {
        Self::spawn_with(relaxed_limits())
    }

    /// A server with the given rate limits and hashing bound.
    pub fn spawn_with(limits: LimitSettings) -> TestApp {
        Self::spawn_configured(limits, |_| {})
    }

    /// A server with the given rate limits and the rest of its configuration (CORS
    /// origins, metrics token) set by `configure`.
    pub fn spawn_configured(
        limits: LimitSettings,
        configure: impl FnOnce(&mut AppConfig),
    ) -> TestApp {
        let db = Arc::new(TestDb::create());
        Self::start(db, Arc::new(TestClock::default()), limits, None, configure)
    }

    /// Another node on this server's database and clock, running the background jobs
    /// every `jobs_every`, as a deployment of several stateless nodes does.
    pub fn node(&self, jobs_every: std::time::Duration) -> TestApp {
        Self::start(
            Arc::clone(&self.db),
            Arc::clone(&self.clock),
            relaxed_limits(),
            Some(jobs_every),
            |_| {},
        )
    }

    /// Another handle on this server's database (pools of its own), like a
    /// `tandem jobs run-once` process beside the servers.
    pub fn open_database(&self) -> tandem_persistence::Db {
        tandem_persistence::Db::open(&tandem_persistence::DbConfig {
            url: self.db.url().to_owned(),
            pool_size: 2,
            connect_timeout: std::time::Duration::from_secs(10),
        })
        .expect("open the test database")
    }

    /// Runs the reminder job once at the test clock's time, as `tandem jobs run-once`.
    pub fn run_jobs(&self) -> tandem_api::jobs::JobReport {
        use tandem_domain::clock::Clock;
        tandem_api::jobs::run_once(&self.database, self.clock.now()).expect("run the jobs")
    }

    fn start(
        db: Arc<TestDb>,
        clock: Arc<TestClock>,
        limits: LimitSettings,
        jobs_interval: Option<std::time::Duration>,
        configure: impl FnOnce(&mut AppConfig),
    ) -> TestApp {
        let server_clock: Arc<dyn tandem_domain::clock::Clock> = clock.clone();
        let database = tandem_persistence::Db::open(&tandem_persistence::DbConfig {
            url: db.url().to_owned(),
            pool_size: 5,
            connect_timeout: std::time::Duration::from_secs(10),
        })
        .expect("open test database");
        database.migrate().expect("migrate test database");
        let server_database = database.clone();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
        let address = listener.local_addr().expect("local addr");
        let port = address.port();
        let mut config = AppConfig {
            jwt_secret: JWT_SECRET.as_bytes().to_vec(),
            workers: Some(2),
            limits,
            jobs_interval,
            public_url: PublicUrl::of_bound(address),
            cors_origins: Vec::new(),
            metrics_token: None,
            shutdown_timeout: std::time::Duration::from_secs(5),
            export_deadline: std::time::Duration::from_secs(300),
        };
        configure(&mut config);
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let app = Application::build(listener, server_database, server_clock, config)
                    .expect("build app");
                sender.send(app.handle()).expect("send handle");
                app.run_until_stopped().await.expect("server ran");
            });
        });
        let handle = receiver.recv().expect("server started");
        TestApp {
            base_url: format!("http://127.0.0.1:{port}"),
            agent: ureq::AgentBuilder::new()
                .timeout(std::time::Duration::from_secs(30))
                .redirects(0)
                .build(),
            handle,
            clock,
            database,
            db,
        }
    }

    /// This server's database, to serve it from other processes (kept while held).
    pub fn shared_database(&self) -> Arc<TestDb> {
        Arc::clone(&self.db)
    }

    /// The URL of this test's database, for tests that look behind the API.
    pub fn database_url(&self) -> &str {
        self.db.url()
    }

    pub fn request(&self, method: &str, path: &str) -> Request {
        Request::new(
            self.agent
                .request(method, &format!("{}{}", self.base_url, path)),
        )
    }

    pub fn get(&self, path: &str) -> Request {
        self.request("GET", path)
    }

    pub fn post(&self, path: &str) -> Request {
        self.request("POST", path)
    }

    pub fn patch(&self, path: &str) -> Request {
        self.request("PATCH", path)
    }

    pub fn delete(&self, path: &str) -> Request {
        self.request("DELETE", path)
    }

    pub fn put(&self, path: &str) -> Request {
        self.request("PUT", path)
    }

    /// Registers a user named `name` with email `<name>@example.org`.
    pub fn register(&self, name: &str) -> TestUser {
        let email = format!("{}@example.org", name.to_lowercase());
        let response = self
            .post("/v1/auth/register")
            .json(&json!({
                "email": email,
                "password": "correct horse battery",
                "display_name": name,
                "time_zone": "Europe/Rome",
            }))
            .send();
        assert_eq!(response.status, 201, "register {name}: {}", response.body);
        TestUser {
            id: response.str("/user/id"),
            email,
            display_name: name.to_owned(),
            token: response.str("/access_token"),
            refresh_token: response.str("/refresh_token"),
        }
    }

    /// Creates a group owned by `owner`; answers the group's JSON.
    pub fn create_group(&self, owner: &TestUser, name: &str) -> Value {
        let response = self
            .post("/v1/groups")
            .token(&owner.token)
            .json(&json!({"name": name, "description": "A test community"}))
            .send();
        assert_eq!(response.status, 201, "create group: {}", response.body);
        response.body
    }

    /// `user` joins the group with its invite code.
    pub fn join(&self, user: &TestUser, group: &Value) {
        let id = group["id"].as_str().expect("group id");
        let code = group["invite_code"].as_str().expect("invite code");
        let response = self
            .post(&format!("/v1/groups/{id}/join"))
            .token(&user.token)
            .json(&json!({"invite_code": code}))
            .send();
        assert_eq!(response.status, 200, "join: {}", response.body);
    }

    /// Gives `user` a role in the group, acting as `owner`.
    pub fn set_role(&self, owner: &TestUser, group: &Value, user: &TestUser, role: &str) {
        let id = group["id"].as_str().expect("group id");
        let response = self
            .patch(&format!("/v1/groups/{id}/members/{}", user.id))
            .token(&owner.token)
            .json(&json!({"role": role}))
            .send();
        assert_eq!(response.status, 200, "set role: {}", response.body);
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop before the database goes away; the stop completes in the server's thread.
        drop(self.handle.stop(false));
    }
}

/// The clock the test servers run on: the system's, moved forward when a test says.
#[derive(Default)]
pub struct TestClock {
    ahead: std::sync::Mutex<chrono::Duration>,
}

impl TestClock {
    /// Moves the clock to `at`. Tests that need a known hour of a known day start there,
    /// before anything is made, and only `advance` afterwards: a server's time never
    /// goes back.
    pub fn set(&self, at: chrono::DateTime<chrono::Utc>) {
        let mut ahead = self.ahead.lock().unwrap_or_else(|e| e.into_inner());
        *ahead = at - chrono::Utc::now();
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut ahead = self.ahead.lock().unwrap_or_else(|e| e.into_inner());
        *ahead += by;
    }
}

impl tandem_domain::clock::Clock for TestClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + *self.ahead.lock().unwrap_or_else(|e| e.into_inner())
    }
}
