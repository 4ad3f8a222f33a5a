//! Reading a migrated database's shape — tables, columns (portable type,
//! NOT NULL, default), primary keys, unique constraints, indexes, foreign
//! keys and CHECK constraints — to
//! compare the backends and to prove each migration's `down.sql` reverts it;
//! and reading every row of every table, to compare a database with itself
//! after a backup and restore.

use std::collections::{BTreeMap, BTreeSet};

use diesel::sql_types::{Integer, Nullable, Text};
use diesel::{QueryableByName, RunQueryDsl};
use shared::db::DbConnection;

/// table -> its shape.
pub type Snapshot = BTreeMap<String, TableShape>;

/// What a table is made of, in terms both backends share.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableShape {
    /// Its columns, by name.
    pub columns: Vec<Column>,
    /// The primary key's columns, in key order.
    pub primary_key: Vec<String>,
    /// Its unique constraints and indexes (the primary key's own index aside).
    pub indexes: BTreeSet<Index>,
    /// Its foreign keys.
    pub foreign_keys: BTreeSet<ForeignKey>,
    /// Its CHECK constraints.
    pub checks: BTreeSet<Check>,
}

/// A CHECK constraint, by what it mentions: the backends print one condition
/// differently (`role IN ('a', 'b')` and `role = ANY (ARRAY['a'::text, 'b'::text])`,
/// `score BETWEEN 1 AND 5` and `score >= 1 AND score <= 5`), but a value
/// allowed on one backend only shows up here.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Check {
    /// The table's columns it names.
    pub columns: BTreeSet<String>,
    /// The literals it names (`'admin'`, `5`).
    pub literals: BTreeSet<String>,
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ForeignKey {
    /// The referring columns, in key order.
    pub columns: Vec<String>,
    /// The table referred to.
    pub references: String,
    /// Its columns, in key order.
    pub referenced_columns: Vec<String>,
    /// `NO ACTION`, `CASCADE`, `SET NULL`…
    pub on_delete: String,
}

/// A column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// The portable name of its type ([`portable`]).
    pub data_type: String,
    /// NOT NULL (or part of the primary key).
    pub not_null: bool,
    /// Its default, normalised (`'en'`, `0`, `true`), or `<generated>` for a
    /// key the database numbers itself (an identity, a SQLite rowid alias).
    pub default: Option<String>,
}

/// A unique constraint or an index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Index {
    /// The name given in `CREATE INDEX`; none for the index behind a UNIQUE
    /// constraint, which each backend names its own way.
    pub name: Option<String>,
    /// Its columns, in index order (`<expression>` for an expression).
    pub columns: Vec<String>,
    /// Whether it refuses duplicates.
    pub unique: bool,
    /// A partial index's condition, normalised (`reviewed_at is null`).
    pub predicate: Option<String>,
}

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
    #[diesel(sql_type = Nullable<Text>)]
    default_value: Option<String>,
    /// Position in the primary key, 0 when not in it (SQLite only; PostgreSQL's comes with the indexes).
    #[diesel(sql_type = Integer)]
    key_position: i32,
}

#[derive(QueryableByName)]
struct IndexRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    index_name: String,
    #[diesel(sql_type = Integer)]
    is_unique: i32,
    /// `pk` (the primary key), `u` (a UNIQUE constraint) or `c` (CREATE INDEX).
    #[diesel(sql_type = Text)]
    origin: String,
    #[diesel(sql_type = Integer)]
    position: i32,
    #[diesel(sql_type = Nullable<Text>)]
    column_name: Option<String>,
    /// PostgreSQL: the partial index's condition; SQLite: the index's whole `CREATE` statement.
    #[diesel(sql_type = Text)]
    predicate: String,
}

#[derive(QueryableByName)]
struct ForeignKeyRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    /// Which key of the table a row belongs to.
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Integer)]
    position: i32,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    references: String,
    #[diesel(sql_type = Nullable<Text>)]
    referenced_column: Option<String>,
    #[diesel(sql_type = Text)]
    on_delete: String,
}

#[derive(QueryableByName)]
struct CheckRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    /// SQLite: the table's whole `CREATE` statement; PostgreSQL: one `CHECK (…)`.
    #[diesel(sql_type = Text)]
    definition: String,
}

const SQLITE_CHECKS: &str = "SELECT name AS table_name, sql AS definition FROM sqlite_master \
     WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations' AND sql IS NOT NULL";

const POSTGRES_CHECKS: &str = "SELECT t.relname::text AS table_name, pg_get_constraintdef(c.oid) AS definition \
     FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace ns ON ns.oid = t.relnamespace \
     WHERE c.contype = 'c' AND ns.nspname = 'public' AND t.relname <> '__diesel_schema_migrations'";

