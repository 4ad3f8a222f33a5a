//! Leftovers in storage — parts of an aborted multipart upload, or an object
//! whose database row could not be written — that storage was too unreachable
//! to remove at the time. They are recorded here and removed by a sweep that
//! the portal runs periodically, so an outage leaves nothing behind for long.

use diesel::prelude::*;
use shared::db::Db;
use shared::db::schema::storage_cleanup;
use shared::domain::{new_id, now};
use shared::error::Result;

use crate::{Leftover, Storage};

/// Records a leftover to remove later.
pub async fn remember(db: &Db, leftover: Leftover) -> Result<()> {
    db.run(move |conn| {
        diesel::insert_into(storage_cleanup::table)
            .values((
                storage_cleanup::id.eq(new_id()),
                storage_cleanup::object_key.eq(&leftover.key),
                storage_cleanup::upload_id.eq(&leftover.upload_id),
                storage_cleanup::attempts.eq(0),
                storage_cleanup::created_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(())
    })
    .await
}

/// Tries to remove every recorded leftover; returns (removed, still left).
pub async fn sweep(db: &Db, storage: &Storage) -> Result<(usize, usize)> {
    let rows: Vec<(String, String, Option<String>)> = db
        .run(|conn| {
            Ok(storage_cleanup::table
                .order(storage_cleanup::created_at)
                .limit(500)
                .select((storage_cleanup::id, storage_cleanup::object_key, storage_cleanup::upload_id))
                .load(conn)?)
        })
        .await?;
    let (mut removed, mut left) = (0, 0);
    for (id, key, upload_id) in rows {
        let outcome = storage.remove_leftover(&Leftover { key, upload_id }).await.map_err(|e| e.to_string());
        let recorded = outcome.clone();
        db.run(move |conn| {
            match &recorded {
                Ok(()) => diesel::delete(storage_cleanup::table.find(&id)).execute(conn)?,
                Err(e) => diesel::update(storage_cleanup::table.find(&id))
                    .set((
                        storage_cleanup::attempts.eq(storage_cleanup::attempts + 1),
                        storage_cleanup::last_error.eq(e),
                    ))
                    .execute(conn)?,
            };
            Ok(())
        })
        .await?;
        match outcome {
            Ok(()) => removed += 1,
            Err(_) => left += 1,
        }
    }
    if removed + left > 0 {
        tracing::info!(removed, left, "storage cleanup sweep");
    }
    Ok((removed, left))
}
