//! Staff pages (server-rendered, no JavaScript needed): the matters list with
//! filters, a new client and matter, a matter's page (its conversation with
//! the clients, timeline, post an update or phase change, request a document,
//! share a document with the client, review uploads) and firm settings.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, get, post, web};
use chrono::{NaiveDateTime, TimeZone};
use serde::{Deserialize, Serialize};
use shared::domain::{DocumentCategory, DocumentSource, MessageKind, RequestStatus, now};
use shared::staff::clients::{self, ClientPatch, NewClient, StaffMember};
use shared::staff::matters::{
    self, MatterFilter, NewMatter, PersonRef, PhaseChoice, SortColumn, StaffDocument, StaffMatter, StaffMilestone,
    StaffRequest,
};
use shared::staff::records::LogEntry;
use shared::staff::updates::{self, NewMilestone, NewRequest};
use shared::staff::{Staff, records};

use super::messages::{MessageLine, message_lines};
use super::staff_of;
use crate::pages::{PageCtx, PageResult, see_other};
use crate::routes::documents::ReceiptView;
use crate::upload::{self, Target};

/// Registers the staff pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(matters_page)
        .service(save_filter)
        .service(delete_filter)
        .service(new_matter_page)
        .service(create_matter)
        .service(matter_page)
        .service(post_milestone)
        .service(open_request)
        .service(cancel_request)
        .service(complete_request)
        .service(change_due_date)
        .service(share_documents)
        .service(review_document)
        .service(review_documents)
        .service(recategorise_document)
        .service(preview_document);
}

/// A validation problem shown on the page, naming the field; other errors as usual.
pub(super) fn invalid_page(ctx: &PageCtx, error: shared::Error, back: &str) -> PageResult {
    let (status, field, reason) = match error {
        shared::Error::Invalid { field, reason } => (StatusCode::UNPROCESSABLE_ENTITY, field, reason),
        shared::Error::Conflict(reason) => (StatusCode::CONFLICT, "", reason),
        other => return Err(other.into()),
    };
    Ok(ctx.render(status, "staff_invalid", "error-invalid-title", Invalid { field, reason: &reason, back }))
}

/// The page naming what was wrong with a form, and the way back to it.
#[derive(Serialize)]
struct Invalid<'a> {
    field: &'a str,
    reason: &'a str,
    back: &'a str,
}

/// A choice of a select box.
#[derive(Serialize)]
struct Choice<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label_key: Option<String>,
    selected: bool,
}

impl<'a> Choice<'a> {
    /// A phase of the catalogue.
    fn phase(key: &'a str, title: &'a str, selected: bool) -> Self {
        Self { id: None, key: Some(key), name: None, title: Some(title), label_key: None, selected }
    }

    /// A staff member.
    fn person(id: &'a str, name: &'a str, selected: bool) -> Self {
        Self { id: Some(id), key: None, name: Some(name), title: None, label_key: None, selected }
    }

    /// A document category.
    fn category(category: DocumentCategory) -> Self {
        Self {
            id: None,
            key: Some(category.as_str()),
            name: None,
            title: None,
            label_key: Some(format!("doc-category-{}", category.as_str())),
            selected: false,
        }
    }
}

/// The firm's time zone (UTC when unknown).
pub(super) fn time_zone(ctx: &PageCtx) -> chrono_tz::Tz {
    ctx.viewer.as_ref().and_then(|v| v.firm_time_zone.parse().ok()).unwrap_or(chrono_tz::UTC)
}

/// A date and time for staff, in the firm's time zone: "2026-11-28 14:05".
pub(super) fn when(ctx: &PageCtx, at: NaiveDateTime) -> String {
    at.and_utc().with_timezone(&time_zone(ctx)).format("%Y-%m-%d %H:%M").to_string()
}

/// The matters table's parameters in the URL; anything else is ignored.
#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    phase: Option<String>,
    /// A staff member's id, `mine` or `none`.
    #[serde(default)]
    case_manager: Option<String>,
    #[serde(default)]
    stale: Option<String>,
    #[serde(default)]
    unreviewed: Option<String>,
    #[serde(default)]
    overdue: Option<String>,
    treatment_gap: Option<String>,
    #[serde(default)]
    closed: Option<String>,
    #[serde(default)]
    q: Option<String>,
    /// A column of [`SortColumn`].
    #[serde(default)]
    sort: Option<String>,
    /// `asc` or `desc`.
    #[serde(default)]
    dir: Option<String>,
    /// What was just done, for the confirmation message.
    #[serde(default)]
    done: Option<String>,
}

impl ListQuery {
    fn checked(v: &Option<String>) -> bool {
        v.as_deref().is_some_and(|v| !v.is_empty())
    }

    /// The sort asked for (a whitelisted column, else the default) and its direction.
    fn sort(&self) -> (SortColumn, bool) {
        let column = self.sort.as_deref().and_then(SortColumn::parse).unwrap_or_default();
        let descending = match self.dir.as_deref() {
            Some("asc") => false,
            Some("desc") => true,
            _ => column.first_descending(),
        };
        (column, descending)
    }

