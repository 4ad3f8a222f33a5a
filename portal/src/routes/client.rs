//! The client's pages: the dashboard of their matters and a matter's page.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use serde_json::json;
use shared::client_view::{self, StepState};

use crate::pages::{LanguageHints, PageCtx};
use crate::session::SignedIn;

/// Registers the client pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(dashboard).service(matter_page);
}

#[get("/")]
async fn dashboard(ctx: PageCtx) -> HttpResponse {
    let viewer = match ctx.require_user() {
        Ok(v) => v.clone(),
        Err(e) => return ctx.error(e),
    };
    if crate::routes::staff::is_staff(&viewer.user) {
        return crate::pages::see_other("/staff");
    }
    let lang = ctx.lang;
    let user = viewer.user.clone();
    let matters = match ctx.state.db.run(move |conn| client_view::my_matters(conn, &user, lang)).await {
        Ok(m) => m,
        Err(e) => return ctx.error(e),
    };
    let matters: Vec<_> = matters
        .iter()
        .map(|m| {
            json!({
                "id": m.id,
                "title": m.title,
                "phase_title": m.phase_title,
                "phase_position": m.phase_position,
                "phase_total": m.phase_total,
                "open_requests": m.open_requests,
                "updated": ctx.date(m.updated_at),
            })
        })
        .collect();
    ctx.render(StatusCode::OK, "dashboard", "dashboard-title", json!({ "matters": matters }))
}

#[get("/matters/{id}")]
async fn matter_page(signed_in: SignedIn, path: web::Path<String>) -> HttpResponse {
    // The busiest page: the session is checked in the same database trip as the page's data.
    let (hints, id) = (LanguageHints::of(signed_in.request()), path.into_inner());
    let checked = signed_in
        .run(move |conn, viewer| {
            let lang = hints.choose(Some(viewer.user.language));
            let detail = client_view::matter_detail(conn, &viewer.user, &id, lang)?;
            let documents = shared::documents::list_shown(conn, &detail)?;
            Ok((detail, documents))
        })
        .await;
    let (ctx, loaded) = PageCtx::checked(&signed_in, checked);
    let (detail, documents) = match loaded {
        Ok(found) => found,
        Err(e) => return ctx.error(e),
    };
    let documents: Vec<_> = documents
        .iter()
        .map(|d| {
            json!({
                "id": d.id,
                "name": d.name,
                "size": shared::documents::human_size(d.size_bytes),
                "category_key": format!("doc-category-{}", d.category),
                "source": d.source,
                "at": ctx.date(d.created_at),
            })
        })
        .collect();
    let phases: Vec<_> = detail
        .phases
        .iter()
        .map(|p| {
            let state = match p.state {
                StepState::Done => "done",
                StepState::Current => "current",
                StepState::Upcoming => "upcoming",
            };
            json!({ "title": p.title, "state": state })
        })
        .collect();
    let requests: Vec<_> = detail
        .open_requests
        .iter()
        .map(|r| json!({ "id": r.id, "title": r.title, "details": r.details, "requested": ctx.date(r.requested_at) }))
        .collect();
    let milestones: Vec<_> = detail
        .milestones
        .iter()
        .map(|m| {
            // A client note's text is shown apart from its label; other kinds put it into the label.
            let note = (m.kind == shared::domain::MilestoneKind::ClientNote).then(|| m.body.clone()).flatten();
            json!({
                "label_key": format!("milestone-{}", m.kind),
                "phase": m.phase_title.clone().unwrap_or_default(),
                "body": if note.is_some() { String::new() } else { m.body.clone().unwrap_or_default() },
                "note": note,
                "occurs": m.occurs_at.map(|t| ctx.date(t)),
                "at": ctx.date(m.created_at),
                "at_iso": m.created_at.and_utc().to_rfc3339(),
            })
        })
        .collect();
    let matter = json!({
        "id": detail.id,
        "title": detail.title,
        "updated": ctx.date(detail.updated_at),
        "phase": detail.phase,
        "phase_total": detail.phases.len(),
        "phases": phases,
        "open_requests": requests,
        "milestones": milestones,
        "contact": detail.contact,
        "documents": documents,
    });
    // The matter's own title names the page (it replaces the default title).
    ctx.render(StatusCode::OK, "matter", "dashboard-title", json!({ "title": detail.title, "matter": matter }))
}
