//! Documents on a matter: which files are accepted (decided from their bytes),
//! how a client's file name is kept (sanitised, for display only), and the
//! bookkeeping once an object is stored — the row, the "document received"
//! milestone, the fulfilled request (one that waits for staff to mark it
//! complete stays open) and the audit event, in one transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit::{self, Actor};
use crate::client_view::own_matter;
use crate::db::models::{Document, Milestone, User};
use crate::db::schema::{document_requests, documents, matters, milestones};
use crate::db::{DbConnection, write_transaction};
use crate::domain::{DocumentCategory, FulfilOn, MilestoneKind, RequestStatus, new_id};
use crate::error::{Error, Result};

/// Bytes of a file's start that the type check looks at.
pub const SNIFF_BYTES: usize = 8192;

/// The file types a client may upload, by what their bytes say, as `infer`
/// names them: a phone's HEIC photo (`ftypheic`, or `mif1` listing `heic`) is
/// `image/heif`, so HEIC and HEIF are stored, served and counted as that one type.
pub const ACCEPTED_TYPES: &[&str] =
    &["application/pdf", "image/jpeg", "image/png", "image/heif", "image/tiff", "image/webp"];

pub use crate::domain::DocumentSource;

impl DocumentSource {
    /// The uploader `user_id` as the audit log names them: a client, or staff for the firm.
    pub fn actor(self, user_id: &str) -> Actor<'_> {
        match self {
            Self::Client => Actor::Client(user_id),
            Self::Firm => Actor::Staff(user_id),
        }
    }
}

/// Why a file was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// The bytes are not a PDF or a photo.
    UnsupportedType,
    /// The file has no bytes.
    Empty,
    /// The file is larger than the limit.
    TooLarge,
    /// The virus scanner (clamd) found malware in the file.
    Infected,
}

impl Refusal {
    /// The locale key of the explanation shown to the client.
    pub fn message_key(self) -> &'static str {
        match self {
            Self::UnsupportedType => "upload-refused-type",
            Self::Empty => "upload-refused-empty",
            Self::TooLarge => "upload-refused-size",
            Self::Infected => "upload-refused-infected",
        }
    }
}

/// The accepted type of a file whose first bytes are `head`, or why it is refused.
pub fn sniff(head: &[u8]) -> std::result::Result<&'static str, Refusal> {
    if head.is_empty() {
        return Err(Refusal::Empty);
    }
    let detected = infer::get(head).map(|t| t.mime_type()).ok_or(Refusal::UnsupportedType)?;
    ACCEPTED_TYPES.iter().copied().find(|t| *t == detected).ok_or(Refusal::UnsupportedType)
}

/// A client's file name made safe to show: the last path segment only, no
/// control, bidirectional-override or invisible characters (zero-width
/// characters, soft hyphens, byte-order marks), no line or paragraph
/// separators, at most 120 characters. Applied at upload and again when a
/// stored name is shown or served, so rows kept from before get the same.
pub fn sanitize_file_name(raw: &str) -> String {
    use crate::text::{is_bidi_control, is_invisible, is_line_separator};
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c) && !is_invisible(*c) && !is_line_separator(*c))
        .collect();
    // Dots and spaces in any mix at the start (". .pdf" would otherwise become ".pdf").
    let trimmed = cleaned.trim_start_matches(|c: char| c == '.' || c.is_whitespace()).trim_end();
    let short: String = trimmed.chars().take(120).collect();
    // Cut at 120, the name may end in a space: trim again, so sanitising twice changes nothing.
    let short = short.trim_end();
    if short.is_empty() { "document".to_owned() } else { short.to_owned() }
}

/// The extensions a file of an accepted type may carry, the usual one first.
pub fn extensions_of(content_type: &str) -> &'static [&'static str] {
    match content_type {
        "application/pdf" => &["pdf"],
        "image/jpeg" => &["jpg", "jpeg", "jpe"],
        "image/png" => &["png"],
        "image/heif" => &["heic", "heif"],
        "image/tiff" => &["tif", "tiff"],
        "image/webp" => &["webp"],
        _ => &[],
    }
}