    /// The filter and sort as a query string of whitelisted, normalised parameters
    /// (sorted by `sort` when given): what links and saved filters carry.
    fn to_query(&self, sort: Option<(SortColumn, bool)>) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        let mut text = |name: &str, v: &Option<String>| {
            if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                out.append_pair(name, v);
            }
        };
        text("q", &self.q);
        text("phase", &self.phase);
        text("case_manager", &self.case_manager);
        for (name, v) in [
            ("stale", &self.stale),
            ("unreviewed", &self.unreviewed),
            ("overdue", &self.overdue),
            ("treatment_gap", &self.treatment_gap),
            ("closed", &self.closed),
        ] {
            if Self::checked(v) {
                out.append_pair(name, "1");
            }
        }
        let (column, descending) = sort.unwrap_or_else(|| self.sort());
        if sort.is_some() || self.sort.is_some() {
            out.append_pair("sort", column.as_str());
            out.append_pair("dir", if descending { "desc" } else { "asc" });
        }
        out.finish()
    }

    /// The filter of the table.
    fn filter(&self) -> MatterFilter {
        MatterFilter {
            phase: self.phase.clone().filter(|p| !p.is_empty()),
            case_manager: self.case_manager.clone().filter(|c| !c.is_empty()),
            stale: Some(Self::checked(&self.stale)),
            unreviewed: Some(Self::checked(&self.unreviewed)),
            overdue: Some(Self::checked(&self.overdue)),
            treatment_gap: Some(Self::checked(&self.treatment_gap)),
            include_closed: Some(Self::checked(&self.closed)),
            q: self.q.clone(),
            limit: Some(200),
            offset: None,
        }
    }
}

/// The confirmation a page shows after an action: the locale key of a
/// whitelisted `?done=` value, never the text of the URL itself.
pub(super) fn done_key(done: Option<&str>) -> Option<String> {
    const DONE: [&str; 14] = [
        "phase-changed",
        "update-posted",
        "request-sent",
        "request-cancelled",
        "request-completed",
        "request-due-changed",
        "documents-shared",
        "reviewed",
        "recategorised",
        "filter-saved",
        "filter-deleted",
        "visit-logged",
        "appointment-scheduled",
        "appointment-cancelled",
    ];
    let done = done?;
    if let Some(k) = DONE.iter().find(|k| **k == done) {
        return Some(format!("staff-done-{k}"));
    }
    super::messages::DONE.iter().find(|k| **k == done).map(|k| format!("staff-msg-done-{k}"))
}

/// A header of the matters table: its label, the link that sorts by it, and
/// `aria-sort` when the table is sorted by it.
#[derive(Serialize)]
struct Column {
    label_key: &'static str,
    href: String,
    sorted: Option<&'static str>,
    numeric: bool,
}

/// A row of the matters table.
#[derive(Serialize)]
struct MatterLine<'a> {
    id: &'a str,
    title: &'a str,
    external_id: Option<&'a str>,
    client: Option<&'a str>,
    more_clients: i64,
    phase: &'a str,
    /// Whole days since the last weekly update sent; `None` when none was.
    days: Option<i64>,
    last_update: Option<String>,
    open_requests: i64,
    /// Open requests past their due date.
    overdue_requests: i64,
    to_review: i64,
    manager: Option<&'a str>,
    closed: bool,
    /// Days without a logged visit, when flagged for a gap in treatment.
    gap_days: Option<i64>,
}

/// A saved filter, as a link above the table.
#[derive(Serialize)]
struct SavedLink<'a> {
    id: &'a str,
    name: &'a str,
    href: String,
}

/// The matters table with its filters and the staff member's saved filters.
#[derive(Serialize)]
struct MattersPage<'a> {
    staff_nav: bool,
    done: Option<String>,
    columns: Vec<Column>,
    matters: Vec<MatterLine<'a>>,
    count: usize,
    phases: Vec<Choice<'a>>,
    team: Vec<Choice<'a>>,
    mine: bool,
    unassigned: bool,
    stale: bool,
    unreviewed: bool,
    overdue: bool,
    treatment_gap: bool,
    closed: bool,
    q: &'a str,
    /// The current filter and sort, for "save this filter".
    current: String,
    saved: Vec<SavedLink<'a>>,
}

/// The table's columns, in order: (column, locale key, numeric).
const COLUMNS: [(SortColumn, &str, bool); 7] = [
    (SortColumn::Client, "staff-col-client", false),
    (SortColumn::Matter, "staff-col-matter", false),
    (SortColumn::Phase, "staff-col-phase", false),
    (SortColumn::LastUpdate, "staff-col-days", true),
    (SortColumn::Requests, "staff-col-requests", true),
    (SortColumn::Review, "staff-col-review", true),
    (SortColumn::Manager, "staff-col-manager", false),
];

