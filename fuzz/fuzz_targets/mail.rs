//! Every email composer (sign-in, upload receipt, phase change with its note,
//! weekly update) and the mail builder, fed names, firm names, matter and phase
//! texts, file names and stored addresses of any content: nothing panics; a
//! message built from any texts is well formed (printable ASCII header lines,
//! no injected header, one `To` with the client's address, it parses again);
//! a stored sender or recipient that cannot be an address is a permanent
//! failure with a one-line reason (what the queue records on the row); a
//! Reply-To address that cannot be one is left out.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::mail::SendError;
use shared::notifications::kinds::samples::{self, CLIENT, Texts};

fuzz_target!(|input: (String, String, String, String, String, String, String)| {
    let (name, firm, matter, phase, file, sender, address) = input;
    let fixture = match samples::fixture() {
        Ok(fixture) => fixture,
        Err(e) => panic!("the templates do not load: {e}"),
    };
    let texts = Texts { name, firm, matter, phase, file };
    let emails = samples::every_email(fixture, &texts, None).unwrap_or_else(|e| panic!("{e}: {texts:?}"));
    for email in emails {
        let message = fixture.mailer.build_message(&email).unwrap_or_else(|e| panic!("{e}: {texts:?}"));
        if let Err(fault) = samples::well_formed(&message.formatted(), Some(CLIENT)) {
            panic!("{fault}: {texts:?}");
        }
    }
    let emails = samples::every_email(fixture, &texts, Some(sender)).unwrap_or_else(|e| panic!("{e}: {texts:?}"));
    for mut email in emails {
        email.to_address = address.clone();
        // A stored case manager's address of any content: left out when unusable, never a failure.
        email.reply_to = Some((texts.name.clone(), address.clone()));
        match fixture.mailer.build_message(&email) {
            Ok(message) => {
                if let Err(fault) = samples::well_formed(&message.formatted(), None) {
                    panic!("{fault}: {texts:?}");
                }
            }
            Err(SendError::Permanent(reason)) => {
                assert!(shared::text::is_clean_line(&reason), "the recorded reason is not one clean line: {reason:?}");
            }
            Err(other) => panic!("not a permanent failure: {other}"),
        }
    }
});
