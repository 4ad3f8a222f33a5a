-- Short links for the plain-text part of emails: /l/{code} redirects to a
-- portal path that carries a long signed token. The code is random (95 bits)
-- and only its SHA-256 is kept; the link expires with the token it points to.
CREATE TABLE short_links (
    code_hash TEXT PRIMARY KEY NOT NULL,
    target TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX short_links_expires_at ON short_links (expires_at);
