-- Matterline foundation schema (SQLite). Keep in step with ../../postgres/ —
-- the test suite compares the two migrated schemas column by column.
-- Ids are UUID text; times are UTC timestamps.

CREATE TABLE firms (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    mail_from TEXT,
    phone TEXT,
    weekly_schedule TEXT,
    no_activity_updates BOOLEAN NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    firm_id TEXT NOT NULL REFERENCES firms(id),
    role TEXT NOT NULL CHECK (role IN ('client', 'case_manager', 'admin')),
    email TEXT NOT NULL,
    full_name TEXT NOT NULL,
    phone TEXT,
    language TEXT NOT NULL DEFAULT 'en',
    weekly_updates BOOLEAN NOT NULL DEFAULT 1,
    password_hash TEXT,
    totp_secret TEXT,
    failed_sign_ins INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (firm_id, email)
);
CREATE INDEX users_email ON users (email);

CREATE TABLE phases (
    id TEXT PRIMARY KEY NOT NULL,
    firm_id TEXT NOT NULL REFERENCES firms(id),
    practice_area TEXT NOT NULL,
    key TEXT NOT NULL,
    position INTEGER NOT NULL,
    UNIQUE (firm_id, practice_area, key)
);

CREATE TABLE phase_texts (
    phase_id TEXT NOT NULL REFERENCES phases(id) ON DELETE CASCADE,
    language TEXT NOT NULL,
    title TEXT NOT NULL,
    what_it_means TEXT NOT NULL,
    what_happens_next TEXT NOT NULL,
    PRIMARY KEY (phase_id, language)
);

CREATE TABLE matters (
    id TEXT PRIMARY KEY NOT NULL,
    firm_id TEXT NOT NULL REFERENCES firms(id),
    practice_area TEXT NOT NULL,
    phase_id TEXT NOT NULL REFERENCES phases(id),
    title TEXT NOT NULL,
    case_manager_id TEXT REFERENCES users(id),
    external_id TEXT,
    opened_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (firm_id, external_id)
);

CREATE TABLE matter_clients (
    matter_id TEXT NOT NULL REFERENCES matters(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (matter_id, client_id)
);
CREATE INDEX matter_clients_client ON matter_clients (client_id);

CREATE TABLE milestones (
    id TEXT PRIMARY KEY NOT NULL,
    matter_id TEXT NOT NULL REFERENCES matters(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('phase_change', 'appointment', 'client_note', 'internal_note',
                                       'document_received', 'request_opened', 'request_fulfilled')),
    client_visible BOOLEAN NOT NULL,
    phase_id TEXT REFERENCES phases(id),
    body TEXT,
    occurs_at TIMESTAMP,
    created_by TEXT REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX milestones_matter_time ON milestones (matter_id, created_at);

CREATE TABLE document_requests (
    id TEXT PRIMARY KEY NOT NULL,
    matter_id TEXT NOT NULL REFERENCES matters(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    details TEXT,
    category TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'fulfilled', 'cancelled')),
    requested_by TEXT REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP
);
CREATE INDEX document_requests_matter_status ON document_requests (matter_id, status);

CREATE TABLE documents (
    id TEXT PRIMARY KEY NOT NULL,
    matter_id TEXT NOT NULL REFERENCES matters(id),
    request_id TEXT REFERENCES document_requests(id),
    object_key TEXT NOT NULL UNIQUE,
    original_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    category TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('client', 'firm')),
    uploaded_by TEXT REFERENCES users(id),
    reviewed_at TIMESTAMP,
    reviewed_by TEXT REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX documents_matter ON documents (matter_id, created_at);

CREATE TABLE notifications (
    id TEXT PRIMARY KEY NOT NULL,
    firm_id TEXT NOT NULL REFERENCES firms(id),
    recipient_id TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    period_key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_until TIMESTAMP,
    claimed_by TEXT,
    last_error TEXT,
    payload TEXT,
    sent_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (recipient_id, kind, period_key)
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);

CREATE TABLE audit_events (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    firm_id TEXT,
    actor_id TEXT,
    actor_kind TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT,
    ip TEXT,
    detail TEXT,
    created_at TIMESTAMP NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_events_firm_time ON audit_events (firm_id, created_at);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    user_agent TEXT,
    ip TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE sign_in_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    code_hash TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX sign_in_tokens_user ON sign_in_tokens (user_id, created_at);
