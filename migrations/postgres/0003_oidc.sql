-- SSO sign-in flows in progress: PKCE verifier, state and nonce, sealed with the data key, keyed
-- by the SHA-256 of a random id held in a short-lived browser cookie. Deleted when used.
CREATE TABLE oidc_flows (
    id_hash    TEXT PRIMARY KEY,
    data       BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
