//! SQLite's one writer as a thread that commits the writes waiting for it in groups.
//!
//! SQLite runs one write transaction at a time. Lending the writer connection from one
//! blocking thread to the next cost thread switches on every write (a quarter of the
//! server's CPU on the check-in `PUT`, docs/performance.md). Here one thread takes the
//! writes in the order they arrive and runs those waiting together inside a single
//! `BEGIN IMMEDIATE` transaction, each in a savepoint of its own, then commits once: one
//! WAL append and one round of locks for the group. A write that fails is rolled back
//! to its savepoint alone. Every caller hears its answer only after the commit, so an
//! acknowledged write is a committed one; if the commit fails, no write of the group is
//! acknowledged.
//!
//! A write waits in the queue at most as long as it would have waited for a pooled
//! connection (`DbConfig::connect_timeout`): older ones are answered busy (503) without
//! running, and so are those whose caller has gone (a dropped request).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, Connection, TransactionManager};

use crate::db::{checkout, Pool};
use crate::{DbConn, StoreError};

/// The most writes one transaction takes: bounds how long the first of them waits for
/// its answer while later ones run.
const MOST_PER_GROUP: usize = 64;

/// Hands writes to the writer thread; clones share it. The thread ends once every
/// clone is dropped.
#[derive(Clone)]
pub struct WriteQueue {
    jobs: mpsc::Sender<(Instant, Box<dyn Job>)>,
}

impl WriteQueue {
    /// Starts the thread that writes through `pool` (the SQLite writer pool); a write
    /// waits for it at most `longest_wait`.
    pub(crate) fn start(pool: Pool, longest_wait: Duration) -> Result<Self, StoreError> {
        let (jobs, queue) = mpsc::channel::<(Instant, Box<dyn Job>)>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                while let Ok(first) = queue.recv() {
                    let mut waiting = vec![first];
                    while waiting.len() < MOST_PER_GROUP {
                        match queue.try_recv() {
                            Ok(job) => waiting.push(job),
                            Err(_) => break,
                        }
                    }
                    let group = still_wanted(waiting, longest_wait);
                    // A panic outside the writes (they are caught one by one) must not
                    // stop the thread, or every later write would fail: the group's
                    // callers see their replies dropped, a 500, as for a panicking write.
                    let _ = catch_unwind(AssertUnwindSafe(|| run_group(&pool, group)));
                }
            })
            .map_err(|e| StoreError::Setup(format!("cannot start the writer thread: {e}")))?;
        Ok(Self { jobs })
    }

    /// Runs `write` on the writer thread, in a transaction it may share with other
    /// writes (as `Db::write`: all of it is stored, or none), and answers once that
    /// transaction has committed.
    pub async fn write<T, E, F>(&self, write: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let queued = self
            .jobs
            .send((Instant::now(), Box::new(Queued { write, reply })));
        if queued.is_err() {
            return Err(StoreError::NotCommitted("the writer thread has stopped".into()).into());
        }
        // A write that panicked dropped its reply: it was rolled back.
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::Panicked.into()))
    }
}

/// A write waiting in the queue, its type erased.
trait Job: Send {
    /// Runs the write on the group's connection; answers whether it succeeded (then its
    /// savepoint is kept) and how to answer its caller once the group's fate is known.
    fn run(self: Box<Self>, conn: &mut DbConn) -> Ran;
    /// The write will not run: it waited too long, or its group could not start.
    fn refuse(self: Box<Self>, error: StoreError);
    /// Nobody waits for the answer any more.
    fn abandoned(&self) -> bool;
}

struct Ran {
    succeeded: bool,
    settle: Settle,
}

/// Answers a write's caller, given whether its group committed.
type Settle = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;

struct Queued<F, T, E> {
    write: F,
    reply: tokio::sync::oneshot::Sender<Result<T, E>>,
}

