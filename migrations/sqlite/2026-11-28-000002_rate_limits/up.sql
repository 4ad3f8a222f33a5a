-- Attempt counters kept in the database, so every portal instance sees the same limits.
CREATE TABLE rate_limit_hits (
    id TEXT PRIMARY KEY NOT NULL,
    bucket TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX rate_limit_hits_bucket_time ON rate_limit_hits (bucket, created_at);
