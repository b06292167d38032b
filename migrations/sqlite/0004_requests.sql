-- Change requests (four-eyes approvals) and webhook notifications.

-- A request to issue or rotate a credential, or to weaken a control, that policy says needs
-- approval. `payload` is the JSON of the change; secrets are never in it (the secret of an issue
-- or rotation is generated at execution). Status: pending → approved → executed, or rejected or
-- cancelled; pending/approved requests past `expires_at` count as expired.
CREATE TABLE change_requests (
    id                 TEXT PRIMARY KEY,
    kind               TEXT NOT NULL CHECK (kind IN ('issue', 'rotate', 'policy', 'grant_admin')),
    status             TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'cancelled', 'executed')),
    environment_id     TEXT REFERENCES environments (id),
    requester          TEXT NOT NULL,
    requester_name     TEXT NOT NULL,
    reason             TEXT NOT NULL,
    payload            TEXT NOT NULL,
    summary            TEXT NOT NULL,
    approvals_required BIGINT NOT NULL,
    created_at         BIGINT NOT NULL,
    expires_at         BIGINT NOT NULL,
    decided_at         BIGINT,
    executed_at        BIGINT,
    credential_id      TEXT
);
CREATE INDEX change_requests_status ON change_requests (status, created_at);
CREATE INDEX change_requests_requester ON change_requests (requester, created_at);

-- One row per person and request: the primary key is what makes "one person counts once" hold
-- under concurrent calls.
CREATE TABLE request_decisions (
    request_id TEXT NOT NULL REFERENCES change_requests (id),
    actor      TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    decision   TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
    comment    TEXT NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (request_id, actor)
);

-- Webhook sinks. The URL often embeds a secret (Slack's do), so it is sealed with the data key;
-- only its host is kept readable for the console.
CREATE TABLE webhooks (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    url_sealed BLOB NOT NULL,
    url_host   TEXT NOT NULL,
    events     TEXT NOT NULL,
    enabled    BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);

-- The outbox: written in the transaction of the change it reports, delivered by a background
-- worker with retry and backoff, so a slow receiver never delays a request and nothing is lost.
CREATE TABLE notifications (
    id              TEXT PRIMARY KEY,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id),
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    delivered_at    BIGINT,
    failed_at       BIGINT,
    last_error      TEXT
);
CREATE INDEX notifications_due ON notifications (delivered_at, failed_at, next_attempt_at);

-- Which expiry warnings (14, 7, 1 days) went out for which credential.
CREATE TABLE expiry_warnings (
    credential_id TEXT NOT NULL,
    days          BIGINT NOT NULL,
    at            BIGINT NOT NULL,
    PRIMARY KEY (credential_id, days)
);