#[get("/staff")]
async fn matters_page(ctx: PageCtx, req: HttpRequest, query: web::Query<ListQuery>) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let query = query.into_inner();
    let filter = query.filter();
    let (sort, descending) = query.sort();
    let (lang, at) = (ctx.lang, now());
    let found = ctx
        .state
        .db
        .run(move |c| {
            let rows = matters::table(c, &staff, &filter, sort, descending, lang, at)?;
            let team = clients::staff_members(c, &staff)?;
            let phases = shared::catalogue::phases_in(c, &staff.firm_id, &[shared::catalogue::PERSONAL_INJURY], lang)?;
            let saved = matters::saved_filters(c, &staff)?;
            Ok((rows, team, phases, saved))
        })
        .await;
    let (rows, team, phases, saved) = match found {
        Ok(found) => found,
        Err(e) => return invalid_page(&ctx, e, "/staff"),
    };
    let matters: Vec<MatterLine> = rows
        .iter()
        .map(|m| MatterLine {
            id: &m.id,
            title: &m.title,
            external_id: m.external_id.as_deref(),
            client: m.client.as_deref(),
            more_clients: (m.clients - 1).max(0),
            phase: &m.phase_title,
            days: m.last_client_update.map(|t| (at - t).num_days().max(0)),
            last_update: m.last_client_update.map(|t| ctx.date(t)),
            open_requests: m.open_requests,
            overdue_requests: m.overdue_requests,
            to_review: m.to_review,
            manager: m.manager.as_deref(),
            closed: m.closed_at.is_some(),
            gap_days: m.treatment_gap_days,
        })
        .collect();
    let columns = COLUMNS
        .iter()
        .map(|&(column, label_key, numeric)| {
            let is_sorted = column == sort;
            let next = if is_sorted { !descending } else { column.first_descending() };
            Column {
                label_key,
                href: format!("/staff?{}", query.to_query(Some((column, next)))),
                sorted: is_sorted.then_some(if descending { "descending" } else { "ascending" }),
                numeric,
            }
        })
        .collect();
    let manager = query.case_manager.as_deref();
    let page = MattersPage {
        staff_nav: true,
        done: done_key(query.done.as_deref()),
        columns,
        count: matters.len(),
        matters,
        phases: phases
            .iter()
            .map(|(p, t)| Choice::phase(&p.key, &t.title, query.phase.as_deref() == Some(p.key.as_str())))
            .collect(),
        team: team.iter().map(|s| Choice::person(&s.id, &s.full_name, manager == Some(s.id.as_str()))).collect(),
        mine: manager == Some("mine"),
        unassigned: manager == Some("none"),
        stale: ListQuery::checked(&query.stale),
        unreviewed: ListQuery::checked(&query.unreviewed),
        overdue: ListQuery::checked(&query.overdue),
        treatment_gap: ListQuery::checked(&query.treatment_gap),
        closed: ListQuery::checked(&query.closed),
        q: query.q.as_deref().unwrap_or_default(),
        current: query.to_query(None),
        saved: saved
            .iter()
            .map(|s| SavedLink { id: &s.id, name: &s.name, href: format!("/staff?{}", s.query) })
            .collect(),
    };
    Ok(ctx.render(StatusCode::OK, "staff_matters", "staff-matters-title", page))
}

#[derive(Debug, Deserialize)]
struct SaveFilterForm {
    name: String,
    /// The table's query string when the form was shown; re-read through the whitelist.
    #[serde(default)]
    query: String,
}

/// Saves the table's current filter and sort under a name, for this staff member only.
#[post("/staff/filters")]
async fn save_filter(ctx: PageCtx, req: HttpRequest, form: web::Form<SaveFilterForm>) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let form = form.into_inner();
    let parsed = web::Query::<ListQuery>::from_query(&form.query).map(|q| q.into_inner()).unwrap_or_default();
    let query = parsed.to_query(None);
    let saved = ctx.state.db.run(move |c| matters::save_filter(c, &staff, &form.name, &query, now())).await;
    match saved {
        Ok(saved) => {
            let sep = if saved.query.is_empty() { "" } else { "&" };
            Ok(see_other(&format!("/staff?{}{sep}done=filter-saved", saved.query)))
        }
        Err(e) => invalid_page(&ctx, e, "/staff"),
    }
}

/// Deletes one of the staff member's saved filters; another's answers 404.
#[post("/staff/filters/{id}/delete")]
async fn delete_filter(ctx: PageCtx, req: HttpRequest, path: web::Path<String>) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let id = path.into_inner();
    ctx.state.db.run(move |c| matters::delete_filter(c, &staff, &id)).await?;
    Ok(see_other("/staff?done=filter-deleted"))
}

/// The new client and matter form.
#[derive(Serialize)]
struct NewMatterPage<'a> {
    staff_nav: bool,
    phases: Vec<Choice<'a>>,
    team: Vec<Choice<'a>>,
    /// Text messages are configured: the form asks for the mobile number and the client's consent.
    sms: bool,
}

#[get("/staff/matters/new")]
async fn new_matter_page(ctx: PageCtx, req: HttpRequest) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let lang = ctx.lang;
    let (team, phases) = ctx
        .state
        .db
        .run(move |c| {
            Ok((
                clients::staff_members(c, &staff)?,
                shared::catalogue::phases_in(c, &staff.firm_id, &[shared::catalogue::PERSONAL_INJURY], lang)?,
            ))
        })
        .await?;
    let page = NewMatterPage {
        staff_nav: true,
        phases: phases.iter().map(|(p, t)| Choice::phase(&p.key, &t.title, false)).collect(),
        team: team.iter().map(|s| Choice::person(&s.id, &s.full_name, false)).collect(),
        sms: ctx.state.config.sms_enabled(),
    };
    Ok(ctx.render(StatusCode::OK, "staff_new_matter", "staff-new-matter-title", page))
}

