//! Sample emails of every kind from texts of any content, and the check that
//! a built message is well formed: shared by the property tests (`cargo test`)
//! and the `mail` fuzz target (`scripts/fuzz`, feature `samples`).

use chrono::NaiveDateTime;

use super::{
    appointment, client_messages, message_reply, phase_change, request_reminder, sign_in, upload_receipt, weekly_update,
};
use crate::assets::Assets;
use crate::client_view::{ContactView, MatterDetail, MilestoneView, PhaseView, RequestView};
use crate::config::Secret;
use crate::db::models::{Firm, Notification, User};
use crate::domain::{Channel, DocumentCategory, Language, MessageKind, MilestoneKind, NotificationKind, Role};
use crate::mail::{Mailbox, Mailer, OutgoingEmail};
use crate::notifications::channel::Message;
use crate::notifications::compose::{Composed, Composer};
use crate::render::Renderer;
use crate::tokens::Tokens;
use crate::weekly::{Change, MatterDigest, WeeklyDigest};

/// The client's address in every sample.
pub const CLIENT: &str = "client@example.com";

/// The texts people and files bring into an email.
#[derive(Debug, Clone, Default)]
pub struct Texts {
    /// The client's name.
    pub name: String,
    /// The firm's name.
    pub firm: String,
    /// The matter's title (and the note typed with a phase change).
    pub matter: String,
    /// The phase's title.
    pub phase: String,
    /// A file name.
    pub file: String,
}

/// A composer and an in-memory mailer with the real templates.
pub struct Fixture {
    /// The composer, as the portal and notifier build it.
    pub composer: Composer,
    /// A mailer that only builds and keeps messages.
    pub mailer: Mailer,
}

/// The composer and mailer, built once: loading the templates is the slow part.
pub fn fixture() -> Result<&'static Fixture, String> {
    static FIXTURE: std::sync::OnceLock<Result<Fixture, String>> = std::sync::OnceLock::new();
    let built = FIXTURE.get_or_init(|| {
        let from: Mailbox = "Matterline <mail@matterline.test>".parse().map_err(|e| format!("{e}"))?;
        let composer = Composer {
            renderer: Renderer::load(&Assets::default()).map_err(|e| e.to_string())?,
            tokens: Tokens::new(&Secret::new("an-unguessable-test-secret-of-40-characters".to_owned())),
            base_url: "https://portal.example.test".to_owned(),
            default_from: from.clone(),
            sms_enabled: false,
        };
        Ok(Fixture { composer, mailer: Mailer::in_memory(from) })
    });
    built.as_ref().map_err(Clone::clone)
}

pub(crate) fn at() -> NaiveDateTime {
    chrono::DateTime::from_timestamp(1_795_000_000, 0).map(|t| t.naive_utc()).unwrap_or_default()
}

fn people(name: &str, firm_name: &str, mail_from: Option<String>, language: Language) -> (User, Firm) {
    let firm = Firm {
        id: "firm-1".to_owned(),
        name: firm_name.to_owned(),
        time_zone: "America/Chicago".to_owned(),
        mail_from,
        phone: None,
        weekly_schedule: None,
        no_activity_updates: true,
        closed_matter_uploads: false,
        accent_colour: None,
        reply_to_case_manager: false,
        public_host: None,
        message_text_in_email: false,
        one_tap_sign_in: true,
        treatment_gap_days: 30,
        sms_from_hour: 9,
        sms_until_hour: 20,
        created_at: at(),
    };
    (User::new(&firm.id, Role::Client, CLIENT, name, language, at()), firm)
}

fn row(kind: NotificationKind) -> Notification {
    Notification::pending("firm-1", "client-1", kind, Channel::Email, "p", at())
}

fn phase(title: &str, means: &str) -> PhaseView {
    PhaseView {
        key: "demand".to_owned(),
        position: 3,
        title: title.to_owned(),
        what_it_means: means.to_owned(),
        what_happens_next: means.to_owned(),
    }
}

fn sample_matter(title: &str) -> crate::db::models::Matter {
    crate::db::models::Matter {
        id: "matter-1".to_owned(),
        firm_id: "firm-1".to_owned(),
        practice_area: "personal_injury".to_owned(),
        phase_id: "phase-1".to_owned(),
        title: title.to_owned(),
        case_manager_id: None,
        external_id: None,
        opened_at: at(),
        closed_at: None,
        updated_at: at(),
    }
}

