//! The client's pages: the dashboard of their matters and a matter's page.
//!
//! A client with exactly one open matter goes straight from `/` to it. The
//! matter page answers the client's three questions on the first screen —
//! where the case is and what happens next, what the firm needs (with one
//! "Upload now"), and whom to call — and a signed-out visit to it returns
//! there after sign-in.

use std::borrow::Cow;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{get, web};
use serde::Serialize;
use shared::client_view::{self, ContactView, MatterDetail, PhaseView, StepState};
use shared::documents::DocumentView;
use shared::domain::{DocumentSource, MilestoneKind};
use shared::error::Error;
use shared::matter_page::{LATEST_MESSAGES, Loaded, MatterPage, Wanted, load, load_since};

use crate::page_cache::KeptPage;
use crate::pages::{PageCtx, PageResult};
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
    /// Replies from the legal team not read yet.
    unread: i64,
    updated: String,
}

#[derive(Serialize)]
struct Dashboard<'a> {
    title: String,
    matters: Vec<MatterCard<'a>>,
}

#[get("/")]
async fn dashboard(ctx: PageCtx) -> PageResult {
    let viewer = ctx.require_user()?.clone();
    if crate::routes::staff::is_staff(&viewer.user) {
        return Ok(crate::pages::see_other("/staff"));
    }
    let (lang, user) = (ctx.lang, viewer.user);
    let (matters, unread) = ctx
        .state
        .db
        .run(move |conn| {
            Ok((client_view::my_matters(conn, &user, lang)?, shared::messages::unread_replies(conn, &user.id)?))
        })
        .await?;
    if let Some(only) = only_open(&matters) {
        return Ok(crate::pages::see_other(&format!("/matters/{only}")));
    }
    let matters = matters
        .iter()
        .map(|m| MatterCard {
            id: &m.id,
            title: &m.title,
            phase_title: &m.phase_title,
            phase_position: m.phase_position,
            phase_total: m.phase_total,
            open_requests: m.open_requests,
            unread: unread.get(&m.id).copied().unwrap_or(0),
            updated: ctx.date(m.updated_at),
        })
        .collect();
    // Unread replies name the tab too: "(2) My cases".
    let total: i64 = unread.values().sum();
    let title = match total {
        0 => ctx.text("dashboard-title"),
        n => format!("({n}) {}", ctx.text("dashboard-title")),
    };
    Ok(ctx.render(StatusCode::OK, "dashboard", "dashboard-title", Dashboard { title, matters }))
}

/// The id of the one open matter among `matters`, if exactly one is open.
fn only_open(matters: &[client_view::MatterSummary]) -> Option<&str> {
    let mut open = matters.iter().filter(|m| m.closed_at.is_none());
    match (open.next(), open.next()) {
        (Some(only), None) => Some(&only.id),
        _ => None,
    }
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
    /// "Friday, January 8", in the page's language.
    due: Option<String>,
    overdue: bool,
}

/// A line of the matter's timeline.
#[derive(Serialize)]
struct TimelineLine<'a> {
    label_key: String,
    phase: &'a str,
    /// Text put into the label (an appointment's place, a request's title, the files received).
    body: Cow<'a, str>,
    /// A client note's text, shown apart from its label.
    note: Option<&'a str>,
    /// How many documents a "documents received" line names.
    count: usize,
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
    /// How many documents the firm still needs.
    open_count: usize,
    /// Where "Upload now" goes: the upload page, for the first open request if there is one.
    upload_href: String,
    milestones: Vec<TimelineLine<'a>>,
    contact: &'a Option<ContactView>,
    documents: Vec<DocumentLine<'a>>,
    /// Whether the upload links are shown (else: the matter is closed to uploads).
    accepts_uploads: bool,
    /// The latest messages of the conversation (oldest of them first).
    messages: Vec<crate::routes::messages::MessageLine>,
    /// Messages in the conversation in all.
    message_count: usize,
    /// The conversation has more than the page shows.
    more_messages: bool,
    /// Replies that were unread when the page was opened.
    unread: usize,
    /// The compose form, as it starts.
    compose: crate::routes::messages::Compose<'a>,
}

#[derive(Serialize)]
struct MatterPageView<'a> {
    matter: MatterView<'a>,
    /// Upcoming appointments and the latest visits the treatment log holds.
    care: Care,
}

/// The case page's "appointments and treatment" panel.
#[derive(Serialize)]
struct Care {
    appointments: Vec<crate::routes::treatment::AppointmentLine>,
    visits: Vec<crate::routes::treatment::VisitLine>,
}

/// What the matter page answers with.
enum Shown {
    /// The page rendered before: the matter is unchanged since.
    Kept(Arc<KeptPage>),
    /// The matter as read now.
    Read(Box<MatterPage>),
}