#[derive(Debug, Deserialize)]
struct NewMatterForm {
    client_name: String,
    client_email: String,
    #[serde(default)]
    client_phone: Option<String>,
    /// The client's mobile number for texts.
    #[serde(default)]
    client_sms_number: Option<String>,
    /// The client said they want texts.
    #[serde(default)]
    client_sms_opt_in: Option<String>,
    #[serde(default)]
    language: Option<String>,
    title: String,
    #[serde(default)]
    phase: Option<String>,
    #[serde(default)]
    case_manager_id: Option<String>,
    #[serde(default)]
    external_id: Option<String>,
}

/// Creates the client (or finds the firm's client with that email) and the matter.
#[post("/staff/matters")]
async fn create_matter(ctx: PageCtx, req: HttpRequest, form: web::Form<NewMatterForm>) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let form = form.into_inner();
    let sms_number = form.client_sms_number.clone().map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    let sms_opt_in = form.client_sms_opt_in.as_deref() == Some("on");
    // Texts only when configured; a number is needed for the opt-in.
    let (sms_number, sms_opt_in) = if ctx.state.config.sms_enabled() && (sms_number.is_some() || sms_opt_in) {
        (Some(sms_number.unwrap_or_default()), Some(sms_opt_in))
    } else {
        (None, None)
    };
    let created = ctx
        .state
        .db
        .run(move |c| {
            // The matter's own fields first: a refused title must not leave a new client behind.
            shared::staff::required("title", &form.title)?;
            shared::staff::optional_line("external_id", form.external_id.as_deref())?;
            let email = shared::staff::validate_email(&form.client_email)?;
            let existing = clients::list(c, &staff, Some(&email), 10, 0)?.into_iter().find(|cl| cl.email == email);
            if sms_opt_in == Some(true) && sms_number.as_deref() == Some("") {
                return Err(shared::Error::invalid("sms_number", "is needed before texts can be turned on"));
            }
            let client = match existing {
                Some(client) => {
                    if sms_number.is_some() {
                        let patch =
                            ClientPatch { sms_number: sms_number.clone(), sms_opt_in, ..ClientPatch::default() };
                        clients::update(c, &staff, &client.id, &patch, now())?;
                    }
                    client
                }
                None => clients::create(
                    c,
                    &staff,
                    &NewClient {
                        full_name: form.client_name.clone(),
                        email,
                        phone: form.client_phone.clone(),
                        language: form.language.clone(),
                        sms_number: sms_number.clone(),
                        sms_opt_in,
                    },
                    now(),
                )?,
            };
            matters::create(
                c,
                &staff,
                &NewMatter {
                    title: form.title.clone(),
                    client_ids: vec![client.id],
                    phase: form.phase.clone(),
                    case_manager_id: form.case_manager_id.clone().filter(|m| !m.is_empty()),
                    external_id: form.external_id.clone(),
                },
                now(),
            )
        })
        .await;
    match created {
        Ok(matter) => Ok(see_other(&format!("/staff/matters/{}", matter.id))),
        Err(e) => invalid_page(&ctx, e, "/staff/matters/new"),
    }
}

/// A staff member's view of one matter: its facts, timeline, requests,
/// documents, what was sent to its clients, and the forms to change it.
#[derive(Serialize)]
struct MatterPage<'a> {
    staff_nav: bool,
    /// The confirmation of what was just done (a locale key).
    done: Option<String>,
    /// Some client upload is unreviewed: the page shows "mark the ticked reviewed".
    any_to_review: bool,
    title: &'a str,
    matter: MatterFacts<'a>,
    phases: &'a [PhaseChoice],
    timeline: Vec<TimelineLine<'a>>,
    requests: Vec<RequestLine<'a>>,
    documents: Vec<DocumentLine<'a>>,
    sent: Vec<SentLine<'a>>,
    /// The conversation with the matter's clients, notes and "handled" marks included.
    messages: Vec<MessageLine<'a>>,
    /// Some client message waits for a reply: the section offers "handled, no reply needed".
    messages_waiting: bool,
    categories: Vec<Choice<'static>>,
    /// The firm's ready-made requests in the staff member's language.
    templates: Vec<TemplateChoice>,
    team: Vec<Choice<'a>>,
    /// The size limit of a shared document.
    max: String,
    /// Treatment log and appointments.
    care: Option<super::treatment::CarePanel>,
}

/// A ready-made request to start the "ask for a document" form from.
#[derive(Serialize)]
struct TemplateChoice {
    key: String,
    title: String,
}

/// The matter's facts at the top of its page.
#[derive(Serialize)]
struct MatterFacts<'a> {
    id: &'a str,
    title: &'a str,
    external_id: Option<&'a str>,
    phase: &'a str,
    manager: Option<&'a str>,
    clients: &'a [PersonRef],
    opened: String,
    closed: Option<String>,
    last_update: Option<String>,
}

/// A milestone on the staff timeline (internal notes included, marked).
#[derive(Serialize)]
struct TimelineLine<'a> {
    label_key: String,
    internal: bool,
    phase: Option<&'a str>,
    body: Option<std::borrow::Cow<'a, str>>,
    /// Files one upload brought (a "document received" line), else 0.
    count: usize,
    occurs: Option<String>,
    by: Option<&'a str>,
    at: String,
}

