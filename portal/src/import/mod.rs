//! Importing clients and matters from a firm's case-management export, CSV or
//! JSON (an array of objects with the same keys as the CSV columns).
//!
//! The whole file is read and checked first; a bad row is reported with its
//! line (CSV, header = line 1) or record number (JSON, from 1) and the field at
//! fault, and the other rows still import. Rows are then written in chunks of
//! [`CHUNK_ROWS`], each in one write transaction with a fixed number of reads.
//! Matters are matched on their external id, clients on their email address,
//! so importing the same file again changes nothing and writes no audit rows.
//! An empty optional value leaves what is stored as it is; new records get the
//! default. Every created or changed client and matter appends an audit event.
//!
//! The staff API's import takes an uploaded file; `portal import FILE` is
//! [`import_file`], with a progress bar on a terminal.

mod file;

pub use file::{choose_firm, import_file};

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use diesel::prelude::*;
use serde::Serialize;
use shared::audit::{self, Actor, Event};
use shared::auth::{looks_like_email, normalize_email};
use shared::catalogue::PERSONAL_INJURY;
use shared::db::models::{Matter, MatterClient, Milestone, User};
use shared::db::schema::{firms, matter_clients, matters, milestones, users};
use shared::db::{DbConnection, write_transaction};
use shared::domain::{Language, MilestoneKind, Role, new_id, now};
use shared::error::{Error, Result};
use utoipa::ToSchema;

/// Rows written per transaction.
pub const CHUNK_ROWS: usize = 500;

/// The columns (CSV) or keys (JSON) of an import file, in their usual order.
pub const COLUMNS: [&str; 9] = [
    "external_id",
    "matter_title",
    "client_name",
    "client_email",
    "client_phone",
    "language",
    "phase",
    "case_manager_email",
    "opened_on",
];

/// The columns every file must have.
const REQUIRED: [&str; 4] = ["external_id", "matter_title", "client_name", "client_email"];

/// The format of an import file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// A JSON array of objects.
    Json,
}

impl Format {
    /// The format a file name's extension (`.csv`, `.json`) names.
    pub fn from_path(path: &Path) -> Result<Self> {
        let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("csv") => Ok(Self::Csv),
            Some("json") => Ok(Self::Json),
            _ => Err(Error::invalid("file", "the file name must end in .csv or .json")),
        }
    }

    /// The format a `Content-Type` names (`text/csv`, `application/json`; parameters ignored).
    pub fn from_content_type(content_type: &str) -> Result<Self> {
        let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        match essence.as_str() {
            "text/csv" | "application/csv" => Ok(Self::Csv),
            "application/json" => Ok(Self::Json),
            _ => Err(Error::invalid("content_type", "expected text/csv or application/json")),
        }
    }

    /// What a row's number counts: physical lines of a CSV file, records of a JSON array.
    pub fn row_unit(self) -> &'static str {
        match self {
            Self::Csv => "line",
            Self::Json => "record",
        }
    }
}

/// A row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RowError {
    /// CSV: the line the row starts on (the header is line 1). JSON: the record's position, from 1.
    pub line: u64,
    /// The column at fault (`row` when the row as a whole is malformed).
    pub field: String,
    /// What is wrong, in plain words.
    pub reason: String,
}

impl RowError {
    fn new(line: u64, field: &str, reason: impl Into<String>) -> Self {
        Self { line, field: field.to_owned(), reason: reason.into() }
    }
}

/// The outcome of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Summary {
    /// The file's format (it says what [`RowError::line`] counts).
    pub format: Format,
    /// Rows whose matter was created.
    pub created: u64,
    /// Rows whose matter or client existed and was changed.
    pub updated: u64,
    /// Rows whose matter and client already held exactly these values.
    pub unchanged: u64,
    /// Rows not imported, in file order.
    pub failed: Vec<RowError>,
}

impl Summary {
    /// One failed row as a line for people: `line 7: client_email: not an email address`.
    pub fn describe(&self, error: &RowError) -> String {
        format!("{} {}: {}: {}", self.format.row_unit(), error.line, error.field, error.reason)
    }
}

