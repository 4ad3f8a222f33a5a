//! Clients of the firm: list, read, create, update.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Staff, firm_user, optional_line, required, unique_or, validate_email};
use crate::db::models::User;
use crate::db::schema::{matter_clients, sms_consents, users};
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
    /// The client's text message consent, when they gave a mobile number.
    pub sms: Option<SmsConsentView>,
}

/// A client's consent to text messages, as staff see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SmsConsentView {
    /// Mobile number, E.164.
    pub number: String,
    /// Texts go to it now: opted in and not opted out.
    pub texts: bool,
    /// When the client opted in (UTC).
    pub opted_in_at: Option<NaiveDateTime>,
    /// How: `client` (their Notifications page), `staff` (on the client's word) or `keyword` (texted START).
    pub opt_in_source: Option<String>,
    /// When the client opted out (STOP, or the provider reported it) (UTC).
    pub opted_out_at: Option<NaiveDateTime>,
}

impl From<crate::db::models::SmsConsent> for SmsConsentView {
    fn from(c: crate::db::models::SmsConsent) -> Self {
        Self {
            texts: crate::notifications::sms::allows(&c),
            number: c.number,
            opted_in_at: c.opted_in_at,
            opt_in_source: c.opt_in_source,
            opted_out_at: c.opted_out_at,
        }
    }
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
    /// Mobile number for text messages (checked, stored in E.164).
    #[serde(default)]
    pub sms_number: Option<String>,
    /// The client told staff they want text messages (recorded with source `staff`).
    #[serde(default)]
    pub sms_opt_in: Option<bool>,
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
    /// Mobile number for text messages; an empty string removes it (and the consent with it).
    #[serde(default)]
    pub sms_number: Option<String>,
    /// Texts on (the client said so to staff) or off.
    #[serde(default)]
    pub sms_opt_in: Option<bool>,
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
    let mut consents: std::collections::HashMap<String, crate::db::models::SmsConsent> = sms_consents::table
        .filter(sms_consents::user_id.eq_any(&ids))
        .select(crate::db::models::SmsConsent::as_select())
        .load(conn)?
        .into_iter()
        .map(|c| (c.user_id.clone(), c))
        .collect();
    Ok(people
        .into_iter()
        .map(|u| ClientView {
            sms: consents.remove(&u.id).map(SmsConsentView::from),
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
    let sms = sms_change(input.sms_number.as_deref(), input.sms_opt_in)?;
    write_transaction(conn, |conn| {
        diesel::insert_into(users::table)
            .values(&client)
            .execute(conn)
            .map_err(|e| unique_or(e, format!("email: {email} already belongs to someone at this firm")))?;
        if let Some((number, opt_in)) = &sms {
            record_sms(conn, staff, &client.id, number.as_deref(), *opt_in, now)?;
        }
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
    let sms = sms_change(patch.sms_number.as_deref(), patch.sms_opt_in)?;
    write_transaction(conn, |conn| {
        let client = firm_user(conn, staff, client_id, &[Role::Client])?;
        let mut changed = Vec::new();
        if let Some((number, opt_in)) = &sms {
            // Only the opt-in given: the number on file stays.
            let kept = match number {
                Some(n) if n.is_empty() => None,
                Some(n) => Some(n.clone()),
                None => crate::notifications::sms::consent_of(conn, &client.id)?.map(|c| c.number),
            };
            if kept.is_none() && *opt_in && number.is_none() {
                return Err(Error::invalid("sms_number", "is needed before texts can be turned on"));
            }
            record_sms(conn, staff, &client.id, kept.as_deref(), *opt_in, now)?;
            changed.push("sms");
        }
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

/// A change of text message consent asked for: the number (`Some("")`
/// removes it, `None` keeps it), checked and in E.164, and whether texts are on.
/// `None` when neither field was given.
type SmsChange = Option<(Option<String>, bool)>;

fn sms_change(number: Option<&str>, opt_in: Option<bool>) -> Result<SmsChange> {
    if number.is_none() && opt_in.is_none() {
        return Ok(None);
    }
    let number = match number.map(str::trim) {
        Some("") => Some(String::new()),
        Some(n) => Some(crate::notifications::sms::parse_number("sms_number", n)?),
        None => None,
    };
    Ok(Some((number, opt_in.unwrap_or(false))))
}

/// Records a consent change staff made on the client's word (source `staff`), audited.
fn record_sms(
    conn: &mut DbConnection,
    staff: &Staff,
    client_id: &str,
    number: Option<&str>,
    opt_in: bool,
    now: NaiveDateTime,
) -> Result<()> {
    use crate::notifications::sms;
    let number = number.filter(|n| !n.is_empty());
    sms::set_consent(conn, client_id, number, opt_in && number.is_some(), sms::source::STAFF, now)?;
    let detail = if number.is_none() {
        "removed"
    } else if opt_in {
        "opted in"
    } else {
        "opted out"
    };
    staff.audit(conn, "client.sms_consent", "user", client_id, Some(detail.to_owned()), now)
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
