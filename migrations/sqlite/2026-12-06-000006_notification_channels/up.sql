-- Every notification names the channel that carries it (email first; text
-- messages and web push plug in later), and a notice exists once per
-- recipient, kind, channel and period (or cause). No CHECK on the channel:
-- a new channel needs no table change, and the typed column refuses unknown
-- text when it is read.
--
-- SQLite cannot change a table's UNIQUE constraint, so the table is rebuilt.
-- Ratings point at notifications: they are set aside while the table is
-- replaced and put back after, so no foreign key is broken at any moment.
CREATE TEMP TABLE ratings_set_aside AS SELECT * FROM ratings;
DELETE FROM ratings;
CREATE TABLE notifications_rebuilt (
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
    channel TEXT NOT NULL DEFAULT 'email',
    UNIQUE (recipient_id, kind, channel, period_key)
);
INSERT INTO notifications_rebuilt (id, firm_id, recipient_id, kind, period_key, status, attempts, next_attempt_at, claimed_until, claimed_by, last_error, payload, sent_at, created_at, channel)
    SELECT id, firm_id, recipient_id, kind, period_key, status, attempts, next_attempt_at, claimed_until, claimed_by, last_error, payload, sent_at, created_at, 'email' FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_rebuilt RENAME TO notifications;
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
INSERT INTO ratings SELECT * FROM ratings_set_aside;
DROP TABLE ratings_set_aside;