/// A document request.
#[derive(Serialize)]
struct RequestLine<'a> {
    id: &'a str,
    title: &'a str,
    details: Option<&'a str>,
    category_key: String,
    status_key: String,
    open: bool,
    at: String,
    /// "Friday, January 8", in the page's language.
    due: Option<String>,
    /// The due date as a date input's value (`2027-01-08`).
    due_value: String,
    overdue: bool,
    /// Open until staff mark it complete.
    waits_for_staff: bool,
}

/// A document of the matter.
#[derive(Serialize)]
struct DocumentLine<'a> {
    id: &'a str,
    name: &'a str,
    size: String,
    category_key: String,
    by: Option<&'a str>,
    at: String,
    /// Shared by the firm with the client (not uploaded by the client).
    shared: bool,
    reviewed: Option<String>,
    reviewer: Option<&'a str>,
    /// A client upload nobody has reviewed yet: it gets a checkbox of "mark reviewed".
    to_review: bool,
    /// `image` (shown as a thumbnail) or `pdf` (a link that opens it), for types shown inline.
    preview: Option<&'static str>,
    /// The categories to file it under, its own selected.
    categories: Vec<Choice<'static>>,
}

/// An email sent (or to send) to a client of the matter.
#[derive(Serialize)]
struct SentLine<'a> {
    to: &'a str,
    kind_key: String,
    status_key: String,
    at: String,
    error: Option<&'a str>,
    /// For a text: the channel and what the provider last reported (`delivered`, `undelivered`, `failed`).
    sms_status: Option<&'a str>,
}

/// The matter page's query: what was just done, for the confirmation.
#[derive(Debug, Deserialize)]
struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

#[get("/staff/matters/{id}")]
async fn matter_page(
    ctx: PageCtx,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<DoneQuery>,
) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let (lang, id, at) = (ctx.lang, path.into_inner(), now());
    let (matter, team, sent, thread, templates) = ctx
        .state
        .db
        .run(move |c| {
            let matter = matters::get(c, &staff, &id, lang)?;
            let templates = shared::requests::templates(c, &staff.firm_id, Some(lang))?;
            let mut sent = Vec::new();
            for client in &matter.summary.clients {
                let log = records::notification_log(c, &staff, &client.id)?;
                sent.extend(log.into_iter().take(10).map(|entry| (client.name.clone(), entry)));
            }
            // Opening the page is the legal team reading the client's messages.
            shared::messages::mark_read_by_staff(c, &matter.summary.id, at)?;
            let thread = shared::messages::thread(c, &staff, &matter.summary.id)?;
            let care = super::treatment::load_care(c, &staff, &matter.summary.id, at)?;
            Ok((matter, clients::staff_members(c, &staff)?, sent, (thread, care), templates))
        })
        .await?;
    let (thread, (log, appointments)) = thread;
    let mut page = matter_view(&ctx, &matter, &team, &sent);
    page.templates = templates.into_iter().map(|t| TemplateChoice { key: t.key, title: t.title }).collect();
    page.messages = message_lines(&ctx, &matter.summary.id, &thread);
    page.messages_waiting = thread.iter().any(|m| m.kind == MessageKind::Client && m.answered_at.is_none());
    page.done = done_key(query.done.as_deref());
    let today = shared::domain::local_date(&time_zone(&ctx).to_string(), at);
    page.care = Some(super::treatment::care_panel(&ctx, log, appointments, today));
    Ok(ctx.render(StatusCode::OK, "staff_matter", "staff-matters-title", page))
}

/// What the staff matter page shows, with times in the firm's time zone.
fn matter_view<'a>(
    ctx: &PageCtx,
    matter: &'a StaffMatter,
    team: &'a [StaffMember],
    sent: &'a [(String, LogEntry)],
) -> MatterPage<'a> {
    let s = &matter.summary;
    MatterPage {
        staff_nav: true,
        done: None,
        any_to_review: matter.documents.iter().any(|d| d.source == DocumentSource::Client && d.reviewed_at.is_none()),
        title: &s.title,
        matter: MatterFacts {
            id: &s.id,
            title: &s.title,
            external_id: s.external_id.as_deref(),
            phase: &s.phase_title,
            manager: s.case_manager.as_ref().map(|p| p.name.as_str()),
            clients: &s.clients,
            opened: ctx.date(matter.opened_at),
            closed: s.closed_at.map(|t| ctx.date(t)),
            last_update: s.last_client_update.map(|t| ctx.date(t)),
        },
        phases: &matter.phases,
        timeline: matter.timeline.iter().map(|m| timeline_line(ctx, m)).collect(),
        requests: matter.requests.iter().map(|r| request_line(ctx, r)).collect(),
        documents: matter.documents.iter().map(|d| document_line(ctx, d)).collect(),
        sent: sent
            .iter()
            .map(|(to, e)| SentLine {
                to,
                kind_key: format!("staff-mail-{}", e.kind),
                status_key: format!("staff-mail-status-{}", e.status),
                at: when(ctx, e.sent_at.unwrap_or(e.created_at)),
                error: e.error.as_deref(),
                sms_status: (e.channel == shared::domain::Channel::Sms)
                    .then(|| e.delivery.as_deref().unwrap_or("pending")),
            })
            .collect(),
        messages: Vec::new(),
        messages_waiting: false,
        categories: DocumentCategory::ALL.iter().map(|c| Choice::category(*c)).collect(),
        templates: Vec::new(),
        team: team
            .iter()
            .map(|t| Choice::person(&t.id, &t.full_name, s.case_manager.as_ref().is_some_and(|m| m.id == t.id)))
            .collect(),
        max: shared::documents::human_size(i64::try_from(ctx.state.config.max_upload_bytes).unwrap_or(i64::MAX)),
        care: None,
    }
}

