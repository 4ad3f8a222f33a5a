//! The firm's side: what staff read and change, always inside their own firm.
//!
//! Every function takes the acting [`Staff`] member. A record of another firm
//! is [`Error::NotFound`], exactly like one that does not exist; an admin-only
//! action by a case manager is [`Error::Forbidden`]. Every change appends an
//! audit event in the same write transaction as the change itself.
//!
//! - [`clients`], [`matters`], [`updates`]: people, matters, milestones and document requests.
//! - [`records`]: documents to review, the notification log, ratings and the audit log.
//! - [`settings`]: firm settings and the phase catalogue's texts.
//!
//! Staff sign-in (password + TOTP, lockout, new staff accounts) is the portal's `staff_auth`.

pub mod adoption;
pub mod clients;
pub mod insights;
pub mod matters;
pub mod records;
pub mod settings;
pub mod updates;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::audit::{self, Actor};
use crate::db::DbConnection;
use crate::db::models::{Matter, User};
use crate::db::schema::{self, users};
use crate::domain::Role;
use crate::error::{Error, Result};

/// The staff member acting, and where the request came from.
#[derive(Debug, Clone)]
pub struct Staff {
    /// User id.
    pub id: String,
    /// Their firm: the only one they can see.
    pub firm_id: String,
    /// `admin` or `case_manager`.
    pub role: Role,
    /// The request's IP address, for the audit log.
    pub ip: Option<String>,
}

impl Staff {
    /// The staff member behind a signed-in user; [`Error::Forbidden`] for a client.
    pub fn from_user(user: &User, ip: Option<String>) -> Result<Self> {
        match user.role {
            role if role.is_staff() => Ok(Self { id: user.id.clone(), firm_id: user.firm_id.clone(), role, ip }),
            _ => Err(Error::Forbidden),
        }
    }

    /// [`Error::Forbidden`] unless an admin.
    pub fn require_admin(&self) -> Result<()> {
        if self.role == Role::Admin { Ok(()) } else { Err(Error::Forbidden) }
    }

    /// Appends an audit event for this staff member's action on a record of their firm.
    pub fn audit(
        &self,
        conn: &mut DbConnection,
        action: &str,
        target_type: &str,
        target_id: &str,
        detail: Option<String>,
        now: NaiveDateTime,
    ) -> Result<()> {
        audit::append(
            conn,
            &audit::Event {
                firm_id: Some(&self.firm_id),
                actor: Actor::Staff(&self.id),
                action,
                target_type,
                target_id: Some(target_id),
                ip: self.ip.as_deref(),
                detail,
            },
            now,
        )
    }
}

/// The matter `matter_id` of the staff member's firm, or [`Error::NotFound`].
pub fn firm_matter(conn: &mut DbConnection, staff: &Staff, matter_id: &str) -> Result<Matter> {
    schema::matters::table
        .filter(schema::matters::id.eq(matter_id))
        .filter(schema::matters::firm_id.eq(&staff.firm_id))
        .select(Matter::as_select())
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)
}

/// The user `user_id` of the staff member's firm with one of `roles`, or [`Error::NotFound`].
pub fn firm_user(conn: &mut DbConnection, staff: &Staff, user_id: &str, roles: &[Role]) -> Result<User> {
    let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    users::table
        .filter(users::id.eq(user_id))
        .filter(users::firm_id.eq(&staff.firm_id))
        .filter(users::role.eq_any(roles))
        .select(User::as_select())
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)
}

/// The longest free text accepted (notes, request details).
pub const MAX_TEXT_CHARS: usize = 4000;
/// The longest title or name accepted.
pub const MAX_LINE_CHARS: usize = 200;

/// A required single-line value (a name, a title): trimmed, or a validation
/// error naming `field` when it is empty, too long, or holds a line break, a
/// control, text-direction or zero-width character ([`crate::text::line`]).
pub fn required(field: &'static str, value: &str) -> Result<String> {
    let value = crate::text::line(field, value)?;
    if value.is_empty() {
        return Err(Error::invalid(field, "is required"));
    }
    if value.chars().count() > MAX_LINE_CHARS {
        return Err(Error::invalid(field, format!("must be at most {MAX_LINE_CHARS} characters")));
    }
    Ok(value)
}

/// An optional single-line value (a phone number, an external id): trimmed,
/// `None` when blank, an error naming `field` when too long or holding what
/// [`crate::text::line`] refuses.
pub fn optional_line(field: &'static str, value: Option<&str>) -> Result<Option<String>> {
    let Some(value) = value else { return Ok(None) };
    let value = crate::text::line(field, value)?;
    if value.chars().count() > MAX_LINE_CHARS {
        return Err(Error::invalid(field, format!("must be at most {MAX_LINE_CHARS} characters")));
    }
    Ok((!value.is_empty()).then_some(value))
}

/// Optional free text (a note, a request's details): trimmed, line breaks
/// kept as `\n`, `None` when blank, an error naming `field` when too long or
/// holding what [`crate::text::multiline`] refuses.
pub fn optional_text(field: &'static str, value: Option<&str>) -> Result<Option<String>> {
    let Some(value) = value else { return Ok(None) };
    let value = crate::text::multiline(field, value)?;
    if value.chars().count() > MAX_TEXT_CHARS {
        return Err(Error::invalid(field, format!("must be at most {MAX_TEXT_CHARS} characters")));
    }
    Ok((!value.is_empty()).then_some(value))
}

/// The address normalised, or an error naming `email` when it does not look
/// like one (or holds a control, text-direction or zero-width character).
pub fn validate_email(email: &str) -> Result<String> {
    let email = crate::auth::normalize_email(&crate::text::line("email", email)?);
    if crate::auth::looks_like_email(&email) {
        Ok(email)
    } else {
        Err(Error::invalid("email", "is not an email address"))
    }
}

/// Maps a unique-constraint violation to a conflict with `message`.
pub fn unique_or(e: diesel::result::Error, message: impl Into<String>) -> Error {
    match e {
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
            Error::Conflict(message.into())
        }
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_and_normalised() {
        assert_eq!(validate_email(" Ana@Example.COM ").unwrap(), "ana@example.com");
        for bad in ["", "ana", "ana@", "@example.com", "ana@example", "an a@example.com", "a@b@c.com", "a@.com"] {
            assert!(validate_email(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn required_text_names_its_field() {
        let err = required("title", "   ").unwrap_err();
        assert_eq!(err.to_string(), "title: is required");
        assert!(required("title", &"x".repeat(MAX_LINE_CHARS + 1)).is_err());
        assert_eq!(optional_text("details", Some("  ")).unwrap(), None);
        assert_eq!(optional_line("phone", Some("  ")).unwrap(), None);
        assert_eq!(optional_text("details", Some("a\r\nb")).unwrap().as_deref(), Some("a\nb"));
        assert_eq!(
            required("title", "a\nb").unwrap_err().to_string(),
            "title: contains a line break (U+000A), which is not allowed here"
        );
        assert!(optional_line("phone", Some("555\n0100")).is_err());
        assert!(validate_email("ana\u{200B}@example.com").is_err());
    }
}