fn sample_appointment(place: &str, bring: &str) -> crate::db::models::Appointment {
    crate::db::models::Appointment {
        id: "appointment-1".to_owned(),
        firm_id: "firm-1".to_owned(),
        matter_id: "matter-1".to_owned(),
        kind: crate::appointments::AppointmentKind::MedicalExam,
        starts_at: at() + chrono::Duration::days(3),
        duration_minutes: 60,
        place: place.to_owned(),
        bring: Some(bring.to_owned()),
        sequence: 0,
        cancelled_at: None,
        created_by: None,
        created_at: at(),
        updated_at: at(),
    }
}

fn sample_message(kind: MessageKind, body: &str) -> crate::db::models::Message {
    crate::db::models::Message {
        id: "message-1".to_owned(),
        firm_id: "firm-1".to_owned(),
        matter_id: "matter-1".to_owned(),
        author_id: Some("client-1".to_owned()),
        kind,
        body: body.to_owned(),
        created_at: at(),
        read_at: None,
        answered_at: None,
    }
}

fn contact(name: &str) -> Option<ContactView> {
    Some(ContactView { name: name.to_owned(), phone: Some(name.to_owned()), email: "casey@firm.test".to_owned() })
}

/// Every composer's email for one set of texts, in English and Spanish, with
/// the firm's stored sender `mail_from` (none: the server's).
pub fn every_email(f: &Fixture, t: &Texts, mail_from: Option<String>) -> Result<Vec<OutgoingEmail>, String> {
    let fail = |e: crate::Error| e.to_string();
    let mut emails = Vec::new();
    for language in [Language::EN, Language::ES] {
        let (client, firm) = people(&t.name, &t.firm, mail_from.clone(), language);
        let notices = [
            (NotificationKind::SignIn, "sign_in", sign_in::data(&f.composer, &client, &firm, "token", "123456")),
            (
                NotificationKind::UploadReceipt,
                "upload_receipt",
                upload_receipt::data(
                    &f.composer,
                    &client,
                    &firm,
                    &t.matter,
                    &upload_receipt::Receipt {
                        matter_id: "matter-1".to_owned(),
                        files: vec![(t.file.clone(), "1 KB".to_owned()), (t.name.clone(), "2 MB".to_owned())],
                    },
                ),
            ),
            (
                NotificationKind::PhaseChange,
                "phase_change",
                phase_change::data(
                    &f.composer,
                    &client,
                    &firm,
                    &MatterDetail {
                        id: "matter-1".to_owned(),
                        title: t.matter.clone(),
                        updated_at: at(),
                        closed_at: None,
                        accepts_uploads: true,
                        phase: phase(&t.phase, &t.file),
                        phases: Vec::new(),
                        open_requests: vec![RequestView {
                            id: "request-1".to_owned(),
                            title: t.file.clone(),
                            details: Some(t.phase.clone()),
                            category: DocumentCategory::MedicalBill,
                            requested_at: at(),
                            due_date: None,
                            overdue: false,
                        }],
                        // The note staff typed with the change is in the email too.
                        milestones: vec![MilestoneView {
                            id: "milestone-1".to_owned(),
                            kind: MilestoneKind::PhaseChange,
                            phase_title: Some(t.phase.clone()),
                            body: Some(t.matter.clone()),
                            occurs_at: None,
                            created_at: at(),
                        }],
                        contact: contact(&t.firm),
                    },
                ),
            ),
            (
                NotificationKind::MessageReply,
                "message_reply",
                message_reply::data(
                    &f.composer,
                    &client,
                    &firm,
                    &sample_matter(&t.matter),
                    &sample_message(MessageKind::Reply, &t.phase),
                    Some(&t.name),
                ),
            ),
            (
                NotificationKind::ClientMessages,
                "client_messages",
                client_messages::data(
                    &f.composer,
                    &client,
                    &firm,
                    &sample_matter(&t.matter),
                    &[sample_message(MessageKind::Client, &t.phase), sample_message(MessageKind::Client, "")],
                    &[("client-1".to_owned(), t.name.clone())].into_iter().collect(),
                ),
            ),
            (
                NotificationKind::RequestReminder,
                "request_reminder",
                request_reminder::data(
                    &f.composer,
                    &client,
                    &firm,
                    &[
                        request_reminder::Due {
                            matter: t.matter.clone(),
                            category: DocumentCategory::PoliceReport,
                            due_date: at().date(),
                        },
                        request_reminder::Due {
                            matter: t.phase.clone(),
                            category: DocumentCategory::MedicalBill,
                            due_date: at().date() + chrono::Duration::days(2),
                        },
                    ],
                    at().date() + chrono::Duration::days(1),
                    Some("matter-1"),
                ),
            ),
            (
                NotificationKind::Appointment,
                "appointment",
                appointment::data(
                    &f.composer,
                    &client,
                    &firm,
                    &sample_matter(&t.matter),
                    &sample_appointment(&t.phase, &t.file),
                    "scheduled",
                ),
            ),
            (
                NotificationKind::AppointmentReminder,
                "appointment",
                appointment::data(
                    &f.composer,
                    &client,
                    &firm,
                    &sample_matter(&t.matter),
                    &sample_appointment(&t.phase, &t.file),
                    "reminder",
                ),
            ),
        ];
        for (kind, template, data) in notices {
            // Replies to the case manager, whose name is any text too (never on a sign-in email).
            let reply_to = (kind != NotificationKind::SignIn).then(|| (t.phase.clone(), "casey@firm.test".to_owned()));
            match f.composer.notice(&row(kind), &client, &firm, template, &data, reply_to).map_err(fail)? {
                Composed::Send(Message::Email(email)) => emails.push(*email),
                Composed::Send(Message::Push(_) | Message::Sms(_)) => {
                    return Err(format!("{template} composed a push or a text, not an email"));
                }
                Composed::Skip(why) => return Err(format!("{template} skipped: {why}")),
                Composed::Hold(until) => return Err(format!("{template} held until {until}")),
            }
        }
        let digest = WeeklyDigest {
            client: client.clone(),
            firm: firm.clone(),
            language,
            last_sent: None,
            matters: vec![MatterDigest {
                id: "matter-1".to_owned(),
                title: t.matter.clone(),
                phase: phase(&t.phase, &t.name),
                phase_total: 5,
                changes: vec![Change {
                    kind: MilestoneKind::PhaseChange,
                    phase_title: Some(t.phase.clone()),
                    occurs_at: Some(at()),
                    at: at(),
                    count: 1,
                }],
                needs: vec![DocumentCategory::Other],
                contact: contact(&t.name),
                unread_replies: 2,
                log_visits: false,
            }],
        };
        emails.push(weekly_update::email(&f.composer, &digest, "row-1").map_err(fail)?);
    }
    Ok(emails)
}

