//! Faults, on the real `tandem serve` binary: killed with SIGKILL in the middle of writes,
//! and cut off from its PostgreSQL server for a few seconds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tandem_tests::process::{free_port, ServerProcess};
use tandem_tests::{OpenProgram, Request, TestApp, TestUser};

fn id(value: &Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}

/// A pairing and its two partners, as the writers need them.
struct Pair {
    id: String,
    mentee: TestUser,
    mentor: TestUser,
}

/// Ada's program with Cleo mentoring four mentees: four pairings to write into.
fn four_pairings(app: &TestApp) -> Vec<Pair> {
    let OpenProgram {
        admin,
        member: bea,
        group,
        program,
    } = app.open_program(json!({}));
    let cleo = app.member(&group, "Cleo");
    let mentor_enrolment = app.enrol_mentor(&cleo, &program, Some(4));
    let mut mentees = vec![bea];
    for name in ["Dana", "Finn", "Gus"] {
        mentees.push(app.member(&group, name));
    }
    mentees
        .into_iter()
        .map(|mentee| {
            let enrolment = app.enrol_mentee(&mentee, &program);
            let pairing = app.pair(
                &admin,
                &program,
                &id(&mentor_enrolment),
                &id(&enrolment),
                "Meet your mentor.",
            );
            Pair {
                id: id(&pairing),
                mentee,
                mentor: cleo.clone(),
            }
        })
        .collect()
}

/// Every message body of a pairing, through all pages.
fn message_bodies(server: &ServerProcess, pair: &Pair) -> Vec<String> {
    let mut bodies = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut request = server
            .get(&format!("/v1/pairings/{}/messages", pair.id))
            .token(&pair.mentee.token)
            .query("limit", "100");
        if let Some(cursor) = &cursor {
            request = request.query("cursor", cursor);
        }
        let page = request.send();
        assert_eq!(page.status, 200, "{}", page.text);
        for item in page.body["items"].as_array().expect("items") {
            bodies.push(item["body"].as_str().expect("body").to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return bodies,
        }
    }
}

