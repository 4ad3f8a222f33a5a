-- Web push: one row per browser (device) a client turned notifications on in.
-- endpoint: the push service's URL for that browser (unique: a browser that
-- subscribes again replaces its row); p256dh and auth: the browser's public
-- key and secret for RFC 8291 payload encryption (base64url, as the browser
-- gives them). last_success_at: when a push service last accepted a message.
CREATE TABLE push_subscriptions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    endpoint TEXT NOT NULL UNIQUE,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    user_agent TEXT,
    created_at TIMESTAMP NOT NULL,
    last_success_at TIMESTAMP
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);
