//! Sliding-window attempt limits kept in the database (`rate_limit_hits`), so
//! that several portal instances enforce one limit and a restart forgets nothing.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::schema::rate_limit_hits;
use crate::db::{DbConnection, lock_key, write_transaction};
use crate::domain::new_id;
use crate::error::Result;

/// A limit: at most `max` hits per `window`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Hits allowed within the window.
    pub max: i64,
    /// The window's length.
    pub window: Duration,
}

/// Sign-in requests per email address.
pub const SIGN_IN_PER_ADDRESS: Limit = Limit { max: 5, window: Duration::minutes(15) };
/// Sign-in requests per IP address: higher, since a household or an office shares one address.
pub const SIGN_IN_PER_IP: Limit = Limit { max: 20, window: Duration::minutes(15) };

/// A bucket name that does not store the identifying value itself (an email address).
pub fn bucket(kind: &str, value: &str) -> String {
    let digest = Sha256::digest(value.trim().to_lowercase().as_bytes());
    format!("{kind}:{}", hex::encode(&digest[..16]))
}

/// Records a hit in `bucket` at `t` if the limit allows it; false when the limit is reached
/// (the refused attempt is not recorded, so waiting out the window always helps).
///
/// The count and the insert are one write transaction, and on PostgreSQL the
/// bucket is locked for it, so parallel requests cannot all count the same
/// hits and all pass. Call it outside a transaction.
pub fn try_hit(conn: &mut DbConnection, bucket: &str, limit: Limit, t: NaiveDateTime) -> Result<bool> {
    write_transaction(conn, |conn| {
        lock_key(conn, bucket)?;
        let recent: i64 = rate_limit_hits::table
            .filter(rate_limit_hits::bucket.eq(bucket))
            .filter(rate_limit_hits::created_at.gt(t - limit.window))
            .count()
            .get_result(conn)?;
        if recent >= limit.max {
            return Ok(false);
        }
        record(conn, bucket, t)?;
        Ok(true)
    })
}

/// Records a hit in `bucket` at `t` without a limit; returns the hit's id (to [`forget`] it).
/// Hits older than a day are removed on the way: they are no use to anyone.
pub fn record(conn: &mut DbConnection, bucket: &str, t: NaiveDateTime) -> Result<String> {
    let id = new_id();
    diesel::insert_into(rate_limit_hits::table)
        .values((rate_limit_hits::id.eq(&id), rate_limit_hits::bucket.eq(bucket), rate_limit_hits::created_at.eq(t)))
        .execute(conn)?;
    diesel::delete(
        rate_limit_hits::table
            .filter(rate_limit_hits::bucket.eq(bucket))
            .filter(rate_limit_hits::created_at.lt(t - Duration::days(1))),
    )
    .execute(conn)?;
    Ok(id)
}

/// The hits of `bucket` after `since`: how many, and the latest one's time.
pub fn hits_since(conn: &mut DbConnection, bucket: &str, since: NaiveDateTime) -> Result<(i64, Option<NaiveDateTime>)> {
    let (count, latest) = rate_limit_hits::table
        .filter(rate_limit_hits::bucket.eq(bucket))
        .filter(rate_limit_hits::created_at.gt(since))
        .select((diesel::dsl::count_star(), diesel::dsl::max(rate_limit_hits::created_at)))
        .first::<(i64, Option<NaiveDateTime>)>(conn)?;
    Ok((count, latest))
}

/// Removes one hit recorded by [`record`].
pub fn forget(conn: &mut DbConnection, id: &str) -> Result<()> {
    diesel::delete(rate_limit_hits::table.find(id)).execute(conn)?;
    Ok(())
}

/// Removes every hit of the buckets whose names start with `prefix`; returns how many.
pub fn clear(conn: &mut DbConnection, prefix: &str) -> Result<usize> {
    let pattern = format!("{}%", prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    Ok(diesel::delete(rate_limit_hits::table.filter(rate_limit_hits::bucket.like(pattern).escape('\\')))
        .execute(conn)?)
}