/// Imports the clients and matters of `input` into `firm_id`.
///
/// Whole-file problems (unreadable input, not CSV/JSON, an unknown or missing
/// column) are an [`Error::Invalid`] and import nothing; a bad row lands in
/// [`Summary::failed`]. `progress` is called with (rows done, rows in the file)
/// after the checks and after every chunk.
pub fn import(
    conn: &mut DbConnection,
    firm_id: &str,
    format: Format,
    mut input: impl Read,
    actor: Actor<'_>,
    ip: Option<&str>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Summary> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes).map_err(|e| Error::Internal(anyhow::anyhow!("reading the import file: {e}")))?;
    let (records, mut failed) = match format {
        Format::Csv => parse_csv(&bytes)?,
        Format::Json => parse_json(&bytes)?,
    };
    let total = (records.len() + failed.len()) as u64;

    let firm = FirmContext::load(conn, firm_id)?;
    let (rows, clients, rejected) = firm.check(records);
    failed.extend(rejected);
    let mut summary = Summary { format, created: 0, updated: 0, unchanged: 0, failed: Vec::new() };
    let mut done = failed.len() as u64;
    progress(done, total);

    let first_phase = firm
        .phases
        .first()
        .map(|(_, id)| id.as_str())
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("firm {firm_id} has no {PERSONAL_INJURY} phases")))?;
    let writer = Writer { firm_id, first_phase, clients: &clients, actor, ip };
    for chunk in rows.chunks(CHUNK_ROWS) {
        let tally = write_transaction(conn, |conn| writer.write(conn, chunk))?;
        summary.created += tally.created;
        summary.updated += tally.updated;
        summary.unchanged += tally.unchanged;
        failed.extend(tally.failed);
        done += chunk.len() as u64;
        progress(done, total);
    }
    failed.sort_by_key(|e| e.line);
    summary.failed = failed;
    Ok(summary)
}

/// One row as read, before any checks: trimmed values, `None` when empty.
#[derive(Debug, Default)]
struct Record {
    line: u64,
    values: [Option<String>; COLUMNS.len()],
}

impl Record {
    fn get(&self, column: &str) -> Option<&str> {
        COLUMNS.iter().position(|c| *c == column).and_then(|i| self.values[i].as_deref())
    }

    fn set(&mut self, index: usize, value: &str) {
        let value = value.trim();
        self.values[index] = (!value.is_empty()).then(|| value.to_owned());
    }
}

fn column_index(name: &str) -> Option<usize> {
    let name = name.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
    COLUMNS.iter().position(|c| *c == name)
}

fn unknown_column(kind: &str, name: &str) -> Error {
    Error::invalid("file", format!("unknown {kind} \"{name}\"; the {kind}s are {}", COLUMNS.join(", ")))
}

/// Reads a CSV file: header row first, then one row per matter.
fn parse_csv(bytes: &[u8]) -> Result<(Vec<Record>, Vec<RowError>)> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes);
    let header = reader.headers().map_err(|e| Error::invalid("file", format!("unreadable header row: {e}")))?.clone();
    let mut positions = Vec::with_capacity(header.len());
    for (n, name) in header.iter().enumerate() {
        if name.trim().is_empty() {
            return Err(Error::invalid("file", format!("column {} of the header row has no name", n + 1)));
        }
        let index = column_index(name).ok_or_else(|| unknown_column("column", name.trim()))?;
        if positions.contains(&index) {
            return Err(Error::invalid("file", format!("the column \"{}\" appears twice", COLUMNS[index])));
        }
        positions.push(index);
    }
    let missing: Vec<&str> =
        REQUIRED.iter().copied().filter(|r| !positions.iter().any(|&i| COLUMNS[i] == *r)).collect();
    if !missing.is_empty() {
        let plural = if missing.len() == 1 { "" } else { "s" };
        return Err(Error::invalid("file", format!("missing column{plural} {}", missing.join(", "))));
    }

    let (mut records, mut failed) = (Vec::new(), Vec::new());
    for result in reader.records() {
        match result {
            Ok(row) => {
                let mut record = Record { line: start_line(bytes, row.position()), ..Record::default() };
                for (&index, value) in positions.iter().zip(row.iter()) {
                    record.set(index, value);
                }
                records.push(record);
            }
            Err(e) => {
                let line = start_line(bytes, e.position());
                let reason = match e.kind() {
                    csv::ErrorKind::UnequalLengths { len, .. } => {
                        format!("has {len} fields; the header has {}", positions.len())
                    }
                    csv::ErrorKind::Utf8 { .. } => "is not UTF-8 text".to_owned(),
                    _ => return Err(Error::invalid("file", format!("unreadable CSV: {e}"))),
                };
                failed.push(RowError::new(line, "row", reason));
            }
        }
    }
    Ok((records, failed))
}