fn timeline_line<'a>(ctx: &PageCtx, m: &'a StaffMilestone) -> TimelineLine<'a> {
    // One upload is one line naming each file it brought (their names are one per line in the body).
    let (label_key, body, count) = match (m.kind, m.body.as_deref()) {
        (shared::domain::MilestoneKind::DocumentReceived, Some(body)) => {
            let names = shared::documents::received_names(body);
            ("staff-timeline-documents-received".to_owned(), Some(names.join(", ").into()), names.len())
        }
        // Staff wording ("Note to client"), not what the client reads ("Message from your legal team").
        (kind, body) => (format!("staff-timeline-{kind}"), body.map(Into::into), 0),
    };
    TimelineLine {
        label_key,
        internal: !m.client_visible,
        phase: m.phase_title.as_deref(),
        body,
        count,
        occurs: m.occurs_at.map(|t| when(ctx, t)),
        by: m.created_by.as_ref().map(|p| p.name.as_str()),
        at: when(ctx, m.created_at),
    }
}

fn request_line<'a>(ctx: &PageCtx, r: &'a StaffRequest) -> RequestLine<'a> {
    RequestLine {
        id: &r.id,
        title: &r.title,
        details: r.details.as_deref(),
        category_key: format!("doc-category-{}", r.category),
        status_key: format!("staff-request-{}", r.status),
        open: r.status == RequestStatus::Open,
        at: when(ctx, r.created_at),
        due: r.due_date.map(|d| ctx.state.renderer.locales().day(ctx.lang, d)),
        due_value: r.due_date.map(|d| d.to_string()).unwrap_or_default(),
        overdue: r.overdue,
        waits_for_staff: r.fulfil_on == shared::domain::FulfilOn::Staff,
    }
}

fn document_line<'a>(ctx: &PageCtx, d: &'a StaffDocument) -> DocumentLine<'a> {
    DocumentLine {
        id: &d.id,
        name: &d.name,
        size: shared::documents::human_size(d.size_bytes),
        category_key: format!("doc-category-{}", d.category),
        by: d.uploaded_by.as_ref().map(|p| p.name.as_str()),
        at: when(ctx, d.created_at),
        shared: d.source == DocumentSource::Firm,
        reviewed: d.reviewed_at.map(|t| when(ctx, t)),
        reviewer: d.reviewed_by.as_ref().map(|p| p.name.as_str()),
        to_review: d.source == DocumentSource::Client && d.reviewed_at.is_none(),
        preview: preview_kind(&d.content_type),
        categories: DocumentCategory::ALL
            .iter()
            .map(|c| Choice { selected: *c == d.category, ..Choice::category(*c) })
            .collect(),
    }
}

#[derive(Debug, Deserialize)]
struct MilestoneForm {
    kind: String,
    #[serde(default)]
    phase: Option<String>,
    #[serde(default)]
    body: Option<String>,
    /// `datetime-local`: "2026-12-01T10:30", in the firm's time zone.
    #[serde(default)]
    occurs_at: Option<String>,
}

#[post("/staff/matters/{id}/milestones")]
async fn post_milestone(
    ctx: PageCtx,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<MilestoneForm>,
) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let id = path.into_inner();
    let back = format!("/staff/matters/{id}");
    let occurs_at = match form.occurs_at.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        Some(local) => match NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M") {
            Ok(t) => time_zone(&ctx).from_local_datetime(&t).earliest().map(|t| t.naive_utc()),
            Err(_) => {
                return invalid_page(&ctx, shared::Error::invalid("occurs_at", "is not a date and time"), &back);
            }
        },
        None => None,
    };
    let done = if form.kind.trim() == "phase_change" { "phase-changed" } else { "update-posted" };
    let input = NewMilestone { kind: form.kind.clone(), phase: form.phase.clone(), body: form.body.clone(), occurs_at };
    let work = move |c: &mut shared::db::DbConnection, staff: &Staff| {
        updates::post_milestone(c, staff, &id, &input, now()).map(|_| ())
    };
    run_then_done(&ctx, &back, done, work, staff).await
}

#[derive(Debug, Deserialize)]
struct RequestForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    category: Option<String>,
    /// A ready-made request's key; empty for none.
    #[serde(default)]
    template: Option<String>,
    /// A date input's value (`2027-01-08`), in the firm's time zone; empty for none.
    #[serde(default)]
    due_date: Option<String>,
    /// `first_upload` or `staff`.
    #[serde(default)]
    fulfil_on: Option<String>,
}

/// A date input's value: `None` when empty, an error naming `due_date` when not a date.
fn due_date_of(value: Option<&str>) -> Result<Option<chrono::NaiveDate>, shared::Error> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| shared::Error::invalid("due_date", "is not a date")),
        None => Ok(None),
    }
}