/// The numbers `n` of the notes `"<prefix>n"` the pairing's check-ins hold.
fn note_numbers(server: &ServerProcess, pair: &Pair, prefix: &str) -> Vec<usize> {
    let check_ins = server
        .get(&format!("/v1/pairings/{}/check-ins", pair.id))
        .token(&pair.mentee.token)
        .send();
    assert_eq!(check_ins.status, 200, "{}", check_ins.text);
    check_ins
        .text
        .match_indices(prefix)
        .filter_map(|(at, _)| {
            let digits: String = check_ins.text[at + prefix.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .collect()
}

#[test]
fn no_acknowledged_write_is_lost_when_the_server_is_killed() {
    // The story is told in process; then the real binary serves the same database.
    let app = TestApp::spawn();
    let pairs = four_pairings(&app);
    let database = app.shared_database();
    drop(app);
    let mut server = ServerProcess::start(database.url(), &[("TANDEM_DB_POOL_SIZE", "4")]);

    // Per pairing: one writer posting messages (the partners in turn), one writer
    // completing check-in 1 again and again with a numbered note. Each remembers what
    // was acknowledged (2xx), and what it sent last (it may have landed unanswered).
    let acknowledged = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let messages_acked: Mutex<BTreeMap<usize, Vec<String>>> = Mutex::default();
    let notes: Mutex<BTreeMap<usize, (usize, usize)>> = Mutex::default();
    let refused: Mutex<Vec<String>> = Mutex::default();
    std::thread::scope(|scope| {
        for (p, pair) in pairs.iter().enumerate() {
            let (server, acknowledged, stop, messages_acked, refused) =
                (&server, &acknowledged, &stop, &messages_acked, &refused);
            scope.spawn(move || {
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let author = if i % 2 == 0 {
                        &pair.mentee
                    } else {
                        &pair.mentor
                    };
                    let body = format!("pairing {p} message {i}");
                    let sent = server
                        .request("POST", &format!("/v1/pairings/{}/messages", pair.id))
                        .token(&author.token)
                        .json(&json!({ "body": body }))
                        .try_send();
                    match sent {
                        Ok(answer) if answer.status == 201 => {
                            acknowledged.fetch_add(1, Ordering::Relaxed);
                            messages_acked
                                .lock()
                                .expect("a writer panicked")
                                .entry(p)
                                .or_default()
                                .push(body);
                        }
                        Ok(answer) => refused
                            .lock()
                            .expect("a writer panicked")
                            .push(format!("message {body}: {} {}", answer.status, answer.text)),
                        // The server is gone: nothing more is acknowledged.
                        Err(_) => return,
                    }
                }
            });
            let notes = &notes;
            scope.spawn(move || {
                for i in 1.. {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    notes
                        .lock()
                        .expect("a writer panicked")
                        .entry(p)
                        .or_insert((0, 0))
                        .1 = i;
                    let sent = server
                        .request("PUT", &format!("/v1/pairings/{}/check-ins/1", pair.id))
                        .token(&pair.mentee.token)
                        .json(&json!({"rating": 4, "note": format!("pairing {p} note {i}.")}))
                        .try_send();
                    match sent {
                        Ok(answer) if answer.status == 200 => {
                            acknowledged.fetch_add(1, Ordering::Relaxed);
                            notes
                                .lock()
                                .expect("a writer panicked")
                                .entry(p)
                                .or_insert((0, 0))
                                .0 = i;
                        }
                        Ok(answer) => refused.lock().expect("a writer panicked").push(format!(
                            "check-in note {i}: {} {}",
                            answer.status, answer.text
                        )),
                        Err(_) => return,
                    }
                }
            });
        }
        // Mid-load: enough writes acknowledged, more in flight.
        let deadline = Instant::now() + Duration::from_secs(60);
        while acknowledged.load(Ordering::Relaxed) < 200 {
            assert!(Instant::now() < deadline, "the writers never got going");
            std::thread::sleep(Duration::from_millis(5));
        }
        server.kill9();
        // The writers stop at their next refused connection; make sure they do.
        stop.store(true, Ordering::Relaxed);
    });
    let refused = refused.into_inner().expect("a writer panicked");
    assert!(
        refused.is_empty(),
        "writes refused before the kill: {refused:?}"
    );

    eprintln!(
        "killed after {} acknowledged writes",
        acknowledged.load(Ordering::Relaxed)
    );
    server.restart();
    let messages_acked = messages_acked.into_inner().expect("a writer panicked");
    let notes = notes.into_inner().expect("a writer panicked");
    let mut checked = 0;
    for (p, pair) in pairs.iter().enumerate() {
        let stored = message_bodies(&server, pair);
        for body in messages_acked.get(&p).into_iter().flatten() {
            assert!(stored.contains(body), "acknowledged {body:?} is lost");
            checked += 1;
        }
        // A message is stored once, however the crash fell.
        let mut unique = stored.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), stored.len(), "a message stored twice");
        // The check-in holds the last acknowledged note, or the one sent after it that
        // the crash left unanswered: never an older one.
        let (acked, sent) = notes.get(&p).copied().unwrap_or((0, 0));
        let held = note_numbers(&server, pair, &format!("pairing {p} note "));
        if acked > 0 {
            assert_eq!(held.len(), 1, "pairing {p}: one note, held {held:?}");
            assert!(
                held[0] == acked || held[0] == sent,
                "pairing {p}: note {} held, {acked} acknowledged, {sent} sent last",
                held[0]
            );
            checked += 1;
        }
    }
    assert!(checked >= 8, "too few writes were checked: {checked}");
    // The restarted server takes writes again.
    let after = server
        .request("POST", &format!("/v1/pairings/{}/messages", pairs[0].id))
        .token(&pairs[0].mentee.token)
        .json(&json!({"body": "after the restart"}))
        .send();
    assert_eq!(after.status, 201, "{}", after.text);
    drop(server);
    drop(database);
}

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A PostgreSQL cluster of the test's own, on a free port, to stop and start at will
/// (the machine's shared server is never touched). `initdb` refuses to run as root, so
/// as root the cluster belongs to the `postgres` user.
struct PrivateCluster {
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
}

impl PrivateCluster {
    fn bin(name: &str) -> PathBuf {
        let installed = Path::new(PG_BIN).join(name);
        if installed.exists() {
            installed
        } else {
            PathBuf::from(name)
        }
    }

    fn create() -> PrivateCluster {
        let uid = Command::new("id").arg("-u").output().expect("id -u");
        let as_postgres = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        let dir = tempfile::tempdir().expect("temp dir");
        if as_postgres {
            let owned = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(owned.success(), "chown the cluster folder to postgres");
        }
        let cluster = PrivateCluster {
            dir,
            port: free_port(),
            as_postgres,
        };
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        cluster.start();
        cluster
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_string_lossy().into_owned()
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let binary = Self::bin(tool);
        let output = if self.as_postgres {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&binary)
                .args(args)
                .output()
        } else {
            Command::new(&binary).args(args).output()
        }
        .unwrap_or_else(|e| panic!("run {}: {e}", binary.display()));
        assert!(
            output.status.success(),
            "{tool} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        let (data, log) = (self.data(), log.to_string_lossy().into_owned());
        self.run(
            "pg_ctl",
            &["-D", &data, "-o", &options, "-l", &log, "-w", "start"],
        );
    }

    /// A fast shutdown: sessions are ended, as when the server goes down for real.
    fn stop(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let binary = Self::bin("pg_ctl");
        let data = self.data();
        let args = ["-D", data.as_str(), "-m", "immediate", "-w", "stop"];
        // Already stopped is fine.
        let _ = if self.as_postgres {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&binary)
                .args(args)
                .output()
        } else {
            Command::new(&binary).args(args).output()
        };
    }
}

