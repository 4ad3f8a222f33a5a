-- One-tap links: the "Open my case" button of a client email signs the client
-- in (after a confirmation page's button). One row per email (notification):
-- a retried send replaces it. Only the SHA-256 of the secret is kept; the link
-- dies on first use (used_at), after 7 days (expires_at), or when the client
-- signs out everywhere (expires_at set to that moment).
CREATE TABLE one_tap_links (
    id TEXT PRIMARY KEY NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    notification_id TEXT NOT NULL UNIQUE REFERENCES notifications(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX one_tap_links_user ON one_tap_links (user_id);
CREATE INDEX one_tap_links_expires_at ON one_tap_links (expires_at);

-- A firm may turn one-tap links off: the button then opens the sign-in page
-- with the client's address filled in.
ALTER TABLE firms ADD COLUMN one_tap_sign_in BOOLEAN NOT NULL DEFAULT 1;
