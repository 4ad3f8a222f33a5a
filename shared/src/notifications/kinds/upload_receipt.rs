//! The upload receipt: "we received your documents", queued when a client's
//! documents are stored.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::client_view::ContactView;
use crate::db::DbConnection;
use crate::db::models::{Firm, Notification, User};
use crate::db::schema::{firms, matters, notifications, users};
use crate::domain::{Channel, NotificationKind};
use crate::error::{Error, Result};
use crate::notifications::compose::{Composed, Composer};
use crate::notifications::look;
use crate::notifications::queue::one_off;

/// What the receipt lists, stored as the notification's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Receipt {
    /// The matter the documents belong to.
    pub matter_id: String,
    /// (file name, human-readable size) of each stored document.
    pub files: Vec<(String, String)>,
}

/// Queues a receipt for `client_id`; returns the notification's id.
pub fn enqueue(
    conn: &mut DbConnection,
    firm_id: &str,
    client_id: &str,
    receipt: &Receipt,
    now: NaiveDateTime,
) -> Result<String> {
    let payload = serde_json::to_string(receipt).map_err(|e| Error::Internal(e.into()))?;
    let row = one_off(firm_id, client_id, NotificationKind::UploadReceipt, Channel::Email, Some(payload), now);
    diesel::insert_into(notifications::table).values(&row).execute(conn)?;
    Ok(row.id)
}

/// The email for a queued receipt row, sent at `now`, with the client's one-tap link.
pub fn compose(
    conn: &mut DbConnection,
    composer: &Composer,
    row: &Notification,
    now: NaiveDateTime,
) -> Result<Composed> {
    let receipt: Receipt = serde_json::from_str(row.payload.as_deref().unwrap_or_default())
        .map_err(|e| Error::Internal(anyhow::anyhow!("receipt payload: {e}")))?;
    let Some(client) = users::table.find(&row.recipient_id).select(User::as_select()).first(conn).optional()? else {
        return Ok(Composed::Skip("the recipient no longer exists"));
    };
    let firm: Firm = firms::table.find(&client.firm_id).select(Firm::as_select()).first(conn)?;
    let (matter_title, case_manager): (String, Option<String>) =
        matters::table.find(&receipt.matter_id).select((matters::title, matters::case_manager_id)).first(conn)?;
    let contact: Option<ContactView> = match case_manager {
        Some(id) => users::table
            .find(id)
            .select((users::full_name, users::phone, users::email))
            .first::<(String, Option<String>, String)>(conn)
            .optional()?
            .map(|(name, phone, email)| ContactView { name, phone, email }),
        None => None,
    };
    let mut data = data(composer, &client, &firm, &matter_title, &receipt);
    look::with_logo(conn, &composer.base_url, &firm, &mut data)?;
    crate::one_tap::personalise_email(conn, composer, &firm, &client, &row.id, &mut data, now)?;
    composer.notice(row, &client, &firm, "upload_receipt", &data, look::reply_to(&firm, contact.as_ref()))
}

/// The template data of a receipt for `receipt`, on the matter titled `matter_title`.
pub fn data(composer: &Composer, client: &User, firm: &Firm, matter_title: &str, receipt: &Receipt) -> Value {
    let portal_url = format!("{}/matters/{}", composer.base_url, receipt.matter_id);
    let files: Vec<_> = receipt.files.iter().map(|(name, size)| json!({ "name": name, "size": size })).collect();
    json!({
        "lang": client.language.as_str(),
        "firm": firm.name,
        "brand": look::brand_data(&composer.base_url, &look::brand_of_firm(firm), None),
        "name": client.full_name,
        "first_name": look::first_name(&client.full_name),
        "matter": matter_title,
        "file_count": files.len(),
        "files": files,
        "short": { "open": portal_url },
        "portal_url": portal_url,
    })
}
