//! The two backends' schemas stay the same, every migration reverts cleanly,
//! and the hand-written diesel schema matches what the migrations create.

use diesel::prelude::*;
use diesel_migrations::MigrationHarness;
use harness::schema::snapshot;
use harness::{Backend, TestDb, on_both_backends};
use shared::db::models::*;
use shared::db::schema::*;
use shared::db::{Db, DbConnection, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};

fn fresh(backend: Backend) -> anyhow::Result<(TestDb, Db)> {
    let test_db = TestDb::create(backend)?;
    let db = Db::connect(&test_db.url, 2)?;
    Ok((test_db, db))
}

/// The same tables on both backends, and in each the same columns (portable
/// type, NOT NULL, default), primary key, unique constraints, indexes (with
/// their names, columns, order and conditions), foreign keys and CHECK
/// constraints (the columns and values they name).
#[test]
fn sqlite_and_postgres_have_the_same_schema() -> anyhow::Result<()> {
    let _gate = harness::gate::beside_others_blocking();
    let (_sqlite_db, sqlite) = fresh(Backend::Sqlite)?;
    let (_postgres_db, postgres) = fresh(Backend::Postgres)?;
    sqlite.migrate()?;
    postgres.migrate()?;
    let left = snapshot(&mut *sqlite.get()?)?;
    let right = snapshot(&mut *postgres.get()?)?;
    assert!(left.len() >= 13, "expected the foundation tables, found {:?}", left.keys());
    assert_eq!(left.keys().collect::<Vec<_>>(), right.keys().collect::<Vec<_>>(), "the backends have different tables");
    let mut differences = Vec::new();
    for (table, shape) in &left {
        let Some(other) = right.get(table) else { continue };
        if shape.columns != other.columns {
            differences
                .push(format!("{table} columns:\n  SQLite     {:?}\n  PostgreSQL {:?}", shape.columns, other.columns));
        }
        if shape.primary_key != other.primary_key {
            differences.push(format!(
                "{table} primary key: SQLite {:?}, PostgreSQL {:?}",
                shape.primary_key, other.primary_key
            ));
        }
        for only in shape.indexes.difference(&other.indexes) {
            differences.push(format!("{table}: only SQLite has {only:?}"));
        }
        for only in other.indexes.difference(&shape.indexes) {
            differences.push(format!("{table}: only PostgreSQL has {only:?}"));
        }
        for only in shape.foreign_keys.difference(&other.foreign_keys) {
            differences.push(format!("{table}: only SQLite has {only:?}"));
        }
        for only in other.foreign_keys.difference(&shape.foreign_keys) {
            differences.push(format!("{table}: only PostgreSQL has {only:?}"));
        }
        for only in shape.checks.difference(&other.checks) {
            differences.push(format!("{table}: only SQLite has {only:?}"));
        }
        for only in other.checks.difference(&shape.checks) {
            differences.push(format!("{table}: only PostgreSQL has {only:?}"));
        }
    }
    assert!(differences.is_empty(), "the backends' schemas differ:\n{}", differences.join("\n"));
    // The comparison sees what it claims to: keys, uniques, indexes and defaults are there to compare.
    let users = left.get("users").ok_or_else(|| anyhow::anyhow!("no users table"))?;
    assert_eq!(users.primary_key, ["id"]);
    assert!(
        users.indexes.iter().any(|i| i.unique && i.name.is_none() && i.columns == ["firm_id", "email"]),
        "{users:?}"
    );
    assert!(users.indexes.iter().any(|i| i.name.as_deref() == Some("users_email") && !i.unique), "{users:?}");
    let language = users.columns.iter().find(|c| c.name == "language");
    assert_eq!(language.and_then(|c| c.default.as_deref()), Some("'en'"));
    let documents = left.get("documents").ok_or_else(|| anyhow::anyhow!("no documents table"))?;
    assert!(
        documents.indexes.iter().any(|i| i.predicate.as_deref() == Some("reviewed_at is null")),
        "the partial index is read with its condition: {documents:?}"
    );
    let roles = users.checks.iter().find(|c| c.columns.contains("role"));
    let values: Vec<&str> = roles.map(|c| c.literals.iter().map(String::as_str).collect()).unwrap_or_default();
    assert_eq!(values, ["'admin'", "'case_manager'", "'client'"], "CHECK constraints are read with their values");
    let texts = left.get("phase_texts").ok_or_else(|| anyhow::anyhow!("no phase_texts table"))?;
    assert_eq!(texts.primary_key, ["phase_id", "language"]);
    assert!(
        texts.foreign_keys.iter().any(|k| k.references == "phases" && k.on_delete == "CASCADE"),
        "foreign keys are read with their ON DELETE: {texts:?}"
    );
    let audit = left.get("audit_events").ok_or_else(|| anyhow::anyhow!("no audit_events table"))?;
    assert_eq!(audit.columns.iter().find(|c| c.name == "id").and_then(|c| c.default.as_deref()), Some("<generated>"));
    Ok(())
}

