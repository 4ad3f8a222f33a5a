-- Two-way messages between a matter's clients and the firm.
-- kind: 'client' (from a client), 'reply' (from staff to the clients),
-- 'note' (staff only, never shown to a client), 'handled' (staff marked the
-- client's messages as needing no reply; staff only).
-- read_at: when the other side first opened it (a client message: any staff
-- member; a reply: any client of the matter).
-- answered_at: on client messages, when a reply or "handled" came after it.
CREATE TABLE messages (
    id TEXT PRIMARY KEY NOT NULL,
    firm_id TEXT NOT NULL REFERENCES firms(id),
    matter_id TEXT NOT NULL REFERENCES matters(id) ON DELETE CASCADE,
    author_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP,
    answered_at TIMESTAMP
);
CREATE INDEX messages_matter ON messages (matter_id, created_at);
CREATE INDEX messages_unanswered ON messages (firm_id, answered_at, kind);

-- Files sent with a message: documents of the matter, stored by the upload pipeline.
CREATE TABLE message_attachments (
    message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    PRIMARY KEY (message_id, document_id)
);

-- The client's "new message" email may carry the reply's text (off by default).
ALTER TABLE firms ADD COLUMN message_text_in_email BOOLEAN NOT NULL DEFAULT 0;