#[get("/matters/{id}")]
async fn matter_page(signed_in: SignedIn, path: web::Path<String>) -> PageResult {
    // The busiest page. Holding it (`crate::page_cache`): one small statement checks
    // the session, the client's access and the matter's version, and a second reads
    // the matter only if it changed. Holding nothing: one statement does it all.
    let id = path.into_inner();
    let pages = signed_in.state().pages.clone();
    let matter_id = id.clone();
    let checked = signed_in
        .run_checked(move |conn, tokens, token| {
            let now = shared::domain::now();
            let mut kept = None;
            let (viewer, loaded) = load_since(conn, tokens, token, &id, Wanted::Page, now, |user_id| {
                kept = pages.get(&id, user_id).filter(|k| k.stamp.current(now));
                kept.as_ref().map(|k| k.stamp.version)
            })?;
            let shown = loaded.and_then(|loaded| match (loaded, kept) {
                (Loaded::Unchanged { .. }, Some(kept)) if kept.stamp.language == viewer.user.language => {
                    Ok(Shown::Kept(kept))
                }
                (Loaded::Read(page), _) => Ok(Shown::Read(page)),
                // Kept in another language than the client's now: read the matter after all.
                (Loaded::Unchanged { .. }, _) => {
                    load(conn, tokens, token, &id, Wanted::Page, now)?.1.map(|p| Shown::Read(Box::new(p)))
                }
            });
            // The page shows the latest replies: they are read (a write only when some were not).
            let shown = shown.and_then(|shown| {
                if let Shown::Read(page) = &shown
                    && page.unread > 0
                {
                    shared::messages::mark_read_by_client(conn, &page.detail.id, now)?;
                }
                Ok(shown)
            });
            Ok((viewer, shown))
        })
        .await;
    let (ctx, loaded) = PageCtx::checked(&signed_in, checked);
    let shown = match loaded {
        // Signed out: to the sign-in, which brings the client back here.
        Err(Error::Unauthenticated) => return Ok(crate::routes::sign_in::to_sign_in(&ctx.state, &ctx.path)),
        other => other?,
    };
    let page = match shown {
        Shown::Kept(kept) => {
            ctx.state.pages.answered();
            let frame = ctx.frame_value(&kept.title)?;
            return Ok(ctx.answer_parts(StatusCode::OK, &kept.parts, &frame));
        }
        Shown::Read(page) => *page,
    };
    ctx.state.pages.rendered();
    let MatterPage { stamp, detail, documents, messages, message_count, unread, appointments, visits } = page;
    let title = match unread {
        0 => detail.title.clone(),
        n => format!("({n}) {}", detail.title),
    };
    let mut matter = matter_view(&ctx, &detail, &documents);
    matter.message_count = message_count;
    matter.more_messages = message_count > LATEST_MESSAGES;
    matter.unread = unread;
    matter.messages = crate::routes::messages::lines(&ctx, &detail.id, messages);
    let care = Care {
        appointments: crate::routes::treatment::appointment_lines(&ctx, appointments),
        visits: crate::routes::treatment::visit_lines(&ctx, visits),
    };
    let parts = ctx.render_parts("matter", &title, MatterPageView { matter, care })?;
    let answer = ctx.answer_parts(StatusCode::OK, &parts, &parts.frame);
    // A page with unread replies is out of date at once: they were just marked read.
    if let (0, Some(viewer)) = (unread, &ctx.viewer) {
        ctx.state.pages.put(&matter_id, &viewer.user.id, KeptPage { stamp, title, parts });
    }
    Ok(answer)
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
    let open_requests: Vec<Need> = detail
        .open_requests
        .iter()
        .map(|r| Need {
            id: &r.id,
            title: &r.title,
            details: r.details.as_deref(),
            requested: ctx.date(r.requested_at),
            due: r.due_date.map(|d| ctx.state.renderer.locales().day(ctx.lang, d)),
            overdue: r.overdue,
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
            let body = if note.is_some() { "" } else { m.body.as_deref().unwrap_or_default() };
            // One upload is one line, naming each file it brought.
            let (label_key, body, count) = match m.kind {
                MilestoneKind::DocumentReceived => {
                    let names = shared::documents::received_names(body);
                    ("milestone-documents-received".to_owned(), Cow::Owned(names.join(", ")), names.len())
                }
                kind => (format!("milestone-{kind}"), Cow::Borrowed(body), 0),
            };
            TimelineLine {
                label_key,
                phase: m.phase_title.as_deref().unwrap_or_default(),
                body,
                count,
                note,
                occurs: m.occurs_at.map(|t| ctx.date(t)),
                at: ctx.date(m.created_at),
                at_iso: m.created_at.and_utc().to_rfc3339(),
            }
        })
        .collect();
    let upload_href = match detail.open_requests.first() {
        Some(request) => format!("/matters/{}/upload?request={}", detail.id, request.id),
        None => format!("/matters/{}/upload", detail.id),
    };
    MatterView {
        id: &detail.id,
        title: &detail.title,
        updated: ctx.date(detail.updated_at),
        phase: &detail.phase,
        phase_total: detail.phases.len(),
        phases,
        open_count: open_requests.len(),
        open_requests,
        upload_href,
        milestones,
        contact: &detail.contact,
        documents,
        accepts_uploads: detail.accepts_uploads,
        messages: Vec::new(),
        message_count: 0,
        more_messages: false,
        unread: 0,
        compose: crate::routes::messages::Compose::new(&ctx.state, &detail.id, Default::default()),
    }
}
