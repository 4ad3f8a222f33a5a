ALTER TABLE users DROP COLUMN last_active_at;
