//! iCalendar (RFC 5545) invitations for appointments, as iTIP (RFC 5546)
//! `REQUEST` and `CANCEL` messages. The event's UID is the appointment's id
//! (stable: a change replaces the event a calendar already has) and SEQUENCE
//! counts its changes. Times are UTC (`…Z`), which every calendar shows in
//! its own zone. Written by hand — a few lines — with the escaping (§3.3.11)
//! and the 75-octet line folding (§3.1) the format requires.

use chrono::NaiveDateTime;

/// What an invitation asks of the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Add the event, or replace it when the UID is known and SEQUENCE is higher.
    Request,
    /// Remove the event with this UID.
    Cancel,
}

impl Method {
    /// The `METHOD` value, also the `method` parameter of the MIME type.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }
}

/// One event to write.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// Globally unique and stable, e.g. `{appointment id}@{portal host}`.
    pub uid: &'a str,
    /// Changes so far.
    pub sequence: i32,
    /// When this version was written (UTC).
    pub stamp: NaiveDateTime,
    /// Start (UTC).
    pub start: NaiveDateTime,
    /// End (UTC).
    pub end: NaiveDateTime,
    /// Title.
    pub summary: &'a str,
    /// Where.
    pub location: &'a str,
    /// Longer text (what to bring).
    pub description: &'a str,
    /// The firm: (name, address).
    pub organizer: (&'a str, &'a str),
    /// The client: (name, address).
    pub attendee: (&'a str, &'a str),
}

fn utc(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// `text` as a TEXT value: backslash, semicolon, comma and line breaks escaped,
/// other control characters dropped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.replace("\r\n", "\n").chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' | '\r' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value (a CN): quoted, without the characters a quoted value cannot hold.
fn param(text: &str) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control() && *c != '"').collect();
    format!("\"{clean}\"")
}

/// A content line folded at 75 octets (never inside a character), ending in CRLF.
fn fold(line: &str, out: &mut String) {
    let mut used = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if used + len > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += len;
    }
    out.push_str("\r\n");
}

/// The calendar object for `event` with `method`.
pub fn calendar(method: Method, event: &Event<'_>) -> String {
    let status = match method {
        Method::Request => "CONFIRMED",
        Method::Cancel => "CANCELLED",
    };
    let lines = [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//Matterline//Appointments//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        format!("METHOD:{}", method.as_str()),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}", escape(event.uid)),
        format!("SEQUENCE:{}", event.sequence),
        format!("DTSTAMP:{}", utc(event.stamp)),
        format!("DTSTART:{}", utc(event.start)),
        format!("DTEND:{}", utc(event.end)),
        format!("STATUS:{status}"),
        format!("SUMMARY:{}", escape(event.summary)),
        format!("LOCATION:{}", escape(event.location)),
        format!("DESCRIPTION:{}", escape(event.description)),
        format!("ORGANIZER;CN={}:mailto:{}", param(event.organizer.0), escape(event.organizer.1)),
        format!(
            "ATTENDEE;CN={};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:{}",
            param(event.attendee.0),
            escape(event.attendee.1)
        ),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ];
    let mut out = String::new();
    for line in &lines {
        fold(line, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        crate::timestamps::parse(text).unwrap_or_default()
    }

    #[test]
    fn an_invitation_has_crlf_lines_of_at_most_75_octets_and_escaped_text() {
        let long = "Bring your insurance card, photo ID; the letter from the insurer\nand ñandú ".repeat(3);
        let event = Event {
            uid: "abc@portal.example",
            sequence: 2,
            stamp: at("2027-01-01T00:00:00Z"),
            start: at("2027-01-05T15:00:00Z"),
            end: at("2027-01-05T16:00:00Z"),
            summary: "Medical exam",
            location: "Clinic, Suite 2",
            description: &long,
            organizer: ("Firm \"A\"", "firm@example.com"),
            attendee: ("Jordan", "jordan@example.com"),
        };
        let text = calendar(Method::Request, &event);
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "{line:?}");
            assert!(!line.contains('\n'));
        }
        let unfolded = text.replace("\r\n ", "");
        assert!(unfolded.contains("DTSTART:20270105T150000Z\r\n"));
        assert!(unfolded.contains("SEQUENCE:2\r\n"));
        assert!(unfolded.contains("LOCATION:Clinic\\, Suite 2\r\n"));
        assert!(unfolded.contains("photo ID\\; the letter from the insurer\\nand ñandú"));
        assert!(unfolded.contains("ORGANIZER;CN=\"Firm A\":mailto:firm@example.com"));
        assert!(calendar(Method::Cancel, &event).contains("METHOD:CANCEL\r\n"));
    }
}
