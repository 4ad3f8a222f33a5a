-- When a client last signed in or used the portal with a saved sign-in (set
-- when a session is created and when its "last seen" is refreshed). Sessions
-- are purged a week after they end, so adoption figures ("signed in within 30
-- days") read this instead.
ALTER TABLE users ADD COLUMN last_active_at TIMESTAMP;
UPDATE users SET last_active_at = (SELECT MAX(last_seen_at) FROM sessions WHERE sessions.user_id = users.id);