/// The snapshot the parity and revert tests compare sees each kind of
/// change it claims to: a default, a unique constraint, an index, a partial
/// index's condition, a foreign key's ON DELETE, a value a CHECK allows, a
/// BIGINT made INTEGER. (SQLite cannot alter a
/// default or a constraint in place; it gets the changes it can make.)
async fn the_schema_snapshot_notices_each_kind_of_change(backend: Backend) -> anyhow::Result<()> {
    let (_test_db, db) = fresh(backend)?;
    db.migrate()?;
    let mut conn = db.get()?;
    let mut changes: Vec<(&str, &str, &str)> = vec![
        ("users", "an index dropped", "DROP INDEX users_email"),
        ("users", "an index made unique", "CREATE UNIQUE INDEX users_email ON users (email)"),
        (
            "users",
            "a partial index's condition",
            "DROP INDEX users_email; CREATE UNIQUE INDEX users_email ON users (email) WHERE role = 'client'",
        ),
    ];
    changes.extend(match backend {
        Backend::Sqlite => vec![
            ("firms", "a column with a default added", "ALTER TABLE firms ADD COLUMN motto TEXT DEFAULT 'x'"),
            (
                "matters",
                "an index on other columns",
                "CREATE INDEX matters_firm_phase_2 ON matters (phase_id, firm_id)",
            ),
        ],
        Backend::Postgres => vec![
            ("users", "a default", "ALTER TABLE users ALTER COLUMN language SET DEFAULT 'es'"),
            ("users", "BIGINT made INTEGER", "ALTER TABLE users ALTER COLUMN totp_last_step TYPE INTEGER"),
            (
                "matters",
                "a unique constraint dropped",
                "ALTER TABLE matters DROP CONSTRAINT matters_firm_id_external_id_key",
            ),
            (
                "users",
                "a value a CHECK allows",
                "ALTER TABLE users DROP CONSTRAINT users_role_check, \
                 ADD CONSTRAINT users_role_check CHECK (role IN ('client', 'case_manager', 'admin', 'paralegal'))",
            ),
            (
                "phase_texts",
                "a foreign key's ON DELETE",
                "ALTER TABLE phase_texts DROP CONSTRAINT phase_texts_phase_id_fkey, \
                 ADD FOREIGN KEY (phase_id) REFERENCES phases (id)",
            ),
        ],
    });
    let mut before = snapshot(&mut conn)?;
    for (table, what, sql) in changes {
        diesel::connection::SimpleConnection::batch_execute(&mut **conn, sql)?;
        let after = snapshot(&mut conn)?;
        assert_ne!(after.get(table), before.get(table), "{what} on {table} went unnoticed");
        let others = |s: &harness::schema::Snapshot| {
            s.iter().filter(|(t, _)| *t != table).map(|(t, v)| (t.clone(), v.clone())).collect::<Vec<_>>()
        };
        assert_eq!(others(&after), others(&before), "{what} on {table} was seen elsewhere");
        before = after;
    }
    Ok(())
}

