-- Every notification names the channel that carries it (email first; text
-- messages and web push plug in later), and a notice exists once per
-- recipient, kind, channel and period (or cause). No CHECK on the channel:
-- a new channel needs no table change, and the typed column refuses unknown
-- text when it is read.
ALTER TABLE notifications ADD COLUMN channel TEXT NOT NULL DEFAULT 'email';
ALTER TABLE notifications DROP CONSTRAINT notifications_recipient_id_kind_period_key_key;
ALTER TABLE notifications ADD CONSTRAINT notifications_once UNIQUE (recipient_id, kind, channel, period_key);