/// The name a document downloads under: its display name sanitised, with an
/// extension that matches the type its bytes were found to be. PDF bytes named
/// `statement.html` download as `statement.pdf`; `scan` as `scan.pdf`.
pub fn download_name(original_name: &str, content_type: &str) -> String {
    let name = sanitize_file_name(original_name);
    let Some(&usual) = extensions_of(content_type).first() else { return name };
    let (stem, extension) = match name.rsplit_once('.') {
        // Something like an extension: 1 to 5 letters or digits after the last dot.
        Some((stem, ext))
            if !stem.is_empty() && (1..=5).contains(&ext.len()) && ext.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            (stem, Some(ext))
        }
        _ => (name.as_str(), None),
    };
    match extension {
        Some(ext) if extensions_of(content_type).contains(&ext.to_ascii_lowercase().as_str()) => name.clone(),
        _ => {
            // Keep within the display length: shorten the stem, not the extension.
            let room = 120 - usual.len() - 1;
            let stem: String = stem.chars().take(room).collect();
            format!("{}.{usual}", stem.trim_end())
        }
    }
}

/// Where the object of a new document goes: `firms/{firm}/matters/{matter}/documents/{document}`,
/// each id in its 32-hex-digit form (no dashes), which keeps keys short enough
/// for S3-compatible servers that build file names from them.
pub fn object_key(firm_id: &str, matter_id: &str, document_id: &str) -> String {
    let compact = |id: &str| id.replace('-', "");
    format!("firms/{}/matters/{}/documents/{}", compact(firm_id), compact(matter_id), compact(document_id))
}

/// The open request `request_id` of `matter_id`, with its category.
pub fn open_request(conn: &mut DbConnection, matter_id: &str, request_id: &str) -> Result<DocumentCategory> {
    let category: Option<DocumentCategory> = document_requests::table
        .filter(document_requests::id.eq(request_id))
        .filter(document_requests::matter_id.eq(matter_id))
        .filter(document_requests::status.eq(RequestStatus::Open))
        .select(document_requests::category)
        .first(conn)
        .optional()?;
    category.ok_or_else(|| Error::invalid("request", "no such open request on this matter"))
}

/// Records a stored object: the document row, the upload's "document
/// received" milestone and the request it fulfils (closed, with its own
/// milestone) for a client's upload, and the audit event — all or nothing. A
/// document the firm shares gets no milestone (the client's timeline is for
/// what they sent and what happened on their case) and fulfils no request.
///
/// One upload is one timeline entry: the first file of an upload adds the
/// milestone and its id is returned; pass it back as `receipt` for the
/// upload's next files, which add their names to it (see [`received_names`]).
pub fn record_upload(
    conn: &mut DbConnection,
    document: &Document,
    ip: Option<&str>,
    now: NaiveDateTime,
    receipt: Option<&str>,
) -> Result<Option<String>> {
    let source = document.source;
    write_transaction(conn, |conn| {
        diesel::insert_into(documents::table).values(document).execute(conn)?;
        let milestone = match source {
            DocumentSource::Client => Some(record_receipt_milestones(conn, document, now, receipt)?),
            DocumentSource::Firm => None,
        };
        diesel::update(matters::table.find(&document.matter_id)).set(matters::updated_at.eq(now)).execute(conn)?;
        let firm_id: String = matters::table.find(&document.matter_id).select(matters::firm_id).first(conn)?;
        let uploader = document.uploaded_by.as_deref().unwrap_or_default();
        audit::append(
            conn,
            &audit::Event {
                firm_id: Some(&firm_id),
                actor: source.actor(uploader),
                action: match source {
                    DocumentSource::Client => "document.upload",
                    DocumentSource::Firm => "document.share",
                },
                target_type: "document",
                target_id: Some(&document.id),
                ip,
                detail: Some(format!("{} bytes, {}", document.size_bytes, document.content_type)),
            },
            now,
        )?;
        Ok(milestone)
    })
}

/// What separates the file names in a "document received" milestone's body
/// (names are sanitised, so none contains a line break).
const NAME_SEPARATOR: char = '\n';

/// The file names a "document received" milestone's `body` lists, in the
/// order they arrived (one upload of several files is one milestone).
pub fn received_names(body: &str) -> Vec<&str> {
    body.split(NAME_SEPARATOR).map(str::trim).filter(|n| !n.is_empty()).collect()
}