const SQLITE_COLUMNS: &str = "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type, \
     CAST(p.\"notnull\" OR p.pk AS INTEGER) AS not_null, p.dflt_value AS default_value, p.pk AS key_position \
     FROM sqlite_master m JOIN pragma_table_info(m.name) p \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations'";

const SQLITE_INDEXES: &str = "SELECT m.name AS table_name, il.name AS index_name, il.\"unique\" AS is_unique, \
     il.origin AS origin, ii.seqno AS position, ii.name AS column_name, \
     CASE WHEN il.partial THEN COALESCE(s.sql, '') ELSE '' END AS predicate \
     FROM sqlite_master m JOIN pragma_index_list(m.name) il JOIN pragma_index_info(il.name) ii \
     LEFT JOIN sqlite_master s ON s.type = 'index' AND s.name = il.name \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations'";

const SQLITE_FOREIGN_KEYS: &str = "SELECT m.name AS table_name, CAST(f.id AS TEXT) AS key, f.seq AS position, \
     f.\"from\" AS column_name, f.\"table\" AS \"references\", f.\"to\" AS referenced_column, f.on_delete AS on_delete \
     FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations'";

const POSTGRES_COLUMNS: &str = "SELECT table_name::text AS table_name, column_name::text AS column_name, \
     data_type::text AS data_type, CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END AS not_null, \
     CASE WHEN is_identity = 'YES' OR column_default LIKE 'nextval(%' THEN '<generated>' \
          ELSE column_default::text END AS default_value, 0 AS key_position \
     FROM information_schema.columns \
     WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'";

const POSTGRES_INDEXES: &str = "SELECT t.relname::text AS table_name, i.relname::text AS index_name, \
     CASE WHEN ix.indisunique THEN 1 ELSE 0 END AS is_unique, \
     CASE WHEN ix.indisprimary THEN 'pk' \
          WHEN EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid AND c.conrelid = t.oid \
                       AND c.contype IN ('u', 'x')) THEN 'u' \
          ELSE 'c' END AS origin, \
     k.n::int AS position, a.attname::text AS column_name, \
     COALESCE(pg_get_expr(ix.indpred, ix.indrelid), '') AS predicate \
     FROM pg_index ix \
     JOIN pg_class i ON i.oid = ix.indexrelid \
     JOIN pg_class t ON t.oid = ix.indrelid \
     JOIN pg_namespace ns ON ns.oid = t.relnamespace \
     CROSS JOIN LATERAL unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, n) \
     LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum AND k.attnum > 0 \
     WHERE ns.nspname = 'public' AND t.relname <> '__diesel_schema_migrations'";

const POSTGRES_FOREIGN_KEYS: &str = "SELECT t.relname::text AS table_name, c.conname::text AS key, \
     k.n::int AS position, a.attname::text AS column_name, r.relname::text AS \"references\", \
     ra.attname::text AS referenced_column, \
     CASE c.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE' \
          WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END AS on_delete \
     FROM pg_constraint c \
     JOIN pg_class t ON t.oid = c.conrelid \
     JOIN pg_namespace ns ON ns.oid = t.relnamespace \
     JOIN pg_class r ON r.oid = c.confrelid \
     CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(attnum, refnum, n) \
     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum \
     JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = k.refnum \
     WHERE c.contype = 'f' AND ns.nspname = 'public'";

/// The portable name of a column type: SQLite's declared type and PostgreSQL's
/// `data_type` map to the same word when diesel treats them alike. BIGINT and
/// INTEGER stay apart: diesel reads them as `BigInt` and `Integer`, and on
/// PostgreSQL the wrong one fails.
fn portable(data_type: &str) -> String {
    let t = data_type.to_ascii_lowercase();
    if t.contains("bigint") || t == "int8" {
        "bigint".into()
    } else if t.contains("int") {
        "integer".into()
    } else if t.starts_with("timestamp") {
        "timestamp".into()
    } else if t.starts_with("bool") {
        "boolean".into()
    } else if t == "text" || t.starts_with("character varying") || t.starts_with("varchar") {
        "text".into()
    } else if t == "bytea" || t == "blob" {
        "binary".into()
    } else {
        t
    }
}

/// A default as both backends would write it: PostgreSQL's casts dropped
/// (`'en'::text` → `'en'`), booleans as `true`/`false` (SQLite stores `1`/`0`).
fn portable_default(default: &str, data_type: &str) -> String {
    let mut d = default.trim().to_owned();
    // Trailing casts: `'en'::text`, `'x'::character varying`.
    while let Some(at) = d.rfind("::") {
        if d[at + 2..].chars().all(|c| c.is_ascii_alphabetic() || c == ' ') {
            d.truncate(at);
        } else {
            break;
        }
    }
    if data_type == "boolean" {
        match d.to_ascii_lowercase().as_str() {
            "1" | "true" => return "true".into(),
            "0" | "false" => return "false".into(),
            _ => {}
        }
    }
    d
}

