-- SCIM provisioning (SPEC §6). A SCIM user is a row of users; what SCIM
-- sends that has no column of its own (name, emails, the enterprise
-- extension, …) is kept verbatim as a JSON object.
CREATE TABLE scim_users (
    account    TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (account, user_id),
    FOREIGN KEY (account, user_id) REFERENCES users(account, id) ON DELETE CASCADE
);
-- The SCIM filter identity providers send besides userName eq: externalId eq.
CREATE INDEX users_external_id ON users (account, external_id);

CREATE TABLE scim_groups (
    account      TEXT NOT NULL REFERENCES accounts(id),
    id           TEXT NOT NULL,
    display_name TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (account, id)
);
CREATE INDEX scim_groups_display_name ON scim_groups (account, lower(display_name));

CREATE TABLE scim_group_members (
    account  TEXT NOT NULL,
    group_id TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    PRIMARY KEY (account, group_id, user_id),
    FOREIGN KEY (account, group_id) REFERENCES scim_groups(account, id) ON DELETE CASCADE,
    FOREIGN KEY (account, user_id) REFERENCES users(account, id) ON DELETE CASCADE
);
CREATE INDEX scim_group_members_user ON scim_group_members (account, user_id);

-- What a group's members get (source group). Which group gave what is
-- not stored per user: a user's group-sourced licenses and roles are
-- always the union of the mappings of their groups, recomputed for the
-- members concerned whenever a membership or a mapping changes.
CREATE TABLE group_mappings (
    account    TEXT NOT NULL,
    group_id   TEXT NOT NULL,
    licenses   TEXT NOT NULL,   -- JSON list
    roles      TEXT NOT NULL,   -- JSON list of "service:role"
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account, group_id),
    FOREIGN KEY (account, group_id) REFERENCES scim_groups(account, id) ON DELETE CASCADE
);