/// Applies migrations one at a time; after each, its down.sql must restore the
/// schema exactly as it was, and applying it again must give the same result.
async fn each_migration_reverts_cleanly(backend: Backend) -> anyhow::Result<()> {
    let (_test_db, db) = fresh(backend)?;
    let mut conn = db.get()?;
    let mut before = snapshot(&mut conn)?;
    assert!(before.is_empty(), "a fresh database has no tables: {:?}", before.keys());
    let mut steps = 0;
    while let Some(name) = migrations::next_pending(&mut conn)? {
        migrations::run_next(&mut conn)?;
        let after = snapshot(&mut conn)?;
        assert_ne!(after, before, "{name} changed nothing");
        migrations::revert_last(&mut conn)?;
        assert_eq!(snapshot(&mut conn)?, before, "down.sql of {name} did not restore the previous schema");
        migrations::run_next(&mut conn)?;
        assert_eq!(snapshot(&mut conn)?, after, "re-applying {name} gave a different schema");
        before = after;
        steps += 1;
    }
    assert!(steps >= 1, "no migration ran");
    Ok(())
}

/// Migration steps on either backend (the harness is implemented per concrete connection).
pub(crate) mod migrations {
    use super::*;

    fn err(e: Box<dyn std::error::Error + Send + Sync>) -> anyhow::Error {
        anyhow::anyhow!("{e}")
    }

    pub fn next_pending(conn: &mut DbConnection) -> anyhow::Result<Option<String>> {
        let names: Vec<String> = match conn {
            DbConnection::Sqlite(c) => {
                c.pending_migrations(SQLITE_MIGRATIONS).map_err(err)?.iter().map(|m| m.name().to_string()).collect()
            }
            DbConnection::Postgresql(c) => {
                c.pending_migrations(POSTGRES_MIGRATIONS).map_err(err)?.iter().map(|m| m.name().to_string()).collect()
            }
        };
        Ok(names.into_iter().next())
    }

    pub fn run_next(conn: &mut DbConnection) -> anyhow::Result<()> {
        match conn {
            DbConnection::Sqlite(c) => {
                let next = c.pending_migrations(SQLITE_MIGRATIONS).map_err(err)?;
                let first = next.first().ok_or_else(|| anyhow::anyhow!("nothing pending"))?;
                c.run_migration(first.as_ref()).map_err(err)?;
            }
            DbConnection::Postgresql(c) => {
                let next = c.pending_migrations(POSTGRES_MIGRATIONS).map_err(err)?;
                let first = next.first().ok_or_else(|| anyhow::anyhow!("nothing pending"))?;
                c.run_migration(first.as_ref()).map_err(err)?;
            }
        }
        Ok(())
    }

    pub fn revert_last(conn: &mut DbConnection) -> anyhow::Result<()> {
        match conn {
            DbConnection::Sqlite(c) => c.revert_last_migration(SQLITE_MIGRATIONS).map_err(err)?,
            DbConnection::Postgresql(c) => c.revert_last_migration(POSTGRES_MIGRATIONS).map_err(err)?,
        };
        Ok(())
    }
}

