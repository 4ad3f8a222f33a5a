//! Property tests: arbitrary client names, firm names, matter and phase texts
//! and file names through every email composer (sign-in, upload receipt, phase
//! change, weekly update) and the mail builder. Whatever they hold, nothing
//! panics and the message is well formed: its headers are printable ASCII
//! lines (folded), one `To` with the client's address, and it parses again.

use chrono::NaiveDateTime;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::{phase_change, sign_in, upload_receipt, weekly_update};
use crate::assets::Assets;
use crate::client_view::{ContactView, MatterDetail, PhaseView, RequestView};
use crate::config::Secret;
use crate::db::models::{Firm, Notification, User};
use crate::domain::{Channel, DocumentCategory, Language, MilestoneKind, NotificationKind, Role};
use crate::mail::{Mailbox, Mailer, OutgoingEmail};
use crate::notifications::channel::Message;
use crate::notifications::compose::{Composed, Composer};
use crate::render::Renderer;
use crate::tokens::Tokens;
use crate::weekly::{Change, MatterDigest, WeeklyDigest};

const CLIENT: &str = "client@example.com";

/// Text as people and files bring it: any character, with the troublesome
/// ones (line breaks, NUL and other controls, direction overrides, zero-width
/// characters, quotes and encoded-word look-alikes) far more often than chance.
fn text() -> impl Strategy<Value = String> {
    let hostile = prop::sample::select(vec![
        '\r', '\n', '\0', '\t', '\u{1}', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}', '\u{202A}', '\u{202E}', '\u{2066}',
        '\u{2069}', '\u{200E}', '\u{061C}', '\u{200B}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}', '\u{2028}',
        '\u{2029}', '"', '\\', '<', '>', '@', ',', ';', ':', '=', '?', ' ', 'é', '医', '😀',
    ]);
    let piece = prop_oneof![
        3 => hostile,
        2 => prop::char::range('a', 'z'),
        1 => any::<char>(),
    ];
    prop_oneof![
        4 => prop::collection::vec(piece, 0..60).prop_map(String::from_iter),
        1 => Just("=?utf-8?b?QWRy?= \r\nBcc: x@evil.test".to_owned()),
        1 => prop::collection::vec(any::<char>(), 0..300).prop_map(String::from_iter),
    ]
}

struct Fixture {
    composer: Composer,
    mailer: Mailer,
}

/// The composer and mailer, built once: loading the templates is the slow part.
fn fixture() -> Result<&'static Fixture, TestCaseError> {
    static FIXTURE: std::sync::OnceLock<Result<Fixture, String>> = std::sync::OnceLock::new();
    let built = FIXTURE.get_or_init(|| {
        let from: Mailbox = "Matterline <mail@matterline.test>".parse().map_err(|e| format!("{e}"))?;
        let composer = Composer {
            renderer: Renderer::load(&Assets::default()).map_err(|e| e.to_string())?,
            tokens: Tokens::new(&Secret::new("an-unguessable-test-secret-of-40-characters".to_owned())),
            base_url: "https://portal.example.test".to_owned(),
            default_from: from.clone(),
        };
        Ok(Fixture { composer, mailer: Mailer::in_memory(from) })
    });
    built.as_ref().map_err(|e| TestCaseError::fail(e.clone()))
}

fn at() -> NaiveDateTime {
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

fn contact(name: &str) -> Option<ContactView> {
    Some(ContactView { name: name.to_owned(), phone: Some(name.to_owned()), email: "casey@firm.test".to_owned() })
}

/// Every composer's email for one set of texts.
fn every_email(f: &Fixture, t: &Texts, mail_from: Option<String>) -> Result<Vec<OutgoingEmail>, TestCaseError> {
    let fail = |e: crate::Error| TestCaseError::fail(e.to_string());
    let mut emails = Vec::new();
    for language in [Language::En, Language::Es] {
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
                        }],
                        milestones: Vec::new(),
                        contact: contact(&t.firm),
                    },
                ),
            ),
        ];
        for (kind, template, data) in notices {
            match f.composer.notice(&row(kind), &client, &firm, template, &data).map_err(fail)? {
                Composed::Send(Message::Email(email)) => emails.push(*email),
                Composed::Skip(why) => return Err(TestCaseError::fail(format!("{template} skipped: {why}"))),
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
                }],
                needs: vec![DocumentCategory::Other],
                contact: contact(&t.name),
            }],
        };
        emails.push(weekly_update::email(&f.composer, &digest, "row-1").map_err(fail)?);
    }
    Ok(emails)
}

#[derive(Debug, Clone)]
struct Texts {
    name: String,
    firm: String,
    matter: String,
    phase: String,
    file: String,
}

fn texts() -> impl Strategy<Value = Texts> {
    (text(), text(), text(), text(), text()).prop_map(|(name, firm, matter, phase, file)| Texts {
        name,
        firm,
        matter,
        phase,
        file,
    })
}