/// A client's document arrived: the upload's "document received" milestone
/// (added, or `receipt` extended with this file's name), and the request it
/// fulfils closed with its own milestone. Returns the receipt milestone's id.
fn record_receipt_milestones(
    conn: &mut DbConnection,
    document: &Document,
    now: NaiveDateTime,
    receipt: Option<&str>,
) -> Result<String> {
    let milestone = |kind: MilestoneKind, body: Option<String>| Milestone {
        id: new_id(),
        matter_id: document.matter_id.clone(),
        kind,
        client_visible: true,
        phase_id: None,
        body,
        occurs_at: None,
        created_by: document.uploaded_by.clone(),
        created_at: now,
    };
    let name = sanitize_file_name(&document.original_name);
    let existing: Option<(String, Option<String>)> = match receipt {
        Some(id) => milestones::table
            .filter(milestones::id.eq(id))
            .filter(milestones::matter_id.eq(&document.matter_id))
            .filter(milestones::kind.eq(MilestoneKind::DocumentReceived))
            .select((milestones::id, milestones::body))
            .first(conn)
            .optional()?,
        None => None,
    };
    let receipt_id = match existing {
        Some((id, body)) => {
            let body = match body.filter(|b| !b.is_empty()) {
                Some(names) => format!("{names}{NAME_SEPARATOR}{name}"),
                None => name,
            };
            diesel::update(milestones::table.find(&id)).set(milestones::body.eq(Some(body))).execute(conn)?;
            id
        }
        None => {
            let row = milestone(MilestoneKind::DocumentReceived, Some(name));
            diesel::insert_into(milestones::table).values(&row).execute(conn)?;
            row.id
        }
    };
    if let Some(request_id) = &document.request_id {
        let closed = diesel::update(
            document_requests::table
                .filter(document_requests::id.eq(request_id))
                .filter(document_requests::matter_id.eq(&document.matter_id))
                .filter(document_requests::status.eq(RequestStatus::Open))
                // A request for several files stays open until staff mark it complete.
                .filter(document_requests::fulfil_on.eq(FulfilOn::FirstUpload)),
        )
        .set((document_requests::status.eq(RequestStatus::Fulfilled), document_requests::closed_at.eq(now)))
        .execute(conn)?;
        if closed == 1 {
            let title: String =
                document_requests::table.find(request_id).select(document_requests::title).first(conn)?;
            diesel::insert_into(milestones::table)
                .values(milestone(MilestoneKind::RequestFulfilled, Some(title)))
                .execute(conn)?;
        }
    }
    Ok(receipt_id)
}

/// A document as a client sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentView {
    /// Document id.
    pub id: String,
    /// The file name as uploaded (sanitised).
    pub name: String,
    /// Type decided from the bytes.
    pub content_type: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// Category key.
    pub category: crate::domain::DocumentCategory,
    /// `client` (you uploaded it) or `firm` (the firm shared it).
    pub source: crate::domain::DocumentSource,
    /// When it arrived (UTC).
    pub created_at: NaiveDateTime,
}

impl From<Document> for DocumentView {
    fn from(d: Document) -> Self {
        Self {
            id: d.id,
            name: sanitize_file_name(&d.original_name),
            content_type: d.content_type,
            size_bytes: d.size_bytes,
            sha256: d.sha256,
            category: d.category,
            source: d.source,
            created_at: d.created_at,
        }
    }
}

/// The documents of a matter the client may see (theirs and the firm's), newest first.
pub fn list(conn: &mut DbConnection, client: &User, matter_id: &str) -> Result<Vec<DocumentView>> {
    own_matter(conn, client, matter_id)?;
    list_of(conn, matter_id)
}

/// The documents of a matter already shown to its client: holding the
/// [`MatterDetail`](crate::client_view::MatterDetail) proves the check was made.
pub fn list_shown(conn: &mut DbConnection, shown: &crate::client_view::MatterDetail) -> Result<Vec<DocumentView>> {
    list_of(conn, &shown.id)
}

fn list_of(conn: &mut DbConnection, matter_id: &str) -> Result<Vec<DocumentView>> {
    Ok(documents::table
        .filter(documents::matter_id.eq(matter_id))
        .order(documents::created_at.desc())
        .select(Document::as_select())
        .load(conn)?
        .into_iter()
        .map(DocumentView::from)
        .collect())
}