/// Every table of the hand-written diesel schema loads through its model from
/// the migrated database: a misspelt or mistyped column fails here, and so
/// does a table the migrations create that no model loads.
async fn the_diesel_schema_matches_the_migrations(backend: Backend) -> anyhow::Result<()> {
    let (_test_db, db) = fresh(backend)?;
    db.migrate()?;
    let mut conn = db.get()?;
    let c = &mut **conn;
    let mut loaded: Vec<&str> = Vec::new();
    macro_rules! load {
        ($($table:ident => $model:ty),+ $(,)?) => {$(
            $table::table.select(<$model>::as_select()).load::<$model>(c)?;
            loaded.push(stringify!($table));
        )+};
    }
    load!(
        firms => Firm,
        firm_logos => FirmLogo,
        users => User,
        phases => Phase,
        phase_texts => PhaseText,
        matters => Matter,
        matter_clients => MatterClient,
        milestones => Milestone,
        document_requests => DocumentRequest,
        documents => Document,
        notifications => Notification,
        audit_events => AuditEvent,
        sessions => Session,
        sign_in_tokens => SignInToken,
        rate_limit_hits => RateLimitHit,
        ratings => Rating,
        storage_cleanup => StorageCleanup,
        saved_filters => SavedFilter,
        short_links => ShortLink,
        messages => Message,
        message_attachments => MessageAttachment,
        request_templates => RequestTemplate,
        one_tap_links => OneTapLink,
        treatment_providers => TreatmentProvider,
        treatment_visits => TreatmentVisit,
        appointments => Appointment,
        push_subscriptions => PushSubscription,
        sms_consents => SmsConsent,
        sms_messages => SmsMessage,
    );
    loaded.sort_unstable();
    let tables = snapshot(c)?;
    assert_eq!(loaded, tables.keys().map(String::as_str).collect::<Vec<_>>(), "tables loaded through a model");
    // And the demo seed writes through every insertable model on this backend.
    let demo =
        portal::seed::seed_demo(c, &shared::assets::Assets::default(), &portal::totp_at_rest::TotpKey::generate())?;
    let phases_per_firm: i64 = phases::table.filter(phases::firm_id.eq(&demo.firm_id)).count().get_result(c)?;
    assert_eq!(phases_per_firm, 10);
    Ok(())
}

/// Enum-like columns read as their Rust types: every value round-trips. A
/// language this process has not loaded (a locale folder removed) reads as
/// English, so the client's pages still open.
async fn enum_columns_round_trip_and_an_unloaded_language_reads_as_english(backend: Backend) -> anyhow::Result<()> {
    use shared::domain::{Language, Role};
    let (_test_db, db) = fresh(backend)?;
    db.migrate()?;
    let mut pooled = db.get()?;
    let conn: &mut DbConnection = &mut pooled;
    let firm = Firm {
        id: shared::domain::new_id(),
        name: "Typed Firm".into(),
        time_zone: "UTC".into(),
        mail_from: None,
        phone: None,
        weekly_schedule: None,
        no_activity_updates: true,
        created_at: shared::domain::now(),
        closed_matter_uploads: false,
        accent_colour: None,
        reply_to_case_manager: false,
        public_host: None,
        message_text_in_email: false,
        one_tap_sign_in: true,
        treatment_gap_days: 30,
        sms_from_hour: 9,
        sms_until_hour: 20,
    };
    diesel::insert_into(firms::table).values(&firm).execute(conn)?;
    for (i, role) in Role::ALL.iter().enumerate() {
        let user =
            User::new(&firm.id, *role, &format!("user{i}@typed.test"), "Someone", Language::ES, shared::domain::now());
        diesel::insert_into(users::table).values(&user).execute(conn)?;
        let back: User = users::table.find(&user.id).select(User::as_select()).first(conn)?;
        assert_eq!((back.role, back.language), (*role, Language::ES));
        let stored: String = users::table.find(&user.id).select(users::role).first::<Role>(conn)?.to_string();
        assert_eq!(stored, role.as_str(), "stored as its text");
    }
    // (The role column has a CHECK constraint as well; the language column has none.)
    diesel::sql_query("UPDATE users SET language = 'zz' WHERE email = 'user0@typed.test'").execute(conn)?;
    let user = users::table.filter(users::email.eq("user0@typed.test")).select(User::as_select()).first(conn)?;
    assert_eq!(user.language, Language::EN);
    Ok(())
}

on_both_backends!(
    the_schema_snapshot_notices_each_kind_of_change,
    each_migration_reverts_cleanly,
    the_diesel_schema_matches_the_migrations,
    enum_columns_round_trip_and_an_unloaded_language_reads_as_english
);
