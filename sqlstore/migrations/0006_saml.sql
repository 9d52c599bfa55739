-- SAML single sign-on (SPEC §7): each account's identity provider and
-- mapping rules, the deployment's service-provider key pair, and the
-- assertion ids already consumed (replay protection shared by every
-- process, kept until the assertion would have expired anyway).
CREATE TABLE saml_configs (
    account        TEXT PRIMARY KEY REFERENCES accounts(id),
    idp_metadata   TEXT NOT NULL,
    rules          TEXT NOT NULL,            -- JSON array of rules, in order
    user_attribute TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE saml_keys (
    id         TEXT PRIMARY KEY,             -- 'sp': one pair per deployment
    key_pem    TEXT NOT NULL,
    cert_pem   TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE saml_assertions (
    account    TEXT NOT NULL,
    id         TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (account, id)
);
CREATE INDEX saml_assertions_expiry ON saml_assertions (expires_at);