/// A partial index's condition in a form both backends share: SQLite's
/// `CREATE INDEX … WHERE reviewed_at IS NULL` and PostgreSQL's
/// `(reviewed_at IS NULL)` are both `reviewed_at is null`.
fn portable_predicate(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let condition = if lower.trim_start().starts_with("create") {
        lower.rsplit_once(" where ").map(|(_, c)| c.to_owned())?
    } else {
        lower
    };
    let words: Vec<&str> =
        condition.split(|c: char| c.is_whitespace() || c == '(' || c == ')').filter(|w| !w.is_empty()).collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// The `CHECK (…)` clauses in `sql`, each without its keyword and outer parentheses.
fn check_clauses(sql: &str) -> Vec<String> {
    let lower = sql.to_ascii_lowercase();
    let bytes = sql.as_bytes();
    let mut clauses = Vec::new();
    let mut from = 0;
    while let Some(found) = lower[from..].find("check") {
        let start = from + found;
        from = start + 5;
        let word_before = start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let rest = sql[from..].trim_start();
        if word_before || !rest.starts_with('(') {
            continue;
        }
        let open = sql.len() - rest.len();
        let (mut depth, mut quoted) = (0usize, false);
        for (i, c) in sql[open..].char_indices() {
            match c {
                '\'' => quoted = !quoted,
                '(' if !quoted => depth += 1,
                ')' if !quoted => {
                    depth -= 1;
                    if depth == 0 {
                        clauses.push(sql[open + 1..open + i].to_owned());
                        from = open + i;
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    clauses
}

/// What a CHECK condition mentions: the columns of `columns` and the literals.
fn check_of(condition: &str, columns: &BTreeSet<String>) -> Check {
    let (mut named, mut literals) = (BTreeSet::new(), BTreeSet::new());
    let mut chars = condition.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            let mut end = i + 1;
            for (j, d) in chars.by_ref() {
                end = j;
                if d == '\'' {
                    break;
                }
            }
            literals.insert(condition[i..=end].to_owned());
        } else if c.is_ascii_alphanumeric() || c == '_' || c == '"' {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if d.is_ascii_alphanumeric() || d == '_' || d == '"' || d == '.' {
                    end = j + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            let word = condition[i..end].trim_matches('"').to_ascii_lowercase();
            if word.chars().all(|w| w.is_ascii_digit() || w == '.') {
                literals.insert(word);
            } else if columns.contains(&word) {
                named.insert(word);
            }
        }
    }
    Check { columns: named, literals }
}

/// The shape of the database behind `conn`.
pub fn snapshot(conn: &mut DbConnection) -> anyhow::Result<Snapshot> {
    let sqlite = matches!(conn, DbConnection::Sqlite(_));
    type Rows = (Vec<ColumnRow>, Vec<IndexRow>, Vec<ForeignKeyRow>, Vec<CheckRow>);
    let (columns, indexes, foreign_keys, checks): Rows = match conn {
        DbConnection::Sqlite(c) => (
            diesel::sql_query(SQLITE_COLUMNS).load(c)?,
            diesel::sql_query(SQLITE_INDEXES).load(c)?,
            diesel::sql_query(SQLITE_FOREIGN_KEYS).load(c)?,
            diesel::sql_query(SQLITE_CHECKS).load(c)?,
        ),
        DbConnection::Postgresql(c) => (
            diesel::sql_query(POSTGRES_COLUMNS).load(c)?,
            diesel::sql_query(POSTGRES_INDEXES).load(c)?,
            diesel::sql_query(POSTGRES_FOREIGN_KEYS).load(c)?,
            diesel::sql_query(POSTGRES_CHECKS).load(c)?,
        ),
    };
    let mut tables = Snapshot::new();
    let mut keys: BTreeMap<String, Vec<(i32, String)>> = BTreeMap::new();
    let mut declared_integer: BTreeSet<(String, String)> = BTreeSet::new();
    for r in columns {
        if r.data_type.eq_ignore_ascii_case("integer") {
            declared_integer.insert((r.table_name.clone(), r.column_name.clone()));
        }
        let data_type = portable(&r.data_type);
        if r.key_position > 0 {
            keys.entry(r.table_name.clone()).or_default().push((r.key_position, r.column_name.clone()));
        }
        let default = r.default_value.map(|d| portable_default(&d, &data_type));
        tables.entry(r.table_name).or_default().columns.push(Column {
            name: r.column_name,
            data_type,
            not_null: r.not_null != 0,
            default,
        });
    }
    // Index rows, one per column: (table, index) -> (unique, origin, predicate, [(position, column)]).
    type Parts = (bool, String, String, Vec<(i32, String)>);
    let mut by_index: BTreeMap<(String, String), Parts> = BTreeMap::new();
    for r in indexes {
        let entry = by_index
            .entry((r.table_name, r.index_name))
            .or_insert_with(|| (r.is_unique != 0, r.origin, r.predicate, Vec::new()));
        entry.3.push((r.position, r.column_name.unwrap_or_else(|| "<expression>".into())));
    }
    for ((table, name), (unique, origin, predicate, mut columns)) in by_index {
        columns.sort();
        let columns: Vec<String> = columns.into_iter().map(|(_, c)| c).collect();
        let shape = tables.entry(table.clone()).or_default();
        match origin.as_str() {
            "pk" if !sqlite => keys.entry(table).or_default().extend(columns.into_iter().zip(1..).map(|(c, i)| (i, c))),
            "pk" => {} // SQLite: from the columns' own key positions
            _ => {
                let name = (origin == "c").then_some(name);
                shape.indexes.insert(Index { name, columns, unique, predicate: portable_predicate(&predicate) });
            }
        }
    }
    // Foreign key rows, one per column: (table, key) -> (references, on delete, [(position, column, referenced)]).
    type KeyParts = (String, String, Vec<(i32, String, String)>);
    let mut by_key: BTreeMap<(String, String), KeyParts> = BTreeMap::new();
    for r in foreign_keys {
        let entry = by_key.entry((r.table_name, r.key)).or_insert_with(|| (r.references, r.on_delete, Vec::new()));
        entry.2.push((r.position, r.column_name, r.referenced_column.unwrap_or_else(|| "<primary key>".into())));
    }
    for ((table, _), (references, on_delete, mut parts)) in by_key {
        parts.sort();
        let (columns, referenced_columns) = parts.into_iter().map(|(_, c, r)| (c, r)).unzip();
        tables.entry(table).or_default().foreign_keys.insert(ForeignKey {
            columns,
            references,
            referenced_columns,
            on_delete: on_delete.to_ascii_uppercase(),
        });
    }
    for (table, mut key) in keys {
        key.sort();
        let shape = tables.entry(table.clone()).or_default();
        shape.primary_key = key.into_iter().map(|(_, c)| c).collect();
        // A lone key declared INTEGER on SQLite is the rowid: a 64-bit number the database assigns, like a
        // BIGINT identity.
        if let [key_column] = shape.primary_key.as_slice()
            && sqlite
            && declared_integer.contains(&(table.clone(), key_column.clone()))
            && let Some(column) = shape.columns.iter_mut().find(|c| &c.name == key_column)
            && column.default.is_none()
        {
            column.default = Some("<generated>".into());
            column.data_type = "bigint".into();
        }
    }
    for r in checks {
        let Some(shape) = tables.get_mut(&r.table_name) else { continue };
        let names: BTreeSet<String> = shape.columns.iter().map(|c| c.name.to_ascii_lowercase()).collect();
        for clause in check_clauses(&r.definition) {
            shape.checks.insert(check_of(&clause, &names));
        }
    }
    for shape in tables.values_mut() {
        shape.columns.sort();
    }
    Ok(tables)
}

#[derive(QueryableByName)]
struct RowText {
    #[diesel(sql_type = Text)]
    row: String,
}

/// Every row of every table (the migrations' own table too), each as one
/// JSON array of its columns, sorted: two databases of one backend hold the
/// same data when these are equal.
pub fn every_row(conn: &mut DbConnection) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    let mut tables: Vec<(String, Vec<String>)> = snapshot(conn)?
        .into_iter()
        .map(|(table, shape)| (table, shape.columns.into_iter().map(|c| c.name).collect()))
        .collect();
    tables.push(("__diesel_schema_migrations".into(), vec!["version".into(), "run_on".into()]));
    let mut all = BTreeMap::new();
    for (table, columns) in tables {
        let list = columns.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ");
        let mut rows: Vec<String> = match conn {
            DbConnection::Sqlite(c) => {
                diesel::sql_query(format!("SELECT json_array({list}) AS row FROM \"{table}\"")).load::<RowText>(c)?
            }
            DbConnection::Postgresql(c) => {
                diesel::sql_query(format!("SELECT json_build_array({list})::text AS row FROM \"{table}\""))
                    .load::<RowText>(c)?
            }
        }
        .into_iter()
        .map(|r| r.row)
        .collect();
        rows.sort();
        all.insert(table, rows);
    }
    Ok(all)
}