/// The header block: printable ASCII lines, continuation lines folded with
/// white space, one `To` (naming `to` when given), and a message that parses again.
fn assert_well_formed(raw: &[u8], to: Option<&str>) -> Result<(), TestCaseError> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n");
    let end = end.ok_or_else(|| TestCaseError::fail("no blank line after the headers"))?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| TestCaseError::fail("headers are not UTF-8"))?;
    let mut to_headers = 0;
    for line in head.split("\r\n") {
        prop_assert!(
            line.chars().all(|c| c == '\t' || (' '..='~').contains(&c)),
            "a header line holds a raw control or non-ASCII character: {line:?}"
        );
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let (name, _) = line.split_once(':').ok_or_else(|| TestCaseError::fail(format!("not a header: {line:?}")))?;
        prop_assert!(!name.is_empty() && !name.contains(' '), "bad header name in {line:?}");
        prop_assert!(!name.eq_ignore_ascii_case("bcc"), "a Bcc header appeared: {head}");
        if name.eq_ignore_ascii_case("to") {
            to_headers += 1;
        }
    }
    prop_assert_eq!(to_headers, 1, "{}", head);
    let parsed = mail_parser::MessageParser::default().parse(raw);
    let parsed = parsed.ok_or_else(|| TestCaseError::fail("the message does not parse"))?;
    let address = parsed.to().and_then(|a| a.first()).and_then(|a| a.address()).map(str::to_owned);
    prop_assert!(address.is_some(), "the To header has no address: {head}");
    if let Some(to) = to {
        prop_assert_eq!(address.as_deref(), Some(to), "{}", head);
    }
    prop_assert!(parsed.from().and_then(|a| a.first()).and_then(|a| a.address()).is_some(), "no From: {head}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Names, firm names, matter and phase texts and file names of any content:
    /// every composer's email builds, without a panic, into a well-formed message.
    #[test]
    fn every_composer_builds_a_well_formed_message_from_any_text(t in texts()) {
        let f = fixture()?;
        for email in every_email(f, &t, None)? {
            let message = f.mailer.build_message(&email);
            let message = message.map_err(|e| TestCaseError::fail(format!("{e} for {t:?}")))?;
            assert_well_formed(&message.formatted(), Some(CLIENT))?;
        }
    }

    /// A stored sender or recipient address of any content: no panic; what
    /// cannot be an address is a permanent failure (recorded on the row), what
    /// builds is well formed.
    #[test]
    fn stored_addresses_of_any_content_fail_cleanly_or_build(t in texts(), sender in text(), address in text()) {
        let f = fixture()?;
        for mut email in every_email(f, &t, Some(sender.clone()))? {
            email.to_address = address.clone();
            match f.mailer.build_message(&email) {
                Ok(message) => assert_well_formed(&message.formatted(), None)?,
                Err(crate::mail::SendError::Permanent(reason)) => {
                    prop_assert!(crate::text::is_clean_line(&reason), "the recorded reason is not one clean line: {reason:?}");
                }
                Err(other) => return Err(TestCaseError::fail(format!("not a permanent failure: {other}"))),
            }
        }
    }
}

#[test]
fn a_name_with_a_line_break_leaves_the_header_and_the_address_stays() -> Result<(), TestCaseError> {
    let f = fixture()?;
    let t = Texts {
        name: "Ana\r\nBcc: spy@evil.test".to_owned(),
        firm: "Firm\nX-Injected: yes".to_owned(),
        matter: "Case\u{0}".to_owned(),
        phase: "Demand\u{202E}".to_owned(),
        file: "bill\u{200B}.pdf".to_owned(),
    };
    for email in every_email(f, &t, None)? {
        let raw = f.mailer.build_message(&email).map_err(|e| TestCaseError::fail(e.to_string()))?.formatted();
        assert_well_formed(&raw, Some(CLIENT))?;
        let head = String::from_utf8_lossy(&raw[..raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0)]);
        prop_assert!(head.contains(&format!("To: {CLIENT}\r\n")), "the name was not left out: {head}");
        prop_assert!(head.contains("From: mail@matterline.test\r\n"), "the firm name was not left out: {head}");
        let injected = head.split("\r\n").any(|line| line.starts_with("X-Injected") || line.starts_with("Bcc"));
        prop_assert!(!injected && !head.contains("spy@evil.test>"), "a header was injected: {head}");
    }
    // What a clean name looks like, for contrast: it stays.
    let clean = Texts { name: "Ana Pérez".to_owned(), firm: "Smith & Co".to_owned(), ..t };
    let raw =
        f.mailer.build_message(&every_email(f, &clean, None)?[0]).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let raw = raw.formatted();
    let parsed = mail_parser::MessageParser::default()
        .parse(&raw)
        .and_then(|m| m.to().and_then(|a| a.first()).and_then(|a| a.name()).map(str::to_owned));
    prop_assert_eq!(parsed.as_deref(), Some("Ana Pérez"));
    Ok(())
}
