//! The client's pages: the dashboard of their matters and a matter's page.

use actix_web::http::StatusCode;
use actix_web::{get, web};
use serde::Serialize;
use shared::client_view::{self, ContactView, MatterDetail, PhaseView, StepState};
use shared::documents::DocumentView;
use shared::domain::{DocumentSource, MilestoneKind};

use crate::pages::{LanguageHints, PageCtx, PageResult};
use crate::session::SignedIn;

/// Registers the client pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(dashboard).service(matter_page);
}

/// One matter on the dashboard.
#[derive(Serialize)]
struct MatterCard<'a> {
    id: &'a str,
    title: &'a str,
    phase_title: &'a str,
    phase_position: i32,
    phase_total: i32,
    open_requests: i64,
    updated: String,
}

#[derive(Serialize)]
struct Dashboard<'a> {
    matters: Vec<MatterCard<'a>>,
}

#[get("/")]
async fn dashboard(ctx: PageCtx) -> PageResult {
    let viewer = ctx.require_user()?.clone();
    if crate::routes::staff::is_staff(&viewer.user) {
        return Ok(crate::pages::see_other("/staff"));
    }
    let (lang, user) = (ctx.lang, viewer.user);
    let matters = ctx.state.db.run(move |conn| client_view::my_matters(conn, &user, lang)).await?;
    let matters = matters
        .iter()
        .map(|m| MatterCard {
            id: &m.id,
            title: &m.title,
            phase_title: &m.phase_title,
            phase_position: m.phase_position,
            phase_total: m.phase_total,
            open_requests: m.open_requests,
            updated: ctx.date(m.updated_at),
        })
        .collect();
    Ok(ctx.render(StatusCode::OK, "dashboard", "dashboard-title", Dashboard { matters }))
}

/// A document on the matter page.
#[derive(Serialize)]
struct DocumentLine<'a> {
    id: &'a str,
    name: &'a str,
    size: String,
    category_key: String,
    source: DocumentSource,
    at: String,
}

/// A step of the phase tracker.
#[derive(Serialize)]
struct Step<'a> {
    title: &'a str,
    state: &'static str,
}

/// A document the firm still needs.
#[derive(Serialize)]
struct Need<'a> {
    id: &'a str,
    title: &'a str,
    details: Option<&'a str>,
    requested: String,
}

/// A line of the matter's timeline.
#[derive(Serialize)]
struct TimelineLine<'a> {
    label_key: String,
    phase: &'a str,
    /// Text put into the label (an appointment's place, a request's title).
    body: &'a str,
    /// A client note's text, shown apart from its label.
    note: Option<&'a str>,
    occurs: Option<String>,
    at: String,
    at_iso: String,
}

#[derive(Serialize)]
struct MatterView<'a> {
    id: &'a str,
    title: &'a str,
    updated: String,
    phase: &'a PhaseView,
    phase_total: usize,
    phases: Vec<Step<'a>>,
    open_requests: Vec<Need<'a>>,
    milestones: Vec<TimelineLine<'a>>,
    contact: &'a Option<ContactView>,
    documents: Vec<DocumentLine<'a>>,
    /// Whether the upload links are shown (else: the matter is closed to uploads).
    accepts_uploads: bool,
}

#[derive(Serialize)]
struct MatterPage<'a> {
    /// The matter's own title names the page (it replaces the default title).
    title: &'a str,
    matter: MatterView<'a>,
}

#[get("/matters/{id}")]
async fn matter_page(signed_in: SignedIn, path: web::Path<String>) -> PageResult {
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
    let (detail, documents) = loaded?;
    let page = MatterPage { title: &detail.title, matter: matter_view(&ctx, &detail, &documents) };
    Ok(ctx.render(StatusCode::OK, "matter", "dashboard-title", page))
}

/// What the matter page shows of `detail` and its `documents`, with dates in the page's language.
fn matter_view<'a>(ctx: &PageCtx, detail: &'a MatterDetail, documents: &'a [DocumentView]) -> MatterView<'a> {
    let documents = documents
        .iter()
        .map(|d| DocumentLine {
            id: &d.id,
            name: &d.name,
            size: shared::documents::human_size(d.size_bytes),
            category_key: format!("doc-category-{}", d.category),
            source: d.source,
            at: ctx.date(d.created_at),
        })
        .collect();
    let phases = detail
        .phases
        .iter()
        .map(|p| Step {
            title: &p.title,
            state: match p.state {
                StepState::Done => "done",
                StepState::Current => "current",
                StepState::Upcoming => "upcoming",
            },
        })
        .collect();
    let open_requests = detail
        .open_requests
        .iter()
        .map(|r| Need {
            id: &r.id,
            title: &r.title,
            details: r.details.as_deref(),
            requested: ctx.date(r.requested_at),
        })
        .collect();
    let milestones = detail
        .milestones
        .iter()
        .map(|m| {
            // A note to the client, on its own or typed with a phase change, is shown as the firm wrote it.
            let note = match m.kind {
                MilestoneKind::ClientNote | MilestoneKind::PhaseChange => m.body.as_deref(),
                _ => None,
            };
            TimelineLine {
                label_key: format!("milestone-{}", m.kind),
                phase: m.phase_title.as_deref().unwrap_or_default(),
                body: if note.is_some() { "" } else { m.body.as_deref().unwrap_or_default() },
                note,
                occurs: m.occurs_at.map(|t| ctx.date(t)),
                at: ctx.date(m.created_at),
                at_iso: m.created_at.and_utc().to_rfc3339(),
            }
        })
        .collect();
    MatterView {
        id: &detail.id,
        title: &detail.title,
        updated: ctx.date(detail.updated_at),
        phase: &detail.phase,
        phase_total: detail.phases.len(),
        phases,
        open_requests,
        milestones,
        contact: &detail.contact,
        documents,
        accepts_uploads: detail.accepts_uploads,
    }
}
