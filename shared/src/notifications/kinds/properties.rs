//! Property tests: arbitrary client names, firm names, matter and phase texts
//! and file names through every email composer (sign-in, upload receipt, phase
//! change, weekly update) and the mail builder. Whatever they hold, nothing
//! panics and the message is well formed: its headers are printable ASCII
//! lines (folded), one `To` with the client's address, and it parses again.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::samples::{self, CLIENT, Fixture, Texts};
use crate::mail::OutgoingEmail;

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

fn texts() -> impl Strategy<Value = Texts> {
    (text(), text(), text(), text(), text()).prop_map(|(name, firm, matter, phase, file)| Texts {
        name,
        firm,
        matter,
        phase,
        file,
    })
}

fn fixture() -> Result<&'static Fixture, TestCaseError> {
    samples::fixture().map_err(TestCaseError::fail)
}

fn every_email(f: &Fixture, t: &Texts, mail_from: Option<String>) -> Result<Vec<OutgoingEmail>, TestCaseError> {
    samples::every_email(f, t, mail_from).map_err(TestCaseError::fail)
}

fn assert_well_formed(raw: &[u8], to: Option<&str>) -> Result<(), TestCaseError> {
    samples::well_formed(raw, to).map_err(TestCaseError::fail)
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

    /// A stored sender, recipient or Reply-To address of any content: no panic;
    /// what cannot be an address is a permanent failure (recorded on the row),
    /// what builds is well formed.
    #[test]
    fn stored_addresses_of_any_content_fail_cleanly_or_build(t in texts(), sender in text(), address in text()) {
        let f = fixture()?;
        for mut email in every_email(f, &t, Some(sender.clone()))? {
            email.to_address = address.clone();
            // A case manager's stored address of any content as Reply-To: left out when unusable.
            email.reply_to = Some((t.name.clone(), sender.clone()));
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
        if email.reply_to.is_some() {
            prop_assert!(head.contains("Reply-To: casey@firm.test\r\n"), "the Reply-To name was not left out: {head}");
        }
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
