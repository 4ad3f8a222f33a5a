//! The data layer: one diesel connection type over PostgreSQL and SQLite,
//! chosen by the URL scheme, an r2d2 pool, and the embedded migrations.

pub mod models;
pub mod schema;

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::connection::{InstrumentationEvent, SimpleConnection};
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::DatabaseUrl;
use crate::error::{Error, Result};

/// Migrations for SQLite, embedded at build time.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
/// Migrations for PostgreSQL, embedded at build time.
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// A connection to either backend. Queries written against [`schema`] run on both.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// PostgreSQL, for production and for several portal instances.
    Postgresql(PgConnection),
    /// SQLite, the embedded default.
    Sqlite(SqliteConnection),
}

/// Which backend a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

impl Backend {
    /// Short name for logs and test output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Sqlite => "sqlite",
        }
    }
}

/// How long a PostgreSQL connection that just did its work is trusted
/// without a check (`SELECT 1`) when it is handed out again. Under load a
/// connection goes back and forth many times a second, and a check on each
/// hand-out was one statement in six of a client's page; a connection idle
/// longer, or whose last work failed, is checked. (Connection pools commonly
/// do the same; HikariCP's window is half a second.)
pub const TRUSTED_FOR: Duration = Duration::from_secs(1);

/// A pooled connection and when it last finished work without an error.
pub struct Pooled {
    conn: DbConnection,
    last_ok: Option<Instant>,
}

impl Pooled {
    /// Notes how the work done on this connection ended: after an error it
    /// is checked before its next use. (A connection libpq reports lost is
    /// dropped by the pool anyway, through [`ManageConnection::has_broken`];
    /// this covers any other failure.)
    pub fn worked(&mut self, ok: bool) {
        self.last_ok = ok.then(Instant::now);
    }
}

impl Deref for Pooled {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

/// Opens connections for the pool with the concrete driver the URL names
/// (diesel's generic manager would try every backend in turn, and SQLite
/// accepts any string as a file name).
#[derive(Debug)]
pub struct Manager {
    url: DatabaseUrl,
    /// Statements this pool's connections have sent (see [`Db::statements_sent`]).
    statements: Arc<AtomicU64>,
}

/// SQLite settings applied to every new connection: WAL lets readers and one
/// writer work at once; the busy timeout makes writers wait instead of failing.
/// The busy timeout comes first: switching to WAL itself needs the lock.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";

impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = r2d2::Error;