#[post("/staff/matters/{id}/requests")]
async fn open_request(
    ctx: PageCtx,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<RequestForm>,
) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let id = path.into_inner();
    let back = format!("/staff/matters/{id}");
    let form = form.into_inner();
    let due_date = match due_date_of(form.due_date.as_deref()) {
        Ok(d) => d,
        Err(e) => return invalid_page(&ctx, e, &back),
    };
    let input = NewRequest {
        title: form.title,
        details: form.details,
        category: form.category,
        template: form.template,
        due_date,
        fulfil_on: form.fulfil_on,
    };
    let work = move |c: &mut shared::db::DbConnection, staff: &Staff| {
        updates::open_request(c, staff, &id, &input, now()).map(|_| ())
    };
    run_then_done(&ctx, &back, "request-sent", work, staff).await
}

#[post("/staff/matters/{id}/requests/{request}/cancel")]
async fn cancel_request(ctx: PageCtx, req: HttpRequest, path: web::Path<(String, String)>) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let (id, request) = path.into_inner();
    let back = format!("/staff/matters/{id}");
    let work =
        move |c: &mut shared::db::DbConnection, staff: &Staff| updates::cancel_request(c, staff, &id, &request, now());
    run_then_done(&ctx, &back, "request-cancelled", work, staff).await
}

#[post("/staff/matters/{id}/requests/{request}/complete")]
async fn complete_request(ctx: PageCtx, req: HttpRequest, path: web::Path<(String, String)>) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let (id, request) = path.into_inner();
    let back = format!("/staff/matters/{id}");
    let work = move |c: &mut shared::db::DbConnection, staff: &Staff| {
        updates::complete_request(c, staff, &id, &request, now()).map(|_| ())
    };
    run_then_done(&ctx, &back, "request-completed", work, staff).await
}

#[derive(Debug, Deserialize)]
struct DueDateForm {
    /// A date input's value; empty clears the due date.
    #[serde(default)]
    due_date: Option<String>,
}

#[post("/staff/matters/{id}/requests/{request}/due")]
async fn change_due_date(
    ctx: PageCtx,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: web::Form<DueDateForm>,
) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let (id, request) = path.into_inner();
    let back = format!("/staff/matters/{id}");
    let patch = match due_date_of(form.due_date.as_deref()) {
        Ok(due_date) => updates::RequestPatch { due_date },
        Err(e) => return invalid_page(&ctx, e, &back),
    };
    let work = move |c: &mut shared::db::DbConnection, staff: &Staff| {
        updates::set_due_date(c, staff, &id, &request, &patch, now()).map(|_| ())
    };
    run_then_done(&ctx, &back, "request-due-changed", work, staff).await
}

/// Shares documents with the matter's clients through the same pipeline as a
/// client's upload; back to the matter when every file was stored, else a
/// page naming each file that was not and why.
#[post("/staff/matters/{id}/documents")]
async fn share_documents(ctx: PageCtx, req: HttpRequest, path: web::Path<String>, body: Multipart) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let id = path.into_inner();
    let matter = ctx.state.db.run(move |c| shared::staff::firm_matter(c, &staff, &id)).await?;
    let uploader = ctx.require_user()?.user.clone();
    let target = Target {
        uploader: &uploader,
        source: shared::documents::DocumentSource::Firm,
        matter: &matter,
        ip: crate::session::client_ip(&req),
        message: false,
    };
    let report = upload::receive(&ctx.state, target, body).await;
    let back = format!("/staff/matters/{}", matter.id);
    let status = crate::routes::documents::status_of(&report);
    if status == StatusCode::CREATED {
        return Ok(see_other(&format!("{back}?done=documents-shared")));
    }
    let receipt = ReceiptView::of(&report, ctx.state.config.max_upload_bytes);
    let page = SharedPage { staff_nav: true, back: &back, receipt };
    Ok(ctx.render(status, "staff_shared", "staff-share-result-title", page))
}

/// What became of the documents staff shared, when some were not stored.
#[derive(Serialize)]
struct SharedPage<'a> {
    staff_nav: bool,
    back: &'a str,
    #[serde(flatten)]
    receipt: ReceiptView<'a>,
}

#[post("/staff/matters/{id}/documents/{document}/review")]
async fn review_document(ctx: PageCtx, req: HttpRequest, path: web::Path<(String, String)>) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let (id, document) = path.into_inner();
    let back = format!("/staff/matters/{id}");
    let work =
        move |c: &mut shared::db::DbConnection, staff: &Staff| records::mark_reviewed(c, staff, &id, &document, now());
    run_then_done(&ctx, &back, "reviewed", work, staff).await
}

/// Marks the ticked documents reviewed (form fields `ids`, repeated): all or
/// nothing, a document of another matter or firm answers 404 and nothing changes.
#[post("/staff/matters/{id}/documents/review")]
async fn review_documents(ctx: PageCtx, req: HttpRequest, path: web::Path<String>, body: web::Bytes) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let id = path.into_inner();
    let back = format!("/staff/matters/{id}");
    let ids: Vec<String> =
        url::form_urlencoded::parse(&body).filter(|(k, _)| k == "ids").map(|(_, v)| v.into_owned()).collect();
    if ids.is_empty() {
        return invalid_page(&ctx, shared::Error::invalid("ids", "choose at least one document"), &back);
    }
    let work = move |c: &mut shared::db::DbConnection, staff: &Staff| {
        records::mark_many_reviewed(c, staff, &id, &ids, now()).map(|_| ())
    };
    run_then_done(&ctx, &back, "reviewed", work, staff).await
}

