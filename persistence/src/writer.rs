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

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;

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
    jobs: mpsc::Sender<Box<dyn Job>>,
}

impl WriteQueue {
    /// Starts the thread that writes through `pool` (the SQLite writer pool).
    pub(crate) fn start(pool: Pool) -> Result<Self, StoreError> {
        let (jobs, queue) = mpsc::channel::<Box<dyn Job>>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                while let Ok(first) = queue.recv() {
                    let mut group = vec![first];
                    while group.len() < MOST_PER_GROUP {
                        match queue.try_recv() {
                            Ok(job) => group.push(job),
                            Err(_) => break,
                        }
                    }
                    run_group(&pool, group);
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
        let queued = self.jobs.send(Box::new(Queued { write, reply }));
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
    /// The write cannot run: the group could not start.
    fn refuse(self: Box<Self>, error: StoreError);
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
                let answer = match committed {
                    Err(failure) if succeeded => Err(failure.not_committed().into()),
                    _ => answer,
                };
                // The caller may have gone (a dropped connection): nothing to tell.
                let _ = reply.send(answer);
            }),
        }
    }

    fn refuse(self: Box<Self>, error: StoreError) {
        let _ = self.reply.send(Err(error.into()));
    }
}

/// One transaction for the group; see the module's doc.
fn run_group(pool: &Pool, group: Vec<Box<dyn Job>>) {
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
            job.refuse(error.into());
            broken = Some(StoreError::NotCommitted("a savepoint failed".into()));
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

    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::BigInt;

    use crate::{Db, DbConfig, DbConn, StoreError};

    fn scratch_db() -> (Db, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("tandem-writer-{}", uuid::Uuid::new_v4()));
        let db = Db::open(&DbConfig {
            url: dir.join("test.db").to_string_lossy().into_owned(),
            pool_size: 2,
            connect_timeout: std::time::Duration::from_secs(5),
        })
        .expect("open");
        db.write(|conn| {
            conn.batch_execute("CREATE TABLE marks (id INTEGER PRIMARY KEY)")
                .map_err(StoreError::from)
        })
        .expect("table");
        (db, dir)
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

    /// Three writes queued behind a held one run as one group: the second sees the
    /// first's uncommitted row (one transaction), and a failed write and a panicking one
    /// are rolled back alone, while the others are committed and answered.
    #[test]
    fn a_group_commits_its_good_writes_and_rolls_back_each_bad_one_alone() {
        let (db, dir) = scratch_db();
        let queue = db
            .write_queue()
            .expect("SQLite has a writer thread")
            .clone();
        let (release, held) = std_mpsc::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let reader = db.clone();
        let (blocker, good, failed, panicked, later) = runtime.block_on(async {
            tokio::join!(
                queue.write(move |conn| {
                    held.recv().ok();
                    mark(conn, 1)
                }),
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
                    // Polled after the four writes were queued: let the first one go.
                    release.send(()).ok();
                    queue.write(|conn| mark(conn, 5)).await
                },
            )
        });
        assert!(blocker.is_ok() && good.is_ok() && later.is_ok());
        assert!(matches!(failed, Err(StoreError::Constraint(_))));
        assert!(matches!(panicked, Err(StoreError::Panicked)));
        assert_eq!(marks(&db), vec![1, 2, 5]);
        drop((db, queue));
        let _ = std::fs::remove_dir_all(dir);
    }
}
