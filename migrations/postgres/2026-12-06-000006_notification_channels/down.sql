ALTER TABLE notifications DROP CONSTRAINT notifications_once;
ALTER TABLE notifications ADD CONSTRAINT notifications_recipient_id_kind_period_key_key UNIQUE (recipient_id, kind, period_key);
ALTER TABLE notifications DROP COLUMN channel;
