//! The real `tandem serve` process, for the tests that crash it or cut its database
//! away: it is started, killed with SIGKILL and restarted like a deployment would.
//!
//! The binary is the one `cargo test --workspace` builds beside this test (the `api`
//! package's own integration tests make cargo build it); `make test` also builds it
//! first for the PostgreSQL-only run. `TANDEM_BIN` names another one.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::{Request, JWT_SECRET};

/// Where the `tandem` binary is.
pub fn binary() -> PathBuf {
    if let Ok(path) = std::env::var("TANDEM_BIN") {
        return PathBuf::from(path);
    }
    // The test runs as target/<profile>/deps/api-<hash>; the binary is target/<profile>/tandem.
    let exe = std::env::current_exe().expect("the test's own path");
    let profile = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let binary = profile.join(format!("tandem{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.exists(),
        "{} is missing: run `cargo build --workspace --bin tandem` (make test does) or set TANDEM_BIN",
        binary.display()
    );
    binary
}

/// A free port on loopback (the kernel's choice; free again when this returns).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// A running `tandem serve`, killed when dropped.
pub struct ServerProcess {
    /// Behind a lock, so a test can kill the server while its writers still hold it.
    child: Mutex<Child>,
    pub base_url: String,
    port: u16,
    database_url: String,
    env: Vec<(String, String)>,
    log: PathBuf,
    agent: ureq::Agent,
}

impl ServerProcess {
    /// Serves `database_url` (migrating it) with the test secret and rate limits off;
    /// `env` adds settings. Returns once `/healthz` answers.
    pub fn start(database_url: &str, env: &[(&str, &str)]) -> ServerProcess {
        let log = std::env::temp_dir().join(format!("tandem-{}.log", uuid::Uuid::new_v4()));
        let port = free_port();
        let server = ServerProcess {
            child: Mutex::new(Self::spawn(database_url, port, env, &log)),
            base_url: format!("http://127.0.0.1:{port}"),
            port,
            database_url: database_url.to_owned(),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            log,
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .redirects(0)
                .build(),
        };
        server.wait_until_serving();
        server
    }

    fn spawn(database_url: &str, port: u16, env: &[(&str, &str)], log: &PathBuf) -> Child {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("server log file");
        let mut command = Command::new(binary());
        command
            .arg("serve")
            .env("TANDEM_DATABASE_URL", database_url)
            .env("TANDEM_BIND", format!("127.0.0.1:{port}"))
            .env("TANDEM_JWT_SECRET", JWT_SECRET)
            .env("TANDEM_RATE_LIMITS", "off")
            .env("TANDEM_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log_file));
        for (name, value) in env {
            command.env(name, value);
        }
        command.spawn().expect("start tandem serve")
    }

    fn wait_until_serving(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child().try_wait() {
                panic!("tandem serve exited ({status}): {}", self.log_text());
            }
            let up = self
                .agent
                .get(&format!("{}/healthz", self.base_url))
                .timeout(Duration::from_secs(1))
                .call()
                .is_ok();
            if up {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "tandem serve did not start: {}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the server logged so far (its last 4,000 characters).
    pub fn log_text(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = text
            .char_indices()
            .rev()
            .nth(4000)
            .map_or(0, |(index, _)| index);
        text[start..].to_owned()
    }

    /// SIGKILL: no shutdown, no flushing, as when a machine or the OOM killer stops it.
    pub fn kill9(&self) {
        let mut child = self.child();
        child.kill().expect("kill -9 tandem serve");
        child.wait().expect("reap tandem serve");
    }

    fn child(&self) -> std::sync::MutexGuard<'_, Child> {
        self.child.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts the server again on the same database and port.
    pub fn restart(&mut self) {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        *self.child() = Self::spawn(&self.database_url, self.port, &env, &self.log);
        self.wait_until_serving();
    }

    /// Is the process still running?
    pub fn is_running(&self) -> bool {
        matches!(self.child().try_wait(), Ok(None))
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
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let mut child = self.child();
        let _ = child.kill();
        let _ = child.wait();
        drop(child);
        let _ = std::fs::remove_file(&self.log);
    }
}
