//! A login flood against the real binary: password hashing stays behind its bound, so
//! resident memory stays small, and callers beyond the bound get 503 with Retry-After.
#![cfg(target_os = "linux")]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const FLOOD_CONNECTIONS: usize = 64;
const FLOOD_FOR: Duration = Duration::from_secs(4);
const MEMORY_BOUND_KIB: u64 = 250 * 1024;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

#[test]
fn a_login_flood_stays_within_the_memory_bound() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_tandem"))
            .arg("serve")
            .env("TANDEM_DATABASE_URL", dir.path().join("tandem.db"))
            .env("TANDEM_BIND", format!("127.0.0.1:{port}"))
            .env(
                "TANDEM_JWT_SECRET",
                "a-test-secret-that-is-long-enough-for-hs256",
            )
            .env("TANDEM_RATE_LIMITS", "off") // the bound itself is under test
            .env("TANDEM_PASSWORD_HASHING_SLOTS", "2")
            .env("TANDEM_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tandem"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build();
    let started = Instant::now();
    while agent.get(&format!("{base}/healthz")).call().is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let stop = Arc::new(AtomicBool::new(false));
    let (unauthorized, busy, other) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let flood: Vec<_> = (0..FLOOD_CONNECTIONS)
        .map(|n| {
            let (agent, base, stop) = (agent.clone(), base.clone(), stop.clone());
            let (unauthorized, busy, other) = (unauthorized.clone(), busy.clone(), other.clone());
            std::thread::spawn(move || {
                let mut attempt = 0;
                while !stop.load(Ordering::Relaxed) {
                    attempt += 1;
                    let answer =
                        agent
                            .post(&format!("{base}/v1/auth/login"))
                            .send_json(serde_json::json!({
                                "email": format!("nobody-{n}-{attempt}@example.org"),
                                "password": "not the password",
                            }));
                    match answer {
                        Err(ureq::Error::Status(401, _)) => {
                            unauthorized.fetch_add(1, Ordering::Relaxed)
                        }
                        Err(ureq::Error::Status(503, response)) => {
                            assert!(
                                response.header("retry-after").is_some(),
                                "503 without Retry-After"
                            );
                            busy.fetch_add(1, Ordering::Relaxed)
                        }
                        _ => other.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    let mut peak = 0;
    let flood_started = Instant::now();
    while flood_started.elapsed() < FLOOD_FOR {
        peak = peak.max(resident_kib(server.0.id()));
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    for thread in flood {
        thread.join().expect("flood thread");
    }
    peak = peak.max(resident_kib(server.0.id()));

    let (unauthorized, busy, other) = (
        unauthorized.load(Ordering::Relaxed),
        busy.load(Ordering::Relaxed),
        other.load(Ordering::Relaxed),
    );
    eprintln!(
        "{FLOOD_CONNECTIONS} connections for {FLOOD_FOR:?}: {unauthorized} × 401, {busy} × 503, \
peak resident {} MiB",
        peak / 1024
    );
    assert!(unauthorized > 0, "no login was checked");
    assert_eq!(
        other, 0,
        "only 401 and 503 are expected ({unauthorized} × 401, {busy} × 503)"
    );
    assert!(
        peak < MEMORY_BOUND_KIB,
        "resident memory peaked at {} MiB under {FLOOD_CONNECTIONS} concurrent logins",
        peak / 1024
    );
}
