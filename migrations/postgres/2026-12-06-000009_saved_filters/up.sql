-- A staff member's saved views of the matters table: a name and the table's
-- filter and sort as a query string (whitelisted parameters only). Each staff
-- member sees only their own; a name is unique per staff member.
CREATE TABLE saved_filters (
    id TEXT PRIMARY KEY NOT NULL,
    firm_id TEXT NOT NULL REFERENCES firms(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX saved_filters_user_name ON saved_filters (user_id, name);

-- The matters table's "days since the last update sent": the latest sent
-- notification of a kind for each client, read by index.
CREATE INDEX notifications_recipient_kind_sent ON notifications (recipient_id, kind, sent_at);
