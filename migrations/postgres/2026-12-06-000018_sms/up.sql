-- Text messages (SMS). A client's consent to texts: their mobile number in
-- E.164, when and how they opted in (source: `client` on their Notifications
-- page, `staff` on the client's word, `keyword` by texting START), and when
-- they opted out (STOP, or the provider saying they unsubscribed). A text is
-- queued and sent only while opted_in_at is set and opted_out_at is not.
CREATE TABLE sms_consents (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    number TEXT NOT NULL,
    opted_in_at TIMESTAMP,
    opt_in_source TEXT,
    opted_out_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX sms_consents_number ON sms_consents (number);
-- The provider's id of each text sent (its MessageSid) and the latest status
-- its signed callbacks reported (queued, sent, delivered, undelivered, failed).
CREATE TABLE sms_messages (
    notification_id TEXT PRIMARY KEY NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    message_sid TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    error_code TEXT,
    updated_at TIMESTAMP NOT NULL
);
-- Texts go out only from sms_from_hour to sms_until_hour, firm-local.
ALTER TABLE firms ADD COLUMN sms_from_hour INTEGER NOT NULL DEFAULT 9;
ALTER TABLE firms ADD COLUMN sms_until_hour INTEGER NOT NULL DEFAULT 20;
