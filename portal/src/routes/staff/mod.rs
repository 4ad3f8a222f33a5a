//! The firm's side: staff sign-in, pages and the `/api/v1/staff` JSON API.

pub mod api;
pub mod insights;
pub mod messages;
pub mod pages;
pub mod settings;
pub mod sign_in;
pub mod treatment;

use actix_web::HttpRequest;
use shared::db::models::User;
use shared::staff::Staff;

use crate::pages::{PageCtx, PageError};
use crate::routes::ApiConfig;

/// Registers the staff routes: sign-in and pages, then the API (with its descriptions).
pub fn configure(cfg: &mut ApiConfig) {
    cfg.map(|cfg| {
        cfg.configure(sign_in::configure)
            .configure(pages::configure)
            .configure(messages::configure)
            .configure(settings::configure)
            .configure(treatment::configure)
            .configure(insights::configure)
    });
    api::configure(cfg);
    messages::configure_api(cfg);
    insights::configure_api(cfg);
    treatment::configure_api(cfg);
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
