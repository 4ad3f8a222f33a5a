-- The firm's look on every page and email a client sees.
-- accent_colour: a #rrggbb colour, checked for contrast against white when set.
-- reply_to_case_manager: client emails carry Reply-To the matter's case manager.
-- public_host: the host name signed-out pages answer for, when several firms share one portal.
ALTER TABLE firms ADD COLUMN accent_colour TEXT;
ALTER TABLE firms ADD COLUMN reply_to_case_manager BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE firms ADD COLUMN public_host TEXT;
CREATE UNIQUE INDEX firms_public_host ON firms (public_host);

-- The firm's logo (PNG, JPEG or WebP, sniffed), kept apart from firms so that
-- reading a firm never reads the picture. digest names the version in URLs.
CREATE TABLE firm_logos (
    firm_id TEXT PRIMARY KEY NOT NULL REFERENCES firms(id),
    content_type TEXT NOT NULL,
    bytes BLOB NOT NULL,
    digest TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
