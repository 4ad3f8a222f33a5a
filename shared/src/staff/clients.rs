//! Clients of the firm: list, read, create, update.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Staff, firm_user, optional_line, required, unique_or, validate_email};
use crate::db::models::User;
use crate::db::schema::{matter_clients, users};
use crate::db::{DbConnection, write_transaction};
use crate::domain::{Language, Role};
use crate::error::{Error, Result};

/// A client as staff see them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientView {
    /// User id.
    pub id: String,
    /// Full name.
    pub full_name: String,
    /// Email address (where sign-in links and updates go).
    pub email: String,
    /// Phone number.
    pub phone: Option<String>,
    /// Language tag: `en`, `es` or one the firm added.
    pub language: crate::domain::Language,
    /// Whether the client gets the weekly update.
    pub weekly_updates: bool,
    /// Ids of the client's matters.
    pub matter_ids: Vec<String>,
    /// When the client was added (UTC).
    pub created_at: NaiveDateTime,
}

/// A new client.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewClient {
    /// Full name.
    pub full_name: String,
    /// Email address.
    pub email: String,
    /// Phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// Language tag: `en` (default), `es` or one the firm added.
    #[serde(default)]
    pub language: Option<String>,
}

/// Changes to a client; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ClientPatch {
    /// Full name.
    #[serde(default)]
    pub full_name: Option<String>,
    /// Email address.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone number; an empty string removes it.
    #[serde(default)]
    pub phone: Option<String>,
    /// Language tag: `en`, `es` or one the firm added.
    #[serde(default)]
    pub language: Option<String>,
    /// Weekly update on or off.
    #[serde(default)]
    pub weekly_updates: Option<bool>,
}

diesel::define_sql_function!(
    /// SQL `lower()`, on both backends (PostgreSQL's `LIKE` is case-sensitive).
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text
);

/// A loaded language's tag (`en`, `es` or an added one), else an error naming
/// `language` and listing the loaded ones.
pub fn parse_language(value: &str) -> Result<Language> {
    Language::parse(value.trim()).ok_or_else(|| {
        Error::invalid(
            "language",
            format!("must be a loaded language ({}), not \"{}\"", Language::loaded_list(), value.trim()),
        )
    })
}

fn views(conn: &mut DbConnection, people: Vec<User>) -> Result<Vec<ClientView>> {
    let ids: Vec<&str> = people.iter().map(|u| u.id.as_str()).collect();
    let links: Vec<(String, String)> = matter_clients::table
        .filter(matter_clients::client_id.eq_any(&ids))
        .select((matter_clients::client_id, matter_clients::matter_id))
        .load(conn)?;
    Ok(people
        .into_iter()
        .map(|u| ClientView {
            matter_ids: links.iter().filter(|(c, _)| *c == u.id).map(|(_, m)| m.clone()).collect(),
            id: u.id,
            full_name: u.full_name,
            email: u.email,
            phone: u.phone,
            language: u.language,
            weekly_updates: u.weekly_updates,
            created_at: u.created_at,
        })
        .collect())
}

/// Clients of the firm by name, optionally those whose name or email contains `search`.
pub fn list(
    conn: &mut DbConnection,
    staff: &Staff,
    search: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<ClientView>> {
    let mut query =
        users::table.filter(users::firm_id.eq(&staff.firm_id)).filter(users::role.eq(Role::Client)).into_boxed();
    if let Some(term) = search.map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = format!("%{}%", term.to_lowercase().replace(['%', '_'], ""));
        query = query.filter(users::email.like(pattern.clone()).or(lower(users::full_name).like(pattern)));
    }
    let people = query
        .order((users::full_name, users::id))
        .limit(limit.clamp(1, 500))
        .offset(offset.max(0))
        .select(User::as_select())
        .load(conn)?;
    views(conn, people)
}