/// What the load saw: each answer's status, and the slowest answer.
#[derive(Default)]
struct Seen {
    statuses: BTreeMap<u16, usize>,
    slowest: Duration,
    bad: Vec<String>,
}

/// A request of the load: reads and writes by one user.
fn load_request(server: &ServerProcess, user: &TestUser, i: usize) -> Request {
    let request = if i.is_multiple_of(2) {
        server.get("/v1/me")
    } else {
        server
            .request("POST", "/v1/groups")
            .json(&json!({"name": format!("Group {i}")}))
    };
    request.token(&user.token).timeout(Duration::from_secs(20))
}

/// Drives four connections for `how_long`, answers what they saw.
fn load(server: &ServerProcess, user: &TestUser, how_long: Duration) -> Seen {
    let seen = Mutex::new(Seen::default());
    let until = Instant::now() + how_long;
    std::thread::scope(|scope| {
        for worker in 0..4 {
            let seen = &seen;
            scope.spawn(move || {
                let mut i = worker;
                while Instant::now() < until {
                    let started = Instant::now();
                    let answer = load_request(server, user, i).try_send();
                    let took = started.elapsed();
                    let mut seen = seen.lock().expect("a writer panicked");
                    seen.slowest = seen.slowest.max(took);
                    match answer {
                        Ok(answer) => {
                            *seen.statuses.entry(answer.status).or_default() += 1;
                            let problem =
                                answer.content_type.starts_with("application/problem+json")
                                    && answer.body["status"] == answer.status;
                            if answer.status >= 300 && (answer.status != 503 || !problem) {
                                seen.bad.push(format!("{}: {}", answer.status, answer.text));
                            }
                        }
                        Err(error) => seen.bad.push(format!("transport: {error}")),
                    }
                    i += 4;
                }
            });
        }
    });
    seen.into_inner().expect("a writer panicked")
}

#[test]
fn a_database_outage_is_a_quick_503_and_service_resumes_by_itself() {
    // The PostgreSQL run tests the PostgreSQL outage; SQLite has no server to lose.
    if tandem_tests::db::backend() != "postgres" {
        eprintln!("skipped on SQLite: a database outage is a PostgreSQL matter");
        return;
    }
    let cluster = PrivateCluster::create();
    let server = ServerProcess::start(
        &cluster.url(),
        &[
            ("TANDEM_DB_CONNECT_TIMEOUT_MS", "1000"),
            ("TANDEM_DB_POOL_SIZE", "4"),
        ],
    );
    let registered = server
        .request("POST", "/v1/auth/register")
        .json(&json!({
            "email": "ops@example.org",
            "password": "correct horse battery",
            "display_name": "Ops",
        }))
        .send();
    assert_eq!(registered.status, 201, "{}", registered.text);
    let user = TestUser {
        id: registered.str("/user/id"),
        email: "ops@example.org".into(),
        display_name: "Ops".into(),
        token: registered.str("/access_token"),
        refresh_token: registered.str("/refresh_token"),
    };

    let before = load(&server, &user, Duration::from_millis(500));
    assert!(before.bad.is_empty(), "before the outage: {:?}", before.bad);

    cluster.stop();
    let during = load(&server, &user, Duration::from_secs(3));
    assert!(
        during.bad.is_empty(),
        "during the outage: {:?}",
        &during.bad
    );
    assert!(
        during.statuses.get(&503).copied().unwrap_or(0) > 0,
        "no 503 during the outage: {:?}",
        during.statuses
    );
    // Bounded by the pool's 1 s connection timeout, with room for a busy machine.
    assert!(
        during.slowest < Duration::from_secs(5),
        "an answer took {:?} during the outage",
        during.slowest
    );
    eprintln!(
        "outage: {:?}, slowest answer {:?}",
        during.statuses, during.slowest
    );
    server.get("/readyz").send().problem(503);
    // The export checks its database before answering: a 503, never a 200 with a
    // broken body.
    server
        .get("/v1/me/export")
        .token(&user.token)
        .timeout(Duration::from_secs(20))
        .send()
        .problem(503);
    // Liveness is not readiness: the process answers without its database.
    assert_eq!(server.get("/healthz").send().status, 200);
    assert!(
        server.is_running(),
        "the server died: {}",
        server.log_text()
    );

    cluster.start();
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.get("/readyz").send().status != 200 {
        assert!(Instant::now() < deadline, "/readyz never recovered");
        std::thread::sleep(Duration::from_millis(100));
    }
    let after = load(&server, &user, Duration::from_millis(500));
    assert!(after.bad.is_empty(), "after the outage: {:?}", after.bad);
    assert!(after.statuses.get(&200).copied().unwrap_or(0) > 0);
    assert!(server.is_running());
}