/// The line a CSV record starts on. The reader's position is where it began
/// reading, before any blank lines it skipped; those are counted here.
fn start_line(bytes: &[u8], position: Option<&csv::Position>) -> u64 {
    let Some(position) = position else { return 0 };
    let from = usize::try_from(position.byte()).unwrap_or(usize::MAX);
    let skipped = bytes.get(from..).unwrap_or_default().iter().take_while(|b| matches!(b, b'\r' | b'\n'));
    position.line() + skipped.filter(|b| **b == b'\n').count() as u64
}

/// Reads a JSON array of objects; record numbers count from 1.
fn parse_json(bytes: &[u8]) -> Result<(Vec<Record>, Vec<RowError>)> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| Error::invalid("file", format!("not valid JSON: {e}")))?;
    let serde_json::Value::Array(items) = value else {
        return Err(Error::invalid("file", "expected a JSON array of objects"));
    };
    let (mut records, mut failed) = (Vec::new(), Vec::new());
    'items: for (n, item) in items.into_iter().enumerate() {
        let line = n as u64 + 1;
        let serde_json::Value::Object(object) = item else {
            failed.push(RowError::new(line, "row", "is not an object"));
            continue;
        };
        let mut record = Record { line, ..Record::default() };
        for (key, value) in &object {
            let index = column_index(key).ok_or_else(|| unknown_column("key", key))?;
            match value {
                serde_json::Value::String(text) => record.set(index, text),
                serde_json::Value::Number(number) => record.set(index, &number.to_string()),
                serde_json::Value::Null => {}
                _ => {
                    failed.push(RowError::new(line, COLUMNS[index], "must be text"));
                    continue 'items;
                }
            }
        }
        records.push(record);
    }
    Ok((records, failed))
}

/// What the checks need to know about the firm: its phases, staff and time zone.
struct FirmContext {
    time_zone: Option<chrono_tz::Tz>,
    /// Phase key -> id, in catalogue order.
    phases: Vec<(String, String)>,
    /// Staff email -> user id.
    staff: HashMap<String, String>,
}

/// A checked row, ready to write.
#[derive(Debug)]
struct Row {
    line: u64,
    external_id: String,
    title: String,
    client_email: String,
    /// `None`: keep the stored phase (a new matter starts in the first phase).
    phase_id: Option<String>,
    case_manager_id: Option<String>,
    opened_at: Option<NaiveDateTime>,
}

/// A client as the file describes them (merged over all their rows).
#[derive(Debug)]
struct ClientSpec {
    line: u64,
    name: String,
    phone: Option<String>,
    language: Option<Language>,
}

impl FirmContext {
    fn load(conn: &mut DbConnection, firm_id: &str) -> Result<Self> {
        let time_zone: String = firms::table.find(firm_id).select(firms::time_zone).first(conn)?;
        let phases = shared::catalogue::keys_and_ids(conn, firm_id, PERSONAL_INJURY)?;
        let staff_roles = [Role::Admin.as_str(), Role::CaseManager.as_str()];
        let staff = users::table
            .filter(users::firm_id.eq(firm_id))
            .filter(users::role.eq_any(staff_roles))
            .select((users::email, users::id))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect();
        Ok(Self { time_zone: time_zone.parse().ok(), phases, staff })
    }

    /// Checks every record; returns the rows to write, the clients they name, and the rejects.
    fn check(&self, records: Vec<Record>) -> (Vec<Row>, HashMap<String, ClientSpec>, Vec<RowError>) {
        let (mut rows, mut failed) = (Vec::new(), Vec::new());
        let mut clients: HashMap<String, ClientSpec> = HashMap::new();
        let mut seen: HashMap<String, u64> = HashMap::new();
        for record in records {
            let checked = self.check_one(&record).and_then(|(row, spec)| {
                if let Some(first) = seen.get(&row.external_id) {
                    return Err(RowError::new(row.line, "external_id", format!("already used on line {first}")));
                }
                merge_client(&mut clients, &row.client_email, spec)?;
                Ok(row)
            });
            match checked {
                Ok(row) => {
                    seen.insert(row.external_id.clone(), row.line);
                    rows.push(row);
                }
                Err(e) => failed.push(e),
            }
        }
        (rows, clients, failed)
    }

