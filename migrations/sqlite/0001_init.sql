-- Latchkey schema, SQLite flavour. Kept to types the sqlx Any driver reads on both engines:
-- TEXT, BIGINT/INTEGER and BLOB. Times are Unix milliseconds; booleans are 0/1.

CREATE TABLE environments (
    id                    TEXT PRIMARY KEY,
    slug                  TEXT NOT NULL UNIQUE,
    name                  TEXT NOT NULL,
    tier                  TEXT NOT NULL CHECK (tier IN ('production', 'non_production')),
    issue_approvals       BIGINT NOT NULL,
    rotate_approvals      BIGINT NOT NULL,
    max_lifetime_days     BIGINT NOT NULL,
    default_grace_seconds BIGINT NOT NULL,
    max_grace_seconds     BIGINT NOT NULL,
    step_up_required      BIGINT NOT NULL,
    blind_delivery        TEXT NOT NULL CHECK (blind_delivery IN ('optional', 'required')),
    created_at            BIGINT NOT NULL
);

CREATE TABLE applications (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    owner       TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL
);

CREATE TABLE credentials (
    id                  TEXT PRIMARY KEY,
    key_id              TEXT NOT NULL UNIQUE,
    application_id      TEXT NOT NULL REFERENCES applications (id),
    environment_id      TEXT NOT NULL REFERENCES environments (id),
    name                TEXT NOT NULL,
    scopes              TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('active', 'grace', 'revoked')),
    secret_hash         BLOB NOT NULL,
    prefix              TEXT NOT NULL,
    last4               TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    created_by          TEXT NOT NULL,
    created_via_request TEXT,
    expires_at          BIGINT NOT NULL,
    grace_until         BIGINT,
    revoked_at          BIGINT,
    revoked_by          TEXT,
    revoked_reason      TEXT,
    rotated_from        TEXT,
    rotated_to          TEXT,
    last_used_at        BIGINT,
    last_used_ip        TEXT
);
CREATE INDEX credentials_app_env ON credentials (application_id, environment_id);
CREATE INDEX credentials_env_status ON credentials (environment_id, status);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT UNIQUE,
    display_name  TEXT NOT NULL,
    email         TEXT,
    issuer        TEXT,
    subject       TEXT,
    password_hash TEXT,
    disabled      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    UNIQUE (issuer, subject)
);

CREATE TABLE role_grants (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id),
    role           TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'auditor')),
    environment_id TEXT REFERENCES environments (id),
    created_at     BIGINT NOT NULL,
    created_by     TEXT NOT NULL
);
CREATE INDEX role_grants_user ON role_grants (user_id);

-- The chain head: one row, locked by every append, so sequence order is commit order.
CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash BLOB NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, zeroblob(32));

CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    occurred_at BIGINT NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor_id    TEXT,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    environment TEXT,
    outcome     TEXT NOT NULL,
    ip          TEXT,
    user_agent  TEXT,
    request_id  TEXT NOT NULL,
    details     TEXT NOT NULL,
    prev_hash   BLOB NOT NULL,
    hash        BLOB NOT NULL
);
CREATE INDEX audit_events_actor ON audit_events (actor_id, seq);
CREATE INDEX audit_events_action ON audit_events (action, seq);
CREATE INDEX audit_events_environment ON audit_events (environment, seq);
CREATE INDEX audit_events_time ON audit_events (occurred_at, seq);
CREATE INDEX audit_events_target ON audit_events (target_type, target_id, seq);

CREATE TABLE audit_checkpoints (
    seq        BIGINT PRIMARY KEY,
    hash       BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    public_key BLOB NOT NULL,
    signature  BLOB NOT NULL
);
