-- Objects and multipart uploads that must be removed from storage but could
-- not be at the time (storage was down). A sweeper retries until they are gone.
CREATE TABLE storage_cleanup (
    id TEXT PRIMARY KEY NOT NULL,
    object_key TEXT NOT NULL,
    upload_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL
);