impl<F, T, E> Job for Queued<F, T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
    F: FnOnce(&mut DbConn) -> Result<T, E> + Send,
{
    fn run(self: Box<Self>, conn: &mut DbConn) -> Ran {
        let Queued { write, reply } = *self;
        let answer = write(conn);
        let succeeded = answer.is_ok();
        Ran {
            succeeded,
            settle: Box::new(move |committed| {
                // Also a failed write's own error could come from a row of the group
                // that is now rolled back (a conflict with it): the group's failure is
                // the answer for all.
                let answer = match committed {
                    Err(failure) => Err(failure.not_committed().into()),
                    Ok(()) => answer,
                };
                // The caller may have gone (a dropped connection): nothing to tell.
                let _ = reply.send(answer);
            }),
        }
    }

    fn refuse(self: Box<Self>, error: StoreError) {
        let _ = self.reply.send(Err(error.into()));
    }

    fn abandoned(&self) -> bool {
        self.reply.is_closed()
    }
}

/// The writes worth running: those that waited too long are answered busy, and those
/// whose caller has gone are dropped.
fn still_wanted(
    waiting: Vec<(Instant, Box<dyn Job>)>,
    longest_wait: Duration,
) -> Vec<Box<dyn Job>> {
    let mut group = Vec::with_capacity(waiting.len());
    for (queued_at, job) in waiting {
        if job.abandoned() {
            continue;
        }
        if queued_at.elapsed() > longest_wait {
            job.refuse(StoreError::Busy(format!(
                "waited more than {} ms for the writer",
                longest_wait.as_millis()
            )));
            continue;
        }
        group.push(job);
    }
    group
}

/// One transaction for the group; see the module's doc.
fn run_group(pool: &Pool, group: Vec<Box<dyn Job>>) {
    if group.is_empty() {
        return;
    }
    metrics::histogram!("tandem_db_write_group_size").record(group.len() as f64);
    let mut conn = match checkout(pool, "writer") {
        Ok(conn) => conn,
        Err(error) => return refuse_all(group, &error),
    };
    if let Err(error) = begin_immediate(&mut conn) {
        return refuse_all(group, &error);
    }
    let mut settles = Vec::with_capacity(group.len());
    let mut jobs = group.into_iter();
    let mut broken = None;
    for job in jobs.by_ref() {
        if let Err(error) = <DbConn as Connection>::TransactionManager::begin_transaction(&mut conn)
        {
            let error = StoreError::from(error);
            job.refuse(error.not_committed());
            broken = Some(error);
            break;
        }
        let ran = catch_unwind(AssertUnwindSafe(|| job.run(&mut conn)));
        let kept = matches!(&ran, Ok(ran) if ran.succeeded);
        if let Ok(ran) = ran {
            settles.push(ran.settle);
        }
        if let Err(error) = end_savepoint(&mut conn, kept) {
            broken = Some(error);
            break;
        }
    }
    let committed = match broken {
        Some(error) => Err(error),
        None => <DbConn as Connection>::TransactionManager::commit_transaction(&mut conn)
            .map_err(StoreError::from),
    };
    if committed.is_err() {
        // Undo what the group wrote; a connection left mid-transaction is dropped by
        // the pool (`has_broken`).
        let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(&mut conn);
    }
    drop(conn);
    let committed = committed.as_ref().map(|_| ());
    for settle in settles {
        settle(committed);
    }
    if let Err(error) = committed {
        refuse_all(jobs.collect(), error);
    }
}

/// `BEGIN IMMEDIATE`: the write lock from the start, so a write that another process
/// committed meanwhile makes the group wait (the busy timeout) instead of failing on a
/// stale snapshot. Through diesel's transaction manager, so the writes' own
/// transactions become savepoints.
fn begin_immediate(conn: &mut DbConn) -> Result<(), StoreError> {
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
        DbConn::Postgres(_) => <DbConn as Connection>::TransactionManager::begin_transaction(conn)?,
    }
    Ok(())
}