    fn check_one(&self, record: &Record) -> Result<(Row, ClientSpec), RowError> {
        let line = record.line;
        // Every value is a single line: no line breaks, control, text-direction or zero-width characters.
        for (column, value) in COLUMNS.iter().zip(&record.values) {
            if let Some(Err(e)) = value.as_deref().map(|v| shared::text::line(column, v)) {
                let reason = match e {
                    Error::Invalid { reason, .. } => reason,
                    other => other.to_string(),
                };
                return Err(RowError::new(line, column, reason));
            }
        }
        let required = |field: &str| record.get(field).ok_or_else(|| RowError::new(line, field, "missing"));
        let external_id = required("external_id")?;
        let title = required("matter_title")?;
        let name = required("client_name")?;
        let email = normalize_email(required("client_email")?);
        if !looks_like_email(&email) {
            return Err(RowError::new(line, "client_email", "not an email address"));
        }
        if self.staff.contains_key(&email) {
            return Err(RowError::new(line, "client_email", "belongs to a staff member of the firm"));
        }
        let language = match record.get("language") {
            None => None,
            Some(code) => Some(Language::parse(code).ok_or_else(|| {
                RowError::new(
                    line,
                    "language",
                    format!("unknown language \"{code}\"; use one of {}", Language::loaded_list()),
                )
            })?),
        };
        let phase_id = match record.get("phase") {
            None => None,
            Some(key) => {
                Some(self.phases.iter().find(|(k, _)| *k == key).map(|(_, id)| id.clone()).ok_or_else(|| {
                    RowError::new(line, "phase", format!("unknown phase \"{key}\"; {}", self.phase_list()))
                })?)
            }
        };
        let case_manager_id = match record.get("case_manager_email") {
            None => None,
            Some(email) => Some(
                self.staff
                    .get(&normalize_email(email))
                    .cloned()
                    .ok_or_else(|| RowError::new(line, "case_manager_email", "not a staff member of the firm"))?,
            ),
        };
        let opened_at = match record.get("opened_on") {
            None => None,
            Some(text) => {
                Some(NaiveDate::parse_from_str(text, "%Y-%m-%d").map(|date| self.start_of_day(date)).map_err(|_| {
                    RowError::new(line, "opened_on", format!("\"{text}\" is not a date like 2026-03-31"))
                })?)
            }
        };
        let row = Row {
            line,
            external_id: external_id.to_owned(),
            title: title.to_owned(),
            client_email: email,
            phase_id,
            case_manager_id,
            opened_at,
        };
        let spec =
            ClientSpec { line, name: name.to_owned(), phone: record.get("client_phone").map(str::to_owned), language };
        Ok((row, spec))
    }

    fn phase_list(&self) -> String {
        let keys: Vec<&str> = self.phases.iter().map(|(key, _)| key.as_str()).collect();
        format!("the phases are {}", keys.join(", "))
    }

    /// Midnight of `date` in the firm's time zone, as UTC (so the firm sees that date).
    fn start_of_day(&self, date: NaiveDate) -> NaiveDateTime {
        let midnight = date.and_time(NaiveTime::MIN);
        self.time_zone
            .and_then(|tz| tz.from_local_datetime(&midnight).earliest())
            .map_or(midnight, |local| local.naive_utc())
    }
}

/// Adds a row's client to `clients`; a row that describes a known client differently is an error.
fn merge_client(clients: &mut HashMap<String, ClientSpec>, email: &str, spec: ClientSpec) -> Result<(), RowError> {
    let Some(known) = clients.get_mut(email) else {
        clients.insert(email.to_owned(), spec);
        return Ok(());
    };
    let differs = |field: &str| {
        RowError::new(spec.line, field, format!("differs from line {} for the same client_email", known.line))
    };
    if spec.name != known.name {
        return Err(differs("client_name"));
    }
    if spec.phone.is_some() && known.phone.is_some() && spec.phone != known.phone {
        return Err(differs("client_phone"));
    }
    if spec.language.is_some() && known.language.is_some() && spec.language != known.language {
        return Err(differs("language"));
    }
    if known.phone.is_none() {
        known.phone = spec.phone;
    }
    if known.language.is_none() {
        known.language = spec.language;
    }
    Ok(())
}

/// Counts of one chunk, merged into the summary after its transaction commits.
#[derive(Debug, Default)]
struct Tally {
    created: u64,
    updated: u64,
    unchanged: u64,
    failed: Vec<RowError>,
}

