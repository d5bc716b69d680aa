//! The real `tandem` binary, as operators run it: graceful shutdown on SIGTERM and
//! SIGINT, JSON logs that carry the request id the answer names, and the API docs as a
//! browser renders them. Engine-independent (SQLite), so outside the PostgreSQL run.
#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A `tandem serve` process on a port of its own, its stderr (JSON logs) collected.
struct Served {
    child: Child,
    port: u16,
    logs: Arc<Mutex<Vec<Value>>>,
    _dir: tempfile::TempDir,
}

impl Served {
    fn start() -> Served {
        Self::start_logging("info")
    }

    /// Started with `TANDEM_LOG` set to `filter`.
    fn start_logging(filter: &str) -> Served {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let mut child = Command::new(env!("CARGO_BIN_EXE_tandem"))
            .arg("serve")
            .env("TANDEM_DATABASE_URL", dir.path().join("tandem.db"))
            .env("TANDEM_BIND", "127.0.0.1:0")
            .env(
                "TANDEM_JWT_SECRET",
                "a-test-secret-that-is-long-enough-0123456789",
            )
            .env("TANDEM_LOG_FORMAT", "json")
            .env("TANDEM_LOG", filter)
            .env("TANDEM_WORKERS", "1")
            .env("TANDEM_PASSWORD_HASHING_WAIT_MS", "60000")
            // The job loop runs, so stopping also waits for it.
            .env("TANDEM_JOBS", "on")
            .env("TANDEM_JOBS_INTERVAL_SECS", "1")
            .env("TANDEM_SHUTDOWN_TIMEOUT_SECS", "30")
            .env_remove("TANDEM_CORS_ORIGINS")
            .env_remove("TANDEM_METRICS_TOKEN")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the tandem binary");
        let stderr = child.stderr.take().expect("stderr");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (address_sender, address) = std::sync::mpsc::channel();
        let collected = Arc::clone(&logs);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let Ok(entry) = serde_json::from_str::<Value>(&line) else {
                    panic!("a log line that is not JSON: {line}");
                };
                if entry["message"] == "serving; docs at /docs" {
                    let _ = address_sender.send(entry["address"].as_str().map(str::to_owned));
                }
                collected
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(entry);
            }
        });
        let address = address
            .recv_timeout(Duration::from_secs(60))
            .expect("the server logs its address")
            .expect("an address field");
        let port = address
            .rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .expect("a port");
        let served = Served {
            child,
            port,
            logs,
            _dir: dir,
        };
        // The port is bound before the application is built: wait until it answers.
        let started = Instant::now();
        while ureq::get(&served.url("/healthz")).call().is_err() {
            assert!(started.elapsed() < Duration::from_secs(60), "never ready");
            std::thread::sleep(Duration::from_millis(50));
        }
        served
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -{signal}");
    }

    /// Waits for the process to exit, failing after `limit`.
    fn exit_within(&mut self, limit: Duration) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the server") {
                return status;
            }
            assert!(started.elapsed() < limit, "the server did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The log lines so far.
    fn logs(&self) -> Vec<Value> {
        self.logs.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The `answered` log lines, as (path, status, request id).
    fn answered(&self) -> Vec<(String, u64, String)> {
        self.logs()
            .iter()
            .filter(|entry| entry["message"] == "answered")
            .map(|entry| {
                (
                    entry["span"]["path"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    entry["status"].as_u64().unwrap_or_default(),
                    entry["span"]["request_id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                )
            })
            .collect()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // A failed test must not leave a server behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn sigterm_lets_an_in_flight_request_finish_and_exits_zero() {
    let mut server = Served::start();
    let body = serde_json::json!({
        "email": "late@example.org",
        "password": "correct horse battery",
        "display_name": "Late",
        "time_zone": "Europe/Rome",
    })
    .to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        stream,
        "POST /v1/auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
Content-Length: {}\r\nConnection: close\r\n\r\n{first}",
        body.len()
    )
    .expect("send the headers and half the body");
    stream.flush().expect("flush");
    std::thread::sleep(Duration::from_millis(300));

    server.signal("TERM");
    // Stopping: new connections are refused while the request is still open.
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", server.port)).is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still accepting"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        server.child.try_wait().expect("wait").is_none(),
        "exited with a request in flight"
    );

    stream
        .write_all(rest.as_bytes())
        .expect("send the rest of the body");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read the answer");
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let (_, json) = answer.split_once("\r\n\r\n").expect("a body");
    let json: Value = serde_json::from_str(json).expect("a JSON body");
    assert_eq!(json["user"]["email"], "late@example.org");

    let status = server.exit_within(Duration::from_secs(30));
    assert!(status.success(), "{status}");
    let logs = server.logs();
    assert!(logs.iter().any(|entry| entry["signal"] == "SIGTERM"));
    assert!(logs.iter().any(|entry| entry["message"] == "stopped"));
}

/// The stop signal reaches the job loop at once: while the HTTP server drains a
/// request still in flight (longer than two job intervals), no job run starts.
#[test]
fn no_job_run_starts_while_the_server_drains() {
    let mut server = Served::start_logging("info,tandem_api::jobs=debug");
    let runs = |logs: &[Value]| {
        logs.iter()
            .filter(|entry| entry["message"] == "job run starting")
            .count()
    };
    let started = Instant::now();
    while runs(&server.logs()) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the job loop never ran"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let body = r#"{"email": "drain@example.org", "password": "correct horse battery", "display_name": "Drain"}"#;
    let (first, rest) = body.split_at(body.len() / 2);
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        stream,
        "POST /v1/auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
Content-Length: {}\r\nConnection: close\r\n\r\n{first}",
        body.len()
    )
    .expect("send the headers and half the body");
    stream.flush().expect("flush");
    std::thread::sleep(Duration::from_millis(300));

    server.signal("TERM");
    let started = Instant::now();
    let before = loop {
        let logs = server.logs();
        if let Some(at) = logs.iter().position(|entry| entry["signal"] == "SIGTERM") {
            break runs(&logs[..at]);
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the signal was never logged"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // Three and a half job intervals of draining.
    std::thread::sleep(Duration::from_millis(3500));
    stream
        .write_all(rest.as_bytes())
        .expect("send the rest of the body");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read the answer");
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let status = server.exit_within(Duration::from_secs(30));
    assert!(status.success(), "{status}");
    // A run that began just before the signal may still log after it; none begins after.
    let after = runs(&server.logs());
    assert!(
        after <= before + 1,
        "{} job runs began during the drain",
        after - before
    );
}

#[test]
fn json_logs_carry_the_request_id_of_the_answer_and_sigint_stops_cleanly() {
    let mut server = Server::default_agent();
    let served = &mut server.served;
    let chosen = format!("ops-{}", uuid::Uuid::new_v4());
    let response = server
        .agent
        .get(&served.url("/healthz"))
        .set("X-Request-Id", &chosen)
        .call()
        .expect("healthz");
    assert_eq!(response.header("x-request-id"), Some(chosen.as_str()));
    let generated = server
        .agent
        .get(&served.url("/readyz"))
        .call()
        .expect("readyz");
    let generated = generated
        .header("x-request-id")
        .expect("a generated request id")
        .to_owned();
    assert_ne!(generated, chosen);

    // The request's log line is written as the answer leaves: wait for it briefly.
    let started = Instant::now();
    let logged = |id: &str, path: &str| {
        served
            .answered()
            .iter()
            .any(|(p, status, request_id)| p == path && *status == 200 && request_id == id)
    };
    while !(logged(&chosen, "/healthz") && logged(&generated, "/readyz")) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no log line with the ids: {:?}",
            served.answered()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    served.signal("INT");
    let status = served.exit_within(Duration::from_secs(30));
    assert!(status.success(), "{status}");
    assert!(served
        .logs()
        .iter()
        .any(|entry| entry["signal"] == "SIGINT"));
}

/// A served binary and an HTTP agent for it.
struct Server {
    served: Served,
    agent: ureq::Agent,
}

impl Server {
    fn default_agent() -> Server {
        Server {
            served: Served::start(),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .build(),
        }
    }
}

/// The browser: `TANDEM_TEST_CHROMIUM`, else `chromium` on the PATH (`make test`
/// installs it when missing). Its absence fails the test: it is part of the suite.
fn chromium() -> String {
    std::env::var("TANDEM_TEST_CHROMIUM").unwrap_or_else(|_| "chromium".into())
}

#[test]
fn a_headless_browser_renders_every_operation_from_the_servers_own_assets() {
    let server = Served::start();
    let profile = tempfile::tempdir().expect("a browser profile folder");
    let output = Command::new(chromium())
        .args([
            "--headless",
            // Root in containers: Chromium's sandbox needs namespaces it may not have.
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            // No network beyond loopback: every other host fails to resolve.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=20000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(server.url("/docs/"))
        .env("HOME", profile.path())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run {} ({error}): install Chromium (`apt-get install chromium`; `make test` does) or set TANDEM_TEST_CHROMIUM",
                chromium()
            )
        });
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let dom = String::from_utf8_lossy(&output.stdout);

    // Every operation of the spec is listed, each under its path.
    let spec: Value = ureq::get(&server.url("/openapi.json"))
        .call()
        .expect("the spec")
        .into_json()
        .expect("JSON");
    let mut operations = 0;
    for (path, item) in spec["paths"].as_object().expect("paths") {
        let methods = item
            .as_object()
            .expect("a path item")
            .keys()
            .filter(|m| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
            .count();
        operations += methods;
        assert!(
            dom.contains(&format!("data-path=\"{path}\"")),
            "{path} is not listed"
        );
    }
    assert!(operations > 40, "{operations} operations");
    assert_eq!(dom.matches("class=\"opblock opblock-").count(), operations);

    // Its scripts and stylesheets are the server's own, and each was served.
    let answered = server.answered();
    let assets: Vec<&str> = dom
        .split('<')
        .filter(|tag| tag.starts_with("script ") || tag.starts_with("link rel=\"stylesheet\""))
        .filter_map(|tag| {
            let (_, rest) = tag
                .split_once(" src=\"")
                .or_else(|| tag.split_once(" href=\""))?;
            rest.split('"').next()
        })
        .collect();
    assert!(assets.len() >= 3, "{assets:?}");
    for asset in assets {
        assert!(
            !asset.contains("//"),
            "{asset} is loaded from somewhere else"
        );
        let path = format!("/docs/{}", asset.trim_start_matches("./"));
        assert!(
            answered
                .iter()
                .any(|(p, status, _)| *p == path && *status == 200),
            "{path} was not served: {answered:?}"
        );
    }
    assert!(answered
        .iter()
        .any(|(p, status, _)| p == "/openapi.json" && *status == 200));
    assert!(
        answered.iter().all(|(_, status, _)| *status < 400),
        "{answered:?}"
    );
}

/// Runs a `tandem` command on `database` with JSON logs; answers stdout and the log.
fn run_command(args: &[&str], database: &std::path::Path) -> (String, Vec<Value>) {
    let output = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(args)
        .env("TANDEM_DATABASE_URL", database)
        .env("TANDEM_LOG_FORMAT", "json")
        .env("TANDEM_LOG", "info")
        .stdin(Stdio::null())
        .output()
        .expect("run tandem");
    assert!(output.status.success(), "tandem {args:?}: {output:?}");
    let stderr = String::from_utf8(output.stderr).expect("UTF-8 logs");
    // Not a terminal: no bar, no cursor movement, only log lines.
    assert!(
        !stderr.contains('\r') && !stderr.contains('\u{1b}'),
        "{stderr:?}"
    );
    let logs = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    (
        String::from_utf8(output.stdout).expect("UTF-8 output"),
        logs,
    )
}

#[test]
fn long_commands_log_each_step_when_not_at_a_terminal() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let database = dir.path().join("tandem.db");
    let migrations = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../persistence/migrations/sqlite"
    ))
    .expect("the migrations folder")
    .filter(|entry| entry.as_ref().is_ok_and(|e| e.path().is_dir()))
    .count();
    assert!(migrations > 0);

    let (_, logs) = run_command(&["migrate"], &database);
    let steps: Vec<&str> = logs
        .iter()
        .filter_map(|entry| entry["message"].as_str())
        .filter(|message| message.starts_with("applied migration "))
        .collect();
    assert_eq!(steps.len(), migrations, "{steps:?}");
    assert!(
        steps[0].starts_with(&format!("applied migration 1/{migrations}: ")),
        "{steps:?}"
    );
    // Nothing is pending the second time: no steps.
    let (_, again) = run_command(&["migrate"], &database);
    assert!(!again.iter().any(|entry| entry["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("applied migration"))));

    let (stdout, logs) = run_command(&["jobs", "run-once"], &database);
    assert!(
        stdout.starts_with("reminder job: 0 pairings planned"),
        "{stdout}"
    );
    let batches = logs
        .iter()
        .filter(|entry| {
            entry["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("reminder job, batch committed: "))
        })
        .count();
    assert_eq!(batches, 1, "{logs:?}");
}

#[test]
fn a_malformed_cors_origin_stops_start_up_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for origins in ["https://app.example.org/", "*", "app.example.org"] {
        let output = Command::new(env!("CARGO_BIN_EXE_tandem"))
            .arg("serve")
            .env("TANDEM_DATABASE_URL", dir.path().join("tandem.db"))
            .env("TANDEM_BIND", "127.0.0.1:0")
            .env("TANDEM_CORS_ORIGINS", origins)
            .env("TANDEM_LOG", "off")
            .stdin(Stdio::null())
            .output()
            .expect("run tandem");
        assert!(!output.status.success(), "{origins} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("TANDEM_CORS_ORIGINS") && stderr.contains(origins),
            "{origins}: {stderr}"
        );
    }
}
