//! Sliding-window attempt limits kept in the database (`rate_limit_hits`), so
//! that several portal instances enforce one limit and a restart forgets nothing.

use chrono::Duration;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::schema::rate_limit_hits;
use crate::db::{DbConnection, lock_key, write_transaction};
use crate::domain::{new_id, now};
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

/// Records a hit in `bucket` if the limit allows it; false when the limit is reached
/// (the refused attempt is not recorded, so waiting out the window always helps).
///
/// The count and the insert are one write transaction, and on PostgreSQL the
/// bucket is locked for it, so parallel requests cannot all count the same
/// hits and all pass. Call it outside a transaction.
pub fn try_hit(conn: &mut DbConnection, bucket: &str, limit: Limit) -> Result<bool> {
    write_transaction(conn, |conn| {
        lock_key(conn, bucket)?;
        let t = now();
        let recent: i64 = rate_limit_hits::table
            .filter(rate_limit_hits::bucket.eq(bucket))
            .filter(rate_limit_hits::created_at.gt(t - limit.window))
            .count()
            .get_result(conn)?;
        if recent >= limit.max {
            return Ok(false);
        }
        diesel::insert_into(rate_limit_hits::table)
            .values((
                rate_limit_hits::id.eq(new_id()),
                rate_limit_hits::bucket.eq(bucket),
                rate_limit_hits::created_at.eq(t),
            ))
            .execute(conn)?;
        // Old hits of this bucket are no use to anyone.
        diesel::delete(
            rate_limit_hits::table
                .filter(rate_limit_hits::bucket.eq(bucket))
                .filter(rate_limit_hits::created_at.lt(t - Duration::days(1))),
        )
        .execute(conn)?;
        Ok(true)
    })
}