    fn connect(&self) -> std::result::Result<Pooled, r2d2::Error> {
        let conn = match &self.url {
            DatabaseUrl::Postgres(url) => PgConnection::establish(url.expose())
                .map(|mut conn| {
                    conn.set_instrumentation(count_statements(self.statements.clone()));
                    DbConnection::Postgresql(conn)
                })
                .map_err(r2d2::Error::ConnectionError),
            DatabaseUrl::Sqlite(path) => {
                let mut conn =
                    SqliteConnection::establish(&path.to_string_lossy()).map_err(r2d2::Error::ConnectionError)?;
                conn.set_instrumentation(count_statements(self.statements.clone()));
                conn.batch_execute(SQLITE_PRAGMAS).map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }?;
        Ok(Pooled { conn, last_ok: Some(Instant::now()) })
    }

    /// A PostgreSQL connection may have died with a server restart: checked
    /// (`SELECT 1`) when it is handed out, unless it finished work without an
    /// error within [`TRUSTED_FOR`]. A SQLite "connection" is an open file and
    /// cannot go away, so it is not.
    fn is_valid(&self, pooled: &mut Pooled) -> std::result::Result<(), r2d2::Error> {
        if matches!(pooled.conn, DbConnection::Sqlite(_)) || pooled.last_ok.is_some_and(|at| at.elapsed() < TRUSTED_FOR)
        {
            return Ok(());
        }
        pooled.conn.ping().map_err(r2d2::Error::QueryError)?;
        pooled.last_ok = Some(Instant::now());
        Ok(())
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        std::thread::panicking() || pooled.conn.is_broken()
    }
}

/// Statements this process's pooled connections have sent to the database.
static STATEMENTS: AtomicU64 = AtomicU64::new(0);

/// Statements the pooled connections of this process have sent to the
/// database so far: every round trip counts (queries, `BEGIN`/`COMMIT`, pool
/// checks). Served at `/metrics` as [`crate::metrics::DB_STATEMENTS`]; the
/// benchmark divides its growth by the pages answered.
pub fn statements_sent() -> u64 {
    STATEMENTS.load(Ordering::Relaxed)
}

/// Counts each statement a pooled connection starts (diesel's instrumentation
/// hook), in the process's count and in its pool's, `pool`.
fn count_statements(pool: Arc<AtomicU64>) -> impl FnMut(InstrumentationEvent<'_>) + Send + 'static {
    move |event| {
        if let InstrumentationEvent::StartQuery { .. } = event {
            STATEMENTS.fetch_add(1, Ordering::Relaxed);
            pool.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Inserts several rows in one statement. Diesel's multi-backend connection
/// cannot batch inserts, so this dispatches to the concrete connection.
#[macro_export]
macro_rules! insert_many {
    ($conn:expr, $table:expr, $rows:expr) => {{
        use diesel::RunQueryDsl as _;
        match $conn {
            $crate::db::DbConnection::Postgresql(c) => diesel::insert_into($table).values($rows).execute(c),
            $crate::db::DbConnection::Sqlite(c) => diesel::insert_into($table).values($rows).execute(c),
        }
    }};
}

/// A pooled connection.
pub type PooledConnection = r2d2::PooledConnection<Manager>;

/// The database handle every part of Matterline shares: cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Pool>,
}

/// What every clone of a [`Db`] shares.
struct Pool {
    pool: r2d2::Pool<Manager>,
    /// The pool's upkeep thread (see [`Db::connect`]).
    upkeep: Arc<scheduled_thread_pool::ScheduledThreadPool>,
    backend: Backend,
    statements: Arc<AtomicU64>,
}

/// How long the last handle's drop waits for the upkeep thread: a connection
/// being opened gives up after the pool's connection timeout.
const UPKEEP_SETTLE: Duration = Duration::from_secs(15);

impl Drop for Pool {
    /// Lets the upkeep thread finish what it was given before the pool goes.
    /// A connection it is opening holds the pool; had the last handle gone
    /// meanwhile, that thread would close every connection when it let go,
    /// possibly while the process exits, and libpq on one thread racing the
    /// exit handlers that tear OpenSSL down on another is a segfault at exit
    /// (seen with `notifier once`). After this, the connections close here.
    fn drop(&mut self) {
        let (done, finished) = std::sync::mpsc::channel();
        self.upkeep.execute(move || {
            let _ = done.send(());
        });
        if finished.recv_timeout(UPKEEP_SETTLE).is_err() {
            tracing::warn!("the database pool's upkeep thread was still busy when the pool was closed");
        }
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("backend", &self.inner.backend).finish_non_exhaustive()
    }
}

impl Db {
    /// Builds the pool. For SQLite the file's folder is created; the first
    /// connection is opened now, so a wrong URL fails at start-up.
    pub fn connect(url: &DatabaseUrl, max_size: u32) -> Result<Self> {
        let backend = match url {
            DatabaseUrl::Postgres(_) => Backend::Postgres,
            DatabaseUrl::Sqlite(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|e| Error::Unavailable {
                        service: "database",
                        cause: anyhow::anyhow!("cannot create {}: {e}", parent.display()),
                    })?;
                }
                Backend::Sqlite
            }
        };
        let statements = Arc::new(AtomicU64::new(0));
        // The pool's upkeep (opening connections up to `min_idle`, closing
        // idle ones) is a few calls a minute: one thread, not r2d2's three.
        let upkeep = Arc::new(
            scheduled_thread_pool::ScheduledThreadPool::builder()
                .num_threads(1)
                .thread_name_pattern("db-pool-upkeep")
                .build(),
        );
        let pool = r2d2::Pool::builder()
            .max_size(max_size)
            .min_idle(Some(1))
            .thread_pool(upkeep.clone())
            .connection_timeout(Duration::from_secs(10))
            .build(Manager { url: url.clone(), statements: statements.clone() })
            .map_err(|e| Error::Unavailable {
                service: "database",
                cause: anyhow::anyhow!("{}: {e}", url.describe()),
            })?;
        Ok(Self { inner: Arc::new(Pool { pool, upkeep, backend, statements }) })
    }

    /// The backend behind this handle.
    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// Statements this pool's connections (shared by every clone of this
    /// handle) have sent so far, counted like [`statements_sent`]; unlike it,
    /// not mixed with other pools of the process (tests that run side by side).
    pub fn statements_sent(&self) -> u64 {
        self.inner.statements.load(Ordering::Relaxed)
    }

    /// A connection for blocking code (commands, the worker's own threads).
    /// Async code uses [`Db::run`] instead.
    pub fn get(&self) -> Result<PooledConnection> {
        Ok(self.inner.pool.get()?)
    }

    /// Runs blocking database work on tokio's blocking pool, off the async workers.
    pub async fn run<T, F>(&self, work: F) -> Result<T>
    where
        F: FnOnce(&mut DbConnection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        // Log lines of the blocking work keep the caller's span (its request id).
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut conn = db.get()?;
            let done = work(&mut conn);
            conn.worked(done.is_ok());
            done
        })
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("database task failed: {e}")))?
    }

    /// Applies pending migrations; returns the versions applied.
    /// On PostgreSQL an advisory lock keeps two starting processes from racing.
    pub fn migrate(&self) -> Result<Vec<String>> {
        let mut conn = self.get()?;
        migrate(&mut conn)
    }

    /// Checks that the database answers (for `/readyz`).
    pub fn ping(&self) -> Result<()> {
        let mut conn = self.get()?;
        conn.ping().map_err(|e| Error::Unavailable { service: "database", cause: e.into() })
    }
}