/// Releases the write's savepoint, or rolls it back; after a panic, also whatever
/// savepoints the write left open inside its own.
fn end_savepoint(conn: &mut DbConn, kept: bool) -> Result<(), StoreError> {
    type Manager = <DbConn as Connection>::TransactionManager;
    loop {
        let depth = Manager::transaction_manager_status_mut(conn)
            .transaction_depth()
            .map_err(StoreError::from)?
            .map_or(0, |d| d.get());
        match depth {
            0 | 1 => {
                return Err(StoreError::NotCommitted(
                    "the group's transaction ended early".into(),
                ))
            }
            2 if kept => return Ok(Manager::commit_transaction(conn)?),
            2 => return Ok(Manager::rollback_transaction(conn)?),
            _ => Manager::rollback_transaction(conn)?,
        }
    }
}

fn refuse_all(group: Vec<Box<dyn Job>>, error: &StoreError) {
    for job in group {
        job.refuse(error.not_committed());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc as std_mpsc;
    use std::time::Duration;

    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::BigInt;

    use super::WriteQueue;
    use crate::{Db, DbConfig, DbConn, StoreError};

    struct Scratch {
        db: Db,
        queue: WriteQueue,
        dir: std::path::PathBuf,
    }

    impl Scratch {
        /// An SQLite database whose writes wait for the writer at most `longest_wait`.
        fn new(longest_wait: Duration) -> Self {
            let dir = std::env::temp_dir().join(format!("tandem-writer-{}", uuid::Uuid::new_v4()));
            // Opening may take longer than the wait under test while other tests run: the
            // queue under test gets its own writer thread with the short wait.
            let db = Db::open(&DbConfig {
                url: dir.join("test.db").to_string_lossy().into_owned(),
                pool_size: 2,
                connect_timeout: Duration::from_secs(10),
            })
            .expect("open");
            let queue = WriteQueue::start(db.writer_pool().clone(), longest_wait).expect("queue");
            db.write(|conn| {
                conn.batch_execute(
                    "CREATE TABLE marks (id INTEGER PRIMARY KEY);
                     CREATE TABLE notes (mark INTEGER NOT NULL REFERENCES marks (id));",
                )
                .map_err(StoreError::from)
            })
            .expect("tables");
            Self { db, queue, dir }
        }

        fn queue(&self) -> WriteQueue {
            self.queue.clone()
        }

        fn marks(&self) -> Vec<i64> {
            marks(&self.db)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn mark(conn: &mut DbConn, id: i64) -> Result<(), StoreError> {
        conn.batch_execute(&format!("INSERT INTO marks VALUES ({id})"))?;
        Ok(())
    }

    fn marks(db: &Db) -> Vec<i64> {
        db.read(|conn| {
            diesel::sql_query("SELECT id FROM marks ORDER BY id")
                .load::<Mark>(conn)
                .map_err(StoreError::from)
        })
        .expect("read")
        .into_iter()
        .map(|m| m.id)
        .collect()
    }

    #[derive(QueryableByName)]
    struct Mark {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
    }

    /// A write that holds the writer thread: it says when it runs (so that what is
    /// queued next waits for the next group) and ends when released.
    fn holding_write(
        queue: &WriteQueue,
    ) -> (
        impl std::future::Future<Output = Result<(), StoreError>> + '_,
        tokio::sync::oneshot::Receiver<()>,
        std_mpsc::Sender<()>,
    ) {
        let (started, running) = tokio::sync::oneshot::channel();
        let (release, held) = std_mpsc::channel::<()>();
        let write = queue.write(move |conn| {
            let _ = started.send(());
            held.recv().ok();
            mark(conn, 1)
        });
        (write, running, release)
    }

    /// Three writes queued behind a held one run as one group: the second sees the
    /// first's uncommitted row (one transaction), and a failed write and a panicking one
    /// are rolled back alone, while the others are committed and answered.
    #[test]
    fn a_group_commits_its_good_writes_and_rolls_back_each_bad_one_alone() {
        let scratch = Scratch::new(Duration::from_secs(5));
        let queue = scratch.queue();
        let reader = scratch.db.clone();
        let (blocker, running, release) = holding_write(&queue);
        let (blocker, (good, failed, panicked, later)) = runtime().block_on(async {
            tokio::join!(blocker, async {
                running.await.ok();
                tokio::join!(
                    queue.write(|conn| mark(conn, 2)),
                    queue.write(move |conn| {
                        let seen = diesel::sql_query("SELECT id FROM marks WHERE id = 2")
                            .load::<Mark>(conn)?;
                        assert_eq!(seen.len(), 1, "the group shares one transaction");
                        assert!(!marks(&reader).contains(&2), "and has not committed yet");
                        mark(conn, 3)?;
                        Err::<(), _>(StoreError::Constraint("refused".into()))
                    }),
                    queue.write(|conn| {
                        mark(conn, 4)?;
                        panic!("a bug in a handler");
                        #[allow(unreachable_code)]
                        Ok::<(), StoreError>(())
                    }),
                    async {
                        // Polled after the three writes were queued: let the held one go.
                        release.send(()).ok();
                        queue.write(|conn| mark(conn, 5)).await
                    },
                )
            })
        });
        assert!(blocker.is_ok() && good.is_ok() && later.is_ok());
        assert!(matches!(failed, Err(StoreError::Constraint(_))));
        assert!(matches!(panicked, Err(StoreError::Panicked)));
        assert_eq!(scratch.marks(), vec![1, 2, 5]);
    }

    /// When the group's commit fails (here a deferred foreign key), no write of it is
    /// acknowledged, the one whose own work succeeded included, and none is stored.
    #[test]
    fn a_group_that_does_not_commit_answers_every_write_not_committed() {
        let scratch = Scratch::new(Duration::from_secs(5));
        let queue = scratch.queue();
        let (blocker, running, release) = holding_write(&queue);
        let (blocker, (good, dangling)) = runtime().block_on(async {
            tokio::join!(blocker, async {
                running.await.ok();
                tokio::join!(queue.write(|conn| mark(conn, 2)), async {
                    let dangling = queue.write(|conn| {
                        conn.batch_execute(
                            "PRAGMA defer_foreign_keys = ON; INSERT INTO notes VALUES (99);",
                        )?;
                        Ok::<(), StoreError>(())
                    });
                    tokio::pin!(dangling);
                    poll_once(dangling.as_mut()).await;
                    release.send(()).ok();
                    dangling.await
                })
            })
        });
        assert!(blocker.is_ok());
        assert!(matches!(good, Err(StoreError::NotCommitted(_))), "{good:?}");
        assert!(
            matches!(dangling, Err(StoreError::NotCommitted(_))),
            "{dangling:?}"
        );
        assert_eq!(scratch.marks(), vec![1]);
        // The thread goes on.
        runtime()
            .block_on(queue.write(|conn| mark(conn, 6)))
            .expect("later write");
        assert_eq!(scratch.marks(), vec![1, 6]);
    }

    /// A write that waited longer than a pooled connection would be waited for is
    /// answered busy, without running.
    #[test]
    fn a_write_that_waited_too_long_is_busy_and_not_run() {
        let scratch = Scratch::new(Duration::from_millis(100));
        let queue = scratch.queue();
        let (blocker, running, release) = holding_write(&queue);
        let (blocker, late) = runtime().block_on(async {
            tokio::join!(blocker, async {
                running.await.ok();
                let late = queue.write(|conn| mark(conn, 2));
                tokio::pin!(late);
                // Queue it, then hold the writer past its wait.
                poll_once(late.as_mut()).await;
                std::thread::sleep(Duration::from_millis(300));
                release.send(()).ok();
                late.await
            })
        });
        assert!(blocker.is_ok());
        assert!(matches!(late, Err(StoreError::Busy(_))), "{late:?}");
        assert_eq!(scratch.marks(), vec![1]);
    }

    /// Polls a future once, so that an `async fn` runs up to its first wait.
    async fn poll_once<F: std::future::Future + Unpin>(future: F) {
        let mut future = Some(future);
        std::future::poll_fn(|cx| {
            if let Some(f) = future.as_mut() {
                let _ = std::pin::Pin::new(f).poll(cx);
            }
            std::task::Poll::Ready(())
        })
        .await
    }
}
