//! The audit log: who did what to which record, when and from where.
//! Append-only; each row carries the SHA-256 of its content and of the row
//! before it, so a changed or deleted row breaks the chain at that point.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::DbConnection;
use crate::db::schema::audit_events;
use crate::domain::ActorKind;
use crate::error::Result;

/// The `prev_hash` of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Rows read per query when verifying.
const VERIFY_BATCH: i64 = 1000;

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor<'a> {
    /// A signed-in client.
    Client(&'a str),
    /// A signed-in staff member.
    Staff(&'a str),
    /// Someone not signed in.
    Anonymous,
    /// Matterline itself (the notifier, an import).
    System,
}

impl Actor<'_> {
    fn parts(&self) -> (ActorKind, Option<String>) {
        match self {
            Self::Client(id) => (ActorKind::Client, Some((*id).to_owned())),
            Self::Staff(id) => (ActorKind::Staff, Some((*id).to_owned())),
            Self::Anonymous => (ActorKind::Anonymous, None),
            Self::System => (ActorKind::System, None),
        }
    }
}

/// An event to append.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// The firm the target belongs to.
    pub firm_id: Option<&'a str>,
    /// Who acted.
    pub actor: Actor<'a>,
    /// What they did, e.g. `document.upload`, `document.download`, `document.refused`.
    pub action: &'a str,
    /// The kind of record, e.g. `document`, `matter`.
    pub target_type: &'a str,
    /// The record's id.
    pub target_id: Option<&'a str>,
    /// The client's IP address.
    pub ip: Option<&'a str>,
    /// A short detail (never file contents or medical text).
    pub detail: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
struct NewRow {
    firm_id: Option<String>,
    actor_id: Option<String>,
    actor_kind: ActorKind,
    action: String,
    target_type: String,
    target_id: Option<String>,
    ip: Option<String>,
    detail: Option<String>,
    created_at: NaiveDateTime,
    prev_hash: String,
    hash: String,
}

/// The hash of a row: its fields in a fixed order, each length-prefixed, after the previous hash.
#[allow(clippy::too_many_arguments)]
fn row_hash(
    prev_hash: &str,
    firm_id: Option<&str>,
    actor_kind: &str,
    actor_id: Option<&str>,
    action: &str,
    target_type: &str,
    target_id: Option<&str>,
    ip: Option<&str>,
    detail: Option<&str>,
    created_at: NaiveDateTime,
) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    let at = created_at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
    for field in
        [firm_id, Some(actor_kind), actor_id, Some(action), Some(target_type), target_id, ip, detail, Some(&at)]
    {
        match field {
            Some(text) => {
                hasher.update((text.len() as u64).to_be_bytes());
                hasher.update(text.as_bytes());
            }
            None => hasher.update(u64::MAX.to_be_bytes()),
        }
    }
    hex::encode(hasher.finalize())
}

/// Appends `event`. Call it inside [`crate::db::write_transaction`], so the
/// append is part of the change it records and appends never interleave; on
/// PostgreSQL it also takes a transaction-scoped advisory lock for that.
pub fn append(conn: &mut DbConnection, event: &Event<'_>, now: NaiveDateTime) -> Result<()> {
    append_all(conn, std::slice::from_ref(event), now)
}

/// Appends `events` in order, chained as if appended one by one, with one
/// read of the last hash and one insert (for bulk changes such as an import).
/// Same rules as [`append`]: inside the write transaction of the change.
pub fn append_all(conn: &mut DbConnection, events: &[Event<'_>], now: NaiveDateTime) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    if let DbConnection::Postgresql(pg) = conn {
        // Any constant works; this one spells "AUDITLOG".
        diesel::sql_query("SELECT pg_advisory_xact_lock(4707362209002245959)").execute(pg)?;
    }
    let mut prev_hash: String = audit_events::table
        .order(audit_events::id.desc())
        .select(audit_events::hash)
        .first(conn)
        .optional()?
        .unwrap_or_else(|| GENESIS.to_owned());
    let mut rows = Vec::with_capacity(events.len());
    for event in events {
        let (actor_kind, actor_id) = event.actor.parts();
        let hash = row_hash(
            &prev_hash,
            event.firm_id,
            actor_kind.as_str(),
            actor_id.as_deref(),
            event.action,
            event.target_type,
            event.target_id,
            event.ip,
            event.detail.as_deref(),
            now,
        );
        rows.push(NewRow {
            firm_id: event.firm_id.map(str::to_owned),
            actor_id,
            actor_kind,
            action: event.action.to_owned(),
            target_type: event.target_type.to_owned(),
            target_id: event.target_id.map(str::to_owned),
            ip: event.ip.map(str::to_owned),
            detail: event.detail.clone(),
            created_at: now,
            prev_hash: std::mem::replace(&mut prev_hash, hash.clone()),
            hash,
        });
    }
    // Ids follow the order of the rows in one multi-row insert on both backends.
    crate::insert_many!(conn, audit_events::table, &rows)?;
    Ok(())
}

/// Appends `event` in its own write transaction.
pub fn record(conn: &mut DbConnection, event: &Event<'_>, now: NaiveDateTime) -> Result<()> {
    crate::db::write_transaction(conn, |conn| append(conn, event, now))
}

/// A row exactly as stored. The verifier reads the actor kind as text, not as
/// [`ActorKind`]: a tampered value must show as a broken chain, not fail the read.
#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_events)]
struct StoredRow {
    id: i64,
    firm_id: Option<String>,
    actor_id: Option<String>,
    actor_kind: String,
    action: String,
    target_type: String,
    target_id: Option<String>,
    ip: Option<String>,
    detail: Option<String>,
    created_at: NaiveDateTime,
    prev_hash: String,
    hash: String,
}

/// Checks the whole chain; the id of the first row whose hash or link is wrong, if any.
pub fn verify(conn: &mut DbConnection) -> Result<Option<i64>> {
    let mut expected_prev = GENESIS.to_owned();
    let mut after = i64::MIN;
    loop {
        let rows: Vec<StoredRow> = audit_events::table
            .filter(audit_events::id.gt(after))
            .order(audit_events::id)
            .limit(VERIFY_BATCH)
            .select(StoredRow::as_select())
            .load(conn)?;
        let Some(last) = rows.last() else { return Ok(None) };
        after = last.id;
        for row in &rows {
            let recomputed = row_hash(
                &row.prev_hash,
                row.firm_id.as_deref(),
                &row.actor_kind,
                row.actor_id.as_deref(),
                &row.action,
                &row.target_type,
                row.target_id.as_deref(),
                row.ip.as_deref(),
                row.detail.as_deref(),
                row.created_at,
            );
            if row.prev_hash != expected_prev || row.hash != recomputed {
                return Ok(Some(row.id));
            }
            expected_prev = row.hash.clone();
        }
    }
}