/// An audit event before the borrow of its strings.
struct PendingEvent {
    action: &'static str,
    target_type: &'static str,
    target_id: String,
    detail: Option<String>,
}

struct Writer<'a> {
    firm_id: &'a str,
    /// Where a new matter without a phase starts.
    first_phase: &'a str,
    clients: &'a HashMap<String, ClientSpec>,
    actor: Actor<'a>,
    ip: Option<&'a str>,
}

/// What a chunk finds already in the database: matters by external id, the
/// firm's users by email, and each existing matter's clients.
struct Known {
    matters: HashMap<String, Matter>,
    people: HashMap<String, User>,
    links: HashMap<String, Vec<String>>,
}

/// What writing a chunk adds up: the counts, the rows to insert and the audit events.
#[derive(Default)]
struct Changes<'r> {
    tally: Tally,
    events: Vec<PendingEvent>,
    /// Each row's client id, by email.
    client_ids: HashMap<&'r str, String>,
    /// Clients whose details changed, not yet counted with a row.
    changed_clients: HashSet<&'r str>,
    new_clients: Vec<User>,
    new_matters: Vec<Matter>,
    new_links: Vec<MatterClient>,
    moves: Vec<Milestone>,
}

impl Writer<'_> {
    /// Writes one chunk: three reads, then inserts in batches and one update per changed record.
    fn write(&self, conn: &mut DbConnection, rows: &[Row]) -> Result<Tally> {
        let t = now();
        let emails = distinct_emails(rows);
        let known = self.read_known(conn, rows, &emails)?;
        let mut changes = Changes::default();
        // Clients first: matters link to them.
        self.write_clients(conn, &emails, &known, &mut changes, t)?;
        for row in rows {
            self.write_matter(conn, row, &known, &mut changes, t)?;
        }
        self.insert_and_audit(conn, changes, t)
    }

    fn read_known(&self, conn: &mut DbConnection, rows: &[Row], emails: &[&str]) -> Result<Known> {
        let external_ids: Vec<&str> = rows.iter().map(|r| r.external_id.as_str()).collect();
        let matters: HashMap<String, Matter> = matters::table
            .filter(matters::firm_id.eq(self.firm_id))
            .filter(matters::external_id.eq_any(&external_ids))
            .select(Matter::as_select())
            .load(conn)?
            .into_iter()
            .filter_map(|m| m.external_id.clone().map(|id| (id, m)))
            .collect();
        let people: HashMap<String, User> = users::table
            .filter(users::firm_id.eq(self.firm_id))
            .filter(users::email.eq_any(emails))
            .select(User::as_select())
            .load(conn)?
            .into_iter()
            .map(|u| (u.email.clone(), u))
            .collect();
        let matter_ids: Vec<&str> = matters.values().map(|m| m.id.as_str()).collect();
        let mut links: HashMap<String, Vec<String>> = HashMap::new();
        for (matter_id, client_id) in matter_clients::table
            .filter(matter_clients::matter_id.eq_any(&matter_ids))
            .select((matter_clients::matter_id, matter_clients::client_id))
            .load::<(String, String)>(conn)?
        {
            links.entry(matter_id).or_default().push(client_id);
        }
        Ok(Known { matters, people, links })
    }

    /// Creates the chunk's new clients (inserted later, in one batch) and
    /// updates those whose name, phone or language changed. A staff member's
    /// address gets no client id: its rows fail.
    fn write_clients<'r>(
        &self,
        conn: &mut DbConnection,
        emails: &[&'r str],
        known: &Known,
        changes: &mut Changes<'r>,
        t: NaiveDateTime,
    ) -> Result<()> {
        for &email in emails {
            let Some(spec) = self.clients.get(email) else { continue };
            match known.people.get(email) {
                Some(user) if user.role != Role::Client => {}
                Some(user) => {
                    changes.client_ids.insert(email, user.id.clone());
                    let phone = spec.phone.clone().or_else(|| user.phone.clone());
                    let language = spec.language.unwrap_or(user.language);
                    let mut changed = Vec::new();
                    if spec.name != user.full_name {
                        changed.push("name");
                    }
                    if phone != user.phone {
                        changed.push("phone");
                    }
                    if language != user.language {
                        changed.push("language");
                    }
                    if changed.is_empty() {
                        continue;
                    }
                    diesel::update(users::table.find(&user.id))
                        .set((
                            users::full_name.eq(&spec.name),
                            users::phone.eq(&phone),
                            users::language.eq(language),
                            users::updated_at.eq(t),
                        ))
                        .execute(conn)?;
                    changes.events.push(PendingEvent {
                        action: "client.import.update",
                        target_type: "client",
                        target_id: user.id.clone(),
                        detail: Some(format!("changed: {}", changed.join(", "))),
                    });
                    changes.changed_clients.insert(email);
                }
                None => {
                    let language = spec.language.unwrap_or(Language::EN);
                    let client = User {
                        phone: spec.phone.clone(),
                        ..User::new(self.firm_id, Role::Client, email, &spec.name, language, t)
                    };
                    changes.events.push(PendingEvent {
                        action: "client.import.create",
                        target_type: "client",
                        target_id: client.id.clone(),
                        detail: None,
                    });
                    changes.client_ids.insert(email, client.id.clone());
                    changes.new_clients.push(client);
                }
            }
        }
        Ok(())
    }

    /// One row's matter: created, updated (a phase change recorded like one
    /// made in the portal), or unchanged; counted in the tally.
    fn write_matter<'r>(
        &self,
        conn: &mut DbConnection,
        row: &'r Row,
        known: &Known,
        changes: &mut Changes<'r>,
        t: NaiveDateTime,
    ) -> Result<()> {
        let Some(client_id) = changes.client_ids.get(row.client_email.as_str()).cloned() else {
            changes.tally.failed.push(RowError::new(row.line, "client_email", "belongs to a staff member of the firm"));
            return Ok(());
        };
        let Some(matter) = known.matters.get(&row.external_id) else {
            let matter = Matter {
                id: new_id(),
                firm_id: self.firm_id.to_owned(),
                practice_area: PERSONAL_INJURY.to_owned(),
                phase_id: row.phase_id.clone().unwrap_or_else(|| self.first_phase.to_owned()),
                title: row.title.clone(),
                case_manager_id: row.case_manager_id.clone(),
                external_id: Some(row.external_id.clone()),
                opened_at: row.opened_at.unwrap_or(t),
                closed_at: None,
                updated_at: t,
            };
            changes.events.push(PendingEvent {
                action: "matter.import.create",
                target_type: "matter",
                target_id: matter.id.clone(),
                detail: Some(format!("external id {}", row.external_id)),
            });
            changes.new_links.push(MatterClient { matter_id: matter.id.clone(), client_id });
            changes.new_matters.push(matter);
            changes.changed_clients.remove(row.client_email.as_str());
            changes.tally.created += 1;
            return Ok(());
        };

        let phase_id = row.phase_id.as_ref().unwrap_or(&matter.phase_id);
        let case_manager_id = row.case_manager_id.as_ref().or(matter.case_manager_id.as_ref());
        let opened_at = row.opened_at.unwrap_or(matter.opened_at);
        let linked = known.links.get(&matter.id).map(Vec::as_slice).unwrap_or_default();
        let mut changed = Vec::new();
        if row.title != matter.title {
            changed.push("title");
        }
        if *phase_id != matter.phase_id {
            changed.push("phase");
        }
        if case_manager_id != matter.case_manager_id.as_ref() {
            changed.push("case manager");
        }
        if opened_at != matter.opened_at {
            changed.push("opened on");
        }
        let moved = linked != std::slice::from_ref(&client_id);
        if moved {
            changed.push("client");
        }
        if changed.is_empty() {
            // A client changed by this row still makes the row an update.
            if changes.changed_clients.remove(row.client_email.as_str()) {
                changes.tally.updated += 1;
            } else {
                changes.tally.unchanged += 1;
            }
            return Ok(());
        }
        diesel::update(matters::table.find(&matter.id))
            .set((
                matters::title.eq(&row.title),
                matters::phase_id.eq(phase_id),
                matters::case_manager_id.eq(case_manager_id),
                matters::opened_at.eq(opened_at),
                matters::updated_at.eq(t),
            ))
            .execute(conn)?;
        if moved {
            // The export is the source of truth for who the matter's client is.
            diesel::delete(matter_clients::table.filter(matter_clients::matter_id.eq(&matter.id))).execute(conn)?;
            changes.new_links.push(MatterClient { matter_id: matter.id.clone(), client_id });
        }
        if *phase_id != matter.phase_id {
            // Recorded like a phase change made in the portal, so the weekly update tells the client.
            changes.moves.push(Milestone {
                id: new_id(),
                matter_id: matter.id.clone(),
                kind: MilestoneKind::PhaseChange,
                client_visible: true,
                phase_id: Some(phase_id.clone()),
                body: None,
                occurs_at: None,
                created_by: None,
                created_at: t,
            });
        }
        changes.events.push(PendingEvent {
            action: "matter.import.update",
            target_type: "matter",
            target_id: matter.id.clone(),
            detail: Some(format!("external id {}; changed: {}", row.external_id, changed.join(", "))),
        });
        changes.changed_clients.remove(row.client_email.as_str());
        changes.tally.updated += 1;
        Ok(())
    }

    /// Inserts the chunk's new rows in batches and appends its audit events.
    fn insert_and_audit(&self, conn: &mut DbConnection, changes: Changes<'_>, t: NaiveDateTime) -> Result<Tally> {
        if !changes.new_clients.is_empty() {
            shared::insert_many!(conn, users::table, &changes.new_clients)?;
        }
        if !changes.new_matters.is_empty() {
            shared::insert_many!(conn, matters::table, &changes.new_matters)?;
        }
        if !changes.new_links.is_empty() {
            shared::insert_many!(conn, matter_clients::table, &changes.new_links)?;
        }
        if !changes.moves.is_empty() {
            shared::insert_many!(conn, milestones::table, &changes.moves)?;
        }
        let events: Vec<Event<'_>> = changes
            .events
            .iter()
            .map(|e| Event {
                firm_id: Some(self.firm_id),
                actor: self.actor,
                action: e.action,
                target_type: e.target_type,
                target_id: Some(&e.target_id),
                ip: self.ip,
                detail: e.detail.clone(),
            })
            .collect();
        audit::append_all(conn, &events, t)?;
        Ok(changes.tally)
    }
}

