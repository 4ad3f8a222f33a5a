//! Reading a migrated database's tables and columns, to compare backends and
//! to prove each migration's `down.sql` reverts it.

use std::collections::BTreeMap;

use diesel::sql_types::{Integer, Text};
use diesel::{QueryableByName, RunQueryDsl};
use shared::db::DbConnection;

/// table -> [(column, portable type, NOT NULL)], both sorted.
pub type Snapshot = BTreeMap<String, Vec<(String, String, bool)>>;

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Integer)]
    not_null: i32,
}

const SQLITE_COLUMNS: &str = "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type, \
     CAST(p.\"notnull\" OR p.pk AS INTEGER) AS not_null \
     FROM sqlite_master m JOIN pragma_table_info(m.name) p \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations'";

const POSTGRES_COLUMNS: &str = "SELECT table_name::text AS table_name, column_name::text AS column_name, \
     data_type::text AS data_type, CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END AS not_null \
     FROM information_schema.columns \
     WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'";

/// The portable name of a column type: SQLite's declared type and PostgreSQL's
/// `data_type` map to the same word when diesel treats them alike.
fn portable(data_type: &str) -> String {
    let t = data_type.to_ascii_lowercase();
    if t.contains("int") {
        "integer".into()
    } else if t.starts_with("timestamp") {
        "timestamp".into()
    } else if t.starts_with("bool") {
        "boolean".into()
    } else if t == "text" || t.starts_with("character varying") || t.starts_with("varchar") {
        "text".into()
    } else {
        t
    }
}

/// The tables and columns of the database behind `conn`.
pub fn snapshot(conn: &mut DbConnection) -> anyhow::Result<Snapshot> {
    let rows: Vec<ColumnRow> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(SQLITE_COLUMNS).load(c)?,
        DbConnection::Postgresql(c) => diesel::sql_query(POSTGRES_COLUMNS).load(c)?,
    };
    let mut tables = Snapshot::new();
    for r in rows {
        tables.entry(r.table_name).or_default().push((r.column_name, portable(&r.data_type), r.not_null != 0));
    }
    for columns in tables.values_mut() {
        columns.sort();
    }
    Ok(tables)
}
