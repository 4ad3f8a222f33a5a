-- "How are we doing? 1-5" answers from the links in weekly updates.
CREATE TABLE ratings (
    id TEXT PRIMARY KEY NOT NULL,
    firm_id TEXT NOT NULL REFERENCES firms(id),
    client_id TEXT NOT NULL REFERENCES users(id),
    notification_id TEXT REFERENCES notifications(id),
    score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (client_id, notification_id)
);
CREATE INDEX ratings_firm_time ON ratings (firm_id, created_at);