/// The chunk's client addresses, each once, in the order they first appear.
fn distinct_emails(rows: &[Row]) -> Vec<&str> {
    let mut seen = HashSet::new();
    rows.iter().map(|r| r.client_email.as_str()).filter(|e| seen.insert(*e)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(errors: &[RowError]) -> Vec<(u64, &str)> {
        errors.iter().map(|e| (e.line, e.field.as_str())).collect()
    }

    #[test]
    fn csv_rows_carry_their_physical_line_numbers() -> Result<()> {
        let csv = "external_id,matter_title,client_name,client_email\n\
                   A-1,One,Ann,ann@example.com\r\n\
                   \r\n\
                   \n\
                   A-2,\"Two\nlines\",Bob,bob@example.com\n\
                   A-3,Three,Cy\n\
                   A-4,Four,Di,di@example.com\n";
        let (records, failed) = parse_csv(csv.as_bytes())?;
        let numbers: Vec<u64> = records.iter().map(|r| r.line).collect();
        assert_eq!(numbers, [2, 5, 8]);
        assert_eq!(lines(&failed), [(7, "row")]);
        assert_eq!(failed[0].reason, "has 3 fields; the header has 4");
        assert_eq!(records[1].get("matter_title"), Some("Two\nlines"));
        Ok(())
    }

    #[test]
    fn an_unknown_or_missing_column_rejects_the_whole_file() {
        let unknown = parse_csv(b"external_id,matter_name,client_name,client_email\n").map(|_| ());
        let message = unknown.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.starts_with("file: unknown column \"matter_name\""), "{message}");

        let missing = parse_csv(b"\xEF\xBB\xBFexternal_id,client_name\n").map(|_| ());
        let message = missing.err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(message, "file: missing columns matter_title, client_email");

        let json = parse_json(br#"[{"external_id": "A"}, {"external_id": "B", "colour": "red"}]"#).map(|_| ());
        let message = json.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.starts_with("file: unknown key \"colour\""), "{message}");
    }

    #[test]
    fn json_records_count_from_one_and_accept_numbers_and_nulls() -> Result<()> {
        let json = br#"[{"external_id": 17, "client_phone": null}, "nonsense", {"external_id": ["x"]}]"#;
        let (records, failed) = parse_json(json)?;
        assert_eq!(records.len(), 1);
        assert_eq!(
            (records[0].line, records[0].get("external_id"), records[0].get("client_phone")),
            (1, Some("17"), None)
        );
        assert_eq!(lines(&failed), [(2, "row"), (3, "external_id")]);
        Ok(())
    }

    #[test]
    fn checks_name_the_field_at_fault() -> Result<()> {
        let firm = FirmContext {
            time_zone: "America/Chicago".parse().ok(),
            phases: vec![("intake".into(), "p1".into()), ("demand".into(), "p5".into())],
            staff: HashMap::from([("casey@firm.test".to_owned(), "u-casey".to_owned())]),
        };
        let csv = "external_id,matter_title,client_name,client_email,language,phase,case_manager_email,opened_on\n\
                   A-1,One,Ann,ANN@Example.com ,es,demand,Casey@firm.test,2026-03-31\n\
                   A-2,Two,Bob,bob@example,,,,\n\
                   A-3,Three,Cy,cy@example.com,fr,,,\n\
                   A-4,Four,Di,di@example.com,,trial,,\n\
                   A-5,Five,Ed,ed@example.com,,,nobody@firm.test,\n\
                   A-6,Six,Fay,fay@example.com,,,,31/03/2026\n\
                   A-1,Again,Gus,gus@example.com,,,,\n\
                   A-8,Eight,Ann B,ann@example.com,,,,\n\
                   A-9,,Hal,hal@example.com,,,,\n\
                   A-10,Ten,Casey,casey@firm.test,,,,\n\
                   A-11,Eleven,Ann,ann@example.com,,,,\n";
        let (records, _) = parse_csv(csv.as_bytes())?;
        let (rows, clients, failed) = firm.check(records);
        assert_eq!(
            lines(&failed),
            [
                (3, "client_email"),
                (4, "language"),
                (5, "phase"),
                (6, "case_manager_email"),
                (7, "opened_on"),
                (8, "external_id"),
                (9, "client_name"),
                (10, "matter_title"),
                (11, "client_email")
            ]
        );
        assert_eq!(failed[0].reason, "not an email address");
        assert_eq!(failed[5].reason, "already used on line 2");
        assert_eq!(failed[6].reason, "differs from line 2 for the same client_email");
        let ids: Vec<&str> = rows.iter().map(|r| r.external_id.as_str()).collect();
        assert_eq!(ids, ["A-1", "A-11"]);
        let first = &rows[0];
        assert_eq!(first.client_email, "ann@example.com");
        assert_eq!((first.phase_id.as_deref(), first.case_manager_id.as_deref()), (Some("p5"), Some("u-casey")));
        // Midnight in Chicago (CDT, UTC-5) on 31 March.
        assert_eq!(first.opened_at.map(|t| t.to_string()).as_deref(), Some("2026-03-31 05:00:00"));
        assert_eq!(clients.get("ann@example.com").and_then(|c| c.language), Some(Language::ES));
        Ok(())
    }

    #[test]
    fn control_and_invisible_characters_fail_their_row_naming_the_column() -> Result<()> {
        let firm = FirmContext { time_zone: None, phases: vec![("intake".into(), "p1".into())], staff: HashMap::new() };
        let csv = "external_id,matter_title,client_name,client_email,client_phone\n\
                   A-1,\"Two\nlines\",Ann,ann@example.com,\n\
                   A-2,Two,B\u{202E}ob,bob@example.com,\n\
                   A-3,Three,Cy,cy@example.com,555\u{200B}0100\n\
                   A-4\u{0},Four,Di,di@example.com,\n\
                   A-5,Five,Ed,ed@example.com,+1 555 0100\n";
        let (records, _) = parse_csv(csv.as_bytes())?;
        let (rows, _, failed) = firm.check(records);
        assert_eq!(lines(&failed), [(2, "matter_title"), (4, "client_name"), (5, "client_phone"), (6, "external_id")]);
        assert!(failed.iter().all(|e| e.reason.starts_with("contains ")), "{failed:?}");
        assert_eq!(rows.iter().map(|r| r.external_id.as_str()).collect::<Vec<_>>(), ["A-5"]);
        Ok(())
    }

    #[test]
    fn formats_come_from_file_names_and_content_types() -> Result<()> {
        assert_eq!(Format::from_path(Path::new("export/Clients.CSV"))?, Format::Csv);
        assert_eq!(Format::from_path(Path::new("clients.json"))?, Format::Json);
        assert!(Format::from_path(Path::new("clients.xlsx")).is_err());
        assert_eq!(Format::from_content_type("text/csv; charset=utf-8")?, Format::Csv);
        assert_eq!(Format::from_content_type("application/json")?, Format::Json);
        assert!(Format::from_content_type("application/vnd.ms-excel").is_err());
        Ok(())
    }
}
