//! The firm's side: staff sign-in, pages and the `/api/v1/staff` JSON API.

pub mod api;
pub mod pages;
pub mod sign_in;

use actix_web::{HttpRequest, web};
use shared::db::models::User;
use shared::staff::Staff;

use crate::pages::{PageCtx, PageError};

/// Registers the staff routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    sign_in::configure(cfg);
    pages::configure(cfg);
    api::configure(cfg);
}

/// True for an admin or case manager.
pub fn is_staff(user: &User) -> bool {
    user.role.is_staff()
}

/// The acting staff member of a page request, or the answer to give instead:
/// the staff sign-in page for nobody, 403 for a client.
pub fn staff_of(ctx: &PageCtx, req: &HttpRequest) -> Result<Staff, PageError> {
    match ctx.require_user() {
        Ok(viewer) => Ok(Staff::from_user(&viewer.user, crate::session::client_ip(req))?),
        Err(shared::Error::Unauthenticated) => Err(PageError::SeeOther("/staff/sign-in")),
        Err(e) => Err(e.into()),
    }
}