/// Files a document of the matter under another category (form field
/// `category`). A form without a category changes nothing and goes back to
/// the matter; a document of another matter or firm is 404 either way.
#[post("/staff/matters/{id}/documents/{document}/category")]
async fn recategorise_document(
    ctx: PageCtx,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> PageResult {
    let staff = staff_of(&ctx, &req)?;
    let (id, document) = path.into_inner();
    let back = format!("/staff/matters/{id}");
    let category = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "category")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.trim().is_empty());
    let Some(category) = category else {
        ctx.state.db.run(move |c| records::document(c, &staff, &id, &document).map(|_| ())).await?;
        return Ok(see_other(&back));
    };
    let work = move |c: &mut shared::db::DbConnection, staff: &Staff| {
        records::recategorise(c, staff, Some(&id), &document, &category, now()).map(|_| ())
    };
    run_then_done(&ctx, &back, "recategorised", work, staff).await
}

/// The types a preview shows inline; anything else is always an attachment.
const INLINE_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/webp", "application/pdf"];
/// The largest file a preview streams from S3 through the portal (held in memory
/// for the answer); a larger one is an attachment through the usual download.
const PREVIEW_MAX_BYTES: i64 = 20 * 1024 * 1024;

/// How the matter page previews a document of `content_type`: `image`, `pdf` or not at all.
pub(super) fn preview_kind(content_type: &str) -> Option<&'static str> {
    match content_type {
        "application/pdf" => Some("pdf"),
        t if INLINE_TYPES.contains(&t) => Some("image"),
        _ => None,
    }
}

/// A document of the firm shown in the browser: `Content-Disposition: inline`
/// only for a PNG, JPEG, WebP or PDF (as its bytes were sniffed at upload),
/// served with that stored type, `nosniff` and a sandboxing CSP; any other
/// type is an attachment. Audited `document.preview`.
#[get("/staff/matters/{id}/documents/{document}/preview")]
async fn preview_document(ctx: PageCtx, req: HttpRequest, path: web::Path<(String, String)>) -> PageResult {
    use actix_web::http::header::{self, HeaderValue};
    let staff = staff_of(&ctx, &req)?;
    let (matter_id, document_id) = path.into_inner();
    let lookup = staff.clone();
    let document = ctx.state.db.run(move |c| records::document(c, &lookup, &matter_id, &document_id)).await?;
    let inline = INLINE_TYPES.contains(&document.content_type.as_str());
    let file_name = shared::documents::download_name(&document.original_name, &document.content_type);
    let how = ctx.state.storage.download(&document.object_key, &file_name).await?;
    let disposition = if inline {
        storage::attachment(&file_name).replacen("attachment", "inline", 1)
    } else {
        storage::attachment(&file_name)
    };
    let mut response = match how {
        storage::Download::File(path) => {
            let file = actix_files::NamedFile::open_async(&path)
                .await
                .map_err(|e| shared::Error::Unavailable { service: "storage", cause: e.into() })?;
            file.into_response(&req)
        }
        storage::Download::Redirect(url) if !inline || document.size_bytes > PREVIEW_MAX_BYTES => {
            // Too large to pass through here, or not shown inline anyway: the usual download.
            return Ok(see_other(&url));
        }
        storage::Download::Redirect(_) => {
            let bytes = ctx.state.storage.fetch(&document.object_key).await?;
            actix_web::HttpResponse::Ok().body(bytes)
        }
    };
    let value = |v: String| HeaderValue::from_str(&v).map_err(|e| shared::Error::Internal(e.into()));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, value(document.content_type.clone())?);
    headers.insert(header::CONTENT_DISPOSITION, value(disposition)?);
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PREVIEW_CSP));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    let document_id = document.id.clone();
    ctx.state
        .db
        .run(move |c| {
            shared::db::write_transaction(c, |c| {
                staff.audit(c, "document.preview", "document", &document_id, None, now())
            })
        })
        .await?;
    Ok(response)
}

/// The policy of a previewed file: shown in a sandbox, loading nothing else.
const PREVIEW_CSP: &str = "sandbox; default-src 'none'; img-src 'self'; object-src 'none'; base-uri 'none'; \
                           form-action 'none'; frame-ancestors 'none'";

/// Runs a change and answers with a redirect to `back` with the confirmation
/// `done` (`?done=request-sent`, one of [`done_key`]'s), or the problem.
async fn run_then_done(
    ctx: &PageCtx,
    back: &str,
    done: &'static str,
    work: impl FnOnce(&mut shared::db::DbConnection, &Staff) -> shared::Result<()> + Send + 'static,
    staff: Staff,
) -> PageResult {
    match ctx.state.db.run(move |c| work(c, &staff)).await {
        Ok(()) => Ok(see_other(&format!("{back}?done={done}"))),
        Err(e) => invalid_page(ctx, e, back),
    }
}
