//! Every row of the database, or of one firm, in every table, as text: to
//! prove that requests which were refused changed nothing.
//!
//! The tables and columns are read from the database itself, so a table added
//! by a later migration is covered without touching this file. A row belongs to
//! a firm by its `firm_id`, or through its matter, phase or user, or (for an
//! object key) through the key's firm folder; a table with none of these is
//! compared whole.

use std::collections::BTreeMap;

use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl};
use shared::db::DbConnection;

use crate::TestApp;

/// table -> its rows (each row its columns' values as text, `|`-separated), sorted.
pub type Rows = BTreeMap<String, Vec<String>>;

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

const SQLITE_COLUMNS: &str = "SELECT m.name AS table_name, p.name AS column_name \
     FROM sqlite_master m JOIN pragma_table_info(m.name) p \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations' \
     ORDER BY m.name, p.cid";

const POSTGRES_COLUMNS: &str = "SELECT table_name::text AS table_name, column_name::text AS column_name \
     FROM information_schema.columns \
     WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations' \
     ORDER BY table_name, ordinal_position";

/// A text literal for SQL (ids are hex and dashes; quotes are doubled anyway).
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The condition that picks `firm`'s rows of a table with `columns`.
fn belongs_to(table: &str, columns: &[String], firm: &str) -> Option<String> {
    let has = |c: &str| columns.iter().any(|x| x == c);
    let f = literal(firm);
    let users = format!("(SELECT id FROM users WHERE firm_id = {f})");
    if table == "firms" {
        Some(format!("id = {f}"))
    } else if has("firm_id") {
        Some(format!("firm_id = {f}"))
    } else if has("matter_id") {
        Some(format!("matter_id IN (SELECT id FROM matters WHERE firm_id = {f})"))
    } else if has("phase_id") {
        Some(format!("phase_id IN (SELECT id FROM phases WHERE firm_id = {f})"))
    } else if let Some(user) = ["user_id", "client_id", "recipient_id", "actor_id"].into_iter().find(|c| has(c)) {
        Some(format!("{user} IN {users}"))
    } else if has("object_key") {
        Some(format!("object_key LIKE {}", literal(&format!("firms/{}/%", firm.replace('-', "")))))
    } else {
        None
    }
}

/// Every row of every table (of `firm` only, when given) behind `conn`.
pub fn read(conn: &mut DbConnection, firm: Option<&str>) -> anyhow::Result<Rows> {
    let columns: Vec<Column> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(SQLITE_COLUMNS).load(c)?,
        DbConnection::Postgresql(c) => diesel::sql_query(POSTGRES_COLUMNS).load(c)?,
    };
    let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in columns {
        tables.entry(c.table_name).or_default().push(c.column_name);
    }
    let mut rows = Rows::new();
    for (table, columns) in &tables {
        let line = columns
            .iter()
            .map(|c| format!("COALESCE(CAST(\"{c}\" AS TEXT), '<null>')"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let filter = match firm {
            Some(firm) => belongs_to(table, columns, firm).map(|w| format!(" WHERE {w}")).unwrap_or_default(),
            None => String::new(),
        };
        let query = format!("SELECT {line} AS line FROM \"{table}\"{filter}");
        let lines: Vec<Line> = match conn {
            DbConnection::Sqlite(c) => diesel::sql_query(&query).load(c)?,
            DbConnection::Postgresql(c) => diesel::sql_query(&query).load(c)?,
        };
        let mut lines: Vec<String> = lines.into_iter().map(|l| l.line).collect();
        lines.sort();
        rows.insert(table.clone(), lines);
    }
    Ok(rows)
}

/// The rows that differ between `before` and `after`: each row gone or new, `table: row`.
pub fn changes(before: &Rows, after: &Rows) -> Vec<String> {
    let mut changed = Vec::new();
    let tables: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let empty = Vec::new();
    for table in tables {
        let (b, a) = (before.get(table).unwrap_or(&empty), after.get(table).unwrap_or(&empty));
        let (b_set, a_set): (std::collections::BTreeSet<&String>, std::collections::BTreeSet<&String>) =
            (b.iter().collect(), a.iter().collect());
        changed.extend(b_set.difference(&a_set).map(|r| format!("{table}: gone: {r}")));
        changed.extend(a_set.difference(&b_set).map(|r| format!("{table}: new: {r}")));
    }
    changed
}

impl TestApp {
    /// Every row of every table that belongs to firm `firm_id`.
    pub async fn firm_rows(&self, firm_id: &str) -> anyhow::Result<Rows> {
        let firm = firm_id.to_owned();
        Ok(self.state.db.run(move |c| Ok(read(c, Some(&firm))?)).await?)
    }

    /// Waits (up to 10 s) until nothing a request queued is still being delivered
    /// (no notification `sending`, none `pending` that was never tried), so that
    /// rows read afterwards change only through what the test does next.
    pub async fn queue_settled(&self) -> anyhow::Result<()> {
        use diesel::prelude::*;
        use shared::db::schema::notifications;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let busy: i64 = self
                .state
                .db
                .run(|c| {
                    Ok(notifications::table
                        .filter(
                            notifications::status
                                .eq("sending")
                                .or(notifications::status.eq("pending").and(notifications::attempts.eq(0))),
                        )
                        .count()
                        .get_result(c)?)
                })
                .await?;
            if busy == 0 {
                return Ok(());
            }
            anyhow::ensure!(std::time::Instant::now() < deadline, "{busy} notifications still being delivered");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Every row of every table.
    pub async fn all_rows(&self) -> anyhow::Result<Rows> {
        Ok(self.state.db.run(move |c| Ok(read(c, None)?)).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_row_shows_as_gone_and_new() {
        let before = Rows::from([("matters".to_owned(), vec!["1|a".to_owned(), "2|b".to_owned()])]);
        let after = Rows::from([("matters".to_owned(), vec!["1|a".to_owned(), "2|c".to_owned()])]);
        assert_eq!(changes(&before, &after), ["matters: gone: 2|b", "matters: new: 2|c"]);
        assert!(changes(&before, &before).is_empty());
    }

    #[test]
    fn rows_belong_to_a_firm_by_the_closest_link() {
        let cols = |c: &[&str]| c.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(belongs_to("firms", &cols(&["id", "name"]), "f-1").as_deref(), Some("id = 'f-1'"));
        assert_eq!(
            belongs_to("sessions", &cols(&["id", "user_id"]), "f-1").as_deref(),
            Some("user_id IN (SELECT id FROM users WHERE firm_id = 'f-1')")
        );
        assert_eq!(
            belongs_to("storage_cleanup", &cols(&["id", "object_key"]), "f-1").as_deref(),
            Some("object_key LIKE 'firms/f1/%'")
        );
        assert_eq!(belongs_to("rate_limit_hits", &cols(&["id", "bucket"]), "f-1"), None);
    }
}