/// The document `document_id` of `matter_id`, if the client may see it; [`Error::NotFound`] otherwise.
pub fn for_download(conn: &mut DbConnection, client: &User, matter_id: &str, document_id: &str) -> Result<Document> {
    own_matter(conn, client, matter_id)?;
    documents::table
        .filter(documents::id.eq(document_id))
        .filter(documents::matter_id.eq(matter_id))
        .select(Document::as_select())
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)
}

/// A size for people: "1.4 MB", "820 KB", "12 bytes", "250 MB".
///
/// One convention wherever a size is shown: a kilobyte is 1024 bytes and a
/// megabyte 1024 × 1024, as the upload limit is set (262,144,000 bytes is
/// "250 MB"). Whole numbers lose their ".0".
pub fn human_size(bytes: i64) -> String {
    const KB: f64 = 1024.0;
    const MB: f64 = KB * KB;
    const GB: f64 = MB * KB;
    let b = bytes as f64;
    let one_decimal = |value: f64, unit: &str| {
        let rounded = (value * 10.0).round() / 10.0;
        if rounded.fract() == 0.0 { format!("{rounded:.0} {unit}") } else { format!("{rounded:.1} {unit}") }
    };
    if b >= GB {
        one_decimal(b / GB, "GB")
    } else if b >= MB || (b / KB).round() >= KB {
        one_decimal(b / MB, "MB")
    } else if b >= KB {
        format!("{:.0} KB", b / KB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_types_come_from_the_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), Ok("application/pdf"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0]), Ok("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Ok("image/png"));
        assert_eq!(
            sniff(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff"),
            Err(Refusal::UnsupportedType),
            "a Windows executable"
        );
        assert_eq!(sniff(b"<!DOCTYPE html><html><script>alert(1)</script>"), Err(Refusal::UnsupportedType));
        assert_eq!(sniff(b"PK\x03\x04\x14\0\0\0\x08\0"), Err(Refusal::UnsupportedType), "a zip");
        assert_eq!(sniff(b""), Err(Refusal::Empty));
    }

    /// An ISO-BMFF `ftyp` box: major brand, minor version 0, compatible brands.
    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let length = u32::try_from(16 + 4 * compatible.len()).unwrap_or_default();
        let mut head = length.to_be_bytes().to_vec();
        head.extend_from_slice(b"ftyp");
        head.extend_from_slice(major);
        head.extend_from_slice(&[0; 4]);
        for brand in compatible {
            head.extend_from_slice(*brand);
        }
        // The next box (`meta`), as a real file continues.
        head.extend_from_slice(b"\0\0\0\x21meta\0\0\0\0");
        head
    }

    #[test]
    fn phone_photos_of_every_accepted_kind_are_recognised() {
        // HEIC, as an iPhone writes it, and the generic HEIF brand that lists HEIC.
        assert_eq!(sniff(&ftyp(b"heic", &[b"mif1", b"heic"])), Ok("image/heif"));
        assert_eq!(sniff(&ftyp(b"mif1", &[b"mif1", b"heic"])), Ok("image/heif"));
        assert_eq!(sniff(&ftyp(b"heix", &[b"mif1", b"heix"])), Ok("image/heif"));
        // TIFF in both byte orders: "II*\0" (little-endian) and "MM\0*" (big-endian).
        assert_eq!(sniff(b"II*\0\x08\0\0\0\x0e\0\xfe\0\x04\0"), Ok("image/tiff"));
        assert_eq!(sniff(b"MM\0*\0\0\0\x08\0\x0e\0\xfe\0\x04"), Ok("image/tiff"));
        assert_eq!(sniff(b"RIFF\x24\x10\0\0WEBPVP8 \x18\x10\0\0"), Ok("image/webp"));
        // Neighbours that are not accepted: an AVIF photo, a RIFF that is audio, an MP4 video.
        assert_eq!(sniff(&ftyp(b"avif", &[b"mif1", b"avif"])), Err(Refusal::UnsupportedType));
        assert_eq!(sniff(b"RIFF\x24\x10\0\0WAVEfmt \x10\0\0\0"), Err(Refusal::UnsupportedType));
        assert_eq!(sniff(&ftyp(b"isom", &[b"isom", b"mp41"])), Err(Refusal::UnsupportedType));
    }

    #[test]
    fn every_accepted_type_can_come_out_of_sniffing() {
        let samples: Vec<Vec<u8>> = vec![
            b"%PDF-1.7\n".to_vec(),
            vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0],
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
            ftyp(b"heic", &[b"mif1", b"heic"]),
            b"II*\0\x08\0\0\0\x0e\0\xfe\0".to_vec(),
            b"RIFF\x24\x10\0\0WEBPVP8 ".to_vec(),
        ];
        let found: Vec<&str> = samples.iter().filter_map(|s| sniff(s).ok()).collect();
        assert_eq!(found, ACCEPTED_TYPES, "an accepted type no file can have is dead");
    }

    #[test]
    fn file_names_are_made_safe_to_show() {
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_file_name("C:\\Users\\me\\bill.pdf"), "bill.pdf");
        assert_eq!(sanitize_file_name("factura médica 医療.pdf"), "factura médica 医療.pdf");
        assert_eq!(sanitize_file_name("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(sanitize_file_name("a\r\nb\0.jpg"), "ab.jpg");
        assert_eq!(sanitize_file_name(".hidden"), "hidden");
        assert_eq!(sanitize_file_name("   "), "document");
        assert_eq!(sanitize_file_name(&"x".repeat(500)).chars().count(), 120);
        // Found by the file_name fuzz target: dots and spaces mixed at the start.
        assert_eq!(sanitize_file_name("   . . "), "document");
        assert_eq!(sanitize_file_name(". .pdf"), "pdf");
        assert_eq!(sanitize_file_name(" .. . .env"), "env");
        let cut = format!("{} tail", "y".repeat(119));
        assert_eq!(sanitize_file_name(&cut), "y".repeat(119));
        assert_eq!(sanitize_file_name(&sanitize_file_name(&cut)), sanitize_file_name(&cut));
    }

    #[test]
    fn invisible_characters_leave_display_names() {
        assert_eq!(sanitize_file_name("bill\u{200B}\u{200C}\u{200D}\u{2060}.pdf"), "bill.pdf");
        assert_eq!(sanitize_file_name("\u{FEFF}med\u{00AD}ical.pdf"), "medical.pdf");
        assert_eq!(sanitize_file_name("line\u{2028}para\u{2029}.jpg"), "linepara.jpg");
    }

    #[test]
    fn downloads_carry_the_extension_of_their_bytes() {
        assert_eq!(download_name("statement.html", "application/pdf"), "statement.pdf");
        assert_eq!(download_name("statement.PDF", "application/pdf"), "statement.PDF");
        assert_eq!(download_name("scan", "application/pdf"), "scan.pdf");
        assert_eq!(download_name("photo.jpeg", "image/jpeg"), "photo.jpeg");
        assert_eq!(download_name("photo.png", "image/jpeg"), "photo.jpg");
        assert_eq!(download_name("IMG_0001.HEIC", "image/heif"), "IMG_0001.HEIC");
        assert_eq!(download_name("report v2.final draft", "application/pdf"), "report v2.final draft.pdf");
        assert_eq!(download_name("x\u{200B}.exe\u{202E}", "image/png"), "x.png");
        let long = download_name(&format!("{}.html", "a".repeat(200)), "application/pdf");
        assert!(long.ends_with(".pdf") && long.chars().count() <= 120, "{long}");
        assert_eq!(download_name(&long, "application/pdf"), long);
    }

    #[test]
    fn an_upload_lists_its_names_in_one_milestone() {
        assert_eq!(received_names("a.pdf\nb photo.jpg\nc.pdf"), ["a.pdf", "b photo.jpg", "c.pdf"]);
        assert_eq!(received_names("bill.pdf"), ["bill.pdf"]);
        assert!(received_names("").is_empty());
    }

    #[test]
    fn sizes_read_like_people_say_them() {
        assert_eq!(human_size(12), "12 bytes");
        assert_eq!(human_size(820 * 1024), "820 KB");
        assert_eq!(human_size(1_468_006), "1.4 MB");
        // The default upload limit, as it is set (250 × 1024 × 1024 bytes).
        assert_eq!(human_size(262_144_000), "250 MB");
        assert_eq!(human_size(1024 * 1024), "1 MB");
        // Just under a megabyte rounds up to it, not to "1024 KB".
        assert_eq!(human_size(1024 * 1024 - 10), "1 MB");
        assert_eq!(human_size(3 * 1024 * 1024 * 1024), "3 GB");
    }
}