/// Whether `raw` is a well-formed message: its header block is printable
/// ASCII lines (continuation lines folded with white space), no `Bcc`, one
/// `To` (naming `to` when given), a `From`, and the message parses again.
pub fn well_formed(raw: &[u8], to: Option<&str>) -> Result<(), String> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no blank line after the headers")?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| "headers are not UTF-8")?;
    let mut to_headers = 0;
    for line in head.split("\r\n") {
        if !line.chars().all(|c| c == '\t' || (' '..='~').contains(&c)) {
            return Err(format!("a header line holds a raw control or non-ASCII character: {line:?}"));
        }
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let (name, _) = line.split_once(':').ok_or_else(|| format!("not a header: {line:?}"))?;
        if name.is_empty() || name.contains(' ') {
            return Err(format!("bad header name in {line:?}"));
        }
        if name.eq_ignore_ascii_case("bcc") {
            return Err(format!("a Bcc header appeared: {head}"));
        }
        if name.eq_ignore_ascii_case("to") {
            to_headers += 1;
        }
    }
    if to_headers != 1 {
        return Err(format!("{to_headers} To headers: {head}"));
    }
    let parsed = mail_parser::MessageParser::default().parse(raw).ok_or("the message does not parse")?;
    let address = parsed.to().and_then(|a| a.first()).and_then(|a| a.address()).map(str::to_owned);
    match (address.as_deref(), to) {
        (None, _) => return Err(format!("the To header has no address: {head}")),
        (Some(got), Some(want)) if got != want => return Err(format!("To is {got}, not {want}: {head}")),
        _ => {}
    }
    if parsed.from().and_then(|a| a.first()).and_then(|a| a.address()).is_none() {
        return Err(format!("no From: {head}"));
    }
    Ok(())
}
