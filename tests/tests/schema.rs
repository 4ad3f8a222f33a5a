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

#[test]
fn sqlite_and_postgres_have_the_same_tables_and_columns() -> anyhow::Result<()> {
    let _gate = harness::gate::beside_others_blocking();
    let (_sqlite_db, sqlite) = fresh(Backend::Sqlite)?;
    let (_postgres_db, postgres) = fresh(Backend::Postgres)?;
    sqlite.migrate()?;
    postgres.migrate()?;
    let left = snapshot(&mut *sqlite.get()?)?;
    let right = snapshot(&mut *postgres.get()?)?;
    assert!(left.len() >= 13, "expected the foundation tables, found {:?}", left.keys());
    for (table, columns) in &left {
        assert_eq!(Some(columns), right.get(table), "table {table} differs between SQLite and PostgreSQL");
    }
    assert_eq!(left.keys().collect::<Vec<_>>(), right.keys().collect::<Vec<_>>(), "the backends have different tables");
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
mod migrations {
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
/// the migrated database: a misspelt or mistyped column fails here.
async fn the_diesel_schema_matches_the_migrations(backend: Backend) -> anyhow::Result<()> {
    let (_test_db, db) = fresh(backend)?;
    db.migrate()?;
    let mut conn = db.get()?;
    let c = &mut **conn;
    firms::table.select(Firm::as_select()).load(c)?;
    users::table.select(User::as_select()).load(c)?;
    phases::table.select(Phase::as_select()).load(c)?;
    phase_texts::table.select(PhaseText::as_select()).load(c)?;
    matters::table.select(Matter::as_select()).load(c)?;
    matter_clients::table.select(MatterClient::as_select()).load(c)?;
    milestones::table.select(Milestone::as_select()).load(c)?;
    document_requests::table.select(DocumentRequest::as_select()).load(c)?;
    documents::table.select(Document::as_select()).load(c)?;
    notifications::table.select(Notification::as_select()).load(c)?;
    audit_events::table.select(AuditEvent::as_select()).load(c)?;
    sessions::table.select(Session::as_select()).load(c)?;
    sign_in_tokens::table.select(SignInToken::as_select()).load(c)?;
    // And the demo seed writes through every insertable model on this backend.
    let demo = portal::seed::seed_demo(c, &shared::assets::Assets::default())?;
    let phases_per_firm: i64 = phases::table.filter(phases::firm_id.eq(&demo.firm_id)).count().get_result(c)?;
    assert_eq!(phases_per_firm, 10);
    Ok(())
}

/// Enum-like columns read as their Rust enums: every value round-trips, and
/// stored text that is no value fails the read (naming the type) instead of
/// turning into some default.
async fn enum_columns_round_trip_and_refuse_unknown_text(backend: Backend) -> anyhow::Result<()> {
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
    };
    diesel::insert_into(firms::table).values(&firm).execute(conn)?;
    for (i, role) in Role::ALL.iter().enumerate() {
        let user =
            User::new(&firm.id, *role, &format!("user{i}@typed.test"), "Someone", Language::Es, shared::domain::now());
        diesel::insert_into(users::table).values(&user).execute(conn)?;
        let back: User = users::table.find(&user.id).select(User::as_select()).first(conn)?;
        assert_eq!((back.role, back.language), (*role, Language::Es));
        let stored: String = users::table.find(&user.id).select(users::role).first::<Role>(conn)?.to_string();
        assert_eq!(stored, role.as_str(), "stored as its text");
    }
    // (The role column has a CHECK constraint as well; the language column has none.)
    diesel::sql_query("UPDATE users SET language = 'fr' WHERE email = 'user0@typed.test'").execute(conn)?;
    let unreadable = users::table.filter(users::email.eq("user0@typed.test")).select(User::as_select()).first(conn);
    let message = match unreadable {
        Ok(user) => anyhow::bail!("an unknown language was read as {:?}", user.language),
        Err(e) => format!("{e:?}"),
    };
    assert!(message.contains(r#"\"fr\" is not a Language value"#), "{message}");
    Ok(())
}

on_both_backends!(
    each_migration_reverts_cleanly,
    the_diesel_schema_matches_the_migrations,
    enum_columns_round_trip_and_refuse_unknown_text
);
