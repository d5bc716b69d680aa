-- Answers to POSTs sent with an Idempotency-Key, so a retried request is answered
-- again instead of being carried out twice. `status` 0 marks a request in progress.
CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    content_type TEXT,
    body TEXT,
    etag TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