/// One client of the firm.
pub fn get(conn: &mut DbConnection, staff: &Staff, client_id: &str) -> Result<ClientView> {
    let client = firm_user(conn, staff, client_id, &[Role::Client])?;
    views(conn, vec![client])?.pop().ok_or(Error::NotFound)
}

/// Adds a client to the firm.
pub fn create(conn: &mut DbConnection, staff: &Staff, input: &NewClient, now: NaiveDateTime) -> Result<ClientView> {
    let name = required("full_name", &input.full_name)?;
    let email = validate_email(&input.email)?;
    let language = input.language.as_deref().map(parse_language).transpose()?.unwrap_or(Language::EN);
    let mut client = User::new(&staff.firm_id, Role::Client, &email, &name, language, now);
    client.phone = optional_line("phone", input.phone.as_deref())?;
    write_transaction(conn, |conn| {
        diesel::insert_into(users::table)
            .values(&client)
            .execute(conn)
            .map_err(|e| unique_or(e, format!("email: {email} already belongs to someone at this firm")))?;
        staff.audit(conn, "client.create", "user", &client.id, None, now)
    })?;
    get(conn, staff, &client.id)
}

/// Changes a client's details.
pub fn update(
    conn: &mut DbConnection,
    staff: &Staff,
    client_id: &str,
    patch: &ClientPatch,
    now: NaiveDateTime,
) -> Result<ClientView> {
    let name = patch.full_name.as_deref().map(|n| required("full_name", n)).transpose()?;
    let email = patch.email.as_deref().map(validate_email).transpose()?;
    let language = patch.language.as_deref().map(parse_language).transpose()?;
    let phone = patch.phone.as_deref().map(|p| optional_line("phone", Some(p))).transpose()?;
    write_transaction(conn, |conn| {
        let client = firm_user(conn, staff, client_id, &[Role::Client])?;
        let mut changed = Vec::new();
        if let Some(name) = &name {
            diesel::update(users::table.find(&client.id)).set(users::full_name.eq(name)).execute(conn)?;
            changed.push("full_name");
        }
        if let Some(email) = &email {
            diesel::update(users::table.find(&client.id))
                .set(users::email.eq(email))
                .execute(conn)
                .map_err(|e| unique_or(e, format!("email: {email} already belongs to someone at this firm")))?;
            changed.push("email");
        }
        if let Some(language) = language {
            diesel::update(users::table.find(&client.id)).set(users::language.eq(language.as_str())).execute(conn)?;
            changed.push("language");
        }
        if let Some(phone) = &phone {
            diesel::update(users::table.find(&client.id)).set(users::phone.eq(phone)).execute(conn)?;
            changed.push("phone");
        }
        if let Some(on) = patch.weekly_updates {
            diesel::update(users::table.find(&client.id)).set(users::weekly_updates.eq(on)).execute(conn)?;
            changed.push("weekly_updates");
        }
        if !changed.is_empty() {
            diesel::update(users::table.find(&client.id)).set(users::updated_at.eq(now)).execute(conn)?;
            staff.audit(conn, "client.update", "user", &client.id, Some(changed.join(",")), now)?;
        }
        Ok(())
    })?;
    get(conn, staff, client_id)
}

/// The firm's staff, for "assign a case manager" choices.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffMember {
    /// User id.
    pub id: String,
    /// Full name.
    pub full_name: String,
    /// Email address.
    pub email: String,
    /// `admin` or `case_manager`.
    pub role: String,
}

/// Every staff member of the firm, by name.
pub fn staff_members(conn: &mut DbConnection, staff: &Staff) -> Result<Vec<StaffMember>> {
    Ok(users::table
        .filter(users::firm_id.eq(&staff.firm_id))
        .filter(users::role.ne(Role::Client))
        .order(users::full_name)
        .select((users::id, users::full_name, users::email, users::role))
        .load::<(String, String, String, String)>(conn)?
        .into_iter()
        .map(|(id, full_name, email, role)| StaffMember { id, full_name, email, role })
        .collect())
}