/// Runs `work` in a transaction that holds the write lock from its start: a
/// plain transaction on PostgreSQL, `BEGIN IMMEDIATE` on SQLite (where a
/// deferred read-then-write transaction fails if another writer commits in
/// between). Nested `transaction` calls inside become savepoints.
pub fn write_transaction<T>(conn: &mut DbConnection, work: impl FnOnce(&mut DbConnection) -> Result<T>) -> Result<T> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    if let DbConnection::Postgresql(_) = conn {
        return conn.transaction(work);
    }
    if let DbConnection::Sqlite(inner) = conn {
        AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
    }
    let result = work(conn);
    if let DbConnection::Sqlite(inner) = conn {
        match &result {
            Ok(_) => AnsiTransactionManager::commit_transaction(inner)?,
            Err(_) => AnsiTransactionManager::rollback_transaction(inner)?,
        }
    }
    result
}

/// [`write_transaction`] for bookkeeping that a duplicate can repair: on
/// PostgreSQL the commit does not wait for the server to flush it to disk
/// (`SET LOCAL synchronous_commit = off`). Other sessions see it at once and
/// a crash of this process loses nothing; only a crash of the database server
/// itself (power, kernel) can lose the last fraction of a second of such
/// commits (at most three times `wal_writer_delay`, 0.6 s by default), with
/// every other write intact. The notifier records its sent emails this way:
/// one disk flush per group of outcomes was the pass's largest wait, and an
/// outcome lost so is an email sent again, with the same Message-ID. SQLite
/// in WAL mode with `synchronous = NORMAL` already commits without a flush.
pub fn write_transaction_unflushed<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T>,
) -> Result<T> {
    write_transaction(conn, |conn| {
        if let DbConnection::Postgresql(pg) = conn {
            diesel::sql_query("SET LOCAL synchronous_commit = off").execute(pg)?;
        }
        work(conn)
    })
}

/// Inside a [`write_transaction`]: makes writers of the same `key` wait for each
/// other until the transaction ends. On PostgreSQL a transaction-scoped advisory
/// lock on the key's hash; on SQLite nothing more is needed, since `BEGIN
/// IMMEDIATE` already lets one writer in at a time.
pub fn lock_key(conn: &mut DbConnection, key: &str) -> Result<()> {
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind::<diesel::sql_types::Text, _>(key)
            .execute(pg)?;
    }
    Ok(())
}

/// Applies pending migrations on one connection; returns the versions applied.
pub fn migrate(conn: &mut DbConnection) -> Result<Vec<String>> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(versions),
        DbConnection::Postgresql(c) => {
            // Any constant works as the lock id; this one spells "MATTERLN" in ASCII.
            c.batch_execute("SELECT pg_advisory_lock(5562593026449543502)")?;
            let result = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(versions);
            c.batch_execute("SELECT pg_advisory_unlock(5562593026449543502)")?;
            result
        }
    };
    applied.map_err(|e| Error::Internal(anyhow::anyhow!("migration failed: {e}")))
}

fn versions(v: Vec<diesel::migration::MigrationVersion<'_>>) -> Vec<String> {
    v.into_iter().map(|m| m.to_string()).collect()
}
